"""Finding stories and context entries from a reader's query, in any script or spelling."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.functions import Length

from . import spelling, textindex
from .linking import normalize_alias
from .models import Actor, Alias, Article, BackgroundNote, ContextEntry, Mention

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
# Matches considered for the results, of each kind: stories (the newest), entries by alias
# (the closest) and entries by description.
MAX_CANDIDATES = 200
# Aliases spelled like the query, of each source (trigrams, first two characters), judged
# by ``spelling.closeness``: the closest few are enough for a page of results.
MAX_SPELLING_CANDIDATES = 50
# Entries shown on the search page before anything is asked.
SUGGESTED_ENTRIES = 6

ENTRY_MODELS = (Actor, BackgroundNote)


@dataclass(frozen=True)
class Suggestion:
    """ "Did you mean …?": an entry's alias spelled like the query, and the entry."""

    text: str
    entry: ContextEntry


@dataclass
class SearchResults:
    query: str
    entries: list = field(default_factory=list)
    stories: list = field(default_factory=list)
    suggestion: Suggestion | None = None

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.stories)


@dataclass(frozen=True)
class _Resemblance:
    closeness: spelling.Closeness
    alias: str


def search(query: str, *, limit: int = 10) -> SearchResults:
    """Entries whose aliases contain the query in the matcher's normal form (so "김정은",
    "Kim Jong Un" and "kim jong-un" all find Kim Jong-un; a query under three characters
    must start an alias), or whose description contains it; below them, entries with an
    alias spelled like it ("Kim Jong Eun", "kim jongun", "putn": see ``spelling``), the
    closest first (only those a single typo away when an alias holds the query itself),
    and the closest of those as a suggestion when none does; and published stories
    holding every word of it (``_stories``). Every lookup is answered by an index (see
    ``textindex``), and reads a bounded number of rows."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    normalized = normalize_alias(query)
    results = SearchResults(query=query)
    if len(normalized) < MIN_QUERY_CHARS:
        return results
    resembling = _resembling(normalized, query)
    named_by = _named_by(normalized)
    ranked, alike_only = [], []
    named = False
    for model in ENTRY_MODELS:
        by_alias = named_by[model]
        by_description = _described_by(model, query)
        alike = {pk: found for (m, pk), found in resembling.items() if m is model}
        ids = by_alias | by_description | set(alike)
        label = "name" if model is Actor else "title"
        published = model.objects.published().filter(pk__in=ids).order_by()
        for pk, text in published.values_list("pk", label):
            named = named or pk in by_alias
            if pk in by_alias or pk in by_description:
                rank, name = _label_rank(text, normalized)
                ranked.append(((rank, 0.0, False, name), model, pk))
            else:
                closeness = alike[pk].closeness
                key = (3, *closeness.key, normalize_alias(text))
                alike_only.append(((key, model, pk), closeness.edits))
    # A query that names an entry was spelled right: only names a single typo away from
    # it are shown below ("putin" shows Pulin; "kim jong un" leaves out Kim Jong-il).
    ranked += [found for found, edits in alike_only if not named or edits <= 1]
    chosen = sorted(ranked, key=lambda candidate: candidate[0])[:limit]
    found = {
        (model, entry.pk): entry
        for model in ENTRY_MODELS
        for entry in model.objects.filter(pk__in=[pk for _, m, pk in chosen if m is model])
    }
    results.entries = [found[model, pk] for _, model, pk in chosen if (model, pk) in found]
    if not named:
        results.suggestion = _suggestion(results.entries, resembling, normalized)
    results.stories = _stories(query, limit=limit)
    return results


def _named_by(normalized: str) -> dict[type, set[int]]:
    """The ids of entries of each model with an alias matching the query (published or
    not): at most ``MAX_CANDIDATES`` of each, from the closest aliases (the shortest)
    first, so a word in thousands of aliases costs what a rare one does. One lookup for
    both models: finding a phrase's trigrams in order is the part of it that grows with
    the library."""
    found: dict[type, set[int]] = {model: set() for model in ENTRY_MODELS}
    aliases = (
        Alias.objects.filter(textindex.alias_matching(normalized))
        .order_by(Length("normalized"), "normalized")
        .values_list("actor_id", "note_id")[: MAX_CANDIDATES * len(ENTRY_MODELS)]
    )
    for actor_id, note_id in aliases:
        model, pk = (Actor, actor_id) if actor_id else (BackgroundNote, note_id)
        if len(found[model]) < MAX_CANDIDATES:
            found[model].add(pk)
    return found


def _described_by(model: type, query: str) -> set[int]:
    """The ids of at most ``MAX_CANDIDATES`` entries of ``model`` whose description
    contains the query (published or not): a word in thousands of descriptions costs what
    a rare one does."""
    matching = textindex.description_matching(model, query, limit=MAX_CANDIDATES)
    return set(model.objects.filter(matching).order_by().values_list("pk", flat=True))


def _resembling(normalized: str, query: str) -> dict[tuple[type, int], _Resemblance]:
    """The entries (model, id) with an alias spelled like the query, each with its closest
    alias, from a bounded number of candidate aliases (``textindex.alias_resembling``)."""
    candidates = Alias.objects.filter(
        textindex.alias_resembling(normalized, limit=MAX_SPELLING_CANDIDATES)
    ).values_list("text", "actor_id", "note_id")
    found: dict[tuple[type, int], _Resemblance] = {}
    for text, actor_id, note_id in candidates:
        closeness = spelling.closeness(query=query, name=text)
        if closeness is None:
            continue
        key = (Actor, actor_id) if actor_id else (BackgroundNote, note_id)
        known = found.get(key)
        if known is None or (closeness.key, len(text)) < (known.closeness.key, len(known.alias)):
            found[key] = _Resemblance(closeness=closeness, alias=text)
    return found


def _suggestion(entries: list, resembling: dict, normalized: str) -> Suggestion | None:
    """The closest entry found by spelling alone, under the alias it was found by, unless
    that alias is the query itself."""
    for entry in entries:
        alike = resembling.get((type(entry), entry.pk))
        if alike is not None and normalize_alias(alike.alias) != normalized:
            return Suggestion(text=alike.alias, entry=entry)
    return None


def _label_rank(label: str, normalized: str) -> tuple[int, str]:
    """The entry named exactly first, then those whose name starts with the query."""
    label = normalize_alias(label)
    return (0 if label == normalized else 1 if label.startswith(normalized) else 2, label)


def suggested_entries() -> list:
    """A few entries to try before anything is asked: those the newest published story
    links (none when there is no story). A bounded number of rows."""
    latest = Article.objects.published().order_by("-published_at").values("pk")[:1]
    mentions = Mention.objects.filter(article__in=latest, is_linked=True)
    pairs = mentions.order_by().values_list("actor_id", "note_id").distinct()
    keys = list(pairs[: SUGGESTED_ENTRIES * 4])
    entries = []
    for model, position in ((Actor, 0), (BackgroundNote, 1)):
        ids = {key[position] for key in keys if key[position]}
        queryset = model.objects.published().filter(pk__in=ids) if ids else model.objects.none()
        entries += list(queryset[:SUGGESTED_ENTRIES])
    return entries[:SUGGESTED_ENTRIES]


def _stories(query: str, *, limit: int) -> list[Article]:
    """Published stories holding every word of the query in their body or headline (in the
    matcher's normal form, so any script or spelling), those with the query in their
    headline first, then the newest. The last word, and any Hangul word, may be the start
    of a longer one (``textindex.query_words``), but the last is looked for whole first:
    only when fewer than ``MAX_CANDIDATES`` stories hold it whole are the words it starts
    looked for too ("sanction" then finds "sanctions"). A word's start costs a read of
    every story holding any word it starts, a cost that grows with the archive, where a
    whole word costs a walk down the index to the newest few hundred (SQLite at
    100,000 stories, "sanctions" took 6.4 ms as a start and 0.2 ms whole).

    Only the newest few hundred matches are candidates, so a word in every story costs
    what a rare one does; they are ranked from their headlines alone, the same on both
    databases (ranking by the body's words meant reading each candidate's stored vector,
    a cost that grew with the archive)."""
    candidates = _story_candidates(query, last_whole=True)
    last_whole = True
    if len(candidates) < MAX_CANDIDATES and textindex.query_words(query) != textindex.query_words(
        query, last_whole=True
    ):
        candidates, last_whole = _story_candidates(query, last_whole=False), False
    in_headline = textindex.query_holder(query, last_whole=last_whole)
    ranked = sorted(
        (
            (in_headline(headline), published_at, pk)
            for pk, headline, status, published_at in candidates
            if Article.published_now(status, published_at)
        ),
        reverse=True,
    )
    chosen = [pk for _, _, pk in ranked[:limit]]
    stories = Article.objects.filter(pk__in=chosen).only(
        "headline", "slug", "dek", "published_at", "outlet", "byline"
    )
    by_pk = {story.pk: story for story in stories}
    return [by_pk[pk] for pk in chosen if pk in by_pk]


def _story_candidates(query: str, *, last_whole: bool) -> list[tuple]:
    """The newest ``MAX_CANDIDATES`` stories holding the query's words (``_stories``):
    id, headline, status and publication date of each."""
    # Found by id, published or not, and both filtered and sorted by the caller: told to
    # keep only published stories, or to order them by date, SQLite walks its date index
    # over every published story to find the candidates in it (with no statistics, it
    # takes that index for the cheaper way).
    return list(
        Article.objects.filter(
            textindex.matching_words(query, newest=MAX_CANDIDATES, last_whole=last_whole)
        )
        .order_by()
        .values_list("pk", "headline", "status", "published_at")
    )

"""Finding stories and context entries from a reader's query, in any script or spelling."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models.functions import Length

from . import textindex
from .linking import normalize_alias
from .models import Actor, Alias, Article, BackgroundNote

MIN_QUERY_CHARS = 2
MAX_QUERY_CHARS = 200
# Matches considered for the results, of each kind: stories (the newest), entries by alias
# (the closest) and entries by description.
MAX_CANDIDATES = 200


@dataclass
class SearchResults:
    query: str
    entries: list = field(default_factory=list)
    stories: list = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.stories)


def search(query: str, *, limit: int = 10) -> SearchResults:
    """Entries whose aliases contain the query in the matcher's normal form (so "김정은",
    "Kim Jong Un" and "kim jong-un" all find Kim Jong-un; a query under three characters
    must start an alias), or whose description contains it; and published stories holding
    every word of it. Every lookup is answered by an index (see ``textindex``)."""
    query = " ".join(query.split())[:MAX_QUERY_CHARS]
    normalized = normalize_alias(query)
    results = SearchResults(query=query)
    if len(normalized) < MIN_QUERY_CHARS:
        return results
    candidates = [
        (_label_rank(label, normalized), model, pk)
        for model in (Actor, BackgroundNote)
        for pk, label in _candidates(model, normalized, query)
    ]
    chosen = sorted(candidates, key=lambda candidate: candidate[0])[:limit]
    found = {
        (model, entry.pk): entry
        for model in (Actor, BackgroundNote)
        for entry in model.objects.filter(pk__in=[pk for _, m, pk in chosen if m is model])
    }
    results.entries = [found[model, pk] for _, model, pk in chosen if (model, pk) in found]
    results.stories = list(_stories(query)[:limit])
    return results


def _candidates(model: type, normalized: str, query: str) -> list[tuple[int, str]]:
    """(pk, label) of the published entries of ``model`` with an alias or a description
    matching the query: at most ``MAX_CANDIDATES`` of each, the closest aliases (the
    shortest) first, so a word in thousands of descriptions costs what a rare one does."""
    field = "actor" if model is Actor else "note"
    by_alias = (
        Alias.objects.filter(textindex.alias_matching(normalized), **{f"{field}__isnull": False})
        .order_by(Length("normalized"), "normalized")
        .values_list(f"{field}_id", flat=True)[:MAX_CANDIDATES]
    )
    by_description = model.objects.filter(
        textindex.description_matching(model, query, limit=MAX_CANDIDATES)
    ).order_by()
    ids = {*by_alias, *by_description.values_list("pk", flat=True)}
    label = "name" if model is Actor else "title"
    return list(model.objects.published().filter(pk__in=ids).order_by().values_list("pk", label))


def _label_rank(label: str, normalized: str) -> tuple[int, str]:
    """The entry named exactly first, then those whose name starts with the query."""
    label = normalize_alias(label)
    return (0 if label == normalized else 1 if label.startswith(normalized) else 2, label)


def _stories(query: str):
    """Published stories holding every word of the query in their body or headline (in the
    matcher's normal form, so any script or spelling; each word may be the start of a
    longer one). Only the newest few hundred matches are candidates, so a word in every
    story costs what a rare one does; on PostgreSQL they are ranked by the stored vector."""
    stories = (
        Article.objects.published()
        .filter(textindex.matching_words(query, newest=MAX_CANDIDATES))
        .only("headline", "slug", "dek", "published_at", "outlet", "byline")
    )
    rank = textindex.story_rank(query)
    if rank is not None:
        return stories.annotate(rank=rank).order_by("-rank", "-published_at")
    return stories.order_by("-published_at")

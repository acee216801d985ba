"""Write paths shared by the admin, the importers and the signals: relinking stories
against the context library."""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from .importing import ParsedStory
from .linking import (
    Hit,
    Link,
    Matcher,
    Term,
    anchor,
    find_mentions,
    locate,
    mark_mentions,
    normalize_alias,
    parse_html,
)
from .models import (
    Actor,
    Alias,
    Article,
    BackgroundNote,
    ContextEntry,
    Figure,
    Mention,
    NoteUpdate,
    Role,
    Source,
)
from .suggestions import DEMONYM_ENDINGS, suggest_names

_pending: contextvars.ContextVar[set[int] | None] = contextvars.ContextVar(
    "pending_relinks", default=None
)


@contextmanager
def deferred_relinking() -> Iterator[None]:
    """Collect relink requests and run each affected story once, at the end: an admin save
    touches an entry and several aliases, but each story should be relinked only once."""
    if _pending.get() is not None:
        yield
        return
    token = _pending.set(set())
    try:
        yield
        pending = _pending.get()
    finally:
        _pending.reset(token)
    if pending:
        articles_relink(Article.objects.filter(pk__in=pending))


def request_relink(article_ids: Iterable[int]) -> None:
    ids = set(article_ids)
    if not ids:
        return
    pending = _pending.get()
    if pending is not None:
        pending.update(ids)
    else:
        articles_relink(Article.objects.filter(pk__in=ids))


def article_saved(article: Article) -> None:
    """Relink a story after its text changed: now, or at the end of the deferred block
    (the admin saves editors' mention edits after the article itself)."""
    pending = _pending.get()
    if pending is not None:
        pending.add(article.pk)
    else:
        article_relink(article)


def articles_mentioning(entry: ContextEntry) -> set[int]:
    return set(
        Mention.objects.filter(**{entry.entry_field: entry}).values_list("article_id", flat=True)
    )


def articles_containing(normalized_alias: str) -> set[int]:
    return set(
        Article.objects.filter(match_text__contains=normalized_alias).values_list("pk", flat=True)
    )


class Library:
    """The context library as the linker needs it: a matcher and the entries it points to."""

    def __init__(self, *, include_unpublished: bool = False) -> None:
        self.entries: dict[str, ContextEntry] = {}
        terms = []
        aliases = Alias.objects.select_related("actor", "note")
        if not include_unpublished:
            # Readers' pages never link an entry they cannot open.
            aliases = aliases.filter(Q(actor__is_published=True) | Q(note__is_published=True))
        aliases = aliases.only(
            "text",
            "case_sensitive",
            "actor_id",
            "note_id",
            *(f"actor__{name}" for name in ("slug", "kind", "name", "is_published")),
            *(f"note__{name}" for name in ("slug", "kind", "title", "is_published")),
        )
        for alias in aliases:
            entry = alias.entry
            self.entries[entry.entry_key] = entry
            terms.append(
                Term(text=alias.text, target=entry.entry_key, case_sensitive=alias.case_sensitive)
            )
        self.matcher = Matcher(terms)

    def mention_fields(self, key: str) -> dict:
        entry = self.entries[key]
        return {entry.entry_field: entry}


def articles_relink(articles: Iterable[Article]) -> None:
    library = Library()
    for article in articles:
        article_relink(article, library=library)


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in spans)


def _entry_key(mention: Mention) -> str:
    entry = mention.entry
    return entry.entry_key if entry is not None else ""


@transaction.atomic
def article_relink(article: Article, *, library: Library | None = None) -> None:
    """Find the story's mentions again and re-render its linked body.

    Automatic mentions are recomputed from the library; editors' own mentions and their
    suppressions are re-anchored by quote and context, so they survive copy edits. A mention
    that cannot be found again is kept and flagged as orphaned, never dropped."""
    result = link_article(article, library=library or Library())
    Mention.objects.filter(pk__in=[m.pk for m in result.stale]).delete()
    Mention.objects.bulk_create([m for m in result.automatic if m.pk is None])
    Mention.objects.bulk_update(
        [m for m in result.automatic if m.pk is not None] + result.editor,
        ["quote", "prefix", "suffix", "start", "is_orphaned", "is_linked"],
    )
    rendered_at = timezone.now()
    Article.objects.filter(pk=article.pk).update(
        linked_body_html=result.linked_html, rendered_at=rendered_at
    )
    article.linked_body_html, article.rendered_at = result.linked_html, rendered_at


def article_preview(article: Article) -> LinkResult:
    """The story linked as it will be once everything is published: unpublished entries
    included, nothing written."""
    return link_article(article, library=Library(include_unpublished=True), preview=True)


@dataclass
class LinkResult:
    automatic: list[Mention]
    editor: list[Mention]
    stale: list[Mention]
    linked_html: str

    @property
    def mentions(self) -> list[Mention]:
        return sorted(
            [*self.automatic, *(m for m in self.editor if not m.is_orphaned)],
            key=lambda m: m.start,
        )


def link_article(article: Article, *, library: Library, preview: bool = False) -> LinkResult:
    parsed = parse_html(article.body_html)
    text = parsed.text
    existing = list(article.mentions.select_related("actor", "note"))

    placed: list[tuple[int, int]] = []
    editor_mentions = [m for m in existing if m.origin == Mention.Origin.EDITOR]
    for mention in sorted(editor_mentions, key=lambda m: (m.start is None, m.start or 0, m.pk)):
        position = locate(
            text=text,
            quote=mention.quote,
            prefix=mention.prefix,
            suffix=mention.suffix,
            near=mention.start or 0,
        )
        end = None if position is None else position + len(mention.quote)
        if (
            position is None
            or not parsed.is_linkable_span(position, end)
            or _overlaps(position, end, placed)
        ):
            mention.is_orphaned = True
            mention.is_linked = False
            continue
        found = anchor(text=text, start=position, end=end)
        mention.prefix, mention.suffix, mention.start = found.prefix, found.suffix, found.start
        mention.is_orphaned = False
        placed.append((position, end))

    hits = [
        hit
        for hit in find_mentions(parsed=parsed, matcher=library.matcher)
        if not _overlaps(hit.start, hit.end, placed)
    ]
    auto_mentions, stale = _reconcile_automatic(
        article=article,
        text=text,
        hits=hits,
        old=[m for m in existing if m.origin == Mention.Origin.AUTOMATIC],
        library=library,
    )

    links = _choose_links(
        mentions=[*auto_mentions, *(m for m in editor_mentions if not m.is_orphaned)],
        every_mention=article.link_every_mention,
        as_of=story_date(article),
        include_unpublished=preview,
    )
    return LinkResult(
        automatic=auto_mentions,
        editor=editor_mentions,
        stale=stale,
        linked_html=mark_mentions(parsed=parsed, links=links),
    )


def _reconcile_automatic(
    *, article: Article, text: str, hits: list[Hit], old: list[Mention], library: Library
) -> tuple[list[Mention], list[Mention]]:
    """Match the new hits to the automatic mentions already on record, so that a mention
    keeps its row (and an editor's "don't link here") for as long as its words stay in the
    story. Returns the mentions for every hit, and the old ones whose words are gone."""
    by_start = {hit.start: hit for hit in hits}
    claimed: dict[int, Mention] = {}
    unplaced: list[Mention] = []
    for mention in old:
        hit = by_start.get(mention.start)
        if (
            hit is not None
            and hit.start not in claimed
            and hit.target == _entry_key(mention)
            and text[hit.start : hit.end] == mention.quote
        ):
            claimed[hit.start] = mention
        else:
            unplaced.append(mention)
    stale: list[Mention] = []
    for mention in unplaced:
        position = locate(
            text=text,
            quote=mention.quote,
            prefix=mention.prefix,
            suffix=mention.suffix,
            near=mention.start or 0,
        )
        hit = by_start.get(position) if position is not None else None
        if hit is not None and position not in claimed and hit.target == _entry_key(mention):
            claimed[position] = mention
        else:
            stale.append(mention)
    mentions = []
    for hit in hits:
        found = anchor(text=text, start=hit.start, end=hit.end)
        mention = claimed.get(hit.start) or Mention(
            article=article, origin=Mention.Origin.AUTOMATIC, **library.mention_fields(hit.target)
        )
        mention.quote, mention.prefix, mention.suffix = found.quote, found.prefix, found.suffix
        mention.start = hit.start
        mention.is_orphaned = False
        mentions.append(mention)
    return mentions, stale


def story_date(article: Article) -> dt.date | None:
    # ``published_at`` may still be the string a caller assigned; read it as the field would.
    published_at = Article._meta.get_field("published_at").to_python(article.published_at)
    return published_at.date() if published_at else None


def entry_url_as_of(entry: ContextEntry, day: dt.date | None) -> str:
    """The entry's page as of a story's date: cards and pages then say who or what it was
    when the story was written."""
    url = entry.get_absolute_url()
    return f"{url}?as_of={day.isoformat()}" if day else url


def _choose_links(
    *,
    mentions: list[Mention],
    every_mention: bool,
    as_of: dt.date | None,
    include_unpublished: bool = False,
) -> list[Link]:
    """First mention of each entry (or every one), skipping suppressed ones; an editor's own
    mention is always linked."""
    links: list[Link] = []
    seen: set[str] = set()
    for mention in sorted(mentions, key=lambda m: m.start):
        key = _entry_key(mention)
        mention.is_linked = False
        if mention.is_suppressed or not (include_unpublished or mention.entry.is_published):
            continue
        if key in seen and not every_mention and mention.origin != Mention.Origin.EDITOR:
            continue
        seen.add(key)
        mention.is_linked = True
        entry = mention.entry
        links.append(
            Link(
                start=mention.start,
                end=mention.start + len(mention.quote),
                href=entry_url_as_of(entry, as_of),
                css_class=f"mention mention--{entry.kind}",
                # The story page lists every entry's one-line description under these ids.
                attrs=(
                    ("data-entry", entry.slug),
                    ("aria-describedby", f"mention-desc-{entry.slug}"),
                ),
            )
        )
    return links


def entry_ensure_name_alias(entry: ContextEntry) -> None:
    """An entry's own name always links to it: keep it in the alias table, where the
    one-phrase-one-entry rule is enforced. A clash has been reported by the entry's form."""
    normalized = normalize_alias(entry.label)
    if len(normalized) >= 2 and not Alias.objects.filter(normalized=normalized).exists():
        Alias.objects.create(text=entry.label, **{entry.entry_field: entry})


def article_import(
    story: ParsedStory,
    *,
    outlet: str = "",
    original_url: str = "",
    published_at: dt.datetime | None = None,
    publish: bool = False,
) -> tuple[Article, bool]:
    """Create or update a story from a parsed text file.

    The same story (same original URL, else same headline slug) is updated in place and its
    figures replaced, so re-imports never duplicate anything. Re-importing without
    ``publish`` keeps a story's status: it never takes a live story down."""
    if published_at is None and story.published_on is not None:
        published_at = dt.datetime.combine(story.published_on, dt.time(12), tzinfo=dt.UTC)
    original_url = original_url or story.original_url
    slug = slugify(story.headline, allow_unicode=True)[:180].strip("-")
    article = None
    if original_url:
        article = Article.objects.filter(original_url=original_url).first()
    if article is None and slug:
        article = Article.objects.filter(slug=slug).first()
    created = article is None
    article = article or Article(status=Article.Status.DRAFT)
    if publish and published_at is None and article.published_at is None:
        raise ValueError(f"“{story.headline}” has no date, so it cannot be published.")
    article.headline = story.headline
    article.dek = story.dek
    article.byline = story.byline
    article.outlet = outlet or story.outlet
    article.original_url = original_url
    article.dateline = story.dateline
    article.published_at = published_at or article.published_at
    if publish:
        article.status = Article.Status.PUBLISHED
    article.body = story.body_html
    article.full_clean(exclude=["slug"])
    article.save()
    article.figures.all().delete()
    Figure.objects.bulk_create(
        Figure(article=article, position=number, caption=figure.caption, credit=figure.credit)
        for number, figure in enumerate(story.figures, start=1)
    )
    return article, created


def context_library_load(data: dict) -> dict[str, int]:
    """Create or update actors and notes, with their aliases and sources, from the JSON shape
    of ``explainer/demo/context_library.json``. Entries are matched by slug; running it
    twice changes nothing."""
    counts = {"created": 0, "updated": 0}
    nested = {"slug", "aliases", "sources", "roles", "updates", "actors", "related"}
    loaded: list[tuple[ContextEntry, dict]] = []
    with deferred_relinking():
        for model, items in (
            (Actor, data.get("actors", [])),
            (BackgroundNote, data.get("notes", [])),
        ):
            for item in items:
                fields = {key: value for key, value in item.items() if key not in nested}
                entry, created = model.objects.update_or_create(slug=item["slug"], defaults=fields)
                counts["created" if created else "updated"] += 1
                loaded.append((entry, item))
        # Listed aliases first, for every entry, then names: a name never takes a phrase
        # that another entry lists explicitly.
        for entry, item in loaded:
            _sync_aliases(entry, item.get("aliases", []))
            _sync_sources(entry, item.get("sources", []))
            if isinstance(entry, Actor):
                _replace_rows(entry.roles, Role, item.get("roles", []), actor=entry)
            else:
                _replace_rows(entry.updates, NoteUpdate, item.get("updates", []), note=entry)
        for entry, _ in loaded:
            entry_ensure_name_alias(entry)
        actors = {actor.slug: actor for actor in Actor.objects.all()}
        notes = {note.slug: note for note in BackgroundNote.objects.all()}
        # The note relation is two-way: complete each list from both sides before setting
        # it, or a later note's list would undo links an earlier one made.
        related = {item["slug"]: set(item.get("related", [])) for item in data.get("notes", [])}
        for slug, others in list(related.items()):
            for other in others:
                related.setdefault(other, set()).add(slug)
        for item in data.get("notes", []):
            note = notes[item["slug"]]
            note.actors.set([actors[slug] for slug in item.get("actors", [])])
            note.related_notes.set([notes[slug] for slug in sorted(related[item["slug"]])])
        # Roles and updates went in with bulk_create, which sends no signals.
        for entry in [*Actor.objects.all(), *BackgroundNote.objects.all()]:
            entry_refresh_context(entry)
    return counts


def _replace_rows(manager, model, rows: list[dict], **parent) -> None:
    """Make a child list (roles, updates) exactly ``rows``, leaving it alone if it already is."""
    fields = list(rows[0]) if rows else []
    current = [{name: getattr(row, name) for name in fields} for row in manager.all()]
    if current == rows and manager.count() == len(rows):
        return
    manager.all().delete()
    model.objects.bulk_create(model(**row, **parent) for row in rows)


def _sync_aliases(entry: ContextEntry, aliases: list[dict]) -> None:
    wanted: dict[str, dict] = {}
    for alias in aliases:
        wanted.setdefault(normalize_alias(alias["text"]), alias)
    owned = {
        alias.normalized: alias for alias in Alias.objects.filter(**{entry.entry_field: entry})
    }
    for normalized, spec in wanted.items():
        case_sensitive = bool(spec.get("case_sensitive", False))
        alias = owned.get(normalized)
        if alias is None:
            if Alias.objects.filter(normalized=normalized).exists():
                continue  # an editor gave this phrase to another entry; theirs stands
            Alias.objects.create(
                text=spec["text"], case_sensitive=case_sensitive, **{entry.entry_field: entry}
            )
        elif alias.case_sensitive != case_sensitive or alias.text != spec["text"]:
            alias.text, alias.case_sensitive = spec["text"], case_sensitive
            alias.save()


def _sync_sources(entry: ContextEntry, sources: list[dict]) -> None:
    existing = list(Source.objects.filter(**{entry.entry_field: entry}))
    current = [(source.label, source.url) for source in existing]
    wanted = [(source["label"], source["url"]) for source in sources]
    if current == wanted:
        return
    Source.objects.filter(pk__in=[source.pk for source in existing]).delete()
    Source.objects.bulk_create(
        Source(label=label, url=url, position=number, **{entry.entry_field: entry})
        for number, (label, url) in enumerate(wanted, start=1)
    )


def _actor_stub(actor: Actor) -> dict:
    return {
        "slug": actor.slug,
        "name": actor.name,
        "kind": actor.kind,
        "is_published": actor.is_published,
    }


def _note_stub(note: BackgroundNote) -> dict:
    return {
        "slug": note.slug,
        "title": note.title,
        "kind": note.kind,
        "starts_on": note.starts_on,
        "ends_on": note.ends_on,
        "is_published": note.is_published,
    }


def entry_refresh_context(entry: ContextEntry) -> None:
    """Snapshot what the entry's card and page show into ``context_json`` and retire the
    cached pages of the stories that mention it."""
    data: dict = {
        "aliases": [alias.text for alias in entry.aliases.all()],
        "sources": [{"label": s.label, "url": s.url} for s in entry.sources.all()],
        "roles": [],
        "updates": [],
        "involved": [],
    }
    if isinstance(entry, Actor):
        data["roles"] = [
            {
                "title": role.title,
                "organization": role.organization,
                "starts_on": role.starts_on,
                "ends_on": role.ends_on,
                "succeeded_by": role.succeeded_by,
            }
            for role in entry.roles.all()
        ]
        data["related"] = [_note_stub(note) for note in entry.notes.order_by("starts_on", "title")]
    else:
        data["updates"] = [
            {"happened_on": update.happened_on, "text": update.text}
            for update in entry.updates.all()
        ]
        data["involved"] = [_actor_stub(actor) for actor in entry.actors.order_by("name")]
        data["related"] = [_note_stub(note) for note in related_notes(entry)]
    # updated_at stays: it is what an editor's open form was loaded at (edit conflicts).
    type(entry).objects.filter(pk=entry.pk).update(context_json=data)
    entry.context_json = data
    Article.objects.filter(**{f"mentions__{entry.entry_field}": entry}).update(
        rendered_at=timezone.now()
    )


def related_notes(note: BackgroundNote):
    # Either side of the symmetrical relation: Django adds the mirror row after it sends
    # m2m_changed, so a snapshot taken in that signal must not rely on it.
    return (
        BackgroundNote.objects.filter(
            Q(pk__in=note.related_notes.values("pk")) | Q(related_notes=note)
        )
        .exclude(pk=note.pk)
        .distinct()
        .order_by("starts_on", "title")
    )


def entries_related_to(entry: ContextEntry) -> list[ContextEntry]:
    """The entries whose cards name this one: they show its name, title or dates."""
    if isinstance(entry, Actor):
        return list(entry.notes.all())
    return [*related_notes(entry), *entry.actors.all()]


def article_name_suggestions(article: Article) -> list[str]:
    """Names and acronyms in the story that no mention covers and no alias has (nor, for
    "North Korean", the name it is the adjective of): candidates for new entries."""
    covered = [
        (start, start + len(quote))
        for start, quote in article.mentions.filter(is_orphaned=False).values_list("start", "quote")
        if start is not None
    ]
    names = suggest_names(parse_html(article.body_html).text, covered)
    stems = {
        name: [form] + [form[: -len(ending)] for ending in DEMONYM_ENDINGS if form.endswith(ending)]
        for name, form in ((name, normalize_alias(name)) for name in names)
    }
    wanted = {stem for candidates in stems.values() for stem in candidates}
    known = set(Alias.objects.filter(normalized__in=wanted).values_list("normalized", flat=True))
    return [name for name in names if not known.intersection(stems[name])]

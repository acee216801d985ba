"""Write paths shared by the admin, the importers and the demo: importing stories, loading
the context library, and the names an editor may want to add to it. Relinking lives in
``relinking.py``, snapshots in ``snapshots.py``."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.text import slugify

from .importing import ParsedStory
from .linking import normalize_alias, parse_html
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
from .relinking import batched, request_snapshot
from .suggestions import DEMONYM_ENDINGS, suggest_names


def articles_mentioning(entry: ContextEntry) -> set[int]:
    return set(
        Mention.objects.filter(**{entry.entry_field: entry}).values_list("article_id", flat=True)
    )


def entry_ensure_name_alias(entry: ContextEntry) -> None:
    """An entry's own name always links to it: keep it in the alias table, as a full form
    (unless the entry lists it already, as it chose)."""
    normalized = normalize_alias(entry.label)
    owned = Alias.objects.filter(normalized=normalized, **{entry.entry_field: entry})
    if len(normalized) >= 2 and not owned.exists():
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


def value_from_file(field: models.Field, value):
    """A library file's value as a form would read it: a date comes as text ("2026-12-02"),
    and a blank date is no date."""
    if value == "" and field.null:
        return None
    return field.to_python(value)


def context_library_load(data: dict) -> dict[str, int]:
    """Create or update actors and notes, with their aliases and sources, from the JSON shape
    of ``explainer/demo/context_library.json``. Entries are matched by slug; running it
    twice changes nothing."""
    counts = {"created": 0, "updated": 0}
    nested = {"slug", "aliases", "sources", "roles", "updates", "actors", "related"}
    loaded: list[tuple[ContextEntry, dict]] = []
    with batched():
        for model, items in (
            (Actor, data.get("actors", [])),
            (BackgroundNote, data.get("notes", [])),
        ):
            for item in items:
                fields = {
                    key: value_from_file(model._meta.get_field(key), value)
                    for key, value in item.items()
                    if key not in nested
                }
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
        for entry, _ in loaded:
            request_snapshot(entry)
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
        flags = {
            "case_sensitive": bool(spec.get("case_sensitive", False)),
            "is_short_form": bool(spec.get("is_short_form", False)),
        }
        alias = owned.get(normalized)
        if alias is None:
            Alias.objects.create(text=spec["text"], **flags, **{entry.entry_field: entry})
        elif alias.text != spec["text"] or any(
            getattr(alias, name) != value for name, value in flags.items()
        ):
            alias.text = spec["text"]
            for name, value in flags.items():
                setattr(alias, name, value)
            alias.save()


# What the library file holds of a source, in its order.
SOURCE_FIELDS = ("label", "title", "published_on", "url")


def _sync_sources(entry: ContextEntry, sources: list[dict]) -> None:
    existing = list(Source.objects.filter(**{entry.entry_field: entry}))
    current = [tuple(getattr(source, name) for name in SOURCE_FIELDS) for source in existing]
    wanted = [tuple(source.get(name, "") for name in SOURCE_FIELDS) for source in sources]
    if current == wanted:
        return
    Source.objects.filter(pk__in=[source.pk for source in existing]).delete()
    Source.objects.bulk_create(
        Source(
            **dict(zip(SOURCE_FIELDS, row, strict=True)),
            position=number,
            **{entry.entry_field: entry},
        )
        for number, row in enumerate(wanted, start=1)
    )


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

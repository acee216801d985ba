"""The ``context_json`` snapshot of an entry: the rows its card and page show (aliases,
sources, roles or dated updates, relations), kept on the entry row so that a card is one
query. Its layout is defined here once: written by ``entry_snapshot`` and read back only
through ``card_parts``, ``page_parts`` and ``timeline_rows``."""

from __future__ import annotations

from django.db.models import Q

from .models import Actor, BackgroundNote, ContextEntry, NoteUpdate, Role, Source
from .text import publishers_line

ROLE_FIELDS = ("title", "organization", "starts_on", "ends_on", "succeeded_by")
UPDATE_FIELDS = ("happened_on", "text")
SOURCE_FIELDS = ("label", "title", "published_on", "url")
ACTOR_STUB_FIELDS = ("slug", "name", "kind", "is_published")
NOTE_STUB_FIELDS = ("slug", "title", "kind", "starts_on", "ends_on", "is_published")


def _stub(obj, names: tuple[str, ...]) -> dict:
    return {name: getattr(obj, name) for name in names}


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


def entry_snapshot(entry: ContextEntry) -> dict:
    data: dict = {
        "aliases": [alias.text for alias in entry.aliases.all()],
        "sources": [_stub(source, SOURCE_FIELDS) for source in entry.sources.all()],
        "roles": [],
        "updates": [],
        "involved": [],
    }
    if isinstance(entry, Actor):
        data["roles"] = [_stub(role, ROLE_FIELDS) for role in entry.roles.all()]
        data["related"] = [
            _stub(note, NOTE_STUB_FIELDS) for note in entry.notes.order_by("starts_on", "title")
        ]
    else:
        data["updates"] = [_stub(update, UPDATE_FIELDS) for update in entry.updates.all()]
        data["involved"] = [
            _stub(actor, ACTOR_STUB_FIELDS) for actor in entry.actors.order_by("name")
        ]
        data["related"] = [_stub(note, NOTE_STUB_FIELDS) for note in related_notes(entry)]
    return data


def entry_refresh_context(entry: ContextEntry) -> None:
    """Store the entry's snapshot. The story pages that show the entry are refreshed by the
    relink job the same edit requested (``scheduling.request_relink``)."""
    data = entry_snapshot(entry)
    # updated_at stays: it is what an editor's open form was loaded at (edit conflicts).
    type(entry).objects.filter(pk=entry.pk).update(context_json=data)
    entry.context_json = data


def card_parts(entry: ContextEntry, *, include_unpublished: bool = False) -> dict:
    """What a card needs beyond the entry row (roles or dated updates, and relations), as
    unsaved model instances for the templates."""
    data = entry.context_json or {}

    def shown(rows: list[dict]) -> list[dict]:
        return [row for row in rows if include_unpublished or row.get("is_published", True)]

    sources = [Source(**row) for row in data.get("sources", [])]
    return {
        "sources": sources,
        "source_publishers": publishers_line([source.label for source in sources]),
        "roles": [Role(**row) for row in data.get("roles", [])],
        "updates": [NoteUpdate(**row) for row in data.get("updates", [])],
        "involved": [Actor(**row) for row in shown(data.get("involved", []))],
        "related": [BackgroundNote(**row) for row in shown(data.get("related", []))],
    }


def page_parts(entry: ContextEntry) -> dict:
    """What the full page adds: other spellings."""
    data = entry.context_json or {}
    return {"aliases": [text for text in data.get("aliases", []) if text != entry.label]}


def timeline_rows(note: BackgroundNote) -> tuple[list[BackgroundNote], list[NoteUpdate]]:
    """A mentioned note's related notes and dated updates, for "How we got here"."""
    data = note.context_json or {}
    related = [BackgroundNote(**row) for row in data.get("related", [])]
    updates = [NoteUpdate(**row, note=note) for row in data.get("updates", [])]
    return related, updates

"""Write the context library as JSON in the shape ``services.context_library_load`` reads
(that of ``explainer/demo/context_library.json``)."""

import datetime as dt
import json
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from explainer.linking import normalize_alias
from explainer.models import Actor, BackgroundNote

# Editor fields only, in the demo file's order; derived fields (``*_html``,
# ``context_json``, timestamps) are rebuilt on import.
ENTRY_FIELDS = ["is_published", "reviewed_on"]
ACTOR_FIELDS = ["slug", "name", "kind", "description", "summary", "wikidata_id", *ENTRY_FIELDS]
NOTE_FIELDS = [
    *["slug", "title", "kind", "description", "summary", "body", "starts_on", "ends_on"],
    *ENTRY_FIELDS,
]
ROLE_FIELDS = [
    *["title", "organization", "starts_on", "ends_on", "succeeded_by"],
    *["title_forms", "holder_phrases"],
]
ALIAS_FIELDS = ["text", "case_sensitive", "is_short_form"]
SOURCE_FIELDS = ["label", "title", "published_on", "url"]
UPDATE_FIELDS = ["happened_on", "text"]


def _aliases(entry) -> list[dict]:
    # The entry's own name first, as the demo file has it, then the rest in normal-form order:
    # the order must not depend on primary keys, or a round trip would reorder them.
    name = normalize_alias(entry.label)
    aliases = sorted(
        entry.aliases.all(), key=lambda alias: (alias.normalized != name, alias.normalized)
    )
    return _rows(aliases, ALIAS_FIELDS)


def _sources(entry) -> list[dict]:
    sources = sorted(entry.sources.all(), key=lambda source: (source.position, source.pk))
    return _rows(sources, SOURCE_FIELDS)


def _plain(value):
    # The file holds what an editor types: dates as ISO text, a blank date as "".
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else value


def _fields(row, fields: list[str]) -> dict:
    return {name: _plain(getattr(row, name)) for name in fields}


def _rows(rows, fields: list[str]) -> list[dict]:
    return [_fields(row, fields) for row in rows]


def _actor_record(actor: Actor) -> dict:
    record = _fields(actor, ACTOR_FIELDS)
    # A picture is written only when set, so that a library without pictures keeps the demo
    # file's shape. The file itself stays in MEDIA_ROOT: copy it along with the JSON.
    if actor.image or actor.image_alt or actor.image_credit:
        record["image"] = actor.image.name or ""
        record["image_alt"] = actor.image_alt
        record["image_credit"] = actor.image_credit
    record["aliases"] = _aliases(actor)
    record["sources"] = _sources(actor)
    # Role's own ordering (starts_on, pk); the loader creates rows in list order, so a round
    # trip keeps it.
    record["roles"] = _rows(actor.roles.all(), ROLE_FIELDS)
    return record


def _note_record(note: BackgroundNote) -> dict:
    record = _fields(note, NOTE_FIELDS)
    record["aliases"] = _aliases(note)
    record["sources"] = _sources(note)
    record["updates"] = _rows(note.updates.all(), UPDATE_FIELDS)
    record["actors"] = sorted(actor.slug for actor in note.actors.all())
    # The relation is symmetrical: both directions are stored, so each note lists all of them.
    record["related"] = sorted(other.slug for other in note.related_notes.all())
    return record


def library_export() -> dict:
    """Every actor and background note as the loader reads them, sorted by slug (in Python,
    so that the order does not depend on the database's collation)."""
    with transaction.atomic():
        actors = Actor.objects.prefetch_related("aliases", "sources", "roles")
        notes = BackgroundNote.objects.prefetch_related(
            "aliases", "sources", "updates", "actors", "related_notes"
        )
        return {
            "actors": [_actor_record(actor) for actor in sorted(actors, key=lambda a: a.slug)],
            "notes": [_note_record(note) for note in sorted(notes, key=lambda n: n.slug)],
        }


def library_json(data: dict | None = None) -> str:
    data = library_export() if data is None else data
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


class Command(BaseCommand):
    help = (
        "Write the whole context library (actors and background notes with their aliases, "
        "sources, roles, dated updates and relations) as UTF-8 JSON in the shape import_context "
        "and load_demo read. Sorted by slug: the same library always gives the same bytes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default="-",
            help="File to write; “-” or none for standard output.",
        )

    def handle(self, *args, path, **options):
        data = library_export()
        text = library_json(data)
        if path == "-":
            # Write UTF-8 bytes whatever the terminal's locale says, when the stream allows it.
            buffer = getattr(self.stdout, "buffer", None)
            if buffer is None:
                self.stdout.write(text, ending="")
            else:
                self.stdout.flush()
                buffer.write(text.encode("utf-8"))
                buffer.flush()
            return
        Path(path).write_text(text, encoding="utf-8", newline="\n")
        self.stdout.write(
            f"Wrote {len(data['actors'])} actors and {len(data['notes'])} background notes "
            f"to {path}."
        )

"""The context library file, defined once, from the models: ``library_export`` writes it,
``library_problems`` checks one, ``library_load`` loads one. ``export_context``,
``import_context`` and ``load_demo`` are shells over these.

The file is one JSON object, ``{"actors": [...], "notes": [...]}`` (the shape of
``explainer/demo/context_library.json``). Each entry holds its editable fields by name,
its rows (aliases, sources, roles or dated updates) under the entry's related names, and
its relations as lists of slugs ("actors"; "related" for ``related_notes``). Dates are
ISO text and a blank date is "". A key left out keeps the entry's stored value (or the
model's default for a new entry); a list left out is empty.

Checking builds unsaved model instances and calls ``full_clean()``, so the file obeys
exactly the rules an editor's form does, and each problem names the entry and field.
Loading matches entries by slug. An entry whose content is the file's is left alone
(nothing is written); one an editor changed since its last import is skipped, unless
forced, and then both versions are in the admin's History (``provenance.py``)."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import reversion
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.db.models.fields.files import FieldFile

from .linking import normalize_alias
from .models import (
    Actor,
    Alias,
    BackgroundNote,
    ContextEntry,
    NoteUpdate,
    Role,
    Source,
    strip_control_characters,
)
from .provenance import (
    edited_since_import,
    keep_in_history,
    mark_imported,
    record_digest,
    skip_reason,
)
from .scheduling import batched, request_snapshot

# The rows that belong to an entry in the library, in the file's order (mentions belong to
# stories).
LIBRARY_PARTS = (Alias, Source, Role, NoteUpdate)
# Where the file's name for a relation is not the field's (the demo file's "related").
FILE_KEYS = {"related_notes": "related"}


def editable_fields(model: type[models.Model]) -> list[models.Field]:
    """What an editor types: derived fields (``*_html``, ``context_json``, timestamps,
    provenance) are not editable and are rebuilt when the row is saved."""
    return [
        model_field
        for model_field in model._meta.concrete_fields
        if model_field.editable and not model_field.primary_key and not model_field.is_relation
    ]


@dataclass(frozen=True)
class Section:
    """What the file holds under ``actors`` or ``notes``."""

    key: str
    model: type[ContextEntry]
    label_field: str  # what problems name an entry by when it has no slug

    @property
    def noun(self) -> str:
        return str(self.model._meta.verbose_name)

    @property
    def fields(self) -> list[models.Field]:
        return editable_fields(self.model)

    @property
    def parts(self) -> list[models.ManyToOneRel]:
        parts = [
            relation
            for relation in self.model._meta.related_objects
            if relation.one_to_many and relation.related_model in LIBRARY_PARTS
        ]
        return sorted(parts, key=lambda relation: LIBRARY_PARTS.index(relation.related_model))

    @property
    def relations(self) -> list[tuple[str, models.ManyToManyField]]:
        return [
            (FILE_KEYS.get(relation.name, relation.name), relation)
            for relation in self.model._meta.many_to_many
        ]

    @property
    def keys(self) -> list[str]:
        return [
            *(model_field.name for model_field in self.fields),
            *(part.get_accessor_name() for part in self.parts),
            *(key for key, _ in self.relations),
        ]


ACTORS = Section("actors", Actor, "name")
NOTES = Section("notes", BackgroundNote, "title")
SECTIONS = (ACTORS, NOTES)  # in the loader's order


def section_of(entry: ContextEntry) -> Section:
    return ACTORS if isinstance(entry, Actor) else NOTES


# Values


def file_value(value):
    """A model value as the file holds it: dates as ISO text, no date or file as ""."""
    if value is None:
        return ""
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def model_value(model_field: models.Field, value):
    """A file's value as a form would read it: a blank date is no date."""
    if value == "" and model_field.null:
        return None
    return model_field.to_python(value)


def _type_problem(model_field: models.Field, value) -> str:
    """JSON's own types: the file says true, not "yes"; 3, not "3"."""
    if isinstance(model_field, models.BooleanField):
        return "" if isinstance(value, bool) else "must be true or false."
    if isinstance(model_field, models.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return "" if ok else "must be a whole number."
    return "" if isinstance(value, str) else "must be a string."


# Export


def _file_order(model: type[models.Model], rows: list, *, label: str = "") -> list:
    """Rows in the order the file lists them, sorted in Python so that it does not depend
    on the database's collation or on primary keys."""
    if model is Alias:
        # The entry's own name first, as the demo file has it, then in normal-form order.
        name = normalize_alias(label)
        return sorted(rows, key=lambda alias: (normalize_alias(alias.text) != name, alias.text))
    ordering = [name for name in model._meta.ordering if name != "pk"]
    return sorted(rows, key=lambda row: tuple(getattr(row, name) for name in ordering))


def part_record(row: models.Model) -> dict:
    return {
        model_field.name: file_value(model_field.value_from_object(row))
        for model_field in editable_fields(type(row))
    }


def entry_record(entry: ContextEntry) -> dict:
    """One entry as the file holds it."""
    section = section_of(entry)
    record = {
        model_field.name: file_value(model_field.value_from_object(entry))
        for model_field in section.fields
    }
    for part in section.parts:
        rows = list(getattr(entry, part.get_accessor_name()).all())
        record[part.get_accessor_name()] = [
            part_record(row) for row in _file_order(part.related_model, rows, label=entry.label)
        ]
    for key, relation in section.relations:
        record[key] = sorted(other.slug for other in getattr(entry, relation.name).all())
    return record


def _with_rows(section: Section):
    return section.model.objects.prefetch_related(
        *(part.get_accessor_name() for part in section.parts),
        *(relation.name for _, relation in section.relations),
    )


def library_export() -> dict:
    """Every actor and background note, sorted by slug (in Python, so that the order does
    not depend on the database's collation)."""
    with transaction.atomic():
        return {
            section.key: [
                entry_record(entry)
                for entry in sorted(_with_rows(section), key=lambda entry: entry.slug)
            ]
            for section in SECTIONS
        }


def library_json(data: dict | None = None) -> str:
    """The file's text: UTF-8 JSON, non-ASCII kept literal, the same bytes for the same
    library."""
    data = library_export() if data is None else data
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# Checking


def _shown(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f" {text}" if len(text) <= 40 else ""


@dataclass
class Planned:
    """One entry of a file, read into unsaved instances."""

    section: Section
    position: int
    item: dict
    entry: ContextEntry  # the stored entry with the file's values, or a new one; unsaved
    existing: ContextEntry | None
    parts: dict[str, list[models.Model]] = field(default_factory=dict)
    relations: dict[str, list[str]] = field(default_factory=dict)  # field name: slugs

    @property
    def slug(self) -> str:
        return self.item["slug"]


@dataclass
class Reading:
    planned: list[Planned] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _entries(data: dict) -> Iterator[tuple[Section, int, object]]:
    for section in SECTIONS:
        items = data.get(section.key, [])
        if isinstance(items, list):
            for position, item in enumerate(items):
                yield section, position, item


def _where(section: Section, position: int, item) -> str:
    if isinstance(item, dict):
        slug = item.get("slug")
        if isinstance(slug, str) and slug:
            return slug
        label = item.get(section.label_field)
        if isinstance(label, str) and label:
            return f"{section.key}[{position + 1}] (“{label}”)"
    return f"{section.key}[{position + 1}]"


def _unknown_keys(item: dict, expected: list[str], where: str) -> list[str]:
    return [
        f"{where}: unknown key “{key}”; expected "
        + ", ".join(f"“{name}”" for name in expected)
        + "."
        for key in item
        if key not in expected
    ]


def _fill(
    instance: models.Model, item: dict, fields: list[models.Field], where: str
) -> tuple[list[str], list[str]]:
    """Set ``instance``'s fields from the file; the problems, and the fields they were in."""
    problems, bad = [], []
    for model_field in fields:
        if model_field.name not in item:
            continue
        value = item[model_field.name]
        problem = _type_problem(model_field, value)
        if not problem:
            try:
                setattr(instance, model_field.attname, model_value(model_field, value))
            except ValidationError as error:
                problem = " ".join(error.messages)
        if problem:
            problems.append(f"{where}: {model_field.name}{_shown(value)}: {problem}")
            bad.append(model_field.name)
    return problems, bad


def _clean(instance: models.Model, item: dict, where: str, *, exclude: list[str]) -> list[str]:
    """The model's own rules, as the admin applies them, for the fields the file set."""
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as error:
        problems = []
        for name, messages in error.message_dict.items():
            if name == NON_FIELD_ERRORS:
                problems += [f"{where}: {message}" for message in messages]
            else:
                shown = _shown(item[name]) if name in item else ""
                problems += [f"{where}: {name}{shown}: {message}" for message in messages]
        return problems
    return []


def _read_parts(planned: Planned, part: models.ManyToOneRel, where: str) -> list[str]:
    key = part.get_accessor_name()
    rows = planned.item.get(key, [])
    if not isinstance(rows, list):
        return [f"{where}: “{key}” must be a list."]
    model = part.related_model
    fields = editable_fields(model)
    names = [model_field.name for model_field in fields]
    # The entry as the row's owner, but never saved: the rows are checked on their own,
    # as the admin's inline checks them, and the loader gives them the real entry.
    owner = planned.section.model()
    entry_links = [
        model_field.name
        for model_field in model._meta.concrete_fields
        if model_field.is_relation and model_field.related_model in (Actor, BackgroundNote)
    ]
    problems, instances = [], []
    for number, row in enumerate(rows, start=1):
        here = f"{where}: {key}[{number}]"
        if not isinstance(row, dict):
            problems.append(f"{here}: must be an object, not {type(row).__name__}.")
            continue
        instance = model(**{part.field.name: owner})
        found = _unknown_keys(row, names, here)
        filled, bad = _fill(instance, row, fields, here)
        found += filled
        if "position" in names and "position" not in row:
            # Rows listed in order (as the demo file lists sources) keep it.
            instance.position = number
        found += _clean(instance, row, here, exclude=[*entry_links, *bad])
        strip_control_characters(instance)
        problems += found
        instances.append(instance)
    planned.parts[key] = instances
    return problems


def _read_entry(
    section: Section, position: int, item, existing: dict
) -> tuple[Planned | None, list[str]]:
    where = _where(section, position, item)
    if not isinstance(item, dict):
        return None, [f"{where}: must be an object, not {type(item).__name__}."]
    slug = item.get("slug")
    if not isinstance(slug, str) or not slug:
        problem = "missing “slug”." if slug is None else f"slug{_shown(slug)}: must be a slug."
        return None, [f"{where}: {problem}"]
    stored = existing.get(slug)
    entry = copy.copy(stored) if stored is not None else section.model()
    planned = Planned(section, position, item, entry, stored)
    problems = _unknown_keys(item, section.keys, where)
    filled, bad = _fill(entry, item, section.fields, where)
    problems += filled
    problems += _clean(entry, item, where, exclude=bad)
    strip_control_characters(entry)
    for part in section.parts:
        problems += _read_parts(planned, part, where)
    for key, relation in section.relations:
        slugs = item.get(key, [])
        if not isinstance(slugs, list) or not all(isinstance(other, str) for other in slugs):
            problems.append(f"{where}: “{key}” must be a list of slugs.")
            slugs = []
        planned.relations[relation.name] = slugs
    return planned, problems


def read_library(data) -> Reading:
    """The file's entries as unsaved instances, and everything wrong with it, each problem
    named by the entry's slug and the field. Reads the database (the entries a file
    updates, and the slugs relations may name) but writes nothing."""
    reading = Reading()
    if not isinstance(data, dict):
        reading.problems.append(
            "The file must hold one JSON object with “actors” and “notes” lists."
        )
        return reading
    keys = [section.key for section in SECTIONS]
    reading.problems += [
        f"Unknown top-level key “{key}”; expected “actors” and “notes”."
        for key in data
        if key not in keys
    ]
    reading.problems += [
        f"“{section.key}” must be a list of objects."
        for section in SECTIONS
        if not isinstance(data.get(section.key, []), list)
    ]
    slugs = {
        section.key: [
            item["slug"]
            for item in data.get(section.key, [])
            if isinstance(item, dict) and isinstance(item.get("slug"), str)
        ]
        if isinstance(data.get(section.key, []), list)
        else []
        for section in SECTIONS
    }
    existing = {
        section.key: {
            entry.slug: entry for entry in _with_rows(section).filter(slug__in=slugs[section.key])
        }
        for section in SECTIONS
    }
    for section, position, item in _entries(data):
        planned, problems = _read_entry(section, position, item, existing[section.key])
        reading.problems += problems
        if planned is not None:
            reading.planned.append(planned)
    reading.problems += _slug_problems(reading.planned)
    reading.problems += _relation_problems(reading.planned)
    return reading


def library_problems(data) -> list[str]:
    return read_library(data).problems


def _slug_problems(planned: list[Planned]) -> list[str]:
    places: dict[str, list[str]] = {}
    for entry in planned:
        places.setdefault(entry.slug, []).append(f"{entry.section.key}[{entry.position + 1}]")
    return [
        f"{slug}: the slug is used by more than one entry ({' and '.join(where)}); actors and "
        "notes share one set of addresses."
        for slug, where in places.items()
        if len(where) > 1
    ]


def _relation_problems(planned: list[Planned]) -> list[str]:
    known = {section.key: set() for section in SECTIONS}
    for entry in planned:
        known[entry.section.key].add(entry.slug)
    targets = {
        relation.name: next(s for s in SECTIONS if s.model is relation.related_model)
        for section in SECTIONS
        for _, relation in section.relations
    }
    wanted = {section.key: set() for section in SECTIONS}
    for entry in planned:
        for name, slugs in entry.relations.items():
            wanted[targets[name].key] |= set(slugs)
    for section in SECTIONS:
        missing = wanted[section.key] - known[section.key]
        known[section.key] |= set(
            section.model.objects.filter(slug__in=missing).values_list("slug", flat=True)
        )
    problems = []
    for entry in planned:
        where = _where(entry.section, entry.position, entry.item)
        for key, relation in entry.section.relations:
            target = targets[relation.name]
            problems += [
                f"{where}: {key}: no {target.noun} “{slug}” in the file or the database."
                for slug in entry.relations.get(relation.name, [])
                if slug not in known[target.key]
            ]
    return problems


# Loading


class LibraryProblems(Exception):
    """The file cannot be loaded; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class LoadReport:
    """What loading a file did, entry by entry (slugs)."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # slug: why
    forced: dict[str, list[str]] = field(default_factory=dict)  # slug: what an editor had changed

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged) + len(self.skipped)


def _wanted_rows(planned: Planned, part: models.ManyToOneRel) -> list[models.Model]:
    rows = planned.parts.get(part.get_accessor_name(), [])
    if part.related_model is not Alias:
        return rows
    # One alias per normal form (the first listed), and the entry's own name, which
    # always links to it (as ``services.entry_ensure_name_alias`` keeps it in the admin).
    wanted: dict[str, Alias] = {}
    for alias in rows:
        wanted.setdefault(normalize_alias(alias.text), alias)
    label = planned.entry.label
    name = normalize_alias(label)
    if len(name) >= 2 and name not in wanted:
        alias = Alias(text=" ".join(label.split()), **{part.field.name: planned.section.model()})
        wanted[name] = alias
    return list(wanted.values())


def _planned_record(planned: Planned, relations: dict[str, list[str]]) -> dict:
    """The entry's record as ``entry_record`` will read it once the file is loaded."""
    entry, section = planned.entry, planned.section
    record = {
        model_field.name: file_value(model_field.value_from_object(entry))
        for model_field in section.fields
    }
    for part in section.parts:
        rows = _file_order(part.related_model, _wanted_rows(planned, part), label=entry.label)
        record[part.get_accessor_name()] = [part_record(row) for row in rows]
    for key, relation in section.relations:
        record[key] = sorted(relations[relation.name])
    return record


def _changed(section: Section, before: dict, after: dict) -> list[str]:
    """What differs, in the admin's words: "description", "show to readers", "aliases"."""
    names = {model_field.name: str(model_field.verbose_name) for model_field in section.fields}
    names |= {key: str(relation.verbose_name) for key, relation in section.relations}
    return [names.get(key, key) for key in section.keys if before.get(key) != after.get(key)]


class _Plan:
    """Which entries to write and with which relations."""

    def __init__(self, planned: list[Planned], *, force: bool):
        self.planned = planned
        self.current = {p.slug: entry_record(p.existing) for p in planned if p.existing}
        # A symmetrical relation (related notes) holds a pair if either side lists it.
        self.pairs: dict[str, dict[str, set[str]]] = {}
        for _, relation in NOTES.relations:
            if not relation.remote_field.symmetrical:
                continue
            completed: dict[str, set[str]] = {}
            for p in planned:
                if p.section is NOTES:
                    completed.setdefault(p.slug, set()).update(p.relations[relation.name])
                    for other in p.relations[relation.name]:
                        completed.setdefault(other, set()).add(p.slug)
            self.pairs[relation.name] = completed
        self.protected: set[str] = set()  # skipped entries: their pairs stay as stored
        self.report = LoadReport()
        self.write: list[Planned] = []
        self.forced: list[Planned] = []
        self._decide(force=force)

    def relations(self, planned: Planned) -> dict[str, list[str]]:
        wanted = {}
        for key, relation in planned.section.relations:
            slugs = set(planned.relations[relation.name])
            if relation.name in self.pairs:
                slugs = set(self.pairs[relation.name].get(planned.slug, set()))
                stored = set(self.current[planned.slug][key]) if planned.existing else set()
                slugs = (slugs - self.protected) | (stored & self.protected)
            wanted[relation.name] = sorted(slugs)
        return wanted

    def _decide(self, *, force: bool) -> None:
        # First what the file asks, to find the entries to leave alone; then what loading
        # does to the others, given that their pairs with those stay as stored.
        views = {p.slug: _planned_record(p, self.relations(p)) for p in self.planned if p.existing}
        edited: dict[str, list[str]] = {}
        for p in self.planned:
            if p.existing is None or views[p.slug] == self.current[p.slug]:
                continue
            if edited_since_import(p.existing, record=self.current[p.slug]):
                changed = _changed(p.section, self.current[p.slug], views[p.slug])
                if force:
                    edited[p.slug] = changed
                else:
                    self.report.skipped[p.slug] = skip_reason(p.existing, changed=changed)
                    self.protected.add(p.slug)
        for p in self.planned:
            if p.slug in self.report.skipped:
                continue
            if p.existing is None:
                self.report.created.append(p.slug)
            elif _planned_record(p, self.relations(p)) == self.current[p.slug]:
                self.report.unchanged.append(p.slug)
                continue
            else:
                self.report.updated.append(p.slug)
                if p.slug in edited:
                    self.report.forced[p.slug] = edited[p.slug]
                    self.forced.append(p)
            self.write.append(p)


def library_load(data, *, force: bool = False, comment: str = "") -> LoadReport:
    """Check the file, then load it in one transaction (``LibraryProblems`` if it has any,
    and nothing is written). Entries whose content is the file's are not written; those an
    editor changed since their last import are skipped unless ``force``. What is written
    is one revision (with ``comment``), so each entry's History holds the imported version,
    after the editor's."""
    with transaction.atomic():
        reading = read_library(data)
        if reading.problems:
            raise LibraryProblems(reading.problems)
        plan = _Plan(reading.planned, force=force)
        if not plan.write:
            return plan.report
        keep_in_history(
            [p.existing for p in plan.forced],
            comment="As an editor left it, before a forced import replaced it",
        )
        side_effects = _notes_touched_aside(plan)
        with batched(), reversion.create_revision():
            if comment:
                reversion.set_comment(comment)
            _write(plan)
            _mark_side_effects(side_effects)
        return plan.report


def _write(plan: _Plan) -> None:
    for p in plan.write:
        p.entry.save()
    for p in plan.write:
        for part in p.section.parts:
            _replace_rows(p, part)
    slugs = {section.key: set() for section in SECTIONS}
    wanted = {p.slug: plan.relations(p) for p in plan.write}
    for p in plan.write:
        for _, relation in p.section.relations:
            target = ACTORS if relation.related_model is Actor else NOTES
            slugs[target.key] |= set(wanted[p.slug][relation.name])
    entries = {
        section.key: {
            entry.slug: entry for entry in section.model.objects.filter(slug__in=slugs[section.key])
        }
        for section in SECTIONS
    }
    for p in plan.write:
        for _, relation in p.section.relations:
            target = ACTORS if relation.related_model is Actor else NOTES
            others = [entries[target.key][slug] for slug in wanted[p.slug][relation.name]]
            getattr(p.entry, relation.name).set(others)
    for p in plan.write:
        fresh = _with_rows(p.section).get(pk=p.entry.pk)
        mark_imported(fresh, record=entry_record(fresh))
        # The version History shows: the entry as loaded, with its rows.
        reversion.add_to_revision(fresh)
        request_snapshot(fresh)


def _replace_rows(planned: Planned, part: models.ManyToOneRel) -> None:
    """Make one kind of row (aliases, sources, roles, updates) exactly the file's, leaving
    it alone if it already is. Saved one by one, so the linker hears of each change."""
    model, owner = part.related_model, part.field.name
    stored = list(model.objects.filter(**{owner: planned.entry}))
    wanted = _wanted_rows(planned, part)
    label = planned.entry.label

    def records(rows):
        return [part_record(row) for row in _file_order(model, rows, label=label)]

    if records(stored) == records(wanted):
        return
    model.objects.filter(pk__in=[row.pk for row in stored]).delete()
    for row in wanted:
        setattr(row, owner, planned.entry)
        row.save()


def _notes_touched_aside(plan: _Plan) -> list[BackgroundNote]:
    """Notes the file does not write whose related notes change with those it writes, and
    that were as their last import left them: they stay so."""
    written = {p.slug for p in plan.write}
    touched: set[str] = set()
    for p in plan.write:
        for key, relation in p.section.relations:
            if relation.name not in plan.pairs:
                continue
            before = set(plan.current[p.slug][key]) if p.existing else set()
            touched |= before ^ set(plan.relations(p)[relation.name])
    notes = _with_rows(NOTES).filter(slug__in=touched - written)
    return [
        note
        for note in notes
        if note.import_digest and not edited_since_import(note, record=entry_record(note))
    ]


def _mark_side_effects(notes: list[BackgroundNote]) -> None:
    for note in notes:
        fresh = _with_rows(NOTES).get(pk=note.pk)
        digest = record_digest(entry_record(fresh))
        BackgroundNote.objects.filter(pk=note.pk).update(import_digest=digest)

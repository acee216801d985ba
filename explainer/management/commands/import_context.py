"""Read a context library written by ``export_context`` (or by hand, in the shape of
``explainer/demo/context_library.json``): check all of it, then load it in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, models, transaction

from explainer.management.commands.export_context import (
    ALIAS_FIELDS as EXPORTED_ALIAS_FIELDS,
)
from explainer.management.commands.export_context import (
    SOURCE_FIELDS as EXPORTED_SOURCE_FIELDS,
)
from explainer.management.commands.export_context import library_export
from explainer.models import (
    Actor,
    Alias,
    BackgroundNote,
    NoteUpdate,
    PartialDateField,
    Role,
    Source,
    partial_date_validator,
    validate_partial_date_exists,
)
from explainer.services import context_library_load, value_from_file


@dataclass(frozen=True)
class Section:
    """What the file holds under ``actors`` or ``notes``."""

    key: str
    model: type[models.Model]
    entry_field: str  # what ``ContextEntry.entry_field`` says of its entries
    label_field: str
    child_key: str
    child_model: type[models.Model]
    relations: tuple[tuple[str, str], ...] = ()  # (key, the ``Section.key`` it names)

    @property
    def noun(self) -> str:
        return self.model._meta.verbose_name

    @property
    def scalar_fields(self) -> dict[str, models.Field]:
        # Editor fields only: derived ones (``*_html``, ``context_json``, timestamps) are not
        # editable and are rebuilt when the entry is saved.
        return {
            field.name: field
            for field in self.model._meta.concrete_fields
            if field.editable and not field.primary_key
        }


ACTORS = Section("actors", Actor, "actor", "name", "roles", Role)
NOTES = Section(
    "notes",
    BackgroundNote,
    "note",
    "title",
    "updates",
    NoteUpdate,
    relations=(("actors", "actors"), ("related", "notes")),
)
SECTIONS = (ACTORS, NOTES)  # in the loader's order


def _child_fields(model: type[models.Model]) -> dict[str, models.Field]:
    return {
        field.name: field
        for field in model._meta.concrete_fields
        if field.editable and not field.primary_key and not field.is_relation
    }


def _value(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return f" {text}" if len(text) <= 40 else ""


def _field_problems(field: models.Field, value, where: str) -> list[str]:
    """What is wrong with one value, in the words the admin would use."""
    if isinstance(field, models.BooleanField):
        if not isinstance(value, bool):
            return [f"{where}{_value(value)}: must be true or false."]
        return []
    text_fields = models.CharField | models.TextField | models.FileField
    if isinstance(field, text_fields) and not isinstance(value, str):
        return [f"{where}{_value(value)}: must be a string."]
    try:
        field.clean(value_from_file(field, value), None)
        if isinstance(field, PartialDateField) and value:
            validate_partial_date_exists(value)
    except ValidationError as error:
        return [f"{where}{_value(value)}: {message}" for message in error.messages]
    return []


def _period_problem(item: dict, where: str) -> list[str]:
    start, end = item.get("starts_on"), item.get("ends_on")
    dates = (start, end)
    if not all(isinstance(day, str) and partial_date_validator.regex.match(day) for day in dates):
        return []
    # Compared at the coarser precision, as the database's constraint does.
    if end < start[: len(end)]:
        return [f"{where}: ends ({end}) before it starts ({start})."]
    return []


def _object_problems(
    item, *, where: str, fields: dict[str, models.Field], required: list[str], nested=()
) -> list[str]:
    if not isinstance(item, dict):
        return [f"{where}: must be an object, not {_value(item).strip() or type(item).__name__}."]
    problems = [f"{where}: missing “{key}”." for key in required if key not in item]
    for key, value in item.items():
        if key in fields:
            problems += _field_problems(fields[key], value, f"{where}: {key}")
        elif key not in nested:
            problems.append(
                f"{where}: unknown key “{key}”; expected "
                + ", ".join(f"“{name}”" for name in [*fields, *nested])
                + "."
            )
    problems += _period_problem(item, where)
    return problems


def _list_problems(item: dict, key: str, where: str, check) -> list[str]:
    rows = item.get(key, [])
    if not isinstance(rows, list):
        return [f"{where}: “{key}” must be a list."]
    problems = []
    for number, row in enumerate(rows, start=1):
        problems += check(row, f"{where}: {key}[{number}]")
    return problems


def _alias_problems(alias, where: str) -> list[str]:
    fields = {name: Alias._meta.get_field(name) for name in EXPORTED_ALIAS_FIELDS}
    problems = _object_problems(alias, where=where, fields=fields, required=["text"])
    if problems or not isinstance(alias, dict):
        return problems
    # The model's own rules (one character or common words only as a short form), on an
    # unsaved row that belongs to no entry yet.
    try:
        Alias(**alias).clean_fields(exclude=["normalized", "actor", "note"])
        _clean_alias_text(Alias(**alias))
    except ValidationError as error:
        problems += [f"{where}{_value(alias['text'])}: {message}" for message in error.messages]
    return problems


def _clean_alias_text(alias: Alias) -> None:
    try:
        alias.clean()
    except ValidationError as error:
        if hasattr(error, "error_dict") and "text" in error.error_dict:
            raise ValidationError(error.error_dict["text"]) from None
        # The other complaint is that the row has no entry yet: the loader gives it one.


def _source_problems(source, where: str) -> list[str]:
    fields = {name: Source._meta.get_field(name) for name in EXPORTED_SOURCE_FIELDS}
    return _object_problems(source, where=where, fields=fields, required=["label", "url"])


def _child_problems(section: Section):
    fields = _child_fields(section.child_model)
    required = [name for name, field in fields.items() if not field.blank]

    def check(row, where: str) -> list[str]:
        return _object_problems(row, where=where, fields=fields, required=required)

    return check


def _slug_list_problems(item: dict, key: str, where: str) -> list[str]:
    slugs = item.get(key, [])
    if not isinstance(slugs, list) or not all(isinstance(slug, str) for slug in slugs):
        return [f"{where}: “{key}” must be a list of slugs."]
    return []


def _entries(data: dict):
    """(section, position, item) for every entry, in the order the loader reads them."""
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


def library_problems(data) -> list[str]:
    """Everything wrong with a file, each problem named by the entry's slug. Reads the
    database (for slugs and relations it may supply) but writes nothing."""
    if not isinstance(data, dict):
        return ["The file must hold one JSON object with “actors” and “notes” lists."]
    problems = [
        f"Unknown top-level key “{key}”; expected “actors” and “notes”."
        for key in data
        if key not in {section.key for section in SECTIONS}
    ]
    problems += [
        f"“{section.key}” must be a list of objects."
        for section in SECTIONS
        if not isinstance(data.get(section.key, []), list)
    ]
    valid = {section.key: [] for section in SECTIONS}  # entries whose slug and shape can be trusted
    for section, position, item in _entries(data):
        where = _where(section, position, item)
        nested = ("aliases", "sources", section.child_key, *(key for key, _ in section.relations))
        required = ["slug", section.label_field, "kind", "description"]
        found = _object_problems(
            item, where=where, fields=section.scalar_fields, required=required, nested=nested
        )
        if isinstance(item, dict):
            found += _list_problems(item, "aliases", where, _alias_problems)
            found += _list_problems(item, "sources", where, _source_problems)
            found += _list_problems(item, section.child_key, where, _child_problems(section))
            for key, _ in section.relations:
                found += _slug_list_problems(item, key, where)
        problems += found
        if isinstance(item, dict) and isinstance(item.get("slug"), str):
            valid[section.key].append((position, item))
    problems += _slug_problems(valid)
    problems += _relation_problems(valid)
    return problems


def _slug_problems(valid: dict[str, list]) -> list[str]:
    places: dict[str, list[str]] = {}
    for section in SECTIONS:
        for position, item in valid[section.key]:
            places.setdefault(item["slug"], []).append(f"{section.key}[{position + 1}]")
    problems = [
        f"{slug}: the slug is used by more than one entry ({' and '.join(where)}); actors and "
        "notes share one set of addresses."
        for slug, where in places.items()
        if len(where) > 1
    ]
    # The database holds the other kind of entry under the same address.
    for section, other in ((ACTORS, NOTES), (NOTES, ACTORS)):
        slugs = [item["slug"] for _, item in valid[section.key]]
        for slug in other.model.objects.filter(slug__in=slugs).values_list("slug", flat=True):
            problems.append(
                f"{slug}: the database already has a {other.noun} with this slug; actors and "
                "notes share one set of addresses."
            )
    return problems


def _relation_problems(valid: dict[str, list]) -> list[str]:
    known = {section.key: {item["slug"] for _, item in valid[section.key]} for section in SECTIONS}
    wanted = {section.key: set() for section in SECTIONS}
    for section in SECTIONS:
        for _, item in valid[section.key]:
            for key, target in section.relations:
                slugs = item.get(key, [])
                if isinstance(slugs, list):
                    wanted[target] |= {slug for slug in slugs if isinstance(slug, str)}
    for section in SECTIONS:
        missing = wanted[section.key] - known[section.key]
        known[section.key] |= set(
            section.model.objects.filter(slug__in=missing).values_list("slug", flat=True)
        )
    problems = []
    for section in SECTIONS:
        for position, item in valid[section.key]:
            where = _where(section, position, item)
            for key, target in section.relations:
                slugs = item.get(key, [])
                if not isinstance(slugs, list):
                    continue
                noun = next(other.noun for other in SECTIONS if other.key == target)
                problems += [
                    f"{where}: {key}: no {noun} “{slug}” in the file or the database."
                    for slug in slugs
                    if isinstance(slug, str) and slug not in known[target]
                ]
    return problems


def _complete(data: dict) -> dict:
    """The file's data with every role and update row complete and alias text spaced as it
    will be stored, so that loading it again finds nothing to change."""
    data = json.loads(json.dumps(data))
    for section, _, item in _entries(data):
        fields = _child_fields(section.child_model)
        item[section.child_key] = [
            {name: row.get(name, field.get_default()) for name, field in fields.items()}
            for row in item.get(section.child_key, [])
        ]
        for alias in item.get("aliases", []):
            alias["text"] = " ".join(alias["text"].split())
    return data


def _records() -> dict[tuple[str, str], dict]:
    library = library_export()
    return {
        (section.key, record["slug"]): record
        for section in SECTIONS
        for record in library[section.key]
    }


class Command(BaseCommand):
    help = (
        "Load a context library file (from export_context, or in the shape of "
        "explainer/demo/context_library.json). The whole file is checked first: any problem "
        "is reported and nothing is written. Entries are matched by slug; importing the same "
        "file again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The JSON file to read.")

    def handle(self, *args, path, **options):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path} is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}. Nothing was imported."
            ) from None
        with transaction.atomic():
            problems = library_problems(data)
            if problems:
                raise CommandError(
                    f"{path} has {len(problems)} problem{'s' if len(problems) != 1 else ''}; "
                    "nothing was imported:\n" + "\n".join(f"  {problem}" for problem in problems)
                )
            before = _records()
            try:
                counts = context_library_load(_complete(data))
            except (DatabaseError, ValidationError) as error:
                raise CommandError(f"Nothing was imported: {error}") from error
            after = _records()
        keys = [(section.key, item["slug"]) for section, _, item in _entries(data)]
        updated = sum(1 for key in keys if key in before and before[key] != after[key])
        unchanged = counts["updated"] - updated
        self.stdout.write(
            f"Imported {len(keys)} entries from {path}: {counts['created']} created, "
            f"{updated} updated, {unchanged} unchanged."
        )

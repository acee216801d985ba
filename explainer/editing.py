"""Admin machinery that keeps editors' work safe: no save based on a stale version, every
version kept (django-reversion), two versions compared, mentioned entries deleted with
their stories named first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass

import reversion
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import dateformat, timezone
from django.utils.formats import localize
from reversion.admin import VersionAdmin
from reversion.models import Version

from .diffing import changed, word_diff
from .models import Actor, Article, BackgroundNote, Mention
from .sanitize import html_to_text
from .services import articles_mentioning


def version_token(obj) -> str:
    return obj.updated_at.isoformat() if obj.updated_at else ""


class EditConflictForm(forms.ModelForm):
    """Carries the version an editor loaded. A save based on an older version is refused
    with what changed since; the editor's input stays in the form, and each field a
    colleague changed meanwhile is shown with their value beside the editor's and a choice
    (keep mine / take theirs) that the next save needs: nothing is overwritten unchosen."""

    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)
    # Set by ``RevisionAdmin.get_form``: the fields edited as rich text, compared as words.
    rich_text_fields: Collection[str] = frozenset()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = version_token(self.instance)
        self.edit_conflicts: list[FieldConflict] = []
        self.conflict_base = ""

    def clean(self):
        cleaned = super().clean()
        loaded = self.data.get(self.add_prefix("loaded_version"), "")
        current = version_token(self.instance) if self.instance.pk else ""
        if current and loaded != current:
            if loaded:
                message, code = conflict_message(self.instance, loaded), "stale"
                self.conflict_base = loaded
                self.edit_conflicts = self.conflicts_since(loaded, cleaned)
            else:
                # Without the version it was based on, a save could overwrite anyone's.
                message, code = NO_VERSION_MESSAGE, "no_version"
            # The next submit is based on what the editor has now seen (with a choice for
            # each field changed on both sides, which ``resolve`` requires).
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = current
            raise ValidationError(message, code=code)
        base = self.data.get(self.add_prefix(CONFLICT_BASE), "")
        if current and base:
            self.resolve(base, cleaned)
        return cleaned

    def resolve(self, base: str, cleaned: dict) -> None:
        """A save after a conflict: each field changed on both sides since ``base`` takes
        the editor's value or the colleague's, as chosen; without a choice, no save."""
        self.conflict_base = base
        self.edit_conflicts = self.conflicts_since(base, cleaned)
        unchosen = []
        for conflict in self.edit_conflicts:
            choice = self.data.get(self.add_prefix(conflict.choice_name))
            if choice == THEIRS:
                cleaned[conflict.name] = getattr(self.instance, conflict.name)
            elif choice != MINE:
                unchosen.append(str(conflict.label))
        if unchosen:
            raise ValidationError(
                "Your save was not applied: a colleague also changed "
                + ", ".join(unchosen)
                + ". For each of these fields, choose “Keep mine” or “Take theirs” "
                "(you can also edit the field by hand and keep yours), then save again.",
                code="unresolved",
            )

    def conflicts_since(self, base: str, cleaned: dict) -> list[FieldConflict]:
        """The fields a colleague changed since version ``base`` (every field, when that
        version cannot be found) and that the editor's input has otherwise."""
        version = version_for_token(self.instance, base)
        conflicts = []
        for field in self.instance._meta.concrete_fields:
            name = field.name
            if name not in self.fields or name not in cleaned or name in UNCOMPARED_FIELDS:
                continue
            theirs = field.value_from_object(self.instance)
            if version is not None and version.field_dict.get(field.attname) == theirs:
                continue  # the colleague left it as it was
            mine = cleaned[name]
            mine = getattr(mine, "pk", mine)
            if comparable(mine) == comparable(theirs):
                continue
            conflicts.append(
                FieldConflict(
                    name=name,
                    label=field.verbose_name,
                    choice_name=f"resolve_{name}",
                    choice=self.data.get(self.add_prefix(f"resolve_{name}"), ""),
                    segments=readable_diff(
                        field,
                        shown(field, theirs),
                        shown(field, mine),
                        rich=name in self.rich_text_fields,
                    ),
                    unchanged_by_you=version is not None
                    and comparable(version.field_dict.get(field.attname)) == comparable(mine),
                )
            )
        return conflicts


# Hidden in a form shown with a conflict: the version the editor had loaded before it.
CONFLICT_BASE = "conflict_base"
MINE, THEIRS = "mine", "theirs"
UNCOMPARED_FIELDS = {"updated_at", "created_at", "loaded_version"}


@dataclass(frozen=True)
class FieldConflict:
    """A field changed both by the editor and, meanwhile, by a colleague. ``segments`` is
    the word diff from the colleague's value (``delete``) to the editor's (``insert``)."""

    name: str
    label: str
    choice_name: str
    choice: str
    segments: list[tuple[str, str]]
    unchanged_by_you: bool

    @property
    def theirs(self) -> list[tuple[str, str]]:
        return [segment for segment in self.segments if segment[0] != "insert"]

    @property
    def mine(self) -> list[tuple[str, str]]:
        return [segment for segment in self.segments if segment[0] != "delete"]


def comparable(value):
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    return "" if value is None else value


def shown(field, value) -> str:
    """A field's value as an editor reads it: a choice's label, a related entry's name."""
    if value is None or value == "":
        return ""
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field.is_relation:
        related = field.related_model._default_manager.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    return str(value)


def version_for_token(obj, token: str) -> Version | None:
    """The saved version of ``obj`` whose ``updated_at`` is ``token``, if any."""
    try:
        loaded_at = dt.datetime.fromisoformat(token)
    except ValueError:
        return None
    if timezone.is_naive(loaded_at):
        return None  # not a token this form gave out
    # Versions store times to the millisecond (Django's JSON serializer).
    return next(
        (
            version
            for version in Version.objects.get_for_object(obj)
            if version.field_dict.get("updated_at")
            and abs(version.field_dict["updated_at"] - loaded_at) < dt.timedelta(milliseconds=1)
        ),
        None,
    )


NO_VERSION_MESSAGE = (
    "Your save was not applied: the form did not say which version you were editing. Your "
    "edits are still below: check them against the saved version and save again."
)


def conflict_message(current, loaded: str) -> str:
    versions = Version.objects.get_for_object(current).select_related("revision__user")
    latest = versions.first()
    who = ""
    if latest is not None and latest.revision.user is not None:
        who = f" by {latest.revision.user.get_username()}"
    when = localize(timezone.localtime(current.updated_at))
    changed = ""
    loaded_version = version_for_token(current, loaded)
    if loaded_version is not None:
        names = [
            str(field.verbose_name)
            for field in current._meta.concrete_fields
            if field.editable
            and field.name not in {"updated_at", "created_at"}
            and loaded_version.field_dict.get(field.attname) != getattr(current, field.attname)
        ]
        if names:
            changed = " Changed since: " + ", ".join(names) + "."
    label = current._meta.verbose_name
    return (
        f"This {label} was saved{who} at {when}, after you opened it, so your save was not "
        f"applied.{changed} Your edits are still below, and each field your colleague changed "
        "is shown with their version beside yours: choose which to keep (or edit the field "
        "by hand), and save again."
    )


class RevisionAdmin(VersionAdmin):
    """History, compare and restore for stories and entries (relinks are gathered into
    one job per request by ``middleware.RelinkBatchMiddleware``)."""

    object_history_template = "admin/explainer/object_history.html"
    change_form_template = "admin/explainer/edit_conflict_change_form.html"
    rich_text_fields: dict[str, str] = {}

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.rich_text_fields = frozenset(self.rich_text_fields)
        return form

    def get_object(self, request, object_id, from_field=None):
        """On a save, the row is locked first, until the admin's transaction ends: of two
        editors saving at once, the second waits for the first to commit and then reads
        its version, so the stale-version check (``EditConflictForm``) refuses it instead
        of letting it overwrite. (SQLite has no row locks; its transactions take the write
        lock as they begin, ``transaction_mode: IMMEDIATE``, which serializes them.)"""
        if request.method == "POST" and transaction.get_connection().in_atomic_block:
            lock_row(self.model, object_id)
        return super().get_object(request, object_id, from_field)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            self.ensure_initial_version(object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def ensure_initial_version(self, object_id) -> None:
        """Objects made outside the admin (imports, the demo) get a first version when an
        editor opens them, so an edit conflict can always say what changed since."""
        obj = self.model.objects.filter(pk=parse_pk(self.model, object_id)).first()
        if obj is None or Version.objects.get_for_object(obj).exists():
            return
        with reversion.create_revision(manage_manually=True):
            reversion.add_to_revision(obj)
            reversion.set_comment("Initial version")

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<path:object_id>/history/compare/",
                self.admin_site.admin_view(self.compare_view),
                name=f"{opts.app_label}_{opts.model_name}_compare",
            ),
            *super().get_urls(),
        ]

    def history_view(self, request, object_id, extra_context=None):
        versions = Version.objects.get_for_object_reference(self.model, object_id).select_related(
            "revision__user"
        )
        labelled = [(version, version_label(version)) for version in versions]
        return super().history_view(
            request, object_id, {"versions": labelled, **(extra_context or {})}
        )

    @contextmanager
    def create_revision(self, request):
        """As django-reversion's, and a restore is recorded as a revision of its own that
        says which version it brought back (django-reversion's comment gives only a time
        to the minute)."""
        with super().create_revision(request):
            yield
            restored = getattr(request, "restoring_version", None)
            if restored is not None:
                reversion.set_comment(f"Restored the version of {version_label(restored)}")

    def revision_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            request.restoring_version = (
                Version.objects.filter(pk=parse_pk(Version, version_id))
                .select_related("revision__user")
                .first()
            )
        return super().revision_view(request, object_id, version_id, extra_context)

    def compare_view(self, request, object_id):
        # An id that cannot be one ("abc", "1e3") finds nothing: a 404, as a missing one.
        obj = get_object_or_404(self.model, pk=parse_pk(self.model, object_id))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        versions = Version.objects.get_for_object(obj).select_related("revision__user")
        older = get_object_or_404(versions, pk=parse_pk(Version, request.GET.get("from")))
        newer = get_object_or_404(versions, pk=parse_pk(Version, request.GET.get("to")))
        if older.revision.date_created > newer.revision.date_created:
            older, newer = newer, older
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "object": obj,
            "title": f"Compare versions of {obj}",
            "older": older,
            "newer": newer,
            "older_label": version_label(older),
            "newer_label": version_label(newer),
            "fields": compare_fields(
                self.model, older, newer, rich_text_fields=self.rich_text_fields
            ),
            "children": compare_children(older, newer),
            "mentions": compare_mentions(older, newer) if self.model is Article else None,
            "history_url": reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_history",
                args=[obj.pk],
            ),
        }
        return TemplateResponse(request, "admin/explainer/revision_compare.html", context)


def compare_fields(
    model, older: Version, newer: Version, *, rich_text_fields: Collection[str]
) -> list[dict]:
    """Each editable field that differs, as a word-level diff (rich text compared as its
    words; long unchanged stretches left out around the changes)."""
    rows = []
    for field in model._meta.concrete_fields:
        if not field.editable or field.name in {"updated_at", "created_at"}:
            continue
        before = older.field_dict.get(field.attname)
        after = newer.field_dict.get(field.attname)
        if before == after:
            continue
        segments = readable_diff(field, before, after, rich=field.name in rich_text_fields)
        rows.append({"name": field.verbose_name, "segments": segments})
    return rows


def readable_diff(field, before, after, *, rich: bool) -> list[tuple[str, str]]:
    """A field's change as an editor reads it: rich text compared as its words (tags are
    not what a copy editor changed), with a note when only the formatting differs."""
    before = "" if before is None else str(before)
    after = "" if after is None else str(after)
    context = LONG_TEXT_CONTEXT if isinstance(field, models.TextField) else 0
    if not rich:
        return word_diff(before=before, after=after, context=context)
    segments = word_diff(before=html_to_text(before), after=html_to_text(after), context=context)
    if not changed(segments) and comparable(before) != comparable(after):
        segments.append(("note", FORMATTING_ONLY))
    return segments


FORMATTING_ONLY = "Only the formatting changed (emphasis, links, headings, lists or quotes)."


# Words (and spaces) kept either side of a change in a long text such as a story's body.
LONG_TEXT_CONTEXT = 24


def compare_children(older: Version, newer: Version) -> list[dict]:
    """Rows that belong to the object (aliases, figures...), added or removed. Mentions are
    summarized by place in the text: added, removed, or re-pointed to another entry."""

    def rows(version: Version) -> dict[str, set[str]]:
        grouped: dict[str, set[str]] = {}
        for other in version.revision.version_set.exclude(pk=version.pk):
            if other.content_type.model_class() is Mention:
                continue
            name = str(other.content_type.model_class()._meta.verbose_name_plural).capitalize()
            grouped.setdefault(name, set()).add(other.object_repr)
        return grouped

    before, after = rows(older), rows(newer)
    return [
        {
            "name": name,
            "added": sorted(after.get(name, set()) - before.get(name, set())),
            "removed": sorted(before.get(name, set()) - after.get(name, set())),
        }
        for name in sorted(set(before) | set(after))
        if after.get(name, set()) != before.get(name, set())
    ]


def compare_mentions(older: Version, newer: Version) -> dict | None:
    """Mentions of the two versions matched by place, (quote, start): those only in the
    newer (added), only in the older (removed), and at one place but pointing to another
    entry (re-pointed). None when the mentions are the same."""
    before, after = mention_places(older), mention_places(newer)
    names = entry_names({*before.values(), *after.values()})

    def label(place: tuple[str, int | None], entry: tuple[str, int | None]) -> str:
        return f"“{place[0]}” → {names.get(entry, 'no entry')}"

    added = [label(place, after[place]) for place in sorted(after.keys() - before.keys(), key=_at)]
    removed = [
        label(place, before[place]) for place in sorted(before.keys() - after.keys(), key=_at)
    ]
    repointed = [
        f"“{place[0]}”: {names.get(before[place], 'no entry')} → "
        f"{names.get(after[place], 'no entry')}"
        for place in sorted(before.keys() & after.keys(), key=_at)
        if before[place] != after[place]
    ]
    if not (added or removed or repointed):
        return None
    return {"added": added, "removed": removed, "repointed": repointed}


def _at(place: tuple[str, int | None]) -> tuple[int, str]:
    return (-1 if place[1] is None else place[1], place[0])


def mention_places(version: Version) -> dict[tuple[str, int | None], tuple[str, int | None]]:
    places = {}
    for other in version.revision.version_set.exclude(pk=version.pk):
        if other.content_type.model_class() is not Mention:
            continue
        fields = other.field_dict
        if str(fields.get("article_id")) != str(version.object_id):
            continue
        if fields.get("actor_id") is not None:
            entry = ("actor", fields["actor_id"])
        else:
            entry = ("note", fields.get("note_id"))
        places[(fields.get("quote", ""), fields.get("start"))] = entry
    return places


def entry_names(entries: set[tuple[str, int | None]]) -> dict[tuple[str, int | None], str]:
    names: dict[tuple[str, int | None], str] = {}
    for kind, model, field in (("actor", Actor, "name"), ("note", BackgroundNote, "title")):
        pks = [pk for entry_kind, pk in entries if entry_kind == kind and pk is not None]
        for pk, name in model.objects.filter(pk__in=pks).values_list("pk", field):
            names[(kind, pk)] = name
    return names


def version_label(version: Version) -> str:
    """When a version was saved, to the second, and by whom: "2 December 2026, 21:14:05 by
    alice" (two saves in one minute read differently)."""
    when = dateformat.format(timezone.localtime(version.revision.date_created), "j F Y, H:i:s")
    user = version.revision.user
    return f"{when} by {user.get_username()}" if user is not None else when


def parse_pk(model, value):
    """``value`` (from an address or a parameter) as a primary key of ``model``, or None
    when it cannot be one: "abc", "1e3", NUL."""
    try:
        return model._meta.pk.to_python(value)
    except ValidationError:
        return None


def lock_row(model, object_id) -> None:
    pk = parse_pk(model, object_id)
    if pk is None:
        return  # not an id at all: the admin answers for it
    list(model._default_manager.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def stories_mentioning_for_delete(obj) -> list[Article]:
    return list(
        Article.objects.filter(pk__in=articles_mentioning(obj)).only(
            "headline", "slug", "status", "published_at"
        )
    )

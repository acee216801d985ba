"""Admin machinery that keeps editors' work safe: no save based on a stale version, every
version kept (django-reversion), two versions compared, mentioned entries deleted with
their stories named first."""

from __future__ import annotations

import datetime as dt
import difflib

import reversion
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import localize
from reversion.admin import VersionAdmin
from reversion.models import Version

from .models import Article
from .services import articles_mentioning


def version_token(obj) -> str:
    return obj.updated_at.isoformat() if obj.updated_at else ""


class EditConflictForm(forms.ModelForm):
    """Carries the version an editor loaded. A save based on an older version is refused
    with what changed since; the editor's input stays in the form to merge and resubmit."""

    loaded_version = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["loaded_version"].initial = version_token(self.instance)

    def clean(self):
        cleaned = super().clean()
        loaded = self.data.get(self.add_prefix("loaded_version"), "")
        current = version_token(self.instance) if self.instance.pk else ""
        if current and loaded != current:
            if loaded:
                message, code = conflict_message(self.instance, loaded), "stale"
            else:
                # Without the version it was based on, a save could overwrite anyone's.
                message, code = NO_VERSION_MESSAGE, "no_version"
            # The next submit is based on what the editor has now seen: let it through.
            self.data = self.data.copy()
            self.data[self.add_prefix("loaded_version")] = current
            raise ValidationError(message, code=code)
        return cleaned


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
    try:
        loaded_at = dt.datetime.fromisoformat(loaded)
    except ValueError:
        loaded_at = None
    # Versions store times to the millisecond (Django's JSON serializer).
    loaded_version = next(
        (
            version
            for version in versions
            if loaded_at is not None
            and version.field_dict.get("updated_at")
            and abs(version.field_dict["updated_at"] - loaded_at) < dt.timedelta(milliseconds=1)
        ),
        None,
    )
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
        f"applied.{changed} Your edits are still below: compare them with the saved version "
        "(open it in another tab or see its history), merge, and save again."
    )


class RevisionAdmin(VersionAdmin):
    """History, compare and restore for stories and entries (relinks are gathered into
    one job per request by ``middleware.RelinkBatchMiddleware``)."""

    object_history_template = "admin/explainer/object_history.html"

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
        return super().history_view(
            request, object_id, {"versions": versions, **(extra_context or {})}
        )

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
            "fields": compare_fields(self.model, older, newer),
            "children": compare_children(older, newer),
            "history_url": reverse(
                f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_history",
                args=[obj.pk],
            ),
        }
        return TemplateResponse(request, "admin/explainer/revision_compare.html", context)


def compare_fields(model, older: Version, newer: Version) -> list[dict]:
    """Each editable field that differs, with a line diff for long text."""
    rows = []
    for field in model._meta.concrete_fields:
        if not field.editable or field.name in {"updated_at", "created_at"}:
            continue
        before = older.field_dict.get(field.attname)
        after = newer.field_dict.get(field.attname)
        if before == after:
            continue
        before_text, after_text = str(before or ""), str(after or "")
        diff = list(
            difflib.unified_diff(
                before_text.splitlines(), after_text.splitlines(), lineterm="", n=1
            )
        )[2:]
        rows.append(
            {"name": field.verbose_name, "before": before_text, "after": after_text, "diff": diff}
        )
    return rows


def compare_children(older: Version, newer: Version) -> list[dict]:
    """Rows that belong to the object (aliases, figures, mentions...), added or removed."""

    def rows(version: Version) -> dict[str, set[str]]:
        grouped: dict[str, set[str]] = {}
        for other in version.revision.version_set.exclude(pk=version.pk):
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

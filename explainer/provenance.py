"""What an import last wrote, and whether an editor has changed it since, so that imports
never overwrite an editor's work silently. A story or entry keeps a digest of the content
its last import wrote (``import_digest``, ``imported_at``); content that no longer matches
was changed by someone else. Both fields are versioned with the row, so restoring the
imported version in the admin makes it "as imported" again, and restoring an editor's
version makes it "edited" again."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable

import reversion
from django.db import models
from django.utils import dateformat, timezone
from reversion.models import Version


def record_digest(record: dict) -> str:
    """A fingerprint of plain values (what an import writes, as ``library_file`` or
    ``services.article_record`` reads it back from the database)."""
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def editor_versions(obj: models.Model):
    """The versions an editor saved (in the admin): imports and the demo save none."""
    return (
        Version.objects.get_for_object(obj)
        .filter(revision__user__isnull=False)
        .select_related("revision__user")
    )


def edited_since_import(obj: models.Model, *, record: dict) -> bool:
    """Whether ``obj``, whose content is now ``record``, differs from what its last import
    wrote. A row no import has recorded (made in the admin, or imported before imports
    kept a digest) counts as edited once an editor has saved it."""
    if obj.import_digest:
        return record_digest(record) != obj.import_digest
    return getattr(obj, "last_edited_by_id", None) is not None or editor_versions(obj).exists()


def last_editor(obj: models.Model) -> str:
    user = getattr(obj, "last_edited_by", None)
    if user is None:
        version = editor_versions(obj).first()
        user = version.revision.user if version is not None else None
    return user.get_username() if user is not None else ""


def _when(moment: dt.datetime) -> str:
    return dateformat.format(timezone.localtime(moment), "j F Y, H:i:s")


def skip_reason(obj: models.Model, *, changed: Iterable[str]) -> str:
    """Why an import left ``obj`` alone: "edited since its last import on 3 December 2026,
    05:50:12 by alice (standfirst, body differ from the file); use --force to overwrite"."""
    who = last_editor(obj)
    by = f" by {who}" if who else ""
    if obj.imported_at is not None:
        edited = f"edited since its last import on {_when(obj.imported_at)}{by}"
    else:
        edited = f"edited{by} and never imported since"
    changed = list(changed)
    differs = f" ({', '.join(changed)} differ{'s' if len(changed) == 1 else ''} from the file)"
    return f"{edited}{differs if changed else ''}; use --force to overwrite"


def version_is_current(obj: models.Model) -> bool:
    """Whether the latest version in the admin's History is the row as it is now."""
    latest = Version.objects.get_for_object(obj).first()
    if latest is None:
        return False
    saved = latest.field_dict
    # Versions keep times to the millisecond.
    updated = saved.get("updated_at")
    if updated is None or abs(updated - obj.updated_at) >= dt.timedelta(milliseconds=1):
        return False
    return all(
        saved.get(model_field.attname) == getattr(obj, model_field.attname)
        for model_field in obj._meta.concrete_fields
        if model_field.editable and not model_field.primary_key
    )


def keep_in_history(objs: Iterable[models.Model], *, comment: str) -> None:
    """Record, as a revision of its own, each row whose current content History does not
    hold yet (edited outside the admin): a forced import must leave the editor's version
    restorable."""
    missing = [obj for obj in objs if not version_is_current(obj)]
    if not missing:
        return
    with reversion.create_revision(manage_manually=True):
        for obj in missing:
            reversion.add_to_revision(obj)
        reversion.set_comment(comment)


def mark_imported(obj: models.Model, *, record: dict) -> None:
    """Note on ``obj`` that an import has just written ``record``. Written with an update,
    so that it neither moves ``updated_at`` nor sends signals."""
    obj.import_digest = record_digest(record)
    obj.imported_at = timezone.now()
    values = {"import_digest": obj.import_digest, "imported_at": obj.imported_at}
    if hasattr(obj, "last_edited_by_id"):
        # The admin then says "last edited … by import".
        obj.last_edited_by = None
        values["last_edited_by"] = None
    type(obj).objects.filter(pk=obj.pk).update(**values)

"""The public card API's data shape (documented in docs/api.md)."""

from __future__ import annotations

import datetime as dt

from .addresses import absolute_url
from .entries import context_on
from .models import Actor, ContextEntry
from .sanitize import html_to_text


def entry_data(request, entry: ContextEntry, *, parts: dict, day: dt.date | None) -> dict:
    is_actor = isinstance(entry, Actor)
    image = None
    if is_actor and entry.image:
        image = {
            "url": absolute_url(request, entry.image.url),
            "alt": entry.image_alt,
            "credit": entry.image_credit,
        }
    data = {
        "slug": entry.slug,
        "type": "actor" if is_actor else "background_note",
        "kind": entry.kind,
        "kind_label": entry.get_kind_display(),
        "title": entry.label,
        "description": entry.description,
        "summary_html": entry.summary_html,
        "summary_text": html_to_text(entry.summary_html),
        "image": image,
        "wikidata_id": getattr(entry, "wikidata_id", "") or None,
        "url": absolute_url(request, entry.get_absolute_url()),
        "reviewed_on": entry.reviewed_on.isoformat() if entry.reviewed_on else None,
        "related": [
            {"title": other.label, "slug": other.slug, "kind": other.kind}
            for other in [*parts["involved"], *parts["related"]]
        ],
        "sources": [
            {
                "publisher": source.label,
                "title": source.title or None,
                "published_on": source.published_on or None,
                "url": source.url,
            }
            for source in parts["sources"]
        ],
    }
    if is_actor:
        data["roles"] = [
            {
                "title": role.label,
                "starts_on": role.starts_on or None,
                "ends_on": role.ends_on or None,
                "succeeded_by": role.succeeded_by or None,
            }
            for role in parts["roles"]
        ]
    else:
        data["starts_on"] = entry.starts_on or None
        data["ends_on"] = entry.ends_on or None
    if day is not None:
        context = context_on(entry, day, parts)
        data["as_of"] = {
            "date": day.isoformat(),
            "role": context.line if context.is_role_then else None,
            "period": context.period or None,
            "description": context.line,
            "since_then": context.since_then,
        }
    return data

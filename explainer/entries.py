"""Reading context entries for their pages, cards and the API: what they say on a story's
date, and the related rows, cached under keys versioned by the entry's ``updated_at``
(which any change to its aliases, sources, roles, updates or relations bumps)."""

from __future__ import annotations

import datetime as dt
import re

from django.core.cache import cache
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Actor, Article, BackgroundNote, ContextEntry

DAY_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PARTS_TIMEOUT = 60 * 60 * 24


class BadDate(ValueError):
    """A date parameter that is not a real YYYY-MM-DD date."""


def parse_day(value: str | None) -> dt.date | None:
    if value is None or value == "":
        return None
    if not DAY_FORMAT.match(value):
        raise BadDate(f"“{value[:40]}” is not a date in YYYY-MM-DD form.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise BadDate(f"{value} is not a date in the calendar.") from None


def entry_or_404(model: type[ContextEntry], slug: str) -> ContextEntry:
    """The entry, with how many published stories mention it, in one query."""
    published = Q(
        mentions__is_suppressed=False,
        mentions__article__status=Article.Status.PUBLISHED,
        mentions__article__published_at__lte=timezone.now(),
    )
    queryset = model.objects.annotate(
        story_count=Count("mentions__article", filter=published, distinct=True)
    )
    return get_object_or_404(queryset, slug=slug)


def find_entry(slug: str) -> ContextEntry | None:
    for model in (Actor, BackgroundNote):
        entry = model.objects.filter(slug=slug).first()
        if entry is not None:
            return entry
    return None


def _cached(entry: ContextEntry, name: str, build):
    key = f"entry-{name}:v1:{entry.entry_key}:{entry.updated_at.timestamp()}"
    value = cache.get(key)
    if value is None:
        value = build()
        cache.set(key, value, PARTS_TIMEOUT)
    return value


def card_parts(entry: ContextEntry) -> dict:
    """What a card needs beyond the entry row: roles or dated updates, and relations."""

    def build():
        if isinstance(entry, Actor):
            return {
                "roles": list(entry.roles.all()),
                "updates": [],
                "involved": [],
                "related": list(entry.notes.order_by("starts_on", "title")),
            }
        return {
            "roles": [],
            "updates": list(entry.updates.all()),
            "involved": list(entry.actors.order_by("name")),
            "related": list(entry.related_notes.order_by("starts_on", "title")),
        }

    return _cached(entry, "card", build)


def page_parts(entry: ContextEntry) -> dict:
    """What the full page adds: other spellings and sources."""

    def build():
        return {
            "aliases": [a.text for a in entry.aliases.all() if a.text != entry.label],
            "sources": list(entry.sources.all()),
        }

    return _cached(entry, "page", build)


def context_on(entry: ContextEntry, day: dt.date | None, parts: dict):
    if isinstance(entry, Actor):
        return entry.context_on(day, roles=parts["roles"])
    return entry.context_on(day, updates=parts["updates"])


def stories_mentioning(entry: ContextEntry):
    return (
        Article.objects.published()
        .filter(**{f"mentions__{entry.entry_field}": entry}, mentions__is_suppressed=False)
        .distinct()
        .only("headline", "slug", "dek", "published_at", "outlet")
    )

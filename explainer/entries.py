"""Reading context entries for their pages, cards and the API: what they say on a story's
date (the related rows come from the entry's snapshot: ``snapshots.card_parts``)."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .models import Actor, Article, BackgroundNote, ContextEntry

DAY_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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


def entry_or_404(
    model: type[ContextEntry], slug: str, *, include_unpublished: bool = False
) -> ContextEntry:
    """The entry, with how many published stories mention it, in one query."""
    published = Q(
        mentions__is_suppressed=False,
        mentions__article__status=Article.Status.PUBLISHED,
        mentions__article__published_at__lte=timezone.now(),
    )
    queryset = model.objects.all() if include_unpublished else model.objects.published()
    queryset = queryset.annotate(
        story_count=Count("mentions__article", filter=published, distinct=True)
    )
    return get_object_or_404(queryset, slug=slug)


def find_entry(slug: str) -> ContextEntry | None:
    for model in (Actor, BackgroundNote):
        entry = model.objects.published().filter(slug=slug).first()
        if entry is not None:
            return entry
    return None


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

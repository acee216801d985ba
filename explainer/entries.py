"""Reading context entries for their pages, cards and the API: what they say on a story's
date (the related rows come from the entry's snapshot: ``snapshots.card_parts``)."""

from __future__ import annotations

import datetime as dt
import re

from django.db.models import Count, Exists, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from .excerpts import sentences_within
from .models import Actor, Article, BackgroundNote, ContextEntry, EntryContext

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
    """The entry, with how many published stories mention it and whether the site has
    published more than one story (``site_has_other_stories``), in one query."""
    published = Q(
        mentions__is_suppressed=False,
        mentions__article__status=Article.Status.PUBLISHED,
        mentions__article__published_at__lte=timezone.now(),
    )
    queryset = model.objects.all() if include_unpublished else model.objects.published()
    queryset = queryset.annotate(
        story_count=Count("mentions__article", filter=published, distinct=True),
        # A second published story, whichever: reads at most two rows, not every story.
        site_has_other_stories=Exists(Article.objects.published().order_by()[1:2]),
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


# What a card holds beside its name, kind line, sources and links, at its narrowest (the
# 24rem card, 14 px text, in a wide font such as DejaVu Sans): the summary gets the lines
# the dated lines leave it. tests/test_browser_card_fit.py holds every demo card to it.
CARD_LINES = 10
CARD_LINE_CHARS = 44
CARD_SUMMARY_MIN_LINES = 3


def _lines(text: str) -> int:
    return -(-len(text) // CARD_LINE_CHARS)


def card_summary_html(entry: ContextEntry, as_of: EntryContext) -> str:
    """The summary as the card shows it: the whole sentences that fit beside its other
    lines (``excerpts.sentences_within``)."""
    if as_of.is_role_then:
        lines = [f"On {as_of.day:%d %B %Y}: {as_of.line} ({as_of.period})"]
    else:
        lines = [entry.description or as_of.line]
    if as_of.since_then:
        lines.append("Since then: " + " ".join(as_of.since_then))
    # The kind line is one line of the card's frame; a long date range wraps it.
    kind_line = f"{entry.get_kind_display()} · {getattr(entry, 'date_range', '')}"
    used = sum(_lines(line) for line in lines) + _lines(kind_line) - 1
    room = max(CARD_LINES - used, CARD_SUMMARY_MIN_LINES)
    return sentences_within(entry.summary_html, max_chars=room * CARD_LINE_CHARS)

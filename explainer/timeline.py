""" "How we got here": the dated background a story mentions, and what led to it, in order.
Pure: takes entries and updates already loaded, returns plain items."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .dates import first_day, format_partial_date


@dataclass(frozen=True)
class TimelineItem:
    date: str  # partial ISO date: "2003-08"
    text: str
    url: str
    mentioned: bool  # the story itself mentions this entry

    @property
    def when(self) -> str:
        return format_partial_date(self.date)

    @property
    def year(self) -> str:
        return self.date[:4]


def story_timeline(*, mentioned: list, related: list, updates: list, until: dt.date) -> list:
    """Dated notes the story mentions, the notes related to them, and the dated updates of
    the mentioned ones, up to and including ``until`` (the story's date), oldest first."""
    items: dict[tuple[str, str], TimelineItem] = {}

    def add(date: str, text: str, url: str, is_mentioned: bool) -> None:
        if date and first_day(date) <= until:
            items.setdefault((date, text), TimelineItem(date, text, url, is_mentioned))

    for note in mentioned:
        add(note.starts_on, note.title, note.get_absolute_url(), True)
    for note in related:
        add(note.starts_on, note.title, note.get_absolute_url(), False)
    for update in updates:
        add(update.happened_on, update.text, update.note.get_absolute_url(), False)
    return sorted(items.values(), key=lambda item: (first_day(item.date), item.date, item.text))

""" "How we got here": the dated background a story mentions, and what led to it, in order,
one item per event, the story itself last. Pure: takes entries and updates already loaded,
returns plain items."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from .dates import first_day, format_partial_date, last_day

# Items a story shows at first; the rest are one "Show all" away.
SHOWN_ITEMS = 12


@dataclass(frozen=True)
class TimelineLink:
    text: str
    url: str
    detail: str = ""  # what the note's own update of the same day adds: "The first round opens"


@dataclass(frozen=True)
class TimelineItem:
    """One event: its date, the entry that tells it (``links[0]``) and any other entry
    dated the same day; ``is_story`` when it is the story's own day."""

    date: str  # partial ISO date: "2003-08"
    links: tuple[TimelineLink, ...]
    mentioned: bool  # the story itself mentions the first entry
    is_story: bool = False

    @property
    def when(self) -> str:
        return format_partial_date(self.date)

    @property
    def year(self) -> str:
        return self.date[:4]

    @property
    def text(self) -> str:
        return self.links[0].text if self.links else ""

    @property
    def url(self) -> str:
        return self.links[0].url if self.links else ""


@dataclass(frozen=True)
class Timeline:
    """The items a story shows at first (the latest, leading to it) and those before."""

    earlier: list[TimelineItem]
    shown: list[TimelineItem]

    @property
    def items(self) -> list[TimelineItem]:
        return [*self.earlier, *self.shown]

    def __bool__(self) -> bool:
        return bool(self.shown)

    def __len__(self) -> int:
        return len(self.earlier) + len(self.shown)


# A note that lasts at most this long is one event: its updates in that time are its own.
EVENT_DAYS = 7


def _part_of(day: str, note) -> bool:
    """Whether ``day`` is within the note's own event: in its start period at that period's
    precision ("2003-08-27" is within "2003-08"), or between its start and end when it
    lasted a few days (a two-day summit)."""
    start, end = note.starts_on, getattr(note, "ends_on", "") or ""
    if day.startswith(start) and len(day) >= len(start):
        return True
    if not end or (last_day(end) - first_day(start)).days > EVENT_DAYS:
        return False
    return first_day(start) <= first_day(day) and last_day(day) <= last_day(end)


def _events(*, mentioned: list, related: list, updates: list, until: dt.date) -> list:
    """Each dated note once (mentioned first), with the updates that are part of its own
    event merged in (``_part_of``: the day a note starts, told in more detail); then the
    other updates, each its own event."""
    events: list[TimelineItem] = []
    by_url: dict[str, int] = {}
    notes_by_url: dict[str, object] = {}
    for notes, is_mentioned in ((mentioned, True), (related, False)):
        for note in notes:
            url = note.get_absolute_url()
            if note.starts_on and first_day(note.starts_on) <= until and url not in by_url:
                by_url[url] = len(events)
                notes_by_url[url] = note
                link = TimelineLink(note.title, url)
                events.append(TimelineItem(note.starts_on, (link,), is_mentioned))
    seen: set[tuple[str, str]] = set()
    for update in updates:
        date, url = update.happened_on, update.note.get_absolute_url()
        if not date or first_day(date) > until or (date, update.text) in seen:
            continue
        seen.add((date, update.text))
        own = by_url.get(url)
        if own is not None and _part_of(date, notes_by_url[url]):
            event = events[own]
            link = event.links[0]
            detail = f"{link.detail} {update.text}".strip()
            # An update in the start period gives the event's more exact date.
            exact = len(date) > len(event.date) and date.startswith(event.date)
            events[own] = replace(
                event, date=date if exact else event.date, links=(replace(link, detail=detail),)
            )
        else:
            events.append(TimelineItem(date, (TimelineLink(update.text, url),), False))
    return events


def _one_per_day(events: list, until: dt.date) -> list:
    """Events on the same known day made one item, led by a note the story mentions, else
    by a note rather than another note's update; and the story's own day marked."""
    by_day: dict[str, list[TimelineItem]] = {}
    for event in events:
        by_day.setdefault(event.date, []).append(event)
    story_day = until.isoformat()
    items = []
    for date, group in by_day.items():
        if len(date) < 10:  # known to the month or year: not known to be the same event
            items.extend(group)
            continue
        # Stable: notes came before updates, so after the mentioned notes come the others.
        group.sort(key=lambda event: not event.mentioned)
        links = tuple(link for event in group for link in event.links)
        unique = tuple({link.url + link.text: link for link in links}.values())
        items.append(replace(group[0], links=unique, is_story=date == story_day))
    if story_day not in by_day:
        items.append(TimelineItem(story_day, (), False, is_story=True))
    return sorted(items, key=lambda item: (first_day(item.date), item.date, item.is_story))


def story_timeline(
    *, mentioned: list, related: list, updates: list, until: dt.date, shown: int = SHOWN_ITEMS
) -> Timeline:
    """Dated notes the story mentions, the notes related to them, and the dated updates of
    the mentioned ones, up to and including ``until`` (the story's date), oldest first, one
    item per event, ending on the story's own day; the last ``shown`` items shown at first.
    Empty when nothing is dated but the story."""
    events = _events(mentioned=mentioned, related=related, updates=updates, until=until)
    if not events:
        return Timeline(earlier=[], shown=[])
    items = _one_per_day(events, until)
    return Timeline(earlier=items[:-shown], shown=items[-shown:])

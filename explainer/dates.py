"""Dates known to the year, the month or the day ("2003", "2003-08", "2003-08-27"), and
what was true on a given day. Pure functions: no database."""

from __future__ import annotations

import calendar
import datetime as dt


def format_partial_date(value: str) -> str:
    """ "2003" -> "2003"; "2003-08" -> "August 2003"; "2003-08-27" -> "27 August 2003"."""
    if not value:
        return ""
    parts = [int(part) for part in value.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return dt.date(parts[0], parts[1], 1).strftime("%B %Y")
    day = dt.date(*parts)
    return f"{day.day} {day.strftime('%B %Y')}"


def when_phrase(value: str) -> str:
    """ "on 27 August 2003" for a known day; "in August 2003" or "in 2003" otherwise."""
    preposition = "on" if value.count("-") == 2 else "in"
    return f"{preposition} {format_partial_date(value)}"


def first_day(value: str) -> dt.date:
    parts = [int(part) for part in value.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def last_day(value: str) -> dt.date:
    parts = [int(part) for part in value.split("-")]
    if len(parts) == 1:
        return dt.date(parts[0], 12, 31)
    if len(parts) == 2:
        return dt.date(parts[0], parts[1], calendar.monthrange(parts[0], parts[1])[1])
    return dt.date(*parts)


def period_covers(*, starts_on: str, ends_on: str, day: dt.date) -> bool:
    """Whether a period that may be open at either end includes ``day``. A date known only
    to the month or year counts as covering all of it: a role "from 2016-05" held on
    3 May 2016 as far as a reader can tell."""
    if starts_on and first_day(starts_on) > day:
        return False
    return not (ends_on and last_day(ends_on) < day)


def starts_after(value: str, day: dt.date) -> bool:
    return bool(value) and first_day(value) > day


def year_range(starts_on: str, ends_on: str) -> str:
    """ "2016–2020", "since 2016", "until 2020" or ""."""
    start, end = starts_on[:4], ends_on[:4]
    if start and end:
        return start if start == end else f"{start}–{end}"
    if start:
        return f"since {start}"
    return f"until {end}" if end else ""

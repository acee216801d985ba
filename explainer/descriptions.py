"""An actor's one-line description checked against its dated roles.

Editors write the line by hand ("North Korean diplomat; foreign minister from 2016 to 2020")
and the roles in the inline below it. When the two disagree, a card shows both, and the
reader cannot tell which is true. This finds the periods the line gives for a title the roles
also name, and says where they disagree:

- "since 2016" says the role is still held, so the role must have no end;
- "from 2016" gives the start year only (a later "and … from 2019" may say what came next);
- "from 2016 to 2020" or "from 1994 until his death in 2011" gives both years.

A title the roles don't name, or a period given with no title, is not checked.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

# "from May 2016", "since 2016", "from 2016 to 2020", "from 1994 until his death in 2011".
PERIOD = re.compile(
    r"\b(?P<kind>from|since)\s+(?:[A-Za-z]+\s+){0,2}?(?P<start>\d{4})"
    r"(?:\s+(?:to|until)\s+(?:[^\d;]{0,40}?)(?P<end>\d{4}))?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RoleHeld:
    title: str
    other_titles: tuple[str, ...]
    starts_on: str
    ends_on: str

    @property
    def start_year(self) -> str:
        return self.starts_on[:4]

    @property
    def end_year(self) -> str:
        return self.ends_on[:4]


@dataclass(frozen=True)
class Period:
    since: bool
    start: str
    end: str


def _title_spans(description: str, roles: Sequence[RoleHeld]) -> list[tuple[int, int, str]]:
    """Where the description names a role's title: (start, end, title), longest first, so
    "first vice foreign minister" is not also read as "vice foreign minister"."""
    spans: list[tuple[int, int, str]] = []
    names = {
        name.casefold(): role.title
        for role in roles
        for name in (role.title, *role.other_titles)
        if name.strip()
    }
    taken: list[tuple[int, int]] = []
    for name in sorted(names, key=len, reverse=True):
        for found in re.finditer(rf"\b{re.escape(name)}\b", description.casefold()):
            start, end = found.span()
            if any(start < other_end and other_start < end for other_start, other_end in taken):
                continue
            taken.append((start, end))
            spans.append((start, end, names[name]))
    return sorted(spans)


def periods_by_title(*, description: str, roles: Sequence[RoleHeld]) -> list[tuple[str, Period]]:
    """The periods the description gives, each with the title it follows. A clause (up to the
    next title or semicolon) belongs to the title that opens it."""
    spans = _title_spans(description, roles)
    found: list[tuple[str, Period]] = []
    for index, (_, end, title) in enumerate(spans):
        stop = spans[index + 1][0] if index + 1 < len(spans) else len(description)
        clause = description[end:stop].split(";", 1)[0]
        for match in PERIOD.finditer(clause):
            found.append(
                (
                    title,
                    Period(
                        since=match["kind"].lower() == "since",
                        start=match["start"],
                        end=match["end"] or "",
                    ),
                )
            )
    return found


def description_contradictions(*, description: str, roles: Sequence[RoleHeld]) -> list[str]:
    """What the description says about a role that the dated roles contradict, in words an
    editor can act on. Empty when they agree."""
    problems: list[str] = []
    for title, period in periods_by_title(description=description, roles=roles):
        held = [role for role in roles if role.title == title]
        starting = [role for role in held if role.start_year == period.start]
        if not starting:
            years = ", ".join(role.start_year for role in held if role.start_year) or "no year"
            problems.append(
                f"The description says {title} from {period.start}, but the roles give "
                f"{title} from {years}."
            )
            continue
        if period.end and not any(role.end_year == period.end for role in starting):
            ends = ", ".join(role.end_year or "no end" for role in starting)
            problems.append(
                f"The description says {title} until {period.end}, but the role ends: {ends}."
            )
        if period.since and all(role.ends_on for role in starting):
            problems.append(
                f"The description says {title} since {period.start}, as if still held, but "
                f"the role ended in {starting[0].ends_on}."
            )
    return problems

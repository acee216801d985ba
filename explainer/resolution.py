"""Which entry a name in a story means, read in the story's context. Pure functions.

The matcher (``linking.Matcher``) finds phrases. A phrase may be several entries' ("Kim"
is seven people's), a short form that names an entry only in context ("Kim", "김", "the
North"), or a role's phrase that names whoever held the role ("the secretary of state").
Resolution reads a story the way newsrooms write one, full name on first reference and
surname or title and surname after, and decides each phrase in reading order:

1. A phrase that runs on into a longer name ("Kim" in "Kim Jong-nam") names someone else.
2. A short form with a title ("President Moon", "Vice Chairman Kim", "김 위원장") names the
   candidate who held that title on the story's date; an event's short form ("the
   summit") names the event under way on the story's date.
3. A role's phrase names the role's holder on the story's date.
4. A full form names its entry.
5. Otherwise (a short form, or a full form several entries share) the phrase names the
   candidate whose full form came most recently before it, on its own or inside a longer
   linked name ("North Korea" in "UN sanctions on North Korea"). When the two most recent
   candidates were both last named in one paragraph, nobody can tell which is meant.

Whatever stays unresolved is not linked: a wrong card misleads a reader, a missing one
does not. It goes to the editor with its candidates and the reason.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .dates import format_partial_date, period_covers
from .linking import Hit, fold, is_hangul, is_word_char, particle_follows

# Words that make a title someone else's: "Vice Chairman Kim" is not Chairman Kim, and
# "former President Moon" is not the president on the story's date.
TITLE_MODIFIERS = frozenset(
    [
        "vice",
        "deputy",
        "former",
        "ex",
        "first",
        "acting",
        "late",
        "assistant",
        "under",
        "associate",
        "senior",
    ]
)
_WORDS = re.compile(r"\w+")
# How far before or after a surname a title is looked for, in characters.
_TITLE_REACH = 60


@dataclass(frozen=True, slots=True)
class RoleTitle:
    """A title an entry held for a while, as stories write it beside a surname."""

    target: str
    forms: tuple[str, ...]
    starts_on: str
    ends_on: str
    label: str


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one phrase names, or why it names nobody for sure; ``reason`` is for editors."""

    start: int
    end: int
    target: str | None
    reason: str
    candidates: tuple[str, ...] = ()
    longer_name: str = ""
    # Whether this mention establishes the entry for the short forms after it.
    names_in_full: bool = False
    # A title standing before a name: nothing for an editor to decide.
    is_title: bool = False

    @property
    def is_ambiguous(self) -> bool:
        return self.target is None and len(self.candidates) > 1


def is_han(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def _on(day: dt.date) -> str:
    return format_partial_date(day.isoformat())


def _title_before(text: str, start: int, form: str) -> int | None:
    """Where ``form`` starts if it stands right before ``start`` as a title of the name
    there ("President Moon"), unless a modifier makes it another title."""
    before = fold(text[max(0, start - _TITLE_REACH) : start])
    offset = start - len(before)
    stripped = before.rstrip()
    if len(stripped) == len(before) or not stripped.endswith(form):
        return None
    title_start = len(stripped) - len(form)
    if title_start > 0 and is_word_char(stripped[title_start - 1]):
        return None
    words = _WORDS.findall(stripped[:title_start])
    if words and words[-1] in TITLE_MODIFIERS:
        return None
    return offset + title_start


def _title_after(text: str, end: int, form: str) -> int | None:
    """Where ``form`` ends if it follows a Korean or Hanja surname at ``end`` as its title
    ("김 위원장은", "文대통령"), particles allowed after it."""
    after = fold(text[end : end + _TITLE_REACH])
    gap = len(after) - len(after.lstrip(" "))
    if gap > 1 or not after[gap:].startswith(form):
        return None
    title_end = end + gap + len(form)
    runs_on = title_end < len(text) and is_word_char(text[title_end]) and is_word_char(form[-1])
    if runs_on and not (is_hangul(form[-1]) and particle_follows(text, title_end)):
        return None
    return title_end


@dataclass(frozen=True, slots=True)
class _Titled:
    target: str
    start: int
    end: int
    label: str


def _titled(
    hit: Hit, text: str, *, day: dt.date, titles: Mapping[str, Sequence[RoleTitle]]
) -> list[_Titled]:
    """The candidates of a short form that a title beside it fits on ``day``."""
    found: list[_Titled] = []
    after_surname = bool(text[hit.end - 1 : hit.end]) and (
        is_hangul(text[hit.end - 1]) or is_han(text[hit.end - 1])
    )
    for target in hit.targets:
        for role in titles.get(target, ()):
            if not period_covers(starts_on=role.starts_on, ends_on=role.ends_on, day=day):
                continue
            for form in role.forms:
                folded = " ".join(fold(form).split())
                if after_surname:
                    title_end = _title_after(text, hit.end, folded)
                    if title_end is not None:
                        found.append(_Titled(target, hit.start, title_end, role.label))
                        break
                title_start = _title_before(text, hit.start, folded)
                if title_start is not None:
                    found.append(_Titled(target, title_start, hit.end, role.label))
                    break
    return found


def resolve(
    hits: Sequence[Hit],
    *,
    text: str,
    day: dt.date,
    titles: Mapping[str, Sequence[RoleTitle]],
    paragraph_of: Callable[[int], int],
) -> list[Resolution]:
    """Each hit resolved in reading order (see the module's rules). ``text`` is the
    article text the hits' offsets point into; ``titles`` holds each entry's titles."""
    named: dict[str, int] = {}  # each entry's latest full mention, by start
    resolutions: list[Resolution] = []
    for hit in sorted(hits, key=lambda hit: hit.start):
        resolution = _resolve_one(
            hit, text=text, day=day, titles=titles, named=named, paragraph_of=paragraph_of
        )
        if resolution.target is not None and resolution.names_in_full:
            named[resolution.target] = resolution.start
            for inner in hit.names_inside:
                if len(inner.targets) == 1:
                    named[inner.targets[0]] = inner.start
        resolutions.append(resolution)
    return resolutions


def _resolve_one(
    hit: Hit,
    *,
    text: str,
    day: dt.date,
    titles: Mapping[str, Sequence[RoleTitle]],
    named: dict[str, int],
    paragraph_of: Callable[[int], int],
) -> Resolution:
    if hit.longer_name and all(term.is_role_phrase for term in hit.terms):
        # "Russian President Vladimir Putin": the title of the name that follows it.
        return Resolution(
            hit.start, hit.end, None, "a title before the name that follows", is_title=True
        )
    if hit.longer_name:
        return Resolution(
            hit.start,
            hit.end,
            None,
            f"part of a longer name, “{hit.longer_name}”, that no entry covers",
            candidates=hit.targets,
            longer_name=hit.longer_name,
        )
    short = [term for term in hit.terms if term.is_short_form]
    if short:
        titled = _titled(hit, text, day=day, titles=titles)
        fitting = {found.target for found in titled}
        if len(fitting) == 1:
            found = titled[0]
            return Resolution(
                found.start,
                found.end,
                found.target,
                f"{found.label} on {_on(day)}",
                names_in_full=True,
            )
        if len(fitting) > 1:
            return Resolution(
                hit.start,
                hit.end,
                None,
                f"ambiguous: the title fits {len(fitting)} entries on {_on(day)}",
                candidates=tuple(sorted(fitting)),
            )
        during = {
            term.target: term
            for term in short
            if term.is_dated_short_form
            and period_covers(starts_on=term.held_from, ends_on=term.held_until, day=day)
        }
        if len(during) == 1:
            target, term = next(iter(during.items()))
            return Resolution(hit.start, hit.end, target, f"{term.role}, under way on {_on(day)}")
    role_terms = [term for term in hit.terms if term.is_role_phrase]
    held = [
        term
        for term in role_terms
        if period_covers(starts_on=term.held_from, ends_on=term.held_until, day=day)
    ]
    full = [term for term in hit.terms if not term.is_short_form and not term.is_role_phrase]
    named_outright = list(dict.fromkeys(term.target for term in [*full, *held]))
    if len(named_outright) == 1:
        target = named_outright[0]
        holder = next((term for term in held if term.target == target), None)
        if holder is not None and not any(term.target == target for term in full):
            reason = f"{holder.role} on {_on(day)}"
        else:
            reason = "full name"
        return Resolution(hit.start, hit.end, target, reason, names_in_full=True)
    candidates = tuple(dict.fromkeys([*named_outright, *(term.target for term in short)]))
    earlier = sorted((named[target], target) for target in candidates if target in named)
    if earlier:
        position, target = earlier[-1]
        paragraph = paragraph_of(position)
        if len(earlier) > 1 and paragraph_of(earlier[-2][0]) == paragraph:
            return Resolution(
                hit.start,
                hit.end,
                None,
                f"ambiguous: {len(earlier)} candidates named in full in paragraph {paragraph}",
                candidates=tuple(target for _, target in reversed(earlier)),
            )
        return Resolution(hit.start, hit.end, target, f"full name earlier, paragraph {paragraph}")
    if role_terms and not candidates:
        return Resolution(
            hit.start,
            hit.end,
            None,
            f"no entry held the role ({role_terms[0].role}) on {_on(day)}",
            candidates=tuple(dict.fromkeys(term.target for term in role_terms)),
        )
    if len(candidates) == 1:
        return Resolution(
            hit.start,
            hit.end,
            None,
            "short form with no full name earlier in the story",
            candidates=candidates,
        )
    return Resolution(
        hit.start,
        hit.end,
        None,
        f"ambiguous: {len(candidates)} entries share this name and none is named earlier",
        candidates=candidates,
    )

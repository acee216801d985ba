"""Plain text as editors and importers may write it: no control characters. Pure functions.

A control character (Unicode category Cc: C0, DEL and C1) is never something a reader
should see. Pasted text brings them in (a vertical tab for a line break from a word
processor, a stray NUL or escape from a PDF), and one of them is enough to stop an XML
feed being written at all or, NUL, a PostgreSQL query being sent.
"""

from __future__ import annotations

import re

# Line breaks and tabs, which a multi-line field keeps.
LINE_CONTROLS = "\t\n\r"
# C0 and C1 controls, and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _replacement(multiline: bool):
    def replace(match: re.Match) -> str:
        char = match.group()
        if multiline and char in LINE_CONTROLS:
            return char
        # Controls that separate words (tab, line breaks, vertical tab, form feed, the
        # separators and NEL) become a space, so "Kim\x0bJong-un" does not become one word;
        # the others (NUL, escape, backspace...) are removed.
        return " " if char.isspace() else ""

    return replace


_SINGLE_LINE = _replacement(False)
_MULTILINE = _replacement(True)


def without_control_characters(text: str, *, multiline: bool) -> str:
    """``text`` without control characters. A multi-line field keeps its tabs and line
    breaks; in a single-line one they become spaces, like the other word-separating
    controls. Idempotent; text with no control character is returned unchanged."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub(_MULTILINE if multiline else _SINGLE_LINE, text)


def phrase_lines(text: str) -> list[str]:
    """The phrases of a one-per-line field: each line's words, blank lines and repeats
    dropped, in order."""
    return list(dict.fromkeys(" ".join(line.split()) for line in text.splitlines() if line.strip()))


def publishers_line(publishers: list[str], *, shown: int = 3) -> str:
    """ "Yonhap, Reuters, AP and 2 more": each publisher once, in the order cited."""
    distinct = list(dict.fromkeys(publishers))
    line = ", ".join(distinct[:shown])
    hidden = len(distinct) - shown
    return f"{line} and {hidden} more" if hidden > 0 else line

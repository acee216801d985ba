"""Word-level differences between two versions of a text, for editors comparing versions
and resolving edit conflicts.

Pure functions over plain strings: no database, no Django. The result is a list of
``(kind, text)`` segments, ``kind`` one of ``"equal"``, ``"delete"``, ``"insert"`` and
``"skip"`` (a long unchanged stretch left out); templates escape every segment's text and
wrap it in ``<del>``/``<ins>``. In HTML, each tag is one token, so a change of wording never
splits a tag and a changed tag shows whole.
"""

from __future__ import annotations

import difflib
import re

Segment = tuple[str, str]

# A tag (in HTML mode), a run of word characters, a run of spaces, or any other character.
_WORDS = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)
_HTML_WORDS = re.compile(r"<[^<>]*>|\w+|\s+|[^\w\s]", re.UNICODE)


def tokens(text: str, *, html: bool = False) -> list[str]:
    """``text`` cut into words, spaces and punctuation (and whole tags when ``html``);
    joined again they give ``text`` exactly."""
    return (_HTML_WORDS if html else _WORDS).findall(text)


def word_diff(*, before: str, after: str, html: bool = False, context: int = 0) -> list[Segment]:
    """How ``after`` differs from ``before``, word by word. With ``context``, unchanged
    stretches keep only that many tokens next to each change and the rest is one ``"skip"``
    segment (whose text is what was left out)."""
    old = tokens(_normalize(before), html=html)
    new = tokens(_normalize(after), html=html)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    chunks: list[tuple[str, str] | tuple[str, str, str]] = []
    for opcode, i1, i2, j1, j2 in matcher.get_opcodes():
        if opcode == "equal":
            chunks.append(("equal", "".join(old[i1:i2])))
        else:
            chunks.append(("change", "".join(old[i1:i2]), "".join(new[j1:j2])))
    segments: list[Segment] = []
    joined = _joined(chunks)
    for index, chunk in enumerate(joined):
        if chunk[0] == "equal":
            run = tokens(chunk[1], html=html)
            first, last = index == 0, index == len(joined) - 1
            segments += _equal(run, context, first=first, last=last)
        else:
            segments += [("delete", chunk[1]), ("insert", chunk[2])]
    return _merged(segments)


def _joined(chunks: list) -> list:
    """Changes separated only by a space read as one change ("in Vladivostok" → "on
    Thursday", not "in" → "on", " ", "Vladivostok" → "Thursday")."""
    result: list = []
    for chunk in chunks:
        if (
            chunk[0] == "change"
            and len(result) >= 2
            and result[-1][0] == "equal"
            and not result[-1][1].strip()
            and result[-2][0] == "change"
        ):
            space = result.pop()[1]
            previous = result.pop()
            chunk = ("change", previous[1] + space + chunk[1], previous[2] + space + chunk[2])
        result.append(chunk)
    return result


def changed(segments: list[Segment]) -> bool:
    return any(kind in {"delete", "insert"} for kind, _ in segments)


def _normalize(text: str) -> str:
    # A browser sends line breaks as CRLF; stored text may have LF: not a change.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _equal(run: list[str], context: int, *, first: bool, last: bool) -> list[Segment]:
    if not context:
        return [("equal", "".join(run))]
    head = 0 if first else context
    tail = 0 if last else context
    if len(run) <= head + tail + 1:
        return [("equal", "".join(run))]
    segments: list[Segment] = []
    if head:
        segments.append(("equal", "".join(run[:head])))
    segments.append(("skip", "".join(run[head : len(run) - tail])))
    if tail:
        segments.append(("equal", "".join(run[len(run) - tail :])))
    return segments


def _merged(segments: list[Segment]) -> list[Segment]:
    result: list[Segment] = []
    for kind, text in segments:
        if not text:
            continue
        if result and result[-1][0] == kind:
            result[-1] = (kind, result[-1][1] + text)
        else:
            result.append((kind, text))
    return result

"""Cutting sanitized markup where a reader would: a card's summary after its last whole
sentence that fits, a story after its first paragraph. Pure functions over the output of
``sanitize.py``; what they return is a prefix or suffix of it, with any element left open
closed again, so it is as safe as what went in."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

VOID_ELEMENTS = frozenset({"br", "hr", "img", "wbr"})
# Words before a full stop that is not a sentence's end: titles, initials' neighbours, months,
# "No. 5". When in doubt a stop is not an end: a shorter excerpt is fine, a cut sentence not.
ABBREVIATIONS = frozenset(
    {
        "mr", "mrs", "ms", "dr", "st", "jr", "sr", "gen", "lt", "col", "capt", "sgt", "adm",
        "prof", "rev", "gov", "sen", "rep", "pres", "amb", "no", "nos", "vs", "etc", "inc",
        "ltd", "co", "corp", "mt", "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
        "sep", "sept", "oct", "nov", "dec", "approx", "ca", "cf", "vol", "pp", "fig",
    }
)  # fmt: skip
# A stop, question or exclamation mark, any closing quotes or brackets, then a space.
_LATIN_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)")
# Full-width marks end a sentence with or without a space after them.
_WIDE_END = re.compile(r"[。！？][」』”’)）]*")
_OPENING = "\"'“‘([（「『"


@dataclass(frozen=True)
class _Token:
    kind: str  # "start", "end", "void", "text" or "other"
    tag: str
    start: int  # offset in the markup
    end: int
    text: str  # what a reader sees of it: text tokens only


class _Tokenizer(HTMLParser):
    """Sanitized markup as tokens that, end to end, are the markup: each one's offsets, so
    a cut is a slice of the original, byte for byte."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=False)
        self.markup = markup
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", markup)]
        self.marks: list[tuple[int, str, str, str]] = []

    def _mark(self, kind: str, tag: str = "", text: str = "") -> None:
        line, column = self.getpos()
        self.marks.append((self.line_starts[line - 1] + column, kind, tag, text))

    def handle_starttag(self, tag, attrs):
        self._mark("void" if tag in VOID_ELEMENTS else "start", tag)

    def handle_startendtag(self, tag, attrs):
        self._mark("void", tag)

    def handle_endtag(self, tag):
        self._mark("end", tag)

    def handle_data(self, data):
        self._mark("text", text=data)

    def handle_entityref(self, name):
        self._mark("text", text=html.unescape(f"&{name};"))

    def handle_charref(self, name):
        self._mark("text", text=html.unescape(f"&#{name};"))

    def handle_comment(self, data):
        self._mark("other")

    def tokens(self) -> list[_Token]:
        self.feed(self.markup)
        self.close()
        if not self.marks:
            return []
        ends = [mark[0] for mark in self.marks[1:]] + [len(self.markup)]
        return [
            _Token(kind, tag, start, end, text)
            for (start, kind, tag, text), end in zip(self.marks, ends, strict=True)
        ]


def _tokens(markup: str) -> list[_Token]:
    return _Tokenizer(markup).tokens()


def _is_sentence_end(text: str, stop: int, after: int) -> bool:
    """Whether the mark at ``stop`` (closing quotes up to ``after``) ends a sentence: what
    follows starts one, and the word before is not an abbreviation or an initial."""
    rest = text[after:].lstrip()
    if rest:
        first = rest[0]
        if first in _OPENING:
            first = rest[1:2] or "A"
        if first.islower() or not (first.isalnum() or first in _OPENING):
            return False
    if text[stop] != ".":
        return True
    word = re.split(r"[\s\"'“‘(\[]", text[:stop])[-1]
    # "U.S.", "a.m.", "..." and one-letter initials ("George W. Bush") say nothing certain.
    initial = len(word) == 1 and word.isalpha()
    return not ("." in word or initial or word.lower() in ABBREVIATIONS)


def _closing_tags(open_tags: tuple[str, ...]) -> str:
    return "".join(f"</{tag}>" for tag in reversed(open_tags))


def _sentence_ends(plain: str) -> list[int]:
    """Where sentences end in ``plain``: offsets just after each one's closing mark."""
    ends = [
        m.end() for m in _LATIN_END.finditer(plain) if _is_sentence_end(plain, m.start(), m.end())
    ]
    ends += [m.end() for m in _WIDE_END.finditer(plain)]
    return ends


def sentences_within(markup: str, *, max_chars: int) -> str:
    """The whole sentences at the start of ``markup`` whose text (what a reader sees) is at
    most ``max_chars`` long, always at least the first one, never part of one. A paragraph's
    end is a sentence's end. Markup that fits is returned unchanged."""
    tokens = _tokens(markup)
    plain = "".join(token.text for token in tokens)
    if len(plain.strip()) <= max_chars:
        return markup
    ends = set(_sentence_ends(plain))
    # Each place a sentence ends: (characters read so far, offset in the markup, open tags).
    cuts: list[tuple[int, int, tuple[str, ...]]] = []
    open_tags: list[str] = []
    read = 0
    for token in tokens:
        if token.kind == "start":
            open_tags.append(token.tag)
        elif token.kind == "end":
            if open_tags and open_tags[-1] == token.tag:
                open_tags.pop()
            if token.tag == "p" and not open_tags:
                cuts.append((read, token.end, ()))
        elif token.kind == "text":
            exact = token.end - token.start == len(token.text)  # no entity: offsets match
            for end in range(read + 1, read + len(token.text) + 1):
                if end in ends:
                    offset = token.start + (end - read) if exact else token.end
                    cuts.append((end, offset, tuple(open_tags)))
            read += len(token.text)
    fitting = [cut for cut in cuts if len(plain[: cut[0]].strip()) <= max_chars]
    if not cuts:
        return markup
    _, offset, still_open = fitting[-1] if fitting else min(cuts)
    return markup[:offset] + _closing_tags(still_open)


def plain_text(markup: str) -> str:
    """What a reader sees of ``markup``: its text, entities read."""
    return "".join(token.text for token in _tokens(markup))


def split_after_first_paragraph(markup: str) -> tuple[str, str]:
    """``markup`` cut after its first top-level paragraph: (lede, rest). Markup with no
    top-level paragraph is all rest: ("", markup)."""
    depth = 0
    for token in _tokens(markup):
        if token.kind == "start":
            depth += 1
        elif token.kind == "end":
            depth -= 1
            if depth == 0 and token.tag == "p":
                return markup[: token.end], markup[token.end :]
    return "", markup

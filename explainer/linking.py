"""Finding and marking mentions of context entries in story HTML.

Pure functions over plain values: no database, no Django. The input HTML is always the
output of ``explainer.sanitize`` (well-formed, comment-free, attribute values quoted), so a
small tokenizer is enough to tell tags from text.

Offsets are character offsets into the *article text*: the concatenated, entity-decoded
text nodes of the sanitized body, the same string a reader's browser would select. Mentions
are anchored like a W3C Web Annotation TextQuoteSelector (quote, prefix, suffix) plus a
TextPositionSelector (start), so they can be found again after copy edits.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

CONTEXT_CHARS = 32

# Characters that a reader treats as "the same gap" between the parts of a name:
# "Kim Jong-un", "Kim Jong Un" and "Kim Jong\u00a0Un" are one person.
_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u00a0\u202f\u2009\u200a \t\n\r")
_APOSTROPHES = frozenset("\u2019\u2018\u02bc\u0060\u00b4")

# Korean attaches postpositions to the noun ("김정은은", "김정은의"), so an alias that ends in
# a Hangul syllable may be followed by one of these without breaking the word boundary.
_KOREAN_PARTICLES = frozenset(
    [
        "은",
        "는",
        "이",
        "가",
        "을",
        "를",
        "의",
        "에",
        "에서",
        "에게",
        "께",
        "께서",
        "와",
        "과",
        "도",
        "로",
        "으로",
        "만",
        "과의",
        "와의",
        "이다",
        "이라고",
        "라고",
        "측",
    ]
)

_TAG = re.compile(r"<(?:\"[^\"]*\"|'[^']*'|[^'\">])*>")
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)")


def _fold_char(ch: str, *, keep_case: bool) -> str:
    if ch in _SEPARATORS:
        return " "
    if ch in _APOSTROPHES:
        return "'"
    if keep_case:
        return ch
    lowered = ch.lower()
    # Keep the fold length-preserving so offsets in folded text are offsets in the original.
    return lowered if len(lowered) == 1 else ch


class TranslationTable(dict):
    """A ``str.translate`` table that converts each character once, when it is first met,
    with ``convert``: text runs over every character of every story, and translate does
    that at C speed."""

    def __init__(self, convert: Callable[[str], str]) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, code: int) -> str:
        converted = self.convert(chr(code))
        self[code] = converted
        return converted


_FOLD = TranslationTable(functools.partial(_fold_char, keep_case=False))
_FOLD_KEEP_CASE = TranslationTable(functools.partial(_fold_char, keep_case=True))


def fold(text: str, *, keep_case: bool = False) -> str:
    """Length-preserving normal form used for matching: case, hyphens and apostrophes folded."""
    return text.translate(_FOLD_KEEP_CASE if keep_case else _FOLD)


def normalize_alias(text: str) -> str:
    """The key under which an alias is unique: folded, with runs of spaces collapsed."""
    return " ".join(fold(text).split())


@functools.cache
def is_word_char(ch: str) -> bool:
    return ch == "_" or unicodedata.category(ch)[0] in "LNM"


def _char_class(ch: str) -> str:
    if is_word_char(ch):
        return "w"
    return " " if ch in _SEPARATORS else "."


# Each character as "w" (a word character), " " (a separator) or "." (anything else).
_CHAR_CLASSES = TranslationTable(_char_class)
# A word's first character, or a character that is neither a word's nor a separator.
_TERM_START = re.compile(r"(?<!w)w|\.")


def _word_starts(text: str) -> list[int]:
    """Offsets where a word begins, or where a non-word character other than a separator
    stands: the places a term may start (a term never starts inside a word, nor with a
    separator, which normalizing an alias strips). Found at C speed: this runs over every
    character of every story."""
    return [found.start() for found in _TERM_START.finditer(text.translate(_CHAR_CLASSES))]


def is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


@dataclass(frozen=True, slots=True)
class Term:
    """One surface form of an entry: an alias or an entry's own name."""

    text: str
    target: str
    case_sensitive: bool = False


@dataclass(frozen=True, slots=True)
class Hit:
    """A term found in the article text, at [start, end)."""

    target: str
    start: int
    end: int


class Matcher:
    """A character trie over every term: one left-to-right pass over the text finds the
    longest term at each word start, whatever the number of terms."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._root: dict = {}
        self.size = 0
        for term in terms:
            key = normalize_alias(term.text)
            if len(key) < 1:
                continue
            node = self._root
            for ch in key:
                node = node.setdefault(ch, {})
            node.setdefault(None, []).append(term)
            self.size += 1

    def find(self, text: str) -> list[Hit]:
        """Every non-overlapping, longest match in ``text`` on word boundaries."""
        hits: list[Hit] = []
        folded = fold(text)
        root = self._root
        end = 0
        for i in _word_starts(text):
            # Most words start no term at all: one dictionary look-up tells.
            if i < end or folded[i] not in root:
                continue
            best = self._longest_at(text, folded, i)
            if best is not None:
                hits.append(best)
                end = best.end
        return hits

    def _longest_at(self, text: str, folded: str, start: int) -> Hit | None:
        node = self._root
        best: Hit | None = None
        j = start
        length = len(text)
        previous = ""
        while j < length:
            ch = folded[j]
            # Runs of spaces in the text match the single space of a normalized alias.
            if ch == " " and previous == " ":
                j += 1
                continue
            node = node.get(ch)
            if node is None:
                break
            previous = ch
            j += 1
            terms = node.get(None)
            if terms and self._ends_on_boundary(text, j):
                for term in terms:
                    if term.case_sensitive and not _same_case(text[start:j], term.text):
                        continue
                    best = Hit(target=term.target, start=start, end=j)
                    break
        return best

    @staticmethod
    def _ends_on_boundary(text: str, end: int) -> bool:
        if end >= len(text) or not is_word_char(text[end - 1]) or not is_word_char(text[end]):
            return True
        if is_hangul(text[end - 1]) and is_hangul(text[end]):
            tail_end = end
            while tail_end < len(text) and is_word_char(text[tail_end]):
                tail_end += 1
            return text[end:tail_end] in _KOREAN_PARTICLES
        return False


def _same_case(found: str, alias: str) -> bool:
    return " ".join(fold(found, keep_case=True).split()) == " ".join(
        fold(alias, keep_case=True).split()
    )


@dataclass(frozen=True, slots=True)
class TextNode:
    """A run of text between two tags, with its offset in the article text."""

    start: int
    text: str
    raw: str
    linkable: bool

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(frozen=True, slots=True)
class ParsedHtml:
    """Sanitized HTML split into raw tags and text nodes."""

    tokens: tuple[str | TextNode, ...]
    text: str
    text_nodes: tuple[TextNode, ...] = ()

    def is_linkable_span(self, start: int, end: int) -> bool:
        return any(
            node.linkable and node.start <= start and end <= node.end and start < end
            for node in self.text_nodes
        )


def parse_html(source: str) -> ParsedHtml:
    """Split sanitized HTML into tags and text nodes; text inside an existing link is not
    linkable (we never nest links)."""
    tokens: list[str | TextNode] = []
    pieces: list[str] = []
    offset = 0
    link_depth = 0
    position = 0
    for tag in _TAG.finditer(source):
        if tag.start() > position:
            raw = source[position : tag.start()]
            text = html.unescape(raw)
            tokens.append(TextNode(start=offset, text=text, raw=raw, linkable=link_depth == 0))
            pieces.append(text)
            offset += len(text)
        tokens.append(tag.group())
        name = _TAG_NAME.match(tag.group())
        if name and name.group(2).lower() == "a":
            link_depth = max(0, link_depth + (-1 if name.group(1) else 1))
        position = tag.end()
    if position < len(source):
        raw = source[position:]
        text = html.unescape(raw)
        tokens.append(TextNode(start=offset, text=text, raw=raw, linkable=link_depth == 0))
        pieces.append(text)
    return ParsedHtml(
        tokens=tuple(tokens),
        text="".join(pieces),
        text_nodes=tuple(token for token in tokens if isinstance(token, TextNode)),
    )


def find_mentions(*, parsed: ParsedHtml, matcher: Matcher) -> list[Hit]:
    """Every term occurrence in linkable text nodes, never across tags, in reading order."""
    hits: list[Hit] = []
    for node in parsed.text_nodes:
        if not node.linkable:
            continue
        for hit in matcher.find(node.text):
            hits.append(
                Hit(target=hit.target, start=node.start + hit.start, end=node.start + hit.end)
            )
    return hits


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a mention sits, robust to edits elsewhere in the story."""

    quote: str
    prefix: str
    suffix: str
    start: int


def anchor(*, text: str, start: int, end: int) -> Anchor:
    return Anchor(
        quote=text[start:end],
        prefix=text[max(0, start - CONTEXT_CHARS) : start],
        suffix=text[end : end + CONTEXT_CHARS],
        start=start,
    )


def _common_suffix_length(a: str, b: str) -> int:
    count = 0
    for x, y in zip(reversed(a), reversed(b), strict=False):
        if x != y:
            break
        count += 1
    return count


def _common_prefix_length(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def locate(
    *, text: str, quote: str, prefix: str = "", suffix: str = "", near: int = 0
) -> int | None:
    """Find a quote again after the text changed: the occurrence whose surroundings agree
    best with the recorded prefix and suffix, then the one nearest its old offset."""
    if not quote:
        return None
    best: tuple[int, int, int] | None = None
    position = text.find(quote)
    while position != -1:
        before = text[max(0, position - len(prefix)) : position]
        after = text[position + len(quote) : position + len(quote) + len(suffix)]
        agreement = _common_suffix_length(before, prefix) + _common_prefix_length(after, suffix)
        candidate = (-agreement, abs(position - near), position)
        if best is None or candidate < best:
            best = candidate
        position = text.find(quote, position + 1)
    return None if best is None else best[2]


@dataclass(frozen=True, slots=True)
class Link:
    """A span of article text to wrap in a link."""

    start: int
    end: int
    href: str
    css_class: str = "mention"
    attrs: tuple[tuple[str, str], ...] = ()


def mark_mentions(*, parsed: ParsedHtml, links: Sequence[Link]) -> str:
    """Wrap each span in ``<a>``. The text a reader sees is unchanged: only tags are added.

    Every span must lie inside one linkable text node and spans must not overlap;
    callers check with ``ParsedHtml.is_linkable_span`` first."""
    ordered = sorted(links, key=lambda link: link.start)
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if current.start < previous.end:
            raise ValueError(f"Overlapping links at {previous.start} and {current.start}.")
    out: list[str] = []
    index = 0
    for token in parsed.tokens:
        if isinstance(token, str):
            out.append(token)
            continue
        inside: list[Link] = []
        while index < len(ordered) and ordered[index].start < token.end:
            link = ordered[index]
            if not (token.linkable and token.start <= link.start and link.end <= token.end):
                raise ValueError(f"Link {link.start}-{link.end} is not inside one text node.")
            inside.append(link)
            index += 1
        if not inside:
            out.append(token.raw)
            continue
        cursor = 0
        for link in inside:
            local_start, local_end = link.start - token.start, link.end - token.start
            out.append(html.escape(token.text[cursor:local_start], quote=False))
            out.append(_open_tag(link))
            out.append(html.escape(token.text[local_start:local_end], quote=False))
            out.append("</a>")
            cursor = local_end
        out.append(html.escape(token.text[cursor:], quote=False))
    if index < len(ordered):
        raise ValueError(f"Link at {ordered[index].start} is past the end of the text.")
    return "".join(out)


def _open_tag(link: Link) -> str:
    extra = "".join(f' {name}="{html.escape(value)}"' for name, value in link.attrs)
    return f'<a class="{html.escape(link.css_class)}" href="{html.escape(link.href)}"{extra}>'

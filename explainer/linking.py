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

import bisect
import functools
import html
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

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
        "에서도",
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
# Tags that start a new paragraph as a reader counts them.
_BLOCK_TAGS = frozenset(
    [
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "blockquote",
        "figcaption",
        "pre",
        "dd",
        "dt",
        "td",
        "th",
        "div",
    ]
)


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


def _may_start_term(text: str, i: int) -> bool:
    """Whether a term may start at ``i``: a word's first character, or a character that is
    neither a word's nor a separator. A term never starts inside a word, nor with a
    separator, which normalizing an alias strips."""
    if is_word_char(text[i]):
        return i == 0 or not is_word_char(text[i - 1])
    return text[i] not in _SEPARATORS


_SPACE_RUN = re.compile(r"  +")


def _collapse_spaces(folded: str) -> tuple[str, list[int] | None]:
    """``folded`` with each run of spaces as one space, and where each of its characters
    was in ``folded`` (None when there was no run: the same offsets)."""
    if "  " not in folded:
        return folded, None
    collapsed = _SPACE_RUN.sub(" ", folded)
    offsets = [i for i, ch in enumerate(folded) if ch != " " or i == 0 or folded[i - 1] != " "]
    return collapsed, offsets


def is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3"


@dataclass(frozen=True, slots=True)
class Term:
    """One surface form of an entry: an alias, an entry's own name, or a phrase that names
    whoever held a role ("the secretary of state")."""

    text: str
    target: str
    case_sensitive: bool = False
    # A person's, place's or organization's name: written in lower case it is an ordinary
    # word ("to trump", "a full moon"), whatever ``case_sensitive`` says.
    is_proper_name: bool = False
    # A short form ("Kim", "김", "the North") names the entry only in context: after its
    # full form earlier in the story, or with a title it held on the story's date.
    is_short_form: bool = False
    # A role's phrase names its holder only while they held it; an event's short form
    # ("the summit") names it in stories dated while it happened (partial dates, "" =
    # open). ``role`` says which role or event, for editors.
    held_from: str = ""
    held_until: str = ""
    role: str = ""

    @property
    def is_role_phrase(self) -> bool:
        return bool(self.role) and not self.is_short_form

    @property
    def is_dated_short_form(self) -> bool:
        return bool(self.role) and self.is_short_form


@dataclass(frozen=True, slots=True)
class Hit:
    """A phrase found in the article text at [start, end), with every term it may be: a
    phrase several entries share is resolved in context (``explainer.resolution``).
    ``longer_name`` is set when the phrase runs on into further name words no term covers
    ("Kim" in "Kim Jong-nam"): then it names someone else, and is never linked."""

    start: int
    end: int
    terms: tuple[Term, ...]
    longer_name: str = ""
    # Full names inside the phrase ("North Korea" in "UN sanctions on North Korea"): never
    # linked themselves, but they tell a reader who a later "the North" is.
    names_inside: tuple[Hit, ...] = ()

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(term.target for term in self.terms))

    def shifted(self, offset: int) -> Hit:
        """The same hit in a text that starts ``offset`` characters earlier."""
        return Hit(
            self.start + offset,
            self.end + offset,
            self.terms,
            self.longer_name,
            tuple(inner.shifted(offset) for inner in self.names_inside),
        )


# Capitalised words that may follow a name without making it part of a longer one: titles
# ("North Korea Foreign Minister Ri"), days, months, and words that start a clause.
NAME_FOLLOWERS = frozenset(
    [
        "president",
        "minister",
        "foreign",
        "vice",
        "prime",
        "deputy",
        "chairman",
        "chairwoman",
        "secretary",
        "general",
        "leader",
        "ambassador",
        "envoy",
        "spokesman",
        "spokeswoman",
        "spokesperson",
        "premier",
        "chancellor",
        "senator",
        "governor",
        "mayor",
        "commander",
        "marshal",
        "supreme",
        "first",
        "state",
        "defense",
        "defence",
        "national",
        "security",
        "adviser",
        "advisor",
        "mr",
        "mrs",
        "ms",
        "dr",
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "of",
        "on",
        "in",
        "at",
        "to",
        "for",
        "with",
        "by",
        "from",
        "as",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ]
)
# A space joins the words of one name; a hyphen joins two ("the Trump-Kim summit").
_NEXT_WORD = re.compile(r"[ \u00a0]([^\W\d_][\w'’.-]*)")


# The phrases found in a text: by where each starts, where it ends and the terms it may be.
Phrases = dict[int, list[tuple[int, tuple[Term, ...]]]]


class Matcher:
    """An Aho-Corasick automaton (pyahocorasick) over every term: one pass over the text,
    at C speed, finds every phrase, whatever the number of terms; the few it finds are
    then kept or dropped by word boundaries and case."""

    def __init__(self, terms: Iterable[Term]) -> None:
        by_key: dict[str, list[Term]] = {}
        for term in terms:
            key = normalize_alias(term.text)
            if key:
                by_key.setdefault(key, []).append(term)
        self.size = sum(map(len, by_key.values()))
        self._automaton = ahocorasick.Automaton()
        for key, keyed in by_key.items():
            self._automaton.add_word(key, (len(key), tuple(keyed)))
        if by_key:
            self._automaton.make_automaton()

    def find(self, text: str) -> list[Hit]:
        """Every non-overlapping, longest phrase in ``text`` on word boundaries. A phrase
        that runs on into a longer name is returned with ``longer_name`` and does not hide
        what follows it: in "Chairman Kim Yong-chol" the full name is still found."""
        if not self.size:
            return []
        found = self._phrases(text)
        starts = sorted(found)
        hits: list[Hit] = []
        end = 0
        for start in starts:
            if start < end:
                continue
            best = _longest(text, start, found[start], limit=len(text))
            if best is None:
                continue
            longer = longer_name_at(text, best.start, best.end)
            if longer:
                hits.append(Hit(best.start, best.end, best.terms, longer_name=longer))
                continue
            inside = _names_inside(text, found, starts, best)
            hits.append(
                Hit(best.start, best.end, best.terms, names_inside=inside) if inside else best
            )
            end = best.end
        return hits

    def _phrases(self, text: str) -> Phrases:
        """Every phrase of the library in ``text`` that starts where a term may, by where
        it starts, overlapping ones included. Runs of spaces in the text match the single
        space of a normalized alias."""
        searched, offsets = _collapse_spaces(fold(text))
        found: Phrases = {}
        for last, (length, terms) in self._automaton.iter(searched):
            start, end = last - length + 1, last + 1
            if offsets is not None:
                start, end = offsets[start], offsets[last] + 1
            if _may_start_term(text, start):
                found.setdefault(start, []).append((end, terms))
        return found


def _longest(
    text: str, start: int, phrases: list[tuple[int, tuple[Term, ...]]], *, limit: int
) -> Hit | None:
    """The longest of the ``phrases`` at ``start`` that ends on a word boundary by
    ``limit`` (the text read as if it ended there), in the case its terms need."""
    best: Hit | None = None
    for end, terms in phrases:
        if end > limit or (best is not None and end <= best.end):
            continue
        if not _ends_on_boundary(text, end, limit=limit):
            continue
        written = text[start:end]
        matching = tuple(term for term in terms if _case_matches(written, term))
        if matching:
            best = Hit(start=start, end=end, terms=matching)
    return best


def _names_inside(text: str, found: Phrases, starts: list[int], outer: Hit) -> tuple[Hit, ...]:
    """The other entries' full names (no short forms or role phrases) a found phrase
    holds. Bounded by the phrase's length, not the library's size."""
    names: list[Hit] = []
    end = outer.start
    inner = starts[bisect.bisect_right(starts, outer.start) : bisect.bisect_left(starts, outer.end)]
    for start in inner:
        if start < end:
            continue
        hit = _longest(text, start, found[start], limit=outer.end)
        if hit is None:
            continue
        full = tuple(
            term
            for term in hit.terms
            if not term.is_short_form and not term.role and term.target not in outer.targets
        )
        if full:
            names.append(Hit(hit.start, hit.end, full))
            end = hit.end
    return tuple(names)


def _ends_on_boundary(text: str, end: int, *, limit: int) -> bool:
    """Whether a phrase ending at ``end`` ends a word, in ``text`` read as if it ended at
    ``limit`` (a name inside a longer phrase ends where that phrase does), without copying
    it: a text node may be a megabyte."""
    if end >= limit or not is_word_char(text[end - 1]) or not is_word_char(text[end]):
        return True
    if is_hangul(text[end - 1]) and is_hangul(text[end]):
        return particle_follows(text, end, limit=limit)
    return False


def particle_follows(text: str, end: int, *, limit: int | None = None) -> bool:
    """Whether the Hangul word running on from ``end`` (up to ``limit``, the end of the
    text unless given) is one of the particles Korean attaches to a noun ("김정은은"), so
    the noun before it ends at ``end``."""
    limit = len(text) if limit is None else limit
    tail_end = end
    while tail_end < limit and is_word_char(text[tail_end]):
        tail_end += 1
    return text[end:tail_end] in _KOREAN_PARTICLES


def longer_name_at(text: str, start: int, end: int) -> str:
    """The longer name that the phrase at [start, end) is the beginning of, or "": a
    capitalised word joined to it by a space that is not a title, a day or a
    month ("Kim" in "Kim Jong-nam", "the South" in "the South Korean", "Moscow" in "the
    Moscow Declaration"). Only cased scripts have capitals to tell by; in Korean a name
    runs on without a space and the word boundary already decides."""
    follower = _NEXT_WORD.match(text, end)
    if follower is None:
        return ""
    word = follower.group(1)
    if not word[0].isupper() or word.lower().strip(".") in NAME_FOLLOWERS:
        return ""
    return text[start : follower.end(1)].rstrip(".")


def _case_matches(found: str, term: Term) -> bool:
    if term.case_sensitive:
        return _same_case(found, term.text)
    return not (term.is_proper_name and term.text[:1].isupper() and found[:1].islower())


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
    # Where each paragraph (or heading, list item, caption) starts in the text.
    paragraph_starts: tuple[int, ...] = ()

    def paragraph_of(self, offset: int) -> int:
        """The 1-based number of the paragraph that ``offset`` lies in."""
        return max(1, bisect.bisect_right(self.paragraph_starts, offset))

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
    paragraph_starts: list[int] = []
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
        elif (
            name
            and not name.group(1)
            and name.group(2).lower() in _BLOCK_TAGS
            and (not paragraph_starts or paragraph_starts[-1] != offset)
        ):
            paragraph_starts.append(offset)
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
        paragraph_starts=tuple(paragraph_starts),
    )


def find_mentions(*, parsed: ParsedHtml, matcher: Matcher) -> list[Hit]:
    """Every phrase in linkable text nodes, never across tags, in reading order."""
    hits: list[Hit] = []
    for node in parsed.text_nodes:
        if not node.linkable:
            continue
        hits.extend(hit.shifted(node.start) for hit in matcher.find(node.text))
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

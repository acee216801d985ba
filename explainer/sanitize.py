"""The single sanitizing policy: which HTML readers may see, and the plain text of it.

This is the only module that imports bleach. bleach's allowlist (tags, attributes, URL
protocols) is what keeps pages safe; everything else here shapes what readers see.
"""

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from xml.dom import Node

from bleach import html5lib_shim
from bleach.sanitizer import BleachSanitizerFilter

BODY_TAGS = frozenset(
    {
        "p", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "q", "cite",
        "a", "em", "strong", "b", "i", "br", "abbr", "sub", "sup",
    }
)  # fmt: skip
SUMMARY_TAGS = frozenset({"p", "a", "em", "strong", "b", "i", "br", "abbr", "q", "cite"})
ATTRIBUTES = {"a": ["href", "title"], "abbr": ["title"]}
PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"

# What these elements hold is code, styling, form state or fallback markup, never text a
# reader sees, so they go with everything inside them rather than leaving their text behind.
NO_READER_TEXT_TAGS = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "object", "embed", "svg",
        "math", "textarea", "select", "title", "xmp", "noembed", "noframes", "head",
    }
)  # fmt: skip

# Where a reader sees a line break: an allowlist's blocks keep their tags, the rest of them are
# replaced by a line break so that "<h2>Title</h2>Body" does not become "TitleBody".
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "caption", "dd", "details", "dialog",
        "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2",
        "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "li", "main", "nav", "ol", "p",
        "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip

# Sanitizing must be idempotent: models sanitize on every save. One pass is not always a fixed
# point. Two causes in bleach are fixed where they arise (see the form feed and quote notes
# below); others are structural, such as a link the parser nests inside another through a
# <table> that then becomes line breaks, and only re-parsing the output settles them. So we
# clean until the output stops changing: sanitized input takes one pass, fresh input usually
# two. The bound stops a future bleach that never settles from looping on a save.
_MAX_PASSES = 4

_EtreeWalker = html5lib_shim.getTreeWalker("etree")
_VOID_ELEMENTS = html5lib_shim.constants.voidElements


# Deeper than any story needs. The sanitizer's time grows with the square of the depth
# (20,000 nested <blockquote> took minutes), so deeper markup is refused before it runs.
MAX_NESTING_DEPTH = 100
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*?(/?)>")
# Elements whose end tag may be left out: the parser closes them, so they do not nest.
_OPTIONAL_END = frozenset(
    {"p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option",
     "optgroup", "colgroup", "caption", "rb", "rt", "rp"}
)  # fmt: skip


class TooDeeplyNested(ValueError):
    """Markup nested deeper than ``MAX_NESTING_DEPTH``, with a message for the editor."""

    def __init__(self, depth: int) -> None:
        super().__init__(
            f"The text nests elements more than {MAX_NESTING_DEPTH} levels deep (at least "
            f"{depth:,}). Remove the extra nesting, often left by pasting from another page."
        )


def nesting_depth(html: str) -> int:
    """How deeply the elements of ``html`` nest, from its tags alone, in one linear pass;
    counting stops past ``MAX_NESTING_DEPTH``."""
    depth = deepest = 0
    for closing, name, self_closing in _TAG.findall(html):
        name = name.lower()
        if self_closing or name in _VOID_ELEMENTS or name in _OPTIONAL_END:
            continue
        if closing:
            depth = max(depth - 1, 0)
            continue
        depth += 1
        if depth > deepest:
            deepest = depth
            if deepest > MAX_NESTING_DEPTH:
                break
    return deepest


def sanitize_body_html(html: str) -> str:
    """Return the markup of an article body or long note that is safe to show as is."""
    return _sanitize(html, tags=BODY_TAGS)


def sanitize_summary_html(html: str) -> str:
    """Return the markup of a short card summary that is safe to show as is."""
    return _sanitize(html, tags=SUMMARY_TAGS)


@dataclass(frozen=True)
class Cleaned:
    """Sanitized markup and what sanitizing took out, in words for the editor who wrote it."""

    html: str
    removed: tuple[str, ...] = ()


def clean_body_html(html: str) -> Cleaned:
    """``sanitize_body_html``, with what it removed."""
    return Cleaned(sanitize_body_html(html), tuple(_removals(html, tags=BODY_TAGS)))


def clean_summary_html(html: str) -> Cleaned:
    """``sanitize_summary_html``, with what it removed."""
    return Cleaned(sanitize_summary_html(html), tuple(_removals(html, tags=SUMMARY_TAGS)))


def removal_message(*, field: str, removed: tuple[str, ...] | list[str]) -> str:
    """What an editor is told after a save: "Removed from the summary: a script, 2 event
    attributes." """
    return f"Removed from the {field}: {', '.join(removed)}."


# Something a browser reads as a tag or a comment: "<" then a name and a closing ">". A "<"
# followed by a space, a digit or nothing tag-like ("a < b", "Kim <3") is plain text.
_TAG_LIKE = re.compile(r"<(/?[a-zA-Z][a-zA-Z0-9:-]*)(?:[\s/][^<>]*)?>|<!--|<!\[CDATA\[")


def markup_in_text(text: str) -> str | None:
    """The first tag or comment in text meant to be plain (``"<img>"``, ``"<!-- -->"``), or
    None."""
    found = _TAG_LIKE.search(text)
    if found is None:
        return None
    if found.group(1) is None:
        return "<!-- -->" if found.group(0) == "<!--" else "<![CDATA[ ]]>"
    return f"<{found.group(1).lower()}>"


_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")


def plain_text_to_html(text: str) -> str:
    """Paragraphs for text with no markup at all, as pasted or typed without the editor: a
    blank line starts a paragraph, a single line break stays one. Markup is returned as it is.
    """
    if markup_in_text(text) is not None:
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        return ""
    # "&" is left alone: in the HTML field this was, "&amp;" meant "&", and still does.
    escaped = text.replace("<", "&lt;").replace(">", "&gt;")
    paragraphs = (part.strip() for part in _BLANK_LINE.split(escaped))
    return "".join(
        "<p>" + "<br>".join(line.strip() for line in part.split("\n")) + "</p>"
        for part in paragraphs
        if part
    )


# The URL characters a browser ignores or that hide a scheme, removed before reading it.
_URL_IGNORED = re.compile(r"[`\x00-\x20\x7f-\xa0\s]+|[^\x00-\x7f]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")


def is_allowed_url(url: str) -> bool:
    """Whether a link may point at ``url``: any URL with a scheme must name one of
    ``PROTOCOLS``; relative and fragment URLs have none.

    bleach alone let "javascript:123" through: its URL parser reads digits after a colon as a
    port, finds no scheme and allows the value as a relative URL. Here the scheme is read as
    a browser reads it, after entities are decoded (all of HTML's, "&colon;" too) and ignored
    characters removed.
    """
    squeezed = _URL_IGNORED.sub("", unescape(url)).lower()
    scheme = _SCHEME.match(squeezed)
    return scheme is None or scheme.group(1) in PROTOCOLS


def html_to_text(html: str) -> str:
    """Return the plain text of sanitized HTML, for search and meta descriptions.

    Blocks are separated by a blank line, <br> becomes a line break and every other run of
    whitespace becomes one space.
    """
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


def _sanitize(html: str, *, tags: frozenset[str]) -> str:
    depth = nesting_depth(html)
    if depth > MAX_NESTING_DEPTH:
        raise TooDeeplyNested(depth)
    cleaned = html
    for _ in range(_MAX_PASSES):
        again = _clean_once(cleaned, tags=tags)
        if again == cleaned:
            break
        cleaned = again
    return cleaned


def _clean_once(html: str, *, tags: frozenset[str]) -> str:
    # bleach.Cleaner is not used because its `filters` run after its sanitizer, and by then a
    # <script> has already been flattened into its text. This is Cleaner's pipeline (same
    # parser, sanitizer filter and serializer settings) with one step before the sanitizer.
    # Every token that step lets through still meets the sanitizer, so the allowlist alone
    # decides which markup survives.
    if not html:
        return ""
    fragment = _tools.parser(tags=tags).parseFragment(html)
    tokens = _SanitizerFilter(
        source=_ReaderTextWalker(fragment, line_break_tags=BLOCK_TAGS - tags),
        allowed_tags=tags,
        attributes=ATTRIBUTES,
        allowed_protocols=PROTOCOLS,
        strip_disallowed_tags=True,
        strip_html_comments=True,
    )
    return _tools.serializer.render(_LinkRelFilter(tokens))


class _SanitizerFilter(BleachSanitizerFilter):
    """bleach's sanitizer, with every URL's scheme decided by ``is_allowed_url`` first."""

    def sanitize_uri_value(self, value, allowed_protocols):
        if not is_allowed_url(value):
            return None
        return super().sanitize_uri_value(value, allowed_protocols)


class _ThreadTools(threading.local):
    """bleach's parser and serializer keep state while they work, so each thread has its own.

    Building them anew costs a third of the time it takes to clean a short summary.
    """

    def __init__(self) -> None:
        self._parsers: dict[frozenset[str], html5lib_shim.BleachHTMLParser] = {}
        self.serializer = html5lib_shim.BleachHTMLSerializer(
            quote_attr_values="always",
            omit_optional_tags=False,
            escape_lt_in_attrs=True,
            resolve_entities=False,
            sanitize=False,
            alphabetical_attributes=False,
            # Cleaner lets html5lib single-quote a value that holds a double quote, and
            # bleach's serializer then skips its "&" fix-up for that value: the title
            # 'say "hi" &amp; bye' came out as &amp;amp; and gained an "amp;" on every pass.
            use_best_quote_char=False,
        )

    def parser(self, *, tags: frozenset[str]) -> html5lib_shim.BleachHTMLParser:
        if tags not in self._parsers:
            # The parser drops every tag it is not told about while tokenizing, keeping what
            # follows as text. It is also told about the no-reader-text and block tags, so
            # they become elements (parsed as a browser would, <script> and <style> as raw
            # text) that the walker leaves out or turns into line breaks.
            self._parsers[tags] = html5lib_shim.BleachHTMLParser(
                tags=tags | NO_READER_TEXT_TAGS | BLOCK_TAGS,
                strip=True,
                consume_entities=False,
                namespaceHTMLElements=False,
            )
        return self._parsers[tags]


_tools = _ThreadTools()


class _ReaderTextWalker(_EtreeWalker):
    """Walk the parsed fragment as html5lib tokens, leaving out no-reader-text elements and
    putting a line break in place of the start and end tags of `line_break_tags`.

    html5lib's own etree walker finds each element's place by scanning its parent's children,
    which makes a body of many thousand paragraphs take minutes; this walk keeps a stack.
    """

    def __init__(self, tree, *, line_break_tags: frozenset[str]) -> None:
        super().__init__(tree)
        self.line_break_tags = line_break_tags

    def __iter__(self) -> Iterator[dict]:
        fragment = self.tree
        yield from self._text(fragment.text)
        # (children still to walk, the tokens that close their parent, the parent's tail)
        open_elements: list[tuple[Iterator, list[dict], str | None]] = [(iter(fragment), [], None)]
        while open_elements:
            children, closing, tail = open_elements[-1]
            child = next(children, None)
            if child is None:
                open_elements.pop()
                yield from closing
                yield from self._text(tail)
                continue
            opening, closing = self._tags(child)
            yield from opening
            if closing is None:
                yield from self._text(child.tail)
            else:
                yield from self._text(child.text)
                open_elements.append((iter(child), closing, child.tail))

    def _tags(self, node) -> tuple[list[dict], list[dict] | None]:
        """The tokens that open and close `node`, closing None to leave out its content."""
        details = self.getNodeDetails(node)
        if details[0] == Node.COMMENT_NODE:
            return [self.comment(details[1])], None
        if details[0] != Node.ELEMENT_NODE or details[2] in NO_READER_TEXT_TAGS:
            return [], None
        _, namespace, name, attributes, _ = details
        if name in self.line_break_tags:
            return [_line_break()], [_line_break()]
        if namespace is None and name in _VOID_ELEMENTS:
            return list(self.emptyTag(namespace, name, attributes)), None
        return [self.startTag(namespace, name, attributes)], [self.endTag(namespace, name)]

    def _text(self, data: str | None) -> Iterator[dict]:
        # One Characters token, not html5lib's split into Characters and SpaceCharacters:
        # bleach replaces control characters only in Characters, so a form feed at the edge
        # of a text node survived one pass and became "?" in the next.
        if data:
            yield {"type": "Characters", "data": data}


def _line_break() -> dict:
    return {"type": "Characters", "data": "\n"}


class _LinkRelFilter(html5lib_shim.Filter):
    """Give every link rel="noopener noreferrer", replacing whatever the author wrote."""

    def __iter__(self) -> Iterator[dict]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag") and token["name"] == "a":
                token["data"][(None, "rel")] = LINK_REL
            yield token


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._blocks: list[str] = []
        self._lines: list[str] = []
        self._line: list[str] = []
        # html.parser reads script and style as raw text; their code is not reader text
        self._raw_text_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self._end_block()
        elif tag == "br":
            self._end_line()
        elif tag in ("script", "style"):
            self._raw_text_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._end_block()
        elif tag in ("script", "style") and self._raw_text_depth:
            self._raw_text_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._raw_text_depth:
            self._line.append(data)

    def text(self) -> str:
        self._end_block()
        return "\n\n".join(self._blocks)

    def _end_line(self) -> None:
        self._lines.append(" ".join("".join(self._line).split()))
        self._line = []

    def _end_block(self) -> None:
        self._end_line()
        block = "\n".join(self._lines).strip()
        if block:
            self._blocks.append(block)
        self._lines = []


# How an editor is told what went: removed with what they held, or as tags whose text stays.
_ELEMENT_NAMES = {
    "script": "script",
    "style": "style sheet",
    "iframe": "iframe",
    "object": "embedded object",
    "embed": "embedded object",
    "svg": "SVG drawing",
    "math": "formula",
    "template": "template",
    "noscript": "noscript block",
    "textarea": "form field",
    "select": "form field",
    "img": "image",
    "input": "form field",
    "video": "video",
    "audio": "audio",
}
_ARTICLE_AN = ("a", "e", "i", "o", "u", "S")  # "an SVG drawing"


def _removals(html: str, *, tags: frozenset[str]) -> list[str]:
    audit = _RemovalAudit(tags=tags)
    audit.feed(html)
    audit.close()
    return [_counted(what, count) for what, count in audit.found.items()]


def _counted(what: str, count: int) -> str:
    if count == 1:
        return f"{'an' if what.startswith(_ARTICLE_AN) else 'a'} {what}"
    if what.endswith(" (its text is kept)"):
        return f"{count} {what[: -len(' (its text is kept)')]}s (their text is kept)"
    return f"{count} {what}s"


class _RemovalAudit(HTMLParser):
    """Reads markup before sanitizing and counts what the allowlist will take out. It only
    informs the editor: what survives is decided by the sanitizer alone."""

    def __init__(self, *, tags: frozenset[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.tags = tags
        self.found: dict[str, int] = {}
        # Inside an element removed with its content, nothing more is counted.
        self._dropped: list[str] = []

    def _count(self, what: str) -> None:
        self.found[what] = self.found.get(what, 0) + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, self_closing: bool) -> None:
        if self._dropped:
            if tag == self._dropped[-1] and not self_closing:
                self._dropped.append(tag)
            return
        if tag in NO_READER_TEXT_TAGS or tag in _ELEMENT_NAMES:
            self._count(_ELEMENT_NAMES.get(tag, f"<{tag}> element"))
            if tag in NO_READER_TEXT_TAGS and not self_closing:
                self._dropped.append(tag)
        elif tag not in self.tags:
            self._count(f"<{tag}> tag (its text is kept)")
        allowed = ATTRIBUTES.get(tag, []) if tag in self.tags else []
        for name, value in attrs:
            if name.startswith("on"):
                self._count("event attribute")
            elif name == "rel" and tag == "a":
                continue  # replaced by ours on every link
            elif tag in self.tags and name not in allowed:
                self._count(f"{name} attribute")
            elif name == "href" and tag in self.tags and not is_allowed_url(value or ""):
                self._count("unsafe link address")

    def handle_endtag(self, tag: str) -> None:
        if self._dropped and tag == self._dropped[-1]:
            self._dropped.pop()

    def handle_comment(self, data: str) -> None:
        if not self._dropped:
            self._count("comment")

    def parse_marked_section(self, i: int, report: int = 1) -> int:
        """A marked section ("<![CDATA[x]]>", Word's "<![if …]>") is a comment to HTML, up
        to the first ">" (or the end), and the sanitizer drops it with what it holds.
        Python 3.11's parser reads them otherwise, and fails on one it cannot name
        ("<![0")."""
        end = self.rawdata.find(">", i + 3)
        self.handle_comment(self.rawdata[i + 3 : end if end != -1 else None])
        return end + 1 if end != -1 else len(self.rawdata)

"""Reading plain-text stories into their parts. Pure functions: no database.

Two shapes are understood:

* the wire/clipping shape of the seed story: headline; photo captions each ending in a
  credit; a blank-line gap; subhead; "By ..." byline; paragraphs; then page furniture;
* a simple header shape: ``Title:``, ``Source:``, ``Date:``, ``Byline:`` lines (``Dek:``,
  ``Dateline:`` and ``URL:`` optional), a blank line, then paragraphs.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
from dataclasses import dataclass, field

from .text import without_control_characters

# Web-page leftovers that clippings carry below the story; everything from the first one on
# is dropped.
PAGE_FURNITURE = ("Top 10 Stories", "LETTER", "Sign up for eNewsletter", "Most Read")

HEADER_KEYS = ("title", "source", "date", "byline", "dek", "dateline", "url")
_HEADER_LINE = re.compile(r"^(?P<key>[A-Za-z]+):\s*(?P<value>.*)$")
# A photo credit at the end of a caption: "AP-Yonhap", "AFP", "AP", "Reuters", "Yonhap".
_CREDIT = re.compile(
    r"^(?P<caption>.*[.!?”\"])\s+(?P<credit>[A-Z][\w&/-]*(?:[ -][A-Z][\w&/-]*){0,2})$"
)


class StoryFormatError(ValueError):
    """The file is not a story in a shape we understand."""


@dataclass
class ParsedFigure:
    caption: str
    credit: str = ""


@dataclass
class ParsedStory:
    headline: str
    paragraphs: list[str]
    dek: str = ""
    byline: str = ""
    outlet: str = ""
    dateline: str = ""
    original_url: str = ""
    published_on: dt.date | None = None
    figures: list[ParsedFigure] = field(default_factory=list)

    @property
    def body_html(self) -> str:
        return "\n".join(
            f"<p>{html.escape(paragraph, quote=False)}</p>" for paragraph in self.paragraphs
        )


def _blocks(text: str) -> list[tuple[int, str]]:
    """Paragraph blocks with the number of blank lines that preceded each."""
    blocks: list[tuple[int, str]] = []
    blank_run = 0
    current: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line.strip():
            if not current:
                start_gap = blank_run
            current.append(line.strip())
            blank_run = 0
        else:
            if current:
                blocks.append((start_gap, " ".join(current)))
                current = []
            blank_run += 1
    if current:
        blocks.append((start_gap, " ".join(current)))
    return blocks


def _drop_furniture(blocks: list[tuple[int, str]]) -> list[tuple[int, str]]:
    for index, (_, block) in enumerate(blocks):
        if block.strip() in PAGE_FURNITURE:
            return blocks[:index]
    return blocks


def parse_story(text: str) -> ParsedStory:
    text = text.lstrip("\ufeff")
    _refuse_invisible_headline(text)
    # Stray control characters (a NUL, a word processor's vertical tab) go here, not only in
    # the models' save: figure captions are written in bulk, without one.
    text = without_control_characters(text, multiline=True)
    if not text.strip():
        raise StoryFormatError("The file is empty.")
    first_line = text.strip().split("\n", 1)[0]
    match = _HEADER_LINE.match(first_line)
    if match and match.group("key").lower() in HEADER_KEYS:
        return _parse_header_story(text)
    return _parse_clipping(text)


def _refuse_invisible_headline(text: str) -> None:
    """Refuse a story whose headline is only control characters: removing them would leave
    no headline or, in the clipping shape, quietly make the next paragraph the headline."""
    lines = [line.strip() for line in re.split(r"\r\n|\r|\n", text)]
    visible = [line for line in lines if _is_visible(line)]
    if not visible:
        return  # an empty file, which parse_story refuses as one
    if _header_key(visible[0]) in HEADER_KEYS:
        titles = [line for line in lines if _header_key(line) == "title"]
        headline = titles[0].partition(":")[2] if titles else ""
    else:
        # The clipping shape's headline: its first block of lines.
        first = next(number for number, line in enumerate(lines) if line)
        headline = " ".join(itertools.takewhile(bool, lines[first:]))
    if headline.strip() and not _is_visible(headline):
        raise StoryFormatError(
            "The headline holds only invisible control characters (pasted from another "
            "program?): type it again."
        )


def _is_visible(line: str) -> bool:
    return bool(without_control_characters(line, multiline=False).strip())


def _header_key(line: str) -> str:
    match = _HEADER_LINE.match(without_control_characters(line, multiline=False).strip())
    return match.group("key").lower() if match else ""


def _parse_header_story(text: str) -> ParsedStory:
    # The headers end at the first blank line (which may hold stray spaces or tabs).
    header_text, *rest_parts = re.split(
        r"\n[ \t]*\n", text.strip().replace("\r\n", "\n"), maxsplit=1
    )
    rest = rest_parts[0] if rest_parts else ""
    headers: dict[str, str] = {}
    for line in header_text.split("\n"):
        match = _HEADER_LINE.match(line.strip())
        if not match:
            raise StoryFormatError(f"Header line is not “Key: value”: {line.strip()!r}")
        key = match.group("key").lower()
        if key not in HEADER_KEYS:
            raise StoryFormatError(
                f"Unknown header {match.group('key')!r}; expected one of "
                + ", ".join(k.capitalize() for k in HEADER_KEYS)
            )
        headers[key] = match.group("value").strip()
    if not headers.get("title"):
        raise StoryFormatError("The Title: header is missing or empty.")
    paragraphs = [block for _, block in _drop_furniture(_blocks(rest))]
    if not paragraphs:
        raise StoryFormatError("The story has no paragraphs after its headers.")
    published_on = None
    if headers.get("date"):
        try:
            published_on = dt.date.fromisoformat(headers["date"])
        except ValueError:
            raise StoryFormatError(
                f"Date: {headers['date']!r} is not a date in YYYY-MM-DD form."
            ) from None
    return ParsedStory(
        headline=headers["title"],
        paragraphs=paragraphs,
        dek=headers.get("dek", ""),
        byline=_strip_by(headers.get("byline", "")),
        outlet=headers.get("source", ""),
        dateline=headers.get("dateline", ""),
        original_url=headers.get("url", ""),
        published_on=published_on,
    )


def _strip_by(byline: str) -> str:
    return re.sub(r"^By\s+", "", byline.strip(), flags=re.IGNORECASE)


def _parse_clipping(text: str) -> ParsedStory:
    blocks = _drop_furniture(_blocks(text))
    if len(blocks) < 2:
        raise StoryFormatError("A story needs a headline and at least one paragraph.")
    headline = blocks[0][1]
    rest = blocks[1:]
    byline_index = next(
        (
            i
            for i, (_, block) in enumerate(rest)
            if re.match(r"^By\s+\S", block) and len(block) < 120
        ),
        None,
    )
    figures: list[ParsedFigure] = []
    dek = byline = ""
    if byline_index is not None:
        byline = _strip_by(rest[byline_index][1])
        before = rest[:byline_index]
        # Captions come first; a gap of two or more blank lines separates them from the
        # subhead, which is the last short block before the byline.
        if before and len(before[-1][1]) <= 200 and not _CREDIT.match(before[-1][1]):
            dek = before[-1][1]
            before = before[:-1]
        for _, block in before:
            match = _CREDIT.match(block)
            if match:
                figures.append(
                    ParsedFigure(caption=match.group("caption"), credit=match.group("credit"))
                )
            else:
                figures.append(ParsedFigure(caption=block))
        paragraphs = [block for _, block in rest[byline_index + 1 :]]
    else:
        paragraphs = [block for _, block in rest]
    if not paragraphs:
        raise StoryFormatError("The story has no paragraphs after its byline.")
    return ParsedStory(
        headline=headline, paragraphs=paragraphs, dek=dek, byline=byline, figures=figures
    )

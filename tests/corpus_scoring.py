"""Scoring the linker against the name-resolution corpus (tests/corpus/, issue #11). Pure:
the gold file's spans and the linker's links in, counts out. Shared by the corpus test and
``bench/names.py``, so both read the gold file one way."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    entry: str = ""  # empty for a span that must not link
    rule: str = ""

    def overlaps(self, start: int, end: int) -> bool:
        return start < self.end and self.start < end


@dataclass(frozen=True)
class GoldStory:
    file: str
    date: str
    links: tuple[Span, ...]
    must_not_link: tuple[Span, ...]

    @property
    def path(self) -> Path:
        return CORPUS / self.file

    def first_links(self) -> tuple[Span, ...]:
        """What first-mention mode should link: each entry's first gold span."""
        seen: set[str] = set()
        first = []
        for span in sorted(self.links, key=lambda span: span.start):
            if span.entry not in seen:
                seen.add(span.entry)
                first.append(span)
        return tuple(first)


def _nth(text: str, quote: str, occurrence: int) -> int:
    position = -1
    for _ in range(occurrence):
        position = text.find(quote, position + 1)
        if position == -1:
            raise ValueError(f"“{quote}” does not occur {occurrence} times.")
    return position


def _spans(text: str, rows: list[dict]) -> tuple[Span, ...]:
    spans = []
    for row in rows:
        start = _nth(text, row["quote"], row["occurrence"])
        spans.append(Span(start, start + len(row["quote"]), row.get("entry", ""), row["rule"]))
    return tuple(spans)


def gold_stories(body_text_of) -> list[GoldStory]:
    """The gold file's stories, with spans as offsets into ``body_text_of(file)``, the
    story's text as the linker sees it."""
    data = json.loads((CORPUS / "gold.json").read_text(encoding="utf-8"))
    stories = []
    for story in data["stories"]:
        text = body_text_of(story["file"])
        stories.append(
            GoldStory(
                file=story["file"],
                date=story["date"],
                links=_spans(text, story["links"]),
                must_not_link=_spans(text, story["must_not_link"]),
            )
        )
    return stories


@dataclass
class Score:
    expected: int = 0
    found: int = 0
    linked: int = 0
    correct: int = 0
    wrong: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.correct / self.linked if self.linked else 1.0

    def add(self, other: Score) -> None:
        self.expected += other.expected
        self.found += other.found
        self.linked += other.linked
        self.correct += other.correct
        self.wrong += other.wrong
        self.missed += other.missed


def score(
    story: GoldStory, links: list[tuple[int, int, str]], text: str, *, first_only: bool
) -> Score:
    """How ``links`` ((start, end, entry slug) of every link the linker made) compare with
    the gold: a link is correct if it overlaps a gold link to the same entry (and no
    must-not-link span); anything else is wrong."""
    expected = story.first_links() if first_only else story.links
    result = Score(expected=len(expected), linked=len(links))
    for span in expected:
        if any(span.overlaps(s, e) and entry == span.entry for s, e, entry in links):
            result.found += 1
        else:
            result.missed.append(f"{story.file}: “{text[span.start : span.end]}” → {span.entry}")
    for start, end, entry in links:
        forbidden = [span for span in story.must_not_link if span.overlaps(start, end)]
        right = any(span.overlaps(start, end) and span.entry == entry for span in story.links)
        if right and not forbidden:
            result.correct += 1
        else:
            why = forbidden[0].rule if forbidden else "not a gold link"
            result.wrong.append(f"{story.file}: “{text[start:end]}” → {entry} ({why})")
    return result

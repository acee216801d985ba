import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from explainer.importing import StoryFormatError, parse_story
from explainer.models import Article
from explainer.scheduling import batched, run_now
from explainer.services import article_import, article_name_suggestions


# A word: letters, with inner hyphens and apostrophes ("Jong-un", "People's", "O’Brien").
def parse_date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date in YYYY-MM-DD form.") from None
    # Midday UTC keeps the calendar date the same for readers in Seoul and in New York.
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


@dataclass
class Outcome:
    """One file's line in the summary."""

    path: Path
    headline: str = ""
    status: str = "failed"
    found: int = 0
    linked: int = 0
    suggestions: list[str] = field(default_factory=list)
    note: str = ""  # why it was skipped, or what a forced import overwrote


class Command(BaseCommand):
    help = (
        "Import plain-text stories (the clipping shape of the seed story, or a Title:/Source:/"
        "Date:/Byline: header shape) as articles with their mentions found. Each file is one "
        "transaction: a bad file is reported and leaves nothing behind. Ends with a summary: "
        "each story's mentions, and the names in it that no alias covers yet. A story an "
        "editor changed since its last import is skipped and reported, unless --force; an "
        "unchanged file writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--outlet", default="", help="Publication the stories ran in.")
        parser.add_argument("--url", default="", help="Original URL (single file only).")
        parser.add_argument("--date", default="", help="Publication date, YYYY-MM-DD.")
        parser.add_argument(
            "--publish", action="store_true", help="Publish instead of creating drafts."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite stories edited since their last import. The editor's version "
            "stays in each story's History, where it can be restored.",
        )

    def handle(self, *args, paths, outlet, url, date, publish, force, **options):
        if url and len(paths) > 1:
            raise CommandError("--url names one story's original; give one file with it.")
        published_at = parse_date(date) if date else None
        outcomes = []
        for number, path in enumerate(paths, start=1):
            prefix = f"[{number}/{len(paths)}] {path}" if len(paths) > 1 else str(path)
            if len(paths) > 1:
                self.stderr.write(prefix)
            outcome = Outcome(path=path)
            outcomes.append(outcome)
            try:
                story = parse_story(path.read_text(encoding="utf-8"))
                outcome.headline = story.headline
                with batched() as batch, transaction.atomic():
                    result = article_import(
                        story,
                        outlet=outlet,
                        original_url=url,
                        published_at=published_at,
                        publish=publish,
                        force=force,
                        comment=f"Imported from {path.name} by import_article"
                        + (" --force" if force else ""),
                    )
            except (
                OSError,
                UnicodeDecodeError,
                StoryFormatError,
                ValidationError,
                ValueError,
            ) as error:
                self.stderr.write(f"{prefix}: not imported: {_describe(error)}")
                continue
            outcome.status = result.status
            if result.status == "skipped":
                outcome.note = f"skipped: {result.reason}."
            elif result.forced:
                outcome.note = (
                    f"overwrote an editor's changes ({', '.join(result.forced)}); their "
                    "version is in the story's History."
                )
            # The summary reports the links, so wait for this story's relink.
            run_now(batch.job)
            _count_mentions(result.article, outcome)
        self._write_summary(outcomes)
        failures = sum(1 for outcome in outcomes if outcome.status == "failed")
        if failures:
            raise CommandError(f"{failures} of {len(paths)} files were not imported.")

    def _write_summary(self, outcomes: list[Outcome]) -> None:
        rows = [["File", "Headline", "Status", "Mentions (linked)", "Suggestions"]]
        for outcome in outcomes:
            failed = outcome.status == "failed"
            rows.append(
                [
                    str(outcome.path),
                    _shorten(outcome.headline, 60) or "—",
                    outcome.status,
                    "—" if failed else f"{outcome.found} ({outcome.linked})",
                    "—" if failed else str(len(outcome.suggestions)),
                ]
            )
        widths = [max(_width(row[column]) for row in rows) for column in range(len(rows[0]))]
        for row in rows:
            cells = [
                cell + " " * (width - _width(cell)) for cell, width in zip(row, widths, strict=True)
            ]
            self.stdout.write("  ".join(cells).rstrip())
        noted = [outcome for outcome in outcomes if outcome.note]
        if noted:
            self.stdout.write("")
        for outcome in noted:
            self.stdout.write(f"{outcome.path}: {outcome.note}")
        listed = [outcome for outcome in outcomes if outcome.suggestions]
        if listed:
            self.stdout.write("\nNames no alias covers yet (add them as entries or aliases):")
        for outcome in listed:
            names = ", ".join(outcome.suggestions[:5])
            more = len(outcome.suggestions) - 5
            self.stdout.write(
                f"  {outcome.path}: {names}" + (f" and {more} more" if more > 0 else "")
            )


def _count_mentions(article: Article, outcome: Outcome) -> None:
    mentions = list(
        article.mentions.filter(is_orphaned=False).values_list("start", "quote", "is_linked")
    )
    outcome.found = len(mentions)
    outcome.linked = sum(1 for _, _, is_linked in mentions if is_linked)
    outcome.suggestions = article_name_suggestions(article)


def _width(text: str) -> int:
    """Columns the text takes in a terminal: Hangul and other wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _shorten(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    while _width(text) > limit - 1:
        text = text[:-1]
    return text.rstrip() + "…"


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return str(error)

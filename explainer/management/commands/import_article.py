import datetime as dt
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from explainer.importing import StoryFormatError, parse_story
from explainer.services import article_import


def parse_date(value: str) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date {value!r} is not a date in YYYY-MM-DD form.") from None
    # Midday UTC keeps the calendar date the same for readers in Seoul and in New York.
    return dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)


class Command(BaseCommand):
    help = (
        "Import plain-text stories (the clipping shape of the seed story, or a Title:/Source:/"
        "Date:/Byline: header shape) as articles with their mentions found. Each file is one "
        "transaction: a bad file is reported and leaves nothing behind."
    )

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--outlet", default="", help="Publication the stories ran in.")
        parser.add_argument("--url", default="", help="Original URL (single file only).")
        parser.add_argument("--date", default="", help="Publication date, YYYY-MM-DD.")
        parser.add_argument(
            "--publish", action="store_true", help="Publish instead of creating drafts."
        )

    def handle(self, *args, paths, outlet, url, date, publish, **options):
        if url and len(paths) > 1:
            raise CommandError("--url names one story's original; give one file with it.")
        published_at = parse_date(date) if date else None
        failures = 0
        for number, path in enumerate(paths, start=1):
            prefix = f"[{number}/{len(paths)}] {path}"
            try:
                story = parse_story(path.read_text(encoding="utf-8"))
                with transaction.atomic():
                    article, created = article_import(
                        story,
                        outlet=outlet,
                        original_url=url,
                        published_at=published_at,
                        publish=publish,
                    )
            except (
                OSError,
                UnicodeDecodeError,
                StoryFormatError,
                ValidationError,
                ValueError,
            ) as error:
                failures += 1
                self.stderr.write(f"{prefix}: not imported: {_describe(error)}")
                continue
            linked = article.mentions.filter(is_linked=True).count()
            verb = "created" if created else "updated"
            self.stdout.write(
                f"{prefix}: {verb} “{article.headline}” ({article.status}), "
                f"{linked} mentions linked"
            )
        if failures:
            raise CommandError(f"{failures} of {len(paths)} files were not imported.")


def _describe(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return str(error)

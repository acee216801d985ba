import datetime as dt
import json
from pathlib import Path

import reversion
from django.core.management.base import BaseCommand
from django.db import transaction

from explainer.importing import parse_story
from explainer.library_file import library_load
from explainer.scheduling import batched, run_now
from explainer.services import article_import

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
SEED_STORY = DEMO_DIR / "korea-times-2019-04-25-kim-putin-summit.txt"
CONTEXT_LIBRARY = DEMO_DIR / "context_library.json"


class Command(BaseCommand):
    help = (
        "Load the demo: the context library and The Korea Times' story of 25 April 2019 on "
        "the first Kim Jong-un / Vladimir Putin summit. Safe to run again: it updates in place, "
        "writes nothing that is already as the demo has it, and leaves alone (and names) what "
        "an editor changed since."
    )

    def handle(self, *args, **options):
        with transaction.atomic(), batched() as batch, reversion.create_revision():
            reversion.set_comment("Loaded with the demo")
            report = library_load(json.loads(CONTEXT_LIBRARY.read_text(encoding="utf-8")))
            story = article_import(
                parse_story(SEED_STORY.read_text(encoding="utf-8")),
                outlet="The Korea Times",
                original_url="https://m.koreatimes.co.kr/pages/article.amp.asp?newsIdx=267789",
                published_at=dt.datetime(2019, 4, 25, 12, 0, tzinfo=dt.UTC),
                publish=True,
            )
        article = story.article
        # Loading waits for its links, so the demo is whole when `make run` serves it.
        run_now(batch.job)
        linked = article.mentions.filter(is_linked=True).count()
        skipped = "".join(
            f"\n  {slug}: skipped: {reason}." for slug, reason in report.skipped.items()
        )
        self.stdout.write(
            f"Context library: {len(report.created)} entries created, {len(report.updated)} "
            f"updated, {len(report.unchanged)} unchanged, {len(report.skipped)} skipped.{skipped}\n"
            f"Story: “{article.headline}” at {article.get_absolute_url()} "
            f"with {linked} mentions linked ({story.status}"
            + (f": {story.reason}" if story.reason else "")
            + ")."
        )

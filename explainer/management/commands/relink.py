"""Relink stories now, in this process, with a progress bar and a summary."""

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from explainer import scheduling
from explainer.models import Actor, Article, BackgroundNote


class Command(BaseCommand):
    help = (
        "Relink every story, the stories that mention or contain an entry, or one story. "
        "Runs here and waits; with --background the workers do it instead."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--all", action="store_true", help="Every story in the archive.")
        which.add_argument("--entry", metavar="SLUG", help="An actor's or a note's slug.")
        which.add_argument("--story", metavar="SLUG", help="A story's slug.")
        parser.add_argument(
            "--background", action="store_true", help="Queue the job for the workers and exit."
        )

    def handle(self, *args, all=False, entry=None, story=None, background=False, **options):
        scope, reason, subject = self.scope(all=all, entry=entry, story=story)
        job = scheduling.create_job(scope=scope, reason=reason, subject=subject, enqueue=background)
        if background:
            self.stdout.write(f"Queued job {job.pk}: {reason}.")
            return
        if job.status == job.Status.PLANNING:
            scheduling.plan_job(job, enqueue=False)
        with tqdm(
            total=job.total or 0,
            unit="story",
            file=self.stderr,
            disable=options["verbosity"] == 0,
        ) as bar:
            summary = scheduling.run_now(job, progress=bar.update)
        self.stdout.write(
            f"Relinked {summary.relinked:,} of {job.total:,} stories ({reason}); "
            f"{summary.gone:,} no longer exist; {len(summary.failed):,} failed."
        )
        for pending in job.pending.exclude(last_error="").select_related("article")[:20]:
            self.stdout.write(f"  failed: {pending.article.slug}: {pending.last_error}")
        if summary.failed:
            raise CommandError(f"{len(summary.failed)} stories could not be relinked.")

    def scope(self, *, all: bool, entry: str | None, story: str | None):
        if all:
            return {"all": True}, "Every story relinked", None
        if story is not None:
            article = Article.objects.filter(slug=story).first()
            if article is None:
                raise CommandError(f"No story has the slug “{story}”.")
            return {"stories": [article.pk]}, f"Story relinked: {article}", article
        for model in (Actor, BackgroundNote):
            found = model.objects.filter(slug=entry).first()
            if found is not None:
                phrases = list(found.aliases.values_list("normalized", flat=True))
                return (
                    {"entries": [found.entry_key], "phrases": phrases},
                    f"Stories naming {found} relinked",
                    found,
                )
        raise CommandError(f"No actor or background note has the slug “{entry}”.")

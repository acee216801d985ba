"""Run a background worker: the task engine's own worker (django-tasks-db's ``db_worker``,
or RQ's worker when ``DJANGO_TASKS_BACKEND=rq``), plus a sweep that hands back to the
engine the relinks a killed worker left unfinished."""

import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from explainer import scheduling


class Command(BaseCommand):
    help = (
        "Run a background worker for relinking. Start as many as you like, on as many "
        "machines: they share the queue (the database, or Redis with DJANGO_TASKS_BACKEND=rq)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=None,
            help="Seconds between sweeps for abandoned relinks (default: half the stale time).",
        )
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run what is queued now, then exit (database backend).",
        )

    def handle(self, *args, sweep_interval=None, batch=False, **options):
        interval = sweep_interval or max(settings.RELINK_STALE_SECONDS / 2, 0.5)
        stop = threading.Event()
        found = scheduling.sweep()
        if found:
            self.stdout.write(f"Handed {found} unfinished stories back to the queue.")
        sweeper = threading.Thread(target=self.sweep_until, args=(stop, interval), daemon=True)
        sweeper.start()
        try:
            if settings.TASKS_BACKEND == "rq":
                call_command(
                    "rqworker",
                    "default",
                    job_class="django_tasks_rq.backend.Job",
                    with_scheduler=True,
                    burst=batch,
                )
            else:
                call_command(
                    "db_worker",
                    batch=batch,
                    reload=False,
                    interval=0.5,
                    verbosity=options["verbosity"],
                )
        finally:
            stop.set()

    def sweep_until(self, stop: threading.Event, interval: float) -> None:
        while not stop.wait(interval):
            try:
                scheduling.sweep()
            except Exception as error:  # the sweep must never stop the worker
                self.stderr.write(f"Sweep failed: {error}")
            finally:
                close_old_connections()

"""Read a context library written by ``export_context`` (or by hand, in the shape of
``explainer/demo/context_library.json``): check all of it, then load it in one transaction
(``explainer/library_file.py``)."""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from explainer.library_file import LibraryProblems, library_load


class Command(BaseCommand):
    help = (
        "Load a context library file (from export_context, or in the shape of "
        "explainer/demo/context_library.json). The whole file is checked first: any problem "
        "is reported and nothing is written. Entries are matched by slug; importing the same "
        "file again changes nothing. An entry an editor changed since its last import is "
        "skipped and reported, unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path, help="The JSON file to read.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Overwrite entries edited since their last import. The editor's version "
            "stays in each entry's History, where it can be restored.",
        )

    def handle(self, *args, path, force, **options):
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {path}: {error}") from None
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{path} is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}. Nothing was imported."
            ) from None
        comment = f"Imported from {path.name} by import_context" + (" --force" if force else "")
        try:
            report = library_load(data, force=force, comment=comment)
        except LibraryProblems as error:
            problems = error.problems
            raise CommandError(
                f"{path} has {len(problems)} problem{'s' if len(problems) != 1 else ''}; "
                "nothing was imported:\n" + "\n".join(f"  {problem}" for problem in problems)
            ) from None
        except (DatabaseError, ValidationError) as error:
            raise CommandError(f"Nothing was imported: {error}") from error
        skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
        self.stdout.write(
            f"Imported {report.total} entries from {path}: {len(report.created)} created, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged{skipped}."
        )
        for slug, reason in report.skipped.items():
            self.stdout.write(f"  {slug}: skipped: {reason}.")
        for slug, changed in report.forced.items():
            self.stdout.write(
                f"  {slug}: overwrote an editor's changes ({', '.join(changed)}); their "
                "version is in the entry's History."
            )

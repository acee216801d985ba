"""Write the context library as JSON, in the shape ``import_context`` and ``load_demo``
read (``explainer/library_file.py`` defines it)."""

from pathlib import Path

from django.core.management.base import BaseCommand

from explainer.library_file import library_export, library_json


class Command(BaseCommand):
    help = (
        "Write the whole context library (actors and background notes with every editable "
        "field, their aliases, sources, roles, dated updates and relations) as UTF-8 JSON in "
        "the shape import_context and load_demo read. Sorted by slug: the same library "
        "always gives the same bytes."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            nargs="?",
            default="-",
            help="File to write; “-” or none for standard output.",
        )

    def handle(self, *args, path, **options):
        data = library_export()
        text = library_json(data)
        if path == "-":
            # Write UTF-8 bytes whatever the terminal's locale says, when the stream allows it.
            buffer = getattr(self.stdout, "buffer", None)
            if buffer is None:
                self.stdout.write(text, ending="")
            else:
                self.stdout.flush()
                buffer.write(text.encode("utf-8"))
                buffer.flush()
            return
        Path(path).write_text(text, encoding="utf-8", newline="\n")
        self.stdout.write(
            f"Wrote {len(data['actors'])} actors and {len(data['notes'])} background notes "
            f"to {path}."
        )

"""Compress what relinking writes with LZ4 on PostgreSQL.

Each relink writes a story's linked body and its stored page, tens of kilobytes that
PostgreSQL compresses out of line (TOAST). Its default compression, pglz, was most of the
relink's UPDATE: measured on this machine, 0.69 ms an UPDATE of a page and its body with
pglz against 0.39 ms with LZ4 (reads 8% faster too). Only values written from now on are
compressed with LZ4; the others stay readable as they are.

PostgreSQL 14 and later, when built with LZ4 (Debian's and the official images are);
without it the columns keep pglz. SQLite compresses nothing: nothing to do.
"""

from django.db import migrations

TABLE = "explainer_article"
COLUMNS = ("linked_body_html", "page_html")


def set_compression(schema_editor, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        return
    if method == "lz4":
        with connection.cursor() as cursor:
            # The settings a server built without LZ4 refuses.
            cursor.execute(
                "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
                " AND 'lz4' = ANY(enumvals)"
            )
            if cursor.fetchone() is None:
                return
    changes = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in COLUMNS)
    schema_editor.execute(f"ALTER TABLE {TABLE} {changes}")


def use_lz4(apps, schema_editor):
    set_compression(schema_editor, "lz4")


def use_default(apps, schema_editor):
    set_compression(schema_editor, "default")


class Migration(migrations.Migration):
    dependencies = [("explainer", "0019_library_and_front_page_indexes")]

    operations = [migrations.RunPython(use_lz4, use_default)]

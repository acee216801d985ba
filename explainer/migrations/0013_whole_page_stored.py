"""The whole story page stored by relinking, and room for its next version.

``page_html`` now holds the whole document (``stories.render_page``) and ``page_format``
the deploy it was rendered for; the JSON-LD it held apart is in the page. A page stored
before is not current (its format is blank) until the story is next relinked.

On SQLite, adding and removing columns rebuilds ``explainer_article``, which drops the
triggers of its full-text table: they are created again after (as in 0012).

On PostgreSQL, room on each page of the table for the row's next version.

A relink rewrites a story's row (its linked body and stored page) but no indexed column, so
PostgreSQL can keep the new version on the same page and leave every index alone (a
"heap-only tuple" update), if the page has room: with the default fill factor of 100 it
rarely does, and each relink then adds the story's every word to the full-text index again.
Measured on 100,000 stories: the relink's UPDATE took 0.68 ms with 1% of updates heap-only,
0.37 ms with a fill factor of 70.

Only pages written from now on are filled to 70%: ``VACUUM FULL explainer_article`` applies
it to an existing archive (docs/deploy.md).
"""

import importlib

from django.db import migrations, models

TABLE = "explainer_article"
page_html = importlib.import_module("explainer.migrations.0012_article_page_html")


def leave_room(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 70)")


def fill_pages(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0012_article_page_html"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, page_html.restore_story_search),
        migrations.RemoveField(model_name="article", name="page_json_ld"),
        migrations.AddField(
            model_name="article",
            name="page_format",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.RunPython(page_html.restore_story_search, migrations.RunPython.noop),
        migrations.RunPython(leave_room, fill_pages),
    ]

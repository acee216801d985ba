"""The story page as relinking stores it (``stories.render_page``).

No data migration: a story whose page is not stored yet is rendered in full until it is
next relinked; ``manage.py relink --all`` stores every page at once.

On SQLite, adding these columns rebuilds ``explainer_article`` (``_remake_table``), which
drops the triggers that keep its full-text table in step (see 0010): they are created
again, and the table rebuilt, after the columns are added and after they are removed.
"""

import importlib

from django.db import migrations, models

text_indexes = importlib.import_module("explainer.migrations.0010_text_indexes")
STORY_WORDS = "explainer_article_fts"


def restore_story_search(apps, schema_editor):
    text_indexes.rebuild_sqlite_table(schema_editor, STORY_WORDS)


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0011_relink_jobs"),
    ]

    operations = [
        # Undone last, after the columns are removed.
        migrations.RunPython(migrations.RunPython.noop, restore_story_search),
        migrations.AddField(
            model_name="article",
            name="page_html",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="article",
            name="page_json_ld",
            field=models.TextField(default="", editable=False),
        ),
        migrations.AddField(
            model_name="article",
            name="page_rendered_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(restore_story_search, migrations.RunPython.noop),
    ]

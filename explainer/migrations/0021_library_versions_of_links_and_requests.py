"""The library version each story was last linked on, and the one each relink request was
asked under (``relinking.read_stories``, ``relinking.write_story``): a worker whose chunk
began before an alias changed neither answers the requests that change made nor writes
over a story another worker linked on the newer library.

No data migration: 0 is older than every library, so existing rows change nothing.

On SQLite, adding a column to ``explainer_article`` rebuilds the table
(``_remake_table``), which drops the triggers that keep its full-text table in step (see
0010 and 0012): they are created again, and the table rebuilt, after the column is added
and after it is removed.
"""

import importlib

from django.db import migrations, models

text_indexes = importlib.import_module("explainer.migrations.0010_text_indexes")
STORY_WORDS = "explainer_article_fts"


def restore_story_search(apps, schema_editor):
    text_indexes.rebuild_sqlite_table(schema_editor, STORY_WORDS)


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0020_relinked_columns_lz4"),
    ]

    operations = [
        # Undone last, after the column is removed.
        migrations.RunPython(migrations.RunPython.noop, restore_story_search),
        migrations.AddField(
            model_name="article",
            name="linked_library_version",
            field=models.PositiveBigIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(restore_story_search, migrations.RunPython.noop),
        migrations.AddField(
            model_name="pendingrelink",
            name="library_version",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]

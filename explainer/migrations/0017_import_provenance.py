"""What the last import wrote (``provenance.py``), on stories and entries.

On SQLite, adding these columns rebuilds the story, actor and note tables (``_remake_table``),
which drops the triggers that keep their full-text tables in step (see 0010): they are
created again, and the tables rebuilt, after the columns are added and after they are removed.
"""

import importlib

from django.db import migrations, models

text_indexes = importlib.import_module("explainer.migrations.0010_text_indexes")
REBUILT = ["explainer_article_fts", "explainer_actor_trigram", "explainer_backgroundnote_trigram"]


def restore_text_search(apps, schema_editor):
    for name in REBUILT:
        text_indexes.rebuild_sqlite_table(schema_editor, name)


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0016_rich_text_fields"),
    ]

    operations = [
        # Undone last, after the columns are removed.
        migrations.RunPython(migrations.RunPython.noop, restore_text_search),
        migrations.AddField(
            model_name="actor",
            name="import_digest",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="actor",
            name="imported_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="article",
            name="import_digest",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="article",
            name="imported_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="backgroundnote",
            name="import_digest",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="backgroundnote",
            name="imported_at",
            field=models.DateTimeField(editable=False, null=True),
        ),
        migrations.RunPython(restore_text_search, migrations.RunPython.noop),
    ]

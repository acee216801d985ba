"""Several entries may share an alias ("Kim"); short forms; titles and holder phrases on
roles; a source's title and date.

On SQLite, altering ``explainer_alias.normalized`` rebuilds the table, which drops the
triggers that keep its trigram table in step (see 0010): they are created again, and the
table rebuilt, after the change and after it is undone.
"""

import importlib

from django.db import migrations, models

import explainer.models

text_indexes = importlib.import_module("explainer.migrations.0010_text_indexes")
ALIAS_WORDS = "explainer_alias_trigram"


def restore_alias_search(apps, schema_editor):
    text_indexes.rebuild_sqlite_table(schema_editor, ALIAS_WORDS)


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0014_headline_in_story_vector"),
    ]

    operations = [
        # Undone last, after the alias table is rebuilt the old way.
        migrations.RunPython(migrations.RunPython.noop, restore_alias_search),
        migrations.AddField(
            model_name="alias",
            name="is_short_form",
            field=models.BooleanField(
                default=False,
                help_text="Needs context: links only after the entry's full name earlier in the same story, or beside a title the entry held on the story's date (“President Moon”, “김 위원장”). Use for surnames (“Kim”, “김”, “金”) and phrases such as “the North”.",
                verbose_name="short form",
            ),
        ),
        migrations.AddField(
            model_name="role",
            name="holder_phrases",
            field=models.TextField(
                blank=True,
                help_text="Phrases that name whoever held the role, with no name, one per line: “the secretary of state”, “Russia's foreign minister”. Only phrases one person holds at a time; never a bare “the president”.",
            ),
        ),
        migrations.AddField(
            model_name="role",
            name="title_forms",
            field=models.TextField(
                blank=True,
                help_text="Other forms of the title that stories put before or after a surname, one per line: “Chairman”, “위원장”. The title itself counts already. “Chairman Kim” then links to whoever was chairman on the story's date.",
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="published_on",
            field=explainer.models.PartialDateField(
                blank=True, help_text="YYYY, YYYY-MM or YYYY-MM-DD.", max_length=10
            ),
        ),
        migrations.AddField(
            model_name="source",
            name="title",
            field=models.CharField(
                blank=True,
                help_text="The headline or document title, as published.",
                max_length=300,
            ),
        ),
        migrations.AlterField(
            model_name="alias",
            name="normalized",
            field=models.CharField(db_index=True, editable=False, max_length=200),
        ),
        migrations.AlterField(
            model_name="source",
            name="label",
            field=models.CharField(
                help_text="For example: Yonhap News Agency.",
                max_length=200,
                verbose_name="publisher",
            ),
        ),
        migrations.AddConstraint(
            model_name="alias",
            constraint=models.UniqueConstraint(
                condition=models.Q(("actor__isnull", False)),
                fields=("actor", "normalized"),
                name="alias_unique_per_actor",
            ),
        ),
        migrations.AddConstraint(
            model_name="alias",
            constraint=models.UniqueConstraint(
                condition=models.Q(("note__isnull", False)),
                fields=("note", "normalized"),
                name="alias_unique_per_note",
            ),
        ),
        migrations.RunPython(restore_alias_search, migrations.RunPython.noop),
    ]

"""Index the text that stories, aliases and entries are looked up by (see textindex.py).

``Article.match_text`` changes form (the words of each text node, see
``textindex.story_index_text``), so existing stories are recomputed in batches first. Then:

- SQLite: FTS5 tables with the triggers that keep them in step with their table (the FTS5
  documentation's "external content" recipe), rebuilt from the rows already there.
- PostgreSQL: pg_trgm, a generated ``match_tsv`` column with GIN indexes, and trigram GIN
  indexes for substring lookups.

None of these are Django fields, so the migration state does not change. On SQLite, a later
migration that makes Django rebuild one of these tables (``_remake_table``, used for most
column changes) drops its triggers with it and must create them again.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from explainer.linking import normalize_alias, parse_html
from explainer.textindex import story_index_text

BATCH_SIZE = 500

ARTICLE_WORDS = "unicode61 remove_diacritics 0 categories 'L* N* Co M*'"


def fts5_table(*, table: str, name: str, columns: list[str], options: str) -> list[str]:
    """An external-content FTS5 table over ``table`` and its three triggers."""
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    listed = ", ".join(columns)
    insert = f"INSERT INTO {name}(rowid, {listed}) VALUES (new.id, {new});"
    delete = f"INSERT INTO {name}({name}, rowid, {listed}) VALUES ('delete', old.id, {old});"
    return [
        f"CREATE VIRTUAL TABLE {name} USING fts5({listed}, content='{table}', "
        f"content_rowid='id', {options})",
        f"CREATE TRIGGER {name}_insert AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {name}_delete AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {name}_update AFTER UPDATE OF {listed} ON {table} "
        f"BEGIN {delete} {insert} END",
        f"INSERT INTO {name}({name}) VALUES ('rebuild')",
    ]


def rebuild_sqlite_table(schema_editor, name: str) -> None:
    """Create one of ``SQLITE_TABLES`` again, with its triggers: SQLite drops a table's
    triggers when a migration rebuilds the table they watch (``_remake_table``)."""
    if schema_editor.connection.vendor != "sqlite":
        return
    for action in ("insert", "delete", "update"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{action}")
    schema_editor.execute(f"DROP TABLE IF EXISTS {name}")
    for statement in fts5_table(name=name, **SQLITE_TABLES[name]):
        schema_editor.execute(statement)


SQLITE_TABLES = {
    "explainer_article_fts": {
        "table": "explainer_article",
        "columns": ["match_text", "headline"],
        "options": f"tokenize=\"{ARTICLE_WORDS}\", prefix='2 3'",
    },
    "explainer_alias_trigram": {
        "table": "explainer_alias",
        "columns": ["normalized"],
        "options": "tokenize='trigram'",
    },
    "explainer_actor_trigram": {
        "table": "explainer_actor",
        "columns": ["description"],
        "options": "tokenize='trigram'",
    },
    "explainer_backgroundnote_trigram": {
        "table": "explainer_backgroundnote",
        "columns": ["description"],
        "options": "tokenize='trigram'",
    },
}

POSTGRESQL_INDEXES = {
    "explainer_article_match_tsv": "explainer_article USING gin (match_tsv)",
    "explainer_article_headline_tsv": (
        "explainer_article USING gin (to_tsvector('simple'::regconfig, headline))"
    ),
    "explainer_alias_normalized_trgm": "explainer_alias USING gin (normalized gin_trgm_ops)",
    "explainer_actor_description_trgm": (
        "explainer_actor USING gin (lower(description) gin_trgm_ops)"
    ),
    "explainer_backgroundnote_description_trgm": (
        "explainer_backgroundnote USING gin (lower(description) gin_trgm_ops)"
    ),
}


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """pg_trgm on PostgreSQL, nothing elsewhere: Django's operation skips other databases
    going forwards, but going backwards it asks them for PostgreSQL's extension table."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


def create_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name, spec in SQLITE_TABLES.items():
            for statement in fts5_table(name=name, **spec):
                schema_editor.execute(statement)
    elif vendor == "postgresql":
        # Without positions (strip): the vector stays small, and lookups never rely on word
        # positions, which PostgreSQL clamps at 16,383.
        schema_editor.execute(
            "ALTER TABLE explainer_article ADD COLUMN match_tsv tsvector GENERATED ALWAYS AS "
            "(strip(to_tsvector('simple'::regconfig, match_text))) STORED"
        )
        for name, definition in POSTGRESQL_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX {name} ON {definition}")


def drop_indexes(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        for name in SQLITE_TABLES:
            for action in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{action}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {name}")
    elif vendor == "postgresql":
        for name in POSTGRESQL_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute("ALTER TABLE explainer_article DROP COLUMN IF EXISTS match_tsv")


def recompute_match_text(apps, schema_editor, *, compute):
    Article = apps.get_model("explainer", "Article")
    articles = Article.objects.using(schema_editor.connection.alias)
    last_pk = 0
    while True:
        batch = list(
            articles.filter(pk__gt=last_pk).order_by("pk").only("pk", "body_html")[:BATCH_SIZE]
        )
        if not batch:
            return
        for article in batch:
            article.match_text = compute(article.body_html)
        articles.bulk_update(batch, ["match_text"])
        last_pk = batch[-1].pk


def match_text_as_words(apps, schema_editor):
    recompute_match_text(apps, schema_editor, compute=story_index_text)


def match_text_as_before(apps, schema_editor):
    recompute_match_text(
        apps, schema_editor, compute=lambda body_html: normalize_alias(parse_html(body_html).text)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("explainer", "0009_entry_publication"),
    ]

    operations = [
        TrigramExtensionOnPostgreSQL(),
        # Before the indexes exist: on SQLite the update trigger would otherwise ask FTS5 to
        # delete words it was never given.
        migrations.RunPython(match_text_as_words, match_text_as_before),
        migrations.RunPython(create_indexes, drop_indexes),
    ]

"""Small ``make_*(**overrides)`` functions for tests."""

import datetime as dt
import itertools

from explainer.models import Actor, Alias, Article, BackgroundNote

_numbers = itertools.count(1)

PUBLISHED_AT = dt.datetime(2019, 4, 25, 12, 0, tzinfo=dt.UTC)


def make_article(*, published: bool = True, **overrides) -> Article:
    number = next(_numbers)
    fields = {
        "headline": f"Story number {number}",
        "body": "<p>Nothing to see here.</p>",
        "status": Article.Status.PUBLISHED if published else Article.Status.DRAFT,
        "published_at": PUBLISHED_AT if published else None,
        "byline": "Lee Min-hyung",
        "outlet": "The Korea Times",
    }
    fields.update(overrides)
    article = Article.objects.create(**fields)
    # Linking happened in a task (at once, in tests), on the database row.
    article.refresh_from_db()
    return article


def make_actor(
    *, aliases: tuple[str, ...] = (), short_forms: tuple[str, ...] = (), **overrides
) -> Actor:
    number = next(_numbers)
    fields = {
        "name": f"Actor {number}",
        "slug": f"actor-{number}",
        "kind": Actor.Kind.PERSON,
        "description": "Someone in the news",
        "summary": "<p>A person.</p>",
    }
    fields.update(overrides)
    actor = Actor.objects.create(**fields)
    Alias.objects.create(actor=actor, text=actor.name)
    for text in aliases:
        Alias.objects.create(actor=actor, text=text)
    for text in short_forms:
        Alias.objects.create(actor=actor, text=text, case_sensitive=True, is_short_form=True)
    return actor


def make_note(*, aliases: tuple[str, ...] = (), **overrides) -> BackgroundNote:
    number = next(_numbers)
    fields = {
        "title": f"Note {number}",
        "slug": f"note-{number}",
        "kind": BackgroundNote.Kind.EVENT,
        "description": "Something that happened",
        "summary": "<p>An event.</p>",
    }
    fields.update(overrides)
    note = BackgroundNote.objects.create(**fields)
    Alias.objects.create(note=note, text=note.title)
    for text in aliases:
        Alias.objects.create(note=note, text=text)
    return note

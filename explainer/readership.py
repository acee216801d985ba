"""Which cards readers open, for editors: a count per entry, story and day, nothing more.

A card counts as read when it stays open for a second or more (Wikipedia's rule for a page
preview "seen"); ``cards.js`` then sends the entry and the story, without cookies. No reader
is identified: the server keeps no address, no time of day and no sequence of reads, only
the day's total for that entry in that story.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Sum

from .models import Actor, Article, BackgroundNote, CardReads, ContextEntry, Mention

# What the dashboard looks back over.
READ_WINDOW_DAYS = 30


def record_card_read(*, entry: ContextEntry, article: Article, day: dt.date) -> None:
    """One more read of ``entry``'s card in ``article`` on ``day``. Two readers at once
    both count: the first creates the day's row, the other finds it and adds to it."""
    where = {entry.entry_field: entry, "article": article, "day": day}
    if CardReads.objects.filter(**where).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            CardReads.objects.create(**where, count=1)
    except IntegrityError:
        CardReads.objects.filter(**where).update(count=F("count") + 1)


def card_is_in_story(*, entry: ContextEntry, article: Article) -> bool:
    """Only a card the story links can be read in it: anything else is not counted."""
    return Mention.objects.filter(
        article=article, is_linked=True, **{entry.entry_field: entry}
    ).exists()


@dataclass(frozen=True)
class MostRead:
    label: str
    url: str
    reads: int


def most_read_cards(*, today: dt.date, limit: int = 10) -> list[MostRead]:
    """The entries whose cards were read most in the last ``READ_WINDOW_DAYS`` days."""
    since = today - dt.timedelta(days=READ_WINDOW_DAYS)
    rows = list(
        CardReads.objects.filter(day__gt=since)
        .values("actor", "note")
        .annotate(reads=Sum("count"))
        .order_by("-reads", "actor", "note")[:limit]
    )
    actors = Actor.objects.in_bulk([row["actor"] for row in rows if row["actor"]])
    notes = BackgroundNote.objects.in_bulk([row["note"] for row in rows if row["note"]])
    result = []
    for row in rows:
        entry = actors.get(row["actor"]) if row["actor"] else notes.get(row["note"])
        if entry is not None:
            result.append(MostRead(entry.label, entry.get_absolute_url(), row["reads"]))
    return result


def stories_nobody_reads(*, stories: list[Article], today: dt.date) -> list[Article]:
    """Of ``stories`` (recent ones), those live for a day or more whose cards nobody read
    in the last ``READ_WINDOW_DAYS`` days, although they link some."""
    since = today - dt.timedelta(days=READ_WINDOW_DAYS)
    day_ago = dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC) - dt.timedelta(days=1)
    read = CardReads.objects.filter(article=OuterRef("pk"), day__gt=since)
    linked = Mention.objects.filter(article=OuterRef("pk"), is_linked=True)
    return list(
        Article.objects.published()
        .filter(pk__in=[story.pk for story in stories], published_at__lte=day_ago)
        .filter(Exists(linked))
        .exclude(Exists(read))
        .only("headline", "slug", "published_at")
        .order_by("-published_at")
    )

"""Which cards readers open: counted per entry, story and day, with no reader data."""

import datetime as dt
import threading

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from explainer.models import Actor, Article, CardReads, Mention
from tests.factories import make_article

READS = "/api/card-reads/"


def linked_actor(story: Article) -> Actor:
    return Actor.objects.filter(mentions__article=story, mentions__is_linked=True).first()


def read(client, entry: str, story: str):
    return client.post(READS, {"entry": entry, "story": story})


def test_a_read_card_is_counted_for_its_entry_story_and_day(client, demo):
    actor = linked_actor(demo)

    first = read(client, actor.slug, demo.slug)
    second = read(client, actor.slug, demo.slug)

    assert first.status_code == second.status_code == 204
    assert "Set-Cookie" not in first and not first.cookies
    row = CardReads.objects.get()
    assert (row.actor, row.note, row.article, row.day) == (
        actor,
        None,
        demo,
        timezone.localdate(),
    )
    assert row.count == 2


def test_reads_on_another_day_are_another_count(client, demo):
    actor = linked_actor(demo)
    read(client, actor.slug, demo.slug)
    with freeze_time(timezone.now() + dt.timedelta(days=1)):
        read(client, actor.slug, demo.slug)

    assert sorted(CardReads.objects.values_list("count", flat=True)) == [1, 1]
    assert CardReads.objects.values("day").distinct().count() == 2


def test_only_counts_are_kept():
    kept = {field.name for field in CardReads._meta.concrete_fields}
    assert kept == {"id", "actor", "note", "article", "day", "count"}


def test_bad_reads_are_refused_and_not_counted(client, demo):
    actor = linked_actor(demo)
    elsewhere = Actor.objects.exclude(mentions__article=demo).first()
    draft = make_article(headline="A draft", body=f"<p>{actor.name} spoke.</p>", published=False)

    assert read(client, "no-such-entry", demo.slug).status_code == 404
    assert read(client, actor.slug, "no-such-story").status_code == 404
    assert read(client, elsewhere.slug, demo.slug).status_code == 404
    assert read(client, actor.slug, draft.slug).status_code == 404
    assert client.post(READS, {"entry": actor.slug}).status_code == 400
    assert client.post(READS, {"story": demo.slug}).status_code == 400
    assert client.get(READS, {"entry": actor.slug, "story": demo.slug}).status_code == 405
    assert not CardReads.objects.exists()


def test_a_suppressed_mention_is_not_a_card_to_read(client, demo):
    actor = linked_actor(demo)
    Mention.objects.filter(article=demo, actor=actor).update(is_linked=False)

    assert read(client, actor.slug, demo.slug).status_code == 404


def test_a_read_costs_the_same_queries_however_many_reads_exist(
    client, demo, django_assert_max_num_queries
):
    actors = list(Actor.objects.filter(mentions__article=demo, mentions__is_linked=True))
    for actor in actors:
        read(client, actor.slug, demo.slug)
    with django_assert_max_num_queries(5):
        assert read(client, actors[0].slug, demo.slug).status_code == 204


@pytest.mark.django_db(transaction=True)
def test_readers_at_the_same_moment_are_all_counted(demo):
    actor = linked_actor(demo)
    readers, each = 6, 5
    start = threading.Barrier(readers)
    statuses: list[int] = []

    def reader():
        client = Client()
        start.wait()
        try:
            for _ in range(each):
                statuses.append(read(client, actor.slug, demo.slug).status_code)
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [204] * (readers * each)
    assert CardReads.objects.get().count == readers * each


def test_dashboard_lists_the_most_read_cards_and_stories_nobody_reads(admin_client, demo):
    quiet = make_article(
        headline="Lavrov in Pyongyang",
        body="<p>Kim Jong-un met Sergei Lavrov.</p>",
        published_at=timezone.now() - dt.timedelta(days=3),
    )
    assert Mention.objects.filter(article=quiet, is_linked=True).exists()
    actor = linked_actor(demo)
    client = Client()
    for _ in range(3):
        read(client, actor.slug, demo.slug)

    page = admin_client.get("/admin/").content.decode()

    most_read = page.split('id="most-read-cards"', 1)[1].split("</div>", 1)[0]
    assert actor.name in most_read and "(3 reads)" in most_read
    unread = page.split('id="unread-stories"', 1)[1].split("</div>", 1)[0]
    assert "Lavrov in Pyongyang" in unread
    assert demo.headline not in unread

"""No edit lost, no save refused. Editors saving at once, with real threads and their own
database connections: of two saves of one story from the same version exactly one wins
and the other is shown the conflict with its input kept; many editors saving different
entries while readers read all succeed (SQLite and PostgreSQL). And stories and entries
too large for one form (Django's 1,000-field limit) still open and save."""

import html
import itertools
import threading

import pytest
from django.db import connection
from django.test import Client

from explainer.models import MAX_BODY_CHARS, Actor, Article, BackgroundNote, PendingRelink
from tests.factories import make_actor, make_article
from tests.test_admin import admin_form, change_url

threaded = pytest.mark.django_db(transaction=True)

ROUNDS = 20
CONFLICT = "after you opened it, so your save was not applied"


def editor_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def run_together(*calls) -> list:
    """Run each call in its own thread, released at the same instant; their results."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list[BaseException] = []

    def run(index: int, call) -> None:
        try:
            barrier.wait(10)
            results[index] = call()
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


@threaded
def test_two_saves_from_one_version_one_wins_and_the_other_sees_the_conflict(admin_user):
    story = make_article(headline="Kim meets Putin in Vladivostok")
    url = change_url(story)
    editors = [editor_client(admin_user), editor_client(admin_user)]

    for round_number in range(ROUNDS):
        loaded = admin_form(editors[0], url)  # both editors opened this version
        deks = [f"Round {round_number}: editor {number}'s dek" for number in (0, 1)]

        def save(number: int, loaded=loaded, deks=deks):
            return lambda: editors[number].post(url, {**loaded, "dek": deks[number]})

        responses = run_together(save(0), save(1))

        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200, 302], f"round {round_number}: {statuses}"
        winner = next(n for n, response in enumerate(responses) if response.status_code == 302)
        loser = 1 - winner
        page = html.unescape(responses[loser].content.decode())
        assert CONFLICT in page
        assert deks[loser] in page  # the refused editor's input is still in the form
        story.refresh_from_db()
        assert story.dek == deks[winner]


@threaded
def test_a_save_without_the_version_it_was_based_on_is_refused_with_input_kept(admin_client):
    story = make_article(dek="The first dek")
    url = change_url(story)
    data = admin_form(admin_client, url)
    del data["loaded_version"]

    response = admin_client.post(url, {**data, "dek": "A dek from a script"})

    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert "the form did not say which version you were editing" in page
    assert "A dek from a script" in page
    assert Article.objects.get(pk=story.pk).dek == "The first dek"


@threaded
def test_eight_editors_saving_while_readers_read_all_succeed(admin_user, client):
    actors = [make_actor(name=f"Minister {number}") for number in range(8)]
    story = make_article(body="".join(f"<p>{actor.name} spoke.</p>" for actor in actors))
    forms = [
        (change_url(actor), admin_form(editor_client(admin_user), change_url(actor)))
        for actor in actors
    ]
    descriptions = {
        actor.pk: f"Minister number {number}, as edited" for number, actor in enumerate(actors)
    }

    def edit(actor: Actor, url: str, loaded: dict):
        editor = editor_client(admin_user)
        return lambda: editor.post(url, {**loaded, "description": descriptions[actor.pk]})

    def read(path: str):
        reader = Client()
        return lambda: [reader.get(path) for _ in range(5)]

    paths = [story.get_absolute_url(), actors[0].get_absolute_url(), "/search/?q=minister"]
    results = run_together(
        *(edit(actor, url, loaded) for actor, (url, loaded) in zip(actors, forms, strict=True)),
        *(read(path) for path in paths),
    )

    saves, reads = results[: len(actors)], [r for batch in results[len(actors) :] for r in batch]
    assert [response.status_code for response in saves] == [302] * len(actors)
    assert {response.status_code for response in reads} == {200}
    saved = dict(Actor.objects.filter(pk__in=descriptions).values_list("pk", "description"))
    assert saved == descriptions


@pytest.mark.django_db
def test_a_story_with_thousands_of_linked_mentions_opens_and_saves_within_the_field_limit(
    admin_client, settings
):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    story = make_article(
        body="<p>" + " ".join(["Ri Yong-ho spoke."] * 2_000) + "</p>", link_every_mention=True
    )
    assert story.mentions.filter(is_linked=True).count() == 2_000
    url = change_url(story)

    page = admin_client.get(url)
    data = admin_form(admin_client, url)
    response = admin_client.post(url, {**data, "dek": "Two thousand mentions"})

    assert "Only the first 100 of its 2,000 mentions are shown below." in html.unescape(
        page.content.decode()
    )
    assert f"/admin/explainer/mention/?article__id__exact={story.pk}" in page.content.decode()
    assert len(data) < settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    assert response.status_code == 302
    assert Article.objects.get(pk=story.pk).dek == "Two thousand mentions"
    listed = admin_client.get(f"/admin/explainer/mention/?article__id__exact={story.pk}")
    assert listed.status_code == 200 and "2000 mentions" in listed.content.decode()


@pytest.mark.django_db
def test_an_entry_with_hundreds_of_aliases_can_still_be_saved(admin_client):
    from explainer.linking import normalize_alias
    from explainer.models import Alias

    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    texts = [f"Kim Jong-un variant {number}" for number in range(400)]
    Alias.objects.bulk_create(
        [Alias(actor=actor, text=text, normalized=normalize_alias(text)) for text in texts]
    )
    url = change_url(actor)
    data = admin_form(admin_client, url)

    response = admin_client.post(url, {**data, "description": "Leader of North Korea"})

    assert response.status_code == 302
    assert Actor.objects.get(pk=actor.pk).description == "Leader of North Korea"
    assert actor.aliases.count() == 401


@pytest.mark.django_db
def test_entry_list_counts_the_stories_and_aliases_of_an_entry_with_many_of_both(
    admin_client, django_assert_max_num_queries
):
    from explainer.linking import normalize_alias
    from explainer.models import Alias

    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    texts = [f"Kim Jong-un variant {number}" for number in range(300)]
    Alias.objects.bulk_create(
        [Alias(actor=actor, text=text, normalized=normalize_alias(text)) for text in texts]
    )
    for number in range(3):
        make_article(body=f"<p>Kim Jong-un spoke on day {number}. Kim Jong-un left.</p>")

    with django_assert_max_num_queries(12):
        response = admin_client.get("/admin/explainer/actor/")

    listed = response.context["cl"].result_list
    kim = next(entry for entry in listed if entry.pk == actor.pk)
    assert (kim.num_stories, kim.num_aliases) == (3, 301)


def story_body_of(length: int) -> str:
    """Paragraphs of reporting that name the demo library's actors and notes, as many as
    fit in ``length`` characters."""
    actors = list(Actor.objects.order_by("pk").values_list("name", flat=True))
    notes = list(BackgroundNote.objects.order_by("pk").values_list("title", flat=True))
    paragraphs: list[str] = []
    size = -1  # no line break before the first paragraph
    for day in itertools.count():
        first, second = actors[day % len(actors)], actors[(day + 1) % len(actors)]
        note = notes[day % len(notes)]
        paragraph = (
            f"<p>On day {day} of the talks, {first} met {second} in Vladivostok. Officials "
            f"said the {note} came up at length, and {first} told reporters that &ldquo;the "
            f"<em>{note}</em> is not finished business&rdquo; before leaving for the station.</p>"
        )
        if size + 1 + len(paragraph) > length:
            return "\n".join(paragraphs)
        paragraphs.append(paragraph)
        size += 1 + len(paragraph)


@pytest.mark.django_db
def test_a_story_body_just_under_the_limit_saves_and_is_linked_in_the_background(
    admin_client, demo, settings
):
    # Queued for the workers, as in production: the save itself does not link.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_BACKEND = "db"
    body = story_body_of(990_000)
    assert 980_000 < len(body) < MAX_BODY_CHARS
    url = change_url(demo)
    data = admin_form(admin_client, url)
    linked_before = demo.linked_body_html

    response = admin_client.post(url, {**data, "body": body})

    assert response.status_code == 302
    story = Article.objects.get(pk=demo.pk)
    assert story.body == body
    assert f"On day {body.count('<p>') - 1} of the talks" in story.body_text  # all of it
    assert PendingRelink.objects.filter(article=story, failed_at=None).exists()
    assert story.linked_body_html == linked_before  # readers keep the last linked version

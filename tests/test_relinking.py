"""Background relinking seen from the admin and the commands: an editor's save only asks
for the work, costs the same however large the archive, and shows its progress."""

import io
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from explainer import relinking, scheduling, snapshots
from explainer.models import Actor, Article, LibraryVersion, PendingRelink, RelinkJob
from tests.factories import make_actor, make_article
from tests.test_admin import admin_form, change_url

pytestmark = pytest.mark.django_db

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def queued(settings):
    """Tasks are queued in the database and no worker runs: what an editor's request does,
    on its own."""
    settings.TASKS = DATABASE_TASKS
    settings.TASKS_BACKEND = "db"


def stories_naming(actor_name: str, count: int) -> list[Article]:
    return [
        make_article(headline=f"Story {number}", body=f"<p>{actor_name} spoke on day {number}.</p>")
        for number in range(count)
    ]


def add_alias_through_admin(client, actor, text: str):
    url = change_url(actor)
    data = admin_form(client, url)
    total = int(data["aliases-TOTAL_FORMS"])
    data[f"aliases-{total - 1}-text"] = text
    return client.post(url, data)


def test_alias_added_in_admin_returns_before_stories_are_relinked(admin_client, queued):
    actor = make_actor(name="Ri Yong-ho")
    stories = stories_naming("Foreign Minister Ri", 3)

    response = add_alias_through_admin(admin_client, actor, "Foreign Minister Ri")

    assert response.status_code == 302
    job = RelinkJob.objects.filter(actor=actor).latest("created_at")
    assert job.status == RelinkJob.Status.PLANNING
    for story in stories:
        story.refresh_from_db()
        assert "<a " not in story.linked_body_html  # readers keep the previous version


def test_entry_page_shows_pending_relink_and_polls_for_progress(admin_client, queued):
    actor = make_actor(name="Ri Yong-ho")
    stories_naming("Foreign Minister Ri", 3)
    add_alias_through_admin(admin_client, actor, "Foreign Minister Ri")
    job = RelinkJob.objects.filter(actor=actor).latest("created_at")
    scheduling.plan_job(job, enqueue=False)

    page = admin_client.get(change_url(actor))
    progress_url = f"/admin/explainer/relinkjob/{job.pk}/progress/"
    partial = admin_client.get(progress_url, headers={"HX-Request": "true"})

    assert "Relinking 3 stories: 0 done." in page.content.decode()
    assert f'hx-get="{progress_url}"' in page.content.decode()
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert "Relinking 3 stories: 0 done." in partial.content.decode()


def test_progress_counts_stories_as_they_are_relinked(admin_client, queued):
    actor = make_actor(name="Ri Yong-ho")
    stories = stories_naming("Foreign Minister Ri", 3)
    add_alias_through_admin(admin_client, actor, "Foreign Minister Ri")
    job = RelinkJob.objects.filter(actor=actor).latest("created_at")
    scheduling.plan_job(job, enqueue=False)

    relinking.relink_stories([stories[0].pk])
    halfway = admin_client.get(f"/admin/explainer/relinkjob/{job.pk}/progress/")
    relinking.relink_stories([story.pk for story in stories[1:]])
    scheduling.finish_jobs([job.pk])
    done = admin_client.get(f"/admin/explainer/relinkjob/{job.pk}/progress/")

    assert "Relinking 3 stories: 1 done." in halfway.content.decode()
    assert "Relinked 3 of 3 stories." in done.content.decode()
    assert "hx-trigger" not in done.content.decode()  # finished: it stops asking
    stories[2].refresh_from_db()
    assert "Foreign Minister Ri</a>" in stories[2].linked_body_html


def test_story_page_in_admin_says_its_links_are_pending(admin_client, queued):
    article = make_article(body="<p>Putin spoke.</p>")

    page = admin_client.get(change_url(article)).content.decode()

    assert "Relinking this story" in page
    assert f'hx-get="/admin/explainer/article/{article.pk}/relink-status/"' in page


def test_story_relink_status_partial_says_pending_then_up_to_date(admin_client, queued):
    article = make_article(body="<p>Putin spoke.</p>")
    status_url = f"/admin/explainer/article/{article.pk}/relink-status/"

    pending = admin_client.get(status_url, headers={"HX-Request": "true"}).content.decode()
    relinking.relink_stories([article.pk])
    done = admin_client.get(status_url, headers={"HX-Request": "true"}).content.decode()

    assert "Relinking this story" in pending
    assert f'hx-get="{status_url}"' in pending
    assert "<html" not in pending
    assert "Links are up to date" in done
    assert "hx-get" not in done  # up to date: it stops asking


def test_story_relink_status_partial_needs_staff(client, queued):
    article = make_article(body="<p>Putin spoke.</p>")

    response = client.get(f"/admin/explainer/article/{article.pk}/relink-status/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_entry_save_query_count_does_not_grow_with_the_archive(
    admin_client, queued, django_assert_max_num_queries
):
    small = make_actor(name="Ri Yong-ho")
    large = make_actor(name="Choe Son-hui")
    stories_naming("Ri Yong-ho", 2)
    stories_naming("Choe Son-hui", 40)

    def save_description(actor) -> int:
        url = change_url(actor)
        data = admin_form(admin_client, url)
        data["description"] = "Foreign Minister of North Korea"
        with CaptureQueriesContext(connection) as queries:
            response = admin_client.post(url, data)
        assert response.status_code == 302
        return len(queries)

    assert save_description(large) == save_description(small)


def test_entry_save_refreshes_its_snapshot_once(admin_client, queued, monkeypatch):
    actor = make_actor(name="Ri Yong-ho", aliases=("Ri", "FM Ri", "리용호"))
    refreshed = []
    original = snapshots.entry_refresh_context
    monkeypatch.setattr(
        snapshots,
        "entry_refresh_context",
        lambda entry: refreshed.append(entry.entry_key) or original(entry),
    )
    url = change_url(actor)
    data = admin_form(admin_client, url)
    data["description"] = "Foreign Minister of North Korea"

    admin_client.post(url, data)

    assert refreshed == [actor.entry_key]


def test_one_relink_answers_every_request_made_before_it(queued):
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    with scheduling.batched():
        scheduling.request_relink(stories=[article.pk], reason="first")
    with scheduling.batched():
        scheduling.request_relink(stories=[article.pk], reason="second")
    assert PendingRelink.objects.filter(article=article).count() >= 2

    relinking.relink_stories([article.pk])

    assert not PendingRelink.objects.filter(article=article).exists()


def test_matcher_is_rebuilt_only_when_the_library_changes():
    make_actor(name="Ri Yong-ho")
    first = relinking.current_library()

    again = relinking.current_library()
    make_actor(name="Choe Son-hui")
    after_alias = relinking.current_library()

    assert again is first
    assert after_alias is not first
    assert after_alias.version == LibraryVersion.current()
    assert [hit.targets[0] for hit in after_alias.matcher.find("Choe Son-hui met Ri Yong-ho")] == [
        f"actor:{actor.pk}" for actor in Actor.objects.order_by("name")
    ]


def test_a_story_that_fails_is_recorded_retried_and_does_not_stop_the_others(monkeypatch):
    make_actor(name="Ri Yong-ho")
    broken = make_article(body="<p>Ri Yong-ho spoke.</p>")
    fine = make_article(body="<p>Ri Yong-ho left.</p>")
    real_link = relinking.link_article

    def link_article(article, **kwargs):
        if article.pk == broken.pk:
            raise ValueError("bad data in this story")
        return real_link(article, **kwargs)

    monkeypatch.setattr(relinking, "link_article", link_article)
    make_actor(name="Choe Son-hui", aliases=("Ri",))  # a library change relinks both

    pending = PendingRelink.objects.get(article=broken)
    assert pending.attempts == relinking.MAX_ATTEMPTS
    assert pending.failed_at is not None
    assert "bad data in this story" in pending.last_error
    assert not PendingRelink.objects.filter(article=fine).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's commit setting")
def test_relinks_commit_without_flushing_and_leave_the_setting_as_it_was(monkeypatch):
    make_actor(name="Ri Yong-ho")
    stories = [make_article(body=f"<p>Ri Yong-ho spoke {n}.</p>") for n in range(3)]
    real_write = relinking.write_story
    seen = []

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    def write_story(state, result, **kwargs):
        seen.append(setting())
        if state.article.pk == stories[1].pk:
            raise ValueError("bad data in this story")
        return real_write(state, result, **kwargs)

    monkeypatch.setattr(relinking, "write_story", write_story)
    summary = relinking.relink_stories([story.pk for story in stories])

    assert seen == ["off", "off", "off"]
    assert summary.relinked == 2 and summary.failed == [stories[1].pk]
    assert setting() == "on"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's compression")
def test_what_relinking_writes_is_compressed_with_lz4_where_the_server_has_it():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        )
        has_lz4 = cursor.fetchone()[0]
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute"
            " WHERE attrelid = 'explainer_article'::regclass"
            " AND attname IN ('linked_body_html', 'page_html', 'body_html')"
        )
        compression = dict(cursor.fetchall())

    expected = "l" if has_lz4 else ""
    assert compression == {"linked_body_html": expected, "page_html": expected, "body_html": ""}


def test_relink_command_relinks_one_story_and_prints_a_summary():
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    Article.objects.filter(pk=article.pk).update(linked_body_html="")
    out = io.StringIO()

    call_command("relink", "--story", article.slug, stdout=out, stderr=io.StringIO())

    article.refresh_from_db()
    assert "Relinked 1 of 1 stories" in out.getvalue()
    assert "Ri Yong-ho</a>" in article.linked_body_html


class PausedAfterRead:
    """``relinking.read_stories`` that, in a relink's thread, stops after reading until the
    test has changed the story: the race an editor's save runs against a busy worker."""

    def __init__(self, monkeypatch) -> None:
        self.read, self.go = threading.Event(), threading.Event()
        self.real = relinking.read_stories
        self.thread_name = "relink-under-test"
        monkeypatch.setattr(relinking, "read_stories", self)

    def __call__(self, *args, **kwargs):
        states = self.real(*args, **kwargs)
        if threading.current_thread().name == self.thread_name:
            self.read.set()
            assert self.go.wait(10)
        return states

    def relink_in_thread(self, article_id: int) -> threading.Thread:
        def run():
            try:
                relinking.relink_stories([article_id])
            finally:
                connection.close()

        thread = threading.Thread(target=run, name=self.thread_name)
        thread.start()
        assert self.read.wait(10)
        return thread


@pytest.mark.django_db(transaction=True)
def test_a_story_saved_while_its_relink_runs_is_relinked_as_saved(monkeypatch, queued):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    make_actor(name="Choe Son-hui", slug="choe-son-hui")
    story = make_article(body="<p>Ri Yong-ho spoke.</p>")
    paused = PausedAfterRead(monkeypatch)

    thread = paused.relink_in_thread(story.pk)
    story.body = "<p>Ri Yong-ho spoke. Choe Son-hui answered.</p>"
    story.save()  # queued: only a pending request; the relink in flight read the old body
    paused.go.set()
    thread.join(10)

    story.refresh_from_db()
    assert 'href="/actors/choe-son-hui/' in story.linked_body_html
    assert "Choe Son-hui" in story.page_html
    assert story.page_rendered_at == story.rendered_at
    assert not PendingRelink.objects.filter(article=story).exists()


@pytest.mark.django_db(transaction=True)
def test_a_mention_suppressed_in_admin_while_a_relink_runs_stays_unlinked(
    monkeypatch, queued, admin_client
):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    story = make_article(body="<p>Ri Yong-ho spoke.</p>")
    relinking.relink_stories([story.pk])
    mention = story.mentions.get()
    url = change_url(mention)
    data = admin_form(admin_client, url)
    data["is_suppressed"] = "on"
    paused = PausedAfterRead(monkeypatch)

    thread = paused.relink_in_thread(story.pk)
    assert admin_client.post(url, data).status_code == 302
    paused.go.set()
    thread.join(10)

    story.refresh_from_db()
    mention.refresh_from_db()
    assert mention.is_suppressed and not mention.is_linked
    assert "<a " not in story.linked_body_html


def test_a_story_whose_page_would_not_change_is_not_written_again(queued):
    make_actor(name="Ri Yong-ho")
    story = make_article(body="<p>Ri Yong-ho spoke.</p>")
    relinking.relink_stories([story.pk])
    story.refresh_from_db()
    with scheduling.batched():
        scheduling.request_relink(stories=[story.pk], reason="nothing changed")

    relinking.relink_stories([story.pk])

    again = Article.objects.get(pk=story.pk)
    assert (again.rendered_at, again.page_rendered_at) == (story.rendered_at, story.rendered_at)
    assert not PendingRelink.objects.filter(article=story).exists()


def test_relinking_a_group_costs_the_same_queries_however_many_stories(queued):
    make_actor(name="Ri Yong-ho")
    few = [make_article(body=f"<p>Ri Yong-ho spoke on day {n}.</p>").pk for n in range(2)]
    many = [make_article(body=f"<p>Ri Yong-ho left on day {n}.</p>").pk for n in range(20)]
    relinking.current_library()

    def reads(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            relinking.relink_stories(ids)
        return sum(1 for query in queries if query["sql"].lstrip().upper().startswith("SELECT"))

    assert reads(many) == reads(few)


def test_a_relink_writes_only_what_changed_of_a_story():
    # A body written as it was costs what a new one does: PostgreSQL compresses and
    # stores it again.
    ri = make_actor(name="Ri Yong-ho", description="Foreign Minister of North Korea")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    Actor.objects.filter(pk=ri.pk).update(description="North Korea's Foreign Minister")
    relinking.mark_stories_changed([article.pk])

    with CaptureQueriesContext(connection) as queries:
        relinking.relink_stories([article.pk])
    with CaptureQueriesContext(connection) as again:
        relinking.relink_stories([article.pk])

    article.refresh_from_db()
    writes = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "explainer_article"')]
    assert len(writes) == 1
    assert '"page_html"' in writes[0] and '"linked_body_html"' not in writes[0]
    assert "North Korea&#x27;s Foreign Minister" in article.page_html
    assert "Ri Yong-ho</a>" in article.linked_body_html
    assert not [q for q in again if q["sql"].startswith('UPDATE "explainer_article"')]


@pytest.mark.django_db(transaction=True)
def test_a_relink_that_writes_only_the_story_row_writes_it_alone_in_autocommit(monkeypatch):
    # One statement is a transaction of its own: no BEGIN and COMMIT round trips. A
    # relink that writes mentions too writes them all in one transaction.
    make_actor(name="Ri Yong-ho")
    quiet = make_article(body="<p>Ri Yong-ho spoke.</p>")
    busy = make_article(body="<p>Ri Yong-ho spoke.</p>")
    relinking.mark_stories_changed([quiet.pk])
    Article.objects.filter(pk=busy.pk).update(body_html="<p>Ri Yong-ho spoke. Ri Yong-ho left.</p>")
    relinking.mark_stories_changed([busy.pk])
    seen = {}

    def watch(execute, sql, params, many, context):
        if sql.startswith('UPDATE "explainer_article"'):
            story = next(param for param in params if param in (quiet.pk, busy.pk))
            seen[story] = connection.in_atomic_block
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        summary = relinking.relink_stories([quiet.pk, busy.pk])

    assert summary.relinked == 2
    assert seen == {quiet.pk: False, busy.pk: True}
    assert Article.objects.get(pk=busy.pk).mentions.filter(is_linked=True).exists()


def story_with_a_mention_gone() -> tuple[Article, int]:
    """A story that named Ri Yong-ho (its mention on record) and, edited where the save
    signals do not see it, names nobody now: its relink deletes that mention."""
    make_actor(name="Ri Yong-ho")
    story = make_article(body="<p>Ri Yong-ho spoke.</p>")
    relinking.relink_stories([story.pk])  # where the save's relink is only queued
    mention = story.mentions.get()
    Article.objects.filter(pk=story.pk).update(body_html="<p>Nobody spoke.</p>")
    relinking.mark_stories_changed([story.pk])
    return story, mention.pk


@pytest.mark.django_db(transaction=True)
def test_a_relink_that_only_drops_mentions_writes_them_with_the_story_row(queued):
    # PostgreSQL: the row, the stale mention and the pending request go in one statement,
    # a transaction of its own (one round trip, where BEGIN, three statements and COMMIT
    # were five). SQLite has no data-modifying WITH: one transaction holds them all.
    story, gone = story_with_a_mention_gone()
    with scheduling.batched():
        scheduling.request_relink(stories=[story.pk], reason="body edited")
    deleting_mentions = []  # (the statement, whether a transaction was open)

    def watch(execute, sql, params, many, context):
        if "explainer_mention" in sql and "DELETE" in sql:
            deleting_mentions.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        summary = relinking.relink_stories([story.pk])

    assert summary.relinked == 1
    assert not story.mentions.filter(pk=gone).exists()
    assert not PendingRelink.objects.filter(article=story).exists()
    assert "Ri Yong-ho" not in Article.objects.get(pk=story.pk).linked_body_html
    [(statement, in_transaction)] = deleting_mentions
    if connection.vendor == "postgresql":
        assert statement.startswith('WITH story AS (UPDATE "explainer_article"')
        assert "explainer_pendingrelink" in statement
        assert not in_transaction
    else:
        assert in_transaction


@pytest.mark.django_db(transaction=True)
def test_a_story_changed_before_its_write_keeps_its_mentions_until_it_is_relinked_again(
    monkeypatch,
):
    # The statement that would drop the mention finds the story changed since it was read
    # (an editor's save, here just after linking): it deletes nothing, and the story is
    # read again under its lock and relinked from what it holds now.
    story, gone = story_with_a_mention_gone()
    real_link = relinking.link_article
    edited = []

    def link_then_edit(article, **kwargs):
        result = real_link(article, **kwargs)
        if not edited:
            edited.append(True)
            Article.objects.filter(pk=story.pk).update(body_html="<p>Ri Yong-ho spoke again.</p>")
            relinking.mark_stories_changed([story.pk])
        return result

    monkeypatch.setattr(relinking, "link_article", link_then_edit)
    kept_when_refused = []

    def watch(execute, sql, params, many, context):
        outcome = execute(sql, params, many, context)
        if sql.startswith("WITH story AS") and "explainer_mention" in sql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM explainer_mention WHERE id = %s", [gone])
                kept_when_refused.append(cursor.fetchone()[0])
        return outcome

    with connection.execute_wrapper(watch):
        summary = relinking.relink_stories([story.pk])

    assert summary.relinked == 1
    if connection.vendor == "postgresql":
        assert kept_when_refused == [1]
    after = Article.objects.get(pk=story.pk)
    assert "Ri Yong-ho</a>" in after.linked_body_html
    assert after.mentions.filter(is_linked=True).count() == 1


def test_a_story_never_rendered_is_written_as_read_not_read_again():
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    Article.objects.filter(pk=article.pk).update(rendered_at=None, page_html="")

    with CaptureQueriesContext(connection) as queries:
        summary = relinking.relink_stories([article.pk])

    article.refresh_from_db()
    assert summary.relinked == 1
    assert len([q for q in queries if q["sql"].startswith('UPDATE "explainer_article"')]) == 1
    assert not [q for q in queries if "FOR UPDATE" in q["sql"]]
    assert article.rendered_at is not None and "Ri Yong-ho</a>" in article.page_html


class PausedWithLibrary:
    """A relink in a thread that has loaded its library and waits, before reading its first
    stories, until the test has edited the library: a worker busy on a long chunk while an
    editor adds an alias."""

    def __init__(self, monkeypatch) -> None:
        self.loaded, self.go = threading.Event(), threading.Event()
        self.real = relinking.current_library
        self.thread_name = "relink-on-an-older-library"
        monkeypatch.setattr(relinking, "current_library", self)

    def __call__(self, *args, **kwargs):
        library = self.real(*args, **kwargs)
        if threading.current_thread().name == self.thread_name and not self.loaded.is_set():
            self.loaded.set()
            assert self.go.wait(10)
        return library

    def relink_in_thread(self, article_id: int) -> threading.Thread:
        def run():
            try:
                relinking.relink_stories([article_id])
            finally:
                connection.close()

        thread = threading.Thread(target=run, name=self.thread_name)
        thread.start()
        assert self.loaded.wait(10)
        return thread


def alias_added_and_planned(client, actor, text: str) -> RelinkJob:
    """An alias added in the admin, and its job planned as the planning task plans it."""
    assert add_alias_through_admin(client, actor, text).status_code == 302
    job = RelinkJob.objects.filter(actor=actor).latest("created_at")
    scheduling.plan_job(job, enqueue=False)
    return job


@pytest.mark.django_db(transaction=True)
def test_a_relink_on_the_library_before_an_alias_was_added_leaves_that_alias_to_its_own_job(
    monkeypatch, queued, admin_client
):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    choe = make_actor(name="Choe Son-hui", slug="choe-son-hui")
    story = make_article(body="<p>Ri Yong-ho met Minister Choe.</p>")
    relinking.relink_stories([story.pk])
    paused = PausedWithLibrary(monkeypatch)

    thread = paused.relink_in_thread(story.pk)
    job = alias_added_and_planned(admin_client, choe, "Minister Choe")
    paused.go.set()
    thread.join(10)

    # The relink in flight could not link the new alias: the request is still pending.
    assert PendingRelink.objects.filter(job=job, article=story).exists()
    relinking.relink_stories([story.pk])  # the job's own task, on the library it asked for
    story.refresh_from_db()
    assert 'href="/actors/choe-son-hui/' in story.linked_body_html
    assert not PendingRelink.objects.filter(article=story).exists()


@pytest.mark.django_db(transaction=True)
def test_a_relink_on_an_older_library_never_writes_over_a_story_linked_on_a_newer_one(
    monkeypatch, queued, admin_client
):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    choe = make_actor(name="Choe Son-hui", slug="choe-son-hui")
    story = make_article(body="<p>Ri Yong-ho met Minister Choe.</p>")
    relinking.relink_stories([story.pk])
    paused = PausedWithLibrary(monkeypatch)

    thread = paused.relink_in_thread(story.pk)
    alias_added_and_planned(admin_client, choe, "Minister Choe")
    relinking.relink_stories([story.pk])  # another worker, on the library with the alias
    paused.go.set()
    thread.join(10)

    story.refresh_from_db()
    assert 'href="/actors/choe-son-hui/' in story.linked_body_html
    assert "Choe Son-hui" in story.page_html
    assert not PendingRelink.objects.filter(article=story).exists()


@pytest.mark.django_db(transaction=True)
def test_a_relink_answers_its_requests_in_the_statement_that_writes_the_story(queued):
    # PostgreSQL: one statement, and so one transaction, for the row and its requests,
    # where BEGIN, the row, the requests and COMMIT were four round trips. SQLite shares a
    # transaction between them instead.
    make_actor(name="Ri Yong-ho")
    story = make_article(body="<p>Ri Yong-ho spoke.</p>")
    relinking.relink_stories([story.pk])
    relinking.mark_stories_changed([story.pk])
    with scheduling.batched():
        scheduling.request_relink(stories=[story.pk], reason="an entry it names was edited")
    assert PendingRelink.objects.filter(article=story).exists()
    writes = []

    def watch(execute, sql, params, many, context):
        verb = sql.split(None, 1)[0]
        if verb in ("UPDATE", "DELETE", "WITH") and "claimed_at" not in sql:  # not the claim
            writes.append((verb, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        summary = relinking.relink_stories([story.pk])

    story.refresh_from_db()
    assert summary.relinked == 1
    assert story.page_rendered_at == story.rendered_at
    assert not PendingRelink.objects.filter(article=story).exists()
    if connection.vendor == "postgresql":
        assert writes == [("WITH", False)]
    else:
        assert writes == [("UPDATE", True), ("DELETE", True)]

"""Real background workers: ``manage.py worker`` processes on the test database.

Each test commits its data (``transaction=True``) so that a worker started with the same
database in its environment sees it, and this process queues tasks in the database
(django-tasks-db; Redis in the RQ test), as the web server does. Every wait polls the
database until what the test waits for holds, and gives up with the worker's output
after a deadline."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.db import connection
from django_tasks.signals import task_enqueued
from django_tasks_rq import RQBackend
from pytest_django.asserts import assertContains, assertNotContains

from explainer import relinking, scheduling
from explainer.models import Article, Mention, PendingRelink, RelinkJob
from tests.factories import make_actor, make_article

pytestmark = pytest.mark.django_db(transaction=True)

PROJECT_DIR = Path(__file__).resolve().parents[1]
DEADLINE_SECONDS = 60
# The RQ test's Redis: a database of its own, emptied by the test.
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"

PARAGRAPH = (
    "<p>Kim Jong Un arrived in Vladivostok by armoured train on Wednesday for his first summit "
    "with the Russian president, who is expected to press for a role in the stalled talks on "
    "the peninsula's nuclear programme. Officials in Seoul said the meeting would test how "
    "far Moscow is willing to go in easing sanctions that the United Nations imposed.</p>"
)


def database_url() -> str:
    """The live test database, as a worker's DATABASE_URL."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = quote(db["USER"] or "")
    password = f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else ""
    host = db["HOST"] or "localhost"
    return f"postgres://{user}{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def worker_env(*, backend: str, stale_seconds: float) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DJANGO_TASKS_BACKEND": backend,
        "DJANGO_RELINK_STALE_SECONDS": str(stale_seconds),
        "DJANGO_DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
        "PYTHONIOENCODING": "utf-8",
    }
    if backend == "rq":
        env["REDIS_URL"] = REDIS_URL
    return env


@dataclass
class Worker:
    """A ``manage.py worker`` process, in its own process group, logging to a file."""

    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def send(self, signum: int) -> None:
        os.killpg(self.process.pid, signum)

    def wait_for_exit(self) -> int:
        try:
            return self.process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"The worker was still running after {DEADLINE_SECONDS} s:\n{self.output()}"
            )


@pytest.fixture(autouse=True)
def database_tasks(settings):
    """This process queues tasks in the database, for the workers to take."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.TASKS_BACKEND = "db"


@pytest.fixture
def start_worker(transactional_db, tmp_path) -> Iterator[Callable[..., Worker]]:
    """Start workers on the test database; every one is killed before the database is
    emptied for the next test."""
    started: list[Worker] = []

    def start(*, backend: str = "db", stale_seconds: float = 120, batch: bool = False) -> Worker:
        log = tmp_path / f"worker-{len(started) + 1}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "manage.py", "worker", *(["--batch"] if batch else [])],
                cwd=PROJECT_DIR,
                env=worker_env(backend=backend, stale_seconds=stale_seconds),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(process=process, log=log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        with suppress(ProcessLookupError):  # it exited, and so did its children
            worker.send(signal.SIGKILL)
        worker.process.wait(timeout=DEADLINE_SECONDS)


def wait_until(condition: Callable[[], bool], *, what: str, worker: Worker) -> None:
    """Poll until ``condition()`` holds; fail, with the worker's output, if the worker
    exits or the deadline passes first."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        if worker.process.poll() is not None:
            pytest.fail(
                f"The worker exited ({worker.process.returncode}) before {what}:\n{worker.output()}"
            )
        if time.monotonic() > deadline:
            pytest.fail(f"No {what} after {DEADLINE_SECONDS} s:\n{worker.output()}")
        time.sleep(0.05)


def run_manage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT_DIR,
        env=worker_env(backend="db", stale_seconds=120),
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=DEADLINE_SECONDS,
    )


def story_body(paragraphs: int) -> str:
    return PARAGRAPH * paragraphs


def links_to(article: Article, slug: str) -> bool:
    return f'data-entry="{slug}"' in article.linked_body_html


def job_is_done(job: RelinkJob) -> bool:
    job.refresh_from_db()
    return job.status == RelinkJob.Status.DONE


def pending_count(job: RelinkJob) -> int:
    return PendingRelink.objects.filter(job=job).count()


def make_archive(*, stories: int, paragraphs: int) -> RelinkJob:
    """An actor and stories that name it, saved in one batch with no worker running: one
    job, with nothing relinked yet."""
    with scheduling.batched():
        make_actor(name="Kim Jong Un", slug="kim-jong-un")
        for _ in range(stories):
            make_article(body=story_body(paragraphs))
    return RelinkJob.objects.get()


def in_the_middle(job: RelinkJob) -> Callable[[], bool]:
    """True once the job is planned, some stories are relinked and more than one chunk's
    worth are not: a worker that stops now cannot have finished the job."""

    def check() -> bool:
        job.refresh_from_db()
        if job.total is None:
            return False
        return scheduling.CHUNK_SIZE < pending_count(job) < job.total

    return check


def assert_every_story_linked_once(*, stories: int, paragraphs: int) -> None:
    linked = Article.objects.filter(linked_body_html__contains='data-entry="kim-jong-un"')
    assert linked.count() == stories
    # A story relinked twice (its first worker was killed) keeps one row per mention.
    assert Mention.objects.count() == stories * paragraphs
    assert not PendingRelink.objects.exists()


def test_alias_added_without_a_worker_is_linked_once_a_worker_runs(start_worker):
    make_actor(name="Kim Jong Un", slug="kim-jong-un")
    body = "<p>Kim Jong Un met Vladimir Putin in Vladivostok.</p>"
    first, second = make_article(body=body), make_article(body=body)
    make_article(body="<p>Kim Jong Un stayed at home.</p>")  # not in the new job
    assert start_worker(batch=True).wait_for_exit() == 0
    first.refresh_from_db()
    before = first.linked_body_html
    assert links_to(first, "kim-jong-un")

    with scheduling.batched():
        make_actor(name="Vladimir Putin", slug="vladimir-putin")

    first.refresh_from_db()
    assert first.linked_body_html == before  # readers still see the previous version
    job = RelinkJob.objects.get(actor__slug="vladimir-putin")
    assert job.status == RelinkJob.Status.PLANNING
    assert scheduling.job_progress(job).label == "Relinking: finding the stories that may change…"

    worker = start_worker()
    wait_until(lambda: job_is_done(job), what="finished job", worker=worker)

    for article in (first, second):
        article.refresh_from_db()
        assert links_to(article, "vladimir-putin")
        assert links_to(article, "kim-jong-un")
    assert not PendingRelink.objects.filter(job=job).exists()
    progress = scheduling.job_progress(job)
    assert (progress.total, progress.done, progress.failed) == (2, 2, 0)
    assert progress.label == "Relinked 2 of 2 stories."


STORIES = 300
PARAGRAPHS = 10


def test_worker_killed_mid_job_loses_nothing(start_worker):
    job = make_archive(stories=STORIES, paragraphs=PARAGRAPHS)
    first = start_worker()
    wait_until(in_the_middle(job), what="job half done", worker=first)

    first.send(signal.SIGKILL)
    first.wait_for_exit()

    left = pending_count(job)
    assert 0 < left < STORIES
    assert Article.objects.filter(linked_body_html="").count() == left
    second = start_worker(stale_seconds=1)
    wait_until(lambda: job_is_done(job), what="finished job", worker=second)
    assert_every_story_linked_once(stories=STORIES, paragraphs=PARAGRAPHS)
    progress = scheduling.job_progress(job)
    assert (progress.total, progress.done, progress.failed) == (STORIES, STORIES, 0)


def test_worker_stopped_gracefully_finishes_its_stories_and_loses_nothing(start_worker):
    job = make_archive(stories=STORIES, paragraphs=PARAGRAPHS)
    first = start_worker()
    wait_until(in_the_middle(job), what="job half done", worker=first)

    first.send(signal.SIGTERM)

    assert first.wait_for_exit() == 0
    left = pending_count(job)
    assert 0 < left < STORIES
    # It finished the stories it had started: none waits for another worker to notice.
    assert not PendingRelink.objects.exclude(claimed_at=None).exists()
    assert Article.objects.filter(linked_body_html="").count() == left
    # The default stale time (120 s): the rest needs no rescue, only a worker.
    second = start_worker()
    wait_until(lambda: job_is_done(job), what="finished job", worker=second)
    assert_every_story_linked_once(stories=STORIES, paragraphs=PARAGRAPHS)


def test_relink_command_relinks_every_story_and_sums_up():
    make_actor(name="Kim Jong Un", slug="kim-jong-un")
    for _ in range(3):
        make_article(body=story_body(1))
    assert not Article.objects.exclude(linked_body_html="").exists()  # no worker ran

    result = run_manage("relink", "--all")

    assert result.returncode == 0, result.stderr
    assert "Relinked 3 of 3 stories (Every story relinked)" in result.stdout
    assert all(links_to(article, "kim-jong-un") for article in Article.objects.all())
    # The relinks answer the requests the saves queued for the workers.
    assert not PendingRelink.objects.exists()


def test_relink_command_for_an_unknown_entry_fails_and_says_why():
    result = run_manage("relink", "--entry", "unknown-slug")

    assert result.returncode != 0
    assert "No actor or background note has the slug “unknown-slug”." in result.stderr


@contextmanager
def database_refuses_relinking(article: Article) -> Iterator[str]:
    """A fault relinking cannot get past, alike on both databases: the database refuses
    to store this one story's linked body (a trigger), whichever process asks. Yields the
    error's text."""
    message = "refused by test trigger"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "CREATE TRIGGER test_refuse_relink BEFORE UPDATE OF linked_body_html "
                f"ON explainer_article FOR EACH ROW WHEN NEW.id = {int(article.pk)} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
            drop = ["DROP TRIGGER IF EXISTS test_refuse_relink"]
        else:
            cursor.execute(
                "CREATE FUNCTION test_refuse_relink() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
            )
            cursor.execute(
                "CREATE TRIGGER test_refuse_relink BEFORE UPDATE OF linked_body_html "
                f"ON explainer_article FOR EACH ROW WHEN (NEW.id = {int(article.pk)}) "
                "EXECUTE FUNCTION test_refuse_relink()"
            )
            drop = [
                "DROP TRIGGER IF EXISTS test_refuse_relink ON explainer_article",
                "DROP FUNCTION IF EXISTS test_refuse_relink()",
            ]
    try:
        yield message
    finally:
        with connection.cursor() as cursor:
            for statement in drop:
                cursor.execute(statement)


def test_story_that_fails_is_recorded_shown_to_editors_and_retried(start_worker, admin_client):
    job = make_archive(stories=3, paragraphs=1)
    first, broken, last = Article.objects.order_by("pk")
    change_page = f"/admin/explainer/relinkjob/{job.pk}/change/"

    with database_refuses_relinking(broken) as error:
        # Stale after 1 s: the sweep hands the failed story back without waiting for the
        # back-off, so its attempts are used up quickly.
        worker = start_worker(stale_seconds=1)
        wait_until(lambda: job_is_done(job), what="finished job", worker=worker)

        pending = PendingRelink.objects.get(job=job)
        assert pending.article_id == broken.pk
        assert pending.attempts == relinking.MAX_ATTEMPTS
        assert pending.failed_at is not None
        assert error in pending.last_error
        for article in (first, broken, last):
            article.refresh_from_db()
        assert links_to(first, "kim-jong-un") and links_to(last, "kim-jong-un")
        assert broken.linked_body_html == ""
        progress = scheduling.job_progress(job)
        assert (progress.total, progress.done, progress.failed) == (3, 2, 1)
        assert progress.label == "Relinked 2 of 3 stories; 1 failed."
        response = admin_client.get(change_page)
        assertContains(response, error)
        assertContains(response, f"after {relinking.MAX_ATTEMPTS} attempts")
        assertContains(response, "Retry the stories that failed")

    response = admin_client.post(f"/admin/explainer/relinkjob/{job.pk}/retry/")

    assert response.status_code == 302
    # Failed stories are left alone until an editor retries: only the retry relinks it.
    wait_until(lambda: not PendingRelink.objects.exists(), what="retried relink", worker=worker)
    broken.refresh_from_db()
    assert links_to(broken, "kim-jong-un")
    wait_until(lambda: job_is_done(job), what="finished job after the retry", worker=worker)
    assert scheduling.job_progress(job).label == "Relinked 3 of 3 stories."
    assertNotContains(admin_client.get(change_page), "Retry the stories that failed")


@pytest.fixture
def redis_queue(settings):
    """This process queues tasks on Redis (django-tasks-rq). Skips when Redis is
    unreachable, except under CI=true, where that is a failure."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError as exc:
        message = f"no Redis at {REDIS_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    settings.RQ_QUEUES = {"default": {**settings.RQ_QUEUES["default"], "URL": REDIS_URL}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
    settings.TASKS_BACKEND = "rq"


def test_rq_worker_relinks_the_stories_of_a_job(redis_queue, start_worker):
    enqueued = []

    def note(sender, task_result, **kwargs):
        enqueued.append((sender, task_result.task.module_path, list(task_result.args)))

    task_enqueued.connect(note)
    try:
        job = make_archive(stories=3, paragraphs=2)
    finally:
        task_enqueued.disconnect(note)
    assert (RQBackend, "explainer.tasks.plan_relink_job", [job.pk]) in enqueued
    assert not Article.objects.exclude(linked_body_html="").exists()  # no worker yet

    # Stale after 1 s: should the queue be emptied under it (a test run beside this one
    # clears the shared Redis database), the worker's sweep queues the job again.
    worker = start_worker(backend="rq", stale_seconds=1)
    wait_until(lambda: job_is_done(job), what="finished job", worker=worker)

    assert_every_story_linked_once(stories=3, paragraphs=2)
    assert scheduling.job_progress(job).label == "Relinked 3 of 3 stories."

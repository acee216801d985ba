"""One part down is not everything down: a Redis that refuses connections or never replies
costs a reader page at most the cache's short timeout, and the page is built from the
database; a database that cannot be reached or is stuck answers a plain 503 quickly."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.db import close_old_connections, connection, connections, transaction
from django.test import Client
from pytest_django.asserts import assertContains

from explainer.models import Article

from .conftest import PROJECT_DIR
from .factories import make_article

pytestmark = pytest.mark.django_db

# The configured cache timeout (0.25 s) plus room for a page on a busy machine. Without the
# guard and the timeouts these pages fail, or wait for as long as Redis does.
FAULT_BUDGET_SECONDS = 2.0


def redis_cache_at(location: str, *, timeout: float) -> dict:
    """A Redis cache configured as settings.py configures one, at ``location``."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "explainer-tests",
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }


class SilentServer:
    """A TCP server that accepts every connection and never answers: a hung Redis."""

    def __init__(self):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.05)
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def serve(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                self.accepted.append(self.listener.accept()[0])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        self.thread.join(5)
        for conn in self.accepted:
            conn.close()
        self.listener.close()


@pytest.fixture
def refused_cache(settings):
    """The cache points at a port nothing listens on."""
    settings.CACHES = redis_cache_at(
        "redis://127.0.0.1:1/0", timeout=settings.CACHE_TIMEOUT_SECONDS
    )


@pytest.fixture
def silent_redis(settings):
    """The cache points at a server that accepts connections and never replies."""
    with SilentServer() as server:
        settings.CACHES = redis_cache_at(
            f"redis://127.0.0.1:{server.port}/0", timeout=settings.CACHE_TIMEOUT_SECONDS
        )
        yield server


def reader_paths(story: Article) -> list[str]:
    return [
        "/",
        story.get_absolute_url(),
        "/sitemap.xml",
        "/feed/",
        "/actors/kim-jong-un/",
        "/background/six-party-talks/",
        "/search/?q=Kim",
        "/api/context/kim-jong-un.json",
    ]


def test_reader_pages_answer_200_when_redis_refuses_connections(client, demo, refused_cache):
    statuses = {path: client.get(path).status_code for path in reader_paths(demo)}

    assert statuses == dict.fromkeys(reader_paths(demo), 200)


def test_story_page_is_built_from_the_database_when_redis_refuses_connections(
    client, demo, refused_cache
):
    response = client.get(demo.get_absolute_url())

    assertContains(response, demo.headline)
    assertContains(response, "In this story")


def test_reader_pages_answer_within_the_cache_timeout_when_redis_never_replies(
    client, demo, silent_redis, settings
):
    settings.CACHE_RETRY_SECONDS = 60
    elapsed = {}
    statuses = {}
    for path in reader_paths(demo):
        started = time.monotonic()
        statuses[path] = client.get(path).status_code
        elapsed[path] = time.monotonic() - started

    assert statuses == dict.fromkeys(reader_paths(demo), 200)
    assert max(elapsed.values()) < FAULT_BUDGET_SECONDS, elapsed
    # The story page is the one that uses the cache: it did try, and gave up.
    assert len(silent_redis.accepted) == 1


def test_a_failed_cache_is_left_alone_for_the_retry_window(client, demo, silent_redis, settings):
    settings.CACHE_RETRY_SECONDS = 60

    started = time.monotonic()
    for _ in range(5):
        assert client.get(demo.get_absolute_url()).status_code == 200
    elapsed = time.monotonic() - started

    # Only the first request waited for the silent Redis.
    assert len(silent_redis.accepted) == 1
    assert elapsed < FAULT_BUDGET_SECONDS


def test_a_failed_cache_is_tried_again_after_the_retry_window(client, demo, silent_redis, settings):
    settings.CACHE_RETRY_SECONDS = 1.0
    client.get(demo.get_absolute_url())

    time.sleep(1.2)
    response = client.get(demo.get_absolute_url())

    assert response.status_code == 200
    assert len(silent_redis.accepted) == 2


def test_healthz_is_503_quickly_when_redis_never_replies(client, silent_redis):
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "cache": False}
    assert elapsed < FAULT_BUDGET_SECONDS


@pytest.fixture
def database_error(db, monkeypatch):
    """Every new cursor fails with the driver's own ``error_class``, as it would from a
    database that cannot be reached or cancelled the statement; Django wraps it as usual."""

    def fail(error_class) -> None:
        def create_cursor(name=None):
            raise error_class("canceling statement due to statement timeout")

        monkeypatch.setattr(connection, "create_cursor", create_cursor)

    return fail


def test_reader_pages_answer_503_with_retry_after_when_the_database_fails(
    client, demo, database_error
):
    paths = reader_paths(demo)
    database_error(connection.Database.OperationalError)

    responses = {path: client.get(path) for path in paths}

    assert {path: r.status_code for path, r in responses.items()} == dict.fromkeys(paths, 503)
    assert {path: r.headers.get("Retry-After") for path, r in responses.items()} == (
        dict.fromkeys(paths, "30")
    )
    story = responses[demo.get_absolute_url()]
    assertContains(story, "Explainer is briefly unavailable", status_code=503)
    assert "no-store" in story.headers["Cache-Control"]


def test_healthz_is_503_quickly_when_the_database_fails(client, database_error):
    database_error(connection.Database.OperationalError)

    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "cache": True}
    assert elapsed < FAULT_BUDGET_SECONDS


def test_a_database_error_that_is_a_bug_stays_a_500(database_error):
    story = make_article()
    database_error(connection.Database.ProgrammingError)
    client = Client(raise_request_exception=False)

    response = client.get(story.get_absolute_url())

    assert response.status_code == 500
    assert "Retry-After" not in response.headers


@contextlib.contextmanager
def table_locked(model):
    """``model``'s table locked against readers by another connection, as a long migration
    or a stuck transaction would, until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {model._meta.db_table} IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        assert locked.wait(10), "the lock was not taken"
        yield
    finally:
        release.set()
        thread.join(30)


@contextlib.contextmanager
def statement_timeout(milliseconds: int):
    """This thread's connection reconnected with the statement timeout settings.py gives
    the web server, shorter."""
    settings_dict = connection.settings_dict
    options = settings_dict["OPTIONS"]
    settings_dict["OPTIONS"] = {**options, "options": f"-c statement_timeout={milliseconds}"}
    connection.close()
    try:
        yield
    finally:
        settings_dict["OPTIONS"] = options
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_story_page_answers_503_within_the_statement_timeout_when_its_table_is_locked(client):
    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's; SQLite readers never wait (WAL)")
    story = make_article()

    with table_locked(Article), statement_timeout(1000):
        started = time.monotonic()
        response = client.get(story.get_absolute_url())
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert elapsed < 1.0 + FAULT_BUDGET_SECONDS


def configured(entry_point: str, **environ: str) -> dict:
    """The database and cache options settings.py gives, loaded the way ``entry_point``
    loads it, in a fresh interpreter with ``environ``. Nothing is connected to."""
    code = (
        f"import {entry_point}, json; from django.conf import settings; "
        "print(json.dumps({'database': settings.DATABASES['default'].get('OPTIONS', {}),"
        " 'cache': settings.CACHES['default'].get('OPTIONS', {})}))"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DATABASE_", "DJANGO_CACHE_", "REDIS_"))
    }
    env.update(DJANGO_SETTINGS_MODULE="explainer.settings", **environ)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


PRODUCTION = {
    "DATABASE_URL": "postgres://explainer@db.invalid:5432/explainer",
    "REDIS_URL": "redis://cache.invalid:6379/0",
}


def test_web_server_settings_give_up_on_a_stuck_database_and_a_silent_redis():
    options = configured("explainer.wsgi", **PRODUCTION)

    assert options == {
        "database": {"connect_timeout": 3, "options": "-c statement_timeout=5000"},
        "cache": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
    }


def test_management_commands_keep_long_statements_unless_told():
    default = configured("django.conf", **PRODUCTION)
    told = configured("django.conf", DATABASE_STATEMENT_TIMEOUT_MS="60000", **PRODUCTION)

    assert default["database"] == {"connect_timeout": 3}
    assert told["database"] == {"connect_timeout": 3, "options": "-c statement_timeout=60000"}


def terminate_backend(pid: int) -> None:
    """End a database session from outside, as a database restart ends them all."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            assert cursor.fetchone() == (True,)
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_story_page_reopens_a_connection_the_database_ended_without_a_check_on_each_request(
    client, monkeypatch
):
    # Django's health check is one more round trip before every request's first query;
    # the story page's own query is the check instead, and a connection the database
    # ended is opened again for it, not answered with a 503.
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL session ended from outside")
    story = make_article(body="<p>Kim Jong-un arrived.</p>")
    assert client.get(story.get_absolute_url()).status_code == 200
    checks: list[bool] = []
    is_usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(is_usable()) or checks[-1])

    close_old_connections()  # as the web server does when each request starts
    terminate_backend(connection.connection.info.backend_pid)
    after_restart = client.get(story.get_absolute_url())
    close_old_connections()
    next_request = client.get(story.get_absolute_url())

    assert after_restart.status_code == 200
    assert next_request.status_code == 200
    assertContains(next_request, "Kim Jong-un arrived.")
    # Checked once, when the read failed; never before a read.
    assert checks == [False]

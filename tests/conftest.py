import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction

PROJECT_DIR = Path(__file__).resolve().parents[1]
SEED_STORY = PROJECT_DIR / "explainer" / "demo" / "korea-times-2019-04-25-kim-putin-summit.txt"


def pytest_configure(config):
    """Tasks run at once, inside the test's transaction, unless DJANGO_TASKS_BACKEND says
    otherwise; tests that start a real worker (tests/test_worker.py) choose their own.
    Passwords hash fast: every admin test logs a user in, and the real hasher is slow on
    purpose."""
    from django.conf import settings
    from django.core.signals import setting_changed

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if os.environ.get("DJANGO_TASKS_BACKEND"):
        return

    settings.TASKS_BACKEND = "immediate"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache, so cached story parts never leak between tests."""
    from django.core.cache import cache

    from explainer.relinking import forget_libraries

    cache.clear()
    forget_libraries()
    yield
    cache.clear()
    forget_libraries()


def load_demo() -> None:
    call_command("load_demo", stdout=io.StringIO())


def table_counts() -> dict[str, int]:
    """How many rows each of Django's tables holds."""
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def quoted(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(fields) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


def content_type_columns(model) -> list[int]:
    from django.contrib.contenttypes.models import ContentType

    fields = model._meta.local_concrete_fields
    return [i for i, field in enumerate(fields) if field.related_model is ContentType]


def translated(rows, positions: list[int], mapping: dict) -> list[list]:
    rows = [list(row) for row in rows]
    for row in rows:
        for i in positions:
            if row[i] is not None:
                row[i] = mapping[row[i]]
    return rows


class DemoRows:
    """The rows that loading the demo wrote, as they were then, ids included. They are
    deleted for a test that does not ask for the demo, and written back, without running
    load_demo and the signals it sets off again, once a transactional test has flushed them."""

    def __init__(self, tables: list[str]):
        from django.apps import apps
        from django.contrib.contenttypes.models import ContentType

        models = {
            model._meta.db_table: model for model in apps.get_models(include_auto_created=True)
        }
        self.models = [models[table] for table in tables]
        # A flush makes the content types again, with new ids: keep them by name.
        names = {ct.pk: ct.natural_key() for ct in ContentType.objects.all()}
        self.rows = {}
        with connection.cursor() as cursor:
            for model in self.models:
                cursor.execute(
                    f"SELECT {columns(model._meta.local_concrete_fields)} FROM {quoted(model)}"
                )
                self.rows[model] = translated(cursor.fetchall(), content_type_columns(model), names)
        for model, rows in self.rows.items():
            for i, field in enumerate(model._meta.local_concrete_fields):
                # Any other row outside the demo (a user, say) would be gone after a flush.
                if field.related_model not in {None, ContentType, *self.models}:
                    assert all(row[i] is None for row in rows), f"the demo's {field} is set"

    def delete(self) -> None:
        # One transaction: the foreign keys are checked when it ends, with every table empty.
        with transaction.atomic(), connection.cursor() as cursor:
            for model in self.models:
                cursor.execute(f"DELETE FROM {quoted(model)}")

    def restore(self) -> None:
        from django.contrib.contenttypes.models import ContentType

        ids = {ct.natural_key(): ct.pk for ct in ContentType.objects.all()}
        with transaction.atomic(), connection.cursor() as cursor:
            for model, rows in self.rows.items():
                fields = model._meta.local_concrete_fields
                cursor.executemany(
                    f"INSERT INTO {quoted(model)} ({columns(fields)}) "
                    f"VALUES ({', '.join(['%s'] * len(fields))})",
                    translated(rows, content_type_columns(model), ids),
                )
            for statement in connection.ops.sequence_reset_sql(no_style(), self.models):
                cursor.execute(statement)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database with the demo loaded, once for the session and committed, so that
    every test that asks for it sees it inside its own rolled-back transaction. Gives the
    demo's rows (DemoRows)."""
    with django_db_blocker.unblock():
        before = table_counts()
        load_demo()
        tables = [table for table, count in table_counts().items() if count != before[table]]
        # Emptying the tables the demo wrote to must give back the database it started with.
        assert not any(before[table] for table in tables), {t: before[t] for t in tables}
        return DemoRows(tables)


@pytest.fixture
def empty_library(db, django_db_setup):
    """The database as it was before the demo was loaded: the demo's rows are deleted inside
    this test's transaction, and are back for the next test."""
    django_db_setup.delete()


@pytest.fixture(autouse=True)
def _empty_library_unless_demo(request):
    """A test sees the demo only if it asks for it (``demo``, ``live_demo``). Any other test
    that uses the database starts from an empty library, as before the demo was loaded once
    for all: the demo's rows can neither clash with a test's own nor stand in for them."""
    if "demo" in request.fixturenames:
        return
    marker = request.node.get_closest_marker("django_db")
    if marker or {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        request.getfixturevalue("empty_library")


@pytest.fixture
def demo(db, django_db_setup):
    """The demo as ``make run`` loads it: the context library and the seed story."""
    from explainer.models import Article

    if not Article.objects.exists():
        # A transactional test before this one flushed the database.
        django_db_setup.restore()
    return Article.objects.get()


@pytest.fixture
def live_demo(live_server, demo):
    """The demo story's address on the live server, for the browser tests."""
    return live_server.url + demo.get_absolute_url()


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser():
    """System Chromium driven by Playwright. Skips without a browser, except under CI=true,
    where a missing browser is a failure: CI must run the browser tests."""
    executable = chromium_path()
    if executable is None:
        message = "no Chromium at /usr/bin/chromium (set CHROMIUM_PATH or apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    # Playwright's sync API runs an event loop in this thread; the ORM calls our tests make
    # around it are ordinary synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    yield page
    context.close()


DOC_SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"


@pytest.fixture
def docs_screenshot(tmp_path):
    """Takes a picture the editor's guide shows (docs/editing.md). ``make screenshots``
    (EXPLAINER_DOC_SCREENSHOTS=1) writes it into docs/screenshots/; other runs keep it in
    the test's temporary directory, so every run still takes it and the guide's pictures
    can always be taken again."""
    folder = DOC_SCREENSHOTS if os.environ.get("EXPLAINER_DOC_SCREENSHOTS") else tmp_path

    def take(target, name: str) -> Path:
        path = folder / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=path, animations="disabled")
        assert path.stat().st_size > 1000, f"{path} is empty"
        return path

    return take

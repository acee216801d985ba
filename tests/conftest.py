import io
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

PROJECT_DIR = Path(__file__).resolve().parents[1]
SEED_STORY = PROJECT_DIR / "explainer" / "demo" / "korea-times-2019-04-25-kim-putin-summit.txt"


def pytest_configure(config):
    """Tasks run at once, inside the test's transaction, unless DJANGO_TASKS_BACKEND says
    otherwise; tests that start a real worker (tests/test_worker.py) choose their own."""
    if os.environ.get("DJANGO_TASKS_BACKEND"):
        return
    from django.conf import settings
    from django.core.signals import setting_changed

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


@pytest.fixture
def demo(db):
    """The demo as ``make run`` loads it: the context library and the seed story."""
    call_command("load_demo", stdout=io.StringIO())
    from explainer.models import Article

    return Article.objects.get()


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

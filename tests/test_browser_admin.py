"""The admin in a real Chromium at 1280x800: the story form's inline tables fit with their
Delete boxes in view, and the dashboard, the story and actor forms and the log-in page have
no critical or serious axe-core violations."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from explainer.models import Actor

from .test_admin import change_url
from .test_browser_editor import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1280, "height": 800}


def assert_no_serious_axe_violations(page) -> None:
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    serious = [
        f"{violation['id']} ({len(violation['nodes'])}): {violation['nodes'][0]['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in {"critical", "serious"}
    ]
    assert serious == [], "\n".join(serious)


def assert_deletes_in_view(page, *, at_least: int = 1) -> None:
    deletes = page.locator(".inline-group input[name$='-DELETE']")
    assert deletes.count() >= at_least
    for index in range(deletes.count()):
        box = deletes.nth(index).bounding_box()
        assert box["x"] + box["width"] <= VIEWPORT["width"], index


def test_login_page_has_a_heading_and_passes_axe(page, live_server):
    page.set_viewport_size(VIEWPORT)
    page.goto(live_server.url + "/admin/login/")

    assert page.get_by_role("heading", level=1).count() == 1
    assert_no_serious_axe_violations(page)
    results = Axe().run(page, options={"resultTypes": ["violations"]})
    assert "page-has-heading-one" not in {v["id"] for v in results.response["violations"]}


def test_dashboard_passes_axe(page, live_server, demo, admin_user, docs_screenshot):
    page.set_viewport_size(VIEWPORT)
    log_in(page, live_server, admin_user)

    assert page.get_by_role("heading", name="Due for review").count() == 1
    assert_no_serious_axe_violations(page)
    docs_screenshot(page, "dashboard")


def test_story_form_fits_1280_and_passes_axe(page, live_server, demo, admin_user):
    page.set_viewport_size(VIEWPORT)
    log_in(page, live_server, admin_user)

    page.goto(live_server.url + change_url(demo))

    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert_deletes_in_view(page, at_least=10)
    headline = page.locator("#id_headline").bounding_box()
    assert headline["width"] >= 500
    assert_no_serious_axe_violations(page)


def test_review_highlight_names_its_entry_and_opens_a_new_tab(
    page, live_server, demo, admin_user, docs_screenshot
):
    page.set_viewport_size(VIEWPORT)
    log_in(page, live_server, admin_user)
    page.goto(live_server.url + change_url(demo))

    highlight = page.locator(".mention-review__body a.mention", has_text="Ri Yong-ho").first

    assert highlight.get_attribute("target") == "_blank"
    assert highlight.get_attribute("title") == "Ri Yong-ho (opens in a new tab)"
    described = page.locator(f"#{highlight.get_attribute('aria-describedby')}")
    assert described.inner_text() == "Ri Yong-ho (opens in a new tab)"
    highlight.scroll_into_view_if_needed()
    docs_screenshot(page, "mention-review")


def test_actor_form_fits_1280_and_passes_axe(page, live_server, demo, admin_user):
    actor = Actor.objects.filter(roles__isnull=False).first()
    page.set_viewport_size(VIEWPORT)
    log_in(page, live_server, admin_user)

    page.goto(live_server.url + change_url(actor))

    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert_deletes_in_view(page)
    assert_no_serious_axe_violations(page)

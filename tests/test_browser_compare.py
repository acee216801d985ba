"""Compare and edit conflicts in a real Chromium at 1280x800: the compare page wraps
instead of scrolling sideways, the conflict choices work from the keyboard, and both pages
have no critical or serious axe-core violations."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from reversion.models import Version

from explainer.models import Article

from .factories import make_article
from .test_admin import admin_form, change_url
from .test_browser_editor import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORT = {"width": 1280, "height": 800}
LONG_BODY = "".join(
    f"<p>Paragraph {number}: Kim Jong-un and Vladimir Putin met in Vladivostok, where the "
    "talks ran long into the night and the statement said "
    f"{'https://kcna.example/statements/' + 'very-long-address-' * 12}{number}.</p>"
    for number in range(30)
)


def assert_no_serious_axe_violations(page, context: str | None = None) -> None:
    results = Axe().run(page, context=context, options={"resultTypes": ["violations"]})
    serious = [
        violation
        for violation in results.response["violations"]
        if violation["impact"] in {"critical", "serious"}
    ]
    assert serious == [], results.generate_report()


def test_compare_page_wraps_long_text_at_1280_and_passes_axe(
    page, live_server, admin_user, docs_screenshot
):
    story = make_article(headline="Kim and Putin", body=LONG_BODY)
    editor = Client()
    editor.force_login(admin_user)
    url = change_url(story)
    assert editor.post(url, admin_form(editor, url)).status_code == 302
    edited = {**admin_form(editor, url), "body": LONG_BODY.replace("Paragraph 15", "Part 15")}
    edited["headline"] = "Kim and Putin meet in Vladivostok " + "at length " * 12
    assert editor.post(url, edited).status_code == 302
    newer, older = Version.objects.get_for_object(story)[:2]
    page.set_viewport_size(VIEWPORT)
    log_in(page, live_server, admin_user)

    page.goto(
        f"{live_server.url}{url.replace('/change/', '/history/compare/')}"
        f"?from={older.pk}&to={newer.pk}"
    )

    assert page.locator("del", has_text="Paragraph").count() == 1
    assert page.locator("ins", has_text="Part").count() == 1
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert_no_serious_axe_violations(page)
    docs_screenshot(page, "compare")


def test_conflict_choices_work_from_the_keyboard_and_pass_axe(
    page, live_server, admin_user, docs_screenshot
):
    story = make_article(headline="Kim meets Putin", dek="The leaders met.")
    url = change_url(story)
    page.set_viewport_size(VIEWPORT)
    log_in(page, live_server, admin_user)
    page.goto(live_server.url + url)
    colleague = Client()
    colleague.force_login(admin_user)
    saved = colleague.post(url, {**admin_form(colleague, url), "dek": "The leaders met at last."})
    assert saved.status_code == 302

    page.locator("#id_dek").fill("The two leaders met on Thursday.")
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()

    conflicts = page.locator("#edit-conflicts")
    assert conflicts.is_visible()
    assert conflicts.locator("del", has_text="at last").count() == 1
    assert conflicts.locator("ins", has_text="on Thursday").count() == 1
    # The panel fits the window (the mentions table below it is the admin's own).
    assert page.evaluate(
        "document.querySelector('#edit-conflicts').getBoundingClientRect().right"
        " <= window.innerWidth"
    )
    # The panel this feature adds (the change form's own widgets are other tests' business).
    assert_no_serious_axe_violations(page, "#edit-conflicts")
    docs_screenshot(conflicts, "conflict")
    mine = page.get_by_label("Keep mine (as in the field below)")
    mine.focus()
    page.keyboard.press("Space")
    assert mine.is_checked()
    page.keyboard.press("ArrowDown")  # moves to, and chooses, "Take theirs"
    assert page.get_by_label("Take theirs").is_checked()
    page.keyboard.press("ArrowUp")
    assert mine.is_checked()
    page.locator("input[name=_continue]").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.locator(".errornote").count() == 0, page.locator(".errorlist").all_inner_texts()
    assert page.locator("#edit-conflicts").count() == 0
    assert Article.objects.get(pk=story.pk).dek == "The two leaders met on Thursday."

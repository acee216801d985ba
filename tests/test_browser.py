"""What only a real browser can show: the seed story in Chromium, its links, and axe-core."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_OPTIONS = {"resultTypes": ["violations"]}


def assert_no_axe_violations(page):
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def test_story_opens_follows_a_mention_and_both_pages_pass_axe(page, live_demo):
    page.goto(live_demo)

    assert page.get_by_role("heading", level=1).inner_text() == (
        "Kim Jong-un, Putin discuss how to handle US"
    )
    assert page.locator(".story-body a.mention").count() >= 15
    assert_no_axe_violations(page)

    page.locator(".story-body a.mention", has_text="Ri Yong-ho").click()
    page.get_by_role("dialog", name="Ri Yong-ho").get_by_role(
        "link", name="Read more about Ri Yong-ho"
    ).click()
    page.wait_for_url("**/actors/ri-yong-ho/?as_of=2019-04-25")

    assert page.get_by_role("heading", level=1).inner_text() == "Ri Yong-ho"
    assert_no_axe_violations(page)
    assert page.console_errors == []


@pytest.mark.parametrize("width,height", [(320, 640), (1280, 900)])
def test_story_page_fits_narrow_and_wide_screens(page, live_demo, width, height):
    page.set_viewport_size({"width": width, "height": height})

    page.goto(live_demo)

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width
    assert_no_axe_violations(page)


def test_keyboard_reaches_mentions_as_links(page, live_demo):
    page.goto(live_demo)

    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.className")
        if "mention" in focused:
            break

    assert "mention" in page.evaluate("document.activeElement.className")
    page.keyboard.press("Enter")
    card = page.get_by_role("dialog", name="Kim Jong-un")
    expect(card).to_be_visible()
    card.get_by_role("link", name="Read more about Kim Jong-un").press("Enter")
    page.wait_for_url("**/actors/kim-jong-un/?as_of=2019-04-25")


def test_home_and_not_found_pages_pass_axe(page, live_server, live_demo):
    page.goto(live_server.url + "/")
    assert_no_axe_violations(page)

    page.goto(live_server.url + "/stories/no-such-story/")
    assert_no_axe_violations(page)


CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


def test_story_and_an_open_card_cause_no_csp_violations(page, live_demo):
    # Init scripts are injected by the browser's debugging protocol, not by the page, so
    # the page's own policy does not apply to the listener itself.
    page.add_init_script(CSP_LISTENER)
    page.goto(live_demo)

    page.locator(".story-body a.mention", has_text="Ri Yong-ho").click()
    dialog = page.get_by_role("dialog", name="Ri Yong-ho")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Since then")

    assert page.evaluate("window.__cspViolations") == []
    assert page.console_errors == []


def test_header_search_shows_live_results_and_announces_them(page, live_demo, live_server):
    page.goto(live_server.url + "/")

    page.get_by_role("combobox", name="Search stories, people, places and topics").fill("김정은")

    results = page.get_by_role("listbox", name="Search suggestions")
    expect(results.get_by_role("option", name="Kim Jong-un")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("1 result for “김정은”.")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.id") == "site-search-q"
    expect(results.get_by_role("option", name="Kim Jong-un")).to_have_attribute(
        "aria-selected", "true"
    )
    assert page.console_errors == []


def test_search_page_works_without_javascript(browser, live_demo, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    page.goto(live_server.url + "/search/?q=kim+jong-un")

    assert page.get_by_role("link", name="Kim Jong-un", exact=True).count() == 1
    context.close()

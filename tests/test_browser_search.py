"""The header's search box in Chromium: live results under the box, the ARIA combobox
keys (Down, Up, Enter, Escape), a "did you mean" for a typo, axe-core and the CSP."""

import pytest
from playwright.sync_api import expect

from tests.test_browser import CSP_LISTENER, assert_no_axe_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BOX = "Search stories, people, places and topics"


def search_box(page):
    return page.get_by_role("combobox", name=BOX)


def live_results(page):
    return page.get_by_role("listbox", name="Search suggestions")


def type_query(page, text: str):
    box = search_box(page)
    box.click()
    box.press_sequentially(text)
    expect(box).to_have_attribute("aria-expanded", "true")
    return box


@pytest.mark.parametrize("width,height", [(1280, 800), (390, 844)])
def test_live_results_open_directly_under_the_box_and_on_screen(
    page, live_demo, live_server, width, height
):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(live_server.url + "/")

    box = type_query(page, "putn")

    popup = live_results(page).bounding_box()
    field = box.bounding_box()
    assert 0 <= popup["y"] - (field["y"] + field["height"]) <= 12
    assert popup["x"] <= field["x"] + 1
    assert popup["x"] + popup["width"] >= field["x"] + field["width"] - 1
    assert popup["x"] >= 0
    assert popup["x"] + popup["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_typo_then_arrow_keys_and_enter_open_the_entry(page, live_demo, live_server):
    page.goto(live_server.url + "/")

    box = type_query(page, "putn")

    results = live_results(page)
    expect(results.get_by_role("option", name="Did you mean Putin?")).to_be_visible()
    expect(results.get_by_role("option", name="Vladimir Putin Person")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Did you mean Putin?")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "live-suggestion")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "live-entry-1")
    expect(results.get_by_role("option", name="Vladimir Putin Person")).to_have_attribute(
        "aria-selected", "true"
    )
    assert page.evaluate("document.activeElement.id") == "site-search-q"
    box.press("Enter")
    page.wait_for_url("**/actors/vladimir-putin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Vladimir Putin"
    assert page.console_errors == []


def test_arrow_up_wraps_to_the_last_option_and_escape_closes(page, live_demo, live_server):
    page.goto(live_server.url + "/")
    box = type_query(page, "Kim Jong Eun")
    options = live_results(page).get_by_role("option")
    expect(options.first).to_be_visible()

    box.press("ArrowUp")

    last_id = options.last.get_attribute("id")
    expect(box).to_have_attribute("aria-activedescendant", last_id)
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "live-suggestion")
    box.press("Escape")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(live_results(page)).to_be_hidden()
    assert box.get_attribute("aria-activedescendant") is None
    assert box.input_value() == "Kim Jong Eun"
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-expanded", "true")


def test_enter_without_an_active_option_opens_the_results_page(page, live_demo, live_server):
    page.goto(live_server.url + "/")
    box = type_query(page, "Kim Jong Eun")

    box.press("Enter")

    page.wait_for_url("**/search/?q=Kim+Jong+Eun")
    expect(page.locator(".search-suggestion")).to_contain_text("Did you mean Kim Jong-un?")


def test_clicking_an_option_opens_it(page, live_demo, live_server):
    page.goto(live_server.url + "/")
    type_query(page, "kim jongun")

    live_results(page).get_by_role("option", name="Kim Jong-un Person").click()

    page.wait_for_url("**/actors/kim-jong-un/")


def test_search_pages_and_open_live_results_pass_axe_without_csp_violations(
    page, live_demo, live_server
):
    page.add_init_script(CSP_LISTENER)
    page.goto(live_server.url + "/search/?q=Kim+Jong+Eun")
    expect(page.locator(".search-suggestion")).to_be_visible()
    assert_no_axe_violations(page)

    page.goto(live_server.url + "/search/")
    expect(page.get_by_role("heading", name="How to search")).to_be_visible()
    assert_no_axe_violations(page)

    box = type_query(page, "putn")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "live-suggestion")
    assert_no_axe_violations(page)

    assert page.evaluate("window.__cspViolations") == []
    assert page.console_errors == []


def test_search_page_box_updates_the_results_in_place(page, live_demo, live_server):
    page.goto(live_server.url + "/search/")

    page.get_by_role("searchbox", name="Search stories, people, places and topics, in any").fill(
        "putn"
    )

    expect(page.locator("#page-results .search-suggestion")).to_contain_text("Did you mean Putin?")
    page.wait_for_url("**/search/?q=putn")
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map((e) => e.id)")
    assert len(ids) == len(set(ids))

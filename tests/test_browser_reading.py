"""What the reader's browser remembers ("I know who this is") and the card-read count it
sends (static/explainer/reading.js), in Chromium."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from explainer.models import CardReads
from tests.test_browser_cards import DESKTOP, card, hover, mention

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KNOWN_KEY = "explainer:known"
KNOWN = re.compile(r"\bmention--known\b")


def posts(page) -> list:
    sent = []
    page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
    return sent


def test_a_card_open_for_a_second_is_counted_once_without_cookies(page, live_demo, live_server):
    page.set_viewport_size(DESKTOP)
    page.context.add_cookies([{"name": "tracker", "value": "no", "url": live_server.url}])
    sent = posts(page)
    page.goto(live_demo)

    hover(page, mention(page, "vladimir-putin"))
    expect(card(page, "vladimir-putin")).to_be_visible()
    page.wait_for_timeout(1400)
    page.mouse.move(0, 0)
    hover(page, mention(page, "vladimir-putin"))  # the same card again: not counted again
    page.wait_for_timeout(1400)

    reads = [request for request in sent if request.url.endswith("/api/card-reads/")]
    assert len(reads) == 1
    assert "cookie" not in reads[0].all_headers()
    assert (
        reads[0].post_data
        == "entry=vladimir-putin&story=" + live_demo.rstrip("/").rsplit("/", 1)[1]
    )
    row = CardReads.objects.get()
    assert (row.actor.slug, row.count) == ("vladimir-putin", 1)
    assert page.console_errors == []


def test_a_card_closed_within_a_second_is_not_counted(page, live_demo):
    page.set_viewport_size(DESKTOP)
    sent = posts(page)
    page.goto(live_demo)

    hover(page, mention(page, "vladimir-putin"))
    expect(card(page, "vladimir-putin")).to_be_visible()
    page.keyboard.press("Escape")
    page.wait_for_timeout(1400)

    assert [request for request in sent if "/api/card-reads/" in request.url] == []
    assert not CardReads.objects.exists()


def test_i_know_who_this_is_dims_the_name_here_and_later_until_undone(page, live_demo):
    page.set_viewport_size(DESKTOP)
    sent = posts(page)
    page.goto(live_demo)
    putin = mention(page, "vladimir-putin")
    putin.scroll_into_view_if_needed()
    putin.click()  # pins the card
    known = card(page, "vladimir-putin").get_by_role("button", name="I know who this is")
    expect(known).to_have_attribute("aria-pressed", "false")

    known.click()

    expect(known).to_have_attribute("aria-pressed", "true")
    expect(putin).to_have_class(KNOWN)
    assert page.evaluate(f"localStorage.getItem('{KNOWN_KEY}')") == '["vladimir-putin"]'
    # Still a link, underlined, without the highlight's wash.
    style = putin.evaluate(
        "m => [getComputedStyle(m).backgroundColor, getComputedStyle(m).textDecorationLine]"
    )
    assert style == ["rgba(0, 0, 0, 0)", "underline"]
    page.keyboard.press("Escape")

    page.reload()  # a later page view (of this story or any other) remembers it
    putin = mention(page, "vladimir-putin")
    expect(putin).to_have_class(KNOWN)
    expect(mention(page, "kim-jong-un")).not_to_have_class(KNOWN)
    reset = page.get_by_role("button", name="Highlight names I know again")
    expect(reset).to_be_visible()
    assert Axe().run(page, options={"resultTypes": ["violations"]}).response["violations"] == []

    reset.focus()
    page.keyboard.press("Enter")

    expect(putin).not_to_have_class(KNOWN)
    expect(reset).to_be_hidden()
    assert page.evaluate(f"localStorage.getItem('{KNOWN_KEY}')") is None
    expect(page.locator(".cards-toggle")).to_be_focused()
    # Remembered in the browser only: knowing a name sent nothing to the server.
    assert [r for r in sent if "/api/card-reads/" not in r.url] == []
    assert page.console_errors == []


LAYOUT_SHIFT = """() => {
    window.__shift = 0;
    new PerformanceObserver((list) => {
        for (const entry of list.getEntries()) window.__shift += entry.value;
    }).observe({ type: "layout-shift", buffered: true });
}"""


def test_opening_ten_cards_shifts_nothing_on_the_page(page, live_demo):
    page.set_viewport_size(DESKTOP)
    page.goto(live_demo)
    page.evaluate(LAYOUT_SHIFT)
    slugs = page.evaluate(
        "[...new Set([...document.querySelectorAll('.story-body a.mention[data-entry]')]"
        ".map((m) => m.dataset.entry))].slice(0, 10)"
    )
    assert len(slugs) == 10

    for slug in slugs:
        hover(page, mention(page, slug))
        expect(card(page, slug)).to_be_visible()
        page.keyboard.press("Escape")

    assert page.evaluate("window.__shift") == 0

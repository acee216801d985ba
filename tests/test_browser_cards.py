"""Context cards in a real browser: hover intent, keyboard, touch, the reader's switch, links to a
card, fetching, layout and axe-core (static/explainer/cards.js and cards.css)."""

import gzip
from contextlib import contextmanager

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_OPTIONS = {"resultTypes": ["violations"]}
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Comfortably longer than cards.js's show (400 ms) and close (300 ms) delays: long enough for
# a card that should not appear to have appeared, or one that should stay to have gone.
DWELL_MS = 1000
CARDS_JS = settings.BASE_DIR / "static" / "explainer" / "cards.js"
# A card opened over the story says who someone was on the story's date.
ON_STORY_DAY = "On 25 April 2019:"


@pytest.fixture
def desktop(page):
    page.set_viewport_size(DESKTOP)
    return page


@contextmanager
def open_page(browser, **options):
    """A page in a context of its own (touch, no JavaScript), collecting console errors."""
    context = browser.new_context(**options)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda m: page.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    try:
        yield page
    finally:
        context.close()


def description(slug):
    from explainer.models import Actor

    return Actor.objects.get(slug=slug).description


def mention(page, slug, nth=0):
    return page.locator(f'.story-body a.mention[data-entry="{slug}"]').nth(nth)


def card(page, slug):
    return page.locator(f'.card-pop [data-card="{slug}"]')


def settle(page):
    """Wait until the page has not scrolled for 150 ms: cards.js ignores hovers while the page
    scrolls (for 100 ms after a scroll event)."""
    page.evaluate(
        """() => new Promise((done) => {
            let timer = setTimeout(done, 150);
            addEventListener("scroll", () => {
                clearTimeout(timer);
                timer = setTimeout(done, 150);
            }, { passive: true });
        })"""
    )


def hover(page, locator):
    locator.scroll_into_view_if_needed()
    settle(page)
    locator.hover()


def still(page):
    """Wait for the card's entrance animation (if motion is allowed) to finish."""
    page.evaluate("() => Promise.all(document.getAnimations().map((a) => a.finished))")


def box_in_document(page, selector):
    return page.evaluate(
        """(selector) => {
            const r = document.querySelector(selector).getBoundingClientRect();
            return [r.left + scrollX, r.top + scrollY, r.width, r.height];
        }""",
        selector,
    )


def card_requests(page, path):
    seen = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url)
            if path in request.url and request.headers.get("hx-request") == "true"
            else None
        ),
    )
    return seen


def overlaps(a, b):
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def assert_no_axe_violations(page):
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def test_hovered_card_stays_while_pointer_is_on_mention_or_card_and_closes_after(
    desktop, live_demo
):
    page = desktop
    page.goto(live_demo)
    ri = mention(page, "ri-yong-ho")

    hover(page, ri)

    shown = card(page, "ri-yong-ho")
    expect(shown).to_be_visible()
    expect(shown).to_contain_text(ON_STORY_DAY)
    box = shown.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    page.wait_for_timeout(DWELL_MS)
    expect(shown).to_be_visible()
    page.mouse.move(5, 5, steps=4)
    expect(shown).to_be_hidden()
    assert page.console_errors == []


def test_escape_hides_hovered_card_without_moving_focus(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    switch = page.get_by_role("button", name="Context cards")
    switch.focus()
    hover(page, mention(page, "vladimir-putin"))
    expect(card(page, "vladimir-putin")).to_be_visible()

    page.keyboard.press("Escape")

    expect(page.locator(".card-pop")).to_be_hidden()
    expect(switch).to_be_focused()
    page.wait_for_timeout(DWELL_MS)  # the pointer is still there: the card must not come back
    expect(page.locator(".card-pop")).to_be_hidden()


def test_pointer_passing_over_a_mention_opens_and_fetches_nothing(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    requests = card_requests(page, "/actors/ri-yong-ho/")
    ri = mention(page, "ri-yong-ho")
    ri.scroll_into_view_if_needed()
    settle(page)
    box = ri.bounding_box()
    middle = box["y"] + box["height"] / 2

    page.mouse.move(box["x"] - 12, middle)
    page.mouse.move(box["x"] + box["width"] + 12, middle, steps=2)
    page.wait_for_timeout(DWELL_MS)

    assert page.locator(".card-pop").count() == 1  # cards.js is running
    expect(page.locator(".card-pop")).to_be_hidden()
    assert requests == []


def test_card_never_covers_its_mention_and_flips_above_at_the_bottom_edge(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    ri = mention(page, "ri-yong-ho")
    ri.scroll_into_view_if_needed()
    # Put the mention 40 px above the viewport's bottom edge: no room for a card below.
    page.evaluate(
        """(el) => scrollBy(0, el.getBoundingClientRect().bottom - (innerHeight - 40))""",
        ri.element_handle(),
    )

    hover(page, ri)

    shown = card(page, "ri-yong-ho")
    expect(shown).to_be_visible()
    still(page)
    pop, target = page.locator(".card-pop").bounding_box(), ri.bounding_box()
    assert not overlaps(pop, target)
    assert pop["y"] + pop["height"] <= target["y"]
    assert pop["width"] <= 385
    assert pop["x"] >= 0 and pop["x"] + pop["width"] <= DESKTOP["width"]


def test_keyboard_focus_describes_the_mention_and_enter_pins_a_labelled_dialog(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    kim = mention(page, "kim-jong-un")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.entry") == "kim-jong-un":
            break

    expect(kim).to_be_focused()
    expect(kim).to_have_accessible_description(description("kim-jong-un"))
    expect(card(page, "kim-jong-un")).to_be_visible()  # a preview; focus stays on the link
    expect(kim).to_be_focused()

    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Kim Jong-un")
    expect(dialog).to_be_visible()
    expect(dialog).not_to_have_attribute("aria-modal", "true")
    expect(page.get_by_role("button", name="Close card: Kim Jong-un")).to_be_visible()
    assert page.evaluate("document.querySelector('[role=dialog]').contains(document.activeElement)")
    assert page.url == live_demo

    page.keyboard.press("Escape")

    expect(dialog).to_be_hidden()
    expect(kim).to_be_focused()
    page.wait_for_timeout(DWELL_MS)  # focus came back: that must not reopen a preview
    expect(page.locator(".card-pop")).to_be_hidden()
    assert page.console_errors == []


def test_tabbing_out_of_a_pinned_card_continues_after_its_mention(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    kim = mention(page, "kim-jong-un")
    kim.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Kim Jong-un")
    expect(card(page, "kim-jong-un")).to_be_visible()

    page.keyboard.press("Shift+Tab")

    expect(dialog).to_be_hidden()
    expect(kim).to_be_focused()

    page.keyboard.press("Enter")
    expect(card(page, "kim-jong-un")).to_be_visible()
    # Through the close button and every link in the card, then one more Tab leaves it.
    for _ in range(dialog.locator("a[href], button").count() + 1):
        page.keyboard.press("Tab")

    expect(dialog).to_be_hidden()
    expect(mention(page, "kim-putin-summit-2019")).to_be_focused()


def test_tap_on_a_phone_opens_a_bottom_sheet_and_never_navigates(browser, live_demo):
    with open_page(browser, viewport=PHONE, has_touch=True, is_mobile=True) as page:
        page.goto(live_demo)
        putin = mention(page, "vladimir-putin")

        putin.tap()

        sheet = page.get_by_role("dialog", name="Vladimir Putin")
        expect(sheet).to_be_visible()
        expect(card(page, "vladimir-putin")).to_contain_text(ON_STORY_DAY)
        still(page)
        box = sheet.bounding_box()
        assert box["x"] == 0 and box["width"] == PHONE["width"]
        assert abs(box["y"] + box["height"] - PHONE["height"]) <= 1
        assert putin.bounding_box()["y"] + putin.bounding_box()["height"] <= box["y"]

        page.get_by_role("button", name="Close card: Vladimir Putin").tap()

        expect(sheet).to_be_hidden()
        page.wait_for_timeout(DWELL_MS)  # no hover emulation from the taps' compat mouse events
        expect(page.locator(".card-pop")).to_be_hidden()

        # A finger resting on a mention is not a hover.
        kim = mention(page, "kim-jong-un")
        kim.scroll_into_view_if_needed()
        settle(page)
        box = kim.bounding_box()
        point = {"x": box["x"] + box["width"] / 2, "y": box["y"] + box["height"] / 2}
        touch = page.context.new_cdp_session(page)
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [point]})
        page.wait_for_timeout(DWELL_MS)
        expect(page.locator(".card-pop")).to_be_hidden()
        touch.send("Input.dispatchTouchEvent", {"type": "touchCancel", "touchPoints": []})

        putin.tap()
        expect(sheet).to_be_visible()
        page.get_by_role("heading", level=1).tap()

        expect(sheet).to_be_hidden()
        assert page.url == live_demo
        assert page.console_errors == []


def test_without_javascript_a_mention_is_a_link_to_its_entry(browser, live_demo):
    with open_page(browser, viewport=DESKTOP, java_script_enabled=False) as page:
        page.goto(live_demo)
        expect(page.locator(".cards-toggle")).to_be_hidden()

        mention(page, "ri-yong-ho").click()

        page.wait_for_url("**/actors/ri-yong-ho/**")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ri Yong-ho")


@pytest.mark.parametrize(
    "click", [{"modifiers": ["ControlOrMeta"]}, {"button": "middle"}], ids=["ctrl", "middle"]
)
def test_modified_or_middle_click_opens_the_entry_not_a_card(desktop, live_demo, click):
    page = desktop
    page.goto(live_demo)

    with page.context.expect_page() as opened:
        mention(page, "ri-yong-ho").click(**click)

    opened.value.wait_for_url("**/actors/ri-yong-ho/**")
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert page.url == live_demo


def test_turning_cards_off_makes_mentions_plain_links_and_is_remembered(browser, live_demo):
    with open_page(browser, viewport=DESKTOP, has_touch=True) as page:
        page.goto(live_demo)
        requests = card_requests(page, "/actors/kim-jong-un/")
        switch = page.get_by_role("button", name="Context cards")
        kim = mention(page, "kim-jong-un")
        highlight = "getComputedStyle(document.querySelector('a.mention')).backgroundColor"
        expect(switch).to_have_attribute("aria-pressed", "true")
        assert page.evaluate(highlight) != "rgba(0, 0, 0, 0)"

        switch.click()

        expect(switch).to_have_attribute("aria-pressed", "false")
        assert page.evaluate(highlight) == "rgba(0, 0, 0, 0)"
        hover(page, kim)
        page.wait_for_timeout(DWELL_MS)
        expect(page.locator(".card-pop")).to_be_hidden()
        assert requests == []

        page.reload()

        expect(switch).to_have_attribute("aria-pressed", "false")
        assert page.evaluate(highlight) == "rgba(0, 0, 0, 0)"
        kim.tap()
        page.wait_for_url("**/actors/kim-jong-un/**")

        page.go_back()
        page.get_by_role("button", name="Context cards").click()

        expect(switch).to_have_attribute("aria-pressed", "true")
        hover(page, kim)
        expect(card(page, "kim-jong-un")).to_be_visible()
        assert page.console_errors == []


def test_card_fragment_opens_the_story_with_that_card_pinned(desktop, live_demo):
    page = desktop

    page.goto(live_demo + "#card-ri-yong-ho")

    dialog = page.get_by_role("dialog", name="Ri Yong-ho")
    expect(dialog).to_be_visible()
    expect(card(page, "ri-yong-ho")).to_contain_text(ON_STORY_DAY)
    expect(mention(page, "ri-yong-ho")).to_be_in_viewport()
    assert page.evaluate("document.querySelector('[role=dialog]').contains(document.activeElement)")
    expect(dialog.get_by_role("link", name="Link to this card")).to_have_attribute(
        "href", "#card-ri-yong-ho"
    )
    assert page.console_errors == []


def test_each_card_is_fetched_at_most_once_per_page_view(desktop, live_demo):
    from explainer.models import Article

    article = Article.objects.get()
    article.link_every_mention = True
    article.save()
    page = desktop
    page.goto(live_demo)
    requests = card_requests(page, "/actors/kim-jong-un/")
    first, second = mention(page, "kim-jong-un", 0), mention(page, "kim-jong-un", 1)
    shown = card(page, "kim-jong-un")

    hover(page, first)
    expect(shown).to_be_visible()
    page.mouse.move(5, 5)
    expect(shown).to_be_hidden()
    hover(page, second)
    expect(shown).to_be_visible()
    page.mouse.move(5, 5)
    expect(shown).to_be_hidden()
    first.click()
    expect(page.get_by_role("dialog", name="Kim Jong-un")).to_be_visible()

    assert len(requests) == 1
    assert page.locator('[data-card="kim-jong-un"]').count() == 1
    assert page.console_errors == []


def test_opening_a_card_does_not_move_the_story(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    watched = [
        ".story-body > p:first-child",
        ".story-body > p:nth-of-type(2)",
        ".story-credit",
        ".in-this-story",
        ".site-footer",
    ]
    before = [box_in_document(page, selector) for selector in watched]
    width = page.evaluate("document.documentElement.scrollWidth")
    kim = mention(page, "kim-jong-un")

    hover(page, kim)
    expect(card(page, "kim-jong-un")).to_be_visible()
    assert [box_in_document(page, selector) for selector in watched] == before

    kim.click()
    expect(page.get_by_role("dialog", name="Kim Jong-un")).to_be_visible()
    assert [box_in_document(page, selector) for selector in watched] == before
    assert page.evaluate("document.documentElement.scrollWidth") == width


def test_failed_card_fetch_shows_a_message_and_the_read_more_link(desktop, live_demo):
    page = desktop

    def fail_card(route):
        if route.request.headers.get("hx-request"):
            route.fulfill(status=500, body="Server Error")
        else:
            route.continue_()

    page.route("**/actors/ri-yong-ho/**", fail_card)
    page.goto(live_demo)

    hover(page, mention(page, "ri-yong-ho"))

    message = page.locator(".card-pop")
    expect(message).to_contain_text("could not be loaded")
    expect(message.get_by_role("link", name="Read more about Ri Yong-ho")).to_have_attribute(
        "href", "/actors/ri-yong-ho/?as_of=2019-04-25"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kim Jong-un, Putin discuss how to handle US"
    )
    # The browser itself reports the failed load; nothing else may complain.
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


@pytest.mark.parametrize(
    "viewport,scheme",
    [(DESKTOP, "light"), (PHONE, "light"), (DESKTOP, "dark")],
    ids=["desktop", "phone", "desktop-dark"],
)
def test_story_with_and_without_a_pinned_card_passes_axe(browser, live_demo, viewport, scheme):
    phone = viewport == PHONE
    options = {"has_touch": phone, "is_mobile": phone, "color_scheme": scheme}
    with open_page(browser, viewport=viewport, **options) as page:
        page.goto(live_demo)
        expect(page.get_by_role("button", name="Context cards")).to_be_visible()
        assert_no_axe_violations(page)

        ri = mention(page, "ri-yong-ho")
        ri.tap() if phone else ri.click()
        expect(page.get_by_role("dialog", name="Ri Yong-ho")).to_be_visible()
        expect(card(page, "ri-yong-ho")).to_be_visible()
        still(page)

        assert_no_axe_violations(page)
        assert page.console_errors == []


def test_cards_open_without_animation_for_readers_who_prefer_reduced_motion(browser, live_demo):
    with open_page(browser, viewport=DESKTOP, reduced_motion="reduce") as page:
        page.goto(live_demo)

        hover(page, mention(page, "kim-jong-un"))

        expect(card(page, "kim-jong-un")).to_be_visible()
        pop = page.locator(".card-pop")
        assert pop.evaluate("(el) => getComputedStyle(el).animationName") == "none"


def test_print_drops_cards_and_switch_and_ends_with_the_glossary(desktop, live_demo):
    page = desktop
    page.goto(live_demo)
    mention(page, "ri-yong-ho").click()
    expect(page.get_by_role("dialog", name="Ri Yong-ho")).to_be_visible()

    page.emulate_media(media="print")

    expect(page.locator(".card-pop")).to_be_hidden()
    expect(page.locator(".cards-toggle")).to_be_hidden()
    glossary = page.locator(".in-this-story")
    expect(glossary.get_by_text(description("ri-yong-ho"))).to_be_visible()
    body = page.locator(".story-body").bounding_box()
    assert glossary.bounding_box()["y"] >= body["y"] + body["height"]


def test_cards_script_stays_under_six_kilobytes_gzipped():
    size = len(gzip.compress(CARDS_JS.read_bytes(), compresslevel=9))

    assert size < 6 * 1024

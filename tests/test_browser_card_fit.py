"""Cards that fit, in Chromium: every context card in the demo story, opened by hover and
pinned by a click at common laptop sizes, shows all of itself (name, dated line, a summary
of whole sentences, "Read more") with no scrolling inside the card; a phone's card sheet
stays within 60% of the screen; and a phone's first screen reaches the story's lede."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from explainer.excerpts import plain_text

from .test_browser_cards import card, hover, mention, open_page, still

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOPS = [
    {"width": 1280, "height": 800},
    {"width": 1366, "height": 768},
    {"width": 1440, "height": 900},
]
PHONE = {"width": 390, "height": 844}
STORY_DAY = "2019-04-25"
SENTENCE_ENDS = (".", "!", "?", '"', "”", "’", ")")

# What a reader must see of the open card, and whether any of it is out of sight: below the
# card's own scroll area, outside the card or outside the window.
SHOWN = """(slug) => {
    const pop = document.querySelector(".card-pop");
    const area = pop.querySelector(".card-pop__cards");
    const shown = pop.querySelector(`[data-card="${CSS.escape(slug)}"]`);
    const view = area.getBoundingClientRect();
    const hidden = [...shown.children]
        .filter((part) => part.getClientRects().length)
        .filter((part) => {
            const r = part.getBoundingClientRect();
            return r.top < Math.max(view.top, 0) - 0.5
                || r.bottom > Math.min(view.bottom, innerHeight) + 0.5;
        })
        .map((part) => part.className);
    const more = shown.querySelector(".context-card__more");
    return {
        height: Math.round(pop.getBoundingClientRect().height),
        scrolls: area.scrollHeight > area.clientHeight,
        hidden,
        title: shown.querySelector(".context-card__title").textContent.trim(),
        summary: shown.querySelector(".context-card__summary").innerHTML,
        more: more && more.getAttribute("href"),
    };
}"""


def demo_entries() -> dict:
    from explainer.models import Actor, BackgroundNote

    return {entry.slug: entry for entry in [*Actor.objects.all(), *BackgroundNote.objects.all()]}


def slugs_in_story(page) -> list[str]:
    return page.evaluate(
        """() => [...new Set([...document.querySelectorAll(".story-body a.mention[data-entry]")]
            .map((link) => link.dataset.entry))]"""
    )


def misfit(shown: dict, entry, *, max_height: float | None = None) -> list[str]:
    """What is wrong with a card as shown: empty when it fits and says what it should. Every
    part of it in sight covers the dated line ("On 25 April 2019: …", or a note's dates)."""
    problems = []
    if shown["scrolls"]:
        problems.append("scrolls inside")
    if shown["hidden"]:
        problems.append(f"out of sight: {shown['hidden']}")
    if max_height is not None and shown["height"] > max_height:
        problems.append(f"{shown['height']} px tall")
    if shown["title"] != entry.label:
        problems.append(f"named {shown['title']!r}")
    summary, full = plain_text(shown["summary"]).strip(), plain_text(entry.summary_html).strip()
    if not summary or not full.startswith(summary) or not summary.endswith(SENTENCE_ENDS):
        problems.append(f"summary cut mid-sentence: …{summary[-40:]!r}")
    if shown["more"] != f"{entry.get_absolute_url()}?as_of={STORY_DAY}":
        problems.append(f"Read more goes to {shown['more']}")
    return problems


@pytest.mark.parametrize("viewport", LAPTOPS, ids=lambda v: f"{v['width']}x{v['height']}")
def test_every_card_in_the_demo_fits_when_hovered_and_when_pinned(browser, live_demo, viewport):
    entries = demo_entries()
    with open_page(browser, viewport=viewport) as page:
        page.goto(live_demo)
        slugs = slugs_in_story(page)
        problems, heights = {}, []

        for slug in slugs:
            link = mention(page, slug)
            hover(page, link)
            expect(card(page, slug)).to_be_visible()
            still(page)
            hovered = page.evaluate(SHOWN, slug)
            link.click()
            expect(page.get_by_role("dialog", name=entries[slug].label)).to_be_visible()
            still(page)
            pinned = page.evaluate(SHOWN, slug)
            page.keyboard.press("Escape")
            page.mouse.move(1, 1)
            expect(page.locator(".card-pop")).to_be_hidden()

            for how, shown in (("hover", hovered), ("pinned", pinned)):
                if found := misfit(shown, entries[slug]):
                    problems[f"{slug} ({how})"] = found
                heights.append(shown["height"])

        assert len(slugs) >= 20
        assert problems == {}
        assert page.console_errors == []
    print(f"{viewport}: cards {min(heights)}-{max(heights)} px tall")


def test_every_card_sheet_on_a_phone_fits_in_sixty_percent_of_the_screen(browser, live_demo):
    entries = demo_entries()
    with open_page(browser, viewport=PHONE, has_touch=True, is_mobile=True) as page:
        page.goto(live_demo)
        problems, heights = {}, []

        for slug in slugs_in_story(page):
            label = entries[slug].label
            mention(page, slug).tap()
            expect(page.get_by_role("dialog", name=label)).to_be_visible()
            expect(card(page, slug)).to_be_visible()
            still(page)
            shown = page.evaluate(SHOWN, slug)
            page.get_by_role("button", name=f"Close card: {label}").tap()
            expect(page.locator(".card-pop")).to_be_hidden()

            if found := misfit(shown, entries[slug], max_height=0.6 * PHONE["height"]):
                problems[slug] = found
            heights.append(shown["height"])

        assert problems == {}
        assert page.console_errors == []
    print(f"phone: sheets {min(heights)}-{max(heights)} px tall")


def test_phone_first_screen_reaches_the_lede_and_captions_follow_it(browser, live_demo):
    with open_page(browser, viewport=PHONE, has_touch=True, is_mobile=True) as page:
        page.goto(live_demo)

        lede = page.locator(".story-body > p").first.bounding_box()
        caption = page.locator(".figure--caption-only").first.bounding_box()

        assert lede["y"] + 60 <= PHONE["height"]  # its first lines, at least, on the first screen
        assert caption["y"] >= lede["y"] + lede["height"]
        print(f"phone: the first paragraph starts at {lede['y']:.0f} px")


@pytest.mark.parametrize("viewport", [*LAPTOPS, PHONE], ids=lambda v: f"{v['width']}x{v['height']}")
def test_story_page_passes_axe_at_every_size(browser, live_demo, viewport):
    with open_page(browser, viewport=viewport) as page:
        page.goto(live_demo)

        results = Axe().run(page, options={"resultTypes": ["violations"]})

        assert results.violations_count == 0, results.generate_report()


def test_show_all_in_how_we_got_here_works_by_keyboard_and_without_javascript(browser, live_demo):
    for script in (True, False):
        with open_page(browser, viewport=LAPTOPS[0], java_script_enabled=script) as page:
            page.goto(live_demo)
            section = page.locator(".how-we-got-here")
            earlier = section.locator(".timeline-earlier .timeline li").first
            expect(section.locator(".timeline li").filter(visible=True)).to_have_count(12)
            expect(earlier).to_be_hidden()

            summary = section.locator("summary")
            expect(summary).to_have_text(re.compile(r"^Show all \d+ events$"), use_inner_text=True)
            summary.focus()
            page.keyboard.press("Enter")

            expect(earlier).to_be_visible()
            assert section.locator(".timeline li").filter(visible=True).count() > 12
            expect(summary).to_have_text("Earlier events", use_inner_text=True)

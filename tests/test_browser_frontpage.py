"""The front page, the library's indexes and the story page's scrolling sidebar in Chromium:
axe-core at desktop and phone sizes, the keyboard, and the strict CSP."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.factories import make_actor, make_article

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE_OPTIONS = {"resultTypes": ["violations"]}
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture
def site(live_server, demo):
    """The demo, two more stories (so the front page has "In the news" and a list) and a
    Hangul and a Cyrillic name in the library."""
    make_article(
        headline="Kim Jong-un returns to Pyongyang",
        dek="The armoured train crossed back into North Korea",
        published_at="2019-04-27T08:00Z",
        body="<p>Kim Jong-un left Vladivostok. Vladimir Putin saw him off.</p>",
    )
    make_article(
        headline="Lavrov on the talks",
        published_at="2019-04-26T08:00Z",
        body="<p>Sergei Lavrov said the six-party talks could resume.</p>",
    )
    make_actor(name="김여정", slug="kim-yo-jong-hangul", description="Kim Jong-un's sister")
    make_actor(name="Ким Чен Ир", slug="kim-jong-il-cyrillic", description="Leader, 1994-2011")
    return live_server.url


def assert_no_axe_violations(page):
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


def reader_urls(site: str, demo) -> list[str]:
    from explainer.models import Article

    second = Article.objects.get(headline="Lavrov on the talks")
    return [
        f"{site}/",
        f"{site}/?before={second.slug}",  # a later page of the list
        f"{site}/actors/",
        f"{site}/actors/?kind=person&from=K",
        f"{site}/background/",
        site + demo.get_absolute_url(),
    ]


@pytest.mark.parametrize("size", SIZES)
def test_front_page_indexes_and_story_pass_axe_and_fit_without_csp_violations(
    page, site, demo, size
):
    page.set_viewport_size(SIZES[size])
    page.add_init_script(CSP_LISTENER)

    for url in reader_urls(site, demo):
        page.goto(url)

        assert_no_axe_violations(page)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= SIZES[size]["width"], url
        assert page.evaluate("window.__cspViolations") == [], url
    assert page.console_errors == []


def test_front_page_shows_the_lead_in_the_news_and_the_latest(page, site):
    page.goto(site + "/")

    lead = page.get_by_role("article", name="Kim Jong-un returns to Pyongyang")
    expect(lead).to_contain_text("The armoured train crossed back into North Korea")
    expect(lead.get_by_role("link", name="Vladimir Putin")).to_have_attribute(
        "href", "/actors/vladimir-putin/"
    )
    news = page.get_by_role("region", name="In the news")
    expect(news.get_by_role("link", name="Kim Jong-un", exact=True)).to_be_visible()
    expect(news).to_contain_text("2 stories")
    latest = page.get_by_role("region", name="Latest stories")
    expect(latest.get_by_role("link", name="Lavrov on the talks")).to_be_visible()


def test_library_index_works_by_keyboard(page, site):
    page.goto(site + "/")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Who’s who").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/actors/")
    letters = page.get_by_role("navigation", name="Jump to a letter")
    letters.get_by_role("link", name="ㄱ", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/actors/?from=*")

    section = page.get_by_role("region", name="People")
    expect(section.get_by_role("heading", name="ㄱ")).to_be_visible()
    expect(section.get_by_role("link", name="김여정")).to_be_visible()
    expect(page.get_by_role("link", name="Ким Чен Ир")).to_have_count(0)  # sorts before 가
    page.get_by_role("link", name="Back to the start").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/actors/")
    people = page.get_by_role("region", name="People")
    expect(people.get_by_role("heading", name="К", exact=True)).to_be_visible()
    expect(people.get_by_role("link", name="Ким Чен Ир")).to_be_visible()


def test_story_sidebar_shows_it_scrolls_and_scrolls_by_keyboard(page, site, demo):
    page.set_viewport_size(SIZES["desktop"])
    page.goto(site + demo.get_absolute_url())
    sidebar = page.get_by_role("complementary", name="In this story")

    overflow = sidebar.evaluate("element => element.scrollHeight - element.clientHeight")
    assert overflow > 0  # the demo's sidebar is longer than the window: it must scroll
    box = sidebar.bounding_box()
    assert box["y"] + box["height"] <= SIZES["desktop"]["height"]  # its lower shadow is in view
    background = sidebar.evaluate("element => getComputedStyle(element).backgroundImage")
    assert background.count("radial-gradient") == 2  # the shadows that say there is more

    sidebar.focus()
    expect(sidebar).to_be_focused()
    page.keyboard.press("PageDown")
    page.wait_for_function(
        "() => document.querySelector('.in-this-story').scrollTop > 0", timeout=2000
    )

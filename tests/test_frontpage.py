"""The front page, the library's A–Z indexes (/actors/, /background/), bylines without
stray separators, the story page's scrolling sidebar and og:image."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given
from hypothesis import strategies as st
from pytest_django.asserts import assertContains, assertNotContains

from explainer import frontpage, indexes
from explainer.alphabet import OTHER, group_by_letter, index_letter
from explainer.models import Actor, Article, BackgroundNote, Figure
from tests.factories import PUBLISHED_AT, make_actor, make_article, make_note

pytestmark = pytest.mark.django_db

TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def at_hour(hour: int) -> dt.datetime:
    return PUBLISHED_AT + dt.timedelta(hours=hour)


def make_stories(count: int, **overrides) -> list[Article]:
    """``count`` published stories, the last one the newest."""
    return [
        make_article(headline=f"Headline {i:03d}", published_at=at_hour(i), **overrides)
        for i in range(count)
    ]


def headlines(response) -> list[str]:
    return re.findall(r"Headline \d{3}", response.content.decode())


def meta_lines(html: str) -> list[str]:
    lines = re.findall(r'<p class="story-meta">(.*?)</p>', html, flags=re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", line).split()) for line in lines]


# The pure part: letters.


@pytest.mark.parametrize(
    ("name", "letter"),
    [
        ("Kim Jong-un", "K"),
        ("de Klerk", "D"),
        ("Édouard Philippe", "E"),
        ("Ким Чен Ын", "К"),
        ("김정은", "ㄱ"),
        ("꽃동네", "ㄱ"),  # a double consonant files with its single one
        ("문재인", "ㅁ"),
        ("習近平", "習"),
        ("2019 Kim–Putin summit", OTHER),
        ("“Quoted”", OTHER),
        ("", OTHER),
    ],
)
def test_index_letter_files_names_in_any_script(name, letter):
    assert index_letter(name) == letter


@given(st.lists(st.text(max_size=6), max_size=30))
def test_group_by_letter_keeps_every_name_in_order_with_unique_anchors(names):
    groups = group_by_letter(names, name=str)

    assert [name for group in groups for name in group.items] == names
    anchors = [group.anchor for group in groups]
    assert len(anchors) == len(set(anchors))
    assert all(index_letter(name) == group.letter for group in groups for name in group.items)


# The front page.


def test_front_page_leads_with_the_latest_story_and_what_it_explains(client):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho", description="Foreign minister of North Korea")
    make_note(title="Six-party talks", slug="six-party-talks", description="Talks on the bomb")
    make_article(headline="An older story", published_at=at_hour(0))
    lead = make_article(
        headline="The lead story",
        dek="What the talks were about",
        byline="Audit Desk",
        published_at=at_hour(5),
        body="<p>Ri Yong-ho spoke of the six-party talks.</p>",
    )

    response = client.get("/")

    assertContains(response, f'href="{lead.get_absolute_url()}">The lead story</a>')
    assertContains(response, "What the talks were about")
    assert (
        meta_lines(response.content.decode())[0]
        == "By Audit Desk · 25 April 2019 · The Korea Times"
    )
    assertContains(response, '<a href="/actors/ri-yong-ho/">Ri Yong-ho</a>')
    assertContains(response, "Foreign minister of North Korea")
    assertContains(response, '<a href="/background/six-party-talks/">Six-party talks</a>')
    content = response.content.decode()
    assert content.index("The lead story") < content.index("Latest stories")
    assert content.index("Latest stories") < content.index("An older story")


def test_in_the_news_counts_the_latest_stories_that_mention_each_entry(client):
    kim = make_actor(name="Kim Jong-un", slug="kim-jong-un", description="Leader of North Korea")
    make_actor(name="Vladimir Putin", slug="vladimir-putin")
    make_actor(name="Hidden Person", slug="hidden-person", is_published=False)
    for hour in range(3):
        make_article(
            published_at=at_hour(hour), body="<p>Kim Jong-un met Hidden Person. Kim Jong-un.</p>"
        )
    make_article(published_at=at_hour(4), body="<p>Vladimir Putin and Kim Jong-un.</p>")
    make_article(published=False, body="<p>Vladimir Putin, in a draft.</p>")

    news = frontpage.in_the_news()

    assert [(entry.label, entry.story_count) for entry in news] == [
        ("Kim Jong-un", 4),
        ("Vladimir Putin", 1),
    ]
    assert news[0].url == kim.get_absolute_url()
    assertContains(client.get("/"), "4 stories")


def test_in_the_news_looks_only_at_the_latest_stories():
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    make_actor(name="Vladimir Putin", slug="vladimir-putin")
    make_article(published_at=at_hour(0), body="<p>Kim Jong-un.</p>")
    make_article(published_at=at_hour(1), body="<p>Vladimir Putin.</p>")
    make_article(published_at=at_hour(2), body="<p>Vladimir Putin.</p>")

    news = frontpage.in_the_news(window=2)

    assert [entry.label for entry in news] == ["Vladimir Putin"]


def test_front_page_of_a_one_story_site_has_no_in_the_news(client):
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    make_article(body="<p>Kim Jong-un.</p>")

    response = client.get("/")

    assertContains(response, "Who’s who in this story")
    assertNotContains(response, "In the news")
    assertNotContains(response, "Latest stories")


def test_front_page_with_no_stories_says_so(client):
    response = client.get("/")

    assert response.status_code == 200
    assertContains(response, "No stories have been published yet.")


def test_front_page_never_shows_drafts_or_scheduled_stories(client):
    make_stories(3)
    make_article(headline="A draft", published=False)
    make_article(headline="Embargoed", published_at="2999-01-01T00:00Z")

    response = client.get("/")

    assertNotContains(response, "A draft")
    assertNotContains(response, "Embargoed")
    assert headlines(response) == ["Headline 002", "Headline 001", "Headline 000"]


def test_latest_stories_page_through_every_story_once_and_back(client):
    stories = make_stories(frontpage.PER_PAGE * 2 + 5)
    seen, url, pages = [], "/", []

    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(url)
        seen.extend(headlines(response))
        older = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
        url = older.group(1).replace("&amp;", "&") if older else ""

    assert seen == [story.headline for story in reversed(stories)]
    assert len(pages) == 3
    for newer_page, page in zip(pages, pages[1:], strict=False):
        response = client.get(page)
        newer = re.search(r'href="([^"]+)" rel="prev"', response.content.decode())
        assert newer.group(1) == newer_page


def test_older_page_lists_only_the_stories_older_than_its_cursor(client):
    stories = make_stories(5)

    response = client.get(f"/?before={stories[2].slug}")

    assert headlines(response) == ["Headline 001", "Headline 000"]
    assertContains(response, '<h1 id="latest-title" class="page-title">Older stories</h1>')
    assertNotContains(response, "Lead story")


@pytest.mark.parametrize("query", ["?page=junk", "?page=-1", "?page=99999999999999", "?page="])
def test_front_page_ignores_a_page_number(client, query):
    make_stories(2)

    response = client.get("/" + query)

    assert response.status_code == 200
    assert headlines(response) == ["Headline 001", "Headline 000"]


def test_older_page_is_not_found_for_an_unknown_unpublished_or_oldest_story(client):
    stories = make_stories(2)
    draft = make_article(published=False)

    for before in ["no-such-story", draft.slug, stories[0].slug, "x" * 5000, "'; DROP"]:
        assert client.get("/", {"before": before}).status_code == 404


def front_page_with(stories: int, entries: int) -> None:
    people = [make_actor(name=f"Person {i:03d}", slug=f"person-{i:03d}") for i in range(entries)]
    names = " ".join(f"{person.name}." for person in people)
    make_stories(stories, body=f"<p>{names}</p>")


@pytest.mark.parametrize(("stories", "entries"), [(3, 2), (60, 12)])
def test_front_page_queries_are_constant_as_stories_and_entries_grow(
    client, django_assert_max_num_queries, stories, entries
):
    front_page_with(stories, entries)

    # The lead and the list, the lead's entries, "In the news".
    with django_assert_max_num_queries(3):
        response = client.get("/")

    assert len(headlines(response)) == min(stories, frontpage.PER_PAGE + 1)


@pytest.mark.parametrize("stories", [45, 90])
def test_older_page_queries_are_constant(client, django_assert_max_num_queries, stories):
    articles = make_stories(stories)

    # The cursor, the page, the link to the page before.
    with django_assert_max_num_queries(3):
        response = client.get(f"/?before={articles[-25].slug}")

    assert len(headlines(response)) == frontpage.PER_PAGE


# Bylines and datelines.


def test_undated_draft_preview_has_no_trailing_separator(admin_client):
    draft = make_article(published=False, byline="Audit Desk", dateline="")

    response = admin_client.get(f"{draft.get_absolute_url()}preview/")

    assert meta_lines(response.content.decode()) == ["By Audit Desk"]
    assertNotContains(response, "By Audit Desk ·")


@pytest.mark.parametrize(
    ("byline", "published", "dateline", "line"),
    [
        ("", True, "", "25 April 2019"),
        ("", True, "Seoul", "25 April 2019 · Seoul"),
        ("Audit Desk", False, "Seoul", "By Audit Desk · Seoul"),
        ("", False, "Seoul", "Seoul"),
        ("", False, "", None),
    ],
)
def test_story_meta_joins_only_the_parts_that_are_there(
    admin_client, byline, published, dateline, line
):
    article = make_article(published=published, byline=byline, dateline=dateline)

    response = admin_client.get(f"{article.get_absolute_url()}preview/")

    assert meta_lines(response.content.decode()) == ([line] if line else [])


# The story page's sidebar and og:image.


def test_story_sidebar_is_a_focusable_named_scroll_region(client):
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    article = make_article(body="<p>Kim Jong-un.</p>")

    response = client.get(article.get_absolute_url())

    assertContains(
        response,
        '<aside class="in-this-story" aria-labelledby="in-this-story-title" tabindex="0">',
    )
    assertContains(response, '<h2 id="in-this-story-title">In this story</h2>')


def test_story_without_a_photo_shares_the_site_image(client):
    article = make_article()

    response = client.get(article.get_absolute_url())

    assertContains(
        response,
        '<meta property="og:image" content="http://testserver/static/explainer/og-default.png">',
    )
    assertContains(response, '<meta property="og:image:alt" content="Explainer: the news')


def test_story_with_a_photo_shares_it(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    article = make_article()
    Figure.objects.create(article=article, caption="Only a caption")
    Figure.objects.create(
        article=article,
        image=SimpleUploadedFile("summit.png", TINY_PNG, content_type="image/png"),
        alt_text="Kim and Putin shake hands",
    )
    Article.objects.filter(pk=article.pk).update(page_html="")  # render the page afresh

    response = client.get(article.get_absolute_url())

    assert re.search(
        r'<meta property="og:image" content="http://testserver/media/figures/\d{4}/\d{2}/summit[^"]*\.png">',
        response.content.decode(),
    )
    assertContains(response, '<meta property="og:image:alt" content="Kim and Putin shake hands">')


def test_front_page_and_indexes_share_the_site_image(client):
    make_article()

    for url in ["/", "/actors/", "/background/"]:
        assertContains(
            client.get(url), 'content="http://testserver/static/explainer/og-default.png"'
        )


# Header navigation and the sitemap.


@pytest.mark.parametrize(
    ("url", "current"),
    [("/", "Stories"), ("/actors/", "Who’s who"), ("/background/", "Background")],
)
def test_header_links_the_sections_and_marks_the_current_one(client, url, current):
    make_article()

    response = client.get(url)

    nav = response.content.decode().split('<nav class="site-nav"', 1)[1].split("</nav>")[0]
    assert 'href="/actors/"' in nav and 'href="/background/"' in nav
    assert re.findall(r'aria-current="page">([^<]+)<', nav) == [current]


def test_sitemap_lists_the_front_page_and_the_indexes(client):
    response = client.get("/sitemap.xml")

    root = ET.fromstring(response.content)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locations = {loc.text for loc in root.iter(f"{namespace}loc")}
    assert {
        "http://testserver/",
        "http://testserver/actors/",
        "http://testserver/background/",
    } <= locations


# The library's indexes.


def index_names(response) -> list[str]:
    html = response.content.decode().split('class="entry-index__kind"', 1)
    if len(html) == 1:
        return []
    return re.findall(r'<li><a href="/(?:actors|background)/[^"]+/">([^<]+)</a>', html[1])


def test_actor_index_groups_by_kind_then_letter_in_any_script(client):
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    make_actor(name="김여정", slug="kim-yo-jong")
    make_actor(name="Ким Чен Ир", slug="kim-jong-il")
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho", description="Foreign minister")
    make_actor(name="Russia", slug="russia", kind=Actor.Kind.COUNTRY)
    make_actor(name="Secret Person", slug="secret", is_published=False)

    response = client.get("/actors/")

    content = response.content.decode()
    assert index_names(response) == ["Kim Jong-un", "Ri Yong-ho", "Ким Чен Ир", "김여정", "Russia"]
    assert content.index('id="kind-person"') < content.index('id="kind-country"')
    for anchor in ["person-K", "person-R", "person-К", "person-ㄱ", "country-R"]:
        assertContains(response, f'id="{anchor}"')
    assertContains(response, '<a href="/actors/ri-yong-ho/">Ri Yong-ho</a>')
    assertContains(response, "Foreign minister")
    assertNotContains(response, "Secret Person")
    assertNotContains(response, 'id="kind-organization"')  # no entries of that kind


def test_background_index_lists_published_notes_by_kind(client):
    make_note(title="Six-party talks", slug="six-party-talks", kind=BackgroundNote.Kind.PROCESS)
    make_note(title="2019 summit", slug="summit-2019", kind=BackgroundNote.Kind.EVENT)
    make_note(title="Draft note", slug="draft-note", is_published=False)

    response = client.get("/background/")

    assert index_names(response) == ["2019 summit", "Six-party talks"]
    assertContains(response, 'id="event-other"')
    assertContains(response, "Talks and processes")
    assertNotContains(response, "Draft note")


def test_letter_jump_starts_every_kind_at_that_letter(client):
    for name in ["Abe Shinzo", "Kim Jong-un", "Lavrov", "Moon Jae-in"]:
        make_actor(name=name, slug=name.lower().replace(" ", "-"))
    make_actor(name="Korea", slug="korea", kind=Actor.Kind.COUNTRY)

    response = client.get("/actors/?from=L")

    assert index_names(response) == ["Lavrov", "Moon Jae-in"]
    assertContains(response, '<a href="/actors/?from=K">K</a>')
    assertContains(response, '<a href="/actors/?from=%EA%B0%80">ㄱ</a>')
    assertContains(response, "From “L” on.")


def test_hangul_jump_starts_at_the_initial_consonant(client):
    for name, slug in [("김정은", "a"), ("까치", "b"), ("문재인", "c"), ("Putin", "d")]:
        make_actor(name=name, slug=slug)

    response = client.get("/actors/?from=가")

    assert index_names(response) == ["김정은", "까치", "문재인"]


def test_kind_page_pages_through_every_entry_once_even_with_shared_names(client, monkeypatch):
    monkeypatch.setattr(indexes, "PAGE_SIZE", 3)
    names = ["Alpha", "Bravo", "Kim", "Kim", "Kim", "Kim", "Lima", "Oscar", "Zulu", "Кира"]
    for i, name in enumerate(names):
        make_actor(name=name, slug=f"person-{i}")
    make_actor(name="Country", slug="country", kind=Actor.Kind.COUNTRY)
    seen, url, pages = [], "/actors/?kind=person", []

    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(url)
        seen.extend(index_names(response))
        following = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
        url = following.group(1).replace("&amp;", "&") if following else ""

    assert seen == names
    assert len(pages) == 4
    for before, page in zip(pages, pages[1:], strict=False):
        previous = re.search(r'href="([^"]+)" rel="prev"', client.get(page).content.decode())
        assert previous.group(1).replace("&amp;", "&") == before


def test_overview_shows_a_page_of_each_kind_with_a_link_to_more(client, monkeypatch):
    monkeypatch.setattr(indexes, "OVERVIEW_PER_KIND", 2)
    for name in ["Alpha", "Bravo", "Charlie"]:
        make_actor(name=name, slug=name.lower())

    response = client.get("/actors/")

    assert index_names(response) == ["Alpha", "Bravo"]
    assertContains(response, '<a href="/actors/?kind=person&amp;from=Charlie">More people</a>')


@pytest.mark.parametrize(
    "query",
    ["?kind=dragon", "?kind=event", "?from=K&at=x", "?from=K&at=-1", "?from=" + "K" * 201],
)
def test_index_refuses_a_query_no_link_makes(client, query):
    assert client.get("/actors/" + query).status_code == 404


@pytest.mark.parametrize(
    "query", ["?from=zzzz", "?kind=place", "?from=%E2%80%94&kind=country", "?at=", "?page=junk"]
)
def test_index_with_nothing_to_show_still_answers(client, query):
    make_actor(name="Kim Jong-un", slug="kim-jong-un")

    response = client.get("/actors/" + query)

    assert response.status_code == 200


@pytest.mark.parametrize("entries", [5, 80])
def test_index_queries_are_constant_as_the_library_grows(
    client, django_assert_max_num_queries, entries
):
    for i in range(entries):
        make_actor(name=f"Person {i:03d}", slug=f"person-{i:03d}", kind=Actor.Kind.values[i % 4])

    with django_assert_max_num_queries(4):  # one per kind
        overview = client.get("/actors/")
    with django_assert_max_num_queries(2):  # the page, and the link to the page before
        kind_page = client.get("/actors/?kind=person&from=Person 040")

    assert len(index_names(overview)) == min(entries, 4 * indexes.OVERVIEW_PER_KIND)
    assert kind_page.status_code == 200


@pytest.mark.parametrize("url", ["/?before=x", "/actors/", "/background/?kind=topic"])
def test_new_reader_pages_answer_head_and_options_and_refuse_post(client, url):
    make_article(published_at=at_hour(0))
    make_article(slug="x", published_at=at_hour(1))

    assert client.head(url).status_code == 200
    assert client.options(url)["Allow"] == "GET, HEAD, OPTIONS"
    assert client.post(url).status_code == 405


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plans")
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("url", "table", "index"),
    [
        ("/actors/?kind=person&from=Person 030", "explainer_actor", "actor_a_to_z"),
        ("/background/?kind=topic&from=Topic 030", "explainer_backgroundnote", "note_a_to_z"),
        ("/", "explainer_article", "article_latest"),
    ],
)
def test_index_pages_and_the_front_page_read_an_index_not_every_row(client, url, table, index):
    for number in range(60):
        make_actor(name=f"Person {number:03}", slug=f"person-{number}")
        make_note(title=f"Topic {number:03}", slug=f"topic-{number}", kind="topic")
    make_article(headline="The lead")

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200

    reads = [q["sql"] for q in queries if f'FROM "{table}"' in q["sql"] and "LIMIT" in q["sql"]]
    assert reads
    with connection.cursor() as cursor:
        for sql in reads:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(row[-1] for row in cursor.fetchall())
            assert f"USING INDEX {index}" in plan, plan
            assert "TEMP B-TREE" not in plan, plan

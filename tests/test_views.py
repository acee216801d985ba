"""Reader pages through the test client."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from explainer.importing import parse_story
from explainer.models import Article

from .conftest import SEED_STORY
from .factories import make_actor, make_article, make_note

pytestmark = pytest.mark.django_db


class VisibleText(HTMLParser):
    """The text a reader sees inside one element, tags removed, entities decoded."""

    def __init__(self, element_class: str):
        super().__init__(convert_charrefs=True)
        self.element_class = element_class
        self.depth = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1 if tag not in {"br"} else 0
        elif self.element_class in (dict(attrs).get("class") or "").split():
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.chunks.append(data)

    @property
    def text(self) -> str:
        return " ".join("".join(self.chunks).split())


def visible_text(html: str, element_class: str) -> str:
    parser = VisibleText(element_class)
    parser.feed(html)
    return parser.text


def test_home_lists_published_stories_newest_first_and_hides_drafts(client):
    make_article(headline="Older story", published_at="2019-01-01T00:00Z")
    make_article(headline="Newer story", published_at="2019-06-01T00:00Z")
    make_article(headline="A draft", published=False)

    response = client.get("/")

    content = response.content.decode()
    assert content.index("Newer story") < content.index("Older story")
    assertNotContains(response, "A draft")


def test_seed_story_page_contains_every_paragraph_word_for_word(client, demo):
    story = parse_story(SEED_STORY.read_text(encoding="utf-8"))

    response = client.get(demo.get_absolute_url())

    body = visible_text(response.content.decode(), "story-body")
    for paragraph in story.paragraphs:
        assert " ".join(paragraph.split()) in body
    assert "Top 10 Stories" not in response.content.decode()


def test_seed_story_page_shows_credit_byline_date_and_captions(client, demo):
    response = client.get(demo.get_absolute_url())

    assertContains(response, "Kim Jong-un, Putin discuss how to handle US")
    assertContains(response, "NK leader wants security guarantee for denuclearization")
    assertContains(response, "Lee Min-hyung")
    assertContains(response, "25 April 2019")
    assertContains(response, "The Korea Times")
    for credit in ("AP-Yonhap", "AFP", "AP"):
        assertContains(response, f'<span class="figure__credit">{credit}</span>', html=True)


def test_seed_story_links_at_least_fifteen_distinct_entries(client, demo):
    response = client.get(demo.get_absolute_url())

    body = response.content.decode().split('class="story-body"', 1)[1].split("</article>")[0]
    targets = set(
        re.findall(r'class="mention[^"]*" href="(/(?:actors|background)/[^"?]+/)[^"]*"', body)
    )
    assert len(targets) >= 15
    assert "/actors/kim-jong-un/" in targets
    assert "/background/six-party-talks/" in targets


def test_in_this_story_groups_entries_by_kind_in_reading_order(client, demo):
    response = client.get(demo.get_absolute_url())

    aside = response.content.decode().split('class="in-this-story"', 1)[1]
    people = aside.split("<h3", 2)[1]
    assert people.startswith(' id="group-1">People</h3>')
    names = re.findall(r'<a href="/actors/[^"]+/\?as_of=2019-04-25">([^<]+)</a>', people)
    assert names == ["Kim Jong-un", "Vladimir Putin", "Donald Trump", "Ri Yong-ho", "Choe Son-hui"]


def test_mention_link_leads_to_entry_page(client, demo):
    response = client.get(reverse("actor_detail", kwargs={"slug": "ri-yong-ho"}))

    assertContains(response, '<h1 id="entry-title">Ri Yong-ho</h1>', html=False)
    assertContains(response, "Foreign Minister")
    assertContains(response, demo.headline)
    assertContains(response, "Sources")


def test_note_page_shows_dates_summary_and_stories(client, demo):
    response = client.get(reverse("note_detail", kwargs={"slug": "six-party-talks"}))

    assertContains(response, "Six-party talks")
    assertContains(response, "2003")
    assertContains(response, demo.headline)


def test_draft_story_is_404_to_readers(client):
    draft = make_article(published=False)

    response = client.get(draft.get_absolute_url())

    assert response.status_code == 404
    assertContains(response, "We can’t find that page", status_code=404)


def test_future_story_is_404_until_its_time(client):
    article = make_article(published_at="2999-01-01T00:00Z")

    assert client.get(article.get_absolute_url()).status_code == 404


@pytest.mark.parametrize(
    "url", ["/stories/no-such-story/", "/actors/nobody/", "/background/nothing/", "/nowhere/"]
)
def test_unknown_slugs_are_site_styled_404s(client, url):
    response = client.get(url)

    assert response.status_code == 404
    assertContains(response, "Explainer", status_code=404)


def test_non_latin_slug_story_page_works(client):
    article = make_article(headline="김정은 위원장, 푸틴과 첫 정상회담")

    response = client.get(article.get_absolute_url())

    assert article.slug == "김정은-위원장-푸틴과-첫-정상회담"
    assert response.status_code == 200


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_reader_pages_refuse_writes(client, demo, method):
    response = getattr(client, method)(demo.get_absolute_url())

    assert response.status_code == 405


def test_entry_card_partial_for_htmx_is_only_the_card(client, demo):
    response = client.get("/actors/ri-yong-ho/", headers={"HX-Request": "true"})

    assertContains(response, "Ri Yong-ho")
    assertNotContains(response, "<html")
    assert "HX-Request" in response.headers["Vary"]


def article_with_mentions(count: int) -> Article:
    make_actor(name="Kim Jong-un", slug="kim-jong-un", aliases=("Kim",))
    make_actor(name="Vladimir Putin", slug="vladimir-putin", aliases=("Putin",))
    make_note(title="Six-party talks", slug="six-party-talks")
    sentence = "Kim met Putin to revive the six-party talks."
    paragraphs = "".join(f"<p>{sentence}</p>" for _ in range(count // 3 + 1))
    article = make_article(body=paragraphs, link_every_mention=True)
    assert article.mentions.filter(is_linked=True).count() >= count
    return article


@pytest.mark.parametrize("mentions", [10, 300])
def test_story_page_queries_do_not_grow_with_mentions(
    client, django_assert_max_num_queries, mentions
):
    article = article_with_mentions(mentions)

    # Cold: the story, its figures, and its mentions with their entries' snapshots.
    with django_assert_max_num_queries(5):
        cold = client.get(article.get_absolute_url())
    # Warm: the story row; the page comes from the cache versioned by its rendered_at.
    with django_assert_max_num_queries(1):
        warm = client.get(article.get_absolute_url())

    assert cold.content == warm.content
    assert warm.content.decode().count('class="mention') >= mentions


@pytest.mark.parametrize("stories", [1, 20])
def test_entry_page_queries_do_not_grow_with_stories(
    client, django_assert_max_num_queries, stories
):
    actor = make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    for _ in range(stories):
        make_article(body="<p>Ri Yong-ho joined the talks.</p>")

    # The entry with its story count and snapshot, then the stories that mention it.
    with django_assert_max_num_queries(4):
        response = client.get(actor.get_absolute_url())

    assertContains(response, "Story number", count=stories)


def test_home_queries_are_constant(client, django_assert_max_num_queries):
    for _ in range(12):
        make_article()

    # The lead and the latest stories, the lead's entries, "In the news" (test_frontpage.py).
    with django_assert_max_num_queries(3):
        client.get("/")


def test_story_body_marks_only_sanitized_html(client):
    article = make_article(
        body='<p onclick="alert(1)">Hello <script>alert(2)</script><img src=x onerror=alert(3)>'
        '<a href="javascript:alert(4)">world</a></p>'
    )

    response = client.get(article.get_absolute_url())

    body = response.content.decode().split('class="story-body"', 1)[1].split("</div>")[0]
    assert "alert" not in body
    assert "onclick" not in body
    assert "<script" not in body
    assert "world" in body

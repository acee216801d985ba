"""The context card endpoint: a partial of the entry page, cheap and cacheable."""

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from explainer.models import Actor, BackgroundNote

from .factories import make_actor, make_article, make_note

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_card_has_name_kind_description_summary_and_read_more(client, demo):
    response = client.get("/actors/ri-yong-ho/", headers=HTMX)

    assertContains(response, '<h2 id="card-title-ri-yong-ho" class="context-card__title">')
    assertContains(response, "Person")
    assertContains(response, "foreign minister from 2016 to 2020")
    assertContains(response, 'class="context-card__summary"><p>')
    assertContains(response, 'href="/actors/ri-yong-ho/"')
    assertNotContains(response, "<html")


def test_note_card_shows_its_dates(client, demo):
    response = client.get("/background/six-party-talks/", headers=HTMX)

    assertContains(response, "Talks or process · August 2003")


def test_card_counts_other_stories_that_mention_the_entry(client):
    make_actor(name="Choe Son-hui", slug="choe-son-hui")
    for _ in range(3):
        make_article(body="<p>Choe Son-hui spoke.</p>")
    make_article(body="<p>Choe Son-hui in a draft.</p>", published=False)

    response = client.get("/actors/choe-son-hui/", headers=HTMX)

    assertContains(response, "Also in 2 other stories")


@pytest.mark.parametrize("stories", [1, 25])
def test_card_costs_at_most_two_queries(client, django_assert_max_num_queries, stories):
    make_note(title="Hanoi summit", slug="hanoi-summit")
    for _ in range(stories):
        make_article(body="<p>After the Hanoi summit failed.</p>")

    # The note with its story count; roles, updates and relations are in its snapshot.
    with django_assert_max_num_queries(2):
        response = client.get("/background/hanoi-summit/", headers=HTMX)

    if stories == 1:
        assertNotContains(response, "other stor")
    else:
        assertContains(response, f"Also in {stories - 1} other stories")


def test_card_on_a_one_story_site_does_not_say_it_is_in_no_other_story(client, demo):
    response = client.get("/actors/ri-yong-ho/", headers=HTMX)

    assertNotContains(response, "Not in other stories yet")


def test_card_says_when_no_other_story_of_several_mentions_the_entry(client):
    make_actor(name="Choe Son-hui", slug="choe-son-hui")
    make_article(body="<p>Choe Son-hui spoke.</p>")
    make_article(body="<p>Nobody spoke.</p>")

    response = client.get("/actors/choe-son-hui/", headers=HTMX)

    assertContains(response, "Not in other stories yet")


def test_card_read_more_keeps_the_story_date(client, demo):
    response = client.get("/actors/ri-yong-ho/?as_of=2019-04-25", headers=HTMX)

    assertContains(
        response, 'class="context-card__more" href="/actors/ri-yong-ho/?as_of=2019-04-25"'
    )


def test_card_link_to_this_card_is_a_real_link(client, demo):
    response = client.get("/actors/ri-yong-ho/", headers=HTMX)

    assertContains(response, '<a class="context-card__share" href="#card-ri-yong-ho">')


def test_card_summary_is_cut_after_a_whole_sentence(client, demo):
    from explainer.excerpts import plain_text

    summary = Actor.objects.get(slug="ri-yong-ho").summary_html

    response = client.get("/actors/ri-yong-ho/?as_of=2019-04-25", headers=HTMX)

    shown = response.content.decode().split('class="context-card__summary">')[1].split("</div>")[0]
    assert len(plain_text(shown)) < len(plain_text(summary))
    assert plain_text(shown).endswith(".")
    assert plain_text(summary).startswith(plain_text(shown))


def test_card_is_cacheable_and_varies_on_htmx(client, demo):
    response = client.get("/actors/kim-jong-un/", headers=HTMX)

    cache_control = {part.strip() for part in response.headers["Cache-Control"].split(",")}
    assert "public" in cache_control
    max_age = next(int(p.split("=")[1]) for p in cache_control if p.startswith("max-age="))
    assert max_age >= 300
    assert "HX-Request" in response.headers["Vary"]
    assert response.headers["ETag"]


def test_card_answers_304_to_its_validator(client, demo):
    first = client.get("/actors/kim-jong-un/", headers=HTMX)

    repeat = client.get(
        "/actors/kim-jong-un/", headers={**HTMX, "If-None-Match": first.headers["ETag"]}
    )

    assert repeat.status_code == 304
    assert repeat.content == b""


def test_card_and_page_have_different_validators(client, demo):
    card = client.get("/actors/kim-jong-un/", headers=HTMX)
    page = client.get("/actors/kim-jong-un/")

    assert card.headers["ETag"] != page.headers["ETag"]


def test_card_is_get_only(client, demo):
    response = client.post("/actors/kim-jong-un/", headers=HTMX)

    assert response.status_code == 405


def test_unknown_card_is_404(client):
    response = client.get("/actors/no-one/", headers=HTMX)

    assert response.status_code == 404


def sourced_actor():
    actor = make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    for position, (label, title, published_on) in enumerate(
        [
            ("Yonhap", "N. Korea names new foreign minister", "2016-05-16"),
            ("Reuters", "", "2019-02"),
            ("Yonhap", "Ri joins State Affairs Commission", ""),
            ("AP", "", ""),
            ("The Korea Times", "", ""),
        ]
    ):
        actor.sources.create(
            label=label,
            title=title,
            published_on=published_on,
            url=f"https://example.org/{position}",
            position=position,
        )
    actor.save()  # refreshes the card's snapshot
    return actor


def test_entry_page_cites_each_source_by_title_publisher_and_date(client):
    sourced_actor()

    response = client.get("/actors/ri-yong-ho/")

    assertContains(
        response,
        '<a href="https://example.org/0" rel="noopener noreferrer">'
        "<cite>N. Korea names new foreign minister</cite></a>, Yonhap, "
        '<time datetime="2016-05-16">16 May 2016</time>',
        html=True,
    )
    assertContains(
        response,
        '<a href="https://example.org/1" rel="noopener noreferrer">Reuters</a>, '
        '<time datetime="2019-02">February 2019</time>',
        html=True,
    )


def test_card_names_its_publishers_once_each(client):
    sourced_actor()

    response = client.get("/actors/ri-yong-ho/", headers=HTMX)

    assertContains(response, "Sources:</span> Yonhap, Reuters, AP and 1 more</p>")


def test_card_api_lists_sources_with_title_publisher_and_date(client):
    sourced_actor()

    sources = client.get("/api/context/ri-yong-ho.json").json()["sources"]

    assert sources[:2] == [
        {
            "publisher": "Yonhap",
            "title": "N. Korea names new foreign minister",
            "published_on": "2016-05-16",
            "url": "https://example.org/0",
        },
        {
            "publisher": "Reuters",
            "title": None,
            "published_on": "2019-02",
            "url": "https://example.org/1",
        },
    ]
    assert len(sources) == 5


def test_every_demo_entry_is_reviewed_and_cites_a_dated_titled_source(demo):
    entries = [*Actor.objects.prefetch_related("sources"), *BackgroundNote.objects.all()]

    unsourced = [
        entry.slug
        for entry in entries
        if not any(source.title and source.published_on for source in entry.sources.all())
    ]
    assert len(entries) > 40
    assert unsourced == []
    assert not [entry.slug for entry in entries if entry.reviewed_on is None]

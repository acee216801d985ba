"""Context as of a story's date, search, feeds, sitemap and the card API."""

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from explainer.models import Actor, BackgroundNote, Role

from .factories import make_actor, make_article

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
HTMX = {"HX-Request": "true"}


def test_ri_yong_ho_card_on_story_date_says_foreign_minister_and_since_then(client, demo):
    response = client.get("/actors/ri-yong-ho/?as_of=2019-04-25", headers=HTMX)

    assertContains(response, "On 25 April 2019:</span> Foreign Minister of North Korea (2016–2020)")
    assertContains(
        response,
        "Since then:</span> Ri Son-gwon replaced Ri Yong-ho as Foreign Minister of North Korea "
        "in January 2020.",
    )


def test_trump_card_on_story_date_says_president_then_and_who_followed(client, demo):
    response = client.get("/actors/donald-trump/?as_of=2019-04-25", headers=HTMX)

    assertContains(response, "On 25 April 2019:</span> President of the United States")
    assertContains(
        response,
        "Joe Biden replaced Donald Trump as President of the United States on 20 January 2021.",
    )


def test_entry_page_reached_from_a_story_shows_the_role_then(client, demo):
    response = client.get("/actors/choe-son-hui/?as_of=2019-04-25")

    assertContains(response, "First Vice Foreign Minister of North Korea (2019–2022)")
    assertContains(response, "Foreign Minister of North Korea from June 2022.")
    assertContains(response, '<h2 id="roles-title">Roles</h2>')


def test_role_before_a_later_appointment_is_not_since_then(client):
    actor = make_actor(name="A Diplomat", slug="a-diplomat")
    Role.objects.create(actor=actor, title="Ambassador", starts_on="2003", ends_on="2007")
    Role.objects.create(actor=actor, title="Foreign Minister", starts_on="2016-05")

    response = client.get("/actors/a-diplomat/?as_of=2019-04-25", headers=HTMX)

    assertContains(response, "Foreign Minister (since 2016)")
    assertNotContains(response, "Since then")


def test_description_falls_back_to_the_current_role_without_a_dated_role(client):
    actor = make_actor(name="New Leader", slug="new-leader", description="")
    Role.objects.create(actor=actor, title="Premier", organization="Freedonia", starts_on="2024")

    response = client.get("/actors/new-leader/?as_of=2019-04-25", headers=HTMX)

    assertContains(response, '<p class="context-card__description">Premier of Freedonia</p>')
    assertNotContains(response, "On 25 April 2019:")
    assertContains(response, "Since then:</span> Premier of Freedonia from 2024.")


def test_note_card_lists_updates_since_the_story_date(client, demo):
    response = client.get("/background/six-party-talks/?as_of=2005-01-01", headers=HTMX)

    assertContains(
        response, "19 September 2005: The six parties agree their first joint statement."
    )


def test_malformed_as_of_date_is_a_clear_400(client, demo):
    response = client.get("/actors/ri-yong-ho/?as_of=25-04-2019")

    assert response.status_code == 400
    assertContains(response, "is not a date in YYYY-MM-DD form", status_code=400)


def test_note_page_shows_timeline_involved_actors_and_related_notes(client, demo):
    response = client.get("/background/six-party-talks/")

    content = response.content.decode()
    assert content.index("August 2003") < content.index("14 April 2009")
    for name in ("China", "Japan", "Russia", "United States", "North Korea", "South Korea"):
        assertContains(response, f">{name}</a>")
    assertContains(response, "2005 six-party joint statement")


def test_actor_page_shows_the_background_it_appears_in(client, demo):
    response = client.get("/actors/ri-yong-ho/")

    assertContains(response, '<h2 id="related-title">Appears in</h2>')
    assertContains(response, "Hanoi summit")


def test_editing_a_role_refreshes_the_cached_card(client, demo):
    client.get("/actors/ri-yong-ho/?as_of=2019-04-25", headers=HTMX)
    role = Actor.objects.get(slug="ri-yong-ho").roles.get(title="Foreign Minister")
    role.succeeded_by = "Somebody Else"
    role.save()

    response = client.get("/actors/ri-yong-ho/?as_of=2019-04-25", headers=HTMX)

    assertContains(response, "Somebody Else replaced Ri Yong-ho")


def test_relating_notes_refreshes_both_cached_pages(client, demo):
    client.get("/background/denuclearization/")
    client.get("/background/hanoi-summit/")

    BackgroundNote.objects.get(slug="denuclearization").related_notes.add(
        BackgroundNote.objects.get(slug="hanoi-summit")
    )

    assertContains(client.get("/background/hanoi-summit/"), ">Denuclearization</a>")


@pytest.mark.parametrize(
    "query", ["김정은", "Kim Jong Un", "kim jong-un", "Ким Чен Ын", "KIM JONG UN"]
)
def test_search_finds_kim_jong_un_in_any_script_or_spelling(client, demo, query):
    response = client.get("/search/", {"q": query})

    assertContains(response, '<a href="/actors/kim-jong-un/">Kim Jong-un</a>')


def test_search_finds_stories_by_their_words(client, demo):
    response = client.get("/search/", {"q": "Vladivostok"})

    assertContains(response, demo.headline)
    assertContains(response, '<a href="/actors/vladivostok/">Vladivostok</a>')


def test_search_live_results_are_a_partial_with_a_status_for_screen_readers(client, demo):
    response = client.get("/search/", {"q": "putin"}, headers=HTMX)

    assertNotContains(response, "<html")
    assertContains(response, 'id="search-status"')
    assertContains(response, 'role="status"')
    assertContains(response, "Vladimir Putin</a>")


def test_search_with_nothing_found_says_so(client, demo):
    response = client.get("/search/", {"q": "zzzzzz"})

    assertContains(response, "0 results for “zzzzzz”. Try another spelling")


def test_search_ignores_too_short_and_trims_too_long_queries(client, demo):
    assert client.get("/search/", {"q": "k"}).status_code == 200
    assert client.get("/search/", {"q": "k" * 5000}).status_code == 200


@pytest.mark.parametrize("query", ["Kim Jong-Eun", "Kim Jong Eun", "kim jongun", "Kim Jung Un"])
def test_search_finds_kim_jong_un_in_other_romanizations_and_suggests_the_name(client, demo, query):
    response = client.get("/search/", {"q": query})

    assertContains(response, '<a href="/actors/kim-jong-un/">Kim Jong-un</a> <span')
    assertContains(
        response,
        'Did you mean <a href="/search/?q=Kim%20Jong-un">Kim Jong-un</a>? '
        'Or go straight to the entry: <a href="/actors/kim-jong-un/">Kim Jong-un</a>.',
        html=False,
    )


def test_search_with_a_typo_finds_putin_and_suggests_the_spelling(client, demo):
    response = client.get("/search/", {"q": "putn"})

    assertContains(response, '<a href="/actors/vladimir-putin/">Vladimir Putin</a> <span')
    assertContains(response, 'Did you mean <a href="/search/?q=Putin">Putin</a>?')
    assertContains(response, "results for “putn”.</p>")


def test_search_with_an_exact_hit_ranks_it_first_and_suggests_nothing(client, demo):
    response = client.get("/search/", {"q": "kim jong un"})

    entries = response.context["results"].entries
    assert entries[0].slug == "kim-jong-un"
    assert [entry.slug for entry in entries].count("kim-jong-un") == 1
    assertNotContains(response, "Did you mean")


def test_search_live_results_for_the_header_are_options_with_a_suggestion(client, demo):
    headers = {**HTMX, "HX-Target": "live-results"}

    response = client.get("/search/", {"q": "Kim Jong Eun"}, headers=headers)

    assertNotContains(response, "<html")
    assertContains(response, 'id="live-suggestion"')
    assertContains(response, 'role="option"')
    assertContains(response, 'href="/search/?q=Kim%20Jong-un">Did you mean <strong>Kim Jong-un')
    assertContains(response, 'id="live-entry-1"')
    assertContains(
        response, 'hx-swap-oob="innerHTML">2 results for “Kim Jong Eun”. Did you mean Kim Jong-un?<'
    )
    assert "HX-Target" in response.headers["Vary"]
    assert "HX-Request" in response.headers["Vary"]


def test_search_page_and_header_partials_differ_by_target(client, demo):
    page_box = client.get("/search/", {"q": "putin"}, headers={**HTMX, "HX-Target": "page-results"})
    header_box = client.get(
        "/search/", {"q": "putin"}, headers={**HTMX, "HX-Target": "live-results"}
    )

    assertContains(page_box, 'class="search-results__list"')
    assertNotContains(page_box, 'role="option"')
    assertContains(header_box, 'role="option"')
    assertNotContains(header_box, 'class="search-results__list"')


def test_search_with_an_empty_query_explains_searching_and_offers_entries(client, demo):
    response = client.get("/search/")

    assert response.status_code == 200
    assertContains(response, "How to search")
    assertContains(response, "In the latest story")
    assertContains(response, '<li><a href="/actors/kim-jong-un/">Kim Jong-un</a></li>')
    assertContains(response, '<a href="/actors/">who’s who</a>')
    assertContains(response, '<a href="/background/">background</a>')
    assertNotContains(response, "0 results")


def test_search_with_an_empty_query_and_no_stories_still_helps(client):
    response = client.get("/search/", {"q": "  "})

    assertContains(response, "How to search")
    assertNotContains(response, "In the latest story")


@pytest.mark.parametrize("query", ["", "Kim Jong Eun", "putin", "zzzzzz"])
def test_search_page_ids_are_unique(client, demo, query):
    response = client.get("/search/", {"q": query})

    ids = re.findall(r'\sid="([^"]+)"', response.content.decode())
    assert ids
    assert len(ids) == len(set(ids)), sorted(ids)
    assert ids.count("search-status") == 1


def test_search_page_query_budget_holds_with_or_without_a_suggestion(
    client, demo, django_assert_max_num_queries
):
    for query in ["", "kim jong un", "Kim Jong Eun", "putn", "zzzzzz"]:
        with django_assert_max_num_queries(11):
            response = client.get("/search/", {"q": query})

        assert response.status_code == 200


def test_search_does_not_show_drafts(client, demo):
    make_article(headline="Secret draft about Vladivostok", published=False)

    response = client.get("/search/", {"q": "Vladivostok"})

    assertNotContains(response, "Secret draft")


def test_feed_is_atom_with_published_stories(client, demo):
    make_article(headline="Unpublished", published=False)

    response = client.get("/feed/")

    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    titles = [entry.find(f"{ATOM}title").text for entry in root.findall(f"{ATOM}entry")]
    assert titles == [demo.headline]
    entry = root.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Lee Min-hyung"
    assert entry.find(f"{ATOM}link").get("href").endswith(demo.get_absolute_url())


def test_sitemap_lists_every_published_story_and_entry(client, demo):
    draft = make_article(headline="Draft", published=False)

    response = client.get("/sitemap.xml")

    root = ET.fromstring(response.content)
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    locations = {loc.text for loc in root.iter(f"{namespace}loc")}
    assert f"http://testserver{demo.get_absolute_url()}" in locations
    assert f"http://testserver{draft.get_absolute_url()}" not in locations
    for entry in [*Actor.objects.all(), *BackgroundNote.objects.all()]:
        assert f"http://testserver{entry.get_absolute_url()}" in locations


def test_api_returns_the_card_as_data(client, demo):
    response = client.get("/api/context/ri-yong-ho.json")

    assert response.status_code == 200
    data = response.json()
    assert data["title"] == "Ri Yong-ho"
    assert data["type"] == "actor"
    assert data["kind"] == "person"
    assert data["summary_html"].startswith("<p>")
    assert "<" not in data["summary_text"]
    assert data["url"] == "http://testserver/actors/ri-yong-ho/"
    assert "as_of" not in data
    assert "public" in response["Cache-Control"] and "max-age=300" in response["Cache-Control"]
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["ETag"]


def test_api_with_a_date_gives_the_role_then_and_since_then(client, demo):
    response = client.get("/api/context/ri-yong-ho.json", {"date": "2019-04-25"})

    assert response.json()["as_of"] == {
        "date": "2019-04-25",
        "role": "Foreign Minister of North Korea",
        "period": "2016–2020",
        "description": "Foreign Minister of North Korea",
        "since_then": [
            "Ri Son-gwon replaced Ri Yong-ho as Foreign Minister of North Korea in January 2020."
        ],
    }


def test_api_gives_wikidata_and_note_dates(client, demo):
    kim = client.get("/api/context/kim-jong-un.json").json()
    talks = client.get("/api/context/six-party-talks.json").json()

    assert kim["wikidata_id"] == "Q56226"
    assert talks["type"] == "background_note"
    assert (talks["starts_on"], talks["ends_on"]) == ("2003-08", "2009-04")


def test_api_answers_304_to_its_etag(client, demo):
    first = client.get("/api/context/kim-jong-un.json")

    repeat = client.get("/api/context/kim-jong-un.json", headers={"If-None-Match": first["ETag"]})

    assert repeat.status_code == 304


def test_api_unknown_slug_is_a_json_404(client, demo):
    response = client.get("/api/context/nobody.json")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "nobody" in response.json()["error"]


@pytest.mark.parametrize(
    "date", ["2019-13-01", "25-04-2019", "yesterday", "2019-02-30", "２０１９-04-25"]
)
def test_api_malformed_date_is_a_json_400(client, demo, date):
    response = client.get("/api/context/kim-jong-un.json", {"date": date})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "date" in response.json()["error"]


def story_html(client, article) -> str:
    return client.get(article.get_absolute_url()).content.decode()


def test_how_we_got_here_lists_dated_background_in_order_ending_at_the_story(client, demo):
    html = story_html(client, demo)

    section = html.split('id="how-we-got-here-title"', 1)[1].split("</section>", 1)[0]
    dates = re.findall(r'<span class="timeline__date[^"]*">([^<]+)</span>', section)
    days = [parse_display_date(text) for text in dates]
    assert days == sorted(days)
    assert dates[-1] == "25 April 2019"
    assert re.search(r"This story</strong></li>\s*</ol>\s*$", section)
    texts = re.findall(r'<a href="[^"]+">([^<]+)</a>', section)
    for expected in [
        "Six-party talks",
        "The six parties agree their first joint statement.",
        "North Korea says it will never return to the talks and will restart its nuclear plant.",
        "Singapore summit",
        "Hanoi summit",
        "2019 Kim–Putin summit",
    ]:
        assert expected in texts
    assert texts.index("Six-party talks") < texts.index("Singapore summit")
    assert texts.index("Hanoi summit") < texts.index("2019 Kim–Putin summit")


def parse_display_date(text: str) -> dt.date:
    for pattern in ("%d %B %Y", "%B %Y", "%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise AssertionError(f"not a date: {text}")


def test_story_json_ld_parses_and_names_the_mentions(client, demo):
    html = story_html(client, demo)

    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    data = json.loads(block)
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == demo.headline
    assert data["datePublished"].startswith("2019-04-25")
    names = {thing["name"] for thing in data["mentions"]}
    assert {"Kim Jong-un", "Vladimir Putin", "Six-party talks", "Vladivostok"} <= names
    kim = next(thing for thing in data["mentions"] if thing["name"] == "Kim Jong-un")
    assert kim["@type"] == "Person"
    assert kim["sameAs"] == "https://www.wikidata.org/wiki/Q56226"
    types = {thing["@type"] for thing in data["mentions"]}
    assert {"Person", "Organization", "Event", "Place"} <= types
    assert "Kim Jong-un" in {thing["name"] for thing in data["about"]}


def test_story_json_ld_cannot_break_out_of_its_script_element(client):
    make_actor(name="Evil </script><script>alert(1)</script>", slug="evil")
    article = make_article(body="<p>Evil &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;</p>")

    html = story_html(client, article)

    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["@type"] == "NewsArticle"


def test_story_has_canonical_and_open_graph_tags(client, demo):
    html = story_html(client, demo)

    url = f"http://testserver{demo.get_absolute_url()}"
    assert f'<link rel="canonical" href="{url}">' in html
    assert f'<meta property="og:url" content="{url}">' in html
    assert f'<meta property="og:title" content="{demo.headline}">' in html
    assert '<meta property="og:type" content="article">' in html


def test_story_mentions_link_to_entries_as_of_the_story_date(client, demo):
    html = story_html(client, demo)

    assert 'href="/actors/ri-yong-ho/?as_of=2019-04-25"' in html

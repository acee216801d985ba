"""Names resolved in context, through the library, the story page and the admin's review
panel (issue #11). The rules themselves are tested without a database in test_resolution."""

import html
import re

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from explainer.models import Alias, Mention, Role

from .factories import make_actor, make_article
from .test_admin import change_url, linked_phrases, story_body

pytestmark = pytest.mark.django_db

TWO_KIMS = (
    "<p>Kim Jong-un arrived in Vladivostok by train.</p>"
    "<p>His sister Kim Yo-jong, who runs his schedule, and Kim Jong-un's aides followed.</p>"
    "<p>Kim waved from the platform.</p>"
)


@pytest.fixture
def kims():
    jong_un = make_actor(name="Kim Jong-un", slug="kim-jong-un", short_forms=("Kim",))
    yo_jong = make_actor(name="Kim Yo-jong", slug="kim-yo-jong", short_forms=("Kim",))
    return jong_un, yo_jong


def review_panel(client, article) -> str:
    response = client.get(change_url(article))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def test_a_short_form_shared_by_two_people_named_in_one_paragraph_is_not_linked(client, kims):
    article = make_article(body=TWO_KIMS, link_every_mention=True)

    body = story_body(client, article)

    assert linked_phrases(body, "/actors/kim-jong-un/") == ["Kim Jong-un", "Kim Jong-un"]
    assert linked_phrases(body, "/actors/kim-yo-jong/") == ["Kim Yo-jong"]
    assert not Mention.objects.filter(article=article, quote="Kim").exists()


def test_a_short_form_links_to_the_person_named_in_full_before_it(client, kims):
    article = make_article(
        body="<p>Kim Yo-jong arrived first.</p><p>Ms Kim checked the stage.</p>",
        link_every_mention=True,
    )

    assert linked_phrases(story_body(client, article), "/actors/kim-yo-jong/") == [
        "Kim Yo-jong",
        "Kim",
    ]


def test_review_panel_says_why_each_name_was_linked_or_left_unlinked(admin_client, kims):
    article = make_article(body=TWO_KIMS, link_every_mention=True)

    page = review_panel(admin_client, article)

    assert "How each name was read" in page
    assert re.search(r"<td>Kim Yo-jong</td><td>2</td><td>Kim Yo-jong</td><td>full name</td>", page)
    unlinked = page.split("Left unlinked on purpose")[1]
    assert "ambiguous: 2 candidates named in full in paragraph 2" in unlinked
    assert ">Kim Jong-un</a>" in unlinked
    assert ">Kim Yo-jong</a>" in unlinked


def test_choosing_an_entry_for_an_ambiguous_name_links_it(admin_client, client, kims):
    _, yo_jong = kims
    article = make_article(body=TWO_KIMS, link_every_mention=True)
    page = review_panel(admin_client, article)
    pattern = r'<a href="([^"]*choose-mention[^"]*entry=actor%3A' + str(yo_jong.pk) + ')"'
    url = re.search(pattern, page)[1]

    confirmation = admin_client.get(url)
    assert confirmation.status_code == 200
    assert "Link “Kim” to Kim Yo-jong?" in confirmation.content.decode()
    response = admin_client.post(url)

    assert response.status_code == 302
    mention = Mention.objects.get(article=article, quote="Kim", origin=Mention.Origin.EDITOR)
    assert mention.actor == yo_jong
    assert linked_phrases(story_body(client, article), "/actors/kim-yo-jong/") == [
        "Kim Yo-jong",
        "Kim",
    ]


@pytest.mark.parametrize(
    "query",
    ["start=0&end=3", "start=x&end=3&entry=actor:1", "start=5&end=2&entry=actor:1", "entry=note:x"],
)
def test_choose_mention_with_a_bad_span_or_entry_is_404(admin_client, kims, query):
    article = make_article(body=TWO_KIMS)

    response = admin_client.get(f"/admin/explainer/article/{article.pk}/choose-mention/?{query}")

    assert response.status_code == 404


def test_contributor_cannot_choose_a_link_in_a_published_story(kims):
    jong_un, _ = kims
    article = make_article(body=TWO_KIMS)
    user = User.objects.create_user("writer", password="a-long-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Contributors"))
    contributor = Client()
    contributor.force_login(user)
    url = (
        f"/admin/explainer/article/{article.pk}/choose-mention/"
        f"?start=0&end=3&entry=actor:{jong_un.pk}"
    )

    assert contributor.post(url).status_code == 403
    assert not Mention.objects.filter(origin=Mention.Origin.EDITOR).exists()


def test_a_title_links_whoever_held_it_on_the_story_date(client):
    moon = make_actor(name="Moon Jae-in", slug="moon-jae-in", short_forms=("Moon",))
    Role.objects.create(
        actor=moon,
        title="President",
        organization="South Korea",
        starts_on="2017-05-10",
        ends_on="2022-05-09",
        title_forms="대통령",
    )
    in_office = make_article(body="<p>President Moon met the envoys.</p>")
    before = make_article(
        body="<p>President Moon met the envoys.</p>", published_at="2005-09-19T12:00:00Z"
    )

    assert linked_phrases(story_body(client, in_office), "/actors/moon-jae-in/") == [
        "President Moon"
    ]
    assert linked_phrases(story_body(client, before), "/actors/moon-jae-in/") == []


def test_a_role_phrase_links_its_holder_and_a_role_edit_relinks(client):
    pompeo = make_actor(name="Mike Pompeo", slug="mike-pompeo")
    article = make_article(body="<p>The talks were led by the secretary of state.</p>")
    assert linked_phrases(story_body(client, article), "/actors/mike-pompeo/") == []

    Role.objects.create(
        actor=pompeo,
        title="Secretary of State",
        organization="United States",
        starts_on="2018-04-26",
        ends_on="2021-01-20",
        holder_phrases="the secretary of state\nU.S. Secretary of State",
    )

    assert linked_phrases(story_body(client, article), "/actors/mike-pompeo/") == [
        "the secretary of state"
    ]


def test_a_name_inside_a_longer_name_is_suggested_not_linked(admin_client, client, kims):
    article = make_article(body="<p>Kim Jong-un's half-brother Kim Jong-nam was killed.</p>")

    assert linked_phrases(story_body(client, article), "/actors/kim-jong-un/") == ["Kim Jong-un"]
    page = review_panel(admin_client, article)
    assert "part of a longer name, “Kim Jong-nam”" in page
    assert "Kim Jong-nam: <a" in page  # in "Names without an entry"


def test_an_alias_shared_by_two_entries_keeps_both(kims):
    assert Alias.objects.filter(normalized="kim", is_short_form=True).count() == 2

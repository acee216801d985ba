"""Past a role, or past publication (issue #10): what a contributor may change once readers
see it, unpublished entries kept off reader pages and shared caches, the site's own
address in what readers get, and a log-in lock-out no one can aim at an editor."""

import json
import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from explainer.models import Alias, Article, Figure, Mention

from .factories import make_actor, make_article, make_note
from .test_admin import admin_form, change_url

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-unusual-password"
SITE_URL = "https://explainer.example"


def contributor(*extra_permissions: str) -> Client:
    user = User.objects.create_user("writer", password=PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="Contributors"))
    user.user_permissions.add(*Permission.objects.filter(codename__in=extra_permissions))
    client = Client()
    client.force_login(user)
    return client


def story_with_kim(*, published: bool) -> tuple[Article, Mention]:
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    article = make_article(published=published, body="<p>Kim Jong-un arrived by train.</p>")
    return article, Mention.objects.get(article=article, quote="Kim Jong-un")


def mention_data(mention: Mention, **changes) -> dict:
    data = {
        "article": mention.article_id,
        "actor": mention.actor_id,
        "note": "",
        "quote": mention.quote,
    }
    return {**data, **changes}


# 7. Every admin that changes what readers see asks for the publish permission.


def test_contributor_cannot_repoint_a_mention_on_a_published_story():
    _, mention = story_with_kim(published=True)
    trump = make_actor(name="Donald Trump", slug="donald-trump")
    client = contributor()

    page = client.get(change_url(mention))
    response = client.post(change_url(mention), mention_data(mention, actor=trump.pk))

    assertNotContains(page, 'name="actor"')  # shown read-only
    assert response.status_code == 403
    mention.refresh_from_db()
    assert mention.actor.slug == "kim-jong-un"


def test_contributor_cannot_suppress_a_mention_on_a_published_story():
    _, mention = story_with_kim(published=True)
    client = contributor()

    response = client.post(change_url(mention), mention_data(mention, is_suppressed="on"))

    assert response.status_code == 403
    mention.refresh_from_db()
    assert not mention.is_suppressed


def test_contributor_cannot_add_a_mention_or_a_figure_to_a_published_story():
    article, mention = story_with_kim(published=True)
    client = contributor()

    client.post("/admin/explainer/mention/add/", mention_data(mention, quote="train"))
    client.post(
        "/admin/explainer/figure/add/",
        {"article": article.pk, "position": 0, "caption": "A caption from a contributor"},
    )

    assert not Mention.objects.filter(article=article, quote="train").exists()
    assert not Figure.objects.filter(article=article).exists()


def test_contributor_cannot_recaption_a_figure_on_a_published_story():
    article = make_article(published=True)
    figure = Figure.objects.create(article=article, caption="The leaders shake hands.")
    client = contributor()

    response = client.post(
        change_url(figure), {"article": article.pk, "position": 0, "caption": "Rewritten"}
    )

    assert response.status_code == 403
    figure.refresh_from_db()
    assert figure.caption == "The leaders shake hands."


def test_contributor_may_still_place_mentions_and_figures_in_a_draft():
    article, mention = story_with_kim(published=False)
    client = contributor()

    changed = client.post(change_url(mention), mention_data(mention, is_suppressed="on"))
    added = client.post(
        "/admin/explainer/figure/add/",
        {"article": article.pk, "position": 0, "caption": "The leaders shake hands."},
    )

    assert changed.status_code == 302
    assert added.status_code == 302
    assert Figure.objects.filter(article=article).exists()


def test_bulk_delete_of_a_published_storys_mentions_needs_the_publish_permission():
    article, mention = story_with_kim(published=True)
    client = contributor("delete_mention")

    response = client.post(
        "/admin/explainer/mention/",
        {"action": "delete_selected", "_selected_action": [mention.pk], "post": "yes"},
    )

    assert response.status_code == 403
    assert Mention.objects.filter(pk=mention.pk).exists()


def test_delete_of_a_published_storys_figure_needs_the_publish_permission():
    article = make_article(published=True)
    figure = Figure.objects.create(article=article, caption="The leaders shake hands.")
    client = contributor("delete_figure")

    response = client.post(f"/admin/explainer/figure/{figure.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Figure.objects.filter(pk=figure.pk).exists()


def test_alias_of_a_published_entry_needs_permission_to_change_the_entry():
    shown = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    hidden = make_actor(name="Kim Yo-jong", slug="kim-yo-jong", is_published=False)
    alias = Alias.objects.get(actor=shown)
    client = contributor("add_alias", "change_alias")
    form = {"text": "Marshal Kim", "note": "", "case_sensitive": ""}

    edit = client.post(change_url(alias), {**form, "actor": shown.pk})
    client.post("/admin/explainer/alias/add/", {**form, "actor": shown.pk})
    draft = client.post(
        "/admin/explainer/alias/add/", {**form, "text": "First Sister", "actor": hidden.pk}
    )

    assert edit.status_code == 403
    assert list(shown.aliases.values_list("text", flat=True)) == ["Kim Jong-un"]
    assert draft.status_code == 302
    assert hidden.aliases.filter(text="First Sister").exists()


def test_contributor_cannot_revert_a_published_story_to_a_draft_version(admin_client):
    article = make_article(published=False, headline="Draft headline")
    admin_client.post(change_url(article), admin_form(admin_client, change_url(article)))
    data = admin_form(admin_client, change_url(article))
    data.update(status="published", published_at_0="2019-04-26", published_at_1="09:00:00")
    assert admin_client.post(change_url(article), data).status_code == 302
    draft = next(
        version
        for version in Version.objects.get_for_object(article)
        if version.field_dict["status"] == Article.Status.DRAFT
    )
    client = contributor()
    url = f"/admin/explainer/article/{article.pk}/history/{draft.pk}/"

    response = client.post(url, {**data, "status": "draft", "headline": "Rewritten"})

    assert response.status_code == 403
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.headline == "Draft headline"


def autocomplete_stories(client: Client, model_name: str) -> set[str]:
    """The stories the admin's autocomplete offers for a mention's or a figure's story."""
    response = client.get(
        "/admin/autocomplete/",
        {"app_label": "explainer", "model_name": model_name, "field_name": "article", "term": ""},
    )
    assert response.status_code == 200
    return {result["text"] for result in response.json()["results"]}


@pytest.mark.parametrize("model_name", ["mention", "figure"])
def test_contributor_is_offered_only_unpublished_stories_for_a_mention_or_figure(
    admin_client, model_name
):
    make_article(published=True, headline="Kim meets Putin")
    make_article(published=False, headline="Kim meets Putin again")

    offered = autocomplete_stories(contributor(), model_name)
    offered_to_editor = autocomplete_stories(admin_client, model_name)

    assert offered == {"Kim meets Putin again"}
    assert offered_to_editor == {"Kim meets Putin", "Kim meets Putin again"}


def test_story_autocomplete_for_a_field_without_an_admin_of_its_own_answers():
    make_article(published=True, headline="Kim meets Putin")

    # PendingRelink has a story but no admin page: nothing to restrict, nothing to break.
    offered = autocomplete_stories(contributor(), "pendingrelink")

    assert offered == {"Kim meets Putin"}


def test_contributor_story_search_in_the_story_list_still_finds_published_stories():
    make_article(published=True, headline="Kim meets Putin")
    client = contributor()

    response = client.get("/admin/explainer/article/", {"q": "Putin"})

    assertContains(response, "Kim meets Putin")


# 8. "How we got here" links only what a reader can open.


def test_unpublishing_a_related_note_takes_it_off_the_storys_timeline(admin_client, client):
    singapore = make_note(title="Singapore summit", slug="singapore-summit", starts_on="2018-06")
    hanoi = make_note(title="Hanoi summit", slug="hanoi-summit", starts_on="2019-02")
    singapore.related_notes.add(hanoi)
    article = make_article(body="<p>Talks since the Singapore summit stalled.</p>")
    assertContains(client.get(article.get_absolute_url()), "/background/hanoi-summit/")
    data = admin_form(admin_client, change_url(hanoi))
    del data["is_published"]

    assert admin_client.post(change_url(hanoi), data).status_code == 302
    response = client.get(article.get_absolute_url())

    assert client.get(hanoi.get_absolute_url()).status_code == 404
    assertContains(response, "Singapore summit")
    assertNotContains(response, "/background/hanoi-summit/")


def test_deleting_a_related_note_takes_it_off_the_storys_timeline(admin_client, client):
    singapore = make_note(title="Singapore summit", slug="singapore-summit", starts_on="2018-06")
    hanoi = make_note(title="Hanoi summit", slug="hanoi-summit", starts_on="2019-02")
    singapore.related_notes.add(hanoi)
    article = make_article(body="<p>Talks since the Singapore summit stalled.</p>")
    assertContains(client.get(article.get_absolute_url()), "/background/hanoi-summit/")

    delete = admin_client.post(
        f"/admin/explainer/backgroundnote/{hanoi.pk}/delete/", {"post": "yes"}
    )
    response = client.get(article.get_absolute_url())

    assert delete.status_code == 302
    assertContains(response, "Singapore summit")
    assertNotContains(response, "/background/hanoi-summit/")


# 9. What staff see of unpublished entries stays out of shared caches.


def test_staff_view_of_an_entry_naming_unpublished_notes_is_not_publicly_cached(admin_client):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    draft = make_note(title="Third summit", slug="third-summit", is_published=False)
    draft.actors.add(actor)

    response = admin_client.get(actor.get_absolute_url())

    assertContains(response, "Third summit")
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_reader_view_of_the_same_entry_stays_publicly_cached_without_the_draft(client):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    draft = make_note(title="Third summit", slug="third-summit", is_published=False)
    draft.actors.add(actor)

    response = client.get(actor.get_absolute_url())

    assertNotContains(response, "Third summit")
    assert "public" in response["Cache-Control"]


# 10. Unpublishing takes an entry off the sitemap at once.


def test_unpublished_entry_leaves_the_sitemap_at_once(client):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    assertContains(client.get("/sitemap.xml"), "/actors/kim-jong-un/")

    actor.is_published = False
    actor.save()
    response = client.get("/sitemap.xml")

    assertNotContains(response, "/actors/kim-jong-un/")
    assert "max-age" in response["Cache-Control"]


# 11. The configured site address, never the request's Host.


def test_story_page_uses_the_configured_site_url_whatever_the_host(client, settings):
    settings.SITE_URL = SITE_URL
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    article = make_article(body="<p>Kim Jong-un arrived by train.</p>")
    url = article.get_absolute_url()

    probe = client.get(url, HTTP_HOST="127.0.0.1:31337")
    reader = client.get(url)

    for response in (probe, reader):
        html = response.content.decode()
        assert f'<link rel="canonical" href="{SITE_URL}{url}">' in html
        assert f'<meta property="og:url" content="{SITE_URL}{url}">' in html
        data = json.loads(
            re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)[1]
        )
        assert data["url"] == f"{SITE_URL}{url}"
        assert data["mentions"][0]["url"] == f"{SITE_URL}/actors/kim-jong-un/"
        assert "31337" not in html


def test_story_page_rendered_in_full_uses_the_configured_site_url(client, settings):
    settings.SITE_URL = SITE_URL
    article = make_article()
    Article.objects.filter(pk=article.pk).update(page_html="")  # not stored: rendered in full

    response = client.get(article.get_absolute_url(), HTTP_HOST="127.0.0.1:31337")

    assertContains(
        response, f'<link rel="canonical" href="{SITE_URL}{article.get_absolute_url()}">'
    )
    assertNotContains(response, "31337")


def test_feed_sitemap_and_robots_use_the_configured_site_url(client, settings):
    settings.SITE_URL = SITE_URL
    article = make_article()
    make_actor(name="Kim Jong-un", slug="kim-jong-un")
    host = {"HTTP_HOST": "127.0.0.1:31337"}

    feed = client.get("/feed/", **host)
    sitemap = client.get("/sitemap.xml", **host)
    robots = client.get("/robots.txt", **host)

    assertContains(feed, f'href="{SITE_URL}{article.get_absolute_url()}"')
    assertContains(feed, f'href="{SITE_URL}/feed/"')
    assertContains(sitemap, f"<loc>{SITE_URL}{article.get_absolute_url()}</loc>")
    assertContains(sitemap, f"<loc>{SITE_URL}/actors/kim-jong-un/</loc>")
    assertContains(robots, f"Sitemap: {SITE_URL}/sitemap.xml")
    for response in (feed, sitemap, robots):
        assertNotContains(response, "31337")


def test_without_a_configured_site_url_the_request_origin_is_used(client, settings):
    settings.SITE_URL = ""
    article = make_article()

    response = client.get(article.get_absolute_url(), HTTP_HOST="localhost:8000")

    assertContains(
        response, f'<link rel="canonical" href="http://localhost:8000{article.get_absolute_url()}">'
    )


# 12. The log-in lock-out counts a username at a client's own address.


def log_in(client: Client, password: str, *, proxy: str, forwarded_for: str = ""):
    headers = {"REMOTE_ADDR": proxy}
    if forwarded_for:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    data = {"username": "admin", "password": password}
    return client.post("/admin/login/?next=/admin/", data, **headers)


def test_behind_a_trusted_proxy_failures_elsewhere_do_not_lock_an_editor_out(settings, admin_user):
    settings.TRUSTED_PROXY_COUNT = 1
    attacker, editor = Client(), Client()
    editors_address = "198.51.100.7"
    for _ in range(5):
        # The attacker forges the editor's address; the proxy appends the real one.
        log_in(
            attacker,
            "wrong",
            proxy="10.0.0.1",
            forwarded_for=f"{editors_address}, 203.0.113.9",
        )

    locked = log_in(attacker, "password", proxy="10.0.0.1", forwarded_for="203.0.113.9")
    response = log_in(editor, "password", proxy="10.0.0.1", forwarded_for=editors_address)

    assert locked.status_code == 429
    assert response.status_code == 302
    assert editor.session["_auth_user_id"] == str(admin_user.pk)


def test_without_a_trusted_proxy_a_forged_forwarded_for_is_ignored(settings, admin_user):
    settings.TRUSTED_PROXY_COUNT = 0
    attacker = Client()
    for number in range(5):
        log_in(attacker, "wrong", proxy="203.0.113.9", forwarded_for=f"10.1.1.{number}")

    response = log_in(attacker, "password", proxy="203.0.113.9", forwarded_for="198.51.100.7")

    assert response.status_code == 429
    assert "_auth_user_id" not in attacker.session

"""Bad input never becomes a server error: control characters in stories, NUL in requests,
ids that cannot be ids; and the methods, headers and log lines every response owes."""

import io
import logging
import unicodedata
import xml.etree.ElementTree as ET

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import given
from hypothesis import strategies as st
from reversion.models import Version

from explainer.models import Actor, Article, BackgroundNote
from explainer.text import without_control_characters
from tests.factories import make_actor, make_article, make_note
from tests.test_admin import (
    ACTOR_ADD,
    ARTICLE_ADD,
    actor_form,
    admin_form,
    article_form,
    change_url,
    form_errors,
    note_form,
)

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
READER_ALLOW = "GET, HEAD, OPTIONS"


def feed_entries(client) -> list[dict[str, str]]:
    response = client.get("/feed/")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    return [
        {
            "title": entry.findtext(f"{ATOM}title"),
            "summary": entry.findtext(f"{ATOM}summary"),
            "author": entry.findtext(f"{ATOM}author/{ATOM}name"),
        }
        for entry in root.findall(f"{ATOM}entry")
    ]


# 13. Control characters in what editors and importers write.


def test_text_control_characters_go_and_word_separators_become_spaces():
    text = "Kim\x0bJong-un\x00 meets\x1b Putin\x85in\x9f Vladivostok\x7f"

    assert without_control_characters(text, multiline=False) == (
        "Kim Jong-un meets Putin in Vladivostok"
    )
    assert without_control_characters("One.\r\n\tTwo.\x0cThree.", multiline=True) == (
        "One.\r\n\tTwo. Three."
    )
    assert without_control_characters("One.\r\n\tTwo.", multiline=False) == "One.   Two."


@given(st.text(), st.booleans())
def test_text_without_control_characters_has_none_left_and_is_stable(text, multiline):
    cleaned = without_control_characters(text, multiline=multiline)

    kept = "\t\n\r" if multiline else ""
    assert not [char for char in cleaned if unicodedata.category(char) == "Cc" and char not in kept]
    assert without_control_characters(cleaned, multiline=multiline) == cleaned


@given(st.text(st.characters(exclude_categories=("Cc",))), st.booleans())
def test_text_without_control_characters_leaves_other_text_alone(text, multiline):
    assert without_control_characters(text, multiline=multiline) == text


def test_admin_story_with_control_characters_is_saved_without_them(admin_client, client):
    data = article_form(
        admin_client,
        headline="Kim\x0bJong-un meets\x1b Putin",
        dek="A first\x07 summit",
        byline="Lee Min\x1b-hyung",
        body="<p>They met\x01 in Vladivostok.</p>\r\n<p>Talks\x0b followed.</p>",
    )

    response = admin_client.post(ARTICLE_ADD, data)

    assert response.status_code == 302
    article = Article.objects.get()
    assert (article.headline, article.dek, article.byline) == (
        "Kim Jong-un meets Putin",
        "A first summit",
        "Lee Min-hyung",
    )
    # Stored as readers get it: sanitized, so the parser's line break.
    assert article.body == "<p>They met in Vladivostok.</p>\n<p>Talks  followed.</p>"
    assert "?" not in article.body_html
    assert feed_entries(client)[0]["title"] == "Kim Jong-un meets Putin"


def test_admin_actor_with_control_characters_is_saved_without_them(admin_client):
    data = actor_form(
        admin_client,
        name="Kim\x07 Jong-un",
        slug="kim-jong-un",
        description="Leader\x1b of North Korea",
        summary="<p>Supreme\x0b Leader.</p>",
    )

    response = admin_client.post(ACTOR_ADD, data)

    assert response.status_code == 302
    actor = Actor.objects.get()
    assert (actor.name, actor.description) == ("Kim Jong-un", "Leader of North Korea")
    assert actor.summary_html == "<p>Supreme  Leader.</p>"
    assert actor.aliases.get().text == "Kim Jong-un"


def test_imported_story_with_control_characters_is_imported_without_them(tmp_path, client):
    path = tmp_path / "story.txt"
    path.write_text(
        "Title: Kim\x07 Jong-un meets\x0bPutin\n"
        "Source: The Korea Times\n"
        "Date: 2019-04-25\n"
        "Byline: By Lee Min-hyung\x1b\n"
        "Dek: A first\x00 summit\n"
        "\n"
        "The two leaders met\x00 in Vladivostok.\n",
        encoding="utf-8",
    )

    call_command("import_article", str(path), "--publish", stdout=io.StringIO())

    article = Article.objects.get()
    assert (article.headline, article.dek, article.byline) == (
        "Kim Jong-un meets Putin",
        "A first summit",
        "Lee Min-hyung",
    )
    assert article.body_text == "The two leaders met in Vladivostok."
    assert feed_entries(client) == [
        {"title": "Kim Jong-un meets Putin", "summary": "A first summit", "author": "Lee Min-hyung"}
    ]


def test_feed_with_control_characters_stored_before_the_fix_is_still_written(client):
    article = make_article()
    # Rows written before the models removed them (update() does not save).
    Article.objects.filter(pk=article.pk).update(
        headline="Kim\x01 meets Putin", dek="A first\x0bsummit", byline="Lee\x1fMin-hyung"
    )

    entries = feed_entries(client)

    assert entries == [
        {"title": "Kim meets Putin", "summary": "A first summit", "author": "Lee Min-hyung"}
    ]


INVISIBLE = "This holds only invisible control characters"


@pytest.mark.parametrize("page", ["add", "change"])
def test_admin_story_headline_of_only_control_characters_is_form_error(admin_client, page):
    story = make_article(headline="Kim meets Putin") if page == "change" else None
    url = change_url(story) if story else ARTICLE_ADD
    data = admin_form(admin_client, url) if story else article_form(admin_client)
    data["headline"] = "\x01\x02"

    response = admin_client.post(url, data)

    assert INVISIBLE in form_errors(response)
    assert list(Article.objects.values_list("headline", flat=True)) == (
        ["Kim meets Putin"] if story else []
    )


@pytest.mark.parametrize("page", ["add", "change"])
@pytest.mark.parametrize(
    ("model", "field"), [("actor", "name"), ("backgroundnote", "title")], ids=["actor", "note"]
)
def test_admin_entry_label_of_only_control_characters_is_form_error(
    admin_client, page, model, field
):
    make = {"actor": make_actor, "backgroundnote": make_note}[model]
    entry = make(**{field: "Kim Jong-un"}, slug="kim-jong-un") if page == "change" else None
    url = change_url(entry) if entry else f"/admin/explainer/{model}/add/"
    form = {"actor": actor_form, "backgroundnote": note_form}[model]
    data = admin_form(admin_client, url) if entry else form(admin_client, slug="kim-jong-un")
    data[field] = "\x01\x02"

    response = admin_client.post(url, data)

    assert INVISIBLE in form_errors(response)
    entries = {"actor": Actor, "backgroundnote": BackgroundNote}[model].objects
    assert list(entries.values_list(field, flat=True)) == (["Kim Jong-un"] if entry else [])


@pytest.mark.parametrize(
    "text",
    [
        "Title: \x01\x02\nDate: 2019-04-25\n\nThe two leaders met in Vladivostok.\n",
        # The clipping shape: the headline is the first line.
        "\x01\x02\n\nBy Lee Min-hyung\n\nThe two leaders met in Vladivostok.\n",
    ],
    ids=["header", "clipping"],
)
def test_imported_story_headline_of_only_control_characters_is_refused(tmp_path, text):
    path = tmp_path / "story.txt"
    path.write_text(text, encoding="utf-8")
    errors = io.StringIO()

    with pytest.raises(CommandError, match="1 of 1 files were not imported"):
        call_command("import_article", str(path), stdout=io.StringIO(), stderr=errors)

    assert "headline holds only invisible control characters" in errors.getvalue()
    assert not Article.objects.exists()


def test_imported_story_with_a_control_character_line_above_its_headline_keeps_it(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text(
        "\x01\nKim meets Putin\n\nBy Lee Min-hyung\n\nThe two leaders met in Vladivostok.\n",
        encoding="utf-8",
    )

    call_command("import_article", str(path), stdout=io.StringIO())

    assert Article.objects.get().headline == "Kim meets Putin"


# 14. NUL never reaches the database.


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "live-search"])
def test_search_with_nul_is_bad_request(client, htmx):
    headers = {"HX-Request": "true"} if htmx else {}

    response = client.get("/search/", {"q": "ab\x00"}, headers=headers)

    assert response.status_code == 400


@pytest.mark.parametrize("query", [{"outlet": "\x00"}, {"q": "kim\x00"}, {"\x00": "1"}])
def test_admin_changelist_with_nul_in_filter_or_search_is_bad_request(admin_client, query):
    make_article()

    response = admin_client.get("/admin/explainer/article/", query)

    assert response.status_code == 400


def test_admin_autocomplete_with_nul_is_bad_request(admin_client):
    make_actor(name="Kim Jong-un")
    query = {"app_label": "explainer", "model_name": "mention", "field_name": "actor"}

    response = admin_client.get("/admin/autocomplete/", {**query, "term": "\x00kim"})

    assert response.status_code == 400


def test_form_post_with_nul_is_bad_request(client):
    response = client.post("/admin/login/", {"username": "editor\x00", "password": "secret"})

    assert response.status_code == 400


# 15. An id that cannot be one is a missing object, not a server error.


@pytest.mark.parametrize("model", ["article", "actor", "backgroundnote"])
@pytest.mark.parametrize("object_id", ["abc", "1e3", "%00"])
def test_admin_change_page_for_impossible_id_redirects_as_for_missing_one(
    admin_client, model, object_id
):
    response = admin_client.get(f"/admin/explainer/{model}/{object_id}/change/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.parametrize("version_id", ["abc", "1e3"])
@pytest.mark.parametrize("parameter", ["from", "to"])
def test_version_compare_with_impossible_version_id_is_404(admin_client, parameter, version_id):
    article = make_article()
    admin_client.get(change_url(article))  # the story's first version
    version = Version.objects.get_for_object(article).get()
    url = change_url(article).replace("/change/", "/history/compare/")

    response = admin_client.get(url, {"from": version.pk, "to": version.pk, parameter: version_id})

    assert response.status_code == 404


@pytest.mark.parametrize("object_id", ["abc", "1e3"])
def test_version_compare_for_impossible_object_id_is_404(admin_client, object_id):
    response = admin_client.get(f"/admin/explainer/article/{object_id}/history/compare/")

    assert response.status_code == 404


# 16. Reader pages answer HEAD and OPTIONS.


@pytest.fixture
def reader_urls() -> dict[str, str]:
    article = make_article()
    actor = make_actor()
    note = make_note()
    return {
        "article_list": "/",
        "article_detail": article.get_absolute_url(),
        "actor_detail": actor.get_absolute_url(),
        "note_detail": note.get_absolute_url(),
        "search": "/search/?q=story",
        "context_api": f"/api/context/{actor.slug}.json",
        "robots_txt": "/robots.txt",
        "healthz": "/healthz",
        "feed": "/feed/",
        "sitemap": "/sitemap.xml",
    }


# The feed and the sitemap answered HEAD already: they are Django's own views.
HEAD_URLS = [
    "article_list",
    "article_detail",
    "actor_detail",
    "note_detail",
    "search",
    "context_api",
    "robots_txt",
    "healthz",
]
ALL_URLS = [*HEAD_URLS, "feed", "sitemap"]


@pytest.mark.parametrize("name", HEAD_URLS)
def test_reader_url_answers_head_like_get_without_a_body(client, reader_urls, name):
    url = reader_urls[name]

    response = client.head(url)

    assert response.status_code == 200
    assert response["Content-Type"] == client.get(url)["Content-Type"]
    assert response.content == b""


def test_story_preview_answers_head_for_staff(admin_client):
    article = make_article(published=False)

    response = admin_client.head(f"{article.get_absolute_url()}preview/")

    assert response.status_code == 200


@pytest.mark.parametrize("name", ALL_URLS)
def test_reader_url_answers_options_with_the_methods_allowed(client, reader_urls, name):
    response = client.options(reader_urls[name])

    assert response.status_code == 200
    assert response["Allow"] == READER_ALLOW
    assert response.content == b""


@pytest.mark.parametrize("name", ALL_URLS)
def test_reader_url_refuses_post_naming_the_methods_allowed(client, reader_urls, name):
    response = client.post(reader_urls[name])

    assert response.status_code == 405
    assert response["Allow"] == READER_ALLOW


# 17. A request for a host we do not serve is one line in the log.


def test_request_for_unknown_host_logs_one_warning_line_without_traceback(client, caplog):
    response = client.get("/", headers={"host": "attacker.example"})

    assert response.status_code == 400
    records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    line = logging.Formatter().format(records[0])
    assert "\n" not in line
    assert "attacker.example" in line


# Headers every response carries.

PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/no-such-page/", 404),
        ("/admin/login/", 200),
        ("/search/?q=ab%00", 400),
        ("/static/explainer/site.css", 200),
    ],
)
def test_every_response_has_permissions_and_resource_policies(settings, path, status):
    # Static files as production serves them: WhiteNoise, inside the middleware.
    settings.WHITENOISE_USE_FINDERS = True

    response = Client().get(path)
    response.close()

    assert response.status_code == status
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_public_api_may_be_read_by_other_sites(client):
    actor = make_actor()

    response = client.get(f"/api/context/{actor.slug}.json")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert response["Permissions-Policy"] == PERMISSIONS_POLICY

"""Rich text in the admin, from the outside: the editor on the page under the admin's policy,
plain text saved as paragraphs, sanitizing that the editor is told about, plain-text fields
that refuse markup, and every link scheme decided by the allowlist."""

import re

import pytest
from django.contrib.messages import get_messages
from django_prose_editor.config import allowlist_from_extensions

from explainer.models import Actor, Article, BackgroundNote
from explainer.rich_text import (
    BODY_EXTENSIONS,
    FIELD_LABEL,
    OUR_EXTENSIONS,
    SUMMARY_EXTENSIONS,
)
from explainer.sanitize import ATTRIBUTES, BODY_TAGS, SUMMARY_TAGS
from tests.factories import make_article
from tests.test_admin import (
    ARTICLE_ADD,
    actor_form,
    admin_form,
    article_form,
    change_url,
    form_errors,
    note_form,
    story_body,
)

pytestmark = pytest.mark.django_db

ACTOR_ADD = "/admin/explainer/actor/add/"
THREE_PARAGRAPHS = (
    "Sergei Lavrov arrived in Pyongyang on Tuesday.\n\n"
    "He met Ri Yong-ho, the foreign minister.\r\n\r\n"
    "The talks lasted two days & ended without a statement."
)


def warnings_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_article_add_page_has_the_editor_with_the_body_allowlist(admin_client):
    response = admin_client.get(ARTICLE_ADD)

    page = response.content.decode()
    assert 'data-django-prose-editor-configurable="' in page
    assert '<script type="importmap" nonce="' in page
    assert "django_prose_editor/configurable.js" in page
    assert "explainer/prose-marks.js" in page
    # The editor's inline import map runs by this response's nonce, and nothing else inline.
    nonce = re.search(r'<script type="importmap" nonce="([^"]+)"', page)[1]
    policy = response.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy)[1].split()
    assert script_src == ["'self'", f"'nonce-{nonce}'"]


def test_reader_pages_keep_the_strict_policy_without_a_nonce(client):
    article = make_article()

    policy = client.get(article.get_absolute_url()).headers["Content-Security-Policy"]

    assert re.search(r"script-src ([^;]*)", policy)[1] == "'self'"


def test_admin_page_without_the_editor_asks_for_no_nonce(admin_client):
    policy = admin_client.get("/admin/explainer/alias/").headers["Content-Security-Policy"]

    assert re.search(r"script-src ([^;]*)", policy)[1] == "'self'"


@pytest.mark.parametrize(
    ("extensions", "tags"),
    [(BODY_EXTENSIONS, BODY_TAGS), (SUMMARY_EXTENSIONS, SUMMARY_TAGS)],
    ids=["body", "summary"],
)
def test_editor_writes_exactly_the_allowlisted_tags(extensions, tags):
    package = {
        name: config
        for name, config in extensions.items()
        if name not in OUR_EXTENSIONS and name != FIELD_LABEL
    }
    allowlist = allowlist_from_extensions(package)
    # <q>, <cite>, <abbr title> and <ol> are ours (static/explainer/prose-marks.js).
    written = allowlist["tags"] | {
        OUR_EXTENSIONS[name] for name in OUR_EXTENSIONS.keys() & extensions.keys()
    }

    # <b> and <i> are kept when pasted, and the editor writes them as <strong> and <em>.
    assert written == tags - {"b", "i"}
    for tag, attributes in allowlist["attributes"].items():
        assert attributes - {"rel"} <= set(ATTRIBUTES.get(tag, [])), tag
    assert extensions["Link"] == {"enableTarget": False, "protocols": ["http", "https", "mailto"]}


def test_article_plain_text_body_is_stored_and_shown_as_paragraphs(admin_client, client):
    response = admin_client.post(ARTICLE_ADD, article_form(admin_client, body=THREE_PARAGRAPHS))

    assert response.status_code == 302
    article = Article.objects.get()
    assert article.body == (
        "<p>Sergei Lavrov arrived in Pyongyang on Tuesday.</p>"
        "<p>He met Ri Yong-ho, the foreign minister.</p>"
        "<p>The talks lasted two days &amp; ended without a statement.</p>"
    )
    shown = story_body(client, article)
    assert shown.count("<p>") == 3
    assert "two days &amp; ended" in shown


def test_existing_plain_text_body_opens_in_the_editor_as_paragraphs(admin_client):
    article = make_article(body="First.\n\nSecond.")

    data = admin_form(admin_client, change_url(article))

    assert data["body"] == "<p>First.</p><p>Second.</p>"


def test_summary_script_and_iframe_are_not_stored_and_the_editor_is_told(admin_client, client):
    summary = (
        '<p onclick="steal()">Foreign minister.<script>alert(1)</script>'
        '<iframe src="https://evil.test/"></iframe> <b onmouseover="x()">Met Putin.</b></p>'
    )

    response = admin_client.post(
        ACTOR_ADD, actor_form(admin_client, name="Ri Yong-ho", slug="ri-yong-ho", summary=summary)
    )

    assert response.status_code == 302
    actor = Actor.objects.get()
    assert actor.summary == "<p>Foreign minister. <b>Met Putin.</b></p>"
    assert actor.summary_html == actor.summary
    assert "Removed from the summary: 2 event attributes, a script, an iframe." in warnings_of(
        response
    )
    page = client.get(actor.get_absolute_url()).content.decode()
    assert "<p>Foreign minister. <b>Met Putin.</b></p>" in page


def test_clean_summary_saves_without_a_warning(admin_client):
    response = admin_client.post(
        ACTOR_ADD,
        actor_form(admin_client, name="Ri", slug="ri", summary="<p>A <em>minister</em>.</p>"),
    )

    assert response.status_code == 302
    assert not any(message.startswith("Removed") for message in warnings_of(response))


def test_word_markup_posted_without_the_editor_is_cleaned_and_named(admin_client):
    body = (
        "<p class=MsoNormal><span style='mso-bidi-font-weight:bold'>Kim <b>met</b> "
        "<a href='https://example.com/' target=_blank>Putin</a>.</span></p>"
        "<!--[if gte mso 9]><xml><o:OfficeDocumentSettings/></xml><![endif]-->"
    )

    response = admin_client.post(ARTICLE_ADD, article_form(admin_client, body=body))

    assert response.status_code == 302
    assert Article.objects.get().body == (
        '<p>Kim <b>met</b> <a href="https://example.com/" rel="noopener noreferrer">Putin</a>.</p>'
    )
    assert (
        "Removed from the body: a class attribute, a <span> tag (its text is kept), "
        "a target attribute, a comment."
    ) in warnings_of(response)


@pytest.mark.parametrize(
    "href", ["javascript:123", "JaVaScRiPt&#58;123", " java&#x09;script:1", "vbscript:1"]
)
def test_script_link_is_removed_from_body_and_summary(admin_client, client, href):
    link = f'<p><a href="{href}">click</a></p>'

    admin_client.post(ARTICLE_ADD, article_form(admin_client, body=link))
    admin_client.post(
        "/admin/explainer/backgroundnote/add/", note_form(admin_client, summary=link, body=link)
    )

    article, note = Article.objects.get(), BackgroundNote.objects.get()
    for stored in (article.body, article.body_html, note.summary, note.body, note.body_html):
        assert stored == '<p><a rel="noopener noreferrer">click</a></p>'
    assert "href" not in story_body(client, article)


@pytest.mark.parametrize(
    ("field", "value", "tag"),
    [
        ("description", "<img src=x onerror=alert(1)>", "<img>"),
        ("description", "President of <b>Russia</b>", "<b>"),
        ("name", "Kim<script>alert(1)</script>", "<script>"),
    ],
)
def test_plain_text_field_with_markup_is_a_form_error(admin_client, field, value, tag):
    data = actor_form(admin_client, name="Kim Jong-un", slug="kim-jong-un")
    data[field] = value

    response = admin_client.post(ACTOR_ADD, data)

    assert f"Plain text only: remove the {tag} tag." in form_errors(response)
    assert not Actor.objects.exists()


@pytest.mark.parametrize(("headline", "dek"), [("a < b", "Kim <3 Putin"), ("3 < 4 > 2", "x")])
def test_plain_text_with_loose_angle_brackets_is_saved(admin_client, headline, dek):
    response = admin_client.post(
        ARTICLE_ADD, article_form(admin_client, headline=headline, dek=dek)
    )

    assert response.status_code == 302
    assert Article.objects.get().dek == dek


def test_article_headline_and_standfirst_with_markup_are_form_errors(admin_client):
    data = article_form(admin_client, headline="<i>Lavrov</i> visits", dek="<!-- x --> Talks")

    errors = form_errors(admin_client.post(ARTICLE_ADD, data))

    assert "Plain text only: remove the <i> tag." in errors
    assert "Plain text only: remove the <!-- --> comment." in errors


def test_empty_editor_body_is_required(admin_client):
    errors = form_errors(admin_client.post(ARTICLE_ADD, article_form(admin_client, body="<p></p>")))

    assert "This field is required." in errors


@pytest.mark.parametrize(
    "declaration", ["<![0 draft>", "<![CDATA[Kim met Putin]]>", "<![if !supportLists]>"]
)
def test_a_marked_section_in_the_body_is_removed_and_named(admin_client, declaration):
    # HTML reads "<![" up to the next ">" as a comment; Python's parser once failed on
    # "<![0" and the save was a server error.
    body = f"<p>Kim {declaration}met Putin.</p>"

    response = admin_client.post(ARTICLE_ADD, article_form(admin_client, body=body))

    assert response.status_code == 302
    assert Article.objects.get().body == "<p>Kim met Putin.</p>"
    assert "Removed from the body: a comment." in warnings_of(response)

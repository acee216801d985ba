"""Compare an editor can read: word-level diffs per field, mentions summarized by place,
versions labelled to the second with their author, and a restore kept in the history."""

import html
import re

import pytest
from django.contrib.auth.models import User
from django.test import Client
from reversion.models import Version

from explainer.diffing import changed, word_diff
from explainer.editing import FORMATTING_ONLY, version_label

from .factories import make_actor, make_article
from .test_admin import admin_form, change_url, form_errors, mention_row

LABEL = re.compile(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d:\d\d by alice")


def test_a_one_word_change_is_just_that_word():
    segments = word_diff(
        before="Kim Jong-un met Vladimir Putin on Thursday in Vladivostok.",
        after="Kim Jong-un met Vladimir Putin on Friday in Vladivostok.",
    )

    assert segments == [
        ("equal", "Kim Jong-un met Vladimir Putin on "),
        ("delete", "Thursday"),
        ("insert", "Friday"),
        ("equal", " in Vladivostok."),
    ]


def test_joined_again_each_side_gives_the_texts_back():
    before, after = "The talks, held in Hanoi, ended early.", "The talks ended early in Hanoi!"
    segments = word_diff(before=before, after=after)

    assert "".join(text for kind, text in segments if kind != "insert") == before
    assert "".join(text for kind, text in segments if kind != "delete") == after


def test_html_tags_are_whole_words_and_a_changed_link_shows_whole():
    segments = word_diff(
        before='<p>Talks in <a href="/notes/hanoi/">Hanoi</a>.</p>',
        after='<p>Talks in <a href="/notes/hanoi-summit/">Hanoi</a>.</p>',
        html=True,
    )

    assert ("delete", '<a href="/notes/hanoi/">') in segments
    assert ("insert", '<a href="/notes/hanoi-summit/">') in segments
    assert ("equal", "Hanoi</a>.</p>") in segments


def test_a_long_text_keeps_only_context_around_the_change():
    words = [f"word{number}" for number in range(400)]
    after = words.copy()
    after[200] = "changed"

    segments = word_diff(before=" ".join(words), after=" ".join(after), context=6)

    kinds = [kind for kind, _ in segments]
    assert kinds == ["skip", "equal", "delete", "insert", "equal", "skip"]
    shown = "".join(text for kind, text in segments if kind != "skip")
    assert len(shown) < 100 and "word200" in shown and "changed" in shown


def test_same_texts_and_line_endings_are_no_change():
    assert not changed(word_diff(before="One\r\ntwo", after="One\ntwo"))


def editor(name: str) -> Client:
    user = User.objects.create_superuser(name, f"{name}@example.org", "a-long-unusual-password")
    client = Client()
    client.force_login(user)
    return client


def history_url(obj) -> str:
    return change_url(obj).replace("/change/", "/history/")


def compare(client, obj, older: Version, newer: Version):
    response = client.get(f"{history_url(obj)}compare/", {"from": older.pk, "to": newer.pk})
    assert response.status_code == 200
    return response


@pytest.mark.django_db
def test_compare_shows_a_one_word_body_edit_and_a_repointed_mention():
    make_actor(name="Moon Jae-in", slug="moon-jae-in")
    other = make_actor(name="Moon Chung-in", slug="moon-chung-in")
    make_actor(name="Vladimir Putin", slug="vladimir-putin")
    story = make_article(
        headline="Moon meets Putin",
        body="<p>Moon Jae-in met Vladimir Putin on Thursday in Vladivostok.</p>",
    )
    alice = editor("alice")
    url = change_url(story)
    assert alice.post(url, admin_form(alice, url)).status_code == 302
    form = admin_form(alice, url)
    form["body"] = "<p>Moon Jae-in met Vladimir Putin on Friday in Vladivostok.</p>"
    form[f"{mention_row(form, 'Moon Jae-in')}-actor"] = str(other.pk)
    edited = alice.post(url, form)
    assert edited.status_code == 302, form_errors(edited)
    newer, older = Version.objects.get_for_object(story)[:2]

    page = compare(alice, story, older, newer).content.decode()

    assert "<del>Thursday</del><ins>Friday</ins>" in page
    assert "1 re-pointed" in page
    assert "0 added, 0 removed, 1 re-pointed" in page
    assert "“Moon Jae-in”: Moon Jae-in → Moon Chung-in" in html.unescape(page)
    labels = LABEL.findall(page)
    assert version_label(older) in labels and version_label(newer) in labels


@pytest.mark.django_db
def test_compare_reads_a_rich_text_body_as_words_never_as_tags():
    story = make_article(body="<p>He spoke.</p><p>They met.</p>")
    alice = editor("alice")
    url = change_url(story)
    alice.post(url, admin_form(alice, url))
    form = {**admin_form(alice, url), "body": "<p>He spoke <em>firmly</em>.</p><p>They met.</p>"}
    assert alice.post(url, form).status_code == 302
    newer, older = Version.objects.get_for_object(story)[:2]

    page = compare(alice, story, older, newer).content.decode()

    assert "<em>firmly" not in page
    assert "&lt;" not in page.split('class="word-diff"', 1)[1].split("</div>", 1)[0]
    assert "He spoke<ins> firmly</ins>." in page
    assert FORMATTING_ONLY not in page


@pytest.mark.django_db
def test_compare_says_when_only_the_formatting_changed():
    story = make_article(body="<p>He spoke firmly.</p>")
    alice = editor("alice")
    url = change_url(story)
    alice.post(url, admin_form(alice, url))
    form = {**admin_form(alice, url), "body": "<p>He spoke <strong>firmly</strong>.</p>"}
    assert alice.post(url, form).status_code == 302
    newer, older = Version.objects.get_for_object(story)[:2]

    page = compare(alice, story, older, newer).content.decode()

    body_diff = page.split('class="word-diff"', 1)[1].split("</div>", 1)[0]
    assert FORMATTING_ONLY in body_diff
    assert "<del>" not in body_diff and "<ins>" not in body_diff


@pytest.mark.django_db
def test_history_labels_versions_to_the_second_with_their_author():
    story = make_article()
    alice = editor("alice")
    url = change_url(story)
    alice.post(url, admin_form(alice, url))
    alice.post(url, {**admin_form(alice, url), "dek": "A new dek"})

    page = alice.get(history_url(story)).content.decode()

    versions = Version.objects.get_for_object(story)
    options = re.findall(r'<option value="\d+"[^>]*>([^<]*)</option>', page)
    assert version_label(versions[0]) in options and version_label(versions[1]) in options
    assert all(LABEL.fullmatch(option) for option in options if "alice" in option)


@pytest.mark.django_db
def test_restoring_a_version_is_recorded_in_the_history():
    story = make_article(headline="The first headline")
    alice = editor("alice")
    url = change_url(story)
    alice.post(url, admin_form(alice, url))
    original = Version.objects.get_for_object(story).first()
    alice.post(url, {**admin_form(alice, url), "headline": "A later headline"})
    restore_url = f"{history_url(story)}{original.pk}/"

    restored = alice.post(restore_url, admin_form(alice, restore_url))

    assert restored.status_code == 302
    story.refresh_from_db()
    assert story.headline == "The first headline"
    latest = Version.objects.get_for_object(story).first()
    comment = f"Restored the version of {version_label(original)}"
    assert latest.revision.get_comment() == comment
    assert comment in html.unescape(alice.get(history_url(story)).content.decode())

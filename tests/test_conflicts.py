"""Edit conflicts an editor can resolve: a save refused because a colleague saved
meanwhile shows the colleague's value beside the editor's for each field both changed,
keeps the editor's input, and saves only once each of those fields has a choice."""

import html

import pytest
from django.contrib.auth.models import User
from django.test import Client
from reversion.models import Version

from explainer.models import Actor, Article

from .factories import make_actor, make_article
from .test_admin import _AdminFormReader, admin_form, change_url, form_errors

pytestmark = pytest.mark.django_db


def editor(name: str) -> Client:
    user = User.objects.create_superuser(name, f"{name}@example.org", "a-long-unusual-password")
    client = Client()
    client.force_login(user)
    return client


def page_text(response) -> str:
    return html.unescape(response.content.decode())


def conflicting_story():
    """Alice and Bob opened the same version; Alice saved a new headline and dek; Bob's
    save of his own headline, dek and byline was refused. Returns the story, Bob's client,
    his form and the refused response."""
    story = make_article(
        headline="Kim meets Putin in Vladivostok",
        dek="The two leaders met for the first time.",
        byline="Lee Min-hyung",
    )
    alice, bob = editor("alice"), editor("bob")
    url = change_url(story)
    alice_form, bob_form = admin_form(alice, url), admin_form(bob, url)
    saved = alice.post(
        url,
        {
            **alice_form,
            "headline": "Kim meets Putin in Russia's far east",
            "dek": "The two leaders met for the first time, in Vladivostok.",
        },
    )
    assert saved.status_code == 302, form_errors(saved)
    bob_form.update(
        headline="Kim and Putin meet in Vladivostok",
        dek="The two leaders met for the first time on Thursday.",
        byline="Lee Min-hyung and Kim Se-jeong",
    )
    refused = bob.post(url, bob_form)
    return story, bob, bob_form, refused


def test_a_refused_save_shows_the_colleagues_value_beside_yours_with_your_input_kept():
    story, _, _, refused = conflicting_story()

    assert "after you opened it, so your save was not applied" in form_errors(refused)
    form = refused.context["adminform"].form
    assert {conflict.name for conflict in form.edit_conflicts} == {"headline", "dek"}
    page = page_text(refused)
    assert "Changed by a colleague while you were editing" in page
    # Theirs beside mine, diffed by word: Alice's words struck in hers, Bob's underlined in his.
    assert "<del>Russia's far east</del>" in page
    assert "<ins>Vladivostok</ins>" in page
    assert "<del>, in Vladivostok</del>" in page
    assert "<ins> on Thursday</ins>" in page
    # Bob's input is still in the fields, the byline Alice did not touch needs no choice.
    assert 'value="Kim and Putin meet in Vladivostok"' in page
    assert 'value="Lee Min-hyung and Kim Se-jeong"' in page
    assert 'name="resolve_headline"' in page and 'name="resolve_dek"' in page
    assert 'name="resolve_byline"' not in page
    story.refresh_from_db()
    assert story.headline == "Kim meets Putin in Russia's far east"


def test_saving_again_without_choosing_is_a_form_error_and_overwrites_nothing():
    story, bob, _, refused = conflicting_story()
    again = admin_form_from(refused)

    response = bob.post(change_url(story), again)

    errors = form_errors(response)
    assert "a colleague also changed headline, standfirst" in errors
    assert "choose “Keep mine” or “Take theirs”" in errors
    story.refresh_from_db()
    assert story.headline == "Kim meets Putin in Russia's far east"
    assert story.byline == "Lee Min-hyung"
    page = page_text(response)
    assert 'value="Kim and Putin meet in Vladivostok"' in page  # still not lost
    assert "<del>Russia's far east</del>" in page  # nor theirs


def test_choosing_theirs_for_one_field_and_mine_for_another_saves_both():
    story, bob, _, refused = conflicting_story()
    again = admin_form_from(refused)
    again.update(resolve_headline="theirs", resolve_dek="mine")

    response = bob.post(change_url(story), again)

    assert response.status_code == 302, form_errors(response)
    story.refresh_from_db()
    assert story.headline == "Kim meets Putin in Russia's far east"  # Alice's
    assert story.dek == "The two leaders met for the first time on Thursday."  # Bob's
    assert story.byline == "Lee Min-hyung and Kim Se-jeong"  # only Bob changed it
    users = [
        version.revision.user.get_username()
        for version in Version.objects.get_for_object(story).select_related("revision__user")
        if version.revision.user is not None
    ]
    assert users[:2] == ["bob", "alice"]


def test_keeping_mine_after_editing_the_field_by_hand_saves_the_hand_edit():
    story, bob, _, refused = conflicting_story()
    again = admin_form_from(refused)
    again.update(
        headline="Kim and Putin meet in Russia's far east",
        resolve_headline="mine",
        resolve_dek="theirs",
    )

    assert bob.post(change_url(story), again).status_code == 302
    story.refresh_from_db()
    assert story.headline == "Kim and Putin meet in Russia's far east"
    assert story.dek == "The two leaders met for the first time, in Vladivostok."


def test_a_third_save_meanwhile_is_refused_again_not_overwritten():
    story, bob, _, refused = conflicting_story()
    again = admin_form_from(refused)
    carol = editor("carol")
    carol_form = admin_form(carol, change_url(story))
    assert carol.post(change_url(story), {**carol_form, "dek": "Carol's dek."}).status_code == 302
    again.update(resolve_headline="mine", resolve_dek="mine")

    response = bob.post(change_url(story), again)

    assert "after you opened it" in form_errors(response)
    assert Article.objects.get(pk=story.pk).dek == "Carol's dek."
    assert "<del>Carol's dek" in page_text(response)  # the new "theirs"


def test_an_entry_conflict_offers_the_same_choice():
    actor = make_actor(name="Ri Yong-ho", description="North Korea's foreign minister")
    alice, bob = editor("alice"), editor("bob")
    url = change_url(actor)
    alice_form, bob_form = admin_form(alice, url), admin_form(bob, url)
    alice.post(url, {**alice_form, "description": "North Korea's former foreign minister"})
    refused = bob.post(url, {**bob_form, "description": "Foreign minister of North Korea"})
    assert "<del>" in page_text(refused) and 'name="resolve_description"' in page_text(refused)
    again = admin_form_from(refused)

    unchosen = bob.post(url, again)
    assert "a colleague also changed description" in form_errors(unchosen)
    again["resolve_description"] = "mine"
    assert bob.post(url, again).status_code == 302
    assert Actor.objects.get(pk=actor.pk).description == "Foreign minister of North Korea"


def admin_form_from(response) -> dict[str, str]:
    """The form as the browser would post it again from this page (with its hidden
    version token and conflict base)."""
    reader = _AdminFormReader()
    reader.feed(response.content.decode())
    return reader.data

"""Editorial workflow: no lost edits, revisions, permissions, scheduling, preview, deletes."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains
from reversion.models import Version

from explainer.models import Actor, Alias, Article, Mention

from .factories import make_actor, make_article
from .test_admin import admin_form, form_errors, linked_phrases, story_body

pytestmark = pytest.mark.django_db


def change_url(article: Article) -> str:
    return f"/admin/explainer/article/{article.pk}/change/"


def editor_client(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_stale_save_is_refused_and_keeps_both_editors_work(admin_user, demo):
    first, second = editor_client(admin_user), editor_client(admin_user)
    first_form = admin_form(first, change_url(demo))
    second_form = admin_form(second, change_url(demo))

    first_form["headline"] = "First editor's headline"
    assert first.post(change_url(demo), first_form).status_code == 302
    second_form["headline"] = "Second editor's headline"
    refused = second.post(change_url(demo), second_form)

    assert "after you opened it, so your save was not applied" in form_errors(refused)
    assert "Changed since: headline." in form_errors(refused)
    demo.refresh_from_db()
    assert demo.headline == "First editor's headline"
    assertContains(refused, 'value="Second editor&#x27;s headline"')


def test_after_seeing_the_conflict_the_editor_can_save(admin_user, demo):
    first, second = editor_client(admin_user), editor_client(admin_user)
    first_form = admin_form(first, change_url(demo))
    second_form = admin_form(second, change_url(demo))
    first.post(change_url(demo), {**first_form, "headline": "First"})
    refused = second.post(change_url(demo), {**second_form, "headline": "Merged"})
    token = refused.context["adminform"].form["loaded_version"].value()

    saved = second.post(
        change_url(demo), {**second_form, "headline": "Merged", "loaded_version": token}
    )

    assert saved.status_code == 302
    demo.refresh_from_db()
    assert demo.headline == "Merged"


def test_stale_save_of_an_actor_is_refused_too(admin_user, demo):
    url = f"/admin/explainer/actor/{Actor.objects.get(slug='ri-yong-ho').pk}/change/"
    first, second = editor_client(admin_user), editor_client(admin_user)
    first_form, second_form = admin_form(first, url), admin_form(second, url)

    first.post(url, {**first_form, "description": "First"})
    refused = second.post(url, {**second_form, "description": "Second"})

    assert "after you opened it" in form_errors(refused)
    assert Actor.objects.get(slug="ri-yong-ho").description == "First"


def test_restoring_an_older_revision_reproduces_fields_aliases_and_mentions(admin_client, demo):
    url = change_url(demo)
    before_text = story_body(admin_client, demo)
    before_mentions = sorted(
        demo.mentions.values_list("quote", "start", "is_linked", "is_suppressed")
    )
    form = admin_form(admin_client, url)
    assert admin_client.post(url, form).status_code == 302  # a first saved version
    original = Version.objects.get_for_object(demo).first()
    form = admin_form(admin_client, url)
    form["headline"] = "Changed headline"
    form["body"] = "<p>Only Vladimir Putin is left.</p>"
    edited = admin_client.post(url, form)
    assert edited.status_code == 302, form_errors(edited)
    demo.refresh_from_db()
    assert demo.headline == "Changed headline"

    revert_url = f"/admin/explainer/article/{demo.pk}/history/{original.pk}/"
    reverted = admin_client.post(revert_url, admin_form(admin_client, revert_url))

    assert reverted.status_code == 302
    demo.refresh_from_db()
    assert demo.headline == "Kim Jong-un, Putin discuss how to handle US"
    assert story_body(admin_client, demo) == before_text
    after_mentions = sorted(
        demo.mentions.values_list("quote", "start", "is_linked", "is_suppressed")
    )
    assert after_mentions == before_mentions


def test_restoring_an_actor_revision_restores_its_aliases(admin_client, demo):
    actor = Actor.objects.get(slug="ri-yong-ho")
    url = f"/admin/explainer/actor/{actor.pk}/change/"
    admin_client.post(url, admin_form(admin_client, url))
    original = Version.objects.get_for_object(actor).first()
    aliases_before = sorted(actor.aliases.values_list("text", flat=True))
    form = admin_form(admin_client, url)
    # Not the name, which always stays.
    russian = next(key for key, value in form.items() if value == "Ли Ён Хо")
    form[russian.replace("-text", "-DELETE")] = "on"
    admin_client.post(url, form)
    assert sorted(actor.aliases.values_list("text", flat=True)) != aliases_before

    revert_url = f"/admin/explainer/actor/{actor.pk}/history/{original.pk}/"
    admin_client.post(revert_url, admin_form(admin_client, revert_url))

    assert sorted(actor.aliases.values_list("text", flat=True)) == aliases_before


def test_history_compares_two_versions(admin_client, demo):
    url = change_url(demo)
    admin_client.post(url, admin_form(admin_client, url))
    admin_client.post(url, {**admin_form(admin_client, url), "headline": "A sharper headline"})
    newer, older = Version.objects.get_for_object(demo)[:2]

    history = admin_client.get(f"{url.removesuffix('change/')}history/")
    compare = admin_client.get(
        f"{url.removesuffix('change/')}history/compare/", {"from": older.pk, "to": newer.pk}
    )

    assertContains(history, "Compare two versions")
    assertContains(compare, "Kim Jong-un, Putin discuss how to handle US")
    assertContains(compare, "A sharper headline")


def contributor() -> Client:
    user = User.objects.create_user("writer", password="a-long-unusual-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Contributors"))
    client = Client()
    client.force_login(user)
    return client


def test_contributor_can_write_a_draft_and_submit_it_for_review():
    client = contributor()
    data = admin_form(client, "/admin/explainer/article/add/")
    data.update(headline="A new story", body="<p>Text.</p>", status="review")

    response = client.post("/admin/explainer/article/add/", data)

    assert response.status_code == 302
    assert Article.objects.get(headline="A new story").status == Article.Status.REVIEW


def test_contributor_cannot_publish_even_with_a_forged_post():
    client = contributor()
    data = admin_form(client, "/admin/explainer/article/add/")
    assert (
        "published"
        not in client.get("/admin/explainer/article/add/")
        .content.decode()
        .split('name="status"', 1)[1]
        .split("</select>", 1)[0]
    )
    data.update(headline="Forged", body="<p>Text.</p>", status="published")
    data["published_at_0"], data["published_at_1"] = "2019-04-25", "12:00:00"

    response = client.post("/admin/explainer/article/add/", data)

    assert "Select a valid choice" in form_errors(response)
    assert not Article.objects.filter(headline="Forged").exists()


def test_contributor_cannot_change_a_published_story_or_delete_anything(demo):
    client = contributor()
    draft = make_article(published=False)

    edit = client.post(change_url(demo), {"headline": "Hijacked"})
    delete = client.post(f"/admin/explainer/article/{draft.pk}/delete/", {"post": "yes"})

    assert edit.status_code == 403
    assert delete.status_code == 403
    demo.refresh_from_db()
    assert demo.headline != "Hijacked"
    assert Article.objects.filter(pk=draft.pk).exists()


def test_editors_group_can_publish(demo):
    user = User.objects.create_user("editor", password="a-long-unusual-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    draft = make_article(published=False, headline="Ready")
    data = admin_form(client, change_url(draft))
    data.update(status="published", published_at_0="2019-04-26", published_at_1="09:00:00")

    response = client.post(change_url(draft), data)

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published


def test_scheduled_story_appears_to_readers_once_its_time_passes(client, monkeypatch):
    publish_at = timezone.now() + dt.timedelta(hours=2)
    article = make_article(headline="Embargoed", published_at=publish_at)
    assert article.state == "Scheduled"
    assert client.get(article.get_absolute_url()).status_code == 404
    assertNotContains(client.get("/"), "Embargoed")

    later = publish_at + dt.timedelta(minutes=1)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert client.get(article.get_absolute_url()).status_code == 200
    assertContains(client.get("/"), "Embargoed")


def test_staff_preview_shows_a_draft_as_readers_will_see_it(admin_client, client):
    make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    draft = make_article(published=False, headline="Draft story", body="<p>Ri Yong-ho spoke.</p>")
    preview_url = f"{draft.get_absolute_url()}preview/"

    staff = admin_client.get(preview_url)
    reader = client.get(preview_url)

    assertContains(staff, "Preview, not published.")
    assertContains(staff, 'class="mention mention--person"')
    assert "private" in staff["Cache-Control"] and "no-store" in staff["Cache-Control"]
    assert staff["X-Robots-Tag"] == "noindex"
    assert reader.status_code == 302 and "/admin/login/" in reader["Location"]
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_admin_view_on_site_for_a_draft_is_its_preview(admin_client):
    draft = make_article(published=False)

    response = admin_client.get(change_url(draft))

    assertContains(response, f"{draft.get_absolute_url()}preview/")


def test_deleting_a_mentioned_actor_names_its_stories_and_it_can_be_restored(admin_client, demo):
    actor = Actor.objects.get(slug="ri-yong-ho")
    url = f"/admin/explainer/actor/{actor.pk}/change/"
    admin_client.post(url, admin_form(admin_client, url))  # a saved version to restore
    text_before = story_body(admin_client, demo)
    delete_url = f"/admin/explainer/actor/{actor.pk}/delete/"

    confirmation = admin_client.get(delete_url)
    admin_client.post(delete_url, {"post": "yes"})

    assertContains(confirmation, "Stories that mention Ri Yong-ho")
    assertContains(confirmation, demo.headline)
    assert not Actor.objects.filter(slug="ri-yong-ho").exists()
    after_delete = story_body(admin_client, demo)
    assert linked_phrases(after_delete, "/actors/ri-yong-ho/") == []
    assert "Ri Yong-ho" in after_delete

    deleted = Version.objects.get_deleted(Actor).get(object_repr="Ri Yong-ho")
    recover_url = f"/admin/explainer/actor/recover/{deleted.pk}/"
    admin_client.post(recover_url, admin_form(admin_client, recover_url))

    restored = Actor.objects.get(slug="ri-yong-ho")
    assert restored.aliases.filter(text="Ri Yong-ho").exists()
    assert linked_phrases(story_body(admin_client, demo), "/actors/ri-yong-ho/") == ["Ri Yong-ho"]
    assert story_body(admin_client, demo) == text_before
    assert Alias.objects.filter(actor=restored).count() >= 1


def test_a_forged_version_token_is_a_form_error_not_a_crash(admin_client, demo):
    form = admin_form(admin_client, change_url(demo))

    response = admin_client.post(change_url(demo), {**form, "loaded_version": "not-a-time"})

    assert "after you opened it" in form_errors(response)


def test_entry_records_who_edited_it_and_cards_show_when_it_was_reviewed(admin_client, admin_user):
    actor = make_actor(name="Choe Son-hui", slug="choe-son-hui")
    url = f"/admin/explainer/actor/{actor.pk}/change/"
    form = admin_form(admin_client, url)
    form["reviewed_on"] = "2026-11-20"

    admin_client.post(url, form)

    actor.refresh_from_db()
    assert actor.last_edited_by == admin_user
    card = admin_client.get("/actors/choe-son-hui/", headers={"HX-Request": "true"})
    assertContains(card, "Checked by our editors 20 November 2026")
    assertContains(admin_client.get("/admin/explainer/actor/"), "by admin")


def test_mention_review_shows_highlights_orphans_and_suggestions(admin_client):
    actor = make_actor(name="Kim Jong-un", slug="kim-jong-un")
    article = make_article(
        body="<p>Kim Jong-un met Sergei Lavrov, who spoke to KCNA. The supreme leader smiled.</p>"
    )
    Mention.objects.create(article=article, actor=actor, quote="supreme leader")
    article.body = "<p>Kim Jong-un met Sergei Lavrov, who spoke to KCNA.</p>"
    article.save()

    response = admin_client.get(change_url(article))

    assertContains(response, "Mention review")
    assertContains(response, 'class="mention mention--person"')
    assertContains(response, "Orphaned mentions")
    assertContains(response, "“supreme leader” → Kim Jong-un")
    assertContains(response, "/admin/explainer/actor/add/?name=Sergei%20Lavrov")
    assertContains(response, "KCNA:")


def test_repointing_a_found_mention_survives_relinking(admin_client):
    make_actor(name="Kim Jong-un", slug="kim-jong-un", aliases=("Kim",))
    kim_yo_jong = make_actor(name="Kim Yo-jong", slug="kim-yo-jong")
    article = make_article(body="<p>Kim Jong-un left. Later, Kim spoke for her brother.</p>")
    url = change_url(article)
    form = admin_form(admin_client, url)
    row = next(key[: -len("-quote")] for key, value in form.items() if value == "Kim Jong-un")
    assert row

    form[f"{row}-actor"] = str(kim_yo_jong.pk)
    admin_client.post(url, form)
    article.refresh_from_db()
    article.body = "<p>On Monday, Kim Jong-un left. Later, Kim spoke for her brother.</p>"
    article.save()

    mention = article.mentions.get(origin=Mention.Origin.EDITOR)
    assert (mention.quote, mention.actor) == ("Kim Jong-un", kim_yo_jong)
    assert 'href="/actors/kim-yo-jong/?as_of=2019-04-25"' in article.linked_body_html


def test_unpublished_entry_appears_in_previews_and_never_to_readers(admin_client, client):
    lavrov = make_actor(name="Sergei Lavrov", slug="sergei-lavrov", is_published=False)
    article = make_article(body="<p>Sergei Lavrov handed over the invitation.</p>")

    reader_story = story_body(client, article)
    preview = admin_client.get(f"{article.get_absolute_url()}preview/")

    assert linked_phrases(reader_story, "/actors/sergei-lavrov/") == []
    assert client.get("/actors/sergei-lavrov/").status_code == 404
    assert client.get("/api/context/sergei-lavrov.json").status_code == 404
    assertNotContains(client.get("/search/", {"q": "Lavrov"}), "Sergei Lavrov</a>")
    preview_body = preview.content.decode().split('<div class="story-body">', 1)[1]
    preview_body = preview_body.split("</div>", 1)[0]
    assert linked_phrases(preview_body, "/actors/sergei-lavrov/") == ["Sergei Lavrov"]
    staff_card = admin_client.get("/actors/sergei-lavrov/", headers={"HX-Request": "true"})
    assert staff_card.status_code == 200
    assert "private" in staff_card["Cache-Control"] and "public" not in staff_card["Cache-Control"]

    lavrov.is_published = True
    lavrov.save()

    assert linked_phrases(story_body(client, article), "/actors/sergei-lavrov/") == [
        "Sergei Lavrov"
    ]


def test_importing_the_seed_file_gives_the_same_story_text_as_the_demo(demo):
    from django.core.management import call_command

    from .conftest import SEED_STORY

    demo_html, demo_text, demo_links = demo.body_html, demo.body_text, demo.linked_body_html
    demo.delete()

    call_command(
        "import_article",
        str(SEED_STORY),
        "--publish",
        "--date",
        "2019-04-25",
        "--outlet",
        "The Korea Times",
        stdout=io.StringIO(),
    )

    imported = Article.objects.get()
    assert (imported.body_html, imported.body_text) == (demo_html, demo_text)
    assert imported.linked_body_html == demo_links
    assert list(imported.figures.values_list("credit", flat=True)) == ["AP-Yonhap", "AFP", "AP"]

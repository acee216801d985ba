"""Imports never overwrite an editor's work silently: import_article and import_context skip
what an editor changed since its last import, unless --force, and then the admin's History
holds both versions, either of which can be restored."""

import io
import json
import re

import pytest
from django.core.management import call_command
from pytest_django.asserts import assertContains
from reversion.models import Version

from explainer.models import Actor, Article, BackgroundNote, Figure
from explainer.provenance import record_digest

from .test_admin import admin_form, change_url, form_errors
from .test_context_transfer import export, import_context, write_json
from .test_importing import SEED_STORY

pytestmark = pytest.mark.django_db

STORY = """\
Title: Lavrov visits Pyongyang
Source: Yonhap
Date: 2019-05-02
Byline: By Kim Hyun-jin

Russian Foreign Minister Sergei Lavrov arrived in Pyongyang on Thursday.

Lavrov is expected to meet Choe Son-hui before he leaves on Friday.
"""
LAVROV = {
    "slug": "sergei-lavrov",
    "name": "Sergei Lavrov",
    "kind": "person",
    "description": "Foreign minister of Russia since 2004",
    "aliases": [{"text": "Lavrov"}],
    "roles": [{"title": "Foreign Minister", "organization": "Russia", "starts_on": "2004-03"}],
}


def import_article(*args) -> str:
    stdout = io.StringIO()
    call_command("import_article", *map(str, args), stdout=stdout, stderr=io.StringIO())
    return stdout.getvalue()


def status_of(stdout: str) -> str:
    """The Status cell of the summary's one story."""
    return re.split(r"\s{2,}", stdout.splitlines()[1])[2]


def import_context_force(path) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_context", str(path), "--force", stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


def history_url(obj) -> str:
    return change_url(obj).replace("/change/", "/history/")


def edit_in_admin(client, obj, **fields) -> None:
    form = admin_form(client, change_url(obj))
    form.update(fields)
    response = client.post(change_url(obj), form)
    assert response.status_code == 302, form_errors(response)


def restore(client, obj, version) -> None:
    url = f"{history_url(obj)}{version.pk}/"
    response = client.post(url, admin_form(client, url))
    assert response.status_code == 302


def versions(obj) -> list[Version]:
    return list(Version.objects.get_for_object(obj).select_related("revision__user"))


@pytest.fixture
def story_file(tmp_path):
    path = tmp_path / "lavrov.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


@pytest.fixture
def imported(story_file) -> Article:
    assert status_of(import_article(story_file)) == "created"
    return Article.objects.get()


@pytest.fixture
def edited(imported, admin_client) -> Article:
    """The imported story after an editor gave it a standfirst and changed a word."""
    body = imported.body.replace("arrived in", "landed in")
    edit_in_admin(admin_client, imported, dek="Russia's top diplomat is in the North.", body=body)
    imported.refresh_from_db()
    return imported


# import_article


def test_first_import_records_the_imported_version_in_history(imported):
    assert [version.revision.get_comment() for version in versions(imported)] == [
        "Imported from lavrov.txt by import_article"
    ]
    assert imported.imported_at is not None
    assert len(imported.import_digest) == 64


def test_reimport_of_unchanged_file_reports_unchanged_and_writes_nothing(imported, story_file):
    before = Article.objects.values().get()

    stdout = import_article(story_file)

    assert status_of(stdout) == "unchanged"
    assert Article.objects.values().get() == before
    assert len(versions(imported)) == 1


def test_reimport_of_changed_file_on_unedited_story_updates_it(imported, story_file):
    story_file.write_text(STORY.replace("on Thursday", "on Thursday morning"), encoding="utf-8")

    stdout = import_article(story_file)

    imported.refresh_from_db()
    assert status_of(stdout) == "updated"
    assert "Thursday morning" in imported.body
    assert len(versions(imported)) == 2


def test_reimport_of_story_edited_in_admin_skips_it_and_says_why(edited, story_file):
    before = Article.objects.values().get()
    count = len(versions(edited))

    stdout = import_article(story_file)

    assert status_of(stdout) == "skipped"
    assert f"{story_file}: skipped: edited since its last import on " in stdout
    assert " by admin (standfirst, body differ from the file); use --force to overwrite." in stdout
    assert Article.objects.values().get() == before
    assert len(versions(edited)) == count


def test_forced_reimport_overwrites_and_history_lists_both_versions(
    edited, story_file, admin_client
):
    count = len(versions(edited))

    stdout = import_article(story_file, "--force")

    edited.refresh_from_db()
    assert status_of(stdout) == "updated"
    assert "overwrote an editor's changes (standfirst, body)" in stdout
    assert edited.dek == ""
    assert "arrived in" in edited.body
    assert len(versions(edited)) == count + 1
    history = admin_client.get(history_url(edited))
    assertContains(history, "Imported from lavrov.txt by import_article --force")
    assertContains(history, "<td>admin</td>", html=False)
    # Oldest first: the first import, the editor's save, the forced import.
    revisions = [action["revision"] for action in history.context["action_list"]]
    assert [revision.user and revision.user.username for revision in revisions] == [
        None,
        "admin",
        None,
    ]
    assert revisions[-1].get_comment() == "Imported from lavrov.txt by import_article --force"


def test_restoring_the_editors_version_after_a_forced_import_brings_their_work_back(
    edited, story_file, admin_client
):
    editors = versions(edited)[0]
    import_article(story_file, "--force")

    restore(admin_client, edited, editors)

    edited.refresh_from_db()
    assert edited.dek == "Russia's top diplomat is in the North."
    assert "landed in" in edited.body
    # Restored, it is the editor's work again: the next import leaves it alone.
    assert status_of(import_article(story_file)) == "skipped"


def test_restoring_the_forced_import_makes_the_story_as_imported_again(
    edited, story_file, admin_client
):
    import_article(story_file, "--force")
    forced = versions(edited)[0]
    edit_in_admin(admin_client, edited, dek="A second editor's standfirst.")

    restore(admin_client, edited, forced)

    edited.refresh_from_db()
    assert edited.dek == ""
    assert status_of(import_article(story_file)) == "unchanged"


def test_forced_reimport_of_story_edited_outside_the_admin_keeps_that_version(imported, story_file):
    Article.objects.filter(pk=imported.pk).update(dek="Typed in a shell.")
    imported.refresh_from_db()
    assert status_of(import_article(story_file)) == "skipped"

    import_article(story_file, "--force")

    comments = [version.revision.get_comment() for version in versions(imported)]
    assert comments == [
        "Imported from lavrov.txt by import_article --force",
        "As an editor left it, before a forced import",
        "Imported from lavrov.txt by import_article",
    ]
    assert versions(imported)[1].field_dict["dek"] == "Typed in a shell."


def test_reimport_of_story_whose_figure_an_editor_captioned_is_skipped(tmp_path):
    path = tmp_path / "seed.txt"
    path.write_text(SEED_STORY.read_text(encoding="utf-8"), encoding="utf-8")
    import_article(path)
    Figure.objects.filter(position=1).update(caption="A better caption.")

    stdout = import_article(path)

    assert status_of(stdout) == "skipped"
    assert "(figures differs from the file)" in stdout
    assert Figure.objects.get(position=1).caption == "A better caption."


def test_story_saved_in_admin_before_imports_kept_a_digest_counts_as_edited(
    imported, story_file, admin_client
):
    Article.objects.update(import_digest="", imported_at=None)
    edit_in_admin(admin_client, imported, dek="Written before the upgrade.")

    stdout = import_article(story_file)

    assert status_of(stdout) == "skipped"
    assert "skipped: edited by admin and never imported since" in stdout


# import_context


@pytest.fixture
def library_path(tmp_path):
    path = write_json(tmp_path, {"actors": [LAVROV]})
    stdout, _ = import_context(path)
    assert "1 created, 0 updated, 0 unchanged." in stdout
    return path


def test_import_context_unchanged_file_writes_nothing(library_path):
    actor = Actor.objects.get()
    before, count = Actor.objects.values().get(), len(versions(actor))

    stdout, _ = import_context(library_path)

    assert "0 created, 0 updated, 1 unchanged." in stdout
    assert Actor.objects.values().get() == before
    assert len(versions(actor)) == count == 1


def test_import_context_skips_an_entry_edited_in_admin_since_its_last_import(
    library_path, admin_client
):
    actor = Actor.objects.get()
    edit_in_admin(admin_client, actor, description="Russia's foreign minister")
    count = len(versions(actor))

    stdout, _ = import_context(library_path)

    assert "0 created, 0 updated, 0 unchanged, 1 skipped." in stdout
    assert "sergei-lavrov: skipped: edited since its last import on " in stdout
    assert " by admin (description differs from the file); use --force to overwrite." in stdout
    assert Actor.objects.get().description == "Russia's foreign minister"
    assert len(versions(actor)) == count


def test_import_context_force_overwrites_and_history_restores_either_version(
    library_path, admin_client
):
    actor = Actor.objects.get()
    edit_in_admin(admin_client, actor, description="Russia's foreign minister")
    editors = versions(actor)[0]

    stdout, _ = import_context_force(library_path)

    assert "0 created, 1 updated, 0 unchanged." in stdout
    assert "sergei-lavrov: overwrote an editor's changes (description)" in stdout
    assert Actor.objects.get().description == LAVROV["description"]
    history = admin_client.get(history_url(actor))
    assertContains(history, "Imported from library.json by import_context --force")
    revisions = [action["revision"] for action in history.context["action_list"]]
    assert [revision.user and revision.user.username for revision in revisions] == [
        None,
        "admin",
        None,
    ]
    restore(admin_client, actor, editors)
    assert Actor.objects.get().description == "Russia's foreign minister"
    assert Actor.objects.get().roles.get().title == "Foreign Minister"
    assert "1 skipped" in import_context(library_path)[0]


def test_import_context_skipped_note_keeps_its_relations(tmp_path, admin_client):
    notes = [
        {"slug": "hanoi", "title": "Hanoi summit", "kind": "event", "description": "Summit"},
        {"slug": "singapore", "title": "Singapore summit", "kind": "event", "description": "S"},
    ]
    path = write_json(tmp_path, {"notes": notes})
    import_context(path)
    hanoi = BackgroundNote.objects.get(slug="hanoi")
    edit_in_admin(admin_client, hanoi, description="The second Trump-Kim summit")
    notes[1]["related"] = ["hanoi"]
    path = write_json(tmp_path, {"notes": notes})

    stdout, _ = import_context(path)

    assert "0 created, 0 updated, 1 unchanged, 1 skipped." in stdout
    hanoi.refresh_from_db()
    assert list(hanoi.related_notes.all()) == []


def test_load_demo_again_leaves_an_entry_an_editor_changed(demo, admin_client):
    actor = Actor.objects.get(slug="ri-yong-ho")
    edit_in_admin(admin_client, actor, description="Former foreign minister")
    exported = export()
    stdout = io.StringIO()

    call_command("load_demo", stdout=stdout)

    assert "0 entries created, 0 updated, 48 unchanged, 1 skipped." in stdout.getvalue()
    assert "ri-yong-ho: skipped: edited since its last import" in stdout.getvalue()
    assert export() == exported
    assert json.loads(export())["actors"]


def test_import_context_force_keeps_an_entry_edited_outside_the_admin_in_history(library_path):
    Actor.objects.update(description="Typed in a shell")
    actor = Actor.objects.get()

    stdout, _ = import_context_force(library_path)

    comments = [version.revision.get_comment() for version in versions(actor)]
    assert comments == [
        "Imported from library.json by import_context --force",
        "As an editor left it, before a forced import replaced it",
        "Imported from library.json by import_context",
    ]
    assert versions(actor)[1].field_dict["description"] == "Typed in a shell"
    assert Actor.objects.get().description == LAVROV["description"]


def test_import_context_relation_to_a_note_outside_the_file_leaves_that_note_unedited(tmp_path):
    hanoi = {"slug": "hanoi", "title": "Hanoi summit", "kind": "event", "description": "Summit"}
    talks = {"slug": "talks", "title": "Nuclear talks", "kind": "process", "description": "Talks"}
    both = write_json(tmp_path, {"notes": [hanoi, talks]}, name="both.json")
    import_context(both)
    linked = write_json(tmp_path, {"notes": [{**hanoi, "related": ["talks"]}]}, name="one.json")
    import_context(linked)
    assert [note.slug for note in BackgroundNote.objects.get(slug="talks").related_notes.all()] == [
        "hanoi"
    ]

    stdout, _ = import_context(both)

    # "talks" changed only because the importer linked it: it is not an editor's work.
    assert "0 created, 2 updated, 0 unchanged." in stdout
    assert not BackgroundNote.objects.get(slug="talks").related_notes.exists()


def test_record_digest_ignores_key_order_and_sees_every_value():
    record = {"headline": "Lavrov visits Pyongyang", "dek": "", "figures": [{"caption": "Lavrov"}]}

    same = record_digest(dict(reversed(record.items())))
    other = record_digest({**record, "figures": [{"caption": "Lavrov."}]})

    assert same == record_digest(record)
    assert other != record_digest(record)

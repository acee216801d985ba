"""The newsroom dashboard, the admin's first screen, seen through the admin client."""

import datetime as dt
import re

import pytest
import reversion
from django.contrib.auth import get_user_model
from django.utils import timezone

from explainer.dashboard import months_before
from explainer.models import Article, Mention, PendingRelink, RelinkJob
from tests.factories import make_actor, make_article, make_note

pytestmark = pytest.mark.django_db

INDEX = "/admin/"


def section(response, section_id: str) -> str:
    """The HTML of one dashboard queue (``<div id=...>`` up to the next queue)."""
    page = response.content.decode()
    match = re.search(rf'<div class="newsroom__queue" id="{section_id}">(.*?)</div>', page, re.S)
    assert match, f"no {section_id} on the dashboard"
    return match.group(1)


def saved_by(user, **fields) -> Article:
    with reversion.create_revision():
        article = make_article(**fields)
        reversion.set_user(user)
    return article


def test_story_queues_show_the_right_stories_for_the_right_editor(admin_client, admin_user):
    colleague = get_user_model().objects.create_user("colleague", is_staff=True)
    saved_by(admin_user, headline="My own draft", published=False)
    saved_by(colleague, headline="A colleague's draft", published=False)
    make_article(headline="Waiting for an editor", published=False, status=Article.Status.REVIEW)
    tomorrow = timezone.now() + dt.timedelta(days=1)
    make_article(headline="Goes out tomorrow", published_at=tomorrow)
    make_article(headline="Out already")

    response = admin_client.get(INDEX)

    drafts = section(response, "my-drafts")
    assert "My own draft" in drafts and "A colleague's draft" not in drafts
    assert "Waiting for an editor" in section(response, "in-review")
    assert "Goes out tomorrow" in section(response, "scheduled")
    assert "Goes out tomorrow" not in section(response, "recently-published")
    assert "Out already" in section(response, "recently-published")
    mine = Article.objects.get(headline="My own draft")
    assert f'href="/admin/explainer/article/{mine.pk}/change/"' in drafts


def test_entries_due_for_review_are_the_unreviewed_and_the_stale(admin_client, settings):
    settings.EXPLAINER_REVIEW_DUE_MONTHS = 6
    today = timezone.localdate()
    never = make_actor(name="Never Checked")
    make_actor(name="Checked Lately", reviewed_on=today - dt.timedelta(days=30))
    make_note(title="Checked Long Ago", reviewed_on=today - dt.timedelta(days=400))

    due = section(admin_client.get(INDEX), "due-for-review")

    assert "Never Checked" in due and "never reviewed" in due
    assert "Checked Long Ago" in due
    assert "Checked Lately" not in due
    assert f"/admin/explainer/actor/{never.pk}/change/" in due
    assert "in 6 months" in due


def test_review_months_is_a_setting(admin_client, settings):
    make_actor(name="Checked Lately", reviewed_on=timezone.localdate() - dt.timedelta(days=40))
    settings.EXPLAINER_REVIEW_DUE_MONTHS = 1

    assert "Checked Lately" in section(admin_client.get(INDEX), "due-for-review")


def test_months_before_keeps_the_day_or_the_months_last():
    assert months_before(dt.date(2026, 8, 31), 6) == dt.date(2026, 2, 28)
    assert months_before(dt.date(2026, 3, 15), 6) == dt.date(2025, 9, 15)


def test_uncovered_names_are_counted_across_stories(admin_client):
    make_actor(name="Kim Jong-un")
    for _ in range(3):
        make_article(body="<p>Kim Jong-un met Sergei Lavrov in Pyongyang on Monday.</p>")
    make_article(body="<p>Officials say Sergei Lavrov and Vladimir Putin met again.</p>")

    names = section(admin_client.get(INDEX), "uncovered-names")

    assert 'Sergei Lavrov <span class="newsroom__meta">(4 stories)' in names
    assert 'Vladimir Putin <span class="newsroom__meta">(1 story)' in names
    assert "Kim Jong-un" not in names
    assert "/admin/explainer/actor/add/?name=Sergei%20Lavrov" in names


def test_ambiguous_and_orphaned_mentions_need_a_decision(admin_client):
    make_actor(name="Kim Il", aliases=("General Kim",))
    make_actor(name="Kim Chol", aliases=("General Kim",))
    unclear = make_article(headline="Who is the general", body="<p>General Kim spoke.</p>")
    clear = make_article(headline="Quiet story", body="<p>Nothing to see here.</p>")
    gone = Mention.objects.create(
        article=clear, actor=make_actor(name="Ri Yong-ho"), quote="Ri", origin="editor"
    )
    Mention.objects.filter(pk=gone.pk).update(is_orphaned=True)

    response = admin_client.get(INDEX)

    ambiguous = section(response, "ambiguous-mentions")
    assert "Who is the general" in ambiguous and "General Kim" in ambiguous
    assert f"/admin/explainer/article/{unclear.pk}/change/" in ambiguous
    assert "Quiet story" not in ambiguous
    orphaned = section(response, "orphaned-mentions")
    assert "Quiet story" in orphaned and "“Ri” → Ri Yong-ho" in orphaned


def test_pending_relinking_is_listed_with_its_progress(admin_client):
    story = make_article()
    running = RelinkJob.objects.create(
        reason="Alias added: Rocket Man", status=RelinkJob.Status.RUNNING, total=2
    )
    PendingRelink.objects.create(job=running, article=story)
    RelinkJob.objects.create(reason="Long finished", status=RelinkJob.Status.DONE, total=1)

    jobs = section(admin_client.get(INDEX), "pending-jobs")

    assert "Alias added: Rocket Man" in jobs and "Relinking 2 stories: 1 done." in jobs
    assert f"/admin/explainer/relinkjob/{running.pk}/change/" in jobs
    assert "Long finished" not in jobs


def test_model_list_has_our_models_first_and_no_child_models(admin_client):
    page = admin_client.get(INDEX).content.decode()

    models_part = page[page.index("Everything") :]
    assert models_part.index("/admin/explainer/article/") < models_part.index("/admin/auth/")
    assert models_part.index("/admin/explainer/article/") < models_part.index("/admin/axes/")
    assert page.index("newsroom-stories") < page.index("/admin/auth/")
    for child in ("alias", "mention", "source", "figure"):
        assert f"/admin/explainer/{child}/" not in page
    # Hidden from the menu, the lists themselves still open.
    assert admin_client.get("/admin/explainer/alias/").status_code == 200
    assert (
        admin_client.get("/admin/explainer/").content.decode().count("/admin/explainer/alias/") == 0
    )


def test_address_taken_error_links_to_the_entry_that_has_it(admin_client):
    owner = make_actor(name="Kim <Jong-un>", slug="kim")
    from tests.test_admin import actor_form

    data = actor_form(admin_client, name="Kim Jong-il", slug="kim")
    page = admin_client.post("/admin/explainer/actor/add/", data).content.decode()

    assert (
        f'“<a href="/admin/explainer/actor/{owner.pk}/change/">Kim &lt;Jong-un&gt;</a>” '
        "already uses the address kim." in page
    )


@pytest.mark.parametrize("stories", [2, 12])
def test_dashboard_query_count_does_not_grow_with_stories(
    admin_client, admin_user, django_assert_max_num_queries, stories
):
    make_actor(name="Kim Jong-un")
    for number in range(stories):
        saved_by(
            admin_user, published=number % 2 == 0, body="<p>Kim Jong-un met Sergei Lavrov.</p>"
        )
        make_actor(name=f"Entry {number}")
        story = make_article(status=Article.Status.REVIEW, published=False)
        Mention.objects.filter(
            pk=Mention.objects.create(
                article=story, actor=make_actor(), quote="gone", origin="editor"
            ).pk
        ).update(is_orphaned=True)
        job = RelinkJob.objects.create(reason=f"Job {number}", total=1)
        PendingRelink.objects.create(job=job, article=story)
    admin_client.get(INDEX)  # the library is built once per process

    with django_assert_max_num_queries(20):
        response = admin_client.get(INDEX)

    assert response.status_code == 200

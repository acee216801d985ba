"""The story page stored by relinking: a page not in the cache is one row and no template,
the same page the full render gives, fresh after every edit, on every host."""

import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import clear_script_prefix, set_script_prefix

from explainer.addresses import paths_resolved_once
from explainer.excerpts import split_after_first_paragraph
from explainer.models import Actor, Article, Figure, RelinkJob
from explainer.relinking import relink_stories
from explainer.scheduling import batched

from .factories import make_actor, make_article, make_note

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_disabled(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def story_with_mentions(count: int) -> Article:
    """A story mentioning five actors and a note, ``count`` times in all."""
    names = [make_actor(name=f"Minister {letter}").name for letter in "ABCDE"]
    note = make_note(title="Hanoi summit", starts_on="2019-02-27")
    names.append(note.title)
    sentences = " ".join(f"{names[index % len(names)]} spoke." for index in range(count))
    article = make_article(body=f"<p>{sentences}</p>")
    assert article.mentions.count() == count
    return article


def page_is_stored(article: Article) -> bool:
    article.refresh_from_db()
    return bool(article.page_html) and article.page_rendered_at == article.rendered_at


@pytest.mark.parametrize("mentions", [10, 300])
def test_cold_story_page_costs_one_query_whatever_its_mentions(
    client, cache_disabled, django_assert_max_num_queries, mentions
):
    article = story_with_mentions(mentions)

    with django_assert_max_num_queries(1):
        response = client.get(article.get_absolute_url())

    assert response.status_code == 200
    assert "Minister E" in response.content.decode()
    assert "Hanoi summit" in response.content.decode()


def test_stored_page_is_the_page_rendered_in_full(client, cache_disabled, demo):
    assert page_is_stored(demo)
    stored = client.get(demo.get_absolute_url()).content.decode()
    # As for a story not relinked since its page was stored.
    Article.objects.filter(pk=demo.pk).update(page_rendered_at=None)

    full = client.get(demo.get_absolute_url()).content.decode()

    assert stored == full
    # The demo's captions without pictures follow its first paragraph.
    lede, rest = split_after_first_paragraph(demo.linked_body_html)
    assert lede in stored
    assert rest in stored
    assert stored.index(lede) < stored.index("figure--caption-only") < stored.index(rest)
    assert "origin.explainer.invalid" not in stored
    assert f'<link rel="canonical" href="http://testserver{demo.get_absolute_url()}">' in stored
    assert '<h2 id="in-this-story-title">In this story</h2>' in stored
    assert '<span id="mention-desc-ri-yong-ho">' in stored
    assert '<h2 id="how-we-got-here-title">How we got here</h2>' in stored


def test_story_page_describes_itself_by_its_dek_or_its_opening_words(client, cache_disabled):
    # Search results and shared links show the description: the dek, or without one the
    # story's first 200 characters, the same in both tags, on the stored page and in full.
    opening = "Kim Jong-un arrived in Vladivostok on Wednesday. " * 10
    with_dek = make_article(dek="Kim meets Putin <for the first time>", body="<p>Text.</p>")
    without = make_article(body=f"<p>{opening}</p>")

    pages = [client.get(story.get_absolute_url()).content.decode() for story in (with_dek, without)]
    # As after a deploy: the stored page is not served, and the page is rendered in full.
    Article.objects.filter(pk=without.pk).update(page_format="an earlier deploy", page_html="")
    in_full = client.get(without.get_absolute_url()).content.decode()

    cut = opening[:199] + "…"
    assert pages[0].count('content="Kim meets Putin &lt;for the first time&gt;"') == 2
    assert pages[1].count(f'content="{cut}"') == 2
    assert in_full.count(f'content="{cut}"') == 2


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL's text refuses NUL")
def test_stored_page_is_whole_when_the_story_holds_the_frames_break(client, cache_disabled):
    # Only the story's blocks are rendered into a frame rendered once, cut at a character
    # no story should hold (saving strips it); one that does is rendered in full.
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    Article.objects.filter(pk=article.pk).update(headline="Ri Yong-ho\x00 speaks")
    relink_stories([article.pk])
    assert page_is_stored(article)
    stored = client.get(article.get_absolute_url()).content.decode()
    Article.objects.filter(pk=article.pk).update(page_rendered_at=None)

    full = client.get(article.get_absolute_url()).content.decode()

    assert stored == full
    assert stored.count("<html") == 1
    assert "<title>Ri Yong-ho\x00 speaks · Explainer</title>" in stored


def test_entry_description_edit_shows_on_the_cold_page(
    client, cache_disabled, demo, django_assert_max_num_queries
):
    ri = Actor.objects.get(slug="ri-yong-ho")
    ri.description = "Chief diplomat of North Korea"

    ri.save()  # its relink job runs at once in tests

    assert page_is_stored(demo)
    with django_assert_max_num_queries(1):
        html = client.get(demo.get_absolute_url()).content.decode()
    assert '<span id="mention-desc-ri-yong-ho">Chief diplomat of North Korea</span>' in html


def test_figure_caption_edit_shows_on_the_cold_page(client, cache_disabled):
    article = make_article()
    figure = Figure.objects.create(article=article, caption="Kim arrives by train.")
    figure.caption = "Kim arrives in Vladivostok by armoured train."

    figure.save()

    assert page_is_stored(article)
    html = client.get(article.get_absolute_url()).content.decode()
    assert "Kim arrives in Vladivostok by armoured train." in html


def test_figure_caption_edit_shows_before_its_relink(client):
    article = make_article()
    figure = Figure.objects.create(article=article, caption="Kim arrives by train.")
    client.get(article.get_absolute_url())  # cached

    with batched():  # the relink waits for the end of the block
        figure.caption = "Kim arrives in Vladivostok by armoured train."
        figure.save()
        html = client.get(article.get_absolute_url()).content.decode()

    assert "Kim arrives in Vladivostok by armoured train." in html
    assert page_is_stored(article)


def test_deleting_a_story_with_figures_leaves_no_relink_job_for_it():
    article = make_article()
    Figure.objects.create(article=article, caption="Kim arrives by train.")
    pk = article.pk

    article.delete()

    # A job made while the story was being deleted would point at a row that is gone.
    assert not RelinkJob.objects.filter(article_id=pk).exists()


def test_stored_page_does_not_keep_the_host_that_first_asked(client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    article = make_article()
    evil = client.get(article.get_absolute_url(), headers={"Host": "evil.example"})
    assert "http://evil.example/" in evil.content.decode()
    cache.clear()

    html = client.get(article.get_absolute_url()).content.decode()

    assert "evil.example" not in html
    assert f'<link rel="canonical" href="http://testserver{article.get_absolute_url()}">' in html
    article.refresh_from_db()
    assert "evil.example" not in article.page_html


def test_cached_page_is_kept_per_host(client, settings):
    settings.ALLOWED_HOSTS = ["testserver", "evil.example"]
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    client.get(article.get_absolute_url(), headers={"Host": "evil.example"})

    html = client.get(article.get_absolute_url()).content.decode()

    assert "evil.example" not in html
    block = html.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    data = json.loads(block)
    assert data["url"] == f"http://testserver{article.get_absolute_url()}"
    assert data["mentions"][0]["url"].startswith("http://testserver/actors/")


def test_page_stored_by_another_deploy_is_not_served(client, cache_disabled, demo):
    fresh = client.get(demo.get_absolute_url()).content.decode()
    # As after a deploy that changed the page's template: the stored page says otherwise.
    Article.objects.filter(pk=demo.pk).update(
        page_format="an earlier deploy", page_html="<p>Old design</p>"
    )

    html = client.get(demo.get_absolute_url()).content.decode()

    assert html == fresh


def test_warm_story_page_costs_one_query_and_is_checked_against_the_story(
    client, django_assert_max_num_queries
):
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")
    client.get(article.get_absolute_url())

    with django_assert_max_num_queries(1):
        warm = client.get(article.get_absolute_url())
    article.status = Article.Status.DRAFT
    article.save()
    unpublished = client.get(article.get_absolute_url())

    assert warm.status_code == 200 and "Ri Yong-ho</a>" in warm.content.decode()
    assert unpublished.status_code == 404


def test_page_paths_follow_the_script_prefix_the_site_is_mounted_under():
    # Paths are remembered per slug (addresses.page_path); a site mounted under a prefix
    # must still get its own.
    actor = make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    story = make_article(slug="a-story")
    assert actor.get_absolute_url() == "/actors/ri-yong-ho/"

    set_script_prefix("/news/")
    try:
        assert actor.get_absolute_url() == "/news/actors/ri-yong-ho/"
        assert story.get_absolute_url() == "/news/stories/a-story/"
    finally:
        clear_script_prefix()

    assert actor.get_absolute_url() == "/actors/ri-yong-ho/"


def test_page_paths_resolved_once_for_a_page_follow_the_prefix_it_is_rendered_under():
    # Rendering a page reads the URL configuration and prefix once for all its paths
    # (addresses.paths_resolved_once), not once for the whole process.
    actor = make_actor(name="Ri Yong-ho", slug="ri-yong-ho")
    with paths_resolved_once():
        at_root = actor.get_absolute_url()

    set_script_prefix("/news/")
    try:
        with paths_resolved_once():
            under_prefix = actor.get_absolute_url()
            with paths_resolved_once():
                nested = actor.get_absolute_url()
        after_block = actor.get_absolute_url()
    finally:
        clear_script_prefix()

    assert at_root == "/actors/ri-yong-ho/"
    assert under_prefix == nested == after_block == "/news/actors/ri-yong-ho/"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared statements")
@pytest.mark.parametrize("prepared", [True, False])
def test_story_page_query_is_a_prepared_statement_unless_told_not(
    client, cache_disabled, settings, prepared
):
    # Planning the query took three times as long as running it. A pooler that cannot
    # keep prepared statements is told by DATABASE_PREPARED_STATEMENTS.
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    make_actor(name="Ri Yong-ho")
    article = make_article(body="<p>Ri Yong-ho spoke.</p>")

    pages, queries = [], []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            pages.append(client.get(article.get_absolute_url()))
        queries += [query["sql"] for query in captured]

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE name = 'explainer_published_story'"
        )
        statements = cursor.fetchone()[0]
    assert len(queries) == 3
    if prepared:
        assert statements == 1
        assert all("EXECUTE explainer_published_story(" in sql for sql in queries)
        assert queries[1].startswith("EXECUTE ")
    else:
        assert all(sql.startswith("SELECT id, rendered_at") for sql in queries)
    assert [page.status_code for page in pages] == [200, 200, 200]
    assert all("Ri Yong-ho</a>" in page.content.decode() for page in pages)
    assert client.get("/stories/no-such-story/").status_code == 404

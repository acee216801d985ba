"""Caching: the story's parts under a versioned key, validators, health checks, real Redis."""

import os
import socket

import pytest
from django.db import OperationalError
from pytest_django.asserts import assertContains

from explainer import views
from explainer.models import Actor, Alias

from .factories import make_actor, make_article

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def redis_is_reachable() -> bool:
    host, port = REDIS_URL.split("//", 1)[1].split("/", 1)[0].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_cache(settings):
    """The real Redis at REDIS_URL (default 127.0.0.1:6379, database 15). CI has it; elsewhere
    the tests skip when nothing listens there."""
    if not redis_is_reachable():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but no Redis at {REDIS_URL}")
        pytest.skip(f"no Redis at {REDIS_URL}")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "explainer-tests",
        }
    }
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


def test_warm_story_page_costs_one_query(client, demo, django_assert_num_queries):
    client.get(demo.get_absolute_url())

    with django_assert_num_queries(1):
        response = client.get(demo.get_absolute_url())

    assertContains(response, "In this story")


def story_after_entry_edit(client, article) -> str:
    client.get(article.get_absolute_url())  # warm the cache
    ri = Actor.objects.get(slug="ri-yong-ho")
    ri.description = "Chief diplomat of North Korea"
    ri.save()
    return client.get(article.get_absolute_url()).content.decode()


def story_after_new_alias(client, article) -> str:
    client.get(article.get_absolute_url())
    vietnam = Actor.objects.create(
        name="Vietnam", slug="vietnam", kind="place", description="Country in South-East Asia"
    )
    Alias.objects.create(actor=vietnam, text="Vietnam")
    return client.get(article.get_absolute_url()).content.decode()


def test_editing_a_mentioned_entry_refreshes_the_cached_story(client, demo):
    html = story_after_entry_edit(client, demo)

    assert "Chief diplomat of North Korea" in html


def test_editing_an_unrelated_entry_keeps_the_cached_story(client, demo):
    client.get(demo.get_absolute_url())
    demo.refresh_from_db()
    rendered_at = demo.rendered_at

    make_actor(name="Somebody Unrelated")

    demo.refresh_from_db()
    assert demo.rendered_at == rendered_at


def test_story_answers_304_to_its_etag(client, demo):
    first = client.get(demo.get_absolute_url())

    repeat = client.get(demo.get_absolute_url(), headers={"If-None-Match": first.headers["ETag"]})

    assert repeat.status_code == 304


def test_story_etag_changes_with_the_page_and_not_otherwise(client, demo):
    first = client.get(demo.get_absolute_url())
    again = client.get(demo.get_absolute_url())
    assert again.headers["ETag"] == first.headers["ETag"]

    ri = Actor.objects.get(slug="ri-yong-ho")
    ri.description = "Chief diplomat of North Korea"
    ri.save()
    edited = client.get(demo.get_absolute_url(), headers={"If-None-Match": first.headers["ETag"]})

    assert edited.status_code == 200
    assert edited.headers["ETag"] != first.headers["ETag"]
    assertContains(edited, "Chief diplomat of North Korea")


def test_story_etag_differs_by_origin(client, demo, settings):
    settings.ALLOWED_HOSTS = ["testserver", "mirror.example"]
    here = client.get(demo.get_absolute_url())
    there = client.get(demo.get_absolute_url(), headers={"Host": "mirror.example"})

    assert "http://mirror.example/" in there.content.decode()
    assert there.headers["ETag"] != here.headers["ETag"]


def test_redis_cache_serves_and_invalidates_story_parts(client, demo, redis_cache):
    client.get(demo.get_absolute_url())
    keys = redis_cache._cache.get_client().keys("explainer-tests:*story-page*")
    assert len(keys) == 1

    html = story_after_entry_edit(client, demo)

    assert "Chief diplomat of North Korea" in html
    # Replaced in place: one page per story and host, whatever its number of versions.
    assert redis_cache._cache.get_client().keys("explainer-tests:*story-page*") == keys


def test_redis_cache_new_alias_lights_up_cached_story(client, demo, redis_cache):
    html = story_after_new_alias(client, demo)

    assert 'data-entry="vietnam" aria-describedby="mention-desc-vietnam">Vietnam' in html


def test_healthz_reports_database_and_cache(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "cache": True}}
    assert "no-cache" in response.headers["Cache-Control"]


def test_healthz_is_503_when_the_database_is_down(client, monkeypatch):
    class BrokenConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(views, "connection", BrokenConnection())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "cache": True}


def test_healthz_is_503_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        }
    }

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "cache": False}


def test_robots_txt_keeps_crawlers_out_of_the_admin(client):
    response = client.get("/robots.txt")

    assert response.content == (
        b"User-agent: *\nDisallow: /admin/\nSitemap: http://testserver/sitemap.xml\n"
    )
    assert response["Content-Type"].startswith("text/plain")


def test_story_page_with_a_cache_miss_stays_within_its_budget(client, django_assert_num_queries):
    article = make_article(body="<p>Nothing.</p>")

    # The story's version and, with it, the page relinking stored.
    with django_assert_num_queries(1):
        client.get(article.get_absolute_url())

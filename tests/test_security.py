"""Security: content security policy, production headers, CSRF everywhere, log-in lock-out."""

import json
import os
import re
import secrets
import subprocess
import sys

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from .conftest import PROJECT_DIR

pytestmark = pytest.mark.django_db

READER_POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "font-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def parse_policy(header: str) -> dict[str, str]:
    directives = (part.strip() for part in header.split(";") if part.strip())
    return {
        name: value for name, _, value in (directive.partition(" ") for directive in directives)
    }


@pytest.mark.parametrize("path", ["/", "STORY", "/actors/kim-jong-un/", "/no-such-page/"])
def test_reader_pages_run_under_the_strict_policy(client, demo, path):
    url = demo.get_absolute_url() if path == "STORY" else path

    response = client.get(url)

    assert parse_policy(response.headers["Content-Security-Policy"]) == READER_POLICY


def test_card_partial_runs_under_the_strict_policy(client, demo):
    response = client.get("/actors/kim-jong-un/", headers={"HX-Request": "true"})

    assert parse_policy(response.headers["Content-Security-Policy"]) == READER_POLICY


def test_admin_has_its_own_policy_still_without_foreign_scripts(admin_client):
    response = admin_client.get("/admin/explainer/article/")

    policy = parse_policy(response.headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"


def test_reader_pages_carry_no_inline_script_or_style(client, demo):
    for url in ["/", demo.get_absolute_url(), "/actors/kim-jong-un/", "/background/hanoi-summit/"]:
        html = client.get(url).content.decode()

        assert " style=" not in html
        assert "<style" not in html
        for tag in html.split("<script")[1:]:
            attributes = tag.split(">", 1)[0]
            # Only external scripts, or JSON-LD data blocks, which browsers never run.
            assert " src=" in attributes or attributes == ' type="application/ld+json"'
        for tag in re.findall(r"<[a-z][^>]*>", html):
            assert not re.search(r"\son[a-z]+=", tag)


def test_public_pages_are_cacheable_and_staff_pages_private(client, admin_client, demo):
    public = client.get(demo.get_absolute_url())
    staff = admin_client.get("/admin/explainer/article/")

    assert "public" in public.headers["Cache-Control"]
    assert "private" in staff.headers["Cache-Control"]


URL_SAMPLES = {"slug": "kim-jong-un", "app_label": "explainer", "url": "x", "path": "x"}


def concrete(route: str) -> str:
    """Fill a route's parameters, path-converter or regex style, with sample values."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: URL_SAMPLES.get(m.group(1), "1"), route)
    route = re.sub(r"\((?!\?)[^)]*\)", "1", route)  # unnamed regex groups
    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: URL_SAMPLES.get(m.group(1), "1"), route)
    return route.replace("^", "").replace("$", "").replace("\\Z", "").replace("\\", "")


def all_urls(resolver=None, prefix="") -> list[str]:
    """A concrete URL for every pattern in the URLconf, admin included."""
    urls = []
    for pattern in (resolver or get_resolver()).url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            urls += all_urls(pattern, route)
        elif isinstance(pattern, URLPattern):
            urls.append("/" + concrete(route))
    return urls


def test_every_endpoint_refuses_post_without_a_csrf_token(admin_user, demo):
    anonymous = Client(enforce_csrf_checks=True)
    staff = Client(enforce_csrf_checks=True)
    staff.force_login(admin_user)
    urls = all_urls()
    assert "/admin/explainer/actor/add/" in urls
    assert "/stories/kim-jong-un/" in urls
    assert "/admin/explainer/article/1/change/" in urls
    assert not [url for url in urls if "<" in url or "(" in url]

    accepted = []
    for url in urls:
        for client in (anonymous, staff):
            response = client.post(url, {"name": "x", "headline": "x", "body": "x"})
            if response.status_code < 400 or response.status_code >= 500:
                accepted.append((url, response.status_code))

    assert accepted == []


def test_admin_login_locks_out_after_repeated_failures(client, admin_user):
    for _ in range(5):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"})

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "password"}
    )

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_admin_login_works_before_the_limit(client, admin_user):
    client.post("/admin/login/", {"username": "admin", "password": "wrong"})

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "password"}
    )

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(admin_user.pk)


def production_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "news.example.com",
        "DJANGO_HTTPS": "true",
    }


def test_deploy_checks_pass_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT_DIR,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr


PRODUCTION_PROBE = """
import json, django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
from django.db import connection
from django.core.management import call_command
call_command("migrate", verbosity=0)
client = Client(HTTP_HOST="news.example.com")
plain = client.get("/robots.txt")
secure = client.get("/robots.txt", secure=True)
health = client.get("/healthz")
print(json.dumps({
    "plain_status": plain.status_code,
    "plain_location": plain.headers.get("Location", ""),
    "headers": dict(secure.headers),
    "health_status": health.status_code,
}))
"""


def test_production_settings_send_security_headers(tmp_path):
    env = {**production_env(), "DATABASE_URL": f"sqlite:///{tmp_path / 'probe.sqlite3'}"}

    result = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE],
        cwd=PROJECT_DIR,
        env={**env, "DJANGO_SETTINGS_MODULE": "explainer.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://news.example.com/robots.txt"
    assert probe["health_status"] == 200  # load balancers probe over plain http
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {**production_env(), "DJANGO_SECRET_KEY": ""}

    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr

"""Security: content security policy, production headers and their HTTP Observatory grade,
CSRF everywhere, log-in lock-out."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from . import observatory
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


def run_production_probe(source: str, database_dir: Path, *args: str) -> dict:
    """Run a script under production settings, on its own SQLite file; the JSON it prints
    last."""
    env = {
        **production_env(),
        "DATABASE_URL": f"sqlite:///{database_dir / 'probe.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "explainer.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", source, *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_send_security_headers(tmp_path):
    probe = run_production_probe(PRODUCTION_PROBE, tmp_path)

    headers = probe["headers"]
    assert probe["plain_status"] == 301
    assert probe["plain_location"] == "https://news.example.com/robots.txt"
    assert probe["health_status"] == 200  # load balancers probe over plain http
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


# The demo story and the admin's log-in page as a scanner sees them: over http (where
# to?), then over https from another origin (what headers, what cookies, what HTML).
OBSERVATORY_PROBE = """
import io, json, sys, django
django.setup()
from django.core.management import call_command
from django.test import Client, override_settings
from django.test.utils import setup_test_environment
setup_test_environment()
call_command("migrate", verbosity=0)
call_command("load_demo", stdout=io.StringIO())
from explainer.models import Article
story = Article.objects.get().get_absolute_url()
# Production pages name static files from collectstatic's manifest.
with override_settings(STATIC_ROOT=sys.argv[1]):
    call_command("collectstatic", interactive=False, verbosity=0)
    pages = {}
    for name, path in [("story", story), ("admin log-in", "/admin/login/")]:
        client = Client(HTTP_HOST="news.example.com")
        plain = client.get(path)
        page = client.get(path, secure=True, headers={"Origin": sys.argv[2]})
        pages[name] = {
            "url": "https://news.example.com" + path,
            "status": page.status_code,
            "headers": dict(page.headers),
            "set_cookies": [morsel.OutputString() for morsel in page.cookies.values()],
            "html": page.content.decode(),
            "http_redirects_to": plain.headers.get("Location", ""),
        }
print(json.dumps(pages))
"""


@pytest.fixture(scope="module")
def scanned_pages(tmp_path_factory) -> dict[str, observatory.Page]:
    folder = tmp_path_factory.mktemp("observatory")
    pages = run_production_probe(
        OBSERVATORY_PROBE, folder, str(folder / "static"), observatory.CORS_ORIGIN
    )
    assert {page["status"] for page in pages.values()} == {200}
    return {
        name: observatory.Page(**{key: value for key, value in page.items() if key != "status"})
        for name, page in pages.items()
    }


def test_story_page_scores_a_plus_on_the_http_observatory(scanned_pages):
    page = scanned_pages["story"]

    result = observatory.scan(page)

    assert result.score >= 100, result.report()
    assert result.grade == "A+"
    assert result.results["content-security-policy"] == (
        "csp-implemented-with-no-unsafe-default-src-none"
    )
    assert result.csp == {
        "anti_clickjacking": True,
        "insecure_base_uri": False,
        "insecure_form_action": False,
        "unsafe_objects": False,
    }
    assert result.results["x-frame-options"] == "x-frame-options-implemented-via-csp"
    assert result.results["referrer-policy"] == "referrer-policy-private"
    assert result.results["cross-origin-resource-policy"] == "corp-implemented-with-same-origin"
    assert result.results["redirection"] == "redirection-to-https"
    assert result.results["cookies"] == "cookies-not-found"  # a page shared caches keep
    # What the HSTS preload list asks of the header (the list's +5 comes once listed).
    assert result.hsts == {"max_age": 31_536_000, "include_subdomains": True, "preload": True}
    assert page.headers["Permissions-Policy"] == "camera=(), microphone=(), geolocation=()"


def test_admin_log_in_page_scores_a_plus_with_its_cookies_locked_down(scanned_pages):
    page = scanned_pages["admin log-in"]

    result = observatory.scan(page)

    assert result.score >= 100, result.report()
    assert result.grade == "A+"
    assert [cookie.split("=")[0] for cookie in page.set_cookies] == ["csrftoken"]
    assert result.results["cookies"] == "cookies-secure-with-httponly-sessions-and-samesite"
    assert "Permissions-Policy" in page.headers


def test_observatory_scoring_grades_weak_pages_down():
    bare = observatory.Page(
        url="https://news.example.com/",
        headers={"Content-Type": "text/html; charset=utf-8"},
        set_cookies=["sessionid=abc; Path=/"],
        html='<script src="http://cdn.example.net/app.js"></script>',
    )
    unsafe = observatory.Page(
        url="https://news.example.com/",
        headers={
            "Content-Security-Policy": "default-src 'self'; script-src 'self' 'unsafe-inline'",
            "Strict-Transport-Security": "max-age=86400",
            "Referrer-Policy": "unsafe-url",
        },
        http_redirects_to="https://news.example.com/",
    )

    bare_result, unsafe_result = observatory.scan(bare), observatory.scan(unsafe)

    # 100 - 25 (CSP) - 40 (session cookie) - 20 (no redirect) - 20 (HSTS) - 50 (script)
    # - 5 (nosniff) - 20 (framing), floored at 0.
    assert (bare_result.score, bare_result.grade) == (0, "F"), bare_result.report()
    # 100 - 20 (unsafe-inline) - 5 (referrer) - 10 (HSTS) - 5 (nosniff) - 20 (framing) = 40,
    # too low for the 10 points of CORP to count.
    assert (unsafe_result.score, unsafe_result.grade) == (40, "D+"), unsafe_result.report()


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

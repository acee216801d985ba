"""Where a request comes from and where the site is, as far as either can be trusted: the
site's origin (``DJANGO_SITE_URL``, not the request's Host) for the full URLs readers and
crawlers keep, and the client's address behind the configured proxies for the log-in
lock-out; and the paths of the site's pages by slug."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse

# Paths remembered by ``page_path``: a library's entries and the stories readers open.
PAGE_PATHS_REMEMBERED = 50_000


def site_origin(request) -> str:
    """The configured site origin, or when none is configured (development) the origin
    the request was made on; ``get_host()`` is checked against ALLOWED_HOSTS."""
    return settings.SITE_URL or f"{request.scheme}://{request.get_host()}"


def absolute_url(request, location: str) -> str:
    """``location``, a site path or already a full URL (media on a CDN), as a full URL."""
    if not settings.SITE_URL:
        return request.build_absolute_uri(location)
    return location if urlsplit(location).scheme else settings.SITE_URL + location


def site_url(path: str) -> str:
    """A site path as a full URL on the configured origin; without one, the path as it is,
    for a caller that adds the request's own (the feed, the sitemap)."""
    return settings.SITE_URL + path if settings.SITE_URL else path


def client_address(request) -> str | None:
    """The client's address, for django-axes (``AXES_CLIENT_IP_CALLABLE``). Each trusted
    proxy appends the address it saw connect to X-Forwarded-For, so with
    ``TRUSTED_PROXY_COUNT`` of them the client is that many entries from the right; the
    entries further left are whatever the client sent. A request that did not come
    through them all is known by its connecting address."""
    connecting = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return connecting
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < count:
        return connecting
    try:
        return str(ipaddress.ip_address(forwarded[-count]))
    except ValueError:
        return connecting


def page_path(view_name: str, slug: str) -> str:
    """The path of the page ``view_name`` serves for ``slug`` (a story, an actor, a note),
    as ``reverse`` gives it, remembered: relinking renders a story page with each entry's
    path several times (its links, its sidebar, its JSON-LD), thousands of pages a minute,
    and reversing was a tenth of that work. Remembered per URL configuration and script
    prefix, which are all ``reverse`` reads besides its arguments (read once for a whole
    ``paths_resolved_once`` block)."""
    where = _resolved_in_block.get() or _where_paths_resolve()
    return _page_path(view_name, slug, *where)


def _where_paths_resolve() -> tuple[str, str]:
    return get_urlconf() or settings.ROOT_URLCONF, get_script_prefix()


# The URL configuration and script prefix of the current ``paths_resolved_once`` block.
_resolved_in_block: ContextVar[tuple[str, str] | None] = ContextVar(
    "resolved_in_block", default=None
)


@contextmanager
def paths_resolved_once() -> Iterator[None]:
    """Inside the block, ``page_path`` reads the URL configuration and the script prefix
    once, not on each call. Both are thread- and task-local, slow to read (in a worker,
    which sets no URL configuration, 9 µs, against 0.2 µs for a remembered path), and
    relinking a story asks for its entries' paths about thirty times (its links, then its
    page's sidebar and JSON-LD): rendering a page went from 1.53 to 1.38 ms. A relink run
    (``relinking.relink_stories``) and a page rendered in full are blocks. Nothing run
    inside may change either."""
    token = _resolved_in_block.set(_where_paths_resolve())
    try:
        yield
    finally:
        _resolved_in_block.reset(token)


@functools.lru_cache(maxsize=PAGE_PATHS_REMEMBERED)
def _page_path(view_name: str, slug: str, urlconf: str, script_prefix: str) -> str:
    return reverse(view_name, urlconf=urlconf, kwargs={"slug": slug})

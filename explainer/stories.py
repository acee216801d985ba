"""Reading a story for its page: the "In this story" list and "How we got here" (three
queries in all); the whole page stored on the story by each relink, so a page not in the
cache is one row and no template; and the page cached, checked against ``rendered_at``."""

from __future__ import annotations

import functools
import hashlib
import json
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.db import InterfaceError, OperationalError, connection
from django.db.models import Q
from django.template import engines, loader
from django.template.backends.django import Template
from django.templatetags.static import static
from django.utils import timezone
from django.utils.text import Truncator

from .addresses import absolute_url, paths_resolved_once, site_origin
from .caching import guarded_cache
from .excerpts import split_after_first_paragraph
from .models import Article, BackgroundNote, Mention, NoteUpdate
from .relinking import article_preview
from .snapshots import timeline_rows
from .timeline import Timeline, story_timeline

T = TypeVar("T")

# "In this story" groups, in the order a reader meets them in the sidebar.
STORY_GROUPS = [
    ("person", "People"),
    ("organization", "Organizations"),
    ("country", "Countries"),
    ("place", "Places"),
    ("event", "Events"),
    ("process", "Talks and processes"),
    ("agreement", "Agreements"),
    ("topic", "Topics"),
]
PAGE_TIMEOUT = 60 * 60 * 24
# The picture a shared link shows when a story has no photo of its own (og:image).
SITE_IMAGE = "explainer/og-default.png"
SITE_IMAGE_ALT = "Explainer: the news, with the context you need"
# Only what the page shows of each entry: the sidebar lists many.
ENTRY_FIELDS = ["slug", "kind", "description"]


def entries_in_story(article: Article) -> list[tuple[str, list]]:
    """Every published actor and note the story mentions, grouped by kind, each group in
    reading order."""
    mentions = (
        Mention.objects.filter(article=article, is_suppressed=False, is_orphaned=False)
        .filter(Q(actor__is_published=True) | Q(note__is_published=True))
        .select_related("actor", "note")
        .only(
            "start",
            "is_suppressed",
            "actor_id",
            "note_id",
            *(f"actor__{field}" for field in [*ENTRY_FIELDS, "name", "wikidata_id"]),
            *(f"note__{field}" for field in [*ENTRY_FIELDS, "title", "starts_on", "ends_on"]),
            "note__context_json",
        )
        .order_by("start", "pk")
    )
    return group_entries(mentions)


def group_entries(mentions) -> list[tuple[str, list]]:
    seen: dict[str, object] = {}
    by_kind: dict[str, list] = {}
    for mention in mentions:
        if mention.is_suppressed:
            continue
        entry = mention.entry
        if entry.entry_key in seen:
            seen[entry.entry_key].mention_count += 1
            continue
        entry.mention_count = 1
        seen[entry.entry_key] = entry
        by_kind.setdefault(entry.kind, []).append(entry)
    return [(label, by_kind[kind]) for kind, label in STORY_GROUPS if kind in by_kind]


def how_we_got_here(article: Article, story_groups: list[tuple[str, list]]) -> Timeline:
    """From the mentioned notes' snapshots: no query of its own."""
    notes = [
        entry
        for _, entries in story_groups
        for entry in entries
        if isinstance(entry, BackgroundNote)
    ]
    if not notes or article.published_at is None:
        return Timeline(earlier=[], shown=[])
    mentioned = {note.slug for note in notes}
    related: dict[str, BackgroundNote] = {}
    updates: list[NoteUpdate] = []
    for note in notes:
        note_related, note_updates = timeline_rows(note)
        updates.extend(note_updates)
        for other in note_related:
            # Only what a reader can open: an unpublished note would be a dead link.
            if other.slug not in mentioned and other.starts_on and other.is_published:
                related.setdefault(other.slug, other)
    return story_timeline(
        mentioned=notes,
        related=list(related.values()),
        updates=updates,
        until=article.published_at.date(),
    )


SCHEMA_TYPES = {
    "person": "Person",
    "organization": "Organization",
    "country": "Country",
    "place": "Place",
    "event": "Event",
    "process": "Event",
    "agreement": "Event",
    "topic": "Thing",
}


def json_ld(article: Article, story_groups: list) -> dict:
    """schema.org NewsArticle: the entries most mentioned are what it is ``about``; every
    entry it mentions is in ``mentions``. URLs are site paths: ``with_full_urls`` makes
    them full for the page, so the data can be stored whatever host a reader asked."""
    entries = [entry for _, group in story_groups for entry in group]

    def thing(entry) -> dict:
        data = {
            "@type": SCHEMA_TYPES[entry.kind],
            "name": entry.label,
            "description": entry.description,
            "url": entry.get_absolute_url(),
        }
        if getattr(entry, "wikidata_id", ""):
            data["sameAs"] = entry.wikidata_url
        return data

    most_mentioned = sorted(entries, key=lambda entry: -entry.mention_count)[:3]
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.headline,
        "description": article.dek,
        "datePublished": article.published_at.isoformat() if article.published_at else None,
        "dateModified": article.updated_at.isoformat(),
        "url": article.get_absolute_url(),
        "mainEntityOfPage": article.get_absolute_url(),
        "about": [thing(entry) for entry in most_mentioned],
        "mentions": [thing(entry) for entry in entries],
    }
    if article.byline:
        data["author"] = {"@type": "Person", "name": article.byline}
    if article.outlet:
        data["publisher"] = {"@type": "Organization", "name": article.outlet}
    if article.original_url:
        data["isBasedOn"] = article.original_url
    return data


def with_full_urls(data: dict, *, absolute) -> dict:
    """``json_ld``'s data with its site paths made full URLs by ``absolute``."""

    def things(items: list[dict]) -> list[dict]:
        return [{**item, "url": absolute(item["url"])} for item in items]

    return {
        **data,
        "url": absolute(data["url"]),
        "mainEntityOfPage": absolute(data["mainEntityOfPage"]),
        "about": things(data["about"]),
        "mentions": things(data["mentions"]),
    }


PAGE_TEMPLATE = "explainer/article_detail.html"


def story_parts(article: Article, story_groups: list, figures: list | None = None) -> dict:
    """What the page shows of the story. Nothing in it depends on the request. A figure
    with no picture (a caption kept from the original) follows the first paragraph, so
    that on a phone it never stands between the headline and the lede."""
    figures = list(article.figures.all()) if figures is None else figures
    captions = [figure for figure in figures if not figure.image]
    lede_html, rest_html = "", article.linked_body_html
    if captions:
        lede_html, rest_html = split_after_first_paragraph(article.linked_body_html)
    return {
        "article": article,
        "figures": [figure for figure in figures if figure.image],
        "caption_figures": captions,
        "lede_html": lede_html,
        "rest_html": rest_html,
        "story_groups": story_groups,
        "timeline": how_we_got_here(article, story_groups),
    }


# How much of the story its page's description (search results, shared links) holds.
SUMMARY_CHARS = 200


def head_parts(article: Article, data: dict, *, absolute, figures: list) -> dict:
    """The page's head, with full URLs, and whether it loads the context cards
    (``mentions`` lists every entry in "In this story")."""
    return {
        "summary": Truncator(article.dek or article.body_text).chars(SUMMARY_CHARS),
        "canonical_url": absolute(article.get_absolute_url()),
        "json_ld": with_full_urls(data, absolute=absolute),
        "has_entries": bool(data["mentions"]),
        **social_image(figures, absolute=absolute),
    }


def social_image(figures: list, *, absolute) -> dict:
    """The story's first photo for og:image, or the site's own picture."""
    photo = next((figure for figure in figures if figure.image), None)
    if photo is None:
        return {"og_image": absolute(static(SITE_IMAGE)), "og_image_alt": SITE_IMAGE_ALT}
    url = photo.image.url
    # Media on a CDN are full URLs already.
    return {
        "og_image": url if urlsplit(url).scheme else absolute(url),
        "og_image_alt": photo.alt_text,
    }


def story_context(article: Article, *, absolute, preview: bool = False) -> dict:
    """Everything the story page shows, rendered from the story; ``absolute`` turns a path
    into a full URL. A staff preview links unpublished entries too, computed without
    writing anything."""
    if preview:
        result = article_preview(article)
        article.linked_body_html = result.linked_html
        story_groups = group_entries(result.mentions)
    else:
        story_groups = entries_in_story(article)
    parts = story_parts(article, story_groups)
    return {
        **parts,
        **head_parts(
            article,
            json_ld(article, story_groups),
            absolute=absolute,
            figures=parts["figures"],
        ),
    }


# What rendering the page in full never reads.
UNREAD_FIELDS = ["body", "match_text", "page_html"]
# Where the stored page has the origin a reader asked on (its canonical URL and JSON-LD
# are full URLs): a reserved name (RFC 2606), so escaping leaves it as it is.
ORIGIN_PLACEHOLDER = "https://origin.explainer.invalid"


@functools.cache
def page_format() -> str:
    """What a stored page was rendered with besides the story: the page's templates and
    code and the static files' names. A page stored under another format (before a
    deploy) is not served; the page is rendered in full until its story is relinked."""
    digest = hashlib.sha256()
    here = Path(__file__)
    sources = [
        *sorted((settings.BASE_DIR / "templates").rglob("*.html")),
        *(here.with_name(name) for name in ("stories.py", "excerpts.py", "timeline.py")),
    ]
    for path in sources:
        digest.update(path.read_bytes())
    names = getattr(staticfiles_storage, "hashed_files", {})
    digest.update(
        json.dumps([settings.STATIC_URL, settings.MEDIA_URL, sorted(names.items())]).encode()
    )
    return digest.hexdigest()


def render_page(article: Article, story_groups: list, figures: list) -> str:
    """The story's whole page for storing, from what relinking has in hand: the story as
    just relinked, its entries grouped (``group_entries``) and its figures; the same bytes
    as the page rendered in full, but for the origin (``ORIGIN_PLACEHOLDER``). Relinking
    writes it in the story's transaction: readers see the old page or the new.

    Only the story's own blocks are rendered; the rest of the page (``base.html``, the
    same on every stored page) was rendered once (``_page_frame``): a fifth of a page's
    rendering, and rendering is a quarter of a relink."""
    context = {
        **story_parts(article, story_groups, figures),
        **head_parts(
            article,
            json_ld(article, story_groups),
            absolute=lambda path: ORIGIN_PLACEHOLDER + path,
            figures=figures,
        ),
    }
    around, blocks_only = _page_frame()
    parts = loader.render_to_string(PAGE_TEMPLATE, {**context, "frame": blocks_only})
    parts = parts.split(_PART_BREAK)
    if len(parts) != len(around) - 1:
        # The story's text holds the break itself (nothing should: form fields refuse it,
        # and HTML parsing replaces it): rendered in full instead.
        return loader.render_to_string(PAGE_TEMPLATE, context)
    page = [around[0]]
    for part, after in zip(parts, around[1:], strict=True):
        page += [part, after]
    return "".join(page)


# Where the story's blocks meet the rest of a stored page (``_page_frame``).
_PART_BREAK = "\x00"
_STORY_BLOCKS = ("title", "description", "head", "main", "scripts")


@functools.cache
def _page_frame() -> tuple[list[str], Template]:
    """The stored pages' frame: ``base.html`` rendered once, with nothing of a story in it
    (no request, no section), cut where ``PAGE_TEMPLATE``'s blocks go; and a parent for
    ``PAGE_TEMPLATE`` (its ``frame``) that renders those blocks alone, with a break
    between each. Per process: templates change only with a deploy, as ``page_format``
    assumes."""
    engine = engines["django"]
    marked = "".join(
        f"{{% block {name} %}}{_PART_BREAK}{{% endblock {name} %}}" for name in _STORY_BLOCKS
    )
    around = engine.from_string('{% extends "base.html" %}' + marked).render({})
    blocks_only = _PART_BREAK.join(
        f"{{% block {name} %}}{{% endblock {name} %}}" for name in _STORY_BLOCKS
    )
    return around.split(_PART_BREAK), engine.from_string(blocks_only)


def render_in_full(request, article_id: int) -> str:
    """The story page rendered from the story and its entries (a story whose stored page is
    not current)."""
    article = Article.objects.defer(*UNREAD_FIELDS).get(pk=article_id)
    with paths_resolved_once():
        context = story_context(article, absolute=lambda path: absolute_url(request, path))
        return loader.render_to_string(PAGE_TEMPLATE, context, request=request)


@dataclass(frozen=True)
class PublishedStory:
    pk: int
    version: object  # rendered_at, as the database returns it
    stored_page: str  # blank when not current, or when the reader's cached copy is


@functools.cache
def _published_story_sql(*, marks: tuple[str, ...] = ("%s",) * 4) -> str:
    """``published_story``'s query, with what is the same for every story of this deploy
    written in (a hex digest and a status code, safe as literals): two parameters fewer
    for the driver to quote on every request (a story page, cold / warm, went from 0.47 /
    0.49 of ``/robots.txt`` to 0.49 / 0.52 on PostgreSQL, measured side by side). Its four
    parameters are written ``marks`` (``$1`` … for PostgreSQL's PREPARE)."""
    table = connection.ops.quote_name(Article._meta.db_table)
    published = Article.Status.PUBLISHED.value
    cached_pk, cached_version, slug, now = marks
    return (
        f"SELECT id, rendered_at, CASE WHEN page_rendered_at = rendered_at"
        f" AND page_format = '{page_format()}'"
        f" AND NOT COALESCE(id = {cached_pk} AND rendered_at = {cached_version}, FALSE)"
        f" THEN page_html ELSE '' END"
        f" FROM {table} WHERE slug = {slug} AND status = '{published}'"
        f" AND published_at <= {now}"
    )


# PostgreSQL: the name ``published_story``'s query is prepared under, and for each
# connection (psycopg's) whether it is prepared there: True, or False when preparing it
# failed partway and left that unknown (that connection then runs the plain query).
_PREPARED_STORY = "explainer_published_story"
_PREPARED_ON: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def published_story(slug: str, *, cached: tuple | None) -> PublishedStory | None:
    """The published story at ``slug``: its version, and its stored page if current and
    not the version already ``cached`` (pk, version). One query, in SQL: the ORM's own
    work for it took longer than the whole minimal view (0.375 ms against 0.114 ms raw,
    on a 0.26 ms view; bench/scale.py), and every story page asks it.

    On PostgreSQL (unless ``DATABASE_PREPARED_STATEMENTS`` is off) the query is a prepared
    statement, prepared in the same round trip as its first use on each connection:
    planning it took 0.04 ms and running it 0.012 ms (``EXPLAIN ANALYZE``, bench/scale.py's
    100,000-story archive), and a prepared statement is planned once."""
    ops = connection.ops
    cached_pk, cached_version = cached or (None, None)
    if cached_version is not None:
        cached_version = ops.adapt_datetimefield_value(cached_version)
    params = [cached_pk, cached_version, slug, ops.adapt_datetimefield_value(timezone.now())]
    return checking_the_connection(lambda: _run_published_story(params))


def _run_published_story(params: list) -> PublishedStory | None:
    with connection.cursor() as cursor:
        prepared = _PREPARED_ON.get(connection.connection) if _prepares() else False
        execute = f"EXECUTE {_PREPARED_STORY}(%s, %s, %s, %s)"
        if prepared:
            cursor.execute(execute, params)
        elif prepared is None:
            _PREPARED_ON[connection.connection] = False
            marks = ("$1", "$2", "$3", "$4")
            prepare = (
                f"PREPARE {_PREPARED_STORY}(integer, timestamptz, text, timestamptz)"
                f" AS {_published_story_sql(marks=marks)}"
            )
            cursor.execute(f"{prepare}; {execute}", params)
            cursor.nextset()
            _PREPARED_ON[connection.connection] = True
        else:
            cursor.execute(_published_story_sql(), params)
        row = cursor.fetchone()
    return PublishedStory(*row) if row else None


def checking_the_connection(read: Callable[[], T]) -> T:
    """``read`` (one query, outside any transaction) as the request's check that its
    database connection still works. Django's own check (``CONN_HEALTH_CHECKS``) is a
    ``SELECT 1`` before a request's first query: a round trip more on every story page,
    where the page's one query is the rest of its time on PostgreSQL. Here the read is
    the check: if it fails on a connection that no longer works (the database restarted
    since the connection was opened), the connection is opened again and the read runs
    again, as after Django's check. Any other failure (a statement timeout, say) is the
    read's own and is raised."""
    if (
        connection.connection is None
        or not connection.health_check_enabled
        or connection.health_check_done
        or connection.in_atomic_block
    ):
        return read()
    connection.health_check_done = True
    try:
        return read()
    except (InterfaceError, OperationalError):
        if connection.is_usable():
            raise
    connection.close()
    return read()


def _prepares() -> bool:
    return connection.vendor == "postgresql" and settings.DATABASE_PREPARED_STATEMENTS


@dataclass(frozen=True)
class ReaderPage:
    html: str
    # Names these bytes: the story's version, the origin and the deploy's page format,
    # which are all the page is rendered from. Django's ConditionalGetMiddleware would
    # otherwise hash the whole page on every request, a tenth of a story page's time.
    etag: str


def reader_page(request, slug: str) -> ReaderPage | None:
    """The story page for a reader, or None if no story is published at ``slug``.
    Kept in the cache per story and per origin (its canonical URL and JSON-LD are full
    URLs on the site's origin: ``site_origin``), checked against the story's version on every
    request, so an edit or an unpublishing shows at once. Reader pages carry nothing
    per-reader (no forms, no tokens), so one rendering serves everyone. A miss costs no
    more query: the stored page comes with the version."""
    origin = site_origin(request)
    key = f"story-page:v4:{slug}:{origin}"
    cached = guarded_cache.get(key)
    story = published_story(slug, cached=cached[:2] if cached else None)
    if story is None:
        return None
    version = hashlib.blake2b(
        f"{story.pk}|{story.version}|{origin}|{page_format()}".encode(), digest_size=12
    ).hexdigest()
    etag = f'"{version}"'
    if cached and cached[:2] == (story.pk, story.version):
        return ReaderPage(html=cached[2], etag=etag)
    if story.stored_page:
        html = story.stored_page.replace(ORIGIN_PLACEHOLDER, origin)
    else:
        html = render_in_full(request, story.pk)
    guarded_cache.set(key, (story.pk, story.version, html), PAGE_TIMEOUT)
    return ReaderPage(html=html, etag=etag)

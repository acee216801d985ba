"""Reading a story for its page: the "In this story" list and "How we got here" (three
queries in all); the page's main part stored on the story by each relink, so a page not in
the cache is one row; and the page cached under a key versioned by ``rendered_at``."""

from __future__ import annotations

import json

from django.core.cache import cache
from django.db.models import Q
from django.template import loader

from .models import Article, BackgroundNote, Mention, NoteUpdate
from .relinking import article_preview
from .snapshots import timeline_rows
from .timeline import story_timeline

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
            *(f"note__{field}" for field in [*ENTRY_FIELDS, "title", "starts_on"]),
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


def how_we_got_here(article: Article, story_groups: list[tuple[str, list]]) -> list:
    """From the mentioned notes' snapshots: no query of its own."""
    notes = [
        entry
        for _, entries in story_groups
        for entry in entries
        if isinstance(entry, BackgroundNote)
    ]
    if not notes or article.published_at is None:
        return []
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


# The page's main part: the same partial whether stored by a relink or rendered in full.
STORY_PARTIAL = "explainer/article_detail.html#story"


def story_parts(article: Article, story_groups: list, figures: list | None = None) -> dict:
    """What the ``#story`` partial shows. Nothing in it depends on the request."""
    return {
        "article": article,
        "figures": list(article.figures.all()) if figures is None else figures,
        "story_groups": story_groups,
        "timeline": how_we_got_here(article, story_groups),
    }


def head_parts(article: Article, data: dict, *, absolute) -> dict:
    """The page around the ``#story`` partial: its head, with full URLs, and whether it
    loads the context cards (``mentions`` lists every entry in "In this story")."""
    return {
        "article": article,
        "canonical_url": absolute(article.get_absolute_url()),
        "json_ld": with_full_urls(data, absolute=absolute),
        "has_entries": bool(data["mentions"]),
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
    return {
        **story_parts(article, story_groups),
        **head_parts(article, json_ld(article, story_groups), absolute=absolute),
    }


# What the page needs of a story whose page is stored: its head's fields and the page.
STORED_PAGE_FIELDS = [
    "slug",
    "headline",
    "dek",
    "body_text",
    "published_at",
    "rendered_at",
    "page_html",
    "page_json_ld",
    "page_rendered_at",
]
# What rendering the page in full never reads.
UNREAD_FIELDS = ["body", "match_text", "page_html", "page_json_ld"]


def render_page(article: Article, story_groups: list, figures: list) -> tuple[str, str]:
    """The story's stored page, its ``#story`` partial and its JSON-LD, from what relinking
    has in hand: the story as just relinked, its entries grouped (``group_entries``) and its
    figures. Relinking writes it in the story's transaction: readers see the old page or
    the new."""
    return (
        loader.render_to_string(STORY_PARTIAL, story_parts(article, story_groups, figures)),
        json.dumps(json_ld(article, story_groups), ensure_ascii=False),
    )


def page_context(article_id: int, *, absolute) -> dict:
    """The story page's context: around the stored page when it is current (one query),
    else rendered in full (a story not relinked since its page was last changed)."""
    article = Article.objects.only(*STORED_PAGE_FIELDS).get(pk=article_id)
    if article.page_rendered_at is None or article.page_rendered_at != article.rendered_at:
        return story_context(
            Article.objects.defer(*UNREAD_FIELDS).get(pk=article_id), absolute=absolute
        )
    return {
        **head_parts(article, json.loads(article.page_json_ld), absolute=absolute),
        "page_html": article.page_html,
    }


def cached_page(story: Article, render, *, origin: str) -> str:
    """The story page's HTML, rendered once per version of the story and per origin (the
    page's canonical URL and JSON-LD are full URLs on the host a reader asked). Reader pages
    carry nothing per-reader (no forms, no tokens), so one rendering serves everyone.
    ``story`` holds only what the key needs; ``render`` makes the page on a miss."""
    version = story.rendered_at.timestamp() if story.rendered_at else 0
    key = f"story-page:v3:{story.pk}:{version}:{origin}"
    html = cache.get(key)
    if html is None:
        html = render()
        cache.set(key, html, PAGE_TIMEOUT)
    return html

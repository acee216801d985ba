"""The front page: the lead story (the latest published) with the people and topics it
explains, "In the news" (the entries most mentioned across the latest stories) and the
latest stories, a page at a time from a story on (a keyset: ``?before=<slug>``). Three
queries for the first page and three for any later one, whatever the number of stories."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import Coalesce
from django.urls import reverse

from .models import Actor, Article, BackgroundNote, Mention
from .stories import entries_in_story

PER_PAGE = 20
# "In the news" counts the stories among the latest NEWS_WINDOW that mention each entry.
NEWS_WINDOW = 50
NEWS_LIMIT = 8
LEAD_ENTRIES = 6  # of each: people and places, then background
LIST_FIELDS = ["headline", "slug", "dek", "byline", "outlet", "published_at", "status"]


@dataclass(frozen=True)
class NewsEntry:
    """An entry in "In the news"."""

    label: str
    url: str
    description: str
    kind: str
    story_count: int


@dataclass
class FrontPage:
    lead: Article | None
    lead_people: list = field(default_factory=list)
    lead_background: list = field(default_factory=list)
    in_the_news: list[NewsEntry] = field(default_factory=list)
    stories: list[Article] = field(default_factory=list)
    older_url: str = ""  # the page after this one, or ""
    newer_url: str = ""  # the page before this one (later pages only)


def story_list():
    return Article.objects.published().only(*LIST_FIELDS).order_by("-published_at", "-pk")


def page_url(before: Article | None) -> str:
    home = reverse("article_list")
    return f"{home}?before={before.slug}" if before else home


def front_page() -> FrontPage:
    """The first page: the lead story and the stories after it."""
    rows = list(story_list()[: PER_PAGE + 2])
    if not rows:
        return FrontPage(lead=None)
    lead, stories = rows[0], rows[1 : PER_PAGE + 1]
    people, background = lead_entries(lead)
    return FrontPage(
        lead=lead,
        lead_people=people,
        lead_background=background,
        # Only with other stories: on a one-story site it would repeat the lead's entries.
        in_the_news=in_the_news() if stories else [],
        stories=stories,
        older_url=page_url(stories[-1]) if len(rows) > PER_PAGE + 1 else "",
    )


def older_page(before: str) -> FrontPage | None:
    """The stories published before the one at ``before``, or None if no published story
    is there or none is older (a page that lists nothing)."""
    cursor = Article.objects.published().filter(slug=before).only("published_at").first()
    if cursor is None:
        return None
    older = Q(published_at__lt=cursor.published_at) | Q(
        published_at=cursor.published_at, pk__lt=cursor.pk
    )
    rows = list(story_list().filter(older)[: PER_PAGE + 1])
    if not rows:
        return None
    stories = rows[:PER_PAGE]
    # The page before this one ends with the story PER_PAGE + 1 newer than its first
    # (counting the cursor itself); unless that would be the lead, the front page is it.
    newer = Q(published_at__gt=cursor.published_at) | Q(
        published_at=cursor.published_at, pk__gte=cursor.pk
    )
    above = list(
        Article.objects.published()
        .filter(newer)
        .order_by("published_at", "pk")
        .only("slug")[: PER_PAGE + 2]
    )
    return FrontPage(
        lead=None,
        stories=stories,
        older_url=page_url(stories[-1]) if len(rows) > PER_PAGE else "",
        newer_url=page_url(above[PER_PAGE]) if len(above) == PER_PAGE + 2 else page_url(None),
    )


def lead_entries(lead: Article) -> tuple[list, list]:
    """The people, organizations and places the lead story mentions, then its background,
    the most mentioned first (reading order among equals). One query: the story's own
    mentions."""
    entries = [entry for _, group in entries_in_story(lead) for entry in group]
    entries.sort(key=lambda entry: -entry.mention_count)
    people = [entry for entry in entries if isinstance(entry, Actor)]
    background = [entry for entry in entries if isinstance(entry, BackgroundNote)]
    return people[:LEAD_ENTRIES], background[:LEAD_ENTRIES]


def in_the_news(*, window: int = NEWS_WINDOW, limit: int = NEWS_LIMIT) -> list[NewsEntry]:
    """The published entries mentioned in most of the latest ``window`` stories, with how
    many. One query, over those stories' mentions only."""
    recent = Article.objects.published().order_by("-published_at", "-pk").values("pk")[:window]
    rows = (
        Mention.objects.filter(article__in=recent, is_suppressed=False, is_orphaned=False)
        .filter(Q(actor__is_published=True) | Q(note__is_published=True))
        .values(
            "actor__slug",
            "actor__name",
            "actor__description",
            "actor__kind",
            "note__slug",
            "note__title",
            "note__description",
            "note__kind",
        )
        .annotate(
            story_count=Count("article", distinct=True),
            label=Coalesce("actor__name", "note__title"),
        )
        .order_by("-story_count", "label")[:limit]
    )
    return [news_entry(row) for row in rows]


def news_entry(row: dict) -> NewsEntry:
    if row["actor__slug"]:
        prefix, name, view = "actor__", "name", "actor_detail"
    else:
        prefix, name, view = "note__", "title", "note_detail"
    return NewsEntry(
        label=row[prefix + name],
        url=reverse(view, kwargs={"slug": row[prefix + "slug"]}),
        description=row[prefix + "description"],
        kind=row[prefix + "kind"],
        story_count=row["story_count"],
    )

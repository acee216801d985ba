"""The newsroom dashboard, the admin's first screen: the stories waiting on an editor, the
entries due a fact check, names recent stories use that no entry covers, the mentions that
need a decision and the relinking still under way.

Each queue is a fixed number of queries, however many stories and entries there are: lists
are cut at ``QUEUE_ROWS`` (with a total), and the scans of story text (uncovered names,
ambiguous mentions) read only the ``RECENT_STORIES`` most recently changed stories."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from reversion.models import Version

from . import readership, relinking, scheduling
from .linking import normalize_alias, parse_html
from .models import Actor, Alias, Article, BackgroundNote, ContextEntry, Mention, RelinkJob
from .suggestions import DEMONYM_ENDINGS, suggest_names

# Rows each queue lists; the rest are counted.
QUEUE_ROWS = 10
# Stories whose text is read for uncovered names and ambiguous mentions.
RECENT_STORIES = 50
NAMES_SHOWN = 15


@dataclass(frozen=True)
class Queue:
    rows: list
    total: int

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.rows))


@dataclass(frozen=True)
class UncoveredName:
    name: str
    stories: int


@dataclass(frozen=True)
class StoryDecisions:
    """A recent story with names the linker left to an editor (whom they mean)."""

    article: Article
    ambiguous: list[str]


@dataclass(frozen=True)
class Dashboard:
    my_drafts: Queue
    in_review: Queue
    scheduled: Queue
    recently_published: Queue
    due_for_review: Queue
    review_due_months: int
    uncovered_names: list[UncoveredName]
    ambiguous: list[StoryDecisions]
    orphaned: Queue
    jobs: list[scheduling.Progress] = field(default_factory=list)
    most_read: list[readership.MostRead] = field(default_factory=list)
    unread_stories: list[Article] = field(default_factory=list)
    read_window_days: int = readership.READ_WINDOW_DAYS


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier (the month's last day if it is shorter)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _queue(queryset: QuerySet) -> Queue:
    rows = list(queryset[:QUEUE_ROWS])
    total = len(rows) if len(rows) < QUEUE_ROWS else queryset.count()
    return Queue(rows, total)


def _story_columns(queryset: QuerySet) -> QuerySet:
    return queryset.only("pk", "headline", "status", "published_at", "updated_at")


def edited_by(user) -> Exists:
    """Whether ``user`` saved a version of the story in the admin (django-reversion keeps
    who saved each version; stories have no author field of their own)."""
    return Exists(
        Version.objects.filter(
            content_type=ContentType.objects.get_for_model(Article),
            object_id=Cast(OuterRef("pk"), CharField()),
            revision__user=user,
        )
    )


def story_queues(user) -> dict[str, Queue]:
    now = timezone.now()
    stories = _story_columns(Article.objects.all())
    drafts = stories.filter(status=Article.Status.DRAFT)
    return {
        "my_drafts": _queue(drafts.filter(edited_by(user)).order_by("-updated_at", "-pk")),
        "in_review": _queue(
            stories.filter(status=Article.Status.REVIEW).order_by("-updated_at", "-pk")
        ),
        "scheduled": _queue(
            stories.filter(status=Article.Status.PUBLISHED, published_at__gt=now).order_by(
                "published_at", "pk"
            )
        ),
        "recently_published": _queue(stories.published().order_by("-published_at", "-pk")),
    }


def entries_due_for_review(*, today: dt.date, months: int) -> Queue:
    """Actors and notes never reviewed, or last reviewed more than ``months`` ago: oldest
    first, never-reviewed before all."""
    cutoff = months_before(today, months)
    due = Q(reviewed_on__isnull=True) | Q(reviewed_on__lt=cutoff)
    rows: list[ContextEntry] = []
    total = 0
    for model in (Actor, BackgroundNote):
        queryset = model.objects.filter(due).order_by("reviewed_on", "pk")
        label = "name" if model is Actor else "title"
        queryset = queryset.only("pk", "slug", "reviewed_on", label)
        queue = _queue(queryset)
        rows.extend(queue.rows)
        total += queue.total
    rows.sort(key=lambda entry: (entry.reviewed_on is not None, entry.reviewed_on or today))
    return Queue(rows[:QUEUE_ROWS], total)


def recent_stories() -> list[Article]:
    return list(
        Article.objects.order_by("-updated_at", "-pk").only(
            "pk", "headline", "status", "published_at", "body_html", "link_every_mention"
        )[:RECENT_STORIES]
    )


def uncovered_names(stories: list[Article], mentions: dict[int, list[Mention]]):
    """Names in ``stories`` that no mention covers and no alias has (the story admin's
    "Names without an entry", over many stories), with the number of stories using each:
    most used first. One query, for the aliases."""
    by_story: dict[int, list[str]] = {}
    for article in stories:
        covered = [
            (m.start, m.start + len(m.quote))
            for m in mentions.get(article.pk, [])
            if m.start is not None and not m.is_orphaned
        ]
        by_story[article.pk] = suggest_names(parse_html(article.body_html).text, covered)
    stems: dict[str, list[str]] = {}
    for names in by_story.values():
        for name in names:
            if name not in stems:
                form = normalize_alias(name)
                stems[name] = [form] + [
                    form[: -len(ending)] for ending in DEMONYM_ENDINGS if form.endswith(ending)
                ]
    wanted = {stem for candidates in stems.values() for stem in candidates}
    known = set(Alias.objects.filter(normalized__in=wanted).values_list("normalized", flat=True))
    counts = Counter(
        name
        for names in by_story.values()
        for name in set(names)
        if not known.intersection(stems[name])
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0].casefold()))
    return [UncoveredName(name, count) for name, count in ranked[:NAMES_SHOWN]]


def ambiguous_mentions(stories: list[Article], mentions: dict[int, list[Mention]]):
    """Recent stories with names the linker could not tell apart and no editor has decided
    (the review panel's "Left unlinked on purpose", ambiguous ones): read with the library
    as it will be once everything is published, writing nothing."""
    library = relinking.current_library(include_unpublished=True)
    found: list[StoryDecisions] = []
    for article in stories:
        result = relinking.link_article(
            article, library=library, existing=mentions.get(article.pk, []), preview=True
        )
        text = parse_html(article.body_html).text
        placed = [(m.start, m.start + len(m.quote)) for m in result.editor if not m.is_orphaned]
        quotes = [
            text[r.start : r.end]
            for r in result.resolutions
            if r.is_ambiguous and not any(s < r.end and r.start < e for s, e in placed)
        ]
        if quotes:
            found.append(StoryDecisions(article, list(dict.fromkeys(quotes))))
    return found[:QUEUE_ROWS]


def orphaned_mentions() -> Queue:
    return _queue(
        Mention.objects.filter(is_orphaned=True)
        .select_related("article", "actor", "note")
        .only(
            "quote",
            "article__headline",
            "actor__name",
            "actor__slug",
            "note__title",
            "note__slug",
        )
        .order_by("-article__updated_at", "article_id", "pk")
    )


def pending_jobs() -> list[scheduling.Progress]:
    """Relink jobs still running, and finished ones with stories that failed."""
    jobs = (
        RelinkJob.objects.annotate(
            remaining=Count("pending", filter=Q(pending__failed_at=None)),
            failed=Count("pending", filter=Q(pending__failed_at__isnull=False)),
        )
        .filter(~Q(status=RelinkJob.Status.DONE) | Q(failed__gt=0))
        .order_by("-created_at", "-pk")[:QUEUE_ROWS]
    )
    return [
        scheduling.Progress(job=job, total=job.total, remaining=job.remaining, failed=job.failed)
        for job in jobs
    ]


def newsroom_dashboard(*, user, today: dt.date | None = None) -> Dashboard:
    months = settings.EXPLAINER_REVIEW_DUE_MONTHS
    today = today or timezone.localdate()
    stories = recent_stories()
    mentions = relinking.mentions_of([article.pk for article in stories])
    return Dashboard(
        **story_queues(user),
        due_for_review=entries_due_for_review(today=today, months=months),
        review_due_months=months,
        uncovered_names=uncovered_names(stories, mentions),
        ambiguous=ambiguous_mentions(stories, mentions),
        orphaned=orphaned_mentions(),
        jobs=pending_jobs(),
        most_read=readership.most_read_cards(today=today),
        unread_stories=readership.stories_nobody_reads(stories=stories, today=today),
    )

"""Scheduling relinks: ``request_relink`` is the one way to ask for them. Requests made
while handling one request or command are gathered (``batched``) into one ``RelinkJob``
that background workers (``explainer.tasks``, on django-tasks) work through, one
``PendingRelink`` per story, with progress editors can see; the sweep hands on what a
stopped worker left, and failed stories are retried with a back-off. The relinking itself
is ``explainer.relinking``'s."""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model, Q
from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend

from .models import (
    Article,
    LibraryVersion,
    Mention,
    PendingRelink,
    RelinkJob,
    entry_key_column,
)
from .relinking import RelinkSummary, relink_stories

logger = logging.getLogger(__name__)

# A chunk is one task: small enough that a killed worker loses little, large enough that
# the per-task overhead is nothing next to the relinks.
CHUNK_SIZE = 100
# Back off between attempts: 5 s, 10 s, 20 s, 40 s.
RETRY_DELAY_SECONDS = 5


def chunked(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK_SIZE):
        yield ids[start : start + CHUNK_SIZE]


def finish_jobs(job_ids: Iterable[int]) -> None:
    """Mark jobs with nothing left to do (failures apart) as done."""
    for job_id in set(job_ids):
        if not PendingRelink.objects.filter(job_id=job_id, failed_at=None).exists():
            RelinkJob.objects.filter(pk=job_id, status=RelinkJob.Status.RUNNING).update(
                status=RelinkJob.Status.DONE, finished_at=timezone.now()
            )


@dataclass
class Batch:
    """Everything one request or command asked for, turned into one job when it ends."""

    stories: set[int] = field(default_factory=set)
    entries: set[str] = field(default_factory=set)
    phrases: set[str] = field(default_factory=set)
    everything: bool = False
    reasons: list[str] = field(default_factory=list)
    subject: Model | None = None
    snapshots: dict[str, object] = field(default_factory=dict)
    user_id: int | None = None
    job: RelinkJob | None = None

    def __bool__(self) -> bool:
        return bool(self.stories or self.entries or self.phrases or self.everything)

    def add(self, *, stories, entries, phrases, everything, reason, subject) -> None:
        self.stories.update(stories)
        self.entries.update(entries)
        self.phrases.update(phrase for phrase in phrases if phrase)
        self.everything = self.everything or everything
        if reason and reason not in self.reasons:
            self.reasons.append(reason)
        if subject is not None and self.subject is None:
            self.subject = subject


_batch: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("relink_batch", default=None)


@contextmanager
def batched() -> Iterator[Batch]:
    """Gather the relinks and snapshot refreshes asked for inside the block and do each
    once, at the end: an admin save touches an entry and several aliases, but each story
    should be relinked once and each snapshot taken once."""
    if _batch.get() is not None:
        yield _batch.get()
        return
    batch = Batch()
    token = _batch.set(batch)
    try:
        yield batch
    finally:
        _batch.reset(token)
    flush(batch)


def request_relink(
    *,
    stories: Iterable[int] = (),
    entries: Iterable[str] = (),
    phrases: Iterable[str] = (),
    everything: bool = False,
    reason: str = "",
    subject: Model | None = None,
) -> None:
    """The one way to ask for stories to be relinked: these stories, the stories that
    mention these entries (``"actor:3"``), the stories whose text contains these alias
    phrases (normal form), or every story. ``subject`` (a story or an entry) is whose
    page shows the job's progress. It costs the same however large the archive:
    the stories are found and relinked by background workers."""
    asked = {
        "stories": stories,
        "entries": entries,
        "phrases": phrases,
        "everything": everything,
        "reason": reason,
        "subject": subject,
    }
    with batched() as batch:  # the current batch, or a batch of this request alone
        batch.add(**asked)


def request_snapshot(entry) -> None:
    """Refresh an entry's ``context_json`` once, at the end of the current batch."""
    batch = _batch.get()
    if batch is None:
        from .snapshots import entry_refresh_context

        entry_refresh_context(entry)
        return
    batch.snapshots[entry.entry_key] = entry


def flush(batch: Batch) -> RelinkJob | None:
    from .snapshots import entry_refresh_context

    for entry in batch.snapshots.values():
        model = type(entry)
        fresh = model.objects.filter(pk=entry.pk).first()
        if fresh is not None:
            entry_refresh_context(fresh)
    if not batch:
        return None
    batch.job = create_job(
        scope={
            "stories": sorted(batch.stories),
            "entries": sorted(batch.entries),
            "phrases": sorted(batch.phrases),
            "all": batch.everything,
        },
        reason="; ".join(batch.reasons)[:300] or "Library edited",
        subject=batch.subject,
        user_id=batch.user_id,
    )
    return batch.job


def run_now(job: RelinkJob | None, *, progress=None) -> RelinkSummary:
    """Do a job's work in this process (commands that wait for their result); the tasks
    queued for it then find nothing left to do. ``progress(n)`` hears of each chunk done."""
    summary = RelinkSummary()
    if job is None:
        return summary
    if job.status == RelinkJob.Status.PLANNING:
        plan_job(job, enqueue=False)
    ids = list(job.pending.filter(failed_at=None).values_list("article_id", flat=True))
    for chunk in chunked(ids):
        summary.add(relink_stories(chunk))
        if progress is not None:
            progress(len(chunk))
    finish_jobs([job.pk])
    return summary


# Story-only jobs this small are planned in the request itself: one row per story.
PLAN_INLINE_MAX = CHUNK_SIZE


def create_job(
    *,
    scope: dict,
    reason: str,
    subject: Model | None = None,
    user_id: int | None = None,
    enqueue: bool = True,
) -> RelinkJob:
    """Record a job and hand it to the workers."""
    inline = (
        not scope.get("entries")
        and not scope.get("phrases")
        and not scope.get("all")
        and len(scope.get("stories", ())) <= PLAN_INLINE_MAX
    )
    fields = {}
    # The subject may be what the request deleted.
    if subject is not None and type(subject).objects.filter(pk=subject.pk).exists():
        fields = {"article" if isinstance(subject, Article) else subject.entry_field: subject}
    with transaction.atomic():
        job = RelinkJob.objects.create(
            reason=reason, scope=scope, requested_by_id=user_id, **fields
        )
        if inline:
            plan_job(job, enqueue=enqueue, priority=10)
        elif enqueue:
            from .tasks import plan_relink_job

            enqueue_task(plan_relink_job, job.pk)
    return job


def stories_in_scope(scope: dict) -> Iterator[int]:
    """The stories a job's scope names, found through indexes only."""
    if scope.get("all"):
        yield from Article.objects.order_by("pk").values_list("pk", flat=True).iterator(10000)
        return
    seen: set[int] = set()
    # A story named by id may have been deleted since it was asked for.
    candidates: list[Iterable[int]] = [
        Article.objects.filter(pk__in=scope.get("stories", [])).values_list("pk", flat=True)
    ]
    for key in scope.get("entries", []):
        column, pk = entry_key_column(key)
        candidates.append(
            Mention.objects.filter(**{column: pk}).values_list("article_id", flat=True).distinct()
        )
    from .textindex import articles_containing

    for phrase in scope.get("phrases", []):
        candidates.append(articles_containing(phrase))
    for ids in candidates:
        for article_id in ids:
            if article_id not in seen:
                seen.add(article_id)
                yield article_id


def plan_job(job: RelinkJob, *, enqueue: bool = True, priority: int = 0) -> list[list[int]]:
    """Record one pending row per story in the job's scope and hand the work to the
    workers in chunks. Safe to run again: rows already recorded are kept. Each row is
    asked under the library as it is now, which has the edit that asked for the job (the
    job is created after it)."""
    now, version = timezone.now(), LibraryVersion.current()
    chunks = list(chunked(list(stories_in_scope(job.scope))))
    for ids in chunks:
        PendingRelink.objects.bulk_create(
            [
                PendingRelink(job=job, article_id=pk, requested_at=now, library_version=version)
                for pk in ids
            ],
            ignore_conflicts=True,
        )
    total = sum(len(ids) for ids in chunks)
    status = RelinkJob.Status.RUNNING if total else RelinkJob.Status.DONE
    RelinkJob.objects.filter(pk=job.pk).update(
        total=total, status=status, finished_at=None if total else now
    )
    job.total, job.status = total, status
    if enqueue:
        from .tasks import relink_chunk

        for ids in chunks:
            enqueue_task(relink_chunk, ids, priority=priority)
    return chunks


def enqueue_task(task, *args, priority: int = 0) -> None:
    """Hand a task to the engine. The database backend enqueues inside the caller's
    transaction (the task row commits with the work it is for); the others once it has
    committed, so a worker never runs before the rows it needs exist. A task the engine
    cannot take (Redis down) is not lost: its pending rows stay, and the sweep re-enqueues."""
    if priority:
        task = task.using(priority=priority)

    def send():
        try:
            task.enqueue(*args)
        except Exception:
            logger.warning("Could not enqueue %s; the sweep will retry", task.name, exc_info=True)

    if isinstance(task.get_backend(), DatabaseBackend | ImmediateBackend):
        send()
    else:
        transaction.on_commit(send)


def retry_later(article_ids: list[int]) -> None:
    """Hand failed stories back to the engine, later, if they have attempts left."""
    from .tasks import relink_chunk

    retry = list(
        PendingRelink.objects.filter(article_id__in=article_ids, failed_at=None)
        .values_list("article_id", flat=True)
        .distinct()
    )
    if not retry:
        return
    if relink_chunk.get_backend().supports_defer:
        latest = PendingRelink.objects.filter(article_id__in=retry).order_by("-attempts").first()
        tries = latest.attempts if latest else 1
        delay = dt.timedelta(seconds=RETRY_DELAY_SECONDS * 2 ** max(tries - 1, 0))
        enqueue_task(relink_chunk.using(run_after=timezone.now() + delay), retry)
    else:
        enqueue_task(relink_chunk, retry)


def stale_after() -> dt.timedelta:
    return dt.timedelta(seconds=settings.RELINK_STALE_SECONDS)


def sweep() -> int:
    """Hand back to the engine the stories a worker claimed and never finished (it was
    killed), and, when the engine has nothing queued, stories that were never claimed
    (their task was lost). Returns how many stories were re-enqueued."""
    from .tasks import plan_relink_job, relink_chunk

    cutoff = timezone.now() - stale_after()
    for job in RelinkJob.objects.filter(status=RelinkJob.Status.PLANNING, created_at__lt=cutoff):
        enqueue_task(plan_relink_job, job.pk)
    stalled = Q(claimed_at__lt=cutoff)
    if engine_is_idle():
        stalled |= Q(claimed_at=None, requested_at__lt=cutoff)
    ids = list(
        PendingRelink.objects.filter(stalled, failed_at=None)
        .values_list("article_id", flat=True)
        .distinct()
        .order_by("article_id")
    )
    for chunk in chunked(ids):
        PendingRelink.objects.filter(article_id__in=chunk, failed_at=None).update(
            claimed_at=timezone.now()
        )
        enqueue_task(relink_chunk, chunk)
    finish_jobs(
        RelinkJob.objects.filter(status=RelinkJob.Status.RUNNING).values_list("pk", flat=True)
    )
    return len(ids)


def engine_is_idle() -> bool:
    """Whether the task engine holds no relink task waiting to run."""
    from .tasks import relink_chunk

    backend = relink_chunk.get_backend()
    if isinstance(backend, DatabaseBackend):
        from django_tasks_db.models import DBTaskResult

        return not DBTaskResult.objects.ready().filter(task_path=relink_chunk.module_path).exists()
    if isinstance(backend, ImmediateBackend):
        return True
    import django_rq

    return django_rq.get_queue(relink_chunk.queue_name).count == 0


def retry_failed(job: RelinkJob) -> int:
    """An editor's "try again" for the stories a job gave up on."""
    from .tasks import relink_chunk

    rows = PendingRelink.objects.filter(job=job).exclude(failed_at=None)
    ids = list(rows.values_list("article_id", flat=True))
    rows.update(failed_at=None, attempts=0, claimed_at=None, requested_at=timezone.now())
    RelinkJob.objects.filter(pk=job.pk).update(status=RelinkJob.Status.RUNNING, finished_at=None)
    for chunk in chunked(ids):
        enqueue_task(relink_chunk, chunk)
    return len(ids)


@dataclass(frozen=True)
class Progress:
    """What an editor sees of a job."""

    job: RelinkJob
    total: int | None
    remaining: int
    failed: int

    @property
    def done(self) -> int:
        return max((self.total or 0) - self.remaining - self.failed, 0)

    @property
    def is_finished(self) -> bool:
        return self.job.status == RelinkJob.Status.DONE or (
            self.total is not None and self.remaining == 0
        )

    @property
    def label(self) -> str:
        if self.total is None:
            return "Relinking: finding the stories that may change…"
        stories = f"{self.total:,} {'story' if self.total == 1 else 'stories'}"
        if self.is_finished:
            failed = f"; {self.failed:,} failed" if self.failed else ""
            return f"Relinked {self.done:,} of {stories}{failed}."
        failed = f", {self.failed:,} failed" if self.failed else ""
        return f"Relinking {stories}: {self.done:,} done{failed}."

    @property
    def errors(self) -> list[PendingRelink]:
        return list(
            PendingRelink.objects.filter(job=self.job)
            .exclude(failed_at=None)
            .select_related("article")
            .only("last_error", "attempts", "failed_at", "article__headline", "article__slug")[:20]
        )


def job_progress(job: RelinkJob) -> Progress:
    rows = PendingRelink.objects.filter(job=job)
    return Progress(
        job=job,
        total=job.total,
        remaining=rows.filter(failed_at=None).count(),
        failed=rows.exclude(failed_at=None).count(),
    )


def latest_job(**subject) -> RelinkJob | None:
    """The most recent job about an entry or a story (``actor=...``, ``article=...``)."""
    return RelinkJob.objects.filter(**subject).order_by("-created_at", "-pk").first()


def story_pending(article: Article) -> PendingRelink | None:
    """The oldest unfinished request to relink this story, failed ones first."""
    return (
        PendingRelink.objects.filter(article=article)
        .order_by(F("failed_at").desc(nulls_last=True), "requested_at")
        .first()
    )

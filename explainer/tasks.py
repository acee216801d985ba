"""Background tasks, run by the task engine's workers (django-tasks: the database backend
embedded, RQ on Redis to scale out). Each is idempotent: the pending rows in the database
say what is left to do, so a task run twice, or after a killed worker, does no harm."""

from __future__ import annotations

from django_tasks import task

from . import relinking, scheduling
from .models import PendingRelink, RelinkJob


@task()
def plan_relink_job(job_id: int) -> int:
    """Find the stories a job names and hand them to the workers in chunks."""
    job = RelinkJob.objects.filter(pk=job_id).first()
    if job is None or job.status != RelinkJob.Status.PLANNING:
        return 0
    return sum(len(chunk) for chunk in scheduling.plan_job(job))


@task()
def relink_chunk(article_ids: list[int]) -> dict:
    """Relink the stories of one chunk that still have a request pending, each in its own
    transaction; a story that fails is retried later and never holds up the rest."""
    pending = set(
        PendingRelink.objects.filter(article_id__in=article_ids, failed_at=None).values_list(
            "article_id", "job_id"
        )
    )
    wanted = {article_id for article_id, _ in pending}
    jobs = {job_id for _, job_id in pending}
    summary = relinking.relink_stories([pk for pk in article_ids if pk in wanted])
    if summary.failed:
        scheduling.retry_later(summary.failed)
    scheduling.finish_jobs(jobs)
    return {"relinked": summary.relinked, "gone": summary.gone, "failed": summary.failed}

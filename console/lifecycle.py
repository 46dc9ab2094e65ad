"""The one place that writes an AML object's status.

claim → progress* → complete | fail. Every write is a conditional UPDATE on the current status,
so a duplicated or redelivered task never runs a job twice and a late progress report never
revives a failed job.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from console import dependencies
from console.claimants import Claimant, this_host
from console.models import ALL_OBJECT_TYPES, AMLObject, Status

log = logging.getLogger(__name__)
T = TypeVar("T", bound=AMLObject)

LOG_LINE_LIMIT = 20_000  # characters a single append may add; the rest is summarised
WORKER_STOPPED = (
    "The worker processing this job stopped before finishing. Create it again to retry."
)
CONSOLE_STOPPED = "The console was stopped while this job ran. Create it again to retry."


def claim(model: type[T], pk: int, *, by: Claimant | None = None) -> T | None:
    """Move a PENDING row to INPROGRESS; return it only to the one caller that won.

    The row records who claimed it (this process unless `by` says otherwise), so a job whose
    process died can be failed as soon as that is known rather than when it goes stale.
    """
    now = timezone.now()
    claimant = by or Claimant.this_process()
    won = model.objects.filter(pk=pk, status=Status.PENDING).update(
        status=Status.INPROGRESS,
        started_at=now,
        heartbeat_at=now,
        updated_at=now,
        progress={},
        claimed_by_host=claimant.host,
        claimed_by_pid=claimant.pid,
        claimed_by_start=claimant.start,
    )
    return model.objects.get(pk=pk) if won else None


def claimant_of(obj: AMLObject) -> Claimant | None:
    """Who claimed the job; None for a row claimed before claims were recorded."""
    if obj.claimed_by_pid is None:
        return None
    return Claimant(host=obj.claimed_by_host, pid=obj.claimed_by_pid, start=obj.claimed_by_start)


def claimant_is_dead(obj: AMLObject) -> bool:
    """True when the row is INPROGRESS and the process that claimed it is known to be gone."""
    claimant = claimant_of(obj)
    return obj.status == Status.INPROGRESS and claimant is not None and claimant.is_known_dead()


def fail_orphan(obj: AMLObject, message: str = WORKER_STOPPED) -> bool:
    """Fail a job whose claimant died, saying in its log which process that was."""
    claimant = claimant_of(obj)
    if claimant is not None:
        append_log(obj, f"The job's worker ({claimant.describe()}) is gone.")
    failed = fail(obj, message)
    if failed:
        log.warning("failed %s: the process that ran it is gone", obj.entity_id)
    return failed


def fail_jobs_of_dead_workers(
    *, message: str = WORKER_STOPPED, pids: Collection[int] | None = None
) -> int:
    """Fail every INPROGRESS job claimed on this host by a process that is gone.

    `pids` narrows it to the jobs of those processes (runconsole names its worker's). Jobs
    claimed on other hosts cannot be checked from here: the sweep fails them once stale.
    """
    failed = 0
    for model in ALL_OBJECT_TYPES:
        rows = model.objects.filter(status=Status.INPROGRESS, claimed_by_host=this_host())
        if pids is not None:
            rows = rows.filter(claimed_by_pid__in=list(pids))
        for obj in rows.exclude(claimed_by_pid=None):
            if claimant_is_dead(obj):
                failed += fail_orphan(obj, message)
    return failed


def report_progress(obj: AMLObject, **progress: Any) -> bool:
    """Store a progress figure and prove the worker is alive. False if the job is no longer ours."""
    now = timezone.now()
    obj.progress = {**obj.progress, **progress}
    return bool(
        type(obj)
        .objects.filter(pk=obj.pk, status=Status.INPROGRESS)
        .update(progress=obj.progress, heartbeat_at=now, updated_at=now)
    )


def complete(obj: AMLObject, *, compute_time_ms: int | None = None, **fields: Any) -> bool:
    """INPROGRESS → COMPLETED, saving the job's results in the same UPDATE."""
    now = timezone.now()
    done = (
        type(obj)
        .objects.filter(pk=obj.pk, status=Status.INPROGRESS)
        .update(
            status=Status.COMPLETED,
            finished_at=now,
            updated_at=now,
            heartbeat_at=now,
            compute_time=compute_time_ms,
            **fields,
        )
    )
    _refresh(obj)
    if done:
        dependencies.release_dependents(obj)
    return bool(done)


def fail(obj: AMLObject, message: str) -> bool:
    """PENDING or INPROGRESS → FAILED with a message a person understands."""
    now = timezone.now()
    done = (
        type(obj)
        .objects.filter(pk=obj.pk, status__in=[Status.PENDING, Status.INPROGRESS])
        .update(status=Status.FAILED, message=message[:10240], finished_at=now, updated_at=now)
    )
    if done:
        append_log(obj, f"FAILED: {message}")
    _refresh(obj)
    if done:
        dependencies.fail_dependents(obj)
    return bool(done)


def stop(obj: AMLObject, *, by: str, now: Any = None) -> bool:
    """A person's Stop: PENDING or INPROGRESS → FAILED, "Stopped by <user> at <time>".

    The worker is not signalled: its next progress report (every chunk or pass) finds the row no
    longer INPROGRESS and quits, and `complete` would refuse it anyway. Dependents fail with
    this message, through `fail`.
    """
    when = timezone.localtime(now or timezone.now()).strftime("%Y-%m-%d %H:%M:%S %Z")
    return fail(obj, f"Stopped by {by} at {when}.")


def mark_deleted(obj: AMLObject) -> None:
    """Any status → DELETED (AML keeps deleted objects readable)."""
    type(obj).objects.filter(pk=obj.pk).update(status=Status.DELETED, updated_at=timezone.now())
    _refresh(obj)
    dependencies.fail_dependents(obj)


def append_log(obj: AMLObject, text: str) -> None:
    """Add lines to the object's log without reading it back (safe alongside other writers)."""
    if len(text) > LOG_LINE_LIMIT:
        text = text[:LOG_LINE_LIMIT] + f"\n… ({len(text) - LOG_LINE_LIMIT} more characters)"
    stamp = timezone.now().strftime("%Y-%m-%d %H:%M:%S")
    lines = "".join(f"{stamp} {line}\n" for line in text.splitlines() or [""])
    type(obj).objects.filter(pk=obj.pk).update(log=Concat(F("log"), Value(lines)))


def is_stale(obj: AMLObject, *, now: Any = None) -> bool:
    """True when an INPROGRESS job's worker has not reported for AML_STALE_JOB_SECONDS."""
    now = now or timezone.now()
    limit = timedelta(seconds=settings.AML_STALE_JOB_SECONDS)
    return obj.status == Status.INPROGRESS and (
        obj.heartbeat_at is None or now - obj.heartbeat_at > limit
    )


def sweep_stale_jobs(*, now: Any = None) -> int:
    """Fail every INPROGRESS row whose worker vanished. Returns how many were failed."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.AML_STALE_JOB_SECONDS)
    failed = 0
    for model in ALL_OBJECT_TYPES:
        for obj in model.objects.filter(
            Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True), status=Status.INPROGRESS
        ):
            failed += fail(
                obj,
                "The worker processing this job stopped responding "
                f"(no progress for over {settings.AML_STALE_JOB_SECONDS} s). Create it again to retry.",
            )
    if failed:
        log.warning("swept %d stale jobs", failed)
    return failed


def _refresh(obj: AMLObject) -> None:
    obj.refresh_from_db()

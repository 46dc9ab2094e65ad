"""The one place that writes an AML object's status.

claim → progress* → complete | fail. Every write is a conditional UPDATE on the current status,
so a duplicated or redelivered task never runs a job twice and a late progress report never
revives a failed job.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import F, Q, Value
from django.db.models.functions import Concat
from django.utils import timezone

from console import dependencies
from console.models import ALL_OBJECT_TYPES, AMLObject, Status

log = logging.getLogger(__name__)
T = TypeVar("T", bound=AMLObject)

LOG_LINE_LIMIT = 20_000  # characters a single append may add; the rest is summarised


def claim(model: type[T], pk: int) -> T | None:
    """Move a PENDING row to INPROGRESS; return it only to the one caller that won."""
    now = timezone.now()
    won = model.objects.filter(pk=pk, status=Status.PENDING).update(
        status=Status.INPROGRESS, started_at=now, heartbeat_at=now, updated_at=now, progress={}
    )
    return model.objects.get(pk=pk) if won else None


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

"""Running a job for an AML object: wait for dependencies, claim, work, complete or fail.

`run_job` is the one shape every task has, so no task can forget to leave its row COMPLETED or
FAILED. A job body receives the claimed row and a `JobContext` and returns the fields to save
with COMPLETED; it raises `MLCoreError` for bad input (the message is shown to the user as is).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery.exceptions import Reject
from django.db import InterfaceError, OperationalError, connections

from console import dependencies, lifecycle
from console.models import AMLObject, Status
from mlcore.errors import MLCoreError
from mlcore.io.csvreader import InvalidRecord

log = logging.getLogger(__name__)

INVALID_LINES_LOGGED = 100
PROGRESS_EVERY_SECONDS = 0.5

JobBody = Callable[[Any, "JobContext"], dict[str, Any]]
T = TypeVar("T")


class JobCancelled(Exception):
    """The row left INPROGRESS while we worked (deleted or swept); stop quietly."""


class InvalidRecordLog:
    """Collects invalid records: the first hundred go to the log line by line, the rest are counted."""

    def __init__(self) -> None:
        self.count = 0
        self.lines: list[str] = []

    def __call__(self, record: InvalidRecord) -> None:
        self.count += 1
        if len(self.lines) < INVALID_LINES_LOGGED:
            where = f"{record.file}, line {record.line}"
            if record.column:
                where += f", column {record.column!r}"
            self.lines.append(f"Invalid record: {where}: {record.reason}")

    def summary(self) -> str:
        extra = self.count - len(self.lines)
        tail = f"\n… and {extra:,} more invalid records" if extra > 0 else ""
        return "\n".join(self.lines) + tail


class JobContext:
    """What a job body needs besides its row: progress, the invalid-record log, CPU time."""

    def __init__(self, obj: AMLObject) -> None:
        self.obj = obj
        self.invalid = InvalidRecordLog()
        self.started_cpu = time.process_time()
        self._last_progress = 0.0

    def progress(self, *, force: bool = False, **figures: Any) -> None:
        """Store progress at most twice a second; stop the job if the row is no longer ours."""
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_SECONDS:
            return
        self._last_progress = now
        if not lifecycle.report_progress(self.obj, **figures):
            raise JobCancelled()

    def log(self, text: str) -> None:
        lifecycle.append_log(self.obj, text)

    def flush_invalid(self) -> None:
        if self.invalid.count:
            self.log(self.invalid.summary())
            self.invalid = InvalidRecordLog()

    def cpu_ms(self) -> int:
        return int((time.process_time() - self.started_cpu) * 1000)


def run_job(model: type[AMLObject], pk: int, body: JobBody, *, what: str) -> str:
    """Run `body` for the row once its dependencies are complete. Returns a short outcome."""
    # Before the claim nothing has run: a database that is restarting is waited for, or the
    # task would end with an error, its message be acknowledged, and the row stay PENDING.
    try:
        claimed, outcome = with_database(lambda: _claim_when_ready(model, pk))
    except (OperationalError, InterfaceError) as exc:
        # Still away after the wait: the message goes back to the broker, to be delivered again
        # (and waited for again) until the database returns, so the job is never lost.
        log.warning("the database stayed away; job %s of %s goes back to the queue", pk, model)
        raise Reject(exc, requeue=True) from exc
    if claimed is None:
        return outcome
    return _work(claimed, body, what)


def _claim_when_ready(model: type[AMLObject], pk: int) -> tuple[AMLObject | None, str]:
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        return None, "missing"
    if obj.status == Status.PENDING:
        state, why = dependencies.readiness(obj)
        if state == dependencies.WAITING:
            return None, "waiting"  # enqueued again when the dependency completes
        if state == dependencies.BLOCKED:
            lifecycle.fail(obj, why)
            return None, "failed-dependency"
    claimed = lifecycle.claim(model, pk)
    if claimed is None:
        return None, explain_unclaimed(model, pk)
    return claimed, "claimed"


DATABASE_PATIENCE_SECONDS = 60.0


def with_database(action: Callable[[], T], *, patience: float | None = None) -> T:
    """`action()`, again on a fresh connection while the database is unreachable (a restart,
    a failover), for up to `patience` seconds."""
    deadline = time.monotonic() + (DATABASE_PATIENCE_SECONDS if patience is None else patience)
    while True:
        try:
            return action()
        except (OperationalError, InterfaceError):
            if time.monotonic() > deadline:
                raise
            log.warning("the database is unreachable; trying again in a second", exc_info=True)
            _close_dropped_connections()
            time.sleep(1)


def _work(obj: AMLObject, body: JobBody, what: str) -> str:
    context = JobContext(obj)
    try:
        fields = body(obj, context)
    except JobCancelled:
        return "cancelled"
    except MLCoreError as exc:
        context.flush_invalid()
        lifecycle.fail(obj, str(exc))
        return "failed"
    except (OperationalError, InterfaceError) as exc:
        # the database dropped the connection under the job (a restart, a failover): record why
        # on a fresh one, or the row would stay INPROGRESS until the sweep blamed the worker
        log.exception("%s for %s lost the database connection", what, obj.entity_id)
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__

        def record_the_loss() -> None:
            _close_dropped_connections()
            context.flush_invalid()
            lifecycle.fail(
                obj,
                f"The connection to the database was lost while {what} ({reason}). "
                "Create it again to retry.",
            )

        with_database(record_the_loss)
        return "failed-database"
    except Exception as exc:  # a bug must still leave the row FAILED, never INPROGRESS
        log.exception("%s for %s crashed", what, obj.entity_id)
        context.flush_invalid()
        lifecycle.fail(obj, f"Internal error while {what}: {type(exc).__name__}: {exc}")
        return "crashed"
    context.flush_invalid()
    finished = lifecycle.complete(obj, compute_time_ms=context.cpu_ms(), **fields)
    return "completed" if finished else "cancelled"


def _close_dropped_connections() -> None:
    """Close connections the database dropped; the next query opens a fresh one."""
    for connection in connections.all(initialized_only=True):
        if connection.connection is None or connection.in_atomic_block:
            continue
        if not connection.is_usable():
            connection.close()


def explain_unclaimed(model: type[AMLObject], pk: int) -> str:
    """A second delivery of the same job: fail it only if its first run is provably dead.

    Celery delivers a job again when the process running it died (acks_late, and
    task_reject_on_worker_lost). The first run is dead when its process, on this host, is gone;
    a claimant on another host is judged by its heartbeat alone (`lifecycle.is_stale`).
    """
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        return "missing"
    if lifecycle.claimant_is_dead(obj):
        lifecycle.fail_orphan(obj)
        return "failed-redelivered"
    if obj.status == Status.INPROGRESS and lifecycle.is_stale(obj):
        lifecycle.fail(obj, lifecycle.WORKER_STOPPED)
        return "failed-redelivered"
    return f"skipped-{obj.status.lower()}"

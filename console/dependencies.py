"""Which AML objects wait for which, and what happens to the waiters when one finishes.

A model may be created while its datasource is still pending; an evaluation waits for its model
and its datasource. When an object completes, its waiting dependents whose every dependency is
now complete are enqueued; when it fails (or is deleted), its waiting dependents fail with a
message that names it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from kombu.exceptions import KombuError

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status

READY, WAITING, BLOCKED = "ready", "waiting", "blocked"
log = logging.getLogger(__name__)


def dependencies_of(obj: AMLObject) -> list[AMLObject]:
    if isinstance(obj, MLModel):
        return [obj.training_data_source] if obj.training_data_source else []
    if isinstance(obj, Evaluation):
        return [obj.ml_model, obj.evaluation_data_source]
    if isinstance(obj, BatchPrediction):
        return [obj.ml_model, obj.batch_prediction_data_source]
    return []


def waiting_dependents_of(obj: AMLObject) -> list[AMLObject]:
    pending = Status.PENDING
    if isinstance(obj, DataSource):
        return [
            *MLModel.objects.filter(training_data_source=obj, status=pending),
            *Evaluation.objects.filter(evaluation_data_source=obj, status=pending),
            *BatchPrediction.objects.filter(batch_prediction_data_source=obj, status=pending),
        ]
    if isinstance(obj, MLModel):
        return [
            *Evaluation.objects.filter(ml_model=obj, status=pending),
            *BatchPrediction.objects.filter(ml_model=obj, status=pending),
        ]
    return []


def readiness(obj: AMLObject) -> tuple[str, str]:
    """(READY | WAITING | BLOCKED, why) for a pending object, judged from its dependencies."""
    for dependency in dependencies_of(obj):
        dependency.refresh_from_db()
        if dependency.status in (Status.FAILED, Status.DELETED):
            return BLOCKED, blocked_message(dependency)
    if all(d.status == Status.COMPLETED for d in dependencies_of(obj)):
        return READY, ""
    return WAITING, ""


def blocked_message(dependency: AMLObject) -> str:
    if dependency.status == Status.DELETED:
        return f"{dependency.TYPE_LABEL} {dependency.entity_id} was deleted."
    reason = f": {dependency.message}" if dependency.message else "."
    return f"{dependency.TYPE_LABEL} {dependency.entity_id} failed{reason}"


def enqueue(obj: AMLObject) -> None:
    """Send the object's job to a worker once the current transaction has committed."""
    task = task_for(type(obj))
    pk = obj.pk
    transaction.on_commit(lambda: _send(task, type(obj), pk))


def _send(task: Any, model: type[AMLObject], pk: int) -> None:
    """Publish the job; when the broker cannot take it, fail the row saying so.

    Nothing else would ever run a job whose message was never sent: the row would wait in
    PENDING forever, and the caller (a web request, or a worker releasing dependents) would
    see a server error instead.
    """
    publish(task, pk, when_refused=lambda exc: _fail_unqueued(model, pk, exc))


def publish(task: Any, pk: int, *, when_refused: Callable[[Exception], None]) -> None:
    """`task.delay(pk)`, or `when_refused(error)` when the broker cannot take the message."""
    try:
        task.delay(pk)
    except (KombuError, OSError) as exc:
        log.error("could not queue %s for %s: %s", task.name, pk, exc)
        when_refused(exc)


def _fail_unqueued(model: type[AMLObject], pk: int, exc: Exception) -> None:
    from console import lifecycle

    obj = model.objects.filter(pk=pk).first()
    if obj is not None:
        lifecycle.fail(obj, unqueued_message(exc))


def unqueued_message(exc: Exception) -> str:
    return (
        "The job could not be queued: the task queue (the Celery broker) did not answer "
        f"({exc}). Create it again to retry once the broker is back."
    )


def release_dependents(obj: AMLObject) -> None:
    for dependent in waiting_dependents_of(obj):
        if readiness(dependent)[0] == READY:
            enqueue(dependent)


def fail_dependents(obj: AMLObject) -> None:
    from console import lifecycle

    for dependent in waiting_dependents_of(obj):
        lifecycle.fail(dependent, blocked_message(obj))


def task_for(model: type[AMLObject]) -> Any:
    from console import tasks

    table: dict[type[AMLObject], Callable[..., Any]] = {
        DataSource: tasks.compute_data_source_statistics,
        MLModel: tasks.train_ml_model,
        Evaluation: tasks.evaluate_ml_model,
        BatchPrediction: tasks.generate_batch_prediction,
    }
    return table[model]

"""Celery tasks: thin wrappers that take ids and hand them to `console.jobs.run_job`.

Tasks are sent after the transaction commits, acknowledged late, and never retried
automatically: a failed job fails visibly and the user decides.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.worker.request import Request
from django.db import connection

from console import lifecycle
from console.jobs import run_job
from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel

log = logging.getLogger(__name__)

JOB_MODELS: dict[str, type[AMLObject]] = {
    "console.compute_data_source_statistics": DataSource,
    "console.train_ml_model": MLModel,
    "console.evaluate_ml_model": Evaluation,
    "console.generate_batch_prediction": BatchPrediction,
}


class JobRequest(Request):
    """A job's request as the worker's main process sees it.

    When the pool process running a job dies (killed, out of memory), Celery reports the loss
    here, in the main process, and requeues the message. The job is failed now, saying that its
    worker stopped, rather than when a redelivery or the sweep would notice.
    """

    def on_failure(self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False):  # type: ignore[no-untyped-def]
        try:
            fail_job_if_its_process_died(self.task.name, self.args)
        except Exception:  # never in the way of Celery's own handling of the failure
            log.exception("could not check the job of lost task %s", self.id)
        finally:
            # This is the main process, which forks the replacement pool process: it keeps no
            # database connection open.
            if not connection.in_atomic_block:  # (a test's transaction)
                connection.close()
        return super().on_failure(
            exc_info, send_failed_event=send_failed_event, return_ok=return_ok
        )


def fail_job_if_its_process_died(task_name: str, args: Any) -> bool:
    model = JOB_MODELS.get(task_name)
    if model is None or not args:
        return False
    obj = model.objects.filter(pk=args[0]).first()
    if obj is None or not lifecycle.claimant_is_dead(obj):
        return False
    return lifecycle.fail_orphan(obj)


@shared_task(name="console.compute_data_source_statistics", acks_late=True, Request=JobRequest)
def compute_data_source_statistics(pk: int) -> str:
    from console.jobs.statistics import compute_statistics_job

    return run_job(DataSource, pk, compute_statistics_job, what="computing statistics")


@shared_task(name="console.train_ml_model", acks_late=True, Request=JobRequest)
def train_ml_model(pk: int) -> str:
    from console.jobs.training import train_job

    return run_job(MLModel, pk, train_job, what="training the model")


@shared_task(name="console.evaluate_ml_model", acks_late=True, Request=JobRequest)
def evaluate_ml_model(pk: int) -> str:
    from console.jobs.evaluation import evaluate_job

    return run_job(Evaluation, pk, evaluate_job, what="evaluating the model")


@shared_task(name="console.generate_batch_prediction", acks_late=True, Request=JobRequest)
def generate_batch_prediction(pk: int) -> str:
    from console.jobs.batch_prediction import batch_prediction_job

    return run_job(BatchPrediction, pk, batch_prediction_job, what="generating batch predictions")


@shared_task(name="console.mount_realtime_endpoint", acks_late=True)
def mount_realtime_endpoint(pk: int) -> str:
    from console.services.realtime import mount_realtime_endpoint as mount

    return mount(pk)


@shared_task(name="console.sweep_stale_jobs")
def sweep_stale_jobs() -> str:
    from console.services.uploads import delete_abandoned_uploads

    stale = lifecycle.sweep_stale_jobs()
    orphaned = lifecycle.fail_jobs_of_dead_workers()
    return (
        f"failed {stale} stale job(s) and {orphaned} of dead worker processes, "
        f"deleted {delete_abandoned_uploads()} abandoned upload(s)"
    )

"""Celery tasks: thin wrappers that take ids and hand them to `console.jobs.run_job`.

Tasks are sent after the transaction commits, acknowledged late, and never retried
automatically: a failed job fails visibly and the user decides.
"""

from __future__ import annotations

from celery import shared_task

from console import lifecycle
from console.jobs import run_job
from console.models import BatchPrediction, DataSource, Evaluation, MLModel


@shared_task(name="console.compute_data_source_statistics", acks_late=True)
def compute_data_source_statistics(pk: int) -> str:
    from console.jobs.statistics import compute_statistics_job

    return run_job(DataSource, pk, compute_statistics_job, what="computing statistics")


@shared_task(name="console.train_ml_model", acks_late=True)
def train_ml_model(pk: int) -> str:
    from console.jobs.training import train_job

    return run_job(MLModel, pk, train_job, what="training the model")


@shared_task(name="console.evaluate_ml_model", acks_late=True)
def evaluate_ml_model(pk: int) -> str:
    from console.jobs.evaluation import evaluate_job

    return run_job(Evaluation, pk, evaluate_job, what="evaluating the model")


@shared_task(name="console.generate_batch_prediction", acks_late=True)
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

    failed = lifecycle.sweep_stale_jobs()
    return f"failed {failed} stale job(s), deleted {delete_abandoned_uploads()} abandoned upload(s)"

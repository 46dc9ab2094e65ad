"""The statistics job end to end: service → on_commit → Redis → a real Celery worker → the row."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from console import lifecycle
from console.models import DataSource, Status
from console.services.datasources import create_data_source_from_s3

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

FINISHED = (Status.COMPLETED, Status.FAILED)


def create_banking(owner: Any, shared_data: Path, location: Path | None = None) -> DataSource:
    return create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(location or shared_data / "banking.csv"),
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        data_source_name="Banking",
    )


def wait_until_finished(
    wait: Callable[..., Any], ds: DataSource, worker: Any, timeout: float = 90
) -> DataSource:
    def finished() -> DataSource | None:
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died (code {worker.process.returncode}):\n{worker.log()}")
        row = DataSource.objects.get(pk=ds.pk)
        return row if row.status in FINISHED else None

    return wait(finished, timeout=timeout, what=f"datasource {ds.entity_id} to finish", step=0.2)


def test_a_real_worker_computes_the_statistics_of_a_new_datasource(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any]
) -> None:
    worker = celery_worker()

    ds = create_banking(owner, shared_data)
    assert ds.status == Status.PENDING

    row = wait_until_finished(wait, ds, worker)
    assert row.status == Status.COMPLETED, f"{row.message}\n{worker.log()}"
    # The tutorial schema's BINARY `previous` makes 1,064 records invalid (skipped, as in training).
    assert row.records_count == 41188 - 1064
    assert row.invalid_records_count == 1064
    assert row.number_of_files == 1
    assert row.statistics is not None
    assert row.statistics["recordsRead"] == 41188
    assert row.started_at is not None
    assert row.finished_at is not None
    assert row.started_at <= row.finished_at
    assert row.compute_time is not None
    assert row.compute_time > 0
    assert row.progress["records"] == 41188
    assert "Read 41,188 records: 40,124 valid, 1,064 invalid (" in row.log  # and why
    assert "console.compute_data_source_statistics" in worker.log()
    # Celery logs the task's result after the row is committed, so the line may lag the status.
    wait(
        lambda: "'completed'" in worker.log(),
        timeout=10,
        what="the worker to log the task's 'completed' result",
        step=0.1,
    )


def test_it_fails_a_job_whose_worker_vanished(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any], settings: Any
) -> None:
    # Thirty links to banking.csv make one datasource of 146 MB: several seconds of work.
    folder = Path(settings.AML_DATA_ROOTS[0]) / "big"
    folder.mkdir()
    for n in range(30):
        (folder / f"part-{n:02d}.csv").symlink_to(shared_data / "banking.csv")
    worker = celery_worker()

    ds = create_banking(owner, shared_data, folder)

    def working() -> DataSource | None:
        row = DataSource.objects.get(pk=ds.pk)
        assert row.status not in FINISHED, f"finished before it could be killed: {row.message}"
        return row if row.status == Status.INPROGRESS and row.progress.get("records") else None

    running = wait(working, timeout=60, what="the worker to report progress", step=0.05)
    worker.kill()

    settings.AML_STALE_JOB_SECONDS = 30
    assert lifecycle.sweep_stale_jobs() == 0, "a fresh heartbeat must not be swept"
    row = DataSource.objects.get(pk=ds.pk)
    assert row.status == Status.INPROGRESS, "a killed worker leaves its row behind"
    assert 0 < row.progress["records"] < 30 * 41188

    later = timezone.now() + timedelta(seconds=31)
    assert lifecycle.sweep_stale_jobs(now=later) == 1

    row = DataSource.objects.get(pk=ds.pk)
    assert row.status == Status.FAILED
    assert "stopped responding" in row.message
    assert row.records_count is None
    assert running.started_at == row.started_at


def test_a_redelivered_job_of_a_dead_worker_is_failed_not_run_twice(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any], settings: Any
) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    # The job is queued while no worker runs; a first worker "claims" it and dies.
    ds = create_banking(owner, shared_data)
    assert lifecycle.claim(DataSource, ds.pk) is not None
    DataSource.objects.filter(pk=ds.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    worker = celery_worker()

    row = wait_until_finished(wait, ds, worker, timeout=60)
    assert row.status == Status.FAILED
    assert "stopped before finishing" in row.message
    assert row.records_count is None
    # The worker logs the task's outcome only after it returns, a moment after the row changed.
    assert wait(
        lambda: "'failed-redelivered'" in worker.log(), timeout=30, what="the outcome in the log"
    )

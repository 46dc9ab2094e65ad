"""console.lifecycle: the only writer of an AML object's status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from console import lifecycle
from console.models import DataSource, MLModel, Status

pytestmark = pytest.mark.django_db


def make_datasource(owner: Any, entity_id: str = "ds-lifecycle01", **fields: Any) -> DataSource:
    return DataSource.objects.create(
        owner=owner,
        entity_id=entity_id,
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3="/nowhere/data.csv",
        **fields,
    )


def make_running(owner: Any, entity_id: str = "ds-lifecycle01") -> DataSource:
    ds = lifecycle.claim(DataSource, make_datasource(owner, entity_id).pk)
    assert ds is not None
    return ds


def age_heartbeat(obj: Any, seconds: int) -> None:
    """Pretend the worker last reported `seconds` ago."""
    type(obj).objects.filter(pk=obj.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=seconds)
    )
    obj.refresh_from_db()


# --------------------------------------------------------------------------- claim


def test_it_lets_only_the_first_claim_win(owner: Any) -> None:
    ds = make_datasource(owner)

    first = lifecycle.claim(DataSource, ds.pk)
    second = lifecycle.claim(DataSource, ds.pk)

    assert first is not None
    assert first.status == Status.INPROGRESS
    assert first.started_at is not None
    assert first.heartbeat_at is not None
    assert second is None


def test_it_does_not_claim_a_finished_or_deleted_job(owner: Any) -> None:
    for n, status in enumerate([Status.COMPLETED, Status.FAILED, Status.DELETED]):
        ds = make_datasource(owner, f"ds-done{n}", status=status)

        assert lifecycle.claim(DataSource, ds.pk) is None
        ds.refresh_from_db()
        assert ds.status == status


def test_it_returns_none_when_claiming_a_row_that_does_not_exist() -> None:
    assert lifecycle.claim(DataSource, 987_654) is None


# --------------------------------------------------------------------------- complete


def test_it_completes_a_running_job_with_its_results(owner: Any) -> None:
    ds = make_running(owner)

    assert lifecycle.complete(ds, compute_time_ms=1234, records_count=7) is True

    assert ds.status == Status.COMPLETED
    assert ds.compute_time == 1234
    assert ds.records_count == 7
    assert ds.finished_at is not None
    assert ds.finished_at >= ds.started_at


def test_it_does_not_complete_a_job_that_was_never_claimed(owner: Any) -> None:
    ds = make_datasource(owner)

    assert lifecycle.complete(ds, records_count=7) is False

    assert ds.status == Status.PENDING
    assert ds.records_count is None


def test_it_does_not_complete_a_job_that_already_failed(owner: Any) -> None:
    ds = make_running(owner)
    lifecycle.fail(ds, "the file vanished")

    assert lifecycle.complete(ds, records_count=7) is False

    assert ds.status == Status.FAILED
    assert ds.message == "the file vanished"
    assert ds.records_count is None


def test_it_does_not_complete_a_deleted_job(owner: Any) -> None:
    ds = make_running(owner)
    lifecycle.mark_deleted(ds)

    assert lifecycle.complete(ds) is False
    assert ds.status == Status.DELETED


# --------------------------------------------------------------------------- fail


def test_it_fails_a_running_job_with_a_message_and_a_log_line(owner: Any) -> None:
    ds = make_running(owner)

    assert lifecycle.fail(ds, "banking.csv, line 12: not UTF-8") is True

    assert ds.status == Status.FAILED
    assert ds.message == "banking.csv, line 12: not UTF-8"
    assert ds.finished_at is not None
    assert "FAILED: banking.csv, line 12: not UTF-8" in ds.log


def test_it_fails_a_pending_job(owner: Any) -> None:
    ds = make_datasource(owner)

    assert lifecycle.fail(ds, "could not be queued") is True
    assert ds.status == Status.FAILED


def test_it_does_not_fail_a_completed_job(owner: Any) -> None:
    ds = make_running(owner)
    lifecycle.complete(ds)

    assert lifecycle.fail(ds, "too late") is False

    assert ds.status == Status.COMPLETED
    assert ds.message == ""
    assert "too late" not in ds.log


def test_it_does_not_overwrite_the_first_failure(owner: Any) -> None:
    ds = make_running(owner)
    lifecycle.fail(ds, "first")

    assert lifecycle.fail(ds, "second") is False
    assert ds.message == "first"


def test_it_keeps_a_very_long_message_bounded(owner: Any) -> None:
    ds = make_running(owner)

    lifecycle.fail(ds, "x" * 50_000)

    assert len(ds.message) == 10_240
    assert len(ds.log) < 21_000


# --------------------------------------------------------------------------- progress


def test_it_records_progress_and_a_heartbeat(owner: Any) -> None:
    ds = make_running(owner)
    age_heartbeat(ds, 300)
    old_heartbeat = ds.heartbeat_at

    assert lifecycle.report_progress(ds, records=10, bytes=100) is True
    assert lifecycle.report_progress(ds, records=20) is True

    ds.refresh_from_db()
    assert ds.progress == {"records": 20, "bytes": 100}
    assert ds.heartbeat_at > old_heartbeat


def test_it_refuses_a_late_progress_report_after_a_failure(owner: Any) -> None:
    ds = make_running(owner)
    worker_copy = DataSource.objects.get(pk=ds.pk)
    lifecycle.fail(ds, "swept")

    assert lifecycle.report_progress(worker_copy, records=99) is False

    ds.refresh_from_db()
    assert ds.status == Status.FAILED
    assert ds.message == "swept"
    assert ds.progress == {}


def test_it_refuses_progress_for_a_job_never_claimed(owner: Any) -> None:
    ds = make_datasource(owner)

    assert lifecycle.report_progress(ds, records=1) is False
    ds.refresh_from_db()
    assert ds.status == Status.PENDING


# --------------------------------------------------------------------------- stale jobs


def test_it_calls_a_job_stale_only_after_the_configured_silence(owner: Any, settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    ds = make_running(owner)

    assert lifecycle.is_stale(ds) is False
    assert lifecycle.is_stale(ds, now=timezone.now() + timedelta(seconds=61)) is True

    age_heartbeat(ds, 61)
    assert lifecycle.is_stale(ds) is True


def test_it_never_calls_a_finished_job_stale(owner: Any) -> None:
    ds = make_running(owner)
    lifecycle.complete(ds)

    assert lifecycle.is_stale(ds, now=timezone.now() + timedelta(days=30)) is False


def test_it_fails_a_job_whose_worker_vanished_and_leaves_fresh_ones(
    owner: Any, settings: Any
) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    vanished = make_running(owner, "ds-vanished")
    alive = make_running(owner, "ds-alive")
    age_heartbeat(vanished, 120)
    age_heartbeat(alive, 10)

    assert lifecycle.sweep_stale_jobs() == 1

    vanished.refresh_from_db()
    alive.refresh_from_db()
    assert vanished.status == Status.FAILED
    assert "stopped responding" in vanished.message
    assert "over 60 s" in vanished.message
    assert "FAILED:" in vanished.log
    assert alive.status == Status.INPROGRESS
    assert alive.message == ""


def test_it_sweeps_with_an_explicit_clock(owner: Any, settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = 600
    ds = make_running(owner)

    assert lifecycle.sweep_stale_jobs(now=timezone.now() + timedelta(seconds=599)) == 0
    assert lifecycle.sweep_stale_jobs(now=timezone.now() + timedelta(seconds=601)) == 1

    ds.refresh_from_db()
    assert ds.status == Status.FAILED


def test_it_sweeps_only_inprogress_rows(owner: Any, settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    pending = make_datasource(owner, "ds-pending")
    completed = make_running(owner, "ds-completed")
    lifecycle.complete(completed)
    failed = make_running(owner, "ds-failed")
    lifecycle.fail(failed, "earlier failure")
    for obj in (pending, completed, failed):
        age_heartbeat(obj, 3600)

    assert lifecycle.sweep_stale_jobs() == 0

    assert DataSource.objects.get(pk=pending.pk).status == Status.PENDING
    assert DataSource.objects.get(pk=completed.pk).status == Status.COMPLETED
    assert DataSource.objects.get(pk=failed.pk).message == "earlier failure"


def test_it_sweeps_a_running_job_that_never_reported_a_heartbeat(owner: Any, settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    ds = make_running(owner)
    DataSource.objects.filter(pk=ds.pk).update(heartbeat_at=None)
    ds.refresh_from_db()
    assert lifecycle.is_stale(ds) is True

    assert lifecycle.sweep_stale_jobs() == 1

    ds.refresh_from_db()
    assert ds.status == Status.FAILED


def test_it_sweeps_every_kind_of_object(owner: Any, settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    ds = make_datasource(owner, status=Status.COMPLETED)
    model = MLModel.objects.create(
        owner=owner,
        entity_id="ml-stale",
        training_data_source=ds,
        ml_model_type=MLModel.ModelType.BINARY,
    )
    running = lifecycle.claim(MLModel, model.pk)
    assert running is not None
    age_heartbeat(running, 120)

    assert lifecycle.sweep_stale_jobs() == 1

    running.refresh_from_db()
    assert running.status == Status.FAILED


# --------------------------------------------------------------------------- delete and log


def test_it_marks_any_job_deleted_and_keeps_it_readable(owner: Any) -> None:
    ds = make_running(owner)

    lifecycle.mark_deleted(ds)

    assert ds.status == Status.DELETED
    assert DataSource.objects.filter(pk=ds.pk).exists()
    assert lifecycle.report_progress(ds, records=1) is False
    assert lifecycle.fail(ds, "late") is False
    assert DataSource.objects.get(pk=ds.pk).status == Status.DELETED


def test_it_appends_log_lines_without_reading_the_row(owner: Any) -> None:
    ds = make_datasource(owner)
    stale_copy = DataSource.objects.get(pk=ds.pk)

    lifecycle.append_log(ds, "first line")
    lifecycle.append_log(stale_copy, "second line\nthird line")

    log = DataSource.objects.get(pk=ds.pk).log.splitlines()
    assert [line.split(" ", 2)[2] for line in log] == ["first line", "second line", "third line"]


def test_it_summarises_an_oversized_log_append(owner: Any) -> None:
    ds = make_datasource(owner)

    lifecycle.append_log(ds, "y" * (lifecycle.LOG_LINE_LIMIT + 500))

    log = DataSource.objects.get(pk=ds.pk).log
    assert "(500 more characters)" in log
    assert len(log) < lifecycle.LOG_LINE_LIMIT + 200

"""console.tasks.compute_data_source_statistics, called directly (no broker), and the sweep task."""

from __future__ import annotations

import functools
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

import console.jobs.statistics as statistics_job
from console import lifecycle, tasks
from console.models import DataSource, Status
from console.services.datasources import create_data_source_from_s3
from mlcore.stats import compute_statistics as real_compute_statistics

pytestmark = pytest.mark.django_db

BANKING_RECORDS = 41188
BANKING_INVALID = 1064  # `previous` above 1 under the tutorial's BINARY schema

SMALL_CSV = "age,colour,score,label\n" + "".join(
    f"{20 + i},{['red', 'green', 'blue'][i % 3]},{i * 1.5},{i % 2}\n" for i in range(40)
)
SMALL_SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "label",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "colour", "attributeType": "CATEGORICAL"},
        {"attributeName": "score", "attributeType": "NUMERIC"},
        {"attributeName": "label", "attributeType": "BINARY"},
    ],
}


@pytest.fixture
def datasets(settings: Any) -> Path:
    """The first allowed data folder (a fresh tmp folder, see tests/conftest.py)."""
    return Path(settings.AML_DATA_ROOTS[0])


def write_csv(folder: Path, name: str = "small.csv", text: str = SMALL_CSV) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def create(owner: Any, location: str | Path, schema: dict[str, Any] | None = None) -> DataSource:
    spec: dict[str, Any] = {"DataLocationS3": str(location)}
    if schema is not None:
        spec["DataSchema"] = json.dumps(schema)
    return create_data_source_from_s3(owner, data_spec=spec, data_source_name="test")


def run(ds: DataSource) -> tuple[str, DataSource]:
    outcome = tasks.compute_data_source_statistics(ds.pk)
    return outcome, DataSource.objects.get(pk=ds.pk)


# --------------------------------------------------------------------------- success


def test_it_computes_statistics_for_a_small_csv(owner: Any, datasets: Path) -> None:
    path = write_csv(datasets)
    ds = create(owner, path, SMALL_SCHEMA)
    assert ds.status == Status.PENDING

    outcome, ds = run(ds)

    assert outcome == "completed"
    assert ds.status == Status.COMPLETED
    assert ds.records_count == 40
    assert ds.invalid_records_count == 0
    assert ds.number_of_files == 1
    assert ds.data_size_in_bytes == path.stat().st_size
    assert ds.statistics is not None
    assert ds.statistics["recordCount"] == 40
    assert ds.started_at is not None
    assert ds.finished_at is not None
    assert ds.compute_time is not None
    assert ds.compute_time >= 0
    assert ds.message == ""


def test_it_infers_a_schema_when_none_was_given(owner: Any, datasets: Path) -> None:
    ds = create(owner, write_csv(datasets))
    assert ds.data_schema == {}

    outcome, ds = run(ds)

    assert outcome == "completed", ds.message
    assert ds.status == Status.COMPLETED
    assert ds.records_count == 40
    names = [a["attributeName"] for a in ds.data_schema["attributes"]]
    assert names == ["age", "colour", "score", "label"]
    assert "inferred" in ds.log


def test_it_computes_the_banking_statistics(owner: Any, shared_data: Path) -> None:
    # The tutorial schema calls `previous` BINARY: its 1,064 records above 1 are invalid and
    # skipped, exactly as training will skip them.
    schema = json.loads((shared_data / "banking.csv.schema").read_text())
    ds = create(owner, shared_data / "banking.csv", schema)

    outcome, ds = run(ds)

    assert outcome == "completed", ds.message
    assert ds.status == Status.COMPLETED
    assert ds.records_count == BANKING_RECORDS - BANKING_INVALID
    assert ds.invalid_records_count == BANKING_INVALID
    assert ds.data_size_in_bytes == (shared_data / "banking.csv").stat().st_size
    assert ds.compute_time is not None
    assert ds.compute_time > 0
    assert ds.statistics is not None
    assert ds.statistics["recordsRead"] == BANKING_RECORDS
    assert ds.statistics["recordCount"] == BANKING_RECORDS - BANKING_INVALID
    assert ds.progress["records"] == BANKING_RECORDS
    assert ds.progress["bytes"] == ds.progress["totalBytes"] == ds.data_size_in_bytes
    log = ds.log
    assert f"Datasource {ds.entity_id} created from" in log
    assert (
        "Read 41,188 records: 40,124 valid, 1,064 invalid "
        "(1,064 with a value that does not fit its attribute's type)." in log
    )
    assert f"Invalid record: {shared_data / 'banking.csv'}, line " in log
    assert "column 'previous'" in log
    assert "and 964 more invalid records" in log


def mixed_csv(folder: Path) -> Path:
    """200 records: 40 with two fields instead of three, 23 with a word in a numeric column."""
    lines = ["a,b,y"]
    for i in range(200):
        if i % 5 == 0:
            lines.append(f"{i},x")
        elif i % 7 == 0:
            lines.append(f"oops,{i},1")
        else:
            lines.append(f"{i},{i * 2},{i % 2}")
    return write_csv(folder, "mixed.csv", "\n".join(lines) + "\n")


MIXED_SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "y",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "a", "attributeType": "NUMERIC"},
        {"attributeName": "b", "attributeType": "NUMERIC"},
        {"attributeName": "y", "attributeType": "BINARY"},
    ],
}


def test_records_read_are_the_valid_plus_the_invalid_ones_in_the_log_and_statistics(
    owner: Any, datasets: Path
) -> None:
    ds = create(owner, mixed_csv(datasets), MIXED_SCHEMA)

    outcome, ds = run(ds)

    assert outcome == "completed", ds.message
    assert (ds.records_count, ds.invalid_records_count) == (137, 63)
    assert ds.statistics["recordsRead"] == ds.progress["records"] == 200
    assert ds.statistics["invalidRecordReasons"] == {"wrongFieldCount": 40, "invalidValue": 23}
    assert (
        "Read 200 records: 137 valid, 63 invalid (40 with the wrong number of fields, "
        "23 with a value that does not fit its attribute's type)." in ds.log
    )


def test_it_counts_every_banking_record_under_an_inferred_schema(
    owner: Any, shared_data: Path
) -> None:
    ds = create(owner, shared_data / "banking.csv")

    outcome, ds = run(ds)

    assert outcome == "completed", ds.message
    assert ds.records_count == BANKING_RECORDS
    assert ds.invalid_records_count == 0
    assert ds.data_schema["targetAttributeName"] == "y"
    assert "Read 41,188 records: 41,188 valid, 0 invalid." in ds.log


def test_it_keeps_no_statistics_when_they_were_not_asked_for(owner: Any, datasets: Path) -> None:
    ds = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(write_csv(datasets)),
            "DataSchema": json.dumps(SMALL_SCHEMA),
        },
        compute_statistics=False,
    )

    outcome, ds = run(ds)

    assert outcome == "completed"
    assert ds.statistics is None
    assert ds.records_count == 40


def test_it_logs_invalid_records_with_their_file_and_line(owner: Any, datasets: Path) -> None:
    path = write_csv(datasets, text=SMALL_CSV + "1,2\n" + "99,red,1.0,1\n")
    ds = create(owner, path, SMALL_SCHEMA)

    outcome, ds = run(ds)

    assert outcome == "completed"
    assert ds.records_count == 41
    assert ds.invalid_records_count == 1
    assert f"Invalid record: {path}, line 42: expected 4 fields, found 2" in ds.log


# --------------------------------------------------------------------------- failures


def test_it_fails_a_datasource_with_too_many_invalid_records(
    owner: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_rows = "1,2\n" * 5
    path = write_csv(datasets, text=SMALL_CSV + bad_rows)
    ds = create(owner, path, SMALL_SCHEMA)
    monkeypatch.setattr(
        statistics_job,
        "compute_statistics",
        functools.partial(real_compute_statistics, max_invalid=3),
    )

    outcome, ds = run(ds)

    assert outcome == "failed"
    assert ds.status == Status.FAILED
    assert str(path) in ds.message
    assert "more than 3 invalid records" in ds.message
    assert "42" in ds.message  # the first bad line
    assert ds.finished_at is not None
    assert "Invalid record:" in ds.log


def test_it_fails_a_file_that_is_not_utf8_naming_the_line(owner: Any, datasets: Path) -> None:
    path = write_csv(datasets)
    ds = create(owner, path, SMALL_SCHEMA)
    lines = SMALL_CSV.encode().splitlines(keepends=True)
    lines[5] = b"25,r\xe9d,1.0,1\n"
    path.write_bytes(b"".join(lines))

    outcome, ds = run(ds)

    assert outcome == "failed"
    assert ds.status == Status.FAILED
    assert ds.message.startswith(f"{path}, line 6:")
    assert "not UTF-8" in ds.message


def test_it_fails_a_file_emptied_after_creation(owner: Any, datasets: Path) -> None:
    path = write_csv(datasets)
    ds = create(owner, path, SMALL_SCHEMA)
    path.write_text("")

    outcome, ds = run(ds)

    assert outcome == "failed"
    assert ds.status == Status.FAILED
    assert str(path) in ds.message
    assert "empty" in ds.message


def test_it_fails_when_the_schema_names_a_column_the_data_lacks(owner: Any, datasets: Path) -> None:
    schema = {
        **SMALL_SCHEMA,
        "attributes": [
            *SMALL_SCHEMA["attributes"][:3],
            {"attributeName": "y", "attributeType": "BINARY"},
        ],
        "targetAttributeName": "y",
    }
    ds = create(owner, write_csv(datasets), schema)

    outcome, ds = run(ds)

    assert outcome == "failed"
    assert ds.status == Status.FAILED
    assert "'y'" in ds.message
    assert "column" in ds.message


def test_it_fails_a_datasource_whose_file_was_deleted(owner: Any, datasets: Path) -> None:
    path = write_csv(datasets)
    ds = create(owner, path, SMALL_SCHEMA)
    path.unlink()

    outcome, ds = run(ds)

    assert outcome == "failed"
    assert ds.status == Status.FAILED
    assert ds.message == f"{path}: no such file or directory"
    assert ds.finished_at is not None


def test_it_fails_with_an_internal_error_when_the_engine_crashes(
    owner: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("division by zebra")

    monkeypatch.setattr(statistics_job, "compute_statistics", explode)
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)

    outcome, ds = run(ds)

    assert outcome == "crashed"
    assert ds.status == Status.FAILED
    assert ds.message == (
        "Internal error while computing statistics: RuntimeError: division by zebra"
    )
    assert "FAILED: Internal error" in ds.log


def test_it_fails_saying_the_database_connection_was_lost_when_the_database_drops_it(
    owner: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError

    def dropped(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise OperationalError("terminating connection due to administrator command\nmore")

    monkeypatch.setattr(statistics_job, "compute_statistics", dropped)
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)

    outcome, ds = run(ds)

    assert outcome == "failed-database"
    assert ds.status == Status.FAILED
    assert ds.message == (
        "The connection to the database was lost while computing statistics "
        "(terminating connection due to administrator command). Create it again to retry."
    )


def test_it_stops_quietly_when_the_row_was_failed_while_it_worked(
    owner: Any, datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)

    def swept_midway(files: Any, schema: Any, fmt: Any, **kwargs: Any) -> dict[str, Any]:
        lifecycle.fail(DataSource.objects.get(pk=ds.pk), "swept by the sweeper")
        kwargs["progress"](10, 100)
        raise AssertionError("the progress callback should have stopped the job")

    monkeypatch.setattr(statistics_job, "compute_statistics", swept_midway)
    monkeypatch.setattr("console.jobs.PROGRESS_EVERY_SECONDS", 0)  # let every report through

    outcome, ds = run(ds)

    assert outcome == "cancelled"
    assert ds.status == Status.FAILED
    assert ds.message == "swept by the sweeper"


# --------------------------------------------------------------------------- redelivery


def test_it_does_nothing_when_a_completed_job_is_delivered_again(
    owner: Any, datasets: Path
) -> None:
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)
    run(ds)
    before = DataSource.objects.get(pk=ds.pk)

    outcome, after = run(ds)

    assert outcome == "skipped-completed"
    assert after.status == Status.COMPLETED
    assert after.finished_at == before.finished_at
    assert after.log == before.log


def test_it_does_nothing_for_a_deleted_or_missing_job(owner: Any, datasets: Path) -> None:
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)
    lifecycle.mark_deleted(ds)

    assert tasks.compute_data_source_statistics(ds.pk) == "skipped-deleted"
    assert tasks.compute_data_source_statistics(987_654) == "missing"
    assert DataSource.objects.get(pk=ds.pk).status == Status.DELETED


def test_it_fails_a_redelivered_job_whose_first_run_is_dead(
    owner: Any, datasets: Path, settings: Any
) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)
    assert lifecycle.claim(DataSource, ds.pk) is not None
    DataSource.objects.filter(pk=ds.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=120))

    outcome, ds = run(ds)

    assert outcome == "failed-redelivered"
    assert ds.status == Status.FAILED
    assert "stopped before finishing" in ds.message
    assert ds.records_count is None


def test_it_leaves_a_redelivered_job_alone_while_its_first_run_is_alive(
    owner: Any, datasets: Path, settings: Any
) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)
    assert lifecycle.claim(DataSource, ds.pk) is not None

    outcome, ds = run(ds)

    assert outcome == "skipped-inprogress"
    assert ds.status == Status.INPROGRESS
    assert ds.message == ""
    assert ds.records_count is None


# --------------------------------------------------------------------------- sweep task


def test_the_sweep_task_fails_stale_jobs(owner: Any, datasets: Path, settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    ds = create(owner, write_csv(datasets), SMALL_SCHEMA)
    lifecycle.claim(DataSource, ds.pk)
    DataSource.objects.filter(pk=ds.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))

    assert tasks.sweep_stale_jobs().startswith("failed 1 stale job(s)")
    assert tasks.sweep_stale_jobs().startswith("failed 0 stale job(s)")
    assert DataSource.objects.get(pk=ds.pk).status == Status.FAILED


def test_a_job_waits_for_a_restarting_database_instead_of_ending_with_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import OperationalError

    from console import jobs

    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)
    answers = iter([OperationalError("the database system is starting up")] * 2 + ["claimed"])

    def claim() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert jobs.with_database(claim) == "claimed"


def test_a_job_gives_up_on_a_database_that_stays_away(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.db import OperationalError

    from console import jobs

    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)

    def unreachable() -> str:
        raise OperationalError("connection refused")

    with pytest.raises(OperationalError, match="connection refused"):
        jobs.with_database(unreachable, patience=0)


def test_a_job_whose_database_stays_away_goes_back_to_the_queue_instead_of_being_lost(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from celery.exceptions import Reject
    from django.db import OperationalError

    from console import jobs

    def unreachable(*args: object, **kwargs: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(jobs, "_claim_when_ready", unreachable)
    monkeypatch.setattr(jobs, "DATABASE_PATIENCE_SECONDS", 0.0)
    monkeypatch.setattr(jobs.time, "sleep", lambda seconds: None)

    with pytest.raises(Reject) as rejected:
        jobs.run_job(DataSource, 1, lambda obj, context: {}, what="computing statistics")
    assert rejected.value.requeue is True
    assert "connection refused" in str(rejected.value.reason)

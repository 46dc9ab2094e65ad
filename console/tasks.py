"""Celery tasks. Each takes ids, claims its row through `lifecycle`, calls mlcore, and always
leaves the row COMPLETED or FAILED. Training-like jobs are never retried automatically."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import shared_task

from console import datafiles, lifecycle
from console.models import DataSource, Status
from mlcore.errors import MLCoreError
from mlcore.io.csvreader import CsvFormat, InvalidRecord, sniff
from mlcore.io.rearrangement import parse_rearrangement
from mlcore.schema import infer_schema, parse_schema, schema_to_dict, suggest_target
from mlcore.stats import compute_statistics

log = logging.getLogger(__name__)

INVALID_LINES_LOGGED = 100
PROGRESS_EVERY_SECONDS = 0.5


class ThrottledProgress:
    """Writes progress to the row at most twice a second; stops the job if the row was failed."""

    def __init__(self, obj: Any, total_bytes: int) -> None:
        self.obj = obj
        self.total_bytes = total_bytes
        self.last = 0.0

    def __call__(self, records_read: int, bytes_read: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        still_ours = lifecycle.report_progress(
            self.obj, records=records_read, bytes=bytes_read, totalBytes=self.total_bytes
        )
        if not still_ours:
            raise JobCancelled()


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


@shared_task(name="console.compute_data_source_statistics", acks_late=True)
def compute_data_source_statistics(pk: int) -> str:
    ds = lifecycle.claim(DataSource, pk)
    if ds is None:
        return _explain_unclaimed(DataSource, pk)
    started = time.process_time()
    invalid = InvalidRecordLog()
    try:
        outcome = _run_statistics(ds, invalid, started)
    except JobCancelled:
        return "cancelled"
    except MLCoreError as exc:
        _log_invalid(ds, invalid)
        lifecycle.fail(ds, str(exc))
        return "failed"
    except Exception as exc:  # a bug must still leave the row FAILED, never INPROGRESS
        log.exception("statistics for datasource %s crashed", ds.entity_id)
        _log_invalid(ds, invalid)
        lifecycle.fail(
            ds, f"Internal error while computing statistics: {type(exc).__name__}: {exc}"
        )
        return "crashed"
    return outcome


def _run_statistics(ds: DataSource, invalid: InvalidRecordLog, started: float) -> str:
    files = datafiles.data_files_for(
        ds.source_kind, ds.data_location_s3, display_name=ds.original_filename or None
    )
    total_bytes = sum(f.size for f in files)
    lifecycle.report_progress(ds, records=0, bytes=0, totalBytes=total_bytes, phase="reading")
    schema = _schema_for(ds, files)
    fmt = CsvFormat(delimiter=ds.csv_delimiter, has_header=schema.data_file_contains_header)
    rearrangement = parse_rearrangement(ds.data_rearrangement or None)
    statistics = compute_statistics(
        files,
        schema,
        fmt,
        rearrangement=rearrangement,
        progress=ThrottledProgress(ds, total_bytes),
        on_invalid=invalid,
    )
    _log_invalid(ds, invalid)
    lifecycle.append_log(
        ds,
        f"Read {statistics['recordsRead']:,} records: {statistics['recordCount']:,} valid, "
        f"{statistics['invalidRecordCount']:,} invalid.",
    )
    finished = lifecycle.complete(
        ds,
        compute_time_ms=int((time.process_time() - started) * 1000),
        statistics=statistics if ds.compute_statistics else None,
        data_schema=schema_to_dict(schema),
        data_size_in_bytes=total_bytes,
        number_of_files=len(files),
        records_count=statistics["recordCount"],
        invalid_records_count=statistics["invalidRecordCount"],
        progress={
            "records": statistics["recordsRead"],
            "bytes": total_bytes,
            "totalBytes": total_bytes,
        },
    )
    return "completed" if finished else "cancelled"


def _schema_for(ds: DataSource, files: list[Any]) -> Any:
    if ds.data_schema:
        return parse_schema(ds.data_schema)
    sniffed = sniff(files)
    schema = infer_schema(
        list(sniffed.columns), [list(r) for r in sniffed.sample_rows], sniffed.has_header
    )
    schema.target = suggest_target(schema, [list(r) for r in sniffed.sample_rows])
    lifecycle.append_log(ds, "No schema was given; inferred one from the first records.")
    return schema


def _log_invalid(ds: DataSource, invalid: InvalidRecordLog) -> None:
    if invalid.count:
        lifecycle.append_log(ds, invalid.summary())


def _explain_unclaimed(model: type[Any], pk: int) -> str:
    """A second delivery of the same job: fail it only if its first run is provably dead."""
    obj = model.objects.filter(pk=pk).first()
    if obj is None:
        return "missing"
    if obj.status == Status.INPROGRESS and lifecycle.is_stale(obj):
        lifecycle.fail(
            obj,
            "The worker processing this job stopped before finishing. Create it again to retry.",
        )
        return "failed-redelivered"
    return f"skipped-{obj.status.lower()}"


@shared_task(name="console.sweep_stale_jobs")
def sweep_stale_jobs() -> str:
    from console.services.uploads import delete_abandoned_uploads

    failed = lifecycle.sweep_stale_jobs()
    return f"failed {failed} stale job(s), deleted {delete_abandoned_uploads()} abandoned upload(s)"

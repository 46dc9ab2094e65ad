"""The datasource job: read the data once, computing its statistics (and its schema if none)."""

from __future__ import annotations

from typing import Any

from console import datafiles
from console.jobs import JobContext
from console.models import DataSource
from mlcore.io.csvreader import CsvFormat, sniff
from mlcore.io.rearrangement import parse_rearrangement
from mlcore.schema import Schema, infer_schema, parse_schema, schema_to_dict, suggest_target
from mlcore.stats import compute_statistics, records_read_text


def compute_statistics_job(ds: DataSource, context: JobContext) -> dict[str, Any]:
    files = files_of(ds)
    total_bytes = sum(f.size for f in files)
    context.progress(force=True, records=0, bytes=0, totalBytes=total_bytes, phase="reading")
    schema = _schema_for(ds, files, context)
    statistics = compute_statistics(
        files,
        schema,
        format_of(ds, schema),
        rearrangement=parse_rearrangement(ds.data_rearrangement or None),
        progress=lambda records, done: context.progress(
            records=records, bytes=done, totalBytes=total_bytes
        ),
        on_invalid=context.invalid,
    )
    context.log(records_read_text(statistics))
    return {
        "statistics": statistics if ds.compute_statistics else None,
        "data_schema": schema_to_dict(schema),
        "data_size_in_bytes": total_bytes,
        "number_of_files": len(files),
        "records_count": statistics["recordCount"],
        "invalid_records_count": statistics["invalidRecordCount"],
        "progress": {
            "records": statistics["recordsRead"],
            "bytes": total_bytes,
            "totalBytes": total_bytes,
        },
    }


def files_of(ds: DataSource) -> list[Any]:
    return datafiles.data_files_for(
        ds.source_kind, ds.data_location_s3, display_name=ds.original_filename or None
    )


def format_of(ds: DataSource, schema: Schema) -> CsvFormat:
    return CsvFormat(delimiter=ds.csv_delimiter, has_header=schema.data_file_contains_header)


def _schema_for(ds: DataSource, files: list[Any], context: JobContext) -> Schema:
    if ds.data_schema:
        return parse_schema(ds.data_schema)
    sniffed = sniff(files)
    rows = [list(r) for r in sniffed.sample_rows]
    schema = infer_schema(list(sniffed.columns), rows, sniffed.has_header)
    schema.target = suggest_target(schema, rows)
    context.log("No schema was given; inferred one from the first records.")
    return schema

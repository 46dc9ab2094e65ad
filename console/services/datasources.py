"""Datasource operations: create (from S3, a server path or an upload), update, delete, tags."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction

from console import datafiles, dependencies
from console.models import DataSource
from mlcore.errors import LocationError, MLCoreError, RearrangementError, SchemaError
from mlcore.io.csvreader import CsvReader, sniff
from mlcore.io.rearrangement import parse_rearrangement, rearrangement_to_json
from mlcore.schema import parse_schema, schema_to_dict

from . import common
from .errors import InvalidInput

UPLOAD_SCHEME = "upload://"
FILE_SCHEME = "file://"  # file:///srv/data/x.csv names the same file as /srv/data/x.csv


def server_path_of(location: str) -> str:
    """A server path with an optional file:// before it, as the plain path.

    The service and the wizard both read file:// locations this way, so they accept the
    same ones: an absolute path inside the allowed data folders (checked when resolved).
    """
    return location.removeprefix(FILE_SCHEME)


@dataclass
class LocationSummary:
    """What the wizard's Verify button reports about a location."""

    kind: str
    location: str
    files: list[tuple[str, int]]
    delimiter: str
    has_header: bool
    columns: list[str]
    sample_rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)


def location_kind(location: str) -> tuple[str, str]:
    """Split a DataLocationS3 value into (kind, location): s3://…, upload://key, or a server path."""
    location = location.strip()
    if location.startswith("s3://"):
        return DataSource.SourceKind.S3, location
    if location.startswith(UPLOAD_SCHEME):
        return DataSource.SourceKind.UPLOAD, location[len(UPLOAD_SCHEME) :]
    location = server_path_of(location)
    if location.startswith("/"):
        return DataSource.SourceKind.PATH, location
    raise InvalidInput(
        f"{location!r} is not a data location: use s3://bucket/key, s3://bucket/prefix/ "
        "or an absolute path inside the allowed data folders."
    )


def describe_location(
    owner: Any, location: str, display_name: str | None = None
) -> LocationSummary:
    """Look at a location without creating anything: its files and what the first lines hold."""
    kind, where = location_kind(location)
    files = _resolve(owner, kind, where, display_name)
    try:
        sniffed = sniff(files)
    except MLCoreError as exc:
        raise InvalidInput(str(exc)) from exc
    return LocationSummary(
        kind=kind,
        location=where,
        files=[(f.name, f.size) for f in files],
        delimiter=sniffed.delimiter,
        has_header=sniffed.has_header,
        columns=list(sniffed.columns),
        sample_rows=[list(r) for r in sniffed.sample_rows],
        notes=list(sniffed.notes),
    )


def create_data_source_from_s3(
    owner: Any,
    *,
    data_spec: dict[str, Any],
    data_source_id: str | None = None,
    data_source_name: str = "",
    compute_statistics: bool = True,
    csv_delimiter: str | None = None,
    original_filename: str = "",
    source_kind: str | None = None,
    sql_metadata: dict[str, Any] | None = None,
) -> DataSource:
    """CreateDataSourceFromS3. `DataLocationS3` may also be a server path or `upload://key`.

    `source_kind` and `sql_metadata` are for a SQL query's result staged at that location
    (console.services.sql_sources): the datasource then records where the data came from.
    """
    entity_id = common.choose_entity_id(DataSource, data_source_id)
    kind, where = location_kind(str(data_spec.get("DataLocationS3") or ""))
    schema_dict = _schema_from_spec(data_spec)
    rearrangement = _rearrangement_from_spec(data_spec)
    files = _resolve(owner, kind, where, original_filename or None)
    sniffed = _sniff(files)
    delimiter = csv_delimiter or sniffed.delimiter
    fields = {
        "name": common.clean_name(data_source_name),
        "source_kind": source_kind or kind,
        "data_location_s3": where,
        "original_filename": original_filename or (Path(where).name if kind != "s3" else ""),
        "data_schema": schema_dict,
        "csv_delimiter": delimiter,
        "data_rearrangement": rearrangement,
        "compute_statistics": bool(compute_statistics),
        "sql_metadata": sql_metadata or {},
    }
    with transaction.atomic():
        existing = DataSource.objects.filter(owner=owner, entity_id=entity_id).first()
        if existing is not None:
            return common.same_request_or_mismatch(existing, fields)
        ds = DataSource.objects.create(
            owner=owner, entity_id=entity_id, create_request=common.request_of(fields), **fields
        )
        _log_creation(ds, files, notes=list(sniffed.notes))
        dependencies.enqueue(ds)
    return ds


def data_location_of(ds: DataSource) -> str:
    """The DataLocationS3 value that reads the same data again (e.g. for a split)."""
    if ds.source_kind == DataSource.SourceKind.UPLOAD or _staged_in_storage(ds):
        return UPLOAD_SCHEME + ds.data_location_s3
    return ds.data_location_s3


def _staged_in_storage(ds: DataSource) -> bool:
    """A SQL query's result kept in the console's storage (no S3StagingLocation): an upload key."""
    sql_kinds = (DataSource.SourceKind.RDS, DataSource.SourceKind.REDSHIFT)
    return ds.source_kind in sql_kinds and not ds.data_location_s3.startswith("s3://")


def update_data_source(owner: Any, data_source_id: str, data_source_name: str) -> DataSource:
    return common.rename(DataSource, owner, data_source_id, data_source_name)


def delete_data_source(owner: Any, data_source_id: str) -> DataSource:
    return common.delete(DataSource, owner, data_source_id)


def get_data_source(owner: Any, data_source_id: str) -> DataSource:
    return common.get_owned(DataSource, owner, data_source_id)


def _resolve(owner: Any, kind: str, where: str, display_name: str | None) -> list[Any]:
    if kind == DataSource.SourceKind.UPLOAD and not datafiles.upload_belongs_to(where, owner.pk):
        raise InvalidInput("That upload does not exist.")
    try:
        return datafiles.data_files_for(kind, where, display_name=display_name)
    except LocationError as exc:
        raise InvalidInput(str(exc)) from exc


def _sniff(files: list[Any]) -> Any:
    try:
        return sniff(files)
    except MLCoreError as exc:
        raise InvalidInput(str(exc)) from exc


def _schema_from_spec(data_spec: dict[str, Any]) -> dict[str, Any]:
    raw = data_spec.get("DataSchema")
    if raw in (None, "") and data_spec.get("DataSchemaLocationS3"):
        raw = read_text_at(str(data_spec["DataSchemaLocationS3"]), "DataSchemaLocationS3")
    if raw in (None, ""):
        return {}  # inferred from the data when the statistics run
    if isinstance(raw, str) and len(raw) > 131_071:
        raise InvalidInput("DataSchema is longer than 131,071 characters.")
    try:
        return schema_to_dict(parse_schema(raw))
    except SchemaError as exc:
        raise InvalidInput(f"DataSchema is not valid: {exc}") from exc


MAX_DOCUMENT_BYTES = 131_071  # AML's DataSchema and Recipe limit


def read_text_at(uri: str, member: str) -> str:
    """A schema or recipe document AML was given by its S3 location (DataSchemaLocationS3,
    RecipeUri), read once when the object is created, as AML did."""
    if not uri.startswith("s3://"):
        raise InvalidInput(f"{member} must be an s3:// location, not {uri!r}.")
    try:
        return datafiles.read_s3_text(uri, max_bytes=MAX_DOCUMENT_BYTES, what=member)
    except LocationError as exc:
        raise InvalidInput(f"{member}: {exc}") from exc


def _rearrangement_from_spec(data_spec: dict[str, Any]) -> str:
    raw = data_spec.get("DataRearrangement")
    if raw in (None, ""):
        return ""
    try:
        parsed = parse_rearrangement(raw)
    except RearrangementError as exc:
        raise InvalidInput(f"DataRearrangement is not valid: {exc}") from exc
    return rearrangement_to_json(parsed) if parsed else ""


def _log_creation(ds: DataSource, files: list[Any], *, notes: list[str]) -> None:
    from console import lifecycle

    listing = "\n".join(f"  {f.name} ({f.size:,} bytes)" for f in files)
    lines = [
        f"Datasource {ds.entity_id} created from {ds.location_label}: {len(files)} file(s)",
        listing,
    ]
    lines += [f"Note: {note}" for note in notes]
    if ds.data_rearrangement:
        lines.append(f"Data rearrangement: {ds.data_rearrangement}")
    lifecycle.append_log(ds, "\n".join(lines))


def schema_json_for(ds: DataSource) -> str:
    return json.dumps(ds.data_schema, indent=2)


def allowed_roots() -> list[str]:
    return [str(r) for r in settings.AML_DATA_ROOTS]


SAMPLE_ROWS = 10
SAMPLE_BYTES = 1 << 16  # the first 64 KiB of the first file hold the sample rows


def sample_rows(ds: DataSource, attribute: str) -> dict[str, Any]:
    """The first records' values of `attribute` (and of the target), for its Preview.

    Reads only the start of the first file, so a Preview costs one small read, not a pass.
    """
    from console.jobs.statistics import files_of, format_of  # jobs import services, not back

    schema = parse_schema(ds.data_schema)
    columns = [attribute] + (
        [schema.target] if schema.target and schema.target != attribute else []
    )
    if attribute not in schema.names:
        raise InvalidInput(f"Datasource {ds.entity_id} has no attribute {attribute!r}.")
    reader = CsvReader(
        files_of(ds)[:1],
        format_of(ds, schema),
        expected_columns=None if schema.data_file_contains_header else schema.names,
        chunk_bytes=SAMPLE_BYTES,
    )
    for chunk in reader.chunks():
        frame = chunk.frame.head(SAMPLE_ROWS)
        rows = [
            {"line": int(line), "values": [str(frame[c].iloc[i]) for c in columns]}
            for i, line in enumerate(chunk.line_numbers[: len(frame)])
        ]
        return {"columns": columns, "rows": rows}
    return {"columns": columns, "rows": []}

"""Datasources made from a SQL query: AML's CreateDataSourceFromRDS and CreateDataSourceFromRedshift.

The databases are the connections configured by name in `AML_SQL_CONNECTIONS`. A request names
one by its instance (or cluster) identifier and database name: the connection called
`<identifier>/<database>` if there is one, else the one called `<identifier>`. The URL's own
database is the one opened; the request's database name is recorded as AML recorded it.

The query runs read-only (PostgreSQL: a read-only transaction through a server-side cursor,
which accepts only a SELECT or VALUES; SQLite: the file opened with `mode=ro` and
`query_only`), one statement, under `AML_SQL_QUERY_TIMEOUT_SECONDS`. Its rows stream into a
CSV with a header (at most `AML_UPLOAD_MAX_BYTES`), staged as AML did at
`<S3StagingLocation>/<DataSourceId>.csv`, or in the console's storage when no staging location
is given. From there it is an ordinary datasource, created by create_data_source_from_s3.

A URL (which may hold a password) or a request's password is never stored, logged or shown.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as time_of_day
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

import sqlparse
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage

from console import datafiles, lifecycle
from console.models import DataSource
from mlcore import safejson

from . import common
from .datasources import (
    UPLOAD_SCHEME,
    _rearrangement_from_spec,
    _schema_from_spec,
    create_data_source_from_s3,
)
from .errors import InvalidInput

PREVIEW_ROWS = 10
FETCH_ROWS = 1000  # rows fetched from the database at a time: the result is never held whole
STAGED_DELIMITER = ","


# --------------------------------------------------------------------------- connections


@dataclass(frozen=True)
class Connection:
    """One entry of AML_SQL_CONNECTIONS. Its `url` may hold a password: never show it."""

    name: str
    url: str

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite:")

    @property
    def database(self) -> str:
        """The database the URL names: PostgreSQL's database, or the SQLite file's stem."""
        if self.is_sqlite:
            return self.sqlite_path.rsplit("/", 1)[-1].rsplit(".", 1)[0] or self.name
        return unquote(urlparse(self.url).path.lstrip("/")) or self.name

    @property
    def sqlite_path(self) -> str:
        # sqlite:///abs/path.db and sqlite:////abs/path.db both name /abs/path.db
        return "/" + unquote(urlparse(self.url).path).lstrip("/")

    @property
    def has_user(self) -> bool:
        return bool(urlparse(self.url).username)

    @property
    def password(self) -> str:
        return unquote(urlparse(self.url).password or "")

    def identifier_and_database(self) -> tuple[str, str]:
        """The (InstanceIdentifier, DatabaseName) that name this connection in a request."""
        identifier, _, database = self.name.partition("/")
        return identifier, database or self.database


def configured_connections() -> dict[str, Connection]:
    return {name: Connection(name, url) for name, url in settings.AML_SQL_CONNECTIONS.items()}


def connection_names() -> list[str]:
    return sorted(settings.AML_SQL_CONNECTIONS)


def connection_named(name: str) -> Connection:
    connection = configured_connections().get(name)
    if connection is None:
        raise InvalidInput(f"No database connection is named {name!r}. {_configured_names()}")
    return connection


def connection_for(identifier: str, database: str, *, identifier_member: str) -> Connection:
    """The connection `<identifier>/<database>`, else `<identifier>` (see the module's doc)."""
    connections = configured_connections()
    for name in (f"{identifier}/{database}", identifier):
        if name in connections:
            return connections[name]
    raise InvalidInput(
        f"No database connection is configured for {identifier_member} {identifier!r} with "
        f"DatabaseName {database!r}: a connection named {identifier + '/' + database!r} or "
        f"{identifier!r} is needed. {_configured_names()}"
    )


def _configured_names() -> str:
    names = connection_names()
    if not names:
        return "No connections are configured: set AML_SQL_CONNECTIONS."
    return "Configured connections: " + ", ".join(repr(n) for n in names) + "."


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""

    @classmethod
    def from_request(cls, value: Any) -> Credentials:
        value = value if isinstance(value, dict) else {}
        return cls(str(value.get("Username") or ""), str(value.get("Password") or ""))


# --------------------------------------------------------------------------- running a query


@dataclass
class QueryPreview:
    """What the wizard's Preview shows: the result's columns and its first rows, as text."""

    connection: str
    columns: list[str]
    rows: list[list[str]]


def preview_query(connection_name: str, query: str, *, limit: int = PREVIEW_ROWS) -> QueryPreview:
    """Run `query` read-only with a LIMIT, for the wizard (the URL's own credentials)."""
    connection = connection_named(connection_name)
    with _query_rows(connection, query, Credentials(), limit=limit) as (columns, rows):
        shown = [[_csv_value(v) for v in row] for row in rows]
    return QueryPreview(connection=connection.name, columns=columns, rows=shown)


def single_statement(query: str) -> str:
    """The query without its final ';'. More than one statement is refused."""
    # Comments go first: a trailing "-- note" would otherwise hide the final ';'.
    texts = (sqlparse.format(s, strip_comments=True) for s in sqlparse.split(query or ""))
    statements = [text for t in texts if (text := t.strip().rstrip(";").strip())]
    if not statements:
        raise InvalidInput("SelectSqlQuery is empty: give one SELECT statement.")
    if len(statements) > 1:
        raise InvalidInput(
            f"SelectSqlQuery holds {len(statements)} statements: give exactly one SELECT statement."
        )
    return statements[0]


def _wrapped(query: str, limit: int | None) -> str:
    # As a subquery the statement must be a query: an INSERT, a PRAGMA or an ATTACH is a syntax
    # error before anything runs. The newline keeps a trailing "-- comment" from eating the ")".
    text = f"SELECT * FROM (\n{query}\n) AS aml_query"
    return text + (f" LIMIT {int(limit)}" if limit is not None else "")


@contextmanager
def _query_rows(
    connection: Connection, query: str, credentials: Credentials, *, limit: int | None = None
) -> Iterator[tuple[list[str], Iterator[tuple[Any, ...]]]]:
    """(column names, the rows as they are fetched), read-only and under the timeout."""
    sql = _wrapped(single_statement(query), limit)
    secrets_to_hide = [s for s in (connection.password, credentials.password) if s]
    run = _sqlite_rows if connection.is_sqlite else _postgresql_rows
    try:
        with run(connection, sql, credentials) as result:
            yield result
    except InvalidInput as exc:
        raise InvalidInput(_scrubbed(exc.message, connection, secrets_to_hide)) from None
    except (sqlite3.Error, _psycopg_error()) as exc:
        message = _scrubbed(_database_message(exc), connection, secrets_to_hide)
        raise InvalidInput(f"The query failed on {connection.name!r}: {message}") from None


def _timeout_seconds() -> float:
    return float(settings.AML_SQL_QUERY_TIMEOUT_SECONDS)


@contextmanager
def _sqlite_rows(
    connection: Connection, sql: str, credentials: Credentials
) -> Iterator[tuple[list[str], Iterator[tuple[Any, ...]]]]:
    uri = Path(connection.sqlite_path).as_uri() + "?mode=ro"
    db = sqlite3.connect(uri, uri=True, timeout=5, check_same_thread=False)
    try:
        db.execute("PRAGMA query_only = ON")
        deadline = time.monotonic() + _timeout_seconds()
        # SQLite has no statement timeout: the progress handler interrupts it past the deadline.
        db.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        cursor = db.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        yield columns, _fetched(cursor, deadline)
    finally:
        db.close()


@contextmanager
def _postgresql_rows(
    connection: Connection, sql: str, credentials: Credentials
) -> Iterator[tuple[list[str], Iterator[tuple[Any, ...]]]]:
    import psycopg

    timeout_ms = max(1, int(_timeout_seconds() * 1000))
    options = f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}"
    login: dict[str, str] = {}
    if not connection.has_user and credentials.username:
        login = {"user": credentials.username, "password": credentials.password}
    with psycopg.connect(connection.url, options=options, connect_timeout=10, **login) as db:
        db.read_only = True
        # A server-side cursor (DECLARE … CURSOR FOR) takes only a SELECT or VALUES query and
        # hands the rows over FETCH_ROWS at a time.
        with db.transaction(), db.cursor(name="aml_query") as cursor:
            deadline = time.monotonic() + _timeout_seconds()
            cursor.itersize = FETCH_ROWS
            cursor.execute(sql)
            columns = [d.name for d in cursor.description or []]
            yield columns, _fetched(cursor, deadline)


def _fetched(cursor: Any, deadline: float) -> Iterator[tuple[Any, ...]]:
    while batch := cursor.fetchmany(FETCH_ROWS):
        # statement_timeout bounds each FETCH; this bounds all of them together.
        if time.monotonic() > deadline:
            raise InvalidInput("The query ran longer than AML_SQL_QUERY_TIMEOUT_SECONDS.")
        yield from batch


def _psycopg_error() -> type[Exception]:
    import psycopg

    return psycopg.Error


def _database_message(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError) and text == "interrupted":
        return "the query ran longer than AML_SQL_QUERY_TIMEOUT_SECONDS and was stopped"
    return text


def _scrubbed(message: str, connection: Connection, secrets_to_hide: list[str]) -> str:
    for secret in [connection.url, *secrets_to_hide]:
        message = message.replace(secret, "***")
    return message


def _csv_value(value: Any) -> str:
    if value is None:
        return ""  # a missing value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date | time_of_day):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


# --------------------------------------------------------------------------- staging


@dataclass
class StagedResult:
    location: str  # a DataLocationS3 value: s3://bucket/key or upload://<storage key>
    records: int
    size: int


class _LimitedSink:
    """What csv.writer writes to: UTF-8 bytes into `file`, refused past `limit` bytes."""

    def __init__(self, file: IO[bytes], limit: int) -> None:
        self.file, self.limit, self.size = file, limit, 0

    def write(self, text: str) -> int:
        data = text.encode("utf-8")
        self.size += len(data)
        if self.size > self.limit:
            raise InvalidInput(
                f"The query's result is larger than {self.limit:,} bytes "
                "(AML_UPLOAD_MAX_BYTES): select fewer rows or columns."
            )
        self.file.write(data)
        return len(text)


def _write_csv(columns: list[str], rows: Iterator[tuple[Any, ...]], file: IO[bytes]) -> int:
    if not columns:
        raise InvalidInput("The query returns no columns: give a SELECT statement.")
    sink = _LimitedSink(file, settings.AML_UPLOAD_MAX_BYTES)
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(columns)
    records = 0
    for row in rows:
        writer.writerow([_csv_value(v) for v in row])
        records += 1
    if not records:
        raise InvalidInput("The query returned no rows: there is nothing to make a datasource of.")
    return records


def staged_key(owner: Any, entity_id: str) -> str:
    """Where a result without S3StagingLocation is kept: beside the owner's uploads."""
    return datafiles.upload_key_for(owner.pk, f"sql-{entity_id}", f"{entity_id}.csv")


def staged_s3_url(staging: str, entity_id: str) -> str:
    return f"{staging.rstrip('/')}/{entity_id}.csv"


def _stage(
    owner: Any,
    entity_id: str,
    connection: Connection,
    query: str,
    credentials: Credentials,
    staging: str,
) -> StagedResult:
    with tempfile.TemporaryFile() as spool:  # on disk: the result is never held in memory
        with _query_rows(connection, query, credentials) as (columns, rows):
            records = _write_csv(columns, rows, spool)
        size = spool.tell()
        spool.seek(0)
        if staging:
            location = _upload_to_s3(spool, staged_s3_url(staging, entity_id))
        else:
            location = UPLOAD_SCHEME + _save_in_storage(spool, staged_key(owner, entity_id))
    return StagedResult(location=location, records=records, size=size)


def _upload_to_s3(spool: IO[bytes], url: str) -> str:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, _, key = url.removeprefix("s3://").partition("/")
    try:
        datafiles.s3_client().upload_fileobj(spool, bucket, key)
    except (BotoCoreError, ClientError) as exc:
        raise InvalidInput(f"The query's result could not be staged at {url}: {exc}") from None
    return url


def _save_in_storage(spool: IO[bytes], key: str) -> str:
    # The key is the datasource's own: a retry after a failure replaces what it staged.
    if default_storage.exists(key):
        default_storage.delete(key)
    return default_storage.save(key, File(spool, name=key.rsplit("/", 1)[-1]))


def _staging_location(data_spec: dict[str, Any]) -> str:
    staging = str(data_spec.get("S3StagingLocation") or "").strip()
    if staging and not (staging.startswith("s3://") and staging[5:].strip("/")):
        raise InvalidInput(f"S3StagingLocation must be an s3://bucket/prefix URL, not {staging!r}.")
    return staging


# --------------------------------------------------------------------------- the services


def create_data_source_from_rds(
    owner: Any,
    *,
    data_source_id: str,
    rds_data: dict[str, Any],
    role_arn: str,
    data_source_name: str = "",
    compute_statistics: bool = False,
) -> DataSource:
    """CreateDataSourceFromRDS (`rds_data` is botocore's RDSDataSpec)."""
    database = _member(rds_data, "DatabaseInformation")
    identifier = str(database.get("InstanceIdentifier") or "")
    database_name = str(database.get("DatabaseName") or "")
    credentials = Credentials.from_request(rds_data.get("DatabaseCredentials"))
    metadata = {
        "Database": {"InstanceIdentifier": identifier, "DatabaseName": database_name},
        "DatabaseUserName": credentials.username,
        "SelectSqlQuery": str(rds_data.get("SelectSqlQuery") or ""),
        "ResourceRole": str(rds_data.get("ResourceRole") or ""),
        "ServiceRole": str(rds_data.get("ServiceRole") or ""),
        "DataPipelineId": "",  # no Data Pipeline here: the console runs the query itself
    }
    return _create_from_query(
        owner,
        kind=DataSource.SourceKind.RDS,
        data_source_id=data_source_id,
        data_spec=rds_data,
        connection=connection_for(
            identifier, database_name, identifier_member="InstanceIdentifier"
        ),
        credentials=credentials,
        sql_metadata=_without_empty({"RDSMetadata": _without_empty(metadata), "RoleARN": role_arn}),
        data_source_name=data_source_name,
        compute_statistics=compute_statistics,
    )


def create_data_source_from_redshift(
    owner: Any,
    *,
    data_source_id: str,
    data_spec: dict[str, Any],
    role_arn: str,
    data_source_name: str = "",
    compute_statistics: bool = False,
) -> DataSource:
    """CreateDataSourceFromRedshift (`data_spec` is botocore's RedshiftDataSpec)."""
    database = _member(data_spec, "DatabaseInformation")
    cluster = str(database.get("ClusterIdentifier") or "")
    database_name = str(database.get("DatabaseName") or "")
    credentials = Credentials.from_request(data_spec.get("DatabaseCredentials"))
    metadata = {
        "RedshiftDatabase": {"DatabaseName": database_name, "ClusterIdentifier": cluster},
        "DatabaseUserName": credentials.username,
        "SelectSqlQuery": str(data_spec.get("SelectSqlQuery") or ""),
    }
    return _create_from_query(
        owner,
        kind=DataSource.SourceKind.REDSHIFT,
        data_source_id=data_source_id,
        data_spec=data_spec,
        connection=connection_for(cluster, database_name, identifier_member="ClusterIdentifier"),
        credentials=credentials,
        sql_metadata=_without_empty(
            {"RedshiftMetadata": _without_empty(metadata), "RoleARN": role_arn}
        ),
        data_source_name=data_source_name,
        compute_statistics=compute_statistics,
    )


def rds_data_for_connection(
    connection_name: str, query: str, *, staging: str = "", schema_json: str = ""
) -> dict[str, Any]:
    """The RDSDataSpec that reads `query` from a configured connection (the wizard's request)."""
    identifier, database = connection_named(connection_name).identifier_and_database()
    return _without_empty(
        {
            "DatabaseInformation": {"InstanceIdentifier": identifier, "DatabaseName": database},
            "SelectSqlQuery": query,
            "S3StagingLocation": staging,
            "DataSchema": schema_json,
        }
    )


def _create_from_query(
    owner: Any,
    *,
    kind: str,
    data_source_id: str,
    data_spec: dict[str, Any],
    connection: Connection,
    credentials: Credentials,
    sql_metadata: dict[str, Any],
    data_source_name: str,
    compute_statistics: bool,
) -> DataSource:
    entity_id = common.choose_entity_id(DataSource, data_source_id or None)
    query = str(data_spec.get("SelectSqlQuery") or "")
    staging = _staging_location(data_spec)
    file_spec = _file_spec(data_spec)
    existing = DataSource.objects.filter(owner=owner, entity_id=entity_id).first()
    if existing is not None:
        # The same request again answers with what it made, without running the query again.
        expected = _expected_fields(owner, entity_id, kind, staging, file_spec, sql_metadata)
        return common.same_request_or_mismatch(
            existing, expected | {"compute_statistics": bool(compute_statistics)}
        )
    staged = _stage(owner, entity_id, connection, query, credentials, staging)
    ds = create_data_source_from_s3(
        owner,
        data_spec={"DataLocationS3": staged.location, **file_spec},
        data_source_id=entity_id,
        data_source_name=data_source_name,
        compute_statistics=compute_statistics,
        csv_delimiter=STAGED_DELIMITER,
        source_kind=kind,
        sql_metadata=sql_metadata,
    )
    who = f" as {credentials.username!r}" if credentials.username else ""
    lifecycle.append_log(
        ds,
        f"Ran the SQL query on connection {connection.name!r}{who} (read-only) and staged "
        f"{staged.records:,} records ({staged.size:,} bytes) at {ds.location_label}.",
    )
    return ds


def _file_spec(data_spec: dict[str, Any]) -> dict[str, Any]:
    """DataSchema (or DataSchemaUri) and DataRearrangement, in CreateDataSourceFromS3's words."""
    spec: dict[str, Any] = {}
    schema = data_spec.get("DataSchema")
    if schema not in (None, ""):
        spec["DataSchema"] = _with_header(schema)
    elif data_spec.get("DataSchemaUri"):
        spec["DataSchemaLocationS3"] = data_spec["DataSchemaUri"]
    if data_spec.get("DataRearrangement") not in (None, ""):
        spec["DataRearrangement"] = data_spec["DataRearrangement"]
    return spec


def _with_header(schema: Any) -> Any:
    """The staged CSV's first line is the column names, whatever the schema says."""
    try:
        parsed = safejson.loads(schema) if isinstance(schema, str) else dict(schema)
    except (ValueError, TypeError):
        return schema  # not JSON: CreateDataSourceFromS3 says what is wrong with it
    if not isinstance(parsed, dict):
        return schema
    return json.dumps({**parsed, "dataFileContainsHeader": True})


def _expected_fields(
    owner: Any,
    entity_id: str,
    kind: str,
    staging: str,
    file_spec: dict[str, Any],
    sql_metadata: dict[str, Any],
) -> dict[str, Any]:
    location = staged_s3_url(staging, entity_id) if staging else staged_key(owner, entity_id)
    return {
        "source_kind": kind,
        "data_location_s3": location,
        "data_schema": _schema_from_spec(file_spec),
        "data_rearrangement": _rearrangement_from_spec(file_spec),
        "sql_metadata": sql_metadata,
    }


def _member(spec: dict[str, Any], name: str) -> dict[str, Any]:
    value = spec.get(name)
    if not isinstance(value, dict):
        raise InvalidInput(f"{name} is required.")
    return value


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    """AML leaves absent members out rather than sending them empty."""
    return {k: v for k, v in values.items() if v not in ("", None, {}, [])}

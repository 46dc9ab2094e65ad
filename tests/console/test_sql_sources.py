"""console.services.sql_sources: datasources made from a SQL query (CreateDataSourceFromRDS/Redshift).

SQLite databases are real files made by each test; PostgreSQL is a throwaway cluster started once
(as the `postgres` system user, on a free port) when its binaries are there, else those tests skip.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import re
import secrets
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from api_client import ml_client
from botocore.exceptions import ClientError
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from realservices import free_port, postgres_bin, wait_for

from console import tasks
from console.api.keys import create_access_key
from console.env import ImproperSetting
from console.models import DataSource, Status
from console.services.datasources import data_location_of
from console.services.errors import IdempotentParameterMismatch, InvalidInput
from console.services.sql_sources import (
    create_data_source_from_rds,
    create_data_source_from_redshift,
    preview_query,
)
from console.services.uploads import delete_abandoned_uploads
from console.settings import _sql_connections

pytestmark = pytest.mark.django_db

PEOPLE = [(20 + i, "red" if i % 2 else "blue", i % 2) for i in range(30)]
QUERY = "SELECT age, colour, label FROM people ORDER BY age"
PASSWORD = "pg-Secret-4711"
ROLE_ARN = "arn:aws:iam::000000000000:role/mlrole"
PG_BIN = postgres_bin()
WIZARD = reverse("console:datasource-create")
VERIFY = reverse("console:datasource-verify")


def people_sqlite(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (age INTEGER, colour TEXT, label INTEGER)")
        db.executemany("INSERT INTO people VALUES (?, ?, ?)", PEOPLE)
    return path


def rows_in(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM people").fetchone()[0])


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> Path:
    """A SQLite file configured as the connection `warehouse`."""
    path = people_sqlite(tmp_path / "warehouse.db")
    settings.AML_SQL_CONNECTIONS = {"warehouse": f"sqlite:///{path}"}
    return path


def rds_data(query: str = QUERY, **extra: Any) -> dict[str, Any]:
    return {
        "DatabaseInformation": {"InstanceIdentifier": "warehouse", "DatabaseName": "main"},
        "SelectSqlQuery": query,
        "DatabaseCredentials": {"Username": "analyst", "Password": PASSWORD},
        "ResourceRole": "DataPipelineDefaultResourceRole",
        "ServiceRole": "DataPipelineDefaultRole",
        "SubnetId": "subnet-1",
        "SecurityGroupIds": ["sg-1"],
        **extra,
    }


def from_rds(owner: Any, query: str = QUERY, *, ds_id: str = "ds-sql", **extra: Any) -> DataSource:
    return create_data_source_from_rds(
        owner,
        data_source_id=ds_id,
        rds_data=rds_data(query, **extra),
        role_arn=ROLE_ARN,
        compute_statistics=True,
    )


def run(ds: DataSource) -> DataSource:
    tasks.compute_data_source_statistics(ds.pk)
    return DataSource.objects.get(pk=ds.pk)


def everything_stored_about(ds: DataSource) -> str:
    row = DataSource.objects.filter(pk=ds.pk).values().get()
    return json.dumps(row, default=str)


# --------------------------------------------------------------------------- SQLite


def test_an_rds_query_is_staged_in_the_consoles_storage_and_read_like_an_upload(
    owner: Any, warehouse: Path
) -> None:
    ds = from_rds(owner, data_source_name="People from SQL")

    assert ds.source_kind == DataSource.SourceKind.RDS
    assert ds.status == Status.PENDING
    assert ds.data_location_s3 == f"uploads/{owner.pk}/sql-ds-sql/ds-sql.csv"
    with default_storage.open(ds.data_location_s3) as staged:
        lines = staged.read().decode().splitlines()
    assert lines[:2] == ["age,colour,label", "20,blue,0"]
    assert len(lines) == 31
    assert ds.sql_metadata == {
        "RDSMetadata": {
            "Database": {"InstanceIdentifier": "warehouse", "DatabaseName": "main"},
            "DatabaseUserName": "analyst",
            "SelectSqlQuery": QUERY,
            "ResourceRole": "DataPipelineDefaultResourceRole",
            "ServiceRole": "DataPipelineDefaultRole",
        },
        "RoleARN": ROLE_ARN,
    }
    assert ds.location_label == "SQL query result ds-sql.csv (in the console's storage)"
    assert data_location_of(ds) == "upload://" + ds.data_location_s3

    done = run(ds)

    assert done.status == Status.COMPLETED, done.message
    assert done.records_count == 30
    assert done.number_of_files == 1


def test_a_redshift_query_is_recorded_with_redshifts_metadata(
    owner: Any, warehouse: Path, settings: Any
) -> None:
    settings.AML_SQL_CONNECTIONS = {"analytics/dev": f"sqlite:///{warehouse}"}

    ds = create_data_source_from_redshift(
        owner,
        data_source_id="ds-rs",
        data_spec={
            "DatabaseInformation": {"DatabaseName": "dev", "ClusterIdentifier": "analytics"},
            "SelectSqlQuery": "SELECT age, label FROM people WHERE age < 30",
            "DatabaseCredentials": {"Username": "awsuser", "Password": PASSWORD},
            "DataSchema": json.dumps(
                {
                    "version": "1.0",
                    "targetAttributeName": "label",
                    "dataFormat": "CSV",
                    "dataFileContainsHeader": False,  # the staged file has one regardless
                    "attributes": [
                        {"attributeName": "age", "attributeType": "NUMERIC"},
                        {"attributeName": "label", "attributeType": "BINARY"},
                    ],
                }
            ),
        },
        role_arn=ROLE_ARN,
    )

    assert ds.source_kind == DataSource.SourceKind.REDSHIFT
    assert ds.sql_metadata["RedshiftMetadata"] == {
        "RedshiftDatabase": {"DatabaseName": "dev", "ClusterIdentifier": "analytics"},
        "DatabaseUserName": "awsuser",
        "SelectSqlQuery": "SELECT age, label FROM people WHERE age < 30",
    }
    assert ds.data_schema["dataFileContainsHeader"] is True
    done = run(ds)
    assert done.status == Status.COMPLETED, done.message
    assert (done.records_count, done.invalid_records_count) == (10, 0)


def test_an_unconfigured_connection_names_what_was_asked_and_what_is_configured(
    owner: Any, warehouse: Path
) -> None:
    spec = rds_data()
    spec["DatabaseInformation"] = {"InstanceIdentifier": "sales-db", "DatabaseName": "shop"}

    with pytest.raises(InvalidInput) as refused:
        create_data_source_from_rds(owner, data_source_id="x", rds_data=spec, role_arn=ROLE_ARN)

    assert "InstanceIdentifier 'sales-db'" in refused.value.message
    assert "'sales-db/shop'" in refused.value.message
    assert "Configured connections: 'warehouse'." in refused.value.message
    assert not DataSource.objects.exists()


def test_with_no_connections_at_all_it_says_how_to_configure_one(owner: Any, settings: Any) -> None:
    settings.AML_SQL_CONNECTIONS = {}

    with pytest.raises(InvalidInput, match="set AML_SQL_CONNECTIONS"):
        from_rds(owner)


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM people",
        "INSERT INTO people VALUES (1, 'x', 0)",
        "DROP TABLE people",
        "UPDATE people SET age = 0",
        "ATTACH DATABASE ':memory:' AS other",
        "PRAGMA journal_mode = DELETE",
    ],
)
def test_a_statement_that_is_not_a_query_is_refused_and_changes_nothing(
    owner: Any, warehouse: Path, statement: str
) -> None:
    with pytest.raises(InvalidInput, match="The query failed on 'warehouse'"):
        from_rds(owner, statement)

    assert rows_in(warehouse) == 30
    assert not DataSource.objects.exists()


def test_two_statements_are_refused_before_anything_runs(owner: Any, warehouse: Path) -> None:
    with pytest.raises(InvalidInput, match="holds 2 statements"):
        from_rds(owner, "SELECT * FROM people; DELETE FROM people;")

    assert rows_in(warehouse) == 30


def test_a_final_semicolon_and_comments_are_still_one_statement(
    owner: Any, warehouse: Path
) -> None:
    ds = from_rds(owner, "-- every person\nSELECT * FROM people; -- done\n")

    assert run(ds).records_count == 30


def test_a_syntax_error_is_invalid_input_with_the_databases_message(
    owner: Any, warehouse: Path
) -> None:
    with pytest.raises(InvalidInput, match="no such column: height"):
        from_rds(owner, "SELECT height FROM people")


def test_a_query_past_the_timeout_is_stopped(owner: Any, warehouse: Path, settings: Any) -> None:
    settings.AML_SQL_QUERY_TIMEOUT_SECONDS = 0.05
    endless = (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    )

    with pytest.raises(InvalidInput, match="longer than AML_SQL_QUERY_TIMEOUT_SECONDS"):
        from_rds(owner, endless)


def test_a_result_larger_than_the_upload_limit_is_refused(
    owner: Any, warehouse: Path, settings: Any
) -> None:
    settings.AML_UPLOAD_MAX_BYTES = 100

    with pytest.raises(InvalidInput, match="larger than 100 bytes"):
        from_rds(owner)

    assert not default_storage.exists(f"uploads/{owner.pk}/sql-ds-sql/ds-sql.csv")


def test_an_empty_result_is_refused(owner: Any, warehouse: Path) -> None:
    with pytest.raises(InvalidInput, match="returned no rows"):
        from_rds(owner, "SELECT * FROM people WHERE age > 1000")


def test_the_request_password_is_never_stored_or_logged(
    owner: Any, warehouse: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    ds = run(from_rds(owner))

    assert ds.status == Status.COMPLETED
    assert PASSWORD not in everything_stored_about(ds)
    assert "analyst" in ds.log
    assert PASSWORD not in caplog.text


def test_the_same_request_again_returns_the_datasource_without_running_the_query(
    owner: Any, warehouse: Path
) -> None:
    first = from_rds(owner)
    warehouse.unlink()  # a second run of the query would now fail

    again = from_rds(owner)

    assert again.pk == first.pk
    assert DataSource.objects.count() == 1


def test_the_same_id_with_another_query_is_a_mismatch(owner: Any, warehouse: Path) -> None:
    from_rds(owner)

    with pytest.raises(IdempotentParameterMismatch):
        from_rds(owner, "SELECT age FROM people")


def test_the_same_id_as_an_s3_datasource_is_a_mismatch(owner: Any, warehouse: Path) -> None:
    from console.services.datasources import create_data_source_from_s3

    staged = from_rds(owner)
    location = data_location_of(staged)

    with pytest.raises(IdempotentParameterMismatch):
        create_data_source_from_s3(
            owner, data_source_id="ds-sql", data_spec={"DataLocationS3": location}
        )


def test_a_staged_result_is_not_swept_as_an_abandoned_upload(owner: Any, warehouse: Path) -> None:
    ds = from_rds(owner)

    deleted = delete_abandoned_uploads(now=timezone.now() + timedelta(days=3))

    assert deleted == 0
    assert default_storage.exists(ds.data_location_s3)


def test_preview_shows_the_columns_and_at_most_ten_rows(warehouse: Path) -> None:
    preview = preview_query("warehouse", QUERY)

    assert preview.columns == ["age", "colour", "label"]
    assert preview.rows[:2] == [["20", "blue", "0"], ["21", "red", "1"]]
    assert len(preview.rows) == 10


# --------------------------------------------------------------------------- the setting


def test_the_setting_reads_named_urls() -> None:
    raw = json.dumps({"a": "sqlite:////tmp/a.db", "b": "postgresql://u:p@h:5432/d"})

    assert _sql_connections(raw) == {"a": "sqlite:////tmp/a.db", "b": "postgresql://u:p@h:5432/d"}
    assert _sql_connections("") == {}


def test_a_bad_setting_names_the_connection_but_never_its_url() -> None:
    with pytest.raises(ImproperSetting) as refused:
        _sql_connections(json.dumps({"crm": "mysql://root:hunter22@db/crm"}))

    assert "'crm'" in str(refused.value)
    assert "hunter22" not in str(refused.value)


# --------------------------------------------------------------------------- S3 staging


@pytest.fixture
def s3(moto_server: str, aws_env: dict[str, str], settings: Any) -> Any:
    settings.AML_DATA_S3_ENDPOINT_URL = moto_server
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


@pytest.mark.integration
def test_a_query_is_staged_at_the_s3_staging_location_as_aml_did(
    owner: Any, warehouse: Path, s3: Any
) -> None:
    bucket = f"aml-sql-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)

    ds = from_rds(owner, S3StagingLocation=f"s3://{bucket}/staging/")

    assert ds.data_location_s3 == f"s3://{bucket}/staging/ds-sql.csv"
    assert ds.location_label == ds.data_location_s3
    body = s3.get_object(Bucket=bucket, Key="staging/ds-sql.csv")["Body"].read().decode()
    assert body.startswith("age,colour,label\n20,blue,0\n")
    done = run(ds)
    assert done.status == Status.COMPLETED, done.message
    assert done.records_count == 30


@pytest.mark.integration
def test_a_staging_bucket_that_does_not_exist_is_invalid_input(
    owner: Any, warehouse: Path, s3: Any
) -> None:
    with pytest.raises(InvalidInput, match="could not be staged at s3://no-such-bucket-"):
        from_rds(owner, S3StagingLocation=f"s3://no-such-bucket-{uuid.uuid4().hex[:8]}/x")

    assert not DataSource.objects.exists()


# --------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL 15 cluster with database `shop`; yields its URL without a user."""
    reason = _why_postgres_cannot_run()
    if reason:
        pytest.skip(reason)
    folder = tempfile.mkdtemp(prefix="aml-sql-pg-")
    shutil.chown(folder, "postgres")
    data, port = os.path.join(folder, "data"), free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"]
    pwfile = Path(folder) / "superuser-password"
    pwfile.write_text(secrets.token_urlsafe(16))  # never used: the superuser logs in locally
    shutil.chown(pwfile, "postgres")
    try:
        subprocess.run(
            as_postgres
            + [str(PG_BIN / "initdb"), "-D", data, "-U", "postgres", "--no-sync"]
            + ["--auth-host=scram-sha-256", "--auth-local=trust", f"--pwfile={pwfile}"],
            check=True,
            capture_output=True,
        )
        _start_postgres(as_postgres, data, folder, port)
        _load_people(folder, port)
        yield f"postgresql://127.0.0.1:{port}/shop"
    finally:
        subprocess.run(
            as_postgres + [str(PG_BIN / "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def _why_postgres_cannot_run() -> str:
    if not (PG_BIN / "postgres").exists():
        return f"PostgreSQL is not installed in {PG_BIN}"
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        return "starting a throwaway PostgreSQL needs root (to run it as the postgres user)"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "there is no postgres system user to run PostgreSQL as"
    return ""


def _start_postgres(as_postgres: list[str], data: str, folder: str, port: int) -> None:
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        as_postgres
        + [str(PG_BIN / "pg_ctl"), "-D", data, "-o", options, "-w", "-l", f"{data}.log", "start"],
        check=True,
        capture_output=True,
    )
    wait_for(
        lambda: (
            subprocess.run(
                [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            ).returncode
            == 0
        ),
        timeout=30,
        what="PostgreSQL to accept connections",
    )


def _load_people(folder: str, port: int) -> None:
    """Over the local socket (trust): a login role `analyst` with PASSWORD and the table."""
    import psycopg

    admin = f"host={folder} port={port} user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(f"CREATE ROLE analyst LOGIN PASSWORD '{PASSWORD}'")
        db.execute("CREATE DATABASE shop OWNER analyst")
    with psycopg.connect(f"host={folder} port={port} user=analyst dbname=shop") as db:
        db.execute("CREATE TABLE people (age integer, colour text, label integer)")
        db.execute("CREATE SEQUENCE tickets")
        with db.cursor() as cursor:
            cursor.executemany("INSERT INTO people VALUES (%s, %s, %s)", PEOPLE)


@pytest.fixture
def pg_warehouse(postgres: str, settings: Any) -> str:
    settings.AML_SQL_CONNECTIONS = {"warehouse": postgres}
    return postgres


def pg_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url, user="analyst", password=PASSWORD) as db:
        return int(db.execute("SELECT count(*) FROM people").fetchone()[0])  # type: ignore[index]


def test_postgresql_is_read_with_the_requests_credentials(
    owner: Any, pg_warehouse: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    ds = run(from_rds(owner))

    assert ds.status == Status.COMPLETED, ds.message
    assert ds.records_count == 30
    assert PASSWORD not in everything_stored_about(ds)
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM people",
        "WITH gone AS (DELETE FROM people RETURNING *) SELECT * FROM gone",
        "SELECT nextval('tickets')",  # a query that writes: only the read-only transaction stops it
    ],
)
def test_postgresql_refuses_a_write_and_changes_nothing(
    owner: Any, pg_warehouse: str, statement: str
) -> None:
    with pytest.raises(InvalidInput, match="The query failed on 'warehouse'"):
        from_rds(owner, statement)

    assert pg_count(pg_warehouse) == 30


def test_postgresql_says_read_only_when_a_query_writes(owner: Any, pg_warehouse: str) -> None:
    with pytest.raises(InvalidInput, match="read-only transaction"):
        from_rds(owner, "SELECT nextval('tickets')")


def test_a_wrong_postgresql_password_is_refused_without_showing_it(
    owner: Any, pg_warehouse: str
) -> None:
    spec = rds_data(DatabaseCredentials={"Username": "analyst", "Password": "wrong-Pass-99"})

    with pytest.raises(InvalidInput) as refused:
        create_data_source_from_rds(owner, data_source_id="x", rds_data=spec, role_arn=ROLE_ARN)

    assert "password authentication failed" in refused.value.message
    assert "wrong-Pass-99" not in refused.value.message


def test_postgresql_with_credentials_in_the_url_ignores_the_requests(
    owner: Any, postgres: str, settings: Any
) -> None:
    settings.AML_SQL_CONNECTIONS = {"warehouse": postgres.replace("://", f"://analyst:{PASSWORD}@")}
    spec = rds_data(DatabaseCredentials={"Username": "nobody", "Password": "not-the-Pass-1"})

    ds = create_data_source_from_rds(owner, data_source_id="x", rds_data=spec, role_arn=ROLE_ARN)

    assert run(ds).records_count == 30
    assert PASSWORD not in ds.log


def test_postgresql_preview_runs_with_a_limit(pg_warehouse: str, settings: Any) -> None:
    settings.AML_SQL_CONNECTIONS = {
        "warehouse": pg_warehouse.replace("://", f"://analyst:{PASSWORD}@")
    }

    preview = preview_query("warehouse", QUERY)

    assert preview.columns == ["age", "colour", "label"]
    assert len(preview.rows) == 10


# --------------------------------------------------------------------------- the wizard


def wizard_step(name: str, token: str) -> str:
    return reverse(f"console:datasource-wizard-{name}", kwargs={"draft": token})


def sql_input(query: str = QUERY, **extra: str) -> dict[str, str]:
    return {"source": "sql", "sql_connection": "warehouse", "sql_query": query, **extra}


@pytest.fixture
def no_worker(settings: Any) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = False  # the datasource stays PENDING until run() here


def test_the_wizard_offers_the_configured_connections_by_name_only(
    owner_client: Client, warehouse: Path
) -> None:
    html = owner_client.get(WIZARD).content.decode()

    assert 'value="sql"' in html
    assert '<option value="warehouse"' in html
    assert str(warehouse) not in html


def test_without_connections_the_sql_choice_says_how_to_configure_one(
    owner_client: Client, settings: Any
) -> None:
    settings.AML_SQL_CONNECTIONS = {}

    html = owner_client.get(WIZARD).content.decode()
    refused = owner_client.post(WIZARD, sql_input())

    assert "SQL query (no database connection is configured)" in html
    assert "AML_SQL_CONNECTIONS" in html
    assert refused.status_code == 400
    assert "No database connection is configured" in refused.content.decode()


def test_preview_shows_the_querys_columns_and_first_ten_rows(
    owner_client: Client, warehouse: Path
) -> None:
    html = owner_client.post(VERIFY, sql_input()).content.decode()

    assert 'id="sql-preview-ok"' in html
    assert "<th>colour</th>" in html
    assert html.count("<tr><td>") == 10
    assert "<td>29</td>" in html and "<td>30</td>" not in html


def test_preview_shows_the_databases_message_for_a_write(
    owner_client: Client, warehouse: Path
) -> None:
    html = owner_client.post(VERIFY, sql_input("DELETE FROM people")).content.decode()

    assert 'id="verify-failed"' in html
    assert "The query failed on &#x27;warehouse&#x27;" in html
    assert rows_in(warehouse) == 30


def test_the_wizard_walks_a_sql_query_to_a_datasource_that_completes(
    owner_client: Client, warehouse: Path, no_worker: None
) -> None:
    started = owner_client.post(WIZARD, sql_input(name="People (SQL)"))
    assert started.status_code == 302, started.content.decode()[:2000]
    token = started["Location"].rstrip("/").split("/")[-2]
    schema_page = owner_client.get(wizard_step("schema", token)).content.decode()
    assert 'id="sql-header-note"' in schema_page
    assert 'id="header-form"' not in schema_page
    schema = owner_client.session["datasource_wizard_drafts"][token]["schema"]
    table = {f"type-{i}": a["attributeType"] for i, a in enumerate(schema["attributes"])}
    table["type-2"] = "BINARY"

    for step, data in [
        ("schema", table),
        ("target", {"uses_target": "yes", "target": "label"}),
        ("row-id", {"has_row_id": "no"}),
    ]:
        response = owner_client.post(wizard_step(step, token), data)
        assert response.status_code == 302, response.content.decode()[:2000]
    review = owner_client.get(wizard_step("review", token)).content.decode()
    assert "Database connection" in review and "SELECT age, colour, label" in review
    created = owner_client.post(wizard_step("review", token))

    ds = DataSource.objects.get()
    assert created["Location"] == reverse("console:datasource-detail", args=[ds.entity_id])
    assert ds.source_kind == DataSource.SourceKind.RDS
    assert ds.name == "People (SQL)"
    assert ds.sql_metadata["RDSMetadata"]["Database"] == {
        "InstanceIdentifier": "warehouse",
        "DatabaseName": "warehouse",
    }
    assert ds.sql_metadata["RDSMetadata"]["SelectSqlQuery"] == QUERY
    done = run(ds)
    assert done.status == Status.COMPLETED, done.message
    assert done.records_count == 30
    assert done.data_schema["targetAttributeName"] == "label"


def test_going_back_to_input_keeps_the_connection_and_the_query(
    owner_client: Client, warehouse: Path
) -> None:
    started = owner_client.post(WIZARD, sql_input())
    token = started["Location"].rstrip("/").split("/")[-2]
    schema_page = owner_client.get(wizard_step("schema", token)).content.decode()
    back = re.search(r'href="(/datasources/new/\?[^"]+)"', schema_page)
    assert back, "the steps bar links back to Input"

    html = owner_client.get(back.group(1).replace("&amp;", "&")).content.decode()

    assert re.search(r'value="sql"[^>]*checked', html)
    assert "SELECT age, colour, label FROM people ORDER BY age</textarea>" in html


# --------------------------------------------------------------------------- through the API


@pytest.fixture
def aml(owner: Any) -> Any:
    key, secret = create_access_key(owner)
    return ml_client(key.access_key_id, secret)


@pytest.mark.integration
def test_boto3_creates_an_rds_datasource_and_reads_back_its_rds_metadata(
    aml: Any, owner: Any, warehouse: Path, s3: Any
) -> None:
    bucket = f"aml-sql-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    spec = rds_data(S3StagingLocation=f"s3://{bucket}/staging")  # botocore requires it

    created = aml.create_data_source_from_rds(
        DataSourceId="ds-api-sql", RDSData=spec, RoleARN=ROLE_ARN, ComputeStatistics=True
    )
    run(DataSource.objects.get(entity_id="ds-api-sql"))
    got = aml.get_data_source(DataSourceId="ds-api-sql")

    assert created["DataSourceId"] == "ds-api-sql"
    assert got["Status"] == "COMPLETED"
    assert got["DataLocationS3"] == f"s3://{bucket}/staging/ds-api-sql.csv"
    assert got["RDSMetadata"]["Database"] == spec["DatabaseInformation"]
    assert got["RDSMetadata"]["DatabaseUserName"] == "analyst"
    assert got["RoleARN"] == ROLE_ARN
    assert PASSWORD not in json.dumps(got, default=str)


def test_boto3_gets_invalid_input_for_an_unconfigured_cluster(aml: Any, warehouse: Path) -> None:
    with pytest.raises(ClientError) as refused:
        aml.create_data_source_from_redshift(
            DataSourceId="ds-api-rs",
            DataSpec={
                "DatabaseInformation": {"DatabaseName": "dev", "ClusterIdentifier": "nowhere"},
                "SelectSqlQuery": QUERY,
                "DatabaseCredentials": {"Username": "awsuser", "Password": PASSWORD},
                "S3StagingLocation": "s3://bucket/staging/",
            },
            RoleARN=ROLE_ARN,
        )

    assert refused.value.response["Error"]["Code"] == "InvalidInputException"
    assert "ClusterIdentifier 'nowhere'" in refused.value.response["Error"]["Message"]


# --------------------------------------------------------------------------- the datasource's pages


def test_the_datasource_page_labels_a_result_kept_in_the_consoles_storage(
    owner_client: Client, owner: Any, warehouse: Path
) -> None:
    ds = run(from_rds(owner))

    html = owner_client.get(reverse("console:datasource-detail", args=[ds.entity_id])).content

    assert "SQL query result ds-sql.csv (in the console&#x27;s storage)" in html.decode()


def test_copy_settings_of_a_sql_datasource_reuses_its_staged_result(
    owner_client: Client, owner: Any, warehouse: Path
) -> None:
    ds = from_rds(owner)

    response = owner_client.get(reverse("console:datasource-copy", args=[ds.entity_id]))
    html = owner_client.get(response["Location"]).content.decode()

    assert "upload%3A%2F%2Fuploads" in response["Location"]
    assert "Uploaded <strong>ds-sql.csv</strong>" in html

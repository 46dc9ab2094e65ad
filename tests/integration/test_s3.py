"""Datasources on S3 (s3:// locations and django-storages uploads) against moto over real HTTP."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from console import datafiles, tasks
from console.models import DataSource, Evaluation, MLModel, Status
from console.services.datasources import create_data_source_from_s3
from console.services.errors import InvalidInput
from console.services.ml_models import create_ml_model_with_evaluation

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

# banking.csv under its tutorial schema: `previous` is BINARY, so 1,064 records are invalid.
BANKING_VALID = 41188 - 1064
BANKING_INVALID = 1064
HEADER = "age,colour,label\n"
PARTS = {
    "parts/part-1.csv": HEADER + "".join(f"{20 + i},red,{i % 2}\n" for i in range(25)),
    "parts/part-2.csv": HEADER + "".join(f"{50 + i},blue,{i % 2}\n" for i in range(17)),
}
PARTS_SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "label",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "colour", "attributeType": "CATEGORICAL"},
        {"attributeName": "label", "attributeType": "BINARY"},
    ],
}


@pytest.fixture
def s3(moto_server: str, aws_env: dict[str, str], settings: Any) -> Any:
    """A client on the moto server, which the console also reads datasources from."""
    settings.AML_DATA_S3_ENDPOINT_URL = moto_server
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any, shared_data: Path) -> str:
    """A fresh bucket holding banking.csv and a prefix with two CSV parts."""
    name = f"aml-test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    s3.upload_file(str(shared_data / "banking.csv"), name, "banking.csv")
    for key, text in PARTS.items():
        s3.put_object(Bucket=name, Key=key, Body=text.encode())
    s3.put_object(Bucket=name, Key="parts/", Body=b"")  # a console-made "folder" marker
    return name


def create(owner: Any, location: str, schema: dict[str, Any] | str | None = None) -> DataSource:
    spec: dict[str, Any] = {"DataLocationS3": location}
    if schema is not None:
        spec["DataSchema"] = schema if isinstance(schema, str) else json.dumps(schema)
    return create_data_source_from_s3(owner, data_spec=spec)


def run(ds: DataSource) -> DataSource:
    tasks.compute_data_source_statistics(ds.pk)
    return DataSource.objects.get(pk=ds.pk)


def test_it_computes_statistics_for_an_s3_object(
    owner: Any, bucket: str, shared_data: Path
) -> None:
    ds = create(
        owner, f"s3://{bucket}/banking.csv", (shared_data / "banking.csv.schema").read_text()
    )
    assert ds.source_kind == DataSource.SourceKind.S3
    assert ds.data_location_s3 == f"s3://{bucket}/banking.csv"

    row = run(ds)

    assert row.status == Status.COMPLETED, row.message
    assert row.records_count == BANKING_VALID
    assert row.invalid_records_count == BANKING_INVALID
    assert row.number_of_files == 1
    assert row.data_size_in_bytes == (shared_data / "banking.csv").stat().st_size
    assert row.statistics is not None
    assert row.statistics["recordsRead"] == BANKING_VALID + BANKING_INVALID


def test_it_reads_every_part_under_an_s3_prefix(owner: Any, bucket: str) -> None:
    ds = create(owner, f"s3://{bucket}/parts/", PARTS_SCHEMA)

    row = run(ds)

    assert row.status == Status.COMPLETED, row.message
    assert row.number_of_files == 2
    assert row.records_count == 25 + 17
    assert row.data_size_in_bytes == sum(len(text) for text in PARTS.values())
    assert f"s3://{bucket}/parts/part-1.csv" in row.log
    assert f"s3://{bucket}/parts/part-2.csv" in row.log


def test_it_infers_the_schema_of_s3_parts(owner: Any, bucket: str) -> None:
    row = run(create(owner, f"s3://{bucket}/parts/"))

    assert row.status == Status.COMPLETED, row.message
    assert [a["attributeName"] for a in row.data_schema["attributes"]] == [
        "age",
        "colour",
        "label",
    ]


def test_it_refuses_a_missing_s3_key_naming_the_uri(owner: Any, bucket: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        create(owner, f"s3://{bucket}/absent.csv")

    assert f"s3://{bucket}/absent.csv" in caught.value.message
    assert "no such key" in caught.value.message
    assert not DataSource.objects.exists()


def test_it_refuses_a_missing_bucket(owner: Any, s3: Any) -> None:
    with pytest.raises(InvalidInput, match="no such bucket"):
        create(owner, "s3://aml-no-such-bucket-here/data.csv")


def test_it_fails_when_the_s3_object_disappears_before_the_job(
    owner: Any, bucket: str, s3: Any
) -> None:
    ds = create(owner, f"s3://{bucket}/parts/", PARTS_SCHEMA)
    s3.delete_object(Bucket=bucket, Key="parts/part-2.csv")
    s3.delete_object(Bucket=bucket, Key="parts/part-1.csv")

    row = run(ds)

    assert row.status == Status.FAILED
    assert f"s3://{bucket}/parts/" in row.message
    assert row.finished_at is not None


def test_it_fails_when_an_s3_part_vanishes_while_reading(
    owner: Any, bucket: str, s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = create(owner, f"s3://{bucket}/parts/", PARTS_SCHEMA)
    real = datafiles.data_files_for

    def listed_then_deleted(*args: Any, **kwargs: Any) -> Any:
        files = real(*args, **kwargs)
        s3.delete_object(Bucket=bucket, Key="parts/part-2.csv")
        return files

    monkeypatch.setattr(datafiles, "data_files_for", listed_then_deleted)

    row = run(ds)

    assert row.status == Status.FAILED
    assert f"s3://{bucket}/parts/part-2.csv" in row.message
    assert "no such key" in row.message


# --------------------------------------------------------------------------- django-storages


@pytest.fixture
def s3_storage(s3: Any, moto_server: str, settings: Any) -> str:
    """Uploads stored by django-storages in a moto bucket, as with AML_STORAGE=s3."""
    from storages.backends.s3 import S3Storage

    name = f"aml-files-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": moto_server,
                "region_name": "us-east-1",
                "location": "console",
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    # The setting_changed signal must have dropped the cached local storage.
    assert isinstance(default_storage, S3Storage)
    return name


def test_it_computes_statistics_for_an_upload_kept_in_s3_storage(
    owner: Any, s3_storage: str, s3: Any, shared_data: Path
) -> None:
    key = datafiles.upload_key_for(owner.pk, "tok123", "banking.csv")
    with (shared_data / "banking.csv").open("rb") as handle:
        saved = default_storage.save(key, File(handle))
    assert saved == key
    stored = s3.head_object(Bucket=s3_storage, Key=f"console/{key}")
    assert stored["ContentLength"] == (shared_data / "banking.csv").stat().st_size

    ds = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": f"upload://{key}",
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        original_filename="my banking export.csv",
    )
    row = run(ds)

    assert row.source_kind == DataSource.SourceKind.UPLOAD
    assert row.status == Status.COMPLETED, row.message
    assert row.records_count == BANKING_VALID
    assert row.data_size_in_bytes == stored["ContentLength"]
    assert "my banking export.csv" in row.log


def test_it_fails_an_upload_removed_from_s3_storage(owner: Any, s3_storage: str) -> None:
    key = datafiles.upload_key_for(owner.pk, "tok456", "parts.csv")
    default_storage.save(key, ContentFile(PARTS["parts/part-1.csv"].encode()))
    ds = create(owner, f"upload://{key}", PARTS_SCHEMA)
    default_storage.delete(key)

    row = run(ds)

    assert row.status == Status.FAILED
    assert "no longer in storage" in row.message


def test_a_model_trained_from_s3_keeps_its_file_in_the_bucket_and_its_evaluation_reads_it(
    owner: Any, s3_storage: str, s3: Any, bucket: str, shared_data: Path
) -> None:
    """The production shape: data on S3, console files (model artifacts) in S3 storage."""
    source = create(
        owner, f"s3://{bucket}/banking.csv", (shared_data / "banking.csv.schema").read_text()
    )
    assert run(source).status == Status.COMPLETED
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)
    for split in (created.training_data_source, created.evaluation_data_source):
        assert split is not None and run(split).status == Status.COMPLETED

    tasks.train_ml_model(created.ml_model.pk)
    ml = MLModel.objects.get(pk=created.ml_model.pk)
    assert ml.status == Status.COMPLETED, ml.message
    stored = s3.head_object(Bucket=s3_storage, Key=f"console/{ml.artifact_key}")
    assert f"Model file {ml.artifact_key}: {stored['ContentLength']:,} bytes" in ml.log

    assert created.evaluation is not None
    tasks.evaluate_ml_model(created.evaluation.pk)
    evaluation = Evaluation.objects.get(pk=created.evaluation.pk)
    assert evaluation.status == Status.COMPLETED, evaluation.message
    auc = float(evaluation.performance_metrics["Properties"]["BinaryAUC"])
    assert 0.9 < auc <= 1.0

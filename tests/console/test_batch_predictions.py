"""Batch predictions: the service (AML's checks, idempotency, the saved threshold), the job (waiting
for its model, failing with the cause, the console's storage), the wizard, and the page (preview,
downloads, manifest, invalid lines, the metric), with a stranger who must see nothing."""

from __future__ import annotations

import csv
import gzip
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from prediction_factories import (
    BATCH_INVALID,
    BATCH_RECORDS,
    banking_batch_source,
    banking_model,
    banking_slice,
    data_root,
    data_source,
    run_all,
    wine_model,
)

from console import lifecycle, tasks
from console.models import BatchPrediction, DataSource, MLModel, Status
from console.services.batch_predictions import (
    check_output_uri,
    create_batch_prediction,
    delete_batch_prediction,
    get_batch_prediction,
    update_batch_prediction,
)
from console.services.errors import IdempotentParameterMismatch, InvalidInput, ResourceNotFound
from console.services.ml_models import update_ml_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(owner: Any, shared_data: Path, enqueued: list[Any]) -> MLModel:
    ml = banking_model(owner, shared_data, records=3000)
    run_all(enqueued)
    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED, ml.message
    return ml


@pytest.fixture
def completed(
    owner: Any, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> BatchPrediction:
    """banking-batch.csv scored into the console's storage."""
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner,
        ml_model_id=model.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        batch_prediction_name="Banking batch",
    )
    run_all(enqueued)
    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, f"{bp.message}\n{bp.log}"
    return bp


def page_of(bp: BatchPrediction, name: str = "detail", *args: Any) -> str:
    return reverse(f"console:batchprediction-{name}", args=[bp.entity_id, *args])


def gz_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(gzip.decompress(data).decode())))


# --------------------------------------------------------------------------- the service


@pytest.mark.parametrize(
    ("uri", "why"),
    [
        ("http://bucket/out/", "not an S3 location"),
        ("bucket/out/", "not an S3 location"),
        ("s3://bucket/a//b/", "'//'"),
        ("s3://bucket/a:b/", "':'"),
        ("s3://bucket/a/./b/", "'/./'"),
        ("s3://bucket/a/../b/", "'/../'"),
        ("s3://Bad_Bucket/out/", "bucket name"),
    ],
)
def test_it_refuses_the_output_locations_aml_refused(uri: str, why: str) -> None:
    with pytest.raises(InvalidInput, match=why):
        check_output_uri(uri)


def test_an_s3_output_location_gets_its_trailing_slash_and_none_means_the_consoles_storage() -> (
    None
):
    assert check_output_uri("s3://bucket/predictions") == "s3://bucket/predictions/"
    assert check_output_uri(None) == "" and check_output_uri("  ") == ""


def test_it_creates_a_pending_batch_prediction_keeping_the_saved_threshold(
    owner: Any, model: MLModel, shared_data: Path
) -> None:
    update_ml_model(owner, model.entity_id, score_threshold=0.3)
    ds = banking_batch_source(owner, shared_data)

    bp = create_batch_prediction(
        owner,
        batch_prediction_id="bp-mine",
        ml_model_id=model.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        output_uri="s3://bucket/out",
        pass_through=["age", "job"],
        explain=True,
    )

    assert bp.status == Status.PENDING
    assert bp.output_uri == "s3://bucket/out/"
    assert bp.score_threshold == 0.3
    assert bp.pass_through == ["age", "job"] and bp.explain
    bp.refresh_from_db()
    assert "output to s3://bucket/out/" in bp.log


def test_the_same_id_and_request_returns_the_same_batch_prediction_and_another_request_is_refused(
    owner: Any, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)
    request = {"ml_model_id": model.entity_id, "batch_prediction_data_source_id": ds.entity_id}

    first = create_batch_prediction(owner, batch_prediction_id="bp-1", **request)
    again = create_batch_prediction(owner, batch_prediction_id="bp-1", **request)

    assert again.pk == first.pk
    with pytest.raises(IdempotentParameterMismatch):
        create_batch_prediction(
            owner, batch_prediction_id="bp-1", output_uri="s3://bucket/x/", **request
        )


def test_it_refuses_pass_through_columns_the_data_does_not_have(
    owner: Any, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)

    with pytest.raises(InvalidInput, match="no column named 'customer_id'"):
        create_batch_prediction(
            owner,
            ml_model_id=model.entity_id,
            batch_prediction_data_source_id=ds.entity_id,
            pass_through=["customer_id"],
        )


def test_another_users_model_or_datasource_is_not_found(
    owner: Any, stranger: Any, model: MLModel, shared_data: Path
) -> None:
    theirs = banking_batch_source(stranger, shared_data)

    with pytest.raises(ResourceNotFound):
        create_batch_prediction(
            owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=theirs.entity_id
        )
    with pytest.raises(ResourceNotFound):
        create_batch_prediction(
            stranger, ml_model_id=model.entity_id, batch_prediction_data_source_id=theirs.entity_id
        )


def test_rename_get_and_delete_follow_aml(owner: Any, completed: BatchPrediction) -> None:
    update_batch_prediction(owner, completed.entity_id, "Renamed")
    assert get_batch_prediction(owner, completed.entity_id).name == "Renamed"

    delete_batch_prediction(owner, completed.entity_id)

    assert get_batch_prediction(owner, completed.entity_id).status == Status.DELETED


# --------------------------------------------------------------------------- the job


def test_it_scores_every_record_into_the_consoles_storage_with_aml_layout(
    owner: Any, completed: BatchPrediction
) -> None:
    bp = completed
    assert bp.total_record_count == BATCH_RECORDS
    assert bp.invalid_record_count == BATCH_INVALID
    assert bp.compute_time is not None and bp.progress["records"] == BATCH_RECORDS
    prefix = f"batch-predictions/{owner.pk}/{bp.entity_id}/"
    [(source, result)] = bp.outputs.items()
    assert source.endswith("banking-batch.csv")
    assert result == f"{prefix}batch-prediction/result/{bp.entity_id}-banking-batch.csv.gz"
    assert bp.manifest_location == f"{prefix}batch-prediction/{bp.entity_id}.manifest"
    with default_storage.open(bp.manifest_location, "rb") as manifest:
        assert json.loads(manifest.read()) == bp.outputs
    with default_storage.open(result, "rb") as stream:
        rows = gz_rows(stream.read())
    assert rows[0] == ["bestAnswer", "score"]
    assert len(rows) == BATCH_RECORDS + 1
    assert bp.metric is None  # banking-batch.csv has no target


def test_best_answer_uses_the_threshold_saved_when_the_batch_prediction_was_created(
    owner: Any, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> None:
    update_ml_model(owner, model.entity_id, score_threshold=0.2)
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=ds.entity_id
    )
    update_ml_model(owner, model.entity_id, score_threshold=0.9)  # after: not used

    run_all(enqueued)

    bp.refresh_from_db()
    with default_storage.open(next(iter(bp.outputs.values())), "rb") as stream:
        rows = [row for row in gz_rows(stream.read())[1:] if row]  # blank: not scored
    assert len(rows) == BATCH_RECORDS - BATCH_INVALID
    assert all((float(score) >= 0.2) == (answer == "1") for answer, score in rows)
    assert any(0.2 <= float(score) < 0.9 for _, score in rows)


def test_a_batch_prediction_queued_behind_a_training_model_waits_then_runs(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=2000)
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=ml.entity_id, batch_prediction_data_source_id=ds.entity_id
    )
    assert tasks.generate_batch_prediction(bp.pk) == "waiting"
    assert BatchPrediction.objects.get(pk=bp.pk).status == Status.PENDING

    run_all(enqueued)  # the datasources, then the model, whose completion releases it

    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, bp.message
    assert bp.total_record_count == BATCH_RECORDS


def test_it_fails_with_the_cause_when_its_model_fails(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=2000)
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=ml.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    lifecycle.fail(ml, "the training data is empty")

    bp.refresh_from_db()
    assert bp.status == Status.FAILED
    assert bp.message == f"ML model {ml.entity_id} failed: the training data is empty"


def test_an_unwritable_output_fails_the_batch_prediction_with_its_message(
    owner: Any,
    model: MLModel,
    shared_data: Path,
    enqueued: list[Any],
    settings: Any,
) -> None:
    # a file where the storage's batch-predictions folder should be
    (Path(settings.MEDIA_ROOT) / "batch-predictions").write_text("in the way")
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.FAILED
    assert "cannot be written to the console's storage" in bp.message
    assert f"batch-predictions/{owner.pk}/{bp.entity_id}/" in bp.message


def test_records_that_cannot_be_scored_get_blank_lines_and_are_listed_with_their_line(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> None:
    header, *records = (shared_data / "banking-batch.csv").read_text().splitlines()
    valid = [r for r in records if r.split(",")[13] in ("0", "1")][:20]  # `previous` is BINARY
    valid[2] = "1,2,3"  # the third record: too few fields
    path = data_root() / "broken-batch.csv"
    path.write_text("\n".join([header, *valid]) + "\n")
    ds = data_source(owner, path, (shared_data / "banking-batch.csv.schema").read_text())
    bp = create_batch_prediction(
        owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, bp.message
    assert (bp.total_record_count, bp.invalid_record_count) == (20, 1)
    with default_storage.open(next(iter(bp.outputs.values())), "rb") as stream:
        text = gzip.decompress(stream.read()).decode().split("\n")
    assert text[3] == "" and text[2] and text[4]
    page = owner_client.get(page_of(bp)).content.decode()
    assert 'id="bad-records"' in page
    assert "broken-batch.csv, line 4" in page


def test_data_with_the_target_shows_the_accuracy_at_the_saved_threshold(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> None:
    labelled = banking_slice(shared_data, 500, name="banking-labelled.csv")
    ds = data_source(owner, labelled, (shared_data / "banking.csv.schema").read_text())
    bp = create_batch_prediction(
        owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, bp.message
    assert bp.metric["name"] == "accuracy" and 0.8 < bp.metric["value"] <= 1
    with default_storage.open(next(iter(bp.outputs.values())), "rb") as stream:
        assert gz_rows(stream.read())[0] == ["trueLabel", "bestAnswer", "score"]
    page = owner_client.get(page_of(bp)).content.decode()
    assert "Accuracy at the saved score threshold" in page


# --------------------------------------------------------------------------- the page


def test_the_page_shows_amls_summary_and_the_first_100_rows_beside_their_input(
    owner_client: Client, completed: BatchPrediction
) -> None:
    page = owner_client.get(page_of(completed)).content.decode()

    for text in (
        completed.entity_id,
        "Banking batch",
        completed.ml_model.entity_id,
        completed.batch_prediction_data_source.entity_id,
        "banking-batch.csv",
        "The console&#x27;s storage",
        "4,119",
        "Download log",
    ):
        assert text in page, text
    assert page.count('<tr><td class="muted">') == 100
    assert page.count("could not be scored</td>") == 5  # the first 100 records hold 5 invalid
    assert "<th>age</th>" in page and '<th class="prediction">bestAnswer</th>' in page


def test_download_results_gives_the_gz_as_written(
    owner_client: Client, completed: BatchPrediction
) -> None:
    response = owner_client.get(page_of(completed, "download", 0))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Disposition"].endswith(
        f'filename="{completed.entity_id}-banking-batch.csv.gz"'
    )
    rows = gz_rows(b"".join(response.streaming_content))
    assert rows[0] == ["bestAnswer", "score"] and len(rows) == BATCH_RECORDS + 1


def test_download_as_csv_streams_the_decompressed_file(
    owner_client: Client, completed: BatchPrediction
) -> None:
    response = owner_client.get(page_of(completed, "download-csv", 0))

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].endswith(
        f'filename="{completed.entity_id}-banking-batch.csv"'
    )
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["bestAnswer", "score"] and len(rows) == BATCH_RECORDS + 1


def test_the_manifest_maps_the_input_to_its_result(
    owner_client: Client, completed: BatchPrediction
) -> None:
    response = owner_client.get(page_of(completed, "manifest"))

    assert json.loads(response.content) == completed.outputs


def test_a_file_index_the_batch_prediction_did_not_write_is_404(
    owner_client: Client, completed: BatchPrediction
) -> None:
    assert owner_client.get(page_of(completed, "download", 1)).status_code == 404
    assert owner_client.get(page_of(completed, "download-csv", 7)).status_code == 404


def test_a_pending_batch_prediction_says_what_it_waits_for(
    owner: Any, owner_client: Client, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=ml.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    page = owner_client.get(page_of(bp)).content.decode()

    assert 'id="bp-progress"' in page and "every 2s" in page
    assert "Waiting for ML model" in page and ml.entity_id in page
    assert owner_client.get(page_of(bp, "download", 0)).status_code == 404


def test_the_dashboard_shows_a_running_batch_predictions_records_and_percent(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=ds.entity_id
    )
    claimed = lifecycle.claim(BatchPrediction, bp.pk)
    assert claimed is not None
    lifecycle.report_progress(claimed, records=2048, bytes=240_000, totalBytes=480_000)

    rows = owner_client.get(reverse("console:dashboard-rows")).content.decode()
    page = owner_client.get(page_of(bp)).content.decode()

    assert "2,048 records scored (50%)" in rows
    assert "2,048</strong> records scored (50% of the data)" in page


def test_rename_tags_and_delete_from_the_page(
    owner_client: Client, completed: BatchPrediction
) -> None:
    owner_client.post(page_of(completed, "rename"), {"name": "Scored"})
    owner_client.post(page_of(completed, "tags"), {"action": "add", "key": "team", "value": "a"})
    completed.refresh_from_db()
    assert completed.name == "Scored" and completed.tags == {"team": "a"}

    response = owner_client.post(page_of(completed, "delete"))

    assert response.status_code == 302
    completed.refresh_from_db()
    assert completed.status == Status.DELETED


def test_a_stranger_gets_404_on_every_batch_prediction_page_and_download(
    stranger_client: Client, completed: BatchPrediction
) -> None:
    for name, args in [
        ("detail", ()),
        ("status", ()),
        ("log", ()),
        ("manifest", ()),
        ("download", (0,)),
        ("download-csv", (0,)),
    ]:
        assert stranger_client.get(page_of(completed, name, *args)).status_code == 404, name
    for name in ("rename", "tags", "delete"):
        assert stranger_client.post(page_of(completed, name), {"name": "x"}).status_code == 404
    completed.refresh_from_db()
    assert completed.status == Status.COMPLETED and completed.name == "Banking batch"


# --------------------------------------------------------------------------- the wizard


def test_the_wizard_creates_a_batch_prediction_from_the_models_page(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)
    model_page = owner_client.get(reverse("console:mlmodel-detail", args=[model.entity_id]))
    assert f"/batch-predictions/new/?model={model.entity_id}" in model_page.content.decode()

    step1 = owner_client.get(reverse("console:batchprediction-create"), {"model": model.entity_id})
    assert "checked" in step1.content.decode()
    data_url = owner_client.post(
        reverse("console:batchprediction-create"), {"ml_model": model.entity_id}
    )["Location"]
    results_url = owner_client.post(data_url, {"data_source": ds.entity_id})["Location"]
    review_url = owner_client.post(
        results_url,
        {
            "destination": "storage",
            "name": "From the wizard",
            "pass_through": ["age"],
            "explain": "on",
        },
    )["Location"]
    review = owner_client.get(review_url).content.decode()
    assert "From the wizard" in review and "The console's own storage" in review

    created = owner_client.post(review_url)

    bp = BatchPrediction.objects.get(owner=owner)
    assert created["Location"] == page_of(bp)
    assert (bp.name, bp.output_uri, bp.pass_through, bp.explain) == (
        "From the wizard",
        "",
        ["age"],
        True,
    )
    assert bp.ml_model == model and bp.batch_prediction_data_source == ds
    model_page = owner_client.get(reverse("console:mlmodel-detail", args=[model.entity_id]))
    assert page_of(bp) in model_page.content.decode()  # listed on its model's page


def test_the_wizard_checks_the_s3_location_like_aml(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)
    data_url = owner_client.post(
        reverse("console:batchprediction-create"),
        {"ml_model": model.entity_id, "data_source": ds.entity_id},
    )["Location"]
    results_url = owner_client.post(data_url, {"data_source": ds.entity_id})["Location"]

    response = owner_client.post(
        results_url, {"destination": "s3", "output_uri": "s3://bucket/a//b/"}
    )

    assert response.status_code == 400
    assert "may not contain &#x27;//&#x27;" in response.content.decode()


def test_the_datasource_page_starts_the_wizard_with_the_datasource(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)
    page = owner_client.get(reverse("console:datasource-detail", args=[ds.entity_id]))
    link = f"/batch-predictions/new/?datasource={ds.entity_id}"
    assert link in page.content.decode()

    data_url = owner_client.post(
        reverse("console:batchprediction-create"),
        {"ml_model": model.entity_id, "data_source": ds.entity_id},
    )["Location"]

    assert (
        f'value="{ds.entity_id}" id="ds-0" checked' in owner_client.get(data_url).content.decode()
    )


def test_a_skipped_wizard_step_sends_back_and_a_strangers_draft_is_404(
    owner_client: Client, stranger: Any, model: MLModel, client: Client
) -> None:
    data_url = owner_client.post(
        reverse("console:batchprediction-create"), {"ml_model": model.entity_id}
    )["Location"]
    review_url = data_url.replace("/data/", "/review/")
    assert owner_client.get(review_url)["Location"] == data_url

    other = Client()
    other.force_login(stranger)
    assert other.get(data_url).status_code == 404
    assert (
        other.post(
            reverse("console:batchprediction-create"), {"ml_model": model.entity_id}
        ).status_code
        == 400
    )


# --------------------------------------------------------------------------- S3, on moto over HTTP


@pytest.fixture
def s3(moto_server: str, aws_env: dict[str, str], settings: Any) -> Any:
    """A client on the moto server, which the console also reads and writes s3:// through."""
    import boto3

    settings.AML_DATA_S3_ENDPOINT_URL = moto_server
    return boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"aml-out-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.mark.integration
def test_results_go_to_an_s3_location_with_amls_names_and_manifest(
    owner: Any,
    owner_client: Client,
    model: MLModel,
    shared_data: Path,
    enqueued: list[Any],
    s3: Any,
    bucket: str,
) -> None:
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner,
        batch_prediction_id="bp-s3test",
        ml_model_id=model.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        output_uri=f"s3://{bucket}/predictions",
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, bp.message
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [
        "predictions/batch-prediction/bp-s3test.manifest",
        "predictions/batch-prediction/result/bp-s3test-banking-batch.csv.gz",
    ]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    [(source, result)] = manifest.items()
    assert source.endswith("banking-batch.csv")
    assert result == f"s3://{bucket}/{keys[1]}"
    assert bp.outputs == manifest and bp.manifest_location == f"s3://{bucket}/{keys[0]}"
    rows = gz_rows(s3.get_object(Bucket=bucket, Key=keys[1])["Body"].read())
    assert rows[0] == ["bestAnswer", "score"] and len(rows) == BATCH_RECORDS + 1
    # The page reads the files back from S3: preview and the streamed CSV.
    page = owner_client.get(page_of(bp)).content.decode()
    assert page.count('<tr><td class="muted">') == 100
    assert f"s3://{bucket}/predictions/" in page
    streamed = owner_client.get(page_of(bp, "download-csv", 0))
    assert b"".join(streamed.streaming_content).decode().splitlines()[0] == "bestAnswer,score"


@pytest.mark.integration
def test_an_s3_location_that_cannot_be_written_fails_with_its_message(
    owner: Any, model: MLModel, shared_data: Path, enqueued: list[Any], s3: Any
) -> None:
    ds = banking_batch_source(owner, shared_data)
    missing = f"aml-missing-{uuid.uuid4().hex[:12]}"
    bp = create_batch_prediction(
        owner,
        ml_model_id=model.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        output_uri=f"s3://{missing}/out/",
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.FAILED
    assert bp.message == f"s3://{missing}/out/: no such bucket"


@pytest.mark.integration
def test_the_consoles_storage_on_s3_holds_the_results_too(
    owner: Any,
    owner_client: Client,
    shared_data: Path,
    enqueued: list[Any],
    s3: Any,
    bucket: str,
    moto_server: str,
    settings: Any,
) -> None:
    """As with AML_STORAGE=s3: the model file and the results both live in the console's bucket."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": moto_server,
                "region_name": "us-east-1",
                "location": "console",
                "file_overwrite": False,
                "default_acl": None,
            },
        },
    }
    ml = banking_model(owner, shared_data, records=2000)
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=ml.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, bp.message
    result = next(iter(bp.outputs.values()))
    s3.head_object(Bucket=bucket, Key=f"console/{result}")
    response = owner_client.get(page_of(bp, "download", 0))
    assert len(gz_rows(b"".join(response.streaming_content))) == BATCH_RECORDS + 1


def test_bad_wizard_input_is_a_form_error_or_404_never_a_500(
    owner_client: Client, model: MLModel
) -> None:
    create = reverse("console:batchprediction-create")
    assert owner_client.post(create, {"ml_model": "ml-nope"}).status_code == 400
    assert owner_client.post(create, {"ml_model": "../../etc"}).status_code == 400
    assert owner_client.post(create, {}).status_code == 400
    data_url = owner_client.post(create, {"ml_model": model.entity_id})["Location"]
    assert owner_client.post(data_url, {"data_source": "ds-nope"}).status_code == 400
    assert owner_client.get(data_url.replace("/data/", "/launch/")).status_code == 404
    assert (
        owner_client.get(data_url.replace("/new/", "/new/x").rstrip("/") + "/").status_code == 404
    )
    assert (
        owner_client.get(reverse("console:batchprediction-detail", args=["bp-nope"])).status_code
        == 404
    )


def test_bad_results_step_input_is_refused_with_a_reason(
    owner: Any, owner_client: Client, model: MLModel, shared_data: Path
) -> None:
    ds = banking_batch_source(owner, shared_data)
    data_url = owner_client.post(
        reverse("console:batchprediction-create"), {"ml_model": model.entity_id}
    )["Location"]
    results_url = owner_client.post(data_url, {"data_source": ds.entity_id})["Location"]

    for data in (
        {"destination": "ftp"},
        {"destination": "s3", "output_uri": ""},
        {"destination": "s3", "output_uri": "/etc/passwd"},
        {"destination": "storage", "pass_through": ["no-such-column"]},
        {"destination": "storage", "name": "x" * 2000},
    ):
        assert owner_client.post(results_url, data).status_code == 400, data


def test_step_2_creates_a_datasource_through_its_wizard_and_comes_back_with_it(
    owner_client: Client, model: MLModel, shared_data: Path
) -> None:
    data_url = owner_client.post(
        reverse("console:batchprediction-create"), {"ml_model": model.entity_id}
    )["Location"]
    detour = data_url.replace("/data/", "/new-datasource/")
    assert f'href="{detour}"' in owner_client.get(data_url).content.decode()
    assert owner_client.get(detour)["Location"] == reverse("console:datasource-create")

    response = owner_client.post(
        reverse("console:datasource-create"),
        {"source": "path", "server_path": str(shared_data / "banking-batch.csv"), "name": "new"},
    )
    token = response["Location"].split("/")[-3]
    schema = owner_client.session["datasource_wizard_drafts"][token]["schema"]
    # offered: the model's training schema less its target (`previous` BINARY, not inferred)
    types = {a["attributeName"]: a["attributeType"] for a in schema["attributes"]}
    assert "y" not in types and types["previous"] == "BINARY" and len(types) == 20
    assert not schema.get("targetAttributeName")
    table = {"action": "save"} | {
        f"type-{i}": a["attributeType"] for i, a in enumerate(schema["attributes"])
    }
    owner_client.post(reverse("console:datasource-wizard-schema", args=[token]), table)
    owner_client.post(
        reverse("console:datasource-wizard-target", args=[token]), {"uses_target": "no"}
    )
    owner_client.post(
        reverse("console:datasource-wizard-row-id", args=[token]), {"has_row_id": "no"}
    )
    created = owner_client.post(reverse("console:datasource-wizard-review", args=[token]))

    new = DataSource.objects.get(name="new")
    assert created["Location"] == data_url
    page = owner_client.get(data_url).content.decode()
    assert f'value="{new.entity_id}" id="ds-0" checked' in page


@pytest.mark.parametrize("model_type", ["REGRESSION", "MULTICLASS"])
def test_regression_and_multiclass_results_have_amls_columns_pass_through_and_explanations(
    owner: Any, owner_client: Client, shared_data: Path, enqueued: list[Any], model_type: str
) -> None:
    ml = wine_model(owner, shared_data, model_type)
    run_all(enqueued)
    ds = MLModel.objects.get(pk=ml.pk).training_data_source
    bp = create_batch_prediction(
        owner,
        ml_model_id=ml.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        pass_through=["alcohol"],
        explain=True,
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.COMPLETED, bp.message
    with default_storage.open(next(iter(bp.outputs.values())), "rb") as stream:
        header = gz_rows(stream.read())[0]
    predictions = ["score"] if model_type == "REGRESSION" else ["3", "4", "5", "6", "7", "8"]
    assert header == ["trueLabel", "alcohol", *predictions] + [
        f"{kind}{i}" for i in (1, 2, 3) for kind in ("feature", "contribution")
    ]
    assert bp.metric["name"] == ("rmse" if model_type == "REGRESSION" else "macroF1")
    page = owner_client.get(page_of(bp)).content.decode()
    assert 'id="metric-value"' in page and "alcohol" in page


def test_a_model_file_gone_from_storage_fails_with_a_plain_message(
    owner: Any, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> None:
    default_storage.delete(model.artifact_key)
    ds = banking_batch_source(owner, shared_data)
    bp = create_batch_prediction(
        owner, ml_model_id=model.entity_id, batch_prediction_data_source_id=ds.entity_id
    )

    run_all(enqueued)

    bp.refresh_from_db()
    assert bp.status == Status.FAILED
    assert bp.message.startswith(f"The model file of ML model {model.entity_id} cannot be read")

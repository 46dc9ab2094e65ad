"""The batch prediction wizard and Try real-time predictions in headless Chromium, against the live
server and a real Celery worker.

A person with a completed banking model (score threshold saved at 0.3) opens its page, chooses
"Use this model to → Generate batch predictions", walks ML model → data (banking-batch.csv,
4,119 records) → results (the console's own storage) → review, creates it, watches its page until
it completes, reads the preview, then downloads the .gz and the CSV and opens them: 4,119 rows
under `bestAnswer,score`, each bestAnswer agreeing with the saved threshold. Then the same model's
"Try real-time predictions": a pasted banking record fills the form and its prediction is the
engine's. Nothing may be fetched from outside the live server, and no page may log a JavaScript
error.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core.files.storage import default_storage
from playwright.sync_api import expect
from prediction_factories import BATCH_INVALID, BATCH_RECORDS, FAST

from console.models import AMLObject, BatchPrediction, MLModel, Status
from console.services.datasources import create_data_source_from_s3
from console.services.ml_models import create_ml_model, update_ml_model
from mlcore.artifacts import load_model
from mlcore.predict.scoring import score_record

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
JOB_TIMEOUT_MS = 90_000
THRESHOLD = 0.3
# banking.csv's line 2, its target ("0") last
BANKING_RECORD = (
    "56,housemaid,married,basic.4y,no,no,no,telephone,may,mon,261,1,999,0,nonexistent,"
    "1.1,93.994,-36.4,4.857,5191,0"
)


def finished(obj: AMLObject, worker: Any, wait: Callable[..., Any], what: str) -> None:
    def done() -> bool:
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died:\n{worker.log()}")
        obj.refresh_from_db()
        return obj.status in (Status.COMPLETED, Status.FAILED)

    wait(done, timeout=JOB_TIMEOUT_MS / 1000, what=what, step=0.2)
    assert obj.status == Status.COMPLETED, f"{obj.message}\n{worker.log()}"


def trained_banking_model(
    owner: Any, shared_data: Path, worker: Any, wait: Callable[..., Any]
) -> MLModel:
    training = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "banking.csv"),
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        data_source_name="Banking",
    )
    ml = create_ml_model(
        owner,
        ml_model_type="BINARY",
        training_data_source_id=training.entity_id,
        ml_model_name="ML model: Banking",
        parameters=FAST,
    )
    finished(ml, worker, wait, "the model's training")
    return update_ml_model(owner, ml.entity_id, score_threshold=THRESHOLD)


def test_an_analyst_scores_banking_batch_and_downloads_the_results(
    browser_session: BrowserSession,
    owner: Any,
    shared_data: Path,
    celery_worker: Any,
    wait: Callable[..., Any],
    django_user_model: Any,
) -> None:
    session, page = browser_session, browser_session.page
    worker = celery_worker()
    session.details.append(lambda: f"worker log (tail):\n{worker.log()[-4000:]}")
    ml = trained_banking_model(owner, shared_data, worker, wait)
    batch_data = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "banking-batch.csv"),
            "DataSchema": (shared_data / "banking-batch.csv.schema").read_text(),
        },
        data_source_name="Banking batch",
    )
    finished(batch_data, worker, wait, "the batch datasource's statistics")

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("model page: use it to generate batch predictions"):
        page.goto(session.url(f"/models/{ml.entity_id}/"))
        page.locator("#predictions details.use-menu summary").click()
        page.locator("#generate-batch-predictions").click()
        expect(page.get_by_role("heading", name="ML model for batch prediction")).to_be_visible()
        expect(page.locator(f'input[name="ml_model"][value="{ml.entity_id}"]')).to_be_checked()
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/batch-predictions/new/[^/]+/data/$"))

    with session.step("data: search for the batch datasource and choose it"):
        page.get_by_placeholder("Filter datasources by name or ID").fill("batch")
        page.get_by_label("Banking batch").check()
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/batch-predictions/new/[^/]+/results/$"))

    with session.step("results: the console's own storage, a name, explanations off"):
        expect(page.get_by_label(re.compile("The console's own storage"))).to_be_checked()
        expect(page.get_by_label("S3 destination")).to_be_hidden()
        page.get_by_label("Batch prediction name (optional)").fill("Banking batch e2e")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/batch-predictions/new/[^/]+/review/$"))

    with session.step("review and create"):
        expect(page.locator("#review-model")).to_contain_text(ml.entity_id)
        expect(page.locator("#review-datasource")).to_contain_text("4,119 records")
        expect(page.locator("#review-output")).to_have_text("The console's own storage")
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/batch-predictions/bp-[A-Za-z0-9]+/$"))

    bp = BatchPrediction.objects.get(owner=owner)
    with session.step("batch prediction page: completed, by itself"):
        expect(page.locator("#bp-name")).to_have_text("Banking batch e2e")
        expect(page.locator("#summary .status")).to_have_text("Completed", timeout=JOB_TIMEOUT_MS)
        expect(page.locator("#bp-progress")).to_have_count(0)
        expect(page.locator("#records-seen")).to_have_text("4,119")
        expect(page.locator("#records-failed")).to_contain_text(f"{BATCH_INVALID}")
        expect(page.locator("#preview tbody tr")).to_have_count(100)
        expect(page.locator("#preview thead")).to_contain_text("bestAnswer")
        expect(page.locator("#bad-records")).to_contain_text("banking-batch.csv, line")

    with session.step("download the .gz and the CSV and open them"):
        gz_url = page.locator("#download-gz-0").get_attribute("href")
        csv_url = page.locator("#download-csv-0").get_attribute("href")
        assert gz_url and csv_url
        packed = page.request.get(session.url(gz_url))
        plain = page.request.get(session.url(csv_url))
        assert packed.ok and plain.ok
        assert (
            f'filename="{bp.entity_id}-banking-batch.csv.gz"'
            in packed.headers["content-disposition"]
        )
        from_gz = gzip.decompress(packed.body()).decode()
        assert plain.text() == from_gz
        rows = list(csv.reader(io.StringIO(from_gz)))
        assert rows[0] == ["bestAnswer", "score"]
        assert len(rows) - 1 == BATCH_RECORDS
        scored = [row for row in rows[1:] if row]
        assert len(scored) == BATCH_RECORDS - BATCH_INVALID
        assert all((float(score) >= THRESHOLD) == (answer == "1") for answer, score in scored)
        assert any(THRESHOLD <= float(score) < 0.5 for _, score in scored)
        manifest = page.request.get(session.url(f"/batch-predictions/{bp.entity_id}/manifest/"))
        bp.refresh_from_db()
        assert json.loads(manifest.text()) == bp.outputs

    with session.step("dashboard: the batch prediction's row"):
        page.goto(session.url("/?type=batchprediction"))
        row = page.locator("table.objects tbody tr", has_text=bp.entity_id)
        expect(row).to_contain_text("Completed")

    with session.step("try real-time predictions: paste a record, create the prediction"):
        page.goto(session.url(f"/models/{ml.entity_id}/"))
        page.locator("#predictions details.use-menu summary").click()
        page.locator("#try-realtime").click()
        page.get_by_label("Record as one CSV line").fill(BANKING_RECORD)
        page.locator("#paste-submit").click()
        expect(page.get_by_label("job", exact=True)).to_have_value("housemaid")
        expect(page.get_by_label("nr_employed", exact=True)).to_have_value("5191")
        page.locator("#create-prediction").click()
        expect(page.locator("#predicted-label")).to_be_visible()
        expect(page.locator("#score-bars .score-bar")).to_have_count(2)
        expect(page.locator("#contributions tbody tr").first).to_be_visible()
        shown = json.loads(page.locator("#predict-json").inner_text())
        with default_storage.open(MLModel.objects.get(pk=ml.pk).artifact_key, "rb") as stream:
            model = load_model(stream)
        model.score_threshold = THRESHOLD
        record = dict(
            zip([a.name for a in model.schema.attributes], BANKING_RECORD.split(","), strict=True)
        )
        del record["y"]
        assert shown == {"Prediction": score_record(model, record)}

    with session.step("a second user gets 404 on every page, download and try-it URL"):
        django_user_model.objects.create_user(username="mallory", password="correct horse 2")
        page.get_by_role("button", name="Sign out").click()
        session.sign_in("mallory", "correct horse 2")
        for path in (
            f"/batch-predictions/{bp.entity_id}/",
            f"/batch-predictions/{bp.entity_id}/status/",
            f"/batch-predictions/{bp.entity_id}/log/",
            f"/batch-predictions/{bp.entity_id}/manifest/",
            f"/batch-predictions/{bp.entity_id}/results/0.gz",
            f"/batch-predictions/{bp.entity_id}/results/0.csv",
            f"/models/{ml.entity_id}/predict/",
            f"/batch-predictions/new/?model={ml.entity_id}",
        ):
            response = page.request.get(session.url(path))
            expected = 200 if path.startswith("/batch-predictions/new/") else 404
            assert response.status == expected, path
        # the wizard's first step lists only mallory's models: none
        page.goto(session.url(f"/batch-predictions/new/?model={ml.entity_id}"))
        expect(page.locator(f'input[value="{ml.entity_id}"]')).to_have_count(0)

    assert session.js_errors == [], "the pages logged JavaScript errors"
    assert session.foreign_requests() == [], "the pages fetched something from another host"


def test_a_batch_prediction_to_s3_waits_for_its_training_model_then_writes_amls_files(
    browser_session: BrowserSession,
    owner: Any,
    shared_data: Path,
    celery_worker: Any,
    wait: Callable[..., Any],
    moto_server: str,
    aws_env: dict[str, str],
    settings: Any,
) -> None:
    """The worker starts only after Create, so the batch prediction is seen waiting for a model
    that has not trained yet; its results then land in a bucket on moto, over real HTTP."""
    import boto3

    session, page = browser_session, browser_session.page
    settings.AML_DATA_S3_ENDPOINT_URL = moto_server  # the web server reads the results back
    s3 = boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")
    bucket = f"aml-e2e-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    training = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "banking.csv"),
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        data_source_name="Banking",
    )
    ml = create_ml_model(
        owner,
        ml_model_type="BINARY",
        training_data_source_id=training.entity_id,
        ml_model_name="ML model: Banking (training)",
        parameters=FAST,
    )
    batch_data = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "banking-batch.csv"),
            "DataSchema": (shared_data / "banking-batch.csv.schema").read_text(),
        },
        data_source_name="Banking batch",
    )

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("wizard: a pending model, a pending datasource, an S3 destination"):
        page.goto(session.url("/batch-predictions/new/"))
        page.get_by_placeholder("Filter ML models by name or ID").fill(ml.entity_id)
        row = page.locator("table.models-table tbody tr", has_text=ml.entity_id)
        expect(row).to_contain_text("Pending")
        row.locator("input[type=radio]").check()
        page.locator("#continue").click()
        page.locator(f'input[name="data_source"][value="{batch_data.entity_id}"]').check()
        page.locator("#continue").click()
        page.get_by_label("An Amazon S3 location").check()
        page.get_by_label("S3 destination").fill(f"s3://{bucket}/a//b/")
        page.locator("#continue").click()
        expect(page.locator("#output-uri-error")).to_contain_text("may not contain '//'")
        # the refused form came back as a 400, which Chromium logs; nothing else may be
        assert [e for e in session.js_errors if "status of 400" not in e] == []
        session.js_errors.clear()
        page.get_by_label("S3 destination").fill(f"s3://{bucket}/predictions")
        page.locator("#continue").click()
        expect(page.locator("#review-output")).to_have_text(f"s3://{bucket}/predictions/")
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/batch-predictions/bp-[A-Za-z0-9]+/$"))

    bp = BatchPrediction.objects.get(owner=owner)
    with session.step("its page: waiting for the ML model"):
        expect(page.locator("#bp-progress")).to_contain_text(f"Waiting for ML model {ml.entity_id}")

    worker = celery_worker(AML_DATA_S3_ENDPOINT_URL=moto_server)
    session.details.append(lambda: f"worker log (tail):\n{worker.log()[-4000:]}")
    with session.step("completed by itself once the model has trained"):
        expect(page.locator("#summary .status")).to_have_text("Completed", timeout=JOB_TIMEOUT_MS)
        expect(page.locator("#output-location")).to_have_text(f"s3://{bucket}/predictions/")
        expect(page.locator("#preview tbody tr")).to_have_count(100)

    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == [
        f"predictions/batch-prediction/{bp.entity_id}.manifest",
        f"predictions/batch-prediction/result/{bp.entity_id}-banking-batch.csv.gz",
    ]
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert list(manifest.values()) == [f"s3://{bucket}/{keys[1]}"]
    plain = page.request.get(session.url(f"/batch-predictions/{bp.entity_id}/results/0.csv"))
    assert plain.ok and plain.text().splitlines()[0] == "bestAnswer,score"
    assert len(plain.text().split("\n")) - 2 == BATCH_RECORDS  # header, and the last newline
    assert session.js_errors == [], "the pages logged JavaScript errors"
    assert session.foreign_requests() == [], "the pages fetched something from another host"

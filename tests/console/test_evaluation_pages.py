"""The evaluation page: summary in each status, the metric against its baseline with a verdict,
the five alerts, the charts of each model type, the confusion matrix CSV, rename, tags, delete;
a stranger sees nothing."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.model_charts import quality_word
from console.models import DataSource, Evaluation, MLModel, Status
from mlcore.metrics.alerts import (
    ALL_RECORDS_USED,
    HELD_OUT,
    SCHEMA_MATCHED,
    SUFFICIENT_DATA,
    TARGET_DISTRIBUTION,
)
from mlcore.metrics.binary import binary_details
from mlcore.metrics.multiclass import multiclass_details
from mlcore.metrics.regression import regression_details

pytestmark = pytest.mark.django_db

ALERTS = [
    {
        "name": HELD_OUT,
        "ok": True,
        "message": "Evaluated on ds-EvalData001, not the training data.",
    },
    {"name": SUFFICIENT_DATA, "ok": True, "message": "1,000 records, 43% of the 2,300 trained on."},
    {"name": SCHEMA_MATCHED, "ok": True, "message": "The schemas match."},
    {"name": ALL_RECORDS_USED, "ok": False, "message": "12 records were invalid and left out."},
    {"name": TARGET_DISTRIBUTION, "ok": True, "message": "The target distributions are similar."},
]


def stored_result(
    metric: str,
    value: float,
    details: dict[str, Any],
    *,
    baseline: str,
    records: int,
    invalid: int = 0,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The (performance metrics, result) pair the evaluation job stores."""
    result: dict[str, Any] = {
        "Baseline": {"Properties": {metric: baseline}},
        "Alerts": ALERTS,
        "Details": details,
        "RecordCount": records,
        "InvalidRecordCount": invalid,
    }
    if invalid:
        result["TotalRecordCount"] = records + invalid
    return {"Properties": {metric: repr(value)}}, result


def binary_result(threshold: float = 0.5) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the evaluation job stores, from the real metrics on 1,000 synthetic scores."""
    rng = np.random.default_rng(3)
    labels = rng.random(1000) < 0.3
    scores = np.clip(rng.normal(np.where(labels, 0.7, 0.3), 0.18), 0, 1)
    details = binary_details(scores, labels, threshold)
    return stored_result(
        "BinaryAUC", details["auc"], details, baseline="0.5", records=1000, invalid=12
    )


def multiclass_result(classes: int = 12) -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(5)
    labels = [f"c{i:02d}" for i in range(classes)]
    weights = np.linspace(2, 1, classes) / np.linspace(2, 1, classes).sum()
    truth = rng.choice(labels, size=2000, p=weights)
    wrong = rng.random(2000) < 0.2
    predicted = np.where(wrong, rng.choice(labels, size=2000), truth)
    details = multiclass_details(truth, predicted)
    return stored_result(
        "MulticlassAvgFScore", details["macro_f1"], details, baseline="0.02", records=2000
    )


def regression_result() -> tuple[dict[str, Any], dict[str, Any]]:
    rng = np.random.default_rng(7)
    truth = rng.normal(5.6, 0.8, 800)
    predicted = truth + rng.normal(0, 0.6, 800)
    details = regression_details(truth, predicted)
    return stored_result("RegressionRMSE", details["rmse"], details, baseline="0.8", records=800)


def make_datasource(owner: Any, entity_id: str, **fields: Any) -> DataSource:
    defaults: dict[str, Any] = {
        "name": f"Data {entity_id}",
        "source_kind": DataSource.SourceKind.PATH,
        "data_location_s3": "/data/banking.csv",
        "status": Status.COMPLETED,
    }
    defaults.update(fields)
    return DataSource.objects.create(owner=owner, entity_id=entity_id, **defaults)


def make_evaluation(
    owner: Any,
    model_type: str = "BINARY",
    result: tuple[dict[str, Any], dict[str, Any]] | None = None,
    *,
    model_fields: dict[str, Any] | None = None,
    **fields: Any,
) -> Evaluation:
    now = timezone.now()
    ml = MLModel.objects.create(
        owner=owner,
        entity_id="ml-TestModel001",
        name="ML model: Banking",
        training_data_source=make_datasource(owner, "ds-TrainData001"),
        ml_model_type=model_type,
        status=Status.COMPLETED,
        **(model_fields or {}),
    )
    metrics, details = result or binary_result()
    defaults: dict[str, Any] = {
        "name": "Evaluation: Banking",
        "status": Status.COMPLETED,
        "performance_metrics": metrics,
        "details": details,
        "started_at": now - timedelta(seconds=40),
        "finished_at": now,
        "compute_time": 12_000,
        "log": "Created.\nScored 1,012 records.\n",
    }
    defaults.update(fields)
    return Evaluation.objects.create(
        owner=owner,
        entity_id="ev-TestEval0001",
        ml_model=ml,
        evaluation_data_source=make_datasource(owner, "ds-EvalData001"),
        **defaults,
    )


def page(client: Client, ev: Evaluation) -> str:
    response = client.get(reverse("console:evaluation-detail", args=[ev.entity_id]))
    assert response.status_code == 200
    return response.content.decode()


def figure(html: str, figure_id: str) -> dict[str, Any]:
    match = re.search(
        rf'<script id="{figure_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no figure {figure_id}"
    return json.loads(match.group(1))


# --- Summary in each status ---------------------------------------------------------------------


def test_it_shows_the_summary_of_a_completed_evaluation(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner)
    html = page(owner_client, ev)
    for text in ("ev-TestEval0001", "Evaluation: Banking", "Completed", "Download log", "1,000"):
        assert text in html, text
    assert reverse("console:mlmodel-detail", args=["ml-TestModel001"]) in html
    assert reverse("console:datasource-detail", args=["ds-EvalData001"]) in html
    assert 'id="ev-progress"' not in html


def test_the_summary_says_records_read_valid_and_invalid_with_why(
    owner_client: Client, owner: Any
) -> None:
    metrics, details = binary_result()
    details = {
        **details,
        "TotalRecordCount": 1_012,
        "RecordCount": 1_000,
        "InvalidRecordCount": 12,
        "InvalidRecordReasons": {"wrongFieldCount": 2, "invalidValue": 7, "missingTarget": 3},
    }
    html = page(owner_client, make_evaluation(owner, result=(metrics, details)))

    summary = html[html.index('id="summary"') :]
    summary = summary[: summary.index("</dl>")]
    assert re.search(r"<dt>Records read</dt><dd[^>]*>1,012</dd>", summary)
    assert re.search(r"<dt>Valid records \(evaluated\)</dt><dd[^>]*>1,000</dd>", summary)
    assert (
        "12 (2 with the wrong number of fields, 7 with a value that does not fit its "
        "attribute&#x27;s type, 3 without a target value)" in summary
    )


def test_a_pending_evaluation_says_what_it_waits_for(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner, status=Status.PENDING, performance_metrics=None, details=None)
    MLModel.objects.filter(pk=ev.ml_model_id).update(status=Status.INPROGRESS)
    html = page(owner_client, ev)
    assert "Waiting for ML model" in html and "ml-TestModel001" in html
    assert 'hx-trigger="every 2s"' in html
    assert "quality score" not in html


def test_an_evaluation_in_progress_shows_records_scored(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(
        owner,
        status=Status.INPROGRESS,
        performance_metrics=None,
        details=None,
        progress={"records": 640},
    )
    html = page(owner_client, ev)
    assert "scoring the evaluation data" in html and "640" in html


def test_it_shows_why_an_evaluation_failed(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(
        owner,
        status=Status.FAILED,
        performance_metrics=None,
        details=None,
        message="No record of the evaluation data has a target value.",
    )
    html = page(owner_client, ev)
    assert "The evaluation failed" in html
    assert "No record of the evaluation data has a target value." in html


def test_the_status_fragment_reloads_the_page_when_done(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner)
    url = reverse("console:evaluation-status", args=[ev.entity_id])
    assert owner_client.get(url, HTTP_HX_REQUEST="true").headers.get("HX-Refresh") == "true"


def test_the_status_fragment_is_a_fragment_while_active(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner, status=Status.PENDING, performance_metrics=None, details=None)
    url = reverse("console:evaluation-status", args=[ev.entity_id])
    html = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in html and 'id="ev-progress"' in html


# --- Verdict ------------------------------------------------------------------------------------


def test_it_states_auc_baseline_and_difference_in_aml_words(
    owner_client: Client, owner: Any
) -> None:
    metrics, details = binary_result()
    ev = make_evaluation(owner, result=({"Properties": {"BinaryAUC": "0.936"}}, details))
    html = page(owner_client, ev)
    assert "the ML model's quality score is considered <strong>extremely good</strong>" in html
    text = re.sub(r"<[^>]+>|\s+", " ", html)
    assert re.search(
        r"AUC: 0\.936 / Baseline AUC: 0\.500 / Difference: 0\.436", re.sub(r" +", " ", text)
    )


@pytest.mark.parametrize(
    ("key", "value", "baseline", "word"),
    [
        ("BinaryAUC", 0.95, 0.5, "extremely good"),
        ("BinaryAUC", 0.85, 0.5, "good"),
        ("BinaryAUC", 0.72, 0.5, "fair"),
        ("BinaryAUC", 0.55, 0.5, "poor"),
        ("MulticlassAvgFScore", 0.914, 0.02, "extremely good"),
        ("MulticlassAvgFScore", 0.70, 0.10, "good"),
        ("MulticlassAvgFScore", 0.50, 0.10, "fair"),
        ("MulticlassAvgFScore", 0.20, 0.10, "poor"),
        ("RegressionRMSE", 0.30, 0.80, "extremely good"),
        ("RegressionRMSE", 0.55, 0.80, "good"),
        ("RegressionRMSE", 0.729, 0.793, "fair"),
        ("RegressionRMSE", 0.85, 0.80, "poor"),
        ("RegressionRMSE", 0.5, None, None),
    ],
)
def test_the_quality_scale(
    key: str, value: float, baseline: float | None, word: str | None
) -> None:
    assert quality_word(key, value, baseline) == word


@pytest.mark.parametrize(
    ("model_type", "result", "label"),
    [
        ("MULTICLASS", multiclass_result, "Average F1 score"),
        ("REGRESSION", regression_result, "RMSE"),
    ],
)
def test_each_metric_gets_its_verdict(
    owner_client: Client, owner: Any, model_type: str, result: Any, label: str
) -> None:
    html = page(owner_client, make_evaluation(owner, model_type, result()))
    assert "the ML model's quality score is considered <strong>" in html
    assert f"{label}: <strong>" in html and "Difference:" in html


def test_an_rmse_without_baseline_is_not_judged(owner_client: Client, owner: Any) -> None:
    metrics, details = regression_result()
    details["Baseline"] = {"Properties": {}}
    html = page(owner_client, make_evaluation(owner, "REGRESSION", (metrics, details)))
    assert "cannot be judged" in html and "Difference:" not in html


# --- Alerts -------------------------------------------------------------------------------------


def test_it_shows_the_five_alerts_with_their_state(owner_client: Client, owner: Any) -> None:
    html = page(owner_client, make_evaluation(owner))
    for alert in ALERTS:
        assert alert["name"] in html and alert["message"] in html
    assert html.count('class="eval-alert ok"') == 4
    assert html.count('class="eval-alert warn"') == 1
    assert "⚠" in html and "✓" in html


# --- Charts per model type ----------------------------------------------------------------------


def test_a_binary_evaluation_shows_histograms_roc_and_figures_at_the_threshold(
    owner_client: Client, owner: Any
) -> None:
    ev = make_evaluation(owner)
    at = ev.details["Details"]["threshold_metrics"]
    html = page(owner_client, ev)
    scores = figure(html, "fig-scores")
    assert [t["name"] for t in scores["data"]] == ["Actual 1 (positive)", "Actual 0 (negative)"]
    assert scores["layout"]["shapes"][0]["x0"] == 0.5
    roc = figure(html, "fig-roc")
    assert roc["data"][-1]["x"] == [at["false_positive_rate"]]
    for count in ("tp", "tn", "fp", "fn"):
        assert f"<strong>{at[count]:,}</strong>" in html
    for name in ("Accuracy", "Precision", "Recall", "False positive rate", "F1 score"):
        assert name in html
    assert f"{at['accuracy']:.3f}" in html


def test_the_score_histograms_get_as_much_width_as_the_roc_curve(
    owner_client: Client, owner: Any
) -> None:
    """They were squeezed into a third of the row, bars a pixel wide, next to a wide ROC."""
    html = page(owner_client, make_evaluation(owner))
    before = html[: html.index('id="score-histograms"')]
    grid = before[before.rindex('<div class="insight-grid') :]
    assert grid.startswith('<div class="insight-grid even">')


def test_records_left_out_of_an_evaluation_are_listed_with_file_and_line(
    owner_client: Client, owner: Any
) -> None:
    log = "".join(
        f"2026-11-30 05:48:39 Invalid record: /data/banking.csv, line {n}, column 'y': not 0 or 1\n"
        for n in range(31_000, 31_012)
    )
    html = page(owner_client, make_evaluation(owner, log="Created.\n" + log))
    card = html[html.index('id="bad-records"') :]
    assert "12 records could not be read and were skipped" in card
    assert "/data/banking.csv, line 31000, column &#x27;y&#x27;: not 0 or 1" in card
    assert reverse("console:evaluation-log", args=["ev-TestEval0001"]) in card
    assert '12 · <a href="#bad-records">where</a>' in html


def test_a_threshold_saved_after_the_evaluation_is_read_from_the_score_counts(
    owner_client: Client, owner: Any
) -> None:
    metrics, details = binary_result(threshold=0.5)
    ev = make_evaluation(owner, result=(metrics, details), model_fields={"score_threshold": 0.7})
    expected = binary_result(threshold=0.7)[1]["Details"]["threshold_metrics"]
    html = page(owner_client, ev)
    assert "At the score threshold of 0.7" in html
    assert f"<strong>{expected['tp']:,}</strong>" in html
    assert f"<strong>{expected['fp']:,}</strong>" in html


def test_a_threshold_above_every_score_says_precision_is_undefined_not_zero(
    owner_client: Client, owner: Any
) -> None:
    rng = np.random.default_rng(4)
    labels = rng.random(400) < 0.3
    scores = rng.uniform(0.0, 0.8, 400)
    details = binary_details(scores, labels, 0.9)
    result = stored_result("BinaryAUC", details["auc"], details, baseline="0.5", records=400)
    ev = make_evaluation(owner, result=result, model_fields={"score_threshold": 0.9})
    figures = page(owner_client, ev).split('class="summary two threshold-metrics"')[1]
    figures = figures.split("</dl>")[0]
    assert "— (nothing predicted 1)" in figures
    # recall, the false positive rate and F1 are defined, and 0
    assert "— (no actual" not in figures
    assert figures.count("<dd>0.000</dd>") == 3


def test_twelve_classes_collapse_to_nine_and_others(owner_client: Client, owner: Any) -> None:
    html = page(owner_client, make_evaluation(owner, "MULTICLASS", multiclass_result(12)))
    matrix = re.search(r'<table class="confusion">.*?</table>', html, re.S)
    assert matrix
    headers = re.findall(r'<th class="predicted">(.*?)</th>', matrix.group(0))
    assert len(headers) == 10 and headers[-1] == "others"
    assert "True class frequency" in html and "Predicted class frequency" in html
    assert len(re.findall(r'<th class="true">', matrix.group(0))) == 10
    assert "The 12 classes are shown as the top 9" in html
    # diagonal blue, errors orange: the first row's first cell is a tint of blue
    first = re.search(r'<td class="cell[^"]*" data-background="rgb\((\d+), (\d+), (\d+)\)', html)
    assert first and int(first.group(3)) > int(first.group(1))
    # the per-class table lists all twelve
    per_class = html.split('id="per-class"')[1]
    assert all(f">c{i:02d}<" in per_class for i in range(12))


def test_each_matrix_cell_shows_its_share_and_its_number_of_records(
    owner_client: Client, owner: Any
) -> None:
    metrics, result = multiclass_result(3)
    html = page(owner_client, make_evaluation(owner, "MULTICLASS", (metrics, result)))
    counts = result["Details"]["confusion_matrix"]["counts"][0][0]
    first = re.search(r'<td class="cell[^>]*>(\d+)%<span class="cell-count">([\d,]+)</span>', html)
    assert first and int(first.group(2).replace(",", "")) == counts


def test_a_class_the_model_never_predicts_has_no_precision_figure(
    owner_client: Client, owner: Any
) -> None:
    truth = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
    predicted = np.where(truth == "c", "a", truth)  # "c" is never predicted
    details = multiclass_details(truth, predicted)
    result = stored_result(
        "MulticlassAvgFScore", details["macro_f1"], details, baseline="0.2", records=100
    )
    html = page(owner_client, make_evaluation(owner, "MULTICLASS", result))
    row_c = re.search(r"<tr><td>c</td>(.*?)</tr>", html.split('id="per-class"')[1], re.S)
    assert row_c and "precision is undefined" in row_c.group(1)
    row_a = re.search(r"<tr><td>a</td>(.*?)</tr>", html.split('id="per-class"')[1], re.S)
    assert row_a and "undefined" not in row_a.group(1)


def test_the_full_matrix_downloads_as_csv(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner, "MULTICLASS", multiclass_result(12))
    response = owner_client.get(reverse("console:evaluation-matrix", args=[ev.entity_id]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 13 and len(rows[0]) == 13
    total = sum(int(v) for row in rows[1:] for v in row[1:])
    assert total == 2000


def test_a_binary_evaluation_has_no_matrix_csv(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner)
    response = owner_client.get(reverse("console:evaluation-matrix", args=[ev.entity_id]))
    assert response.status_code == 404


def test_a_regression_evaluation_shows_the_residual_histogram(
    owner_client: Client, owner: Any
) -> None:
    ev = make_evaluation(owner, "REGRESSION", regression_result())
    html = page(owner_client, ev)
    residuals = figure(html, "fig-residuals")
    assert sum(residuals["data"][0]["y"]) == 800
    assert "Baseline RMSE: 0.800" in html
    assert "Mean absolute error" in html


# --- Log, rename, tags, delete ------------------------------------------------------------------


def test_it_downloads_the_log(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner)
    response = owner_client.get(reverse("console:evaluation-log", args=[ev.entity_id]))
    assert response.content.decode() == ev.log


def test_it_renames_tags_and_deletes(owner_client: Client, owner: Any) -> None:
    ev = make_evaluation(owner)
    args = [ev.entity_id]
    owner_client.post(reverse("console:evaluation-rename", args=args), {"name": "Held-out check"})
    owner_client.post(reverse("console:evaluation-tags", args=args), {"key": "k", "value": "v"})
    ev.refresh_from_db()
    assert ev.name == "Held-out check" and ev.tags == {"k": "v"}
    owner_client.post(
        reverse("console:evaluation-tags", args=args), {"action": "remove", "key": "k"}
    )
    response = owner_client.post(reverse("console:evaluation-delete", args=args))
    assert response.status_code == 302
    ev.refresh_from_db()
    assert ev.tags == {} and ev.status == Status.DELETED
    html = page(owner_client, ev)
    assert "was deleted" in html
    assert reverse("console:evaluation-delete", args=args) not in html


# --- Access -------------------------------------------------------------------------------------

URLS = [
    ("get", "evaluation-detail"),
    ("get", "evaluation-status"),
    ("get", "evaluation-log"),
    ("get", "evaluation-matrix"),
    ("post", "evaluation-rename"),
    ("post", "evaluation-tags"),
    ("post", "evaluation-delete"),
]


@pytest.mark.parametrize(("method", "name"), URLS)
def test_a_stranger_gets_404_on_every_url(
    stranger_client: Client, owner: Any, method: str, name: str
) -> None:
    ev = make_evaluation(owner, "MULTICLASS", multiclass_result(3))
    url = reverse(f"console:{name}", args=[ev.entity_id])
    response = getattr(stranger_client, method)(url, {"name": "x", "key": "k"})
    assert response.status_code == 404
    ev.refresh_from_db()
    assert ev.status == Status.COMPLETED and ev.name == "Evaluation: Banking" and ev.tags == {}


@pytest.mark.parametrize(("method", "name"), URLS)
def test_an_anonymous_visitor_is_sent_to_log_in(
    client: Client, owner: Any, method: str, name: str
) -> None:
    ev = make_evaluation(owner)
    response = getattr(client, method)(reverse(f"console:{name}", args=[ev.entity_id]))
    assert response.status_code == 302 and reverse("login") in response["Location"]


@pytest.mark.parametrize("name", ["evaluation-rename", "evaluation-tags", "evaluation-delete"])
def test_posts_need_the_csrf_token(owner: Any, name: str) -> None:
    ev = make_evaluation(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse(f"console:{name}", args=[ev.entity_id]), {"name": "x"})
    assert response.status_code == 403


@pytest.mark.parametrize("model_type", ["BINARY", "MULTICLASS", "REGRESSION"])
def test_the_page_loads_no_external_script(
    owner_client: Client, owner: Any, model_type: str
) -> None:
    result = {"BINARY": binary_result, "MULTICLASS": multiclass_result}.get(
        model_type, regression_result
    )()
    html = page(owner_client, make_evaluation(owner, model_type, result))
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources)

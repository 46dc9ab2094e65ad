"""The ML model page: summary in each status, live training progress, insights, evaluations,
log, rename, tags, delete; the owner sees it all, a stranger sees nothing."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.model_charts import build_model_insights, loss_figure, weights_figure
from console.models import DataSource, Evaluation, MLModel, Status

pytestmark = pytest.mark.django_db

SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "y",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "job", "attributeType": "CATEGORICAL"},
        {"attributeName": "y", "attributeType": "BINARY"},
    ],
}
RECIPE = '{"groups": {}, "assignments": {}, "outputs": ["ALL_INPUTS", "quantile_bin(age, 10)"]}'
PARAMETERS = {
    "algorithm": "sgd",
    "sgd.maxMLModelSizeInBytes": "104857600",
    "sgd.maxPasses": "10",
    "sgd.shuffleType": "auto",
    "sgd.l2RegularizationAmount": "1e-06",
}
LOSSES = [0.412, 0.305, 0.287, 0.281]


def top_weights(prefix: str = "") -> dict[str, list[dict[str, Any]]]:
    return {
        "positive": [
            {"feature": f"{prefix}duration=[631,4918]", "weight": 2.91},
            {"feature": f"{prefix}poutcome=success", "weight": 1.77},
        ],
        "negative": [
            {"feature": f"{prefix}contact=unknown", "weight": -1.32},
            {"feature": f"{prefix}month=may", "weight": -0.58},
        ],
    }


def insights(top: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "features": 312,
        "top": top or {"score": top_weights()},
        "intercept": [-2.1],
        "history": LOSSES,
        "passes": 4,
        "converged": True,
        "dropped_features": 7,
        "records_used": 4100,
        "records_without_target": 0,
    }


def make_datasource(owner: Any, **fields: Any) -> DataSource:
    defaults: dict[str, Any] = {
        "entity_id": "ds-TrainData001",
        "name": "Banking [percentBegin=0, percentEnd=70]",
        "source_kind": DataSource.SourceKind.PATH,
        "data_location_s3": "/data/banking.csv",
        "data_schema": SCHEMA,
        "status": Status.COMPLETED,
    }
    defaults.update(fields)
    return DataSource.objects.create(owner=owner, **defaults)


def make_model(owner: Any, ds: DataSource | None = None, **fields: Any) -> MLModel:
    now = timezone.now()
    defaults: dict[str, Any] = {
        "entity_id": "ml-TestModel001",
        "name": "ML model: Banking",
        "training_data_source": ds or make_datasource(owner),
        "ml_model_type": "BINARY",
        "status": Status.COMPLETED,
        "training_parameters": PARAMETERS,
        "recipe": RECIPE,
        "score_threshold": 0.5,
        "size_in_bytes": 2_621_440,
        "artifact_key": "models/1/ml-TestModel001.amlmodel",
        "insights": insights(),
        "started_at": now - timedelta(minutes=3),
        "finished_at": now,
        "compute_time": 95_000,
        "log": "Created.\nPass 4: loss 0.281\nConverged.\n",
        "progress": {"phase": "done", "pass": 4, "passes": 10, "records": 4100, "loss": LOSSES},
    }
    defaults.update(fields)
    return MLModel.objects.create(owner=owner, **defaults)


def page(client: Client, ml: MLModel, query: str = "") -> str:
    response = client.get(reverse("console:mlmodel-detail", args=[ml.entity_id]) + query)
    assert response.status_code == 200
    return response.content.decode()


def figure(html: str, figure_id: str) -> dict[str, Any]:
    match = re.search(
        rf'<script id="{figure_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no figure {figure_id}"
    return json.loads(match.group(1))


# --- Summary in each status ---------------------------------------------------------------------


def test_it_shows_the_aml_summary_of_a_completed_model(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    html = page(owner_client, ml)
    for text in (
        "ml-TestModel001",
        "ML model: Banking",
        "Binary",
        "Completed",
        "ds-TrainData001",
        "/data/banking.csv",
        "2.5 MB",
        "Download log",
        "sgd.maxPasses",
        "sgd.l2RegularizationAmount",
        "quantile_bin(age, 10)",
    ):
        assert text in html, text
    assert "Score threshold" in html
    assert reverse("console:datasource-detail", args=["ds-TrainData001"]) in html
    assert 'id="ml-progress"' not in html


SGD_CHOICE = {
    "amounts": [1e-06, 1e-05, 0.0001],
    "heldOutLoss": [[0.31, 0.29, 0.285], [0.30, 0.28, 0.27, 0.272, 0.275], [0.33, 0.32, 0.319]],
    "l2": 1e-05,
    "passes": 3,
    "passesRun": 5,
    "heldOutRecords": 410,
    "trainingRecords": 3690,
    "searchRecords": 3690,
    "solver": "sgd",
}


def test_it_shows_the_amounts_the_trainer_tried_and_the_one_it_kept(
    owner_client: Client, owner: Any
) -> None:
    ml = make_model(
        owner,
        training_parameters={**PARAMETERS, "sgd.l2RegularizationAmount": "auto"},
        training_choice=SGD_CHOICE,
    )
    html = page(owner_client, ml)
    assert "<td><code>sgd.l2RegularizationAmount</code></td><td>1e-05 " in html
    assert "(chosen automatically)" in html
    assert "held out 410 of the 4,100 training records, tried 3 L2 amounts" in html
    assert "<strong>L2 1e-05</strong> after <strong>3 passes</strong>" in html
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html.split('id="regularization-table"')[1], re.S)
    kept = [row for row in rows if "kept" in row]
    assert len(kept) == 1 and "0.27000" in kept[0] and "<td>5</td>" in kept[0]
    figure = json.loads(
        html.split('id="fig-regularization" type="application/json">')[1].split("</script>")[0]
    )
    assert [trace["name"] for trace in figure["data"]][:3] == [
        "L2 1e-06",
        "L2 1e-05 (kept)",
        "L2 0.0001",
    ]


def test_a_model_trained_with_a_given_amount_says_nothing_was_chosen(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, make_model(owner))
    assert "(chosen automatically)" not in html and "regularization-table" not in html


def test_the_model_size_limit_reads_in_megabytes_next_to_its_byte_count(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, make_model(owner))
    row = re.search(r"<code>sgd.maxMLModelSizeInBytes</code></td><td>([^<]*)</td>", html)
    assert row is not None and row.group(1) == "104,857,600 bytes (100.0 MB)"
    assert "<code>sgd.maxPasses</code></td><td>10</td>" in html  # other values as stored


def test_the_strongest_weights_tables_keep_their_own_height(
    owner_client: Client, owner: Any
) -> None:
    """Side by side, the shorter table was stretched to the taller one's height (tall rows)."""
    html = page(owner_client, make_model(owner))
    assert "console/css/model_pages.css" in html  # the page's own stylesheet (no inline <style>)
    stylesheet = Path(finders.find("console/css/model_pages.css")).read_text()
    rule = re.search(r"\.weights-tables \{([^}]*)\}", stylesheet)
    assert rule is not None and "align-items: start" in rule.group(1)


def test_it_hides_the_score_threshold_of_a_regression_model(
    owner_client: Client, owner: Any
) -> None:
    ml = make_model(owner, ml_model_type="REGRESSION", insights=insights({"score": top_weights()}))
    assert "Score threshold" not in page(owner_client, ml)


def test_it_says_which_datasource_a_pending_model_waits_for(
    owner_client: Client, owner: Any
) -> None:
    ds = make_datasource(owner, status=Status.INPROGRESS)
    ml = make_model(owner, ds, status=Status.PENDING, insights=None, progress={}, finished_at=None)
    html = page(owner_client, ml)
    assert "Waiting for datasource" in html and "ds-TrainData001" in html
    assert reverse("console:mlmodel-status", args=[ml.entity_id]) in html
    assert 'hx-trigger="every 2s"' in html


def test_it_says_a_pending_model_waits_for_a_worker_once_its_data_is_ready(
    owner_client: Client, owner: Any
) -> None:
    ml = make_model(owner, status=Status.PENDING, insights=None, progress={})
    html = page(owner_client, ml)
    assert "Waiting for a worker" in html
    assert "Waiting for datasource" not in html


def test_it_shows_pass_k_of_n_and_the_loss_curve_while_training(
    owner_client: Client, owner: Any
) -> None:
    progress = {"phase": "training", "pass": 3, "passes": 10, "records": 4100, "loss": LOSSES[:3]}
    ml = make_model(owner, status=Status.INPROGRESS, insights=None, progress=progress)
    html = page(owner_client, ml)
    assert "Pass 3 of 10" in html
    assert "4,100" in html
    assert figure(html, "fig-live-loss")["data"][0]["y"] == LOSSES[:3]


def test_it_shows_records_read_before_the_first_pass(owner_client: Client, owner: Any) -> None:
    progress = {"phase": "reading", "pass": 0, "passes": 10, "records": 1500, "loss": []}
    ml = make_model(owner, status=Status.INPROGRESS, insights=None, progress=progress)
    html = page(owner_client, ml)
    assert "reading the training data" in html and "1,500" in html
    assert "fig-live-loss" not in html


def test_it_shows_why_a_model_failed(owner_client: Client, owner: Any) -> None:
    ml = make_model(
        owner, status=Status.FAILED, insights=None, message="The target y has one class only."
    )
    html = page(owner_client, ml)
    assert "The ML model failed" in html
    assert "The target y has one class only." in html
    assert "Model insights" not in html


def test_a_deleted_model_stays_readable_without_actions(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner, status=Status.DELETED)
    html = page(owner_client, ml)
    assert "was deleted" in html
    assert reverse("console:mlmodel-delete", args=[ml.entity_id]) not in html
    assert reverse("console:mlmodel-rename", args=[ml.entity_id]) not in html


# --- The progress fragment ----------------------------------------------------------------------


def test_the_progress_fragment_shows_the_pass_and_the_losses(
    owner_client: Client, owner: Any
) -> None:
    progress = {"phase": "training", "pass": 2, "passes": 5, "records": 900, "loss": [0.5, 0.25]}
    ml = make_model(owner, status=Status.INPROGRESS, insights=None, progress=progress)
    url = reverse("console:mlmodel-status", args=[ml.entity_id])
    response = owner_client.get(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "Pass 2 of 5" in html
    assert "0.5, 0.25" in html
    assert figure(html, "fig-live-loss")["data"][0]["y"] == [0.5, 0.25]


def test_the_progress_card_polls_for_the_status_the_page_was_drawn_with(
    owner_client: Client, owner: Any
) -> None:
    ml = make_model(owner, status=Status.PENDING, insights=None, progress={}, finished_at=None)
    status_url = reverse("console:mlmodel-status", args=[ml.entity_id])
    assert f'hx-get="{status_url}?shown=PENDING"' in page(owner_client, ml)


def test_the_progress_fragment_reloads_the_page_once_the_status_moved_on(
    owner_client: Client, owner: Any
) -> None:
    progress = {"phase": "training", "pass": 5, "passes": 10, "records": 900, "loss": [0.5]}
    ml = make_model(owner, status=Status.INPROGRESS, insights=None, progress=progress)
    url = reverse("console:mlmodel-status", args=[ml.entity_id])

    moved_on = owner_client.get(url + "?shown=PENDING", HTTP_HX_REQUEST="true")
    same = owner_client.get(url + "?shown=INPROGRESS", HTTP_HX_REQUEST="true")

    assert moved_on.headers.get("HX-Refresh") == "true"  # the summary still said Pending
    assert same.headers.get("HX-Refresh") is None and "Pass 5 of 10" in same.content.decode()


def test_a_model_in_training_says_its_recipe_is_being_used_not_chosen_later(
    owner_client: Client, owner: Any
) -> None:
    progress = {"phase": "training", "pass": 5, "passes": 10, "records": 900, "loss": [0.5]}
    ml = make_model(owner, status=Status.INPROGRESS, insights=None, progress=progress, recipe="")

    html = page(owner_client, ml)

    assert "chosen when training starts" not in html
    assert "Training uses the suggested recipe" in html
    summary = re.search(r'<div class="card" id="summary">.*?</dl>', html, re.S)
    assert summary and "status-INPROGRESS" in summary[0] and "status-PENDING" not in summary[0]


def test_the_progress_fragment_reloads_the_page_when_training_is_over(
    owner_client: Client, owner: Any
) -> None:
    ml = make_model(owner)
    url = reverse("console:mlmodel-status", args=[ml.entity_id])
    response = owner_client.get(url, HTTP_HX_REQUEST="true")
    assert response.headers.get("HX-Refresh") == "true"


# --- Insights -----------------------------------------------------------------------------------


def test_it_lists_the_strongest_weights_with_recipe_feature_names(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, make_model(owner))
    assert "Largest positive weights" in html and "Largest negative weights" in html
    assert "duration=[631,4918]" in html and "2.91" in html
    assert "contact=unknown" in html and "-1.32" in html
    bars = figure(html, "fig-weights")["data"][0]
    assert bars["orientation"] == "h"
    assert bars["y"][-1] == "duration=[631,4918]"  # the largest weight on top


def test_it_shows_features_dropped_features_convergence_and_loss_per_pass(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, make_model(owner))
    assert "312" in html
    assert re.search(r"Features dropped to fit the size limit</dt><dd>7<", html)
    assert "Yes, stopped early" in html
    assert figure(html, "fig-loss")["data"][0]["y"] == LOSSES


def test_a_multiclass_model_shows_one_class_at_a_time(owner_client: Client, owner: Any) -> None:
    top = {"setosa": top_weights("s:"), "versicolor": top_weights("v:")}
    ml = make_model(owner, ml_model_type="MULTICLASS", insights=insights(top))
    html = page(owner_client, ml)
    assert 'name="output"' in html and ">versicolor</option>" in html
    assert "s:duration=[631,4918]" in html and "v:duration" not in html
    html = page(owner_client, ml, "?output=versicolor")
    assert "v:duration=[631,4918]" in html and "s:duration" not in html
    # an unknown class falls back to the first one
    assert "s:duration" in page(owner_client, ml, "?output=nope")


def test_a_multiclass_model_opens_on_its_most_frequent_class_and_names_each_share(
    owner_client: Client, owner: Any
) -> None:
    # wine quality: the model's classes sort as 3..8, but 3 has 5 training records and 5 has 494.
    counts = {"5": 494, "6": 421, "7": 157, "4": 32, "8": 13, "3": 5}
    statistics = {
        "target": {
            "name": "quality",
            "type": "CATEGORICAL",
            "distribution": [{"value": k, "count": v} for k, v in counts.items()],
        }
    }
    ds = make_datasource(owner, statistics=statistics)
    top = {c: top_weights(f"c{c}:") for c in ["3", "4", "5", "6", "7", "8"]}
    ml = make_model(owner, ds, ml_model_type="MULTICLASS", insights=insights(top))
    html = page(owner_client, ml)
    assert "Strongest features for class <code>5</code>" in html
    assert "c5:duration=[631,4918]" in html and "c3:duration" not in html
    options = re.findall(r'<option value="(\d)"', html)
    assert options == ["5", "6", "7", "4", "8", "3"]
    assert ">5 (494 training records, 44.0 %)</option>" in html
    assert ">3 (5 training records, 0.4 %)</option>" in html
    # a chosen class still wins
    assert "Strongest features for class <code>3</code>" in page(owner_client, ml, "?output=3")


def test_the_insight_builders_leave_out_what_is_missing() -> None:
    assert build_model_insights(None) is None
    assert build_model_insights({"top": {}}) is None
    assert loss_figure([]) is None
    assert weights_figure({"positive": [], "negative": []}) is None


# --- Evaluations of the model --------------------------------------------------------------------


COMPLETED_AUC = {
    "status": Status.COMPLETED,
    "performance_metrics": {"Properties": {"BinaryAUC": "0.936"}},
    "details": {"Baseline": {"Properties": {"BinaryAUC": "0.5"}}},
}


def evaluate(owner: Any, ml: MLModel, **fields: Any) -> Evaluation:
    """An evaluation of `ml` on its own datasource, ev-TestEval001."""
    return Evaluation.objects.create(
        owner=owner,
        entity_id="ev-TestEval001",
        name="Evaluation: Banking",
        ml_model=ml,
        evaluation_data_source=make_datasource(owner, entity_id="ds-EvalData001"),
        **fields,
    )


def test_it_lists_the_models_evaluations_with_their_metric(
    owner_client: Client, owner: Any
) -> None:
    ml = make_model(owner)
    evaluate(owner, ml, **COMPLETED_AUC)
    html = page(owner_client, ml)
    assert reverse("console:evaluation-detail", args=["ev-TestEval001"]) in html
    assert "AUC: 0.936" in html and "Extremely good" in html


def test_the_evaluations_card_refreshes_itself_while_an_evaluation_runs(
    owner_client: Client, owner: Any
) -> None:
    """The page reloads once, when training ends; its evaluation starts only then."""
    ml = make_model(owner)
    ev = evaluate(owner, ml, status=Status.INPROGRESS)
    card_url = reverse("console:mlmodel-evaluations", args=[ml.entity_id])
    html = page(owner_client, ml)
    assert f'hx-get="{card_url}" hx-trigger="every 3s"' in html

    Evaluation.objects.filter(pk=ev.pk).update(**COMPLETED_AUC)
    card = owner_client.get(card_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'id="evaluations"' in card
    assert "AUC: 0.936" in card and "Completed" in card
    assert "hx-get" not in card, "a finished evaluation stops the polling"


def test_a_model_whose_evaluations_are_done_does_not_poll(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    evaluate(owner, ml, **COMPLETED_AUC)
    assert reverse("console:mlmodel-evaluations", args=[ml.entity_id]) not in page(owner_client, ml)


# --- Log, rename, tags, delete ------------------------------------------------------------------


def test_it_downloads_the_log(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    response = owner_client.get(reverse("console:mlmodel-log", args=[ml.entity_id]))
    assert response.content.decode() == ml.log
    assert "attachment" in response["Content-Disposition"]


def test_it_renames_the_model(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    response = owner_client.post(
        reverse("console:mlmodel-rename", args=[ml.entity_id]), {"name": "Better name"}
    )
    assert response.status_code == 302
    ml.refresh_from_db()
    assert ml.name == "Better name"


def test_it_adds_and_removes_tags(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    url = reverse("console:mlmodel-tags", args=[ml.entity_id])
    owner_client.post(url, {"action": "add", "key": "team", "value": "risk"})
    ml.refresh_from_db()
    assert ml.tags == {"team": "risk"}
    owner_client.post(url, {"action": "remove", "key": "team"})
    ml.refresh_from_db()
    assert ml.tags == {}


def test_a_refused_tag_reshows_the_page_with_the_reason(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    url = reverse("console:mlmodel-tags", args=[ml.entity_id])
    response = owner_client.post(url, {"action": "add", "key": "aws:owner", "value": "x"})
    assert response.status_code == 400
    assert "tags-error" in response.content.decode()


def test_it_deletes_the_model(owner_client: Client, owner: Any) -> None:
    ml = make_model(owner)
    response = owner_client.post(reverse("console:mlmodel-delete", args=[ml.entity_id]))
    assert response.status_code == 302
    ml.refresh_from_db()
    assert ml.status == Status.DELETED


# --- Access -------------------------------------------------------------------------------------

URLS = [
    ("get", "mlmodel-detail"),
    ("get", "mlmodel-status"),
    ("get", "mlmodel-evaluations"),
    ("get", "mlmodel-log"),
    ("post", "mlmodel-rename"),
    ("post", "mlmodel-tags"),
    ("post", "mlmodel-delete"),
]


@pytest.mark.parametrize(("method", "name"), URLS)
def test_a_stranger_gets_404_on_every_url(
    stranger_client: Client, owner: Any, method: str, name: str
) -> None:
    ml = make_model(owner)
    url = reverse(f"console:{name}", args=[ml.entity_id])
    response = getattr(stranger_client, method)(url, {"name": "x", "key": "k"})
    assert response.status_code == 404
    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED and ml.name == "ML model: Banking" and ml.tags == {}


@pytest.mark.parametrize(("method", "name"), URLS)
def test_an_anonymous_visitor_is_sent_to_log_in(
    client: Client, owner: Any, method: str, name: str
) -> None:
    ml = make_model(owner)
    response = getattr(client, method)(reverse(f"console:{name}", args=[ml.entity_id]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


@pytest.mark.parametrize("name", ["mlmodel-rename", "mlmodel-tags", "mlmodel-delete"])
def test_posts_need_the_csrf_token(owner: Any, name: str) -> None:
    ml = make_model(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(reverse(f"console:{name}", args=[ml.entity_id]), {"name": "x"})
    assert response.status_code == 403
    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED


def test_the_page_loads_no_external_script(owner_client: Client, owner: Any) -> None:
    html = page(owner_client, make_model(owner))
    sources = re.findall(r'<script[^>]*\bsrc="([^"]+)"', html)
    assert sources and all(src.startswith("/") and not src.startswith("//") for src in sources)
    assert "plotly.min.js" in html and "model_pages.js" in html

"""The binary evaluation's threshold explorer, server side: `?threshold=` renders the figures at that
cut-off (for a browser without JavaScript), a bad one is a 400 that says why, Save and Reset go
through `update_ml_model` behind login, CSRF and ownership; an old evaluation still works."""

from __future__ import annotations

import json
import math
import re
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.models import DataSource, Evaluation, MLModel, Status
from console.services.ml_models import update_ml_model
from console.views.threshold_explorer import plain_sentence
from mlcore.metrics.binary import binary_details, threshold_metrics_from_counts

pytestmark = pytest.mark.django_db


def make_binary_evaluation(owner: Any, *, drop: tuple[str, ...] = ()) -> Evaluation:
    """A completed evaluation of 1,000 synthetic scores; `drop` removes stored pieces, as in
    evaluations made before the explorer."""
    rng = np.random.default_rng(3)
    labels = rng.random(1000) < 0.3
    scores = np.clip(rng.normal(np.where(labels, 0.7, 0.3), 0.18), 0, 1)
    details = binary_details(scores, labels, 0.5)
    for piece in drop:
        details.pop(piece)
    ds = DataSource.objects.create(
        owner=owner,
        entity_id="ds-ThresholdData",
        name="Data",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3="/data/banking.csv",
        status=Status.COMPLETED,
    )
    ml = MLModel.objects.create(
        owner=owner,
        entity_id="ml-ThresholdModel",
        training_data_source=ds,
        ml_model_type="BINARY",
        status=Status.COMPLETED,
    )
    now = timezone.now()
    return Evaluation.objects.create(
        owner=owner,
        entity_id="ev-ThresholdEval1",
        ml_model=ml,
        evaluation_data_source=ds,
        status=Status.COMPLETED,
        performance_metrics={"Properties": {"BinaryAUC": repr(details["auc"])}},
        details={"Details": details, "RecordCount": 1000, "InvalidRecordCount": 0},
        started_at=now - timedelta(seconds=3),
        finished_at=now,
    )


def detail_url(ev: Evaluation) -> str:
    return reverse("console:evaluation-detail", args=[ev.entity_id])


def save_url(ev: Evaluation) -> str:
    return reverse("console:evaluation-score-threshold", args=[ev.entity_id])


def explorer_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="explorer-data" type="application/json">(.*?)</script>', html)
    assert match, "no explorer data"
    return json.loads(match.group(1))


def test_the_threshold_in_the_address_sets_the_figures_the_server_renders(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner)
    expected = threshold_metrics_from_counts(ev.details["Details"]["score_counts"], 0.63)
    response = owner_client.get(detail_url(ev), {"threshold": "0.63"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "At the score threshold of 0.63" in html
    for name in ("tp", "fp", "fn", "tn"):
        assert f"<strong>{expected[name]:,}</strong>" in html
    assert f"<dd>{expected['precision']:.3f}</dd>" in html
    n = 1000
    correct = math.floor(100 * (expected["tp"] + expected["tn"]) / n + 0.5)
    assert f"{correct} % correct, {100 - correct} % incorrect" in html
    assert "Save score threshold at 0.63" in html
    assert "This cut-off is not saved: the model still uses 0.5" in html
    assert explorer_data(html)["threshold"] == 0.63


def test_a_threshold_between_grid_points_snaps_to_the_0_001_grid(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner)
    html = owner_client.get(detail_url(ev), {"threshold": "0.6346"}).content.decode()
    assert explorer_data(html)["threshold"] == 0.635


@pytest.mark.parametrize(
    ("raw", "says"),
    [("abc", "is not a number"), ("1.5", "is outside 0 to 1"), ("-0.1", "is outside 0 to 1")],
)
def test_a_threshold_outside_0_to_1_or_not_a_number_gets_a_clear_message(
    owner_client: Client, owner: Any, raw: str, says: str
) -> None:
    ev = make_binary_evaluation(owner)
    response = owner_client.get(detail_url(ev), {"threshold": raw})
    html = response.content.decode()
    assert response.status_code == 400
    assert says in html and "give one between 0 and 1" in html
    assert "Showing the saved score threshold, 0.5, instead." in html
    assert "At the score threshold of 0.5" in html


def test_save_sets_the_models_threshold_and_its_time_and_the_page_says_so(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner)
    response = owner_client.post(save_url(ev), {"threshold": "0.77", "action": "save"})
    assert response.status_code == 302
    assert response["Location"].endswith("?threshold=0.77#threshold-explorer")
    ml = MLModel.objects.get(pk=ev.ml_model_id)
    assert ml.score_threshold == pytest.approx(0.77)
    assert ml.score_threshold_last_updated_at is not None
    html = owner_client.get(response["Location"].split("#")[0]).content.decode()
    assert "Saved score threshold 0.77" in html  # the message
    assert "Saved score threshold: <strong>0.77</strong>" in html
    assert '<span id="unsaved-note" hidden>' in html
    model_page = owner_client.get(reverse("console:mlmodel-detail", args=[ml.entity_id]))
    assert "0.77" in model_page.content.decode()


def test_reset_restores_the_default_threshold_of_one_half(owner_client: Client, owner: Any) -> None:
    ev = make_binary_evaluation(owner)
    update_ml_model(owner, ev.ml_model.entity_id, score_threshold=0.3)
    owner_client.post(save_url(ev), {"threshold": "0.9", "action": "reset"})
    assert MLModel.objects.get(pk=ev.ml_model_id).score_threshold == 0.5


def test_saving_a_bad_threshold_changes_nothing_and_says_why(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner)
    response = owner_client.post(save_url(ev), {"threshold": "2"}, follow=True)
    assert "is outside 0 to 1" in response.content.decode()
    ml = MLModel.objects.get(pk=ev.ml_model_id)
    assert ml.score_threshold == 0.5 and ml.score_threshold_last_updated_at is None


def test_save_refuses_a_post_without_the_csrf_token(owner: Any) -> None:
    ev = make_binary_evaluation(owner)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(save_url(ev), {"threshold": "0.77"})
    assert response.status_code == 403
    assert MLModel.objects.get(pk=ev.ml_model_id).score_threshold == 0.5
    # the page's own form carries the token and is accepted
    page = client.get(detail_url(ev)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    accepted = client.post(save_url(ev), {"threshold": "0.77", "csrfmiddlewaretoken": token[1]})
    assert accepted.status_code == 302


def test_save_only_answers_a_post(owner_client: Client, owner: Any) -> None:
    ev = make_binary_evaluation(owner)
    assert owner_client.get(save_url(ev)).status_code == 405


def test_a_stranger_gets_404_on_every_explorer_url(
    client: Client, owner: Any, stranger: Any
) -> None:
    ev = make_binary_evaluation(owner)
    client.force_login(stranger)
    assert client.get(detail_url(ev), {"threshold": "0.63"}).status_code == 404
    assert client.post(save_url(ev), {"threshold": "0.77"}).status_code == 404
    assert MLModel.objects.get(pk=ev.ml_model_id).score_threshold == 0.5


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client, owner: Any) -> None:
    ev = make_binary_evaluation(owner)
    response = client.post(save_url(ev), {"threshold": "0.77"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_evaluation_without_score_counts_still_shows_and_says_to_run_it_again(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner, drop=("score_counts",))
    response = owner_client.get(detail_url(ev))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="explorer-missing"' in html and "the score counts" in html
    assert "Run the evaluation again" in html
    assert 'id="explorer-data"' not in html and "threshold_explorer.js" not in html
    # the figures stored at the model's threshold are still shown
    stored = ev.details["Details"]["threshold_metrics"]
    assert f"<strong>{stored['tp']:,}</strong>" in html


def test_the_page_carries_the_engines_curves_for_the_script(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner)
    data = explorer_data(owner_client.get(detail_url(ev)).content.decode())
    assert data["counts"] == ev.details["Details"]["score_counts"]
    assert len(data["calibration"]["observed"]) == 10
    assert data["gains"]["percent_records"][-1] == 100.0
    assert data["saved"] == 0.5


def test_a_model_that_is_not_binary_has_no_threshold_to_save(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner)
    MLModel.objects.filter(pk=ev.ml_model_id).update(ml_model_type="MULTICLASS")
    assert owner_client.post(save_url(ev), {"threshold": "0.77"}).status_code == 404


def test_saving_on_a_deleted_model_says_it_was_not_saved(owner_client: Client, owner: Any) -> None:
    ev = make_binary_evaluation(owner)
    MLModel.objects.filter(pk=ev.ml_model_id).update(status=Status.DELETED)
    response = owner_client.post(save_url(ev), {"threshold": "0.77"}, follow=True)
    assert "The score threshold was not saved" in response.content.decode()
    assert MLModel.objects.get(pk=ev.ml_model_id).score_threshold == 0.5


def test_an_evaluation_without_its_roc_curve_still_explores_and_names_what_is_missing(
    owner_client: Client, owner: Any
) -> None:
    ev = make_binary_evaluation(owner, drop=("roc",))
    response = owner_client.get(detail_url(ev), {"threshold": "0.4"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "lacks the ROC curve" in html and "Run the evaluation again" in html
    assert explorer_data(html)["threshold"] == 0.4
    assert 'id="roc"' not in html


def test_the_plain_sentence_rounds_a_half_percent_up_as_the_page_does() -> None:
    # 165 of 200 correct is 82.5 %: Python's round() would say 82, the page's Math.round 83
    metrics = {"tp": 100, "tn": 65, "fp": 20, "fn": 15}
    assert plain_sentence(metrics) == (
        "83 % correct, 17 % incorrect, 20 false positives, 15 false negatives"
    )

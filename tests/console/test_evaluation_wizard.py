"""The evaluation wizard (AML's "Create new… → Evaluation"): ML model → datasource with its target
→ name → review → create_evaluation, and 404s for anyone else's model, datasource or draft."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from console.models import DataSource, Evaluation, MLModel, Status

pytestmark = pytest.mark.django_db

CREATE = reverse("console:evaluation-create")


@pytest.fixture(autouse=True)
def _nothing_runs(enqueued: list[Any]) -> None:
    """Nothing runs: the evaluation must stay PENDING (`enqueued` records what was sent)."""


@pytest.fixture
def banking_schema(shared_data: Path) -> dict[str, Any]:
    return dict(json.loads((shared_data / "banking.csv.schema").read_text()))


def make_source(owner: Any, schema: dict[str, Any], entity_id: str, **fields: Any) -> DataSource:
    defaults: dict[str, Any] = {
        "name": entity_id,
        "source_kind": DataSource.SourceKind.PATH,
        "data_location_s3": "/data/banking.csv",
        "status": Status.COMPLETED,
        "data_schema": schema,
        "records_count": 1000,
    }
    return DataSource.objects.create(owner=owner, entity_id=entity_id, **{**defaults, **fields})


def make_model(owner: Any, training: DataSource, entity_id: str, **fields: Any) -> MLModel:
    defaults: dict[str, Any] = {
        "name": "Banking model",
        "ml_model_type": "BINARY",
        "status": Status.COMPLETED,
    }
    return MLModel.objects.create(
        owner=owner, entity_id=entity_id, training_data_source=training, **{**defaults, **fields}
    )


@pytest.fixture
def world(owner: Any, banking_schema: dict[str, Any]) -> dict[str, Any]:
    training = make_source(owner, banking_schema, "ds-train")
    fresh = make_source(owner, banking_schema, "ds-fresh", name="banking, new month")
    housing = make_source(owner, {**banking_schema, "targetAttributeName": "housing"}, "ds-housing")
    no_target = make_source(owner, {**banking_schema, "targetAttributeName": None}, "ds-batch")
    ml = make_model(owner, training, "ml-banking", status=Status.INPROGRESS)
    return {
        "training": training,
        "fresh": fresh,
        "housing": housing,
        "no_target": no_target,
        "ml": ml,
    }


def step_url(token: str, step: str) -> str:
    return reverse("console:evaluation-wizard", kwargs={"draft": token, "step": step})


def start(client: Client, model_id: str, data_source: str = "") -> str:
    response = client.post(CREATE, {"ml_model": model_id, "data_source": data_source})
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/evaluations/new/([^/]+)/datasource/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def test_the_create_menu_and_the_datasource_page_lead_to_the_wizard(
    owner_client: Client, world: dict[str, Any]
) -> None:
    dashboard = owner_client.get(reverse("console:dashboard")).content.decode()
    assert f'<a href="{CREATE}">Evaluation</a>' in dashboard
    page = owner_client.get(reverse("console:datasource-detail", args=["ds-fresh"]))
    assert f'href="{CREATE}?datasource=ds-fresh">Evaluate an ML model</a>' in page.content.decode()


def test_it_evaluates_a_model_still_training_on_a_datasource_with_its_target(
    owner_client: Client, world: dict[str, Any], enqueued: list[Any]
) -> None:
    first = owner_client.get(CREATE).content.decode()
    assert 'value="ml-banking"' in first
    token = start(owner_client, "ml-banking")
    page = owner_client.get(step_url(token, "datasource")).content.decode()
    assert re.findall(r'name="data_source" value="([^"]+)"', page) == ["ds-fresh"]
    response = owner_client.post(step_url(token, "datasource"), {"data_source": "ds-fresh"})
    assert response["Location"] == step_url(token, "name")
    name_page = owner_client.get(step_url(token, "name")).content.decode()
    assert 'value="Evaluation: Banking model"' in name_page
    response = owner_client.post(step_url(token, "name"), {"name": "June check"})
    assert response["Location"] == step_url(token, "review")
    review = owner_client.get(step_url(token, "review")).content.decode()
    assert "June check" in review and "ds-fresh" in review and "ml-banking" in review
    response = owner_client.post(step_url(token, "review"))
    ev = Evaluation.objects.get()
    assert response["Location"] == reverse("console:evaluation-detail", args=[ev.entity_id])
    assert ev.name == "June check" and ev.status == Status.PENDING
    assert ev.ml_model == world["ml"] and ev.evaluation_data_source == world["fresh"]
    assert enqueued == [ev]


def test_the_datasource_step_says_why_the_others_are_not_offered(
    owner_client: Client, world: dict[str, Any]
) -> None:
    token = start(owner_client, "ml-banking")
    page = owner_client.get(step_url(token, "datasource")).content.decode()
    assert "3 other datasources not offered" in page
    assert "The ML model learned from it" in page
    assert "Its target is &#x27;housing&#x27;; the ML model predicts &#x27;y&#x27;." in page
    assert "It has no target; the ML model predicts &#x27;y&#x27;." in page


def test_a_posted_incompatible_datasource_is_refused_with_the_reason(
    owner_client: Client, world: dict[str, Any]
) -> None:
    token = start(owner_client, "ml-banking")
    response = owner_client.post(step_url(token, "datasource"), {"data_source": "ds-housing"})
    assert response.status_code == 400
    assert "cannot be used: Its target is &#x27;housing&#x27;" in response.content.decode()
    assert not Evaluation.objects.exists()


def test_use_this_datasource_preselects_it_in_step_2(
    owner_client: Client, world: dict[str, Any]
) -> None:
    assert (
        'name="data_source" value="ds-fresh"'
        in owner_client.get(CREATE, {"datasource": "ds-fresh"}).content.decode()
    )
    token = start(owner_client, "ml-banking", data_source="ds-fresh")
    page = owner_client.get(step_url(token, "datasource")).content.decode()
    assert 'value="ds-fresh" id="eval-ds-0" checked' in page


def test_a_failed_model_cannot_be_evaluated(
    owner_client: Client, owner: Any, world: dict[str, Any]
) -> None:
    make_model(owner, world["training"], "ml-failed", status=Status.FAILED)
    response = owner_client.post(CREATE, {"ml_model": "ml-failed"})
    assert response.status_code == 400
    assert "is failed and cannot be evaluated" in response.content.decode()


def test_steps_cannot_be_skipped(owner_client: Client, world: dict[str, Any]) -> None:
    token = start(owner_client, "ml-banking")
    response = owner_client.get(step_url(token, "review"))
    assert response["Location"] == step_url(token, "datasource")


def test_a_second_user_gets_404_with_anothers_model_datasource_or_draft(
    owner_client: Client, owner: Any, stranger: Any, world: dict[str, Any], banking_schema: Any
) -> None:
    token = start(owner_client, "ml-banking")
    theirs = make_source(stranger, banking_schema, "ds-mallory")
    mallory = Client()
    mallory.force_login(stranger)
    assert mallory.get(CREATE, {"model": "ml-banking"}).status_code == 404
    assert mallory.get(CREATE, {"datasource": "ds-fresh"}).status_code == 404
    assert mallory.post(CREATE, {"ml_model": "ml-banking"}).status_code == 404
    for step in ("datasource", "name", "review"):
        assert mallory.get(step_url(token, step)).status_code == 404
    # and the owner cannot reach the stranger's datasource through their own draft
    response = owner_client.post(step_url(token, "datasource"), {"data_source": theirs.entity_id})
    assert response.status_code == 404
    assert not Evaluation.objects.exists()


def test_the_dashboard_expander_links_to_the_wizard(
    owner_client: Client, world: dict[str, Any]
) -> None:
    html = owner_client.get(
        reverse("console:dashboard-facts", args=["mlmodel", "ml-banking"])
    ).content.decode()
    assert f"{CREATE}?model=ml-banking" in html

"""Stop on a running object's page: the job quits at its next progress report, the object ends
FAILED "Stopped by <user> at <time>", and whatever waits on it fails with that cause."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from prediction_factories import banking_batch_source, banking_model, run_all

from console import dependencies, lifecycle
from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.batch_predictions import create_batch_prediction
from console.services.evaluations import create_evaluation

pytestmark = pytest.mark.django_db

STOPPED = re.compile(r"^Stopped by alice at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$")
URL_PREFIX = {
    DataSource: "datasources",
    MLModel: "models",
    Evaluation: "evaluations",
    BatchPrediction: "batch-predictions",
}


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    sent: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", sent.append)
    return sent


def a_chain(owner: Any, shared_data: Path) -> dict[str, AMLObject]:
    """A training datasource, its model, and an evaluation and a batch prediction waiting on it."""
    ml = banking_model(owner, shared_data, records=3000)
    ds = ml.training_data_source
    ev = create_evaluation(owner, ml_model_id=ml.entity_id, evaluation_data_source_id=ds.entity_id)
    bp = create_batch_prediction(
        owner,
        ml_model_id=ml.entity_id,
        batch_prediction_data_source_id=banking_batch_source(owner, shared_data).entity_id,
    )
    return {"datasource": ds, "model": ml, "evaluation": ev, "batch prediction": bp}


def press_stop_while_it_runs(
    monkeypatch: pytest.MonkeyPatch, client: Any, target: AMLObject
) -> list[int]:
    """At the target's first progress report, its owner presses Stop (a POST to its page)."""
    real_report = lifecycle.report_progress
    posted: list[int] = []

    def report(obj: AMLObject, **progress: Any) -> bool:
        if type(obj) is type(target) and obj.pk == target.pk and not posted:
            url = f"/{URL_PREFIX[type(obj)]}/{obj.entity_id}/stop/"
            posted.append(client.post(url).status_code)
        return real_report(obj, **progress)

    monkeypatch.setattr(lifecycle, "report_progress", report)
    return posted


@pytest.mark.parametrize(
    ("stopped", "waiting"),
    [
        ("datasource", ["model", "evaluation", "batch prediction"]),
        ("model", ["evaluation", "batch prediction"]),
        ("evaluation", []),
        ("batch prediction", []),
    ],
)
def test_it_stops_a_running_job_and_fails_what_waits_on_it_with_that_cause(
    owner: Any,
    owner_client: Any,
    shared_data: Path,
    enqueued: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    stopped: str,
    waiting: list[str],
) -> None:
    chain = a_chain(owner, shared_data)
    target = chain[stopped]
    posted = press_stop_while_it_runs(monkeypatch, owner_client, target)

    outcomes = run_all(enqueued)

    assert posted == [302]
    assert "cancelled" in outcomes  # the worker quit at its next report, saving nothing
    target.refresh_from_db()
    assert target.status == Status.FAILED
    assert STOPPED.match(target.message), target.message
    assert "FAILED: Stopped by alice at" in target.log
    for name in waiting:
        obj = chain[name]
        obj.refresh_from_db()
        assert obj.status == Status.FAILED, name
        assert "Stopped by alice at" in obj.message, obj.message
    if isinstance(target, MLModel):
        assert not target.artifact_key  # a stopped model keeps no model file


def test_its_page_offers_stop_only_while_the_job_is_running_or_waiting(
    owner: Any, owner_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    page = owner_client.get(f"/models/{ml.entity_id}/").content.decode()
    assert f'action="/models/{ml.entity_id}/stop/"' in page and 'id="stop-job"' in page

    run_all(enqueued)

    page = owner_client.get(f"/models/{ml.entity_id}/").content.decode()
    assert 'id="stop-job"' not in page


def test_it_refuses_to_stop_a_finished_job_and_says_why(
    owner: Any, owner_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    run_all(enqueued)

    response = owner_client.post(f"/models/{ml.entity_id}/stop/", follow=True)

    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED
    assert f"ML model {ml.entity_id} is not running (its status is COMPLETED)." in (
        response.content.decode()
    )


def test_a_stranger_gets_404_and_the_job_goes_on(
    owner: Any, stranger_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    ds = ml.training_data_source

    assert stranger_client.post(f"/models/{ml.entity_id}/stop/").status_code == 404
    assert stranger_client.post(f"/datasources/{ds.entity_id}/stop/").status_code == 404

    ml.refresh_from_db()
    assert ml.status == Status.PENDING


def test_stop_is_a_post_with_csrf(owner: Any, shared_data: Path, enqueued: list[Any]) -> None:
    from django.test import Client

    ml = banking_model(owner, shared_data, records=500)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.get(f"/models/{ml.entity_id}/stop/").status_code == 405
    assert client.post(f"/models/{ml.entity_id}/stop/").status_code == 403

    ml.refresh_from_db()
    assert ml.status == Status.PENDING

"""A job whose message the broker cannot take fails at once, saying so, instead of waiting in
PENDING for a message that was never sent (found by the production-shape fault tests: a
CreateMLModel while Redis was down answered HTTP 500 and left the model PENDING for good)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from realservices import _reset_connections, free_port

from console.models import DataSource, MLModel, Status
from console.services.datasources import create_data_source_from_s3

pytestmark = pytest.mark.django_db

SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "label",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "x", "attributeType": "NUMERIC"},
        {"attributeName": "label", "attributeType": "BINARY"},
    ],
}


@pytest.fixture
def broker_down(settings: Any) -> Iterator[str]:
    """This process's Celery app publishing to a Redis port nothing listens on."""
    from console.celery import app

    saved = {
        key: app.conf[key]
        for key in ("broker_url", "broker_transport_options", "task_always_eager")
    }
    url = f"redis://127.0.0.1:{free_port()}/0"
    app.conf.broker_url = url
    app.conf.broker_transport_options = {}
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        yield url
    finally:
        _reset_connections(app)
        for key, value in saved.items():
            app.conf[key] = value


def test_a_job_the_broker_cannot_take_fails_at_once_saying_the_queue_did_not_answer(
    owner: Any, settings: Any, broker_down: str, django_capture_on_commit_callbacks: Any
) -> None:
    data = Path(settings.AML_DATA_ROOTS[0]) / "small.csv"
    data.write_text("x,label\n1,0\n2,1\n")

    with django_capture_on_commit_callbacks(execute=True):
        source = create_data_source_from_s3(
            owner,
            data_spec={"DataLocationS3": str(data), "DataSchema": json.dumps(SCHEMA)},
            data_source_name="queued while the broker is down",
        )

    source = DataSource.objects.get(pk=source.pk)
    assert source.status == Status.FAILED
    assert "The job could not be queued" in source.message
    assert "Create it again" in source.message


def test_an_endpoint_the_broker_cannot_mount_is_failed_not_left_updating(
    owner: Any, shared_data: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    from prediction_factories import banking_model, run_all

    from console import dependencies
    from console.services.realtime import create_realtime_endpoint

    sent: list[Any] = []
    with monkeypatch.context() as patched:  # train with the jobs run here, not through a broker
        patched.setattr(dependencies, "enqueue", sent.append)
        ml = banking_model(owner, shared_data, records=500)
        run_all(sent)
    request.getfixturevalue("broker_down")
    capture = request.getfixturevalue("django_capture_on_commit_callbacks")

    with capture(execute=True):
        create_realtime_endpoint(owner, ml.entity_id)

    ml = MLModel.objects.get(pk=ml.pk)
    assert ml.endpoint_status == MLModel.EndpointStatus.FAILED
    assert "Real-time endpoint failed: The job could not be queued" in ml.log

"""AML's default path through the wizard with a real worker: a pending datasource, its two
splits, the model and its evaluation, each waiting for what it needs."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from console.models import DataSource, Evaluation, MLModel, Status
from console.services.datasources import create_data_source_from_s3

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def create_with_the_wizards_default_path(client: Client, source: DataSource) -> MLModel:
    response = client.post(
        reverse("console:mlmodel-create"), {"source": "existing", "data_source": source.entity_id}
    )
    token = re.search(r"/models/new/([^/]+)/settings/$", response["Location"]).group(1)
    step = lambda name: reverse(f"console:mlmodel-wizard-{name}", kwargs={"draft": token})  # noqa: E731
    settings = {
        "ml_model_name": "ML model: Banking",
        "mode": "default",
        "evaluation_name": "Evaluation: ML model: Banking",
    }
    assert client.post(step("settings"), settings)["Location"] == step("review")
    response = client.post(step("review"))
    assert response.status_code == 302, response.content.decode()[:2000]
    return MLModel.objects.get(owner=source.owner)


def test_a_real_worker_takes_the_wizards_default_path_from_a_pending_datasource_to_an_evaluation(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any]
) -> None:
    client = Client()
    client.force_login(owner)
    source = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "banking.csv"),
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        data_source_name="Banking",
    )
    # Everything is created while the datasource is still pending, before any worker runs.
    ml = create_with_the_wizards_default_path(client, source)
    assert ml.status == Status.PENDING
    worker = celery_worker()

    def evaluation_finished() -> Evaluation | None:
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died:\n{worker.log()}")
        row = Evaluation.objects.filter(ml_model=ml).first()
        return row if row and row.status in (Status.COMPLETED, Status.FAILED) else None

    ev = wait(evaluation_finished, timeout=180, what="the evaluation to finish", step=0.3)

    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED, f"{ml.message}\n{worker.log()}"
    assert ev.status == Status.COMPLETED, f"{ev.message}\n{worker.log()}"
    assert float(ev.performance_metrics["Properties"]["BinaryAUC"]) > 0.9
    training = ml.training_data_source
    assert training.name == "Banking_[percentBegin=0, percentEnd=70, strategy=sequential]"
    assert ev.evaluation_data_source.name == (
        "Banking_[percentBegin=70, percentEnd=100, strategy=sequential]"
    )
    assert ml.started_at >= training.finished_at  # the model waited for its datasource
    assert ev.started_at >= ml.finished_at  # and the evaluation for its model
    page = client.get(reverse("console:evaluation-detail", args=[ev.entity_id])).content.decode()
    assert "extremely good" in page

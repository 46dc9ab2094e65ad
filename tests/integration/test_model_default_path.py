"""AML's default path with a real worker: datasource → two splits → model → evaluation."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from console.models import DataSource, Evaluation, MLModel, Status
from console.services.datasources import create_data_source_from_s3
from console.services.ml_models import create_ml_model_with_evaluation

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_takes_the_default_path_from_a_pending_datasource_to_an_evaluation(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any]
) -> None:
    worker = celery_worker()
    source = create_data_source_from_s3(
        owner,
        data_spec={"DataLocationS3": str(shared_data / "banking.csv")},  # schema inferred
        data_source_name="Banking",
    )
    # Created at once, while the datasource is still pending: everything waits its turn.
    created = create_ml_model_with_evaluation(
        owner, data_source_id=source.entity_id, ml_model_type="BINARY"
    )

    def evaluation_finished() -> Evaluation | None:
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died:\n{worker.log()}")
        row = Evaluation.objects.get(pk=created.evaluation.pk)
        return row if row.status in (Status.COMPLETED, Status.FAILED) else None

    ev = wait(evaluation_finished, timeout=180, what="the evaluation to finish", step=0.3)

    ml = MLModel.objects.get(pk=created.ml_model.pk)
    assert ml.status == Status.COMPLETED, f"{ml.message}\n{worker.log()}"
    assert ev.status == Status.COMPLETED, f"{ev.message}\n{worker.log()}"
    assert float(ev.performance_metrics["Properties"]["BinaryAUC"]) > 0.9
    names = set(DataSource.objects.filter(owner=owner).values_list("name", flat=True))
    assert "Banking_[percentBegin=0, percentEnd=70, strategy=sequential]" in names
    assert "Banking_[percentBegin=70, percentEnd=100, strategy=sequential]" in names
    assert ml.started_at >= DataSource.objects.get(pk=created.training_data_source.pk).finished_at

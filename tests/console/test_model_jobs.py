"""Models and evaluations as jobs: waiting for what they need, training, evaluating, failing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from prediction_factories import run_all

from console import tasks
from console.models import DataSource, Evaluation, MLModel, Status
from console.services.datasources import create_data_source_from_s3
from console.services.ml_models import EvaluationPlan, create_ml_model_with_evaluation
from mlcore.artifacts import load_model

pytestmark = pytest.mark.django_db

WINE_SCHEMA_TEMPLATE = """{{"version": "1.0", "targetAttributeName": "{target}",
 "dataFileContainsHeader": true, "attributes": [{attributes}], "excludedAttributeNames": []}}"""


def wine_quality_data_source(owner: Any, shared_data: Path) -> DataSource:
    header = (shared_data / "winequality-red.csv").read_text().splitlines()[0]
    names = [name.strip('"') for name in header.split(";")]
    attributes = ", ".join(f'{{"attributeName": "{n}", "attributeType": "NUMERIC"}}' for n in names)
    return create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "winequality-red.csv"),
            "DataSchema": WINE_SCHEMA_TEMPLATE.format(target="quality", attributes=attributes),
        },
        data_source_name="wine",
    )


def banking_data_source(owner: Any, shared_data: Path) -> DataSource:
    schema = (shared_data / "banking.csv.schema").read_text()
    schema = schema.replace(
        '"attributeName": "previous",\n      "attributeType": "BINARY"',
        '"attributeName": "previous",\n      "attributeType": "NUMERIC"',
    )
    return create_data_source_from_s3(
        owner,
        data_spec={"DataLocationS3": str(shared_data / "banking.csv"), "DataSchema": schema},
        data_source_name="banking",
    )


def test_the_default_path_trains_and_evaluates_a_binary_model_on_banking(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    source = banking_data_source(owner, shared_data)
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)

    run_all(enqueued)

    ml = MLModel.objects.get(pk=created.ml_model.pk)
    ev = Evaluation.objects.get(pk=created.evaluation.pk)
    assert ml.status == Status.COMPLETED, ml.message
    assert ev.status == Status.COMPLETED, ev.message
    assert float(ev.performance_metrics["Properties"]["BinaryAUC"]) >= 0.93
    assert ev.details["Baseline"]["Properties"]["BinaryAUC"] == "0.5"
    assert len(ev.details["Alerts"]) == 5
    assert ml.insights["top"]["score"]["positive"]
    assert ml.progress["loss"] and ml.progress["pass"] >= 1
    assert ml.training_parameters["algorithm"] == "sgd"
    with default_storage.open(ml.artifact_key, "rb") as stream:
        assert load_model(stream).classes == ["0", "1"]


def test_a_regression_model_beats_the_mean_on_wine_quality(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    source = wine_quality_data_source(owner, shared_data)
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)
    run_all(enqueued)

    ev = Evaluation.objects.get(pk=created.evaluation.pk)
    assert ev.status == Status.COMPLETED, ev.message
    rmse = float(ev.performance_metrics["Properties"]["RegressionRMSE"])
    baseline = float(ev.details["Baseline"]["Properties"]["RegressionRMSE"])
    assert rmse < baseline


def test_the_default_path_leaves_l2_to_the_trainer_and_keeps_its_choice(
    owner: Any, owner_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    source = wine_quality_data_source(owner, shared_data)
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)
    run_all(enqueued)

    ml = MLModel.objects.get(pk=created.ml_model.pk)
    assert ml.status == Status.COMPLETED, ml.message
    assert ml.training_parameters["sgd.l2RegularizationAmount"] == "auto"  # as asked
    choice = ml.training_choice
    assert choice["l2"] in choice["amounts"] and choice["solver"] == "lbfgs"  # 1,122 records
    with default_storage.open(ml.artifact_key, "rb") as stream:
        assert load_model(stream).parameters.l2 == choice["l2"]
    page = owner_client.get(f"/models/{ml.entity_id}/").content.decode()
    assert f"<strong>L2 {choice['l2']:g}</strong>" in page
    assert "(chosen automatically)" in page and 'id="regularization-table"' in page
    assert "5-fold cross-validation over the 1,122 training records" in page
    assert f"<td><code>sgd.l2RegularizationAmount</code></td><td>{choice['l2']!r}" in page
    assert "automatic regularization: L2" in ml.log


def test_an_explicit_l2_is_trained_as_given_without_a_choice(
    owner: Any, owner_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    source = wine_quality_data_source(owner, shared_data)
    created = create_ml_model_with_evaluation(
        owner,
        data_source_id=source.entity_id,
        parameters={"sgd.l2RegularizationAmount": "0.01"},
    )
    run_all(enqueued)

    ml = MLModel.objects.get(pk=created.ml_model.pk)
    assert ml.status == Status.COMPLETED, ml.message
    assert ml.training_choice == {}
    assert ml.training_parameters["sgd.l2RegularizationAmount"] == "0.01"
    page = owner_client.get(f"/models/{ml.entity_id}/").content.decode()
    assert 'id="regularization-table"' not in page and "(chosen automatically)" not in page


def test_a_model_waits_for_its_datasource_and_fails_when_it_fails(
    owner: Any, settings: Any, enqueued: list[Any]
) -> None:
    datasets = Path(settings.AML_DATA_ROOTS[0])
    path = datasets / "tiny.csv"
    path.write_text("a,label\n1,0\n2,1\n3,0\n")
    source = create_data_source_from_s3(owner, data_spec={"DataLocationS3": str(path)})
    created = create_ml_model_with_evaluation(
        owner,
        data_source_id=source.entity_id,
        ml_model_type="BINARY",
        plan=EvaluationPlan(kind="none"),
    )
    assert tasks.train_ml_model(created.ml_model.pk) == "waiting"
    path.write_bytes(b"a,label\n\xff\xfe,1\n")  # the datasource will fail on this

    run_all(enqueued)

    source.refresh_from_db()
    ml = MLModel.objects.get(pk=created.ml_model.pk)
    assert source.status == Status.FAILED
    assert ml.status == Status.FAILED
    assert ml.message.startswith(f"Datasource {source.entity_id} failed")


def test_deleting_a_pending_models_datasource_fails_the_model_and_its_evaluation(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    source = banking_data_source(owner, shared_data)
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)
    from console.services.datasources import delete_data_source

    delete_data_source(owner, created.training_data_source.entity_id)

    ml = MLModel.objects.get(pk=created.ml_model.pk)
    ev = Evaluation.objects.get(pk=created.evaluation.pk)
    assert ml.status == Status.FAILED and "was deleted" in ml.message
    assert ev.status == Status.FAILED and ml.entity_id in ev.message

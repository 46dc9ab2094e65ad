"""The evaluation job stores the explorer's bounded pieces and says so in its log: a regression
evaluation of wine quality keeps every prediction of its 480 records for the scatter plots (fewer
than 5,000); a multiclass one keeps the example records of each shown confusion-matrix cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from prediction_factories import run_all

from console.models import DataSource, Evaluation, Status
from console.services.datasources import create_data_source_from_s3
from console.services.ml_models import create_ml_model_with_evaluation

pytestmark = pytest.mark.django_db


def wine_quality_data_source(owner: Any, shared_data: Path, target_type: str) -> DataSource:
    """winequality-red.csv, every attribute numeric but the target `quality` of `target_type`."""
    header = (shared_data / "winequality-red.csv").read_text().splitlines()[0]
    names = [name.strip('"') for name in header.split(";")]
    schema = {
        "version": "1.0",
        "targetAttributeName": "quality",
        "dataFileContainsHeader": True,
        "attributes": [
            {"attributeName": n, "attributeType": target_type if n == "quality" else "NUMERIC"}
            for n in names
        ],
        "excludedAttributeNames": [],
    }
    return create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "winequality-red.csv"),
            "DataSchema": json.dumps(schema),
        },
        data_source_name=f"wine ({target_type.lower()} quality)",
    )


def test_a_regression_evaluation_stores_its_sample_and_r_squared_and_logs_them(
    owner: Any,
    shared_data: Path,
    enqueued: list[Any],
) -> None:
    source = wine_quality_data_source(owner, shared_data, "NUMERIC")
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)
    run_all(enqueued)

    ev = Evaluation.objects.get(pk=created.evaluation.pk)
    assert ev.status == Status.COMPLETED, ev.message
    details = ev.details["Details"]
    sample = details["sample"]
    assert sample["records"] == ev.details["RecordCount"] == len(sample["actual"])
    assert 0.0 < details["r2"] < 1.0
    assert f"Kept a sample of {sample['records']:,} of {sample['records']:,} predictions" in ev.log


def test_a_multiclass_evaluation_stores_examples_of_each_shown_cell(
    owner: Any,
    shared_data: Path,
    enqueued: list[Any],
) -> None:
    source = wine_quality_data_source(owner, shared_data, "CATEGORICAL")
    created = create_ml_model_with_evaluation(owner, data_source_id=source.entity_id)
    run_all(enqueued)

    ev = Evaluation.objects.get(pk=created.evaluation.pk)
    assert ev.status == Status.COMPLETED, ev.message
    details = ev.details["Details"]
    labels = details["confusion_matrix"]["labels"]
    counts = details["confusion_matrix"]["counts"]
    cells = details["cell_examples"]["cells"]
    assert details["cell_examples"]["inputs"] == [
        "fixed acidity",
        "volatile acidity",
        "citric acid",
        "residual sugar",
    ]
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            records = cells.get(f"{i},{j}", [])
            assert len(records) == min(20, count)
            assert all((r["true"], r["predicted"]) == (labels[i], labels[j]) for r in records)
    stored = sum(len(records) for records in cells.values())
    assert f"Kept {stored:,} example records for {len(cells):,} confusion-matrix cells." in ev.log

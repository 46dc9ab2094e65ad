"""A trained banking model and datasources to score, made through the services and jobs the way a
user's would be, for the batch prediction and real-time tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings

from console import dependencies
from console.models import DataSource, MLModel
from console.services.datasources import create_data_source_from_s3
from console.services.ml_models import create_ml_model

FAST = {
    "sgd.l2RegularizationAmount": "1e-6"
}  # no automatic choice: training in a fraction of a second
BATCH_RECORDS = 4119  # banking-batch.csv
# its records whose `previous` is neither 0 nor 1: invalid for the BINARY type banking.csv.schema
# gives it, so not scored (a blank line each)
BATCH_INVALID = 121


def run_all(enqueued: list[Any]) -> list[str]:
    """Run queued jobs in order, as a worker would, including the ones they release."""
    outcomes = []
    while enqueued:
        obj = enqueued.pop(0)
        outcomes.append(dependencies.task_for(type(obj))(obj.pk))
    return outcomes


def data_root() -> Path:
    """The test's own data folder (tests/conftest.py puts it first among the allowed roots)."""
    return Path(settings.AML_DATA_ROOTS[0])


def banking_slice(shared_data: Path, records: int, name: str = "banking-part.csv") -> Path:
    """The header and the first `records` records of banking.csv, in the test's data folder."""
    lines = (shared_data / "banking.csv").read_text().splitlines(keepends=True)
    path = data_root() / name
    path.write_text("".join(lines[: records + 1]))
    return path


def data_source(owner: Any, location: Path | str, schema: str, name: str = "") -> DataSource:
    return create_data_source_from_s3(
        owner,
        data_spec={"DataLocationS3": str(location), "DataSchema": schema},
        data_source_name=name or Path(str(location)).name,
    )


def banking_model(owner: Any, shared_data: Path, records: int = 6000) -> MLModel:
    """A BINARY model on the first records of banking.csv, still PENDING (run its jobs)."""
    training = data_source(
        owner,
        banking_slice(shared_data, records),
        (shared_data / "banking.csv.schema").read_text(),
        "Banking training",
    )
    return create_ml_model(
        owner,
        ml_model_type="BINARY",
        training_data_source_id=training.entity_id,
        ml_model_name="ML model: Banking",
        parameters=FAST,
    )


def banking_batch_source(owner: Any, shared_data: Path) -> DataSource:
    """banking-batch.csv (4,119 records, no target) with its schema."""
    return data_source(
        owner,
        shared_data / "banking-batch.csv",
        (shared_data / "banking-batch.csv.schema").read_text(),
        "Banking batch",
    )


WINE_SCHEMA = """{{"version": "1.0", "targetAttributeName": "{target}",
 "dataFileContainsHeader": true, "attributes": [{attributes}], "excludedAttributeNames": []}}"""


def wine_model(owner: Any, shared_data: Path, model_type: str) -> MLModel:
    """winequality-red.csv: REGRESSION on `quality` (NUMERIC), or MULTICLASS (CATEGORICAL)."""
    header = (shared_data / "winequality-red.csv").read_text().splitlines()[0]
    names = [name.strip('"') for name in header.split(";")]
    target_type = "CATEGORICAL" if model_type == "MULTICLASS" else "NUMERIC"
    attributes = ", ".join(
        f'{{"attributeName": "{n}", "attributeType": "{target_type if n == "quality" else "NUMERIC"}"}}'
        for n in names
    )
    ds = data_source(
        owner,
        shared_data / "winequality-red.csv",
        WINE_SCHEMA.format(target="quality", attributes=attributes),
        "wine",
    )
    return create_ml_model(
        owner,
        ml_model_type=model_type,
        training_data_source_id=ds.entity_id,
        ml_model_name=f"Wine {model_type.lower()}",
        parameters=FAST,
    )

"""Completed evaluations for the console's tests, with what `mlcore.evaluate.evaluate_model`
really stores: each result comes from scoring a small synthetic file with a simple scorer.

`old=True` removes the pieces evaluations stored before the multiclass and regression explorers
(cell examples, the regression sample and R²), as an evaluation made then has them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from django.utils import timezone

from console.models import DataSource, Evaluation, MLModel, Status
from mlcore.evaluate import evaluate_model
from mlcore.io.csvreader import CsvFormat
from mlcore.io.files import DataFile
from mlcore.schema.model import Attribute, AttributeType, Schema

N, B, C = AttributeType.NUMERIC, AttributeType.BINARY, AttributeType.CATEGORICAL
CLASSES = ["setosa", "versicolor", "virginica", "hybrid"]


@dataclass
class _Model:
    model_type: str
    schema: Schema
    classes: list[str] = field(default_factory=list)
    score_threshold: float = 0.5
    training_class_counts: dict[str, int] = field(default_factory=dict)
    training_target_mean: float | None = None


def _file(text: str) -> DataFile:
    data = text.encode()
    return DataFile(name="eval.csv", size=len(data), opener=partial(io.BytesIO, data))


def _binary(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    y = (rng.random(600) < 0.3).astype(int)
    noise = 0.12 + 0.05 * seed
    x = np.clip(rng.normal(np.where(y == 1, 0.68, 0.32), noise), 0, 1).round(4)
    text = "x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True))
    schema = Schema([Attribute("x", N), Attribute("y", B)], target="y")
    model = _Model("BINARY", schema, ["0", "1"], training_class_counts={"0": 700, "1": 300})
    return evaluate_model(
        model,
        [_file(text)],
        schema,
        CsvFormat(),
        scorer=lambda _, frame: frame["x"].to_numpy(dtype=np.float64),
    )


def _multiclass(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    weights = np.array([4.0, 3.0, 2.0, 1.0])
    truth = rng.choice(CLASSES, size=500, p=weights / weights.sum())
    wrong = rng.random(500) < 0.15 + 0.1 * seed
    guess = np.where(wrong, rng.choice(CLASSES, size=500), truth)
    rows = [
        f"id{n},{5 + n % 7 * 0.3:.1f},{g},{t}\n"
        for n, (g, t) in enumerate(zip(guess, truth, strict=True))
    ]
    text = "flower,petal,guess,species\n" + "".join(rows)
    attributes = [Attribute("flower", C), Attribute("petal", N), Attribute("guess", C)]
    schema = Schema([*attributes, Attribute("species", C)], target="species", row_id="flower")
    model = _Model(
        "MULTICLASS",
        schema,
        CLASSES,
        training_class_counts={"setosa": 40, "versicolor": 30, "virginica": 20, "hybrid": 10},
    )

    def scorer(_: Any, frame: pd.DataFrame) -> np.ndarray:
        hit = frame["guess"].to_numpy(dtype=str)[:, None] == np.array(CLASSES)[None, :]
        return np.where(hit, 0.8, 0.2 / 3)

    return evaluate_model(model, [_file(text)], schema, CsvFormat(), scorer=scorer)


def _regression(seed: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    x = rng.normal(5.6, 0.8, 400).round(4)
    y = (x + rng.normal(0, 0.3 + 0.2 * seed, x.size)).round(4)
    text = "x,quality\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True))
    schema = Schema([Attribute("x", N), Attribute("quality", N)], target="quality")
    model = _Model("REGRESSION", schema, training_target_mean=5.6)
    return evaluate_model(
        model,
        [_file(text)],
        schema,
        CsvFormat(),
        scorer=lambda _, frame: frame["x"].to_numpy(dtype=np.float64),
    )


RESULTS = {"BINARY": _binary, "MULTICLASS": _multiclass, "REGRESSION": _regression}
NEW_PIECES = ("cell_examples", "sample", "r2")


def evaluation_result(model_type: str, seed: int = 0, *, old: bool = False) -> dict[str, Any]:
    result = RESULTS[model_type](seed)
    if old:
        result["Details"] = {k: v for k, v in result["Details"].items() if k not in NEW_PIECES}
    return result


def completed_evaluation(
    owner: Any,
    model_type: str,
    number: int,
    *,
    old: bool = False,
    training_parameters: dict[str, str] | None = None,
    recipe: str = "",
) -> Evaluation:
    """ML model ml-Model<number> and its evaluation ev-Eval<number> (ids padded to 12 chars)."""
    tag = f"{number:04d}"
    training = _datasource(owner, f"ds-Train0000{tag}")
    ml = MLModel.objects.create(
        owner=owner,
        entity_id=f"ml-Model0000{tag}",
        name=f"ML model {number}",
        training_data_source=training,
        ml_model_type=model_type,
        status=Status.COMPLETED,
        training_parameters=training_parameters or {"sgd.maxPasses": "10"},
        recipe=recipe,
    )
    result = evaluation_result(model_type, number % 3, old=old)
    now = timezone.now()
    return Evaluation.objects.create(
        owner=owner,
        entity_id=f"ev-Eval00000{tag}",
        name=f"Evaluation {number}",
        ml_model=ml,
        evaluation_data_source=_datasource(owner, f"ds-Eval00000{tag}"),
        status=Status.COMPLETED,
        performance_metrics=result["PerformanceMetrics"],
        details={k: v for k, v in result.items() if k != "PerformanceMetrics"},
        started_at=now - timedelta(seconds=30),
        finished_at=now,
        compute_time=9_000,
        log="Created.\n",
    )


def _datasource(owner: Any, entity_id: str) -> DataSource:
    return DataSource.objects.create(
        owner=owner,
        entity_id=entity_id,
        name=f"Data {entity_id}",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3="/data/eval.csv",
        status=Status.COMPLETED,
    )

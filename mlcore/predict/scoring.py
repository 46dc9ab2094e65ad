"""Scores from a `TrainedModel` (reference section 9 for the Predict shape).

* `score_frame(model, frame)`: a typed frame (as `TypedReader` yields it: NUMERIC/BINARY float64
  with NaN for missing, others strings) to BINARY: probability of "1" (n,); MULTICLASS: class
  probabilities (n, k) in `model.classes` order; REGRESSION: predicted values (n,).
* `score_record(model, {name: str})`: one record of strings, as the Predict API receives it, to
  AML's `Prediction` object. Keys that are not attributes are ignored; absent or empty values
  are missing and scored as such (the recipe encodes missing values), never rejected.

>>> score_record(model, {"age": "41", "job": "admin."})                 # doctest: +SKIP
{'predictedLabel': '0', 'predictedScores': {'0': 0.0312...},
 'details': {'PredictiveModelType': 'BINARY', 'Algorithm': 'SGD'}}
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlcore.features.sparse import SparseBatch
from mlcore.schema.model import ModelType
from mlcore.schema.values import convert_column
from mlcore.train.losses import sigmoid, softmax
from mlcore.train.model import TrainedModel
from mlcore.train.sgd import margins_of

ALGORITHM = "SGD"


def score_batch(model: TrainedModel, batch: SparseBatch) -> np.ndarray:
    """Scores of encoded rows (same shapes as `score_frame`)."""
    margins = margins_of(batch, model.weights)
    if model.model_type is ModelType.BINARY:
        return sigmoid(margins[:, 0])
    if model.model_type is ModelType.MULTICLASS:
        return softmax(margins)
    return margins[:, 0]


def score_frame(model: TrainedModel, frame: pd.DataFrame) -> np.ndarray:
    """Scores of a typed frame's rows; its target column, if any, is not used."""
    batch = model.fitted_recipe.encode(frame, np.full(len(frame), np.nan))
    return score_batch(model, batch)


def predicted_labels(model: TrainedModel, scores: np.ndarray) -> np.ndarray:
    """Labels as strings: "1" when the score reaches the threshold (BINARY), else the argmax."""
    if model.model_type is ModelType.BINARY:
        return np.where(scores >= model.score_threshold, "1", "0")
    if model.model_type is ModelType.MULTICLASS:
        return np.asarray(model.classes, dtype=object)[scores.argmax(axis=1)]
    raise ValueError("a REGRESSION model predicts values, not labels")


def record_frame(model: TrainedModel, record: dict[str, str]) -> pd.DataFrame:
    """One typed row from a record of strings, converted like the training data was.

    Values that are not valid for their type (e.g. "abc" for a NUMERIC attribute) become
    missing, as an empty field would.
    """
    columns: dict[str, np.ndarray] = {}
    for attribute in model.schema.attributes:
        if attribute.name == model.schema.target:
            continue
        raw = record.get(attribute.name)
        text = "" if raw is None else str(raw)
        columns[attribute.name] = np.asarray(
            convert_column(attribute.type, pd.Series([text], dtype=object)).values
        )
    return pd.DataFrame(columns)


def score_record(model: TrainedModel, record: dict[str, str]) -> dict[str, Any]:
    """AML's Predict response body (the object under "Prediction") for one record."""
    scores = score_frame(model, record_frame(model, record))
    details = {"PredictiveModelType": model.model_type.value, "Algorithm": ALGORITHM}
    if model.model_type is ModelType.REGRESSION:
        return {"predictedValue": float(scores[0]), "details": details}
    label = str(predicted_labels(model, scores)[0])
    if model.model_type is ModelType.BINARY:
        # AML keys the single score by the predicted label; the value is P("1") either way
        return {
            "predictedLabel": label,
            "predictedScores": {label: float(scores[0])},
            "details": details,
        }
    return {
        "predictedLabel": label,
        "predictedScores": {
            name: float(score) for name, score in zip(model.classes, scores[0], strict=True)
        },
        "details": details,
    }

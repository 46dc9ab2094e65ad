"""Scoring frames and single records in AML's Predict shape, for the three model types."""

from __future__ import annotations

import io
from functools import partial

import numpy as np
import pandas as pd
import pytest

from mlcore.io.csvreader import CsvFormat
from mlcore.io.files import DataFile
from mlcore.predict import predicted_labels, score_frame, score_record
from mlcore.schema.model import Attribute, AttributeType, ModelType, Schema
from mlcore.train.model import TrainedModel
from mlcore.train.pipeline import train_model

RECIPE = """{"groups": {}, "assignments": {},
 "outputs": ["ALL_BINARY", "ALL_CATEGORICAL", "quantile_bin(age, 10)", "age",
             "lowercase(note)"]}"""
N = 800


def synthetic_csv(n: int = N, seed: int = 0) -> str:
    """age/job/note/flag inputs and three targets: y (0/1), kind (a/b/c), amount (number)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    job = rng.choice(["admin", "tech", "retired"], n)
    flag = rng.integers(0, 2, n)
    note = rng.choice(["Good client", "bad debt", "no remark"], n)
    score = (age - 50) / 10 + (job == "retired") * 1.5 + flag - (note == "bad debt") * 2
    y = (score + rng.normal(0, 0.5, n) > 0).astype(int)
    kind = np.where(score > 1, "c", np.where(score > -1, "b", "a"))
    amount = 3 * score + 20 + rng.normal(0, 0.3, n)
    lines = ["age,job,note,flag,y,kind,amount"]
    for i in range(n):
        age_text = "" if i % 50 == 7 else str(age[i])  # a few missing values
        lines.append(f"{age_text},{job[i]},{note[i]},{flag[i]},{y[i]},{kind[i]},{amount[i]:.4f}")
    return "\n".join(lines) + "\n"


def synthetic_schema(target: str) -> Schema:
    types = {
        "age": AttributeType.NUMERIC,
        "job": AttributeType.CATEGORICAL,
        "note": AttributeType.TEXT,
        "flag": AttributeType.BINARY,
        "y": AttributeType.BINARY,
        "kind": AttributeType.CATEGORICAL,
        "amount": AttributeType.NUMERIC,
    }
    others = [name for name in ("y", "kind", "amount") if name != target]
    return Schema([Attribute(n, t) for n, t in types.items()], target=target, excluded=others)


def synthetic_file(n: int = N, seed: int = 0) -> DataFile:
    data = synthetic_csv(n, seed).encode()
    return DataFile(name="synthetic.csv", size=len(data), opener=partial(io.BytesIO, data))


def train(model_type: str, target: str) -> TrainedModel:
    return train_model(
        [synthetic_file()],
        synthetic_schema(target),
        CsvFormat(",", True),
        model_type=model_type,
        recipe_text=RECIPE,
        parameters={"sgd.maxPasses": "20"},
    )


@pytest.fixture(scope="module")
def models() -> dict[str, TrainedModel]:
    return {
        "BINARY": train("BINARY", "y"),
        "MULTICLASS": train("MULTICLASS", "kind"),
        "REGRESSION": train("REGRESSION", "amount"),
    }


def typed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [70.0, 20.0, np.nan],
            "job": ["retired", "admin", ""],
            "note": ["Good client", "bad debt", ""],
            "flag": [1.0, 0.0, np.nan],
        }
    )


def test_score_frame_gives_probabilities_of_one_for_binary(
    models: dict[str, TrainedModel],
) -> None:
    scores = score_frame(models["BINARY"], typed_frame())
    assert scores.shape == (3,)
    assert scores[0] > 0.9 and scores[1] < 0.1 and 0 < scores[2] < 1
    assert predicted_labels(models["BINARY"], scores)[:2].tolist() == ["1", "0"]


def test_score_frame_gives_class_probabilities_for_multiclass(
    models: dict[str, TrainedModel],
) -> None:
    model = models["MULTICLASS"]
    scores = score_frame(model, typed_frame())
    assert model.classes == ["a", "b", "c"]
    assert scores.shape == (3, 3)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0)
    assert predicted_labels(model, scores)[:2].tolist() == ["c", "a"]


def test_score_frame_gives_values_for_regression(models: dict[str, TrainedModel]) -> None:
    scores = score_frame(models["REGRESSION"], typed_frame())
    assert scores.shape == (3,)
    assert scores[0] > 26 and scores[1] < 14


def test_score_record_returns_aml_binary_shape_keyed_by_the_predicted_label(
    models: dict[str, TrainedModel],
) -> None:
    record = {"age": "72", "job": "retired", "note": "good client", "flag": "yes"}
    prediction = score_record(models["BINARY"], record)
    assert prediction["predictedLabel"] == "1"
    assert list(prediction["predictedScores"]) == ["1"]
    assert prediction["predictedScores"]["1"] > 0.9
    assert prediction["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}
    low = score_record(models["BINARY"], {"age": "19", "note": "bad debt", "flag": "0"})
    assert low["predictedLabel"] == "0"
    assert low["predictedScores"]["0"] < 0.1  # still P("1"), keyed by the label


def test_score_record_ignores_unknown_keys_and_scores_missing_values(
    models: dict[str, TrainedModel],
) -> None:
    model = models["BINARY"]
    empty = score_record(model, {})
    noisy = score_record(model, {"colour": "blue", "y": "1", "age": "", "job": "astronaut"})
    assert empty == noisy
    assert 0 < empty["predictedScores"][empty["predictedLabel"]] < 1


def test_score_record_treats_an_invalid_number_as_missing(
    models: dict[str, TrainedModel],
) -> None:
    model = models["REGRESSION"]
    assert score_record(model, {"age": "old"}) == score_record(model, {"age": ""})


def test_score_record_lists_every_class_for_multiclass(models: dict[str, TrainedModel]) -> None:
    prediction = score_record(models["MULTICLASS"], {"age": "75", "job": "retired", "flag": "1"})
    assert prediction["predictedLabel"] == "c"
    assert list(prediction["predictedScores"]) == ["a", "b", "c"]
    assert sum(prediction["predictedScores"].values()) == pytest.approx(1.0)
    assert prediction["details"]["PredictiveModelType"] == "MULTICLASS"


def test_score_record_returns_a_predicted_value_for_regression(
    models: dict[str, TrainedModel],
) -> None:
    prediction = score_record(models["REGRESSION"], {"age": "50", "job": "admin", "flag": "0"})
    assert set(prediction) == {"predictedValue", "details"}
    assert isinstance(prediction["predictedValue"], float)
    assert prediction["details"] == {"PredictiveModelType": "REGRESSION", "Algorithm": "SGD"}


def test_models_record_their_type_and_training_facts(models: dict[str, TrainedModel]) -> None:
    assert models["BINARY"].model_type is ModelType.BINARY
    assert models["BINARY"].classes == ["0", "1"]
    assert sum(models["MULTICLASS"].training_class_counts.values()) == N  # type: ignore[union-attr]
    assert models["REGRESSION"].training_target_mean == pytest.approx(20, abs=2)
    assert models["REGRESSION"].records_used == N

"""Automatic regularization and stopping: the L2 amount and passes chosen on held-out records."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegressionCV, RidgeCV
from sklearn.metrics import f1_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

from mlcore.artifacts import load_model, save_model
from mlcore.io.csvreader import CsvFormat
from mlcore.io.files import DataFile
from mlcore.predict import score_frame
from mlcore.predict.scoring import predicted_labels
from mlcore.recipes import suggest_recipe
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.train import exact, regularization
from mlcore.train.pipeline import train_model
from mlcore.train.regularization import (
    MAX_HELD_OUT,
    held_out_fraction,
    held_out_rows,
    l2_grid,
)

CSV = CsvFormat(delimiter=",", has_header=True)
FEATURES = [f"x{i}" for i in range(8)]


def _file(frame: pd.DataFrame) -> DataFile:
    data = frame.to_csv(index=False).encode()
    return DataFile("generated.csv", len(data), lambda: io.BytesIO(data))


def _schema(target_type: AttributeType) -> Schema:
    attributes = [Attribute(name, AttributeType.NUMERIC) for name in FEATURES]
    return Schema([*attributes, Attribute("y", target_type)], target="y")


def _generated(rows: int, kind: str, seed: int = 0) -> pd.DataFrame:
    """A few informative columns and several noise columns: the data regularization is for."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, len(FEATURES)))
    signal = x[:, 0] * 1.5 - x[:, 1] + 0.5 * x[:, 2]
    if kind == "BINARY":
        y = (signal + rng.logistic(size=rows) > 0).astype(int)
    elif kind == "MULTICLASS":
        y = np.digitize(signal + rng.normal(size=rows), [-1.2, 1.2])
        y = np.array(["low", "mid", "high"])[y]
    else:
        y = 50 * signal + rng.normal(scale=60, size=rows) + 300
    frame = pd.DataFrame(x, columns=FEATURES)
    frame["y"] = y
    return frame


def _train(
    frame: pd.DataFrame,
    kind: str,
    parameters: dict[str, str] | None = None,
    recipe: str | None = None,
    **kwargs: object,
) -> object:
    target_type = {
        "BINARY": AttributeType.BINARY,
        "MULTICLASS": AttributeType.CATEGORICAL,
        "REGRESSION": AttributeType.NUMERIC,
    }[kind]
    schema = _schema(target_type)
    return train_model(
        [_file(frame)],
        schema,
        CSV,
        model_type=kind,
        recipe_text=recipe or suggest_recipe(schema, {"recordCount": len(frame)}),
        parameters=parameters,
        **kwargs,  # type: ignore[arg-type]
    )


def test_the_held_out_records_do_not_depend_on_the_chunking() -> None:
    whole = held_out_rows(0, 10_000, 0.1)
    pieces = np.concatenate([held_out_rows(0, 3_333, 0.1), held_out_rows(3_333, 6_667, 0.1)])
    np.testing.assert_array_equal(whole, pieces)
    assert 0.09 < whole.mean() < 0.11
    # spread over the file, not a block at one end
    assert 0.08 < whole[:1_000].mean() < 0.12 and 0.08 < whole[-1_000:].mean() < 0.12


def test_the_held_out_share_keeps_small_data_usable_and_big_data_bounded() -> None:
    assert held_out_fraction(200) * 200 >= 30
    assert held_out_fraction(10_000) == 0.1
    assert held_out_fraction(10**8) * 10**8 == pytest.approx(MAX_HELD_OUT)


def test_the_grid_scales_with_the_record_count() -> None:
    small, large = l2_grid(300), l2_grid(300_000)
    assert len(small) == len(large) >= 5
    assert small == sorted(small) and large == sorted(large)
    assert small[0] == pytest.approx(large[0] * 1000, rel=1e-2)


def _echoes_the_choice(model: Any) -> dict[str, Any]:
    choice = model.regularization
    assert choice is not None
    assert choice["l2"] in choice["amounts"]
    assert model.parameters.l2 == choice["l2"]
    assert float(model.parameters.to_aml()["sgd.l2RegularizationAmount"]) == choice["l2"]
    return dict(choice)


@pytest.mark.parametrize("kind", ["BINARY", "MULTICLASS", "REGRESSION"])
def test_on_small_data_each_amount_is_solved_and_cross_validated(kind: str) -> None:
    lines: list[str] = []
    model = _train(_generated(600, kind), kind, log=lines.append)
    choice = _echoes_the_choice(model)
    assert choice["solver"] == "lbfgs" and choice["folds"] == 5
    assert choice["refitRecords"] == model.records_used == 600
    assert len(choice["heldOutLoss"]) == len(choice["amounts"])
    assert model.passes == len(model.history) >= 1  # L-BFGS iterations, each a data pass
    assert model.history[-1] <= model.history[0]
    assert any("automatic regularization: L2" in line for line in lines)


@pytest.mark.parametrize("kind", ["BINARY", "MULTICLASS", "REGRESSION"])
def test_with_fewer_passes_than_the_default_sgd_searches_side_by_side(kind: str) -> None:
    lines: list[str] = []
    model = _train(_generated(600, kind), kind, {"sgd.maxPasses": "8"}, log=lines.append)
    choice = _echoes_the_choice(model)
    assert choice["solver"] == "sgd"
    assert 1 <= choice["passes"] <= choice["passesRun"] <= 8
    assert choice["heldOutRecords"] + choice["trainingRecords"] == 600
    assert choice["refitRecords"] == 600
    assert all(len(curve) >= 1 for curve in choice["heldOutLoss"])
    assert any("automatic regularization: L2" in line for line in lines)


def test_large_data_compares_the_amounts_on_a_sample_then_trains_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exact, "SMALL_MAX_RECORDS", 0)
    monkeypatch.setattr(regularization, "SEARCH_MAX_RECORDS", 500)
    lines: list[str] = []
    model = _train(_generated(3_000, "BINARY"), "BINARY", log=lines.append)
    choice = _echoes_the_choice(model)
    assert choice["solver"] == "sgd"
    assert 400 <= choice["searchRecords"] <= 600 < choice["trainingRecords"]
    assert choice["amounts"] == l2_grid(choice["trainingRecords"])
    final = choice["finalHeldOutLoss"]
    assert choice["passes"] == final.index(min(final)) + 1  # the pass where held-out was best
    assert model.passes == choice["passes"] and model.records_used == 3_000
    assert any("compared on a sample of" in line for line in lines)


def test_an_explicit_l2_is_used_unchanged_and_nothing_is_held_out() -> None:
    frame = _generated(600, "BINARY")
    model = _train(frame, "BINARY", {"sgd.l2RegularizationAmount": "0.003"})
    assert model.regularization is None  # type: ignore[attr-defined]
    assert model.parameters.l2 == 0.003  # type: ignore[attr-defined]
    assert model.parameters.to_aml()["sgd.l2RegularizationAmount"] == "0.003"  # type: ignore[attr-defined]
    assert model.records_used == 600  # type: ignore[attr-defined]


def test_an_explicit_l1_turns_the_automatic_choice_off() -> None:
    model = _train(_generated(300, "BINARY"), "BINARY", {"sgd.l1RegularizationAmount": "1e-4"})
    assert model.regularization is None  # type: ignore[attr-defined]
    assert (model.parameters.l1, model.parameters.l2) == (1e-4, 0.0)  # type: ignore[attr-defined]


def test_a_stronger_amount_is_chosen_for_few_noisy_records_than_for_many() -> None:
    few = _train(_generated(150, "REGRESSION", seed=3), "REGRESSION")
    many = _train(_generated(20_000, "REGRESSION", seed=3), "REGRESSION")
    assert few.regularization["l2"] > many.regularization["l2"]  # type: ignore[attr-defined]


def test_the_automatic_choice_is_deterministic_for_a_seed() -> None:
    frame = _generated(800, "MULTICLASS", seed=5)
    first = _train(frame, "MULTICLASS", seed=4)
    again = _train(frame, "MULTICLASS", seed=4)
    assert first.regularization == {
        **again.regularization,
        "seconds": first.regularization["seconds"],
    }  # type: ignore[attr-defined]
    np.testing.assert_array_equal(first.weights, again.weights)  # type: ignore[attr-defined]


def test_the_choice_survives_the_model_file() -> None:
    model = _train(_generated(300, "BINARY"), "BINARY")
    buffer = io.BytesIO()
    save_model(model, buffer)  # type: ignore[arg-type]
    buffer.seek(0)
    loaded = load_model(buffer)
    assert loaded.regularization == model.regularization  # type: ignore[attr-defined]
    assert loaded.parameters == model.parameters  # type: ignore[attr-defined]


def test_progress_reports_every_pass_of_the_search() -> None:
    calls: list[tuple[int, int, int, float]] = []
    model = _train(
        _generated(400, "REGRESSION"),
        "REGRESSION",
        {"sgd.maxPasses": "9"},
        progress=lambda *a: calls.append(a),
    )
    passes = [call[0] for call in calls if call[0] > 0]
    assert passes == list(range(1, model.regularization["passesRun"] + 1))  # type: ignore[attr-defined]
    assert all(np.isfinite(call[3]) for call in calls if call[0] > 0)


# -- coherence with scikit-learn's cross-validated models on small generated data ----------
# Both models see the same features, the standardised columns (the suggested recipe's quantile
# bins would be a different model: the robustness benchmark compares the default path).
LINEAR = '{"groups": {}, "assignments": {}, "outputs": ["ALL_NUMERIC"]}'


def _split(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = int(len(frame) * 0.7)
    return frame.iloc[:cut].reset_index(drop=True), frame.iloc[cut:].reset_index(drop=True)


def _ours(train: pd.DataFrame, test: pd.DataFrame, kind: str) -> np.ndarray:
    model = _train(train, kind, recipe=LINEAR)
    scores = score_frame(model, test[FEATURES])  # type: ignore[arg-type]
    return predicted_labels(model, scores) if kind == "MULTICLASS" else scores  # type: ignore[arg-type]


def _sklearn(train: pd.DataFrame, test: pd.DataFrame, kind: str) -> np.ndarray:
    scaler = StandardScaler().fit(train[FEATURES])
    x_train, x_test = scaler.transform(train[FEATURES]), scaler.transform(test[FEATURES])
    if kind == "REGRESSION":
        return RidgeCV(alphas=np.logspace(-3, 3, 13)).fit(x_train, train["y"]).predict(x_test)
    model = LogisticRegressionCV(
        Cs=10, max_iter=2_000, scoring="neg_log_loss", l1_ratios=(0,), use_legacy_attributes=False
    ).fit(x_train, train["y"])
    return model.predict_proba(x_test)[:, 1] if kind == "BINARY" else model.predict(x_test)


METRICS: dict[str, Callable[[pd.Series, np.ndarray], float]] = {
    "BINARY": lambda y, scores: float(roc_auc_score(y, scores)),
    "MULTICLASS": lambda y, labels: float(f1_score(y, labels, average="macro")),
    "REGRESSION": lambda y, values: float(np.sqrt(np.mean((y - values) ** 2))),
}


@pytest.mark.parametrize(
    ("kind", "tolerance"), [("BINARY", 0.01), ("MULTICLASS", 0.03), ("REGRESSION", 0.05)]
)
@pytest.mark.parametrize("rows", [300, 3_000])
def test_the_default_model_is_as_good_as_scikit_learns_cross_validated_one(
    kind: str, tolerance: float, rows: int
) -> None:
    train, test = _split(_generated(rows, kind, seed=11))
    ours = METRICS[kind](test["y"], _ours(train, test, kind))
    theirs = METRICS[kind](test["y"], _sklearn(train, test, kind))
    if kind == "REGRESSION":
        assert ours <= theirs * (1 + tolerance), (ours, theirs)
    else:
        assert ours >= theirs - tolerance, (ours, theirs)

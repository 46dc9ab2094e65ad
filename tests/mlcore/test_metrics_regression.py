"""Regression metrics and every baseline as AML defines them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import mean_absolute_error as sk_mae
from sklearn.metrics import mean_squared_error

from mlcore.metrics.baselines import (
    baseline_binary_auc,
    baseline_multiclass_f1,
    baseline_regression_rmse,
    most_frequent_class,
)
from mlcore.metrics.regression import (
    mean_absolute_error,
    regression_details,
    residual_histogram,
    rmse,
)


def targets(n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    true = rng.normal(5.0, 2.0, n)
    return true, true + rng.normal(0.3, 0.5, n)


def test_its_rmse_and_mae_agree_with_scikit_learn() -> None:
    true, predicted = targets()

    assert rmse(true, predicted) == pytest.approx(np.sqrt(mean_squared_error(true, predicted)))
    assert mean_absolute_error(true, predicted) == pytest.approx(sk_mae(true, predicted))


def test_its_residuals_are_true_minus_predicted() -> None:
    histogram = residual_histogram([10.0, 10.0, 10.0], [9.0, 9.5, 9.9], bins=2)

    assert histogram["counts"] == [0, 3]  # all under-estimates: positive residuals
    assert histogram["mean"] == pytest.approx(0.5333333333)


def test_its_residual_histogram_is_symmetric_about_zero_and_counts_everything() -> None:
    true, predicted = targets()

    histogram = residual_histogram(true, predicted, bins=50)

    assert histogram["edges"][0] == -histogram["edges"][-1]
    assert histogram["edges"][25] == pytest.approx(0.0)
    assert sum(histogram["counts"]) == len(true)


def test_its_details_are_json_ready_even_with_perfect_predictions() -> None:
    details = regression_details([1.0, 2.0], [1.0, 2.0])

    json.dumps(details, allow_nan=False)
    assert details["rmse"] == 0.0 and sum(details["residual_histogram"]["counts"]) == 2


def test_the_binary_baseline_is_one_half() -> None:
    assert baseline_binary_auc() == 0.5


def test_the_multiclass_baseline_of_ten_balanced_classes_is_about_two_hundredths() -> None:
    labels = np.repeat([str(d) for d in range(10)], 100)
    training_counts = {str(d): 600 + d for d in range(10)}  # "9" is the training's top class

    assert baseline_multiclass_f1(training_counts, labels) == pytest.approx(0.0182, abs=1e-4)
    assert round(baseline_multiclass_f1(training_counts, labels), 2) == 0.02


def test_the_multiclass_baseline_predicts_the_training_top_class_not_the_evaluation_one() -> None:
    evaluation = ["a"] * 8 + ["b"] * 2

    from_training_b = baseline_multiclass_f1({"a": 1, "b": 5}, evaluation)
    from_training_a = baseline_multiclass_f1({"a": 5, "b": 1}, evaluation)

    assert from_training_b == pytest.approx((0 + 2 * 0.2 / 1.2) / 2)
    assert from_training_a == pytest.approx((2 * 0.8 / 1.8 + 0) / 2)


def test_the_most_frequent_class_breaks_ties_by_label() -> None:
    assert most_frequent_class({"b": 2, "a": 2}) == "a"


def test_the_regression_baseline_uses_the_training_mean() -> None:
    evaluation = np.array([10.0, 12.0, 14.0])

    assert baseline_regression_rmse(8.0, evaluation) == pytest.approx(
        np.sqrt(np.mean((evaluation - 8.0) ** 2))
    )
    assert baseline_regression_rmse(8.0, evaluation) != pytest.approx(
        baseline_regression_rmse(evaluation.mean(), evaluation)
    )

"""Multiclass metrics checked against scikit-learn, and AML's top-9 + "others" matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import f1_score, precision_score, recall_score

from mlcore.metrics.multiclass import (
    OTHERS,
    aml_confusion_matrix,
    class_order,
    confusion_matrix,
    macro_f1,
    multiclass_details,
    per_class_metrics,
    predicted_labels,
)


def noisy_labels(
    n_classes: int, n: int = 3000, seed: int = 0, accuracy: float = 0.7
) -> tuple[np.ndarray, np.ndarray]:
    """Skewed true classes, predictions right `accuracy` of the time and random otherwise."""
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, n_classes + 1)
    names = np.array([f"c{i:02d}" for i in range(n_classes)])
    true = names[rng.choice(n_classes, n, p=weights / weights.sum())]
    wrong = names[rng.integers(0, n_classes, n)]
    predicted = np.where(rng.random(n) < accuracy, true, wrong)
    return true, predicted


@pytest.mark.parametrize("n_classes", [2, 3, 7, 12])
def test_its_macro_f1_agrees_with_scikit_learn(n_classes: int) -> None:
    true, predicted = noisy_labels(n_classes)

    assert macro_f1(true, predicted) == pytest.approx(
        f1_score(true, predicted, average="macro", labels=np.unique(true))
    )


def test_its_macro_f1_averages_over_the_evaluation_classes_only() -> None:
    true = np.array(["a", "a", "b", "b"])
    predicted = np.array(["a", "z", "b", "b"])

    expected = f1_score(true, predicted, labels=["a", "b"], average="macro")
    assert macro_f1(true, predicted) == pytest.approx(expected)
    assert macro_f1(true, predicted) > f1_score(true, predicted, average="macro")


def test_its_per_class_figures_agree_with_scikit_learn() -> None:
    true, predicted = noisy_labels(5)

    figures = per_class_metrics(true, predicted)

    labels = figures["labels"]
    assert figures["f1"] == pytest.approx(f1_score(true, predicted, labels=labels, average=None))
    assert figures["precision"] == pytest.approx(
        precision_score(true, predicted, labels=labels, average=None, zero_division=0)
    )
    assert figures["recall"] == pytest.approx(
        recall_score(true, predicted, labels=labels, average=None, zero_division=0)
    )
    assert sum(figures["true_count"]) == len(true)


def test_its_full_confusion_matrix_agrees_with_scikit_learn() -> None:
    true, predicted = noisy_labels(12)

    matrix = confusion_matrix(true, predicted)

    expected = sk_confusion_matrix(true, predicted, labels=matrix.labels)
    assert matrix.counts.tolist() == expected.tolist()


def test_it_orders_classes_most_to_least_frequent_in_the_evaluation_data() -> None:
    assert class_order(["x", "y", "y", "z", "z", "z"], ["w", "x"]) == ["z", "y", "x", "w"]


def test_it_shows_every_class_when_there_are_ten() -> None:
    true, predicted = noisy_labels(10)

    matrix = aml_confusion_matrix(true, predicted)

    assert len(matrix["labels"]) == 10 and OTHERS not in matrix["labels"]
    assert matrix["collapsed"] is False


def test_it_collapses_twelve_classes_into_the_top_nine_and_others() -> None:
    true, predicted = noisy_labels(12)
    full = confusion_matrix(true, predicted)

    matrix = aml_confusion_matrix(true, predicted)

    assert matrix["labels"] == [*full.labels[:9], OTHERS]
    assert matrix["others_classes"] == full.labels[9:]
    counts = np.array(matrix["counts"])
    assert counts.shape == (10, 10)
    assert counts.sum() == len(true)
    assert counts[:9, :9].tolist() == full.counts[:9, :9].tolist()
    assert counts[9, 9] == full.counts[9:, 9:].sum()
    assert counts[:9, 9].tolist() == full.counts[:9, 9:].sum(axis=1).tolist()


def test_its_collapsed_columns_are_class_frequencies_and_f1() -> None:
    true, predicted = noisy_labels(12)
    figures = per_class_metrics(true, predicted)

    matrix = aml_confusion_matrix(true, predicted)

    assert matrix["f1"][:9] == pytest.approx(figures["f1"][:9])
    frequency = np.array(figures["true_count"]) / len(true)
    assert matrix["true_class_frequency"][:9] == pytest.approx(frequency[:9].tolist())
    assert matrix["true_class_frequency"][9] == pytest.approx(frequency[9:].sum())
    assert sum(matrix["predicted_class_frequency"]) == pytest.approx(1.0)
    others_true = np.isin(true, matrix["others_classes"])
    others_predicted = np.isin(predicted, matrix["others_classes"])
    assert matrix["f1"][9] == pytest.approx(f1_score(others_true, others_predicted))
    assert np.array(matrix["row_percent"]).sum(axis=1) == pytest.approx(100.0)


def test_a_class_only_predicted_goes_into_others_when_there_are_too_many() -> None:
    true, predicted = noisy_labels(10)
    predicted = predicted.astype(object)  # room for a longer label
    predicted[:5] = "never-true"

    matrix = aml_confusion_matrix(true, predicted)

    assert matrix["labels"][-1] == OTHERS
    assert "never-true" in matrix["others_classes"]
    assert np.array(matrix["counts"]).sum() == len(true)


def test_it_predicts_the_most_probable_class() -> None:
    labels = predicted_labels([[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], ["a", "b", "c"])

    assert labels.tolist() == ["b", "a"]


def test_its_details_are_json_ready() -> None:
    true, predicted = noisy_labels(12, n=200)

    details = multiclass_details(true, predicted)

    json.dumps(details, allow_nan=False)
    assert details["macro_f1"] == pytest.approx(macro_f1(true, predicted))


def test_its_details_agree_with_the_separate_functions() -> None:
    true, predicted = noisy_labels(12, n=500)
    predicted = predicted.astype(object)
    predicted[:3] = "never-true"

    details = multiclass_details(true, predicted)

    assert details["macro_f1"] == pytest.approx(macro_f1(true, predicted))
    assert details["confusion_matrix"] == aml_confusion_matrix(true, predicted)
    assert details["per_class"] == per_class_metrics(true, predicted)

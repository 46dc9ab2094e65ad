"""Binary metrics checked against scikit-learn and against direct computation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, f1_score, precision_score, recall_score, roc_auc_score

from mlcore.metrics.binary import (
    binary_auc,
    binary_details,
    fold_counts,
    roc_curve,
    score_counts,
    score_histograms,
    threshold_metrics,
    threshold_metrics_from_counts,
    threshold_table,
)


def tied_data(n: int = 5000, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Scores rounded to two decimals (many ties) that lean towards the positives."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    scores = np.clip(rng.normal(0.4 + 0.2 * labels, 0.2), 0, 1).round(2)
    return scores, labels


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_it_computes_the_auc_exactly_with_many_ties(seed: int) -> None:
    scores, labels = tied_data(seed=seed)

    assert binary_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_it_counts_a_tied_pair_as_one_half() -> None:
    assert binary_auc([0.5, 0.5, 0.5], [0, 1, 1]) == 0.5
    assert binary_auc([0.1, 0.9], [0, 1]) == 1.0
    assert binary_auc([0.9, 0.1], [0, 1]) == 0.0


def test_it_returns_the_baseline_when_only_one_class_is_present() -> None:
    assert binary_auc([0.2, 0.8], [1, 1]) == 0.5


def test_its_roc_curve_matches_the_exact_auc_before_thinning() -> None:
    scores, labels = tied_data()

    curve = roc_curve(scores, labels, max_points=10_000)

    assert curve["fpr"][0] == 0.0 and curve["tpr"][0] == 0.0
    assert curve["fpr"][-1] == 1.0 and curve["tpr"][-1] == 1.0
    assert np.trapezoid(curve["tpr"], curve["fpr"]) == pytest.approx(binary_auc(scores, labels))


def test_it_thins_the_roc_curve_for_storage_keeping_its_ends_and_shape() -> None:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 20_000)
    scores = rng.random(20_000) * 0.5 + 0.3 * labels

    curve = roc_curve(scores, labels, max_points=500)

    assert len(curve["fpr"]) <= 502
    assert (curve["fpr"][0], curve["tpr"][-1]) == (0.0, 1.0)
    assert np.all(np.diff(curve["fpr"]) >= 0) and np.all(np.diff(curve["thresholds"]) <= 0)
    area = np.trapezoid(curve["tpr"], curve["fpr"])
    assert area == pytest.approx(binary_auc(scores, labels), abs=2e-3)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.55, 0.77, 1.0])
def test_its_threshold_metrics_agree_with_scikit_learn(threshold: float) -> None:
    scores, labels = tied_data()
    predicted = (scores >= threshold).astype(int)

    metrics = threshold_metrics(scores, labels, threshold)

    tn, fp, fn, tp = confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    assert (metrics["tp"], metrics["fp"], metrics["fn"], metrics["tn"]) == (tp, fp, fn, tn)
    assert metrics["precision"] == pytest.approx(
        precision_score(labels, predicted, zero_division=0)
    )
    assert metrics["recall"] == pytest.approx(recall_score(labels, predicted, zero_division=0))
    assert metrics["f1"] == pytest.approx(f1_score(labels, predicted, zero_division=0))
    assert metrics["accuracy"] == pytest.approx((tp + tn) / len(labels))
    assert metrics["false_positive_rate"] == pytest.approx(fp / (fp + tn))
    assert metrics["percent_predicted_positive"] == pytest.approx(100 * predicted.mean())
    assert metrics["percent_predicted_negative"] == pytest.approx(100 * (1 - predicted.mean()))


def test_it_counts_a_score_equal_to_the_threshold_as_positive() -> None:
    metrics = threshold_metrics([0.5, 0.49], [1, 0], 0.5)

    assert (metrics["tp"], metrics["tn"]) == (1, 1)


def test_it_defines_zero_over_zero_as_zero() -> None:
    nothing_positive = threshold_metrics([0.1, 0.2], [0, 0], 0.5)
    empty = threshold_metrics([], [], 0.5)

    assert nothing_positive["precision"] == 0.0
    assert nothing_positive["recall"] == 0.0
    assert nothing_positive["f1"] == 0.0
    assert empty["accuracy"] == 0.0 and empty["percent_predicted_positive"] == 0.0


def test_its_threshold_table_matches_direct_computation_at_every_step() -> None:
    scores, labels = tied_data()

    table = threshold_table(scores, labels)

    assert len(table["thresholds"]) == 101
    for i in [0, 1, 29, 40, 50, 57, 77, 99, 100]:
        direct = threshold_metrics(scores, labels, i / 100)
        assert table["thresholds"][i] == direct["threshold"]
        for name in ["tp", "fp", "fn", "tn", "accuracy", "precision", "recall", "f1"]:
            assert table[name][i] == direct[name], (i, name)


def test_it_derives_any_grid_threshold_from_the_stored_bin_counts() -> None:
    scores, labels = tied_data()
    counts = score_counts(scores, labels)

    for threshold in [0.0, 0.29, 0.5, 0.555, 0.77, 1.0]:
        derived = threshold_metrics_from_counts(counts, threshold)
        direct = threshold_metrics(scores, labels, threshold)
        assert derived == direct, threshold


def test_its_score_histograms_count_each_class_per_bin() -> None:
    histograms = score_histograms([0.0, 0.01, 0.015, 0.999, 1.0], [0, 1, 1, 0, 1])

    assert len(histograms["edges"]) == 101
    assert histograms["positive"][1] == 2 and histograms["positive"][99] == 1
    assert histograms["negative"][0] == 1 and histograms["negative"][99] == 1
    assert sum(histograms["positive"]) == 3 and sum(histograms["negative"]) == 2


def test_folding_fine_counts_gives_the_coarse_histogram() -> None:
    scores, labels = tied_data()

    folded = fold_counts(score_counts(scores, labels, 1000), 100)
    direct = score_histograms(scores, labels, 100)

    assert folded["positive"] == direct["positive"]
    assert folded["negative"] == direct["negative"]


def test_its_details_are_json_ready() -> None:
    scores, labels = tied_data(n=300)

    details = binary_details(scores, labels, threshold=0.6)

    json.dumps(details, allow_nan=False)
    assert details["threshold_metrics"]["threshold"] == 0.6
    assert details["positive_count"] + details["negative_count"] == 300

"""mlcore.metrics.threshold_search against brute force on the raw scores: every answer read from
the stored counts is what scanning the records at each 0.001 cut-off gives."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from mlcore.metrics.binary import score_counts, threshold_metrics, threshold_metrics_from_counts
from mlcore.metrics.threshold_search import (
    Costs,
    best_cost_threshold,
    calibration,
    cost_curve,
    cumulative_gains,
    find_cutoff,
    grid_from_counts,
    precision_recall_curve,
    threshold_for_top_percent,
)

GRID = np.arange(1001) / 1000


@pytest.fixture(scope="module")
def records() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(21)
    labels = rng.random(5000) < 0.3
    scores = np.clip(rng.normal(np.where(labels, 0.65, 0.35), 0.2), 0, 1).round(4)
    return scores, labels


@pytest.fixture(scope="module")
def counts(records: tuple[np.ndarray, np.ndarray]) -> dict[str, Any]:
    return score_counts(*records)


@pytest.fixture(scope="module")
def brute(records: tuple[np.ndarray, np.ndarray]) -> list[dict[str, Any]]:
    """The metrics at every grid cut-off, counted on the records themselves."""
    return [threshold_metrics(*records, t) for t in GRID]


def test_the_grid_holds_the_confusion_counts_of_every_cut_off(
    counts: dict[str, Any], brute: list[dict[str, Any]]
) -> None:
    grid = grid_from_counts(counts)
    assert grid.tp.tolist() == [m["tp"] for m in brute]
    assert grid.fp.tolist() == [m["fp"] for m in brute]
    assert grid.fn.tolist() == [m["fn"] for m in brute]
    assert grid.tn.tolist() == [m["tn"] for m in brute]


def test_top_percent_is_the_highest_cut_off_predicting_at_least_that_share(
    counts: dict[str, Any], brute: list[dict[str, Any]]
) -> None:
    for percent in (0.5, 10, 25, 50, 99.9):
        t = threshold_for_top_percent(counts, percent)
        k = round(t * 1000)
        assert brute[k]["percent_predicted_positive"] >= percent - 1e-9
        assert k == 1000 or brute[k + 1]["percent_predicted_positive"] < percent
    assert threshold_for_top_percent(counts, 100) == 0.0
    with pytest.raises(ValueError):
        threshold_for_top_percent(counts, 101)


@pytest.mark.parametrize(
    ("metric", "target", "optimised"),
    [
        ("precision", 0.8, "recall"),
        ("recall", 0.9, "precision"),
        ("false_positive_rate", 0.05, "recall"),
    ],
)
def test_find_cutoff_meets_the_goal_with_the_best_other_metric(
    counts: dict[str, Any],
    brute: list[dict[str, Any]],
    metric: str,
    target: float,
    optimised: str,
) -> None:
    found = find_cutoff(counts, metric, target)
    assert found.found and found.optimised == optimised
    assert found.threshold is not None
    chosen = brute[round(found.threshold * 1000)]

    def meets(m: dict[str, Any]) -> bool:
        if metric == "precision":
            return m["tp"] + m["fp"] > 0 and m["precision"] >= target
        if metric == "recall":
            return m["recall"] >= target
        return m["false_positive_rate"] <= target

    assert meets(chosen)
    best = max(m[optimised] for m in brute if meets(m))
    assert chosen[optimised] == best


def test_a_goal_no_cut_off_reaches_is_reported_as_not_found(counts: dict[str, Any]) -> None:
    assert not find_cutoff(counts, "precision", 1.01).found
    assert not find_cutoff(counts, "false_positive_rate", -0.1).found
    with pytest.raises(ValueError):
        find_cutoff(counts, "accuracy", 0.5)


def test_a_cut_off_predicting_nothing_does_not_reach_a_precision_of_zero() -> None:
    """0 of 0 is undefined here: the only cut-offs left would be those predicting nothing."""
    counts = {"bins": 2, "positive": [1, 0, 0], "negative": [0, 1, 0]}
    found = find_cutoff(counts, "precision", 0.0)
    assert found.threshold == 0.0  # predicts both records, precision 0.5; t=1 predicts nothing


def test_the_cost_curve_is_the_cost_of_each_cut_off_counted_on_the_records(
    counts: dict[str, Any], brute: list[dict[str, Any]]
) -> None:
    costs = Costs(false_positive=2.0, false_negative=7.5, true_positive_gain=1.0)
    curve = cost_curve(counts, costs)
    expected = [(2.0 * m["fp"] + 7.5 * m["fn"] - 1.0 * m["tp"]) / 5000 for m in brute]
    np.testing.assert_allclose(curve, expected, rtol=0, atol=1e-12)
    best, value = best_cost_threshold(counts, costs)
    assert value == pytest.approx(min(expected))
    assert best == GRID[int(np.argmin(expected))]


def test_calibration_compares_the_mean_score_with_the_share_of_ones_per_tenth(
    records: tuple[np.ndarray, np.ndarray], counts: dict[str, Any]
) -> None:
    scores, labels = records
    result = calibration(counts)
    tenth = np.minimum((scores * 10).astype(int), 9)
    for b in range(10):
        inside = tenth == b
        assert result["records"][b] == int(inside.sum())
        if inside.any():
            assert result["observed"][b] == pytest.approx(labels[inside].mean())
            # bin centres stand in for the scores: off by at most half a bin of 0.001
            assert result["predicted"][b] == pytest.approx(scores[inside].mean(), abs=0.0005)


def test_gains_and_the_precision_recall_curve_follow_the_records(
    counts: dict[str, Any], brute: list[dict[str, Any]]
) -> None:
    gains = cumulative_gains(counts)
    reversed_brute = brute[::-1]
    assert gains["percent_records"] == pytest.approx(
        [m["percent_predicted_positive"] for m in reversed_brute]
    )
    assert gains["percent_positives"] == pytest.approx([100 * m["recall"] for m in reversed_brute])
    top = next(i for i, share in enumerate(gains["percent_records"]) if share > 0)
    assert gains["lift"][top] == pytest.approx(
        gains["percent_positives"][top] / gains["percent_records"][top]
    )
    pr = precision_recall_curve(counts)
    for t, recall, precision in zip(pr["thresholds"], pr["recall"], pr["precision"], strict=True):
        at = threshold_metrics_from_counts(counts, t)
        assert (recall, precision) == (at["recall"], at["precision"])

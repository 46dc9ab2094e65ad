"""Choosing a score threshold from the stored `score_counts` (the evaluation explorer, issue 7).

Everything here reads the per-bin counts of actual 1s and 0s that `binary.score_counts` stores
(1000 bins of width 0.001 plus one for scores of exactly 1) and works on the grid of thresholds
`k / bins`, k = 0 ... bins, where `threshold_metrics_from_counts` is exact. The evaluation page
does the same arithmetic in JavaScript (`static/console/js/threshold_explorer.js`) so the slider
never waits for the server; the browser tests check the two agree, so any change to a rule here
(which grid point "top X %" lands on, how ties are broken) must be made there too.

Ratios with a zero denominator are *undefined* here (NaN in the arrays, never a match for a
goal), unlike `binary.metrics_from_confusion`, which stores them as 0 for JSON: a cut-off where
nothing is predicted 1 does not "reach" a precision of 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

GOAL_METRICS = ("precision", "recall", "false_positive_rate")
# For each goal metric: whether the goal is "at least" (True) or "at most" (False), and the
# metric the search then makes as large as it can.
GOAL_RULES: dict[str, tuple[bool, str]] = {
    "precision": (True, "recall"),
    "recall": (True, "precision"),
    "false_positive_rate": (False, "recall"),
}
CALIBRATION_BINS = 10


@dataclass(frozen=True)
class Grid:
    """Confusion counts at every grid threshold `k / bins`, k = 0 ... bins (arrays of bins+1)."""

    thresholds: FloatArray
    tp: IntArray
    fp: IntArray
    n_pos: int
    n_neg: int

    @property
    def fn(self) -> IntArray:
        return self.n_pos - self.tp

    @property
    def tn(self) -> IntArray:
        return self.n_neg - self.fp

    @property
    def total(self) -> int:
        return self.n_pos + self.n_neg


def grid_from_counts(counts: Mapping[str, Any]) -> Grid:
    """Suffix sums of the stored counts: records with score >= k/bins are those of bins k and up.

    >>> g = grid_from_counts({"bins": 2, "positive": [0, 1, 1], "negative": [1, 0, 0]})
    >>> g.thresholds.tolist(), g.tp.tolist(), g.fp.tolist()
    ([0.0, 0.5, 1.0], [2, 2, 1], [1, 0, 0])
    """
    bins = int(counts["bins"])
    positive = np.asarray(counts["positive"], dtype=np.int64)
    negative = np.asarray(counts["negative"], dtype=np.int64)
    if positive.size != bins + 1 or negative.size != bins + 1:
        raise ValueError(f"score counts of {bins} bins need {bins + 1} counts per class")
    return Grid(
        thresholds=np.arange(bins + 1) / bins,
        tp=np.cumsum(positive[::-1])[::-1],
        fp=np.cumsum(negative[::-1])[::-1],
        n_pos=int(positive.sum()),
        n_neg=int(negative.sum()),
    )


def _undefined_ratio(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> FloatArray:
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    return np.divide(num, den, out=np.full(np.broadcast(num, den).shape, np.nan), where=den != 0)


def grid_metrics(grid: Grid) -> dict[str, FloatArray]:
    """Precision, recall, false positive rate, F1 and accuracy at every grid threshold, NaN
    where undefined (F1 is undefined when precision is, and 0 when precision + recall is 0)."""
    precision = _undefined_ratio(grid.tp, grid.tp + grid.fp)
    recall = _undefined_ratio(grid.tp, grid.n_pos)
    both = precision + recall
    f1 = np.where(both > 0, 2 * precision * recall / np.where(both > 0, both, 1), 0.0)
    f1 = np.where(np.isnan(both), np.nan, f1)
    return {
        "precision": precision,
        "recall": recall,
        "false_positive_rate": _undefined_ratio(grid.fp, grid.n_neg),
        "f1": f1,
        "accuracy": _undefined_ratio(grid.tp + grid.tn, grid.total),
    }


def threshold_for_top_percent(counts: Mapping[str, Any], percent: float) -> float:
    """The highest grid threshold that predicts at least `percent` % of the records as 1.

    Records tied in one 0.001 bin move together, so the share reached may exceed `percent`;
    0 % gives 1.0 (only scores of exactly 1), 100 % gives 0.0.

    >>> counts = {"bins": 4, "positive": [0, 0, 1, 1, 0], "negative": [1, 1, 0, 0, 0]}
    >>> threshold_for_top_percent(counts, 50), threshold_for_top_percent(counts, 60)
    (0.5, 0.25)
    """
    if not 0.0 <= percent <= 100.0:
        raise ValueError("the share predicted 1 must be between 0 and 100 %")
    grid = grid_from_counts(counts)
    if grid.total == 0:
        return 1.0
    # integer comparison (predicted * 100 >= percent * total) so the browser can do the same
    predicted = grid.tp + grid.fp
    reaching = np.flatnonzero(predicted * 100.0 >= percent * grid.total)
    return float(grid.thresholds[reaching[-1]]) if reaching.size else 0.0


@dataclass(frozen=True)
class CutoffSearch:
    """`find_cutoff`'s answer: the threshold (None when no grid threshold meets the goal)."""

    metric: str
    target: float
    threshold: float | None
    optimised: str

    @property
    def found(self) -> bool:
        return self.threshold is not None


def find_cutoff(counts: Mapping[str, Any], metric: str, target: float) -> CutoffSearch:
    """The grid threshold meeting a goal on one metric with the best value of the others.

    Goals: precision >= target (then the largest recall), recall >= target (the largest
    precision), false positive rate <= target (the largest recall). Ties go to the larger F1,
    then the larger accuracy, then the higher threshold (fewer records predicted 1). A
    threshold where the goal metric is undefined (0 of 0) never meets it.

    >>> counts = {"bins": 4, "positive": [0, 1, 1, 2, 0], "negative": [2, 1, 1, 0, 0]}
    >>> find_cutoff(counts, "precision", 0.9).threshold
    0.75
    >>> find_cutoff(counts, "recall", 0.75).threshold
    0.5
    >>> find_cutoff(counts, "precision", 1.01).found
    False
    """
    if metric not in GOAL_RULES:
        raise ValueError(f"the goal must be on one of {', '.join(GOAL_METRICS)}")
    at_least, optimised = GOAL_RULES[metric]
    values = grid_metrics(grid_from_counts(counts))
    goal = values[metric]
    with np.errstate(invalid="ignore"):
        meets = goal >= target if at_least else goal <= target
    meets &= ~np.isnan(goal)
    candidates = np.flatnonzero(meets)
    if candidates.size == 0:
        return CutoffSearch(metric, float(target), None, optimised)
    keys = [_nan_low(values[name][candidates]) for name in (optimised, "f1", "accuracy")]
    # np.lexsort sorts by the last key first; the last index among equals is the highest k
    best = candidates[np.lexsort((candidates, *reversed(keys)))[-1]]
    thresholds = np.arange(int(counts["bins"]) + 1) / int(counts["bins"])
    return CutoffSearch(metric, float(target), float(thresholds[best]), optimised)


def _nan_low(values: FloatArray) -> FloatArray:
    """Undefined ranks below every real value when looking for the largest."""
    return np.where(np.isnan(values), -np.inf, values)


@dataclass(frozen=True)
class Costs:
    """What one record costs when misclassified (and gains when right), in any currency."""

    false_positive: float = 1.0
    false_negative: float = 1.0
    true_positive_gain: float = 0.0
    true_negative_gain: float = 0.0


def cost_curve(counts: Mapping[str, Any], costs: Costs) -> FloatArray:
    """Expected cost per record at every grid threshold (negative: a profit).

    (cost_FP * FP + cost_FN * FN - gain_TP * TP - gain_TN * TN) / records, evaluated in that
    order so the browser's arithmetic gives the same doubles.

    >>> counts = {"bins": 2, "positive": [0, 1, 1], "negative": [1, 1, 0]}
    >>> cost_curve(counts, Costs(false_positive=1, false_negative=5)).tolist()
    [0.5, 0.25, 1.25]
    """
    grid = grid_from_counts(counts)
    tp, fp = grid.tp.astype(np.float64), grid.fp.astype(np.float64)
    fn, tn = grid.fn.astype(np.float64), grid.tn.astype(np.float64)
    total = (
        costs.false_positive * fp
        + costs.false_negative * fn
        - costs.true_positive_gain * tp
        - costs.true_negative_gain * tn
    )
    return total / max(grid.total, 1)


def best_cost_threshold(counts: Mapping[str, Any], costs: Costs) -> tuple[float, float]:
    """(threshold, expected cost per record) of the cheapest grid threshold; the lowest one
    among equals.

    >>> counts = {"bins": 2, "positive": [0, 1, 1], "negative": [1, 1, 0]}
    >>> best_cost_threshold(counts, Costs(false_positive=1, false_negative=5))
    (0.5, 0.25)
    """
    curve = cost_curve(counts, costs)
    best = int(np.argmin(curve))
    return best / int(counts["bins"]), float(curve[best])


def calibration(counts: Mapping[str, Any], bins: int = CALIBRATION_BINS) -> dict[str, list[Any]]:
    """Reliability diagram: per score bin [k/bins, (k+1)/bins), the mean predicted probability
    (from the stored bins' centres; exactly 1 for the scores of 1) and the observed share of 1s
    (None for an empty bin).

    >>> c = calibration({"bins": 4, "positive": [0, 1, 1, 3, 1], "negative": [2, 1, 1, 1, 0]}, 2)
    >>> c["observed"], c["records"]
    ([0.25, 0.7142857142857143], [4, 7])
    """
    stored = int(counts["bins"])
    if stored % bins:
        raise ValueError(f"cannot fold {stored} bins into {bins}")
    positive = np.asarray(counts["positive"], dtype=np.float64)
    negative = np.asarray(counts["negative"], dtype=np.float64)
    records = positive + negative
    centres = np.r_[(np.arange(stored) + 0.5) / stored, 1.0]
    group = np.r_[np.arange(stored) // (stored // bins), bins - 1]  # scores of 1: the last bin
    n = np.bincount(group, weights=records, minlength=bins)
    ones = np.bincount(group, weights=positive, minlength=bins)
    score_sum = np.bincount(group, weights=records * centres, minlength=bins)
    return {
        "edges": (np.arange(bins + 1) / bins).tolist(),
        "predicted": [float(s / k) if k else None for s, k in zip(score_sum, n, strict=True)],
        "observed": [float(o / k) if k else None for o, k in zip(ones, n, strict=True)],
        "records": [int(k) for k in n],
    }


def cumulative_gains(counts: Mapping[str, Any]) -> dict[str, list[float]]:
    """Cumulative gains and lift at every grid threshold, from the highest scores down.

    `percent_records`: share of records predicted 1 (score >= k/bins); `percent_positives`: share
    of the actual 1s among them (recall, %); `lift`: that over the share of records (1 where no
    record is predicted 1). Ordered by share of records, growing.

    >>> g = cumulative_gains({"bins": 2, "positive": [0, 1, 1], "negative": [2, 0, 0]})
    >>> g["percent_records"], g["percent_positives"], g["lift"]
    ([25.0, 50.0, 100.0], [50.0, 100.0, 100.0], [2.0, 2.0, 1.0])
    """
    grid = grid_from_counts(counts)
    total, n_pos = max(grid.total, 1), max(grid.n_pos, 1)
    records = 100.0 * (grid.tp + grid.fp)[::-1] / total
    positives = 100.0 * grid.tp[::-1] / n_pos
    lift = np.divide(positives, records, out=np.ones_like(records), where=records > 0)
    return {
        "percent_records": records.tolist(),
        "percent_positives": positives.tolist(),
        "lift": lift.tolist(),
    }


def precision_recall_curve(counts: Mapping[str, Any]) -> dict[str, list[float]]:
    """Precision against recall at every grid threshold where precision is defined (something
    is predicted 1), from the lowest threshold (recall 1) up.

    >>> precision_recall_curve({"bins": 2, "positive": [0, 1, 1], "negative": [2, 0, 0]})
    {'thresholds': [0.0, 0.5, 1.0], 'recall': [1.0, 1.0, 0.5], 'precision': [0.5, 1.0, 1.0]}
    """
    grid = grid_from_counts(counts)
    values = grid_metrics(grid)
    defined = ~np.isnan(values["precision"]) & ~np.isnan(values["recall"])
    return {
        "thresholds": grid.thresholds[defined].tolist(),
        "recall": values["recall"][defined].tolist(),
        "precision": values["precision"][defined].tolist(),
    }

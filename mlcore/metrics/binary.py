"""Binary metrics (reference 7.1 and 7.3): exact AUC, the ROC curve, score histograms and the
threshold page.

Scores are P(target = 1) in [0, 1]; labels are 0/1 (any numeric or boolean array). A record is
predicted positive when its score is **greater than or equal to** the threshold, as AML does.

Ratios whose denominator is zero are defined as 0, never NaN, so every result is JSON-ready:
precision with no predicted positive, recall with no actual positive, false positive rate with no
actual negative, F1 when precision + recall is 0, and accuracy or percentages of an empty set.

The console's threshold slider reads two stored structures instead of recomputing anything:

* `threshold_table(...)`: every metric at the 101 thresholds 0.00, 0.01, ... 1.00;
* `score_counts(...)`: per-bin counts of actual positives and negatives (1000 bins of width
  0.001, plus one for scores of exactly 1), from which `threshold_metrics_from_counts`
  derives the metrics at any threshold on that grid exactly, and between grid points to within
  one bin.

Bin edges are `k / bins` (correctly rounded, so `29 / 100 == 0.29`), and a score falls in the bin
whose left edge is the largest edge <= score, so "score >= edge" and "in a bin from there up" are
the same set of records, and folding 1000 bins into 100 gives exactly the 100-bin histogram.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

ROC_MAX_POINTS = 500
TABLE_STEPS = 100
HISTOGRAM_BINS = 100
COUNT_BINS = 1000

METRIC_NAMES = (
    "accuracy",
    "precision",
    "recall",
    "false_positive_rate",
    "f1",
    "percent_predicted_positive",
    "percent_predicted_negative",
)


def _as_arrays(scores: ArrayLike, labels: ArrayLike) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel() > 0.5
    if s.shape != y.shape:
        raise ValueError(f"{s.size} scores but {y.size} labels")
    return s, y


def _ratio(numerator: ArrayLike, denominator: ArrayLike) -> FloatArray:
    """numerator / denominator, with 0 where the denominator is 0 (the module's 0/0 rule)."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def binary_auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve, exact with ties (Mann-Whitney U with average ranks).

    A tied positive/negative pair counts one half. With only one class present the AUC is
    undefined; we return 0.5, the baseline, rather than NaN.

    >>> binary_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
    0.75
    >>> binary_auc([0.5, 0.5], [0, 1])
    0.5
    """
    s, y = _as_arrays(scores, labels)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return 0.5
    _, inverse, counts = np.unique(s, return_inverse=True, return_counts=True)
    # average 1-based rank of each distinct score: first rank + (count - 1) / 2
    ends = np.cumsum(counts)
    average_rank = ends - (counts - 1) / 2.0
    rank_sum = float(average_rank[inverse][y].sum())
    u = rank_sum - n_pos * (n_pos + 1) / 2.0
    return u / (n_pos * n_neg)


def roc_curve(
    scores: ArrayLike, labels: ArrayLike, max_points: int = ROC_MAX_POINTS
) -> dict[str, list[float]]:
    """ROC points from (0, 0) to (1, 1), one per distinct score, thinned to about `max_points`.

    Thinning keeps points evenly spaced along the curve's length, so the drawn shape is kept;
    the AUC is computed exactly by `binary_auc`, never from these points.

    >>> roc_curve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])["tpr"]
    [0.0, 0.5, 0.5, 1.0, 1.0]
    """
    s, y = _as_arrays(scores, labels)
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    # the last record of each run of equal scores: the curve moves once per distinct score
    last_of_run = np.flatnonzero(np.r_[s_sorted[1:] != s_sorted[:-1], True])
    tp = np.cumsum(y_sorted)[last_of_run]
    fp = (last_of_run + 1) - tp
    tpr = np.r_[0.0, _ratio(tp, y.sum())]
    fpr = np.r_[0.0, _ratio(fp, y.size - y.sum())]
    # the (0, 0) point: a threshold above every score, so nothing is predicted positive
    top = max(1.0, float(s_sorted[0])) if s.size else 1.0
    thresholds = np.r_[np.nextafter(top, np.inf), s_sorted[last_of_run]]
    keep = _thin(fpr, tpr, max_points)
    return {
        "fpr": fpr[keep].tolist(),
        "tpr": tpr[keep].tolist(),
        "thresholds": thresholds[keep].tolist(),
    }


def _thin(x: FloatArray, y: FloatArray, max_points: int) -> IntArray:
    """Indices of at most ~max_points points evenly spaced by path length (ends kept)."""
    if x.size <= max_points:
        return np.arange(x.size)
    path = np.r_[0.0, np.cumsum(np.abs(np.diff(x)) + np.abs(np.diff(y)))]
    targets = np.linspace(0.0, path[-1], max_points)
    picked = np.searchsorted(path, targets, side="left").clip(0, x.size - 1)
    return np.unique(np.r_[0, picked, x.size - 1])


def _bin_index(s: FloatArray, bins: int) -> IntArray:
    """The bin [k/bins, (k+1)/bins) holding each score, or `bins` for a score >= 1.

    Scores below 0 go to bin 0. Scores of exactly 1 get a bin of their own so that the
    threshold 1.0 (only those predicted positive) can be read from the counts too.
    """
    edges = np.arange(bins + 1) / bins
    return (np.searchsorted(edges, s, side="right") - 1).clip(0, bins)


def score_counts(scores: ArrayLike, labels: ArrayLike, bins: int = COUNT_BINS) -> dict[str, Any]:
    """Counts of actual positives and negatives per score bin, for the threshold slider.

    `bins + 1` counts per class: bin k < bins holds [k/bins, (k+1)/bins), the last one scores
    of 1 (and above), so the records with score >= k/bins are exactly those of bins k and up.

    >>> score_counts([0.05, 0.5, 1.0], [0, 1, 1], bins=2)
    {'bins': 2, 'positive': [0, 1, 1], 'negative': [1, 0, 0]}
    """
    s, y = _as_arrays(scores, labels)
    index = _bin_index(s, bins)
    positive = np.bincount(index[y], minlength=bins + 1)
    negative = np.bincount(index[~y], minlength=bins + 1)
    return {"bins": bins, "positive": positive.tolist(), "negative": negative.tolist()}


def fold_counts(counts: dict[str, Any], bins: int) -> dict[str, Any]:
    """Fold `score_counts` into a histogram of `bins` bins on [0, 1], the last bin closed.

    `bins` must divide the stored number of bins; the scores of 1 join the last bin.

    >>> fold_counts({"bins": 4, "positive": [1, 2, 3, 4, 5], "negative": [0, 0, 1, 1, 0]}, 2)
    {'bins': 2, 'positive': [3, 12], 'negative': [0, 2]}
    """
    stored = int(counts["bins"])
    if stored % bins:
        raise ValueError(f"cannot fold {stored} bins into {bins}")

    def fold(values: list[int]) -> list[int]:
        v = np.asarray(values, dtype=np.int64)
        folded = v[:stored].reshape(bins, stored // bins).sum(axis=1)
        folded[-1] += v[stored:].sum()
        return folded.tolist()

    return {
        "bins": bins,
        "positive": fold(counts["positive"]),
        "negative": fold(counts["negative"]),
    }


def score_histograms(
    scores: ArrayLike, labels: ArrayLike, bins: int = HISTOGRAM_BINS
) -> dict[str, Any]:
    """The threshold page's two overlaid histograms: scores of actual 1s and actual 0s, in
    `bins` bins of [0, 1] (the last one closed, scores outside [0, 1] in the end bins).

    >>> score_histograms([0.05, 0.5, 1.0], [0, 1, 1], bins=2)
    {'bins': 2, 'positive': [0, 2], 'negative': [1, 0], 'edges': [0.0, 0.5, 1.0]}
    """
    histograms = fold_counts(score_counts(scores, labels, bins), bins)
    histograms["edges"] = (np.arange(bins + 1) / bins).tolist()
    return histograms


def metrics_from_confusion(
    tp: ArrayLike, fp: ArrayLike, fn: ArrayLike, tn: ArrayLike
) -> dict[str, FloatArray]:
    """Every threshold-page metric from confusion counts (scalars or arrays, vectorised).

    The single place the formulas live, so the table, the stored counts and a direct
    computation can never disagree.
    """
    tp_, fp_, fn_, tn_ = (np.asarray(v, dtype=np.float64) for v in (tp, fp, fn, tn))
    n = tp_ + fp_ + fn_ + tn_
    precision = _ratio(tp_, tp_ + fp_)
    recall = _ratio(tp_, tp_ + fn_)
    return {
        "accuracy": _ratio(tp_ + tn_, n),
        "precision": precision,
        "recall": recall,
        "false_positive_rate": _ratio(fp_, fp_ + tn_),
        "f1": _ratio(2 * precision * recall, precision + recall),
        "percent_predicted_positive": 100 * _ratio(tp_ + fp_, n),
        "percent_predicted_negative": 100 * _ratio(fn_ + tn_, n),
    }


def _scalar_metrics(tp: int, fp: int, fn: int, tn: int, threshold: float) -> dict[str, Any]:
    ratios = metrics_from_confusion(tp, fp, fn, tn)
    result: dict[str, Any] = {"threshold": float(threshold), "tp": tp, "tn": tn, "fp": fp, "fn": fn}
    result.update({name: float(ratios[name]) for name in METRIC_NAMES})
    return result


def threshold_metrics(scores: ArrayLike, labels: ArrayLike, threshold: float) -> dict[str, Any]:
    """Confusion counts and metrics when score >= threshold means "predicted 1".

    Percentages are 0-100; the other ratios 0-1; 0/0 is 0 (see the module docstring).

    >>> m = threshold_metrics([0.2, 0.6, 0.7, 0.4], [0, 1, 0, 1], 0.5)
    >>> m["tp"], m["fp"], m["fn"], m["tn"], m["precision"]
    (1, 1, 1, 1, 0.5)
    """
    s, y = _as_arrays(scores, labels)
    predicted = s >= threshold
    tp = int(np.count_nonzero(predicted & y))
    fp = int(np.count_nonzero(predicted & ~y))
    fn = int(np.count_nonzero(~predicted & y))
    tn = int(y.size - tp - fp - fn)
    return _scalar_metrics(tp, fp, fn, tn, threshold)


def threshold_table(
    scores: ArrayLike, labels: ArrayLike, steps: int = TABLE_STEPS
) -> dict[str, list[Any]]:
    """Every metric at thresholds 0, 1/steps, ..., 1, from one sort of each class's scores.

    Columns are lists of equal length (`thresholds`, `tp`, `fp`, `fn`, `tn` and the
    `METRIC_NAMES`), ready to be stored as JSON and indexed by the slider.

    >>> table = threshold_table([0.2, 0.6, 0.7, 0.4], [0, 1, 0, 1], steps=2)
    >>> table["thresholds"], table["tp"], table["fp"]
    ([0.0, 0.5, 1.0], [2, 1, 0], [2, 1, 0])
    """
    s, y = _as_arrays(scores, labels)
    thresholds = np.arange(steps + 1) / steps
    positives, negatives = np.sort(s[y]), np.sort(s[~y])
    # records with score >= t are those at or after the first position where t could be inserted
    tp = positives.size - np.searchsorted(positives, thresholds, side="left")
    fp = negatives.size - np.searchsorted(negatives, thresholds, side="left")
    return _table(thresholds, tp, fp, positives.size, negatives.size)


def _table(
    thresholds: FloatArray, tp: IntArray, fp: IntArray, n_pos: int, n_neg: int
) -> dict[str, list[Any]]:
    fn, tn = n_pos - tp, n_neg - fp
    ratios = metrics_from_confusion(tp, fp, fn, tn)
    table: dict[str, list[Any]] = {
        "thresholds": thresholds.tolist(),
        "tp": np.asarray(tp).tolist(),
        "fp": np.asarray(fp).tolist(),
        "fn": np.asarray(fn).tolist(),
        "tn": np.asarray(tn).tolist(),
    }
    table.update({name: ratios[name].tolist() for name in METRIC_NAMES})
    return table


def threshold_metrics_from_counts(counts: dict[str, Any], threshold: float) -> dict[str, Any]:
    """`threshold_metrics` read from stored `score_counts`, without the scores.

    Exact when the threshold is a bin edge (a multiple of 1/bins); otherwise the threshold is
    rounded up to the next edge, so the answer is off by at most the records of one bin.

    >>> counts = score_counts([0.2, 0.6, 0.7, 0.4], [0, 1, 0, 1], bins=10)
    >>> threshold_metrics_from_counts(counts, 0.5)["tp"]
    1
    """
    bins = int(counts["bins"])
    # bin `bins` holds the scores of 1, so a threshold of 1 (or above) reads just that bin
    first_bin = min(max(int(np.ceil(round(threshold * bins, 9))), 0), bins)
    positive = np.asarray(counts["positive"], dtype=np.int64)
    negative = np.asarray(counts["negative"], dtype=np.int64)
    tp, fp = int(positive[first_bin:].sum()), int(negative[first_bin:].sum())
    fn, tn = int(positive.sum()) - tp, int(negative.sum()) - fp
    return _scalar_metrics(tp, fp, fn, tn, threshold)


def binary_details(scores: ArrayLike, labels: ArrayLike, threshold: float = 0.5) -> dict[str, Any]:
    """Everything the evaluation pages show for a binary model, JSON-ready.

    >>> details = binary_details([0.2, 0.6, 0.7, 0.4], [0, 1, 0, 1])
    >>> details["auc"], details["threshold_metrics"]["accuracy"]
    (0.5, 0.5)
    """
    s, y = _as_arrays(scores, labels)
    counts = score_counts(s, y, COUNT_BINS)
    histograms = fold_counts(counts, HISTOGRAM_BINS)
    histograms["edges"] = (np.arange(HISTOGRAM_BINS + 1) / HISTOGRAM_BINS).tolist()
    return {
        "auc": binary_auc(s, y),
        "positive_count": int(y.sum()),
        "negative_count": int(y.size - y.sum()),
        "roc": roc_curve(s, y),
        "histograms": histograms,
        "score_counts": counts,
        "threshold_table": threshold_table(s, y),
        "score_threshold": float(threshold),
        "threshold_metrics": threshold_metrics(s, y, threshold),
    }

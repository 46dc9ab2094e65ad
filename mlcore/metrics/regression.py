"""Regression metrics (reference 7.1 and 7.5): RMSE, mean absolute error and the residual
histogram, where residual = true - predicted (positive means the model under-estimated).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

RESIDUAL_BINS = 50
MAX_SAMPLE_POINTS = 5_000
SAMPLE_SEED = 0

FloatArray = npt.NDArray[np.float64]


def _pair(true: npt.ArrayLike, predicted: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    t = np.asarray(true, dtype=np.float64).ravel()
    p = np.asarray(predicted, dtype=np.float64).ravel()
    if t.shape != p.shape:
        raise ValueError(f"{t.size} targets but {p.size} predictions")
    return t, p


def residuals(true: npt.ArrayLike, predicted: npt.ArrayLike) -> FloatArray:
    """true - predicted.

    >>> residuals([3.0, 1.0], [2.5, 2.0]).tolist()
    [0.5, -1.0]
    """
    t, p = _pair(true, predicted)
    return t - p


def rmse(true: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Root mean squared error (AML's `RegressionRMSE`); 0 for no records.

    >>> rmse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    1.1547005383792515
    """
    r = residuals(true, predicted)
    return float(np.sqrt(np.mean(r * r))) if r.size else 0.0


def mean_absolute_error(true: npt.ArrayLike, predicted: npt.ArrayLike) -> float:
    """Mean absolute error (an extra; AML shows only RMSE); 0 for no records.

    >>> mean_absolute_error([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    0.6666666666666666
    """
    r = residuals(true, predicted)
    return float(np.mean(np.abs(r))) if r.size else 0.0


def r_squared(true: npt.ArrayLike, predicted: npt.ArrayLike) -> float | None:
    """Coefficient of determination, 1 - SS_res / SS_tot; None (undefined) for a constant target
    or no records.

    >>> r_squared([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    >>> r_squared([2.0, 2.0], [1.0, 3.0]) is None
    True
    """
    t, p = _pair(true, predicted)
    if t.size == 0:
        return None
    total = float(np.sum((t - t.mean()) ** 2))
    if total == 0.0:
        return None
    return 1.0 - float(np.sum((t - p) ** 2)) / total


def residual_histogram(
    true: npt.ArrayLike, predicted: npt.ArrayLike, bins: int = RESIDUAL_BINS
) -> dict[str, Any]:
    """Counts of residuals in `bins` equal bins on a range symmetric about 0.

    Symmetric so that the console's zero line sits on a bin edge in the middle and a lopsided
    model is visible at a glance. With no spread at all the range is [-1, 1].

    >>> h = residual_histogram([1.0, 2.0, 3.0], [1.5, 2.0, 2.0], bins=4)
    >>> h["edges"], h["counts"]
    ([-1.0, -0.5, 0.0, 0.5, 1.0], [0, 1, 1, 1])
    """
    r = residuals(true, predicted)
    reach = float(np.max(np.abs(r))) if r.size else 0.0
    if reach == 0.0:
        reach = 1.0
    counts, edges = np.histogram(r, bins=bins, range=(-reach, reach))
    return {
        "edges": edges.tolist(),
        "counts": counts.tolist(),
        "mean": float(np.mean(r)) if r.size else 0.0,
        "std": float(np.std(r)) if r.size else 0.0,
    }


def regression_details(true: npt.ArrayLike, predicted: npt.ArrayLike) -> dict[str, Any]:
    """Everything the evaluation pages show for a regression model, JSON-ready.

    >>> regression_details([1.0, 3.0], [2.0, 2.0])["rmse"]
    1.0
    """
    t, p = _pair(true, predicted)
    return {
        "rmse": rmse(t, p),
        "mean_absolute_error": mean_absolute_error(t, p),
        "r2": r_squared(t, p),
        "residual_histogram": residual_histogram(t, p),
        "target_mean": float(np.mean(t)) if t.size else 0.0,
        "prediction_mean": float(np.mean(p)) if p.size else 0.0,
        "prediction_min": float(np.min(p)) if p.size else 0.0,
        "prediction_max": float(np.max(p)) if p.size else 0.0,
    }


@dataclass
class ReservoirSample:
    """A uniform sample of at most `size` (actual, predicted) pairs from a stream of chunks.

    Algorithm R: record i (0-based, counted over the whole stream) replaces a random slot with
    probability size / (i + 1). One random number is drawn per record past the first `size`,
    from a generator seeded once, so the sample depends on the records and their order only,
    never on how they were cut into chunks. Memory: `size` pairs.

    >>> sample = ReservoirSample(size=3)
    >>> sample.add([1.0, 2.0], [1.5, 2.5]); sample.add([3.0, 4.0, 5.0], [3.5, 4.5, 5.5])
    >>> sample.seen, len(sample.to_dict()["actual"])
    (5, 3)
    """

    size: int = MAX_SAMPLE_POINTS
    seed: int = SAMPLE_SEED
    seen: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._actual = np.empty(self.size, dtype=np.float64)
        self._predicted = np.empty(self.size, dtype=np.float64)

    def add(self, true: npt.ArrayLike, predicted: npt.ArrayLike) -> None:
        t, p = _pair(true, predicted)
        filling = max(0, min(t.size, self.size - self.seen))
        self._actual[self.seen : self.seen + filling] = t[:filling]
        self._predicted[self.seen : self.seen + filling] = p[:filling]
        rest = np.arange(filling, t.size)
        if rest.size:
            index = self.seen + rest  # the 0-based stream position of each remaining record
            slot = np.floor(self._rng.random(rest.size) * (index + 1)).astype(np.int64)
            keep = slot < self.size
            # a slot hit twice in one chunk keeps the later record, as one-by-one replacement does
            slots, rows = slot[keep][::-1], rest[keep][::-1]
            slots, first = np.unique(slots, return_index=True)
            self._actual[slots] = t[rows[first]]
            self._predicted[slots] = p[rows[first]]
        self.seen += t.size

    def to_dict(self) -> dict[str, Any]:
        n = min(self.seen, self.size)
        return {
            "actual": self._actual[:n].tolist(),
            "predicted": self._predicted[:n].tolist(),
            "records": self.seen,
            "seed": self.seed,
        }

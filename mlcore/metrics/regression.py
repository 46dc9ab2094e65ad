"""Regression metrics (reference 7.1 and 7.5): RMSE, mean absolute error and the residual
histogram, where residual = true - predicted (positive means the model under-estimated).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

RESIDUAL_BINS = 50

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
        "residual_histogram": residual_histogram(t, p),
        "target_mean": float(np.mean(t)) if t.size else 0.0,
        "prediction_mean": float(np.mean(p)) if p.size else 0.0,
        "prediction_min": float(np.min(p)) if p.size else 0.0,
        "prediction_max": float(np.max(p)) if p.size else 0.0,
    }

"""Histograms: 1000 equal-width bins in the statistics, folded on demand for the preview."""

from __future__ import annotations

from typing import Any

import numpy as np

HISTOGRAM_BINS = 1000
PREVIEW_BINS = (20, 50, 100, 200, 500)


def rebin(histogram: dict[str, Any], bins: int) -> dict[str, list[float] | list[int]]:
    """Fold a 1000-bin histogram (`{"min", "max", "counts"}`) into `bins` bins.

    `bins` must be one of 20, 50, 100, 200, 500 (AML's preview choices), else ValueError.
    Returns `{"edges": [bins + 1 numbers], "counts": [bins integers]}`; the counts keep their sum.

    >>> h = {"min": 0.0, "max": 10.0, "counts": [1] * 1000}
    >>> folded = rebin(h, 20)
    >>> folded["counts"][:2], folded["edges"][:3], sum(folded["counts"])
    ([50, 50], [0.0, 0.5, 1.0], 1000)
    """
    if bins not in PREVIEW_BINS:
        raise ValueError(f"bins must be one of {', '.join(map(str, PREVIEW_BINS))}, not {bins!r}")
    counts = np.asarray(histogram["counts"], dtype=np.int64)
    if len(counts) % bins:
        raise ValueError(f"a histogram of {len(counts)} bins cannot be folded into {bins}")
    folded = counts.reshape(bins, len(counts) // bins).sum(axis=1)
    edges = np.linspace(float(histogram["min"]), float(histogram["max"]), bins + 1)
    return {"edges": edges.tolist(), "counts": folded.tolist()}

"""Statistics of a NUMERIC attribute."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np

from mlcore.stats._base import Mergeable, json_number
from mlcore.stats.distinct import MAX_DISTINCT_VALUES, DistinctValueCounts
from mlcore.stats.histogram import HISTOGRAM_BINS
from mlcore.stats.moments import Moments


class NumericStats(Mergeable):
    """Count, missing, invalid, min, max, mean, stddev, exact median and a 1000-bin histogram.

    NaN means missing. Infinite values count as invalid (no finite statistic can use them).

    >>> s = NumericStats(); s.update(np.array([1.0, 5.0, np.nan, 3.0]))
    >>> d = s.to_dict(); (d["count"], d["missing"], d["median"], d["mean"])
    (3, 1, 3.0, 3.0)
    """

    def __init__(self, max_distinct: int = MAX_DISTINCT_VALUES) -> None:
        self.missing = 0
        self.invalid = 0
        self.minimum = math.inf
        self.maximum = -math.inf
        self.moments = Moments()
        self.distinct = DistinctValueCounts(max_distinct)

    @property
    def count(self) -> int:
        return self.moments.n

    def update(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        missing = np.isnan(values)
        finite = np.isfinite(values)
        self.missing += int(missing.sum())
        self.invalid += int(len(values) - missing.sum() - finite.sum())
        kept = values[finite]
        if len(kept) == 0:
            return
        self.minimum = min(self.minimum, float(kept.min()))
        self.maximum = max(self.maximum, float(kept.max()))
        self.moments.update(kept)
        self.distinct.update(kept)

    def add_invalid(self, count: int = 1) -> None:
        """Count values the reader rejected (they never reach `update`)."""
        self.invalid += count

    def merge(self, other: Self) -> Self:
        self.missing += other.missing
        self.invalid += other.invalid
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        self.moments.merge(other.moments)
        self.distinct.merge(other.distinct)
        return self

    def histogram(self) -> dict[str, Any] | None:
        """`{"min", "max", "counts": [1000 ints]}`, or None when there are no values."""
        if self.count == 0:
            return None
        counts = self.distinct.histogram_counts(self.minimum, self.maximum, HISTOGRAM_BINS)
        return {"min": self.minimum, "max": self.maximum, "counts": counts.tolist()}

    def to_dict(self) -> dict[str, Any]:
        empty = self.count == 0
        return {
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "min": None if empty else json_number(self.minimum),
            "max": None if empty else json_number(self.maximum),
            "mean": None if empty else json_number(self.moments.mean),
            "median": json_number(self.distinct.median()),
            "stddev": json_number(self.moments.stddev()),
            "histogram": self.histogram(),
            # true once the distinct-value map had to round values: median and histogram are
            # then approximate (to 5 significant digits); count/min/max/mean/stddev stay exact
            "approximate": self.distinct.approximate,
        }

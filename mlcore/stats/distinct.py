"""A bounded map from numeric value to count: exact medians and histograms in one pass.

Exact while at most `max_distinct` distinct values have been seen; past that, values are rounded to
5 significant digits (then 4, 3... if even that is too many) and `approximate` becomes True. Memory
is therefore bounded by `max_distinct` pairs, whatever the number of rows.
"""

from __future__ import annotations

from typing import Self

import numpy as np
import pandas as pd

from mlcore.stats._base import Mergeable

MAX_DISTINCT_VALUES = 200_000
FIRST_ROUNDING_DIGITS = 5


def round_significant(values: np.ndarray, digits: int) -> np.ndarray:
    """Round each value to `digits` significant digits (vectorised).

    >>> round_significant(np.array([123456.0, 0.0012345678, -9.87654, 0.0]), 3).tolist()
    [123000.0, 0.00123, -9.88, 0.0]
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        magnitude = np.floor(np.log10(np.abs(values)))
        scale = np.power(10.0, digits - 1 - magnitude)
        rounded = np.round(values * scale) / scale
    # zero, subnormals and overflowing scales keep their value
    return np.where(np.isfinite(rounded), rounded, values)


def merge_value_counts(
    values_a: np.ndarray, counts_a: np.ndarray, values_b: np.ndarray, counts_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Union of two value→count maps as sorted (values, counts) arrays.

    Both sides are usually sorted already, so a stable sort of the two runs back to back is
    close to a linear merge (5x faster than `np.unique` with its inverse on 200,000 values).
    """
    values = np.concatenate([values_a, values_b])
    counts = np.concatenate([counts_a, counts_b]).astype(np.int64)
    if len(values) == 0:
        return values.astype(np.float64), counts
    order = np.argsort(values, kind="stable")
    values, counts = values[order], counts[order]
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    return values[starts], np.add.reduceat(counts, starts)


def distinct_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`np.unique(values, return_counts=True)`, by hashing: a numeric column repeats its values
    (banking's 41,188 ages are 78 numbers), and hashing every value then sorting only the
    distinct ones is about 3x faster than sorting every value.

    >>> distinct_counts(np.array([3.0, 1.0, 3.0]))
    (array([1., 3.]), array([1, 2]))
    """
    codes, distinct = pd.factorize(values)
    counts = np.bincount(codes, minlength=len(distinct)).astype(np.int64)
    order = np.argsort(distinct)
    return np.asarray(distinct, dtype=np.float64)[order], counts[order]


class DistinctValueCounts(Mergeable):
    """Sorted distinct values with their counts, bounded to `max_distinct` entries.

    >>> d = DistinctValueCounts(); d.update(np.array([3.0, 1.0, 3.0, 2.0]))
    >>> d.values.tolist(), d.counts.tolist(), d.median()
    ([1.0, 2.0, 3.0], [1, 1, 2], 2.5)
    """

    def __init__(self, max_distinct: int = MAX_DISTINCT_VALUES) -> None:
        self.max_distinct = max_distinct
        self.values = np.empty(0, dtype=np.float64)
        self.counts = np.empty(0, dtype=np.int64)
        self.digits: int | None = None  # None while exact

    @property
    def approximate(self) -> bool:
        return self.digits is not None

    @property
    def total(self) -> int:
        return int(self.counts.sum())

    def update(self, values: np.ndarray) -> None:
        """Add finite values."""
        if len(values) == 0:
            return
        if self.digits is not None:
            values = round_significant(values, self.digits)
        unique, counts = distinct_counts(values)
        self._absorb(unique, counts, None)

    def merge(self, other: Self) -> Self:
        self._absorb(other.values, other.counts, other.digits)
        return self

    def _absorb(self, values: np.ndarray, counts: np.ndarray, digits: int | None) -> None:
        self.digits = _coarser(self.digits, digits)
        if self.digits is not None:
            # both sides must share the same rounding so equal values meet
            self.values = round_significant(self.values, self.digits)
            values = round_significant(values, self.digits)
        self.values, self.counts = merge_value_counts(self.values, self.counts, values, counts)
        self._stay_bounded()

    def _stay_bounded(self) -> None:
        while len(self.values) > self.max_distinct:
            self.digits = FIRST_ROUNDING_DIGITS if self.digits is None else self.digits - 1
            if self.digits < 1:
                raise RuntimeError("cannot bound the distinct values")  # pragma: no cover
            rounded = round_significant(self.values, self.digits)
            self.values, self.counts = merge_value_counts(
                rounded, self.counts, np.empty(0), np.empty(0, dtype=np.int64)
            )

    def median(self) -> float | None:
        """The exact median of everything added (the mean of the two middle values if even)."""
        total = self.total
        if total == 0:
            return None
        cumulative = np.cumsum(self.counts)
        lower = self.values[np.searchsorted(cumulative, (total - 1) // 2, side="right")]
        upper = self.values[np.searchsorted(cumulative, total // 2, side="right")]
        return float((lower + upper) / 2.0)

    def histogram_counts(self, low: float, high: float, bins: int) -> np.ndarray:
        """Counts in `bins` equal-width bins over [low, high]; the last bin includes `high`."""
        if len(self.values) == 0:
            return np.zeros(bins, dtype=np.int64)
        if high <= low:
            index = np.zeros(len(self.values), dtype=np.int64)
        else:
            position = (self.values - low) / (high - low) * bins
            index = np.clip(np.floor(position), 0, bins - 1).astype(np.int64)
        return np.bincount(index, weights=self.counts, minlength=bins).round().astype(np.int64)


def _coarser(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)

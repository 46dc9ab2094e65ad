"""Correlation to the target, as a strength in [0, 1] (docs/statistics-format.md).

* numeric or binary attribute, numeric or binary target: |Pearson r| (`PearsonCorrelation`);
* categorical attribute, numeric or binary target: correlation ratio eta, groups = the attribute's
  values (`CorrelationRatio`);
* numeric attribute, categorical target: eta, groups = the target's classes (`CorrelationRatio`);
* categorical or binary attribute, categorical target: Cramér's V (`CramersV`);
* text: computed per frequent word inside `TextStats`.

Every accumulator takes `(attribute_values, target_values)` chunks of equal length, ignores pairs
with a missing side, and merges with `+=`.
"""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np
import pandas as pd

from mlcore.schema.model import AttributeType
from mlcore.stats._base import Mergeable
from mlcore.stats.categorical import as_strings
from mlcore.stats.moments import (
    CoMoments,
    chunk_groups,
    collapse_groups,
    empty_groups,
    merge_groups,
)

MAX_GROUPS = 10_000
MAX_TABLE_ROWS = 5_000
MAX_TABLE_COLUMNS = 100
OTHER = "\x00other"  # cannot collide with a CSV value: the reader never yields NUL


def binary_as_strings(values: np.ndarray) -> np.ndarray:
    """0.0/1.0/NaN → "0"/"1"/None, so binary attributes can join a contingency table."""
    values = np.asarray(values, dtype=np.float64)
    out = np.where(values == 1.0, "1", "0").astype(object)
    out[np.isnan(values)] = None
    return out


def numeric_pairs(x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    both = np.isfinite(x) & np.isfinite(y)
    return x[both], y[both]


class PearsonCorrelation(Mergeable):
    """|Pearson r| between two numeric columns.

    >>> p = PearsonCorrelation(); p.update(np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0]))
    >>> p.value()
    1.0
    """

    def __init__(self) -> None:
        self.moments = CoMoments()

    def update(self, attribute: Any, target: Any) -> None:
        self.moments.update(*numeric_pairs(attribute, target))

    def merge(self, other: Self) -> Self:
        self.moments.merge(other.moments)
        return self

    def value(self) -> float | None:
        r = self.moments.pearson()
        return abs(r) if r is not None else None


class CorrelationRatio(Mergeable):
    """Eta: sqrt(between-group sum of squares / total sum of squares).

    `update(keys, values)`: keys are strings (missing = None/NaN/""), values floats (NaN = missing).
    Groups beyond `max_groups` are folded into one (eta is then a slight underestimate).

    >>> e = CorrelationRatio(); e.update(["a", "a", "b", "b"], [1.0, 1.0, 3.0, 3.0])
    >>> e.value()
    1.0
    """

    def __init__(self, max_groups: int = MAX_GROUPS) -> None:
        self.max_groups = max_groups
        self.groups = empty_groups()
        self.approximate = False

    def update(self, keys: Any, values: Any) -> None:
        key_series, missing = as_strings(keys)
        values = np.asarray(values, dtype=np.float64)
        usable = ~missing & np.isfinite(values)
        if not usable.any():
            return
        chunk = chunk_groups(key_series[usable].astype(str).to_numpy(), values[usable])
        self._absorb(chunk)

    def merge(self, other: Self) -> Self:
        self.approximate |= other.approximate
        self._absorb(other.groups)
        return self

    def _absorb(self, groups: pd.DataFrame) -> None:
        merged = merge_groups(self.groups, groups)
        if len(merged) > self.max_groups + 1:
            merged = collapse_groups(merged, self.max_groups, OTHER)
            self.approximate = True
        self.groups = merged

    def value(self) -> float | None:
        g = self.groups
        n = float(g["n"].sum())
        if n == 0:
            return None
        grand_mean = float((g["n"] * g["mean"]).sum() / n)
        between = float((g["n"] * np.square(g["mean"] - grand_mean)).sum())
        total = between + float(g["m2"].sum())
        if total <= 0.0:
            return 0.0
        return min(1.0, math.sqrt(between / total))


class ContingencyTable(Mergeable):
    """Counts of (row value, column value) pairs, capped in both directions.

    Rows beyond `max_rows` (least frequent first) fold into one "other" row, and likewise columns,
    so memory stays bounded; the flag `approximate` says so.
    """

    def __init__(self, max_rows: int = MAX_TABLE_ROWS, max_columns: int = MAX_TABLE_COLUMNS):
        self.max_rows = max_rows
        self.max_columns = max_columns
        self.table = pd.DataFrame(dtype="int64")
        self.approximate = False

    def update(self, rows: Any, columns: Any) -> None:
        row_series, row_missing = as_strings(rows)
        column_series, column_missing = as_strings(columns)
        usable = ~row_missing & ~column_missing
        if not usable.any():
            return
        pairs = pd.DataFrame(
            {"r": row_series[usable].astype(str), "c": column_series[usable].astype(str)}
        )
        chunk = pairs.groupby(["r", "c"], sort=False).size().unstack(fill_value=0)
        self._absorb(chunk)

    def merge(self, other: Self) -> Self:
        self.approximate |= other.approximate
        self._absorb(other.table)
        return self

    def _absorb(self, chunk: pd.DataFrame) -> None:
        merged = self.table.add(chunk, fill_value=0) if not self.table.empty else chunk
        merged = merged.fillna(0).astype("int64")
        if len(merged.index) > self.max_rows + 1:
            merged = fold_rows(merged, self.max_rows)
            self.approximate = True
        if len(merged.columns) > self.max_columns + 1:
            merged = fold_rows(merged.T, self.max_columns).T
            self.approximate = True
        merged.index.name = None
        merged.columns.name = None
        self.table = merged


def fold_rows(table: pd.DataFrame, keep: int) -> pd.DataFrame:
    """Keep the `keep` rows with the largest totals; sum the others into the OTHER row."""
    totals = table.drop(index=OTHER, errors="ignore").sum(axis=1)
    kept = totals.sort_values(ascending=False, kind="stable").index[:keep]
    other = table.drop(index=kept).sum(axis=0).rename(OTHER)
    return pd.concat([table.loc[kept], other.to_frame().T])


def cramers_v(table: np.ndarray) -> float | None:
    """Cramér's V of a contingency table (rows × columns of counts); 0.0 if a side is constant.

    >>> cramers_v(np.array([[10, 0], [0, 10]]))
    1.0
    """
    table = np.asarray(table, dtype=np.float64)
    if table.size == 0:
        return None
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = table.sum()
    if n == 0:
        return None
    rows, columns = table.shape
    if min(rows, columns) < 2:
        return 0.0
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    chi2 = float((np.square(table - expected) / expected).sum())
    return min(1.0, math.sqrt(chi2 / (n * (min(rows, columns) - 1))))


class CramersV(Mergeable):
    """Cramér's V between two categorical columns.

    >>> v = CramersV(); v.update(["a", "a", "b", "b"], ["x", "x", "y", "y"])
    >>> v.value()
    1.0
    """

    def __init__(self) -> None:
        self.contingency = ContingencyTable()

    def update(self, attribute: Any, target: Any) -> None:
        self.contingency.update(attribute, target)

    def merge(self, other: Self) -> Self:
        self.contingency.merge(other.contingency)
        return self

    def value(self) -> float | None:
        return cramers_v(self.contingency.table.to_numpy())


class TargetAsGroups(Mergeable):
    """Eta of a numeric attribute against a categorical target: the classes are the groups."""

    def __init__(self) -> None:
        self.ratio = CorrelationRatio()

    def update(self, attribute: Any, target: Any) -> None:
        self.ratio.update(target, attribute)

    def merge(self, other: Self) -> Self:
        self.ratio.merge(other.ratio)
        return self

    def value(self) -> float | None:
        return self.ratio.value()


class BinaryAgainstClasses(Mergeable):
    """Cramér's V of a binary attribute (0/1 floats) against a categorical target."""

    def __init__(self) -> None:
        self.cramer = CramersV()

    def update(self, attribute: Any, target: Any) -> None:
        self.cramer.update(binary_as_strings(attribute), target)

    def merge(self, other: Self) -> Self:
        self.cramer.merge(other.cramer)
        return self

    def value(self) -> float | None:
        return self.cramer.value()


Correlation = (
    PearsonCorrelation | CorrelationRatio | TargetAsGroups | CramersV | BinaryAgainstClasses
)

NUMERIC_LIKE = (AttributeType.NUMERIC, AttributeType.BINARY)


def correlation_for(attribute: AttributeType, target: AttributeType) -> Correlation | None:
    """The accumulator for this pair of types (None for text, handled by TextStats, or no rule).

    >>> type(correlation_for(AttributeType.CATEGORICAL, AttributeType.BINARY)).__name__
    'CorrelationRatio'
    """
    if target in NUMERIC_LIKE:
        if attribute in NUMERIC_LIKE:
            return PearsonCorrelation()
        if attribute is AttributeType.CATEGORICAL:
            return CorrelationRatio()
    elif target is AttributeType.CATEGORICAL:
        if attribute is AttributeType.NUMERIC:
            return TargetAsGroups()
        if attribute is AttributeType.BINARY:
            return BinaryAgainstClasses()
        if attribute is AttributeType.CATEGORICAL:
            return CramersV()
    return None

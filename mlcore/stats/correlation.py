"""Correlation to the target, as a strength in [0, 1] (docs/statistics-format.md).

* numeric or binary attribute, numeric or binary target: |Pearson r| (`PearsonCorrelation`);
* categorical attribute, numeric or binary target: correlation ratio eta, groups = the attribute's
  values (`CorrelationRatio`);
* numeric attribute, categorical target: eta, groups = the target's classes (`CorrelationRatio`);
* categorical or binary attribute, categorical target: Cramér's V (`CramersV`);
* text: computed per frequent word inside `TextStats`.

Eta and Cramér's V are bias-corrected (epsilon-squared for eta; Bergsma's correction for V). The
plain formulas reward many distinct values: an identifier with a different value in every row has
eta = V = 1 against any target, which would rank it first on the insights page. Corrected, it gets
0; an attribute with few values on many rows keeps practically its plain figure.

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
from mlcore.stats.categorical import as_strings, category_codes, first_seen_codes
from mlcore.stats.moments import (
    CoMoments,
    chunk_groups,
    coded_groups,
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


def binary_as_categories(values: np.ndarray) -> pd.Categorical:
    """`binary_as_strings` as a Categorical of "0"/"1" (NaN missing): codes, not strings."""
    values = np.asarray(values, dtype=np.float64)
    codes = np.where(np.isnan(values), -1, values == 1.0).astype(np.int64)
    return pd.Categorical.from_codes(codes, categories=pd.Index(["0", "1"], dtype=object))


def coded_strings(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1 = missing) and string labels: a Categorical's own, else by factorizing."""
    coded = category_codes(values)
    if coded is not None:
        return coded
    series, missing = as_strings(values)
    codes, labels = pd.factorize(series.astype(str))
    codes = codes.astype(np.int64)
    codes[missing] = -1
    return codes, np.asarray(labels, dtype=object)


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
        coded = category_codes(keys)
        if coded is not None:
            self._update_codes(*coded, np.asarray(values, dtype=np.float64))
            return
        key_series, missing = as_strings(keys)
        values = np.asarray(values, dtype=np.float64)
        usable = ~missing & np.isfinite(values)
        if not usable.any():
            return
        chunk = chunk_groups(key_series[usable].astype(str).to_numpy(), values[usable])
        self._absorb(chunk)

    def _update_codes(self, codes: np.ndarray, labels: np.ndarray, values: np.ndarray) -> None:
        usable = (codes >= 0) & np.isfinite(values)
        if usable.any():
            self._absorb(coded_groups(codes[usable], labels, values[usable]))

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
        within = float(g["m2"].sum())
        return corrected_eta(between, within, n=n, groups=len(g))


class ContingencyTable(Mergeable):
    """Counts of (row value, column value) pairs, capped in both directions.

    Kept as two label indexes and a dense count matrix, so a chunk costs two factorizations and a
    bincount (no pandas alignment). Rows beyond `max_rows` (least frequent first) fold into one
    OTHER row, and likewise columns, so memory stays bounded; `approximate` then says so.

    >>> t = ContingencyTable(); t.update(["a", "a", "b"], ["x", "y", "x"])
    >>> t.table.to_dict()
    {'x': {'a': 1, 'b': 1}, 'y': {'a': 1, 'b': 0}}
    """

    def __init__(self, max_rows: int = MAX_TABLE_ROWS, max_columns: int = MAX_TABLE_COLUMNS):
        self.max_rows = max_rows
        self.max_columns = max_columns
        self.rows = pd.Index([], dtype=object)
        self.columns = pd.Index([], dtype=object)
        self.counts = np.zeros((0, 0), dtype=np.int64)
        self.approximate = False

    @property
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.counts, index=self.rows, columns=self.columns)

    def update(self, rows: Any, columns: Any) -> None:
        row_codes, row_labels = coded_strings(rows)
        column_codes, column_labels = coded_strings(columns)
        usable = (row_codes >= 0) & (column_codes >= 0)
        if not usable.any():
            return
        # labels in order of first appearance among the usable pairs, as factorizing them gives
        row_dense, row_seen = first_seen_codes(row_codes[usable])
        column_dense, column_seen = first_seen_codes(column_codes[usable])
        width = len(column_seen)
        counts = np.bincount(row_dense * width + column_dense, minlength=len(row_seen) * width)
        self._absorb(
            pd.Index(row_labels[row_seen], dtype=object),
            pd.Index(column_labels[column_seen], dtype=object),
            counts.reshape(len(row_seen), width),
        )

    def merge(self, other: Self) -> Self:
        self.approximate |= other.approximate
        self._absorb(other.rows, other.columns, other.counts)
        return self

    def _absorb(self, rows: pd.Index, columns: pd.Index, counts: np.ndarray) -> None:
        # new labels go at the end, in their order; the matrix is only regrown when there are any
        self.rows, row_at = _with_new_labels(self.rows, rows)
        self.columns, column_at = _with_new_labels(self.columns, columns)
        if self.counts.shape != (len(self.rows), len(self.columns)):
            grown = np.zeros((len(self.rows), len(self.columns)), dtype=np.int64)
            grown[: self.counts.shape[0], : self.counts.shape[1]] = self.counts
            self.counts = grown
        # labels are unique on both sides, so this fancy-indexed add never collides
        self.counts[np.ix_(row_at, column_at)] += counts
        if len(self.rows) > self.max_rows + 1:
            self.rows, self.counts = fold(self.rows, self.counts, self.max_rows)
            self.approximate = True
        if len(self.columns) > self.max_columns + 1:
            self.columns, folded = fold(self.columns, self.counts.T, self.max_columns)
            self.counts = np.ascontiguousarray(folded.T)
            self.approximate = True


def _with_new_labels(labels: pd.Index, more: pd.Index) -> tuple[pd.Index, np.ndarray]:
    """`labels` followed by those of `more` it lacks, and where each of `more` now sits."""
    position = labels.get_indexer(more)
    new = position < 0
    if new.any():
        position[new] = len(labels) + np.arange(int(new.sum()))
        labels = labels.append(more[new])
    return labels, position


def fold(labels: pd.Index, counts: np.ndarray, keep: int) -> tuple[pd.Index, np.ndarray]:
    """Keep the `keep` rows with the largest totals; sum the others into an OTHER row."""
    totals = counts.sum(axis=1)
    is_other = np.asarray(labels == OTHER)
    ranked = np.argsort(np.where(is_other, 1, -totals), kind="stable")  # OTHER never kept
    kept = np.sort(ranked[:keep])
    rest = np.setdiff1d(np.arange(len(labels)), kept)
    other_row = counts[rest].sum(axis=0, keepdims=True)
    return labels[kept].append(pd.Index([OTHER], dtype=object)), np.vstack(
        [counts[kept], other_row]
    )


def corrected_eta(between: float, within: float, *, n: float, groups: int) -> float:
    """sqrt(epsilon-squared): eta with the between-groups sum of squares' chance part removed.

    epsilon² = 1 − (SS_within / (n − k)) / (SS_total / (n − 1)), floored at 0; with as many groups as
    rows (n − k = 0) nothing is left to judge the groups by, so it is 0.

    >>> corrected_eta(8.0, 0.0, n=4, groups=2), corrected_eta(4.0, 0.0, n=4, groups=4)
    (1.0, 0.0)
    """
    total = between + within
    if total <= 0.0 or n - groups <= 0:
        return 0.0
    epsilon_squared = 1.0 - (within / (n - groups)) / (total / (n - 1))
    return min(1.0, math.sqrt(max(0.0, epsilon_squared)))


def cramers_v(table: np.ndarray) -> float | None:
    """Bias-corrected Cramér's V of a contingency table (rows × columns of counts).

    Bergsma (2013): phi² loses its expectation under independence, (r−1)(k−1)/(n−1), and the
    table's sides shrink the same way. 0.0 if a side is constant.

    >>> cramers_v(np.array([[10, 0], [0, 10]]))
    1.0
    >>> cramers_v(np.eye(6, dtype=int))  # every row its own value: nothing learnt
    0.0
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
    phi2 = max(0.0, chi2 / n - (rows - 1) * (columns - 1) / (n - 1))
    rows_corrected = rows - (rows - 1) ** 2 / (n - 1)
    columns_corrected = columns - (columns - 1) ** 2 / (n - 1)
    scale = min(rows_corrected, columns_corrected) - 1
    if scale <= 0:
        return 0.0
    return min(1.0, math.sqrt(phi2 / scale))


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
        return cramers_v(self.contingency.counts)


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
        self.cramer.update(binary_as_categories(attribute), target)

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

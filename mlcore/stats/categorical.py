"""Statistics of a CATEGORICAL attribute, and the capped value counter it rests on."""

from __future__ import annotations

from typing import Any, Self

import numpy as np
import pandas as pd

from mlcore.stats._base import Mergeable

MAX_TRACKED_CATEGORIES = 100_000
TOP_VALUES = 10
LEAST_FREQUENT_VALUES = 5


def as_strings(values: Any) -> tuple[pd.Series, np.ndarray]:
    """The values as an object Series with a positional index, and the mask of missing ones.

    Missing is None, NaN or the empty string (what the reader hands over for an empty field).
    """
    array = np.asarray(values, dtype=object)
    # numpy's object comparisons are much cheaper than pandas' string-aware ones
    missing = pd.isna(array) | (array == "")
    return pd.Series(array, dtype=object, copy=False), np.asarray(missing, dtype=bool)


def category_codes(values: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """A string Categorical's codes (-1 = missing, "" included) and its labels; else None.

    Training's reader (`TypedReader(categories=True)`) hands CATEGORICAL columns over as
    Categoricals, so counting and grouping can work on small integer codes instead of hashing
    one string per record. Anything else (object arrays, non-string categories, whose `str()`
    forms could merge) returns None and takes the general path.
    """
    if not isinstance(values, pd.Categorical):
        return None
    categories = values.categories
    if pd.api.types.infer_dtype(categories, skipna=False) not in ("string", "empty"):
        return None
    labels = np.asarray(categories, dtype=object)
    codes = values.codes.astype(np.int64)
    empty = np.flatnonzero(labels == "")
    if empty.size:
        codes[codes == empty[0]] = -1  # categories are unique: at most one ""
    return codes, labels


def first_seen_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Renumber codes 0, 1, ... in order of first appearance: (dense codes, original codes).

    The general path's `value_counts(sort=False)`, `groupby(sort=False)` and `factorize` all
    list values in order of first appearance; keeping that order keeps every tie-break (caps,
    folding) the same. Hashing integers is cheap next to hashing strings.
    """
    dense, original = pd.factorize(codes)
    return dense.astype(np.int64), np.asarray(original, dtype=np.int64)


def ranked(counts: pd.Series, ascending: bool = False) -> pd.Series:
    """Counts ordered by count (then by value, so ties come out the same every time)."""
    values = np.asarray(counts.index, dtype=object).astype(str)
    numbers = counts.to_numpy(dtype=np.int64)
    order = np.lexsort((values, numbers if ascending else -numbers))
    return pd.Series(numbers[order], index=pd.Index(values[order], dtype=object))


class CappedCounts(Mergeable):
    """Value → count for at most `cap` values; the rest are counted in `overflow`.

    When more than `cap` distinct values are seen the least frequent are dropped (their counts move
    to `overflow`) and `approximate` becomes True.

    >>> c = CappedCounts(); c.update(pd.Series(["a", "b", "a"]))
    >>> c.counts.to_dict()
    {'a': 2, 'b': 1}
    """

    def __init__(self, cap: int = MAX_TRACKED_CATEGORIES) -> None:
        self.cap = cap
        self.counts = pd.Series(dtype="int64")
        self.overflow = 0
        self.approximate = False

    def update(self, values: pd.Series) -> None:
        """Add non-missing string values."""
        if len(values) == 0:
            return
        self._absorb(values.value_counts(sort=False))

    def update_codes(self, codes: np.ndarray, labels: np.ndarray) -> None:
        """Add present values given as codes into `labels` (`update`'s result, by bincount)."""
        if len(codes) == 0:
            return
        dense, seen = first_seen_codes(codes)
        counts = np.bincount(dense, minlength=len(seen)).astype(np.int64)
        self._absorb(pd.Series(counts, index=pd.Index(labels[seen], dtype=object)))

    def merge(self, other: Self) -> Self:
        self.overflow += other.overflow
        self.approximate |= other.approximate
        self._absorb(other.counts)
        return self

    def _absorb(self, counts: pd.Series) -> None:
        if self.counts.empty:
            merged = counts.astype("int64")
        else:
            merged = _added_in_place(self.counts, counts)
            if merged is None:
                merged = self.counts.add(counts, fill_value=0).astype("int64")
        if len(merged) > self.cap:
            merged = merged.sort_values(ascending=False, kind="stable")
            self.overflow += int(merged.iloc[self.cap :].sum())
            merged = merged.iloc[: self.cap]
            self.approximate = True
        merged.index.name = None
        merged.name = None
        self.counts = merged


def _added_in_place(counts: pd.Series, more: pd.Series) -> pd.Series | None:
    """`counts.add(more, fill_value=0)` by position when `more` brings no new value and
    `counts` is sorted (pandas' sorted union is then `counts`' own index, so the order and every
    later tie-break stay the same); None otherwise. The usual case after the first chunk: no
    index alignment, no float round trip."""
    if not counts.index.is_monotonic_increasing:
        return None
    position = counts.index.get_indexer(more.index)
    if (position < 0).any():
        return None
    summed = counts.to_numpy(dtype=np.int64, copy=True)
    summed[position] += more.to_numpy(dtype=np.int64)  # labels are unique: no collisions
    return pd.Series(summed, index=counts.index)


class CategoricalStats(Mergeable):
    """Count, missing, unique count, top 10 values, other count, most and least frequent.

    >>> s = CategoricalStats(); s.update(["a", "b", "a", "", None])
    >>> d = s.to_dict(); (d["count"], d["missing"], d["uniqueCount"], d["mostFrequent"])
    (3, 2, 2, 'a')
    """

    def __init__(self, cap: int = MAX_TRACKED_CATEGORIES) -> None:
        self.count = 0
        self.missing = 0
        self.invalid = 0
        self.values = CappedCounts(cap)

    def update(self, values: Any) -> None:
        coded = category_codes(values)
        if coded is not None:
            self._update_codes(*coded)
            return
        series, missing = as_strings(values)
        self.missing += int(missing.sum())
        self.count += int((~missing).sum())
        self.values.update(series[~missing].astype(str))

    def _update_codes(self, codes: np.ndarray, labels: np.ndarray) -> None:
        present = codes[codes >= 0]
        self.missing += len(codes) - len(present)
        self.count += len(present)
        self.values.update_codes(present, labels)

    def add_invalid(self, count: int = 1) -> None:
        self.invalid += count

    def merge(self, other: Self) -> Self:
        self.count += other.count
        self.missing += other.missing
        self.invalid += other.invalid
        self.values.merge(other.values)
        return self

    def distribution(self) -> list[dict[str, Any]]:
        """Every tracked value with its count, most frequent first (a categorical target's chart)."""
        return [{"value": v, "count": int(c)} for v, c in ranked(self.values.counts).items()]

    def to_dict(self) -> dict[str, Any]:
        by_count = ranked(self.values.counts)
        top = by_count.iloc[:TOP_VALUES]
        least = ranked(self.values.counts, ascending=True).iloc[:LEAST_FREQUENT_VALUES]
        return {
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "uniqueCount": len(by_count),
            "top": [{"value": v, "count": int(c)} for v, c in top.items()],
            "otherCount": self.count - int(top.sum()),
            "mostFrequent": str(by_count.index[0]) if len(by_count) else None,
            "leastFrequent": [{"value": v, "count": int(c)} for v, c in least.items()],
            # true once more than MAX_TRACKED_CATEGORIES distinct values were seen: uniqueCount is
            # then a lower bound and leastFrequent only covers the values still tracked
            "approximate": self.values.approximate,
        }

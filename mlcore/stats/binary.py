"""Statistics of a BINARY attribute."""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from mlcore.stats._base import Mergeable, percent


class BinaryStats(Mergeable):
    """Count of values, true count, percent true, missing and invalid.

    Values arrive as float64 1.0 / 0.0, NaN for missing.

    >>> s = BinaryStats(); s.update(np.array([1.0, 0.0, 0.0, np.nan]))
    >>> d = s.to_dict(); (d["count"], d["trueCount"], round(d["percentTrue"], 2), d["missing"])
    (3, 1, 33.33, 1)
    """

    def __init__(self) -> None:
        self.count = 0
        self.true_count = 0
        self.missing = 0
        self.invalid = 0

    def update(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=np.float64)
        missing = np.isnan(values)
        present = values[~missing]
        valid = (present == 0.0) | (present == 1.0)
        self.missing += int(missing.sum())
        self.invalid += int((~valid).sum())
        self.count += int(valid.sum())
        self.true_count += int((present == 1.0).sum())

    def add_invalid(self, count: int = 1) -> None:
        """Count values the reader rejected (they never reach `update`)."""
        self.invalid += count

    def merge(self, other: Self) -> Self:
        self.count += other.count
        self.true_count += other.true_count
        self.missing += other.missing
        self.invalid += other.invalid
        return self

    def distribution(self) -> list[dict[str, Any]]:
        """Counts of "0" and "1", for the target's bar chart."""
        return [
            {"value": "0", "count": self.count - self.true_count},
            {"value": "1", "count": self.true_count},
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "missing": self.missing,
            "invalid": self.invalid,
            "trueCount": self.true_count,
            "percentTrue": percent(self.true_count, self.count),
        }

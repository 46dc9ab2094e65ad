"""`DatasetStatistics`: one accumulator per attribute plus its correlation to the target."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

import numpy as np
import pandas as pd

from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.stats._base import Mergeable, json_number
from mlcore.stats.binary import BinaryStats
from mlcore.stats.categorical import CategoricalStats
from mlcore.stats.correlation import Correlation, correlation_for
from mlcore.stats.numeric import NumericStats
from mlcore.stats.text import TextStats

STATISTICS_VERSION = 1

AttributeStats = NumericStats | BinaryStats | CategoricalStats | TextStats


def stats_for(attribute: Attribute, target_type: AttributeType | None) -> AttributeStats:
    """A fresh accumulator for the attribute's type (text needs the target's type up front)."""
    if attribute.type is AttributeType.NUMERIC:
        return NumericStats()
    if attribute.type is AttributeType.BINARY:
        return BinaryStats()
    if attribute.type is AttributeType.CATEGORICAL:
        return CategoricalStats()
    return TextStats(target_type)


def column_values(frame: pd.DataFrame, name: str) -> np.ndarray | pd.Categorical:
    """A column as a numpy array, or as its Categorical (the accumulators count its codes;
    `to_numpy()` would build one string object per record)."""
    column = frame[name]
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array  # type: ignore[return-value]
    return column.to_numpy()


class DatasetStatistics(Mergeable):
    """The statistics of a whole datasource, filled chunk by chunk.

    `update(frame)` takes a typed chunk: NUMERIC/BINARY columns float64 (NaN = missing), CATEGORICAL
    and TEXT columns strings ("" or None = missing); a CATEGORICAL column may also be a pandas
    Categorical of those strings (what `TypedReader(categories=True)` gives), counted by its codes. `invalid` optionally maps a column to a boolean
    mask of values that were present but not valid for the type: they count as that attribute's
    invalid values and are left out of its figures, while the record still counts for the others.
    Values the reader already dropped can be counted with `add_invalid(column)`.

    >>> from mlcore.schema.model import Attribute, AttributeType, Schema
    >>> schema = Schema([Attribute("x", AttributeType.NUMERIC), Attribute("y", AttributeType.BINARY)], target="y")
    >>> stats = DatasetStatistics(schema)
    >>> stats.update(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.0, 0.0, 1.0, 1.0]}))
    >>> result = stats.result()
    >>> result["recordCount"], result["target"]["distribution"][1], round(result["attributes"][0]["correlation"], 3)
    (4, {'value': '1', 'count': 2}, 0.894)
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        target = schema.target_attribute
        self.target: Attribute | None = target
        target_type = target.type if target else None
        self.attributes: dict[str, AttributeStats] = {
            a.name: stats_for(a, target_type if a != target else None) for a in schema.attributes
        }
        self.correlations: dict[str, Correlation] = {}
        if target is not None:
            for a in schema.attributes:
                accumulator = correlation_for(a.type, target.type) if a != target else None
                if accumulator is not None:
                    self.correlations[a.name] = accumulator
        self.record_count = 0

    def update(self, frame: pd.DataFrame, invalid: Mapping[str, np.ndarray] | None = None) -> None:
        invalid = invalid or {}
        self.record_count += len(frame)
        target = self._target_values(frame, invalid)
        for attribute in self.schema.attributes:
            values = column_values(frame, attribute.name)
            bad = invalid.get(attribute.name)
            paired_target = target
            if bad is not None and bad.any():
                self.attributes[attribute.name].add_invalid(int(bad.sum()))
                values = values[~bad]
                paired_target = target[~bad] if target is not None else None
            self._update_attribute(attribute, values, paired_target)

    def _target_values(
        self, frame: pd.DataFrame, invalid: Mapping[str, np.ndarray]
    ) -> np.ndarray | None:
        """The target column, with invalid values blanked so correlations skip them."""
        if self.target is None:
            return None
        values = column_values(frame, self.target.name)
        bad = invalid.get(self.target.name)
        if bad is None or not bad.any():
            return values
        values = np.array(values, dtype=object if isinstance(values, pd.Categorical) else None)
        values[bad] = (
            np.nan if self.target.type in (AttributeType.NUMERIC, AttributeType.BINARY) else ""
        )
        return values

    def _update_attribute(
        self, attribute: Attribute, values: np.ndarray, target: np.ndarray | None
    ) -> None:
        stats = self.attributes[attribute.name]
        if isinstance(stats, TextStats):
            stats.update(values, target if attribute != self.target else None)
        else:
            stats.update(values)
        correlation = self.correlations.get(attribute.name)
        if correlation is not None and target is not None:
            correlation.update(values, target)

    def add_invalid(self, column: str, count: int = 1) -> None:
        """Count invalid values of `column` that never reached `update` (e.g. a skipped record)."""
        self.attributes[column].add_invalid(count)

    def merge(self, other: Self) -> Self:
        self.record_count += other.record_count
        for name, stats in self.attributes.items():
            stats += other.attributes[name]  # type: ignore[operator]
        for name, correlation in self.correlations.items():
            correlation += other.correlations[name]  # type: ignore[operator]
        return self

    def result(self, records_read: int | None = None, invalid_count: int = 0) -> dict[str, Any]:
        """The statistics JSON (docs/statistics-format.md).

        `records_read` defaults to the records seen by `update` plus `invalid_count` (records the
        reader rejected as a whole).
        """
        return {
            "version": STATISTICS_VERSION,
            "recordsRead": self.record_count + invalid_count
            if records_read is None
            else records_read,
            "recordCount": self.record_count,
            "invalidRecordCount": invalid_count,
            "targetAttributeName": self.target.name if self.target else None,
            "target": self._target_summary(),
            "attributes": [self._attribute_summary(a) for a in self.schema.attributes],
        }

    def _attribute_summary(self, attribute: Attribute) -> dict[str, Any]:
        stats = self.attributes[attribute.name]
        return {
            "name": attribute.name,
            "type": attribute.type.value,
            **stats.to_dict(),
            "correlation": self._correlation(attribute, stats),
        }

    def _correlation(self, attribute: Attribute, stats: AttributeStats) -> float | None:
        if self.target is None or attribute == self.target:
            return None
        if isinstance(stats, TextStats):
            return json_number(stats.correlation())
        correlation = self.correlations.get(attribute.name)
        return json_number(correlation.value()) if correlation is not None else None

    def _target_summary(self) -> dict[str, Any] | None:
        if self.target is None:
            return None
        stats = self.attributes[self.target.name]
        distribution: list[dict[str, Any]] = []
        histogram = None
        if isinstance(stats, BinaryStats | CategoricalStats):
            distribution = stats.distribution()
        elif isinstance(stats, NumericStats):
            histogram = stats.histogram()
        return {
            "name": self.target.name,
            "type": self.target.type.value,
            "distribution": distribution,
            "histogram": histogram,
        }

"""`compute_statistics`: the reader, the type conversion and the accumulators in one pass.

How invalid data counts, as in AML's data insights:

* a record with the wrong number of fields is an *invalid record*: reported to `on_invalid`, left
  out, counted in `invalidRecordCount`; more than `max_invalid` of them fails the pass;
* a value that does not fit its attribute's type (`previous` = 3 under a BINARY schema) is an
  *invalid value*: it counts in that attribute's `invalid` and is left out of that attribute's
  figures, but the record still counts for every other attribute. The first
  `REPORTED_INVALID_VALUES` per attribute are also reported to `on_invalid` (with the column), so
  a log can show where they are without a callback per bad value on a huge file.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlcore.errors import DataError
from mlcore.io.csvreader import CsvFormat, CsvReader, InvalidRecord
from mlcore.io.files import DataFile
from mlcore.schema.jsonio import check_schema_fits_columns
from mlcore.schema.model import AttributeType, Schema
from mlcore.schema.values import ConvertedColumn, convert_column
from mlcore.stats.summary import DatasetStatistics

if TYPE_CHECKING:
    from mlcore.io.rearrangement import Rearrangement

REPORTED_INVALID_VALUES = 100
DEFAULT_MAX_INVALID = 10_000

ProgressCallback = Callable[[int, int], None]
InvalidCallback = Callable[[InvalidRecord], None]


class InvalidRecordCounter:
    """Counts the reader's invalid records, passes them on, and stops past `max_invalid`."""

    def __init__(self, forward: InvalidCallback | None, max_invalid: int) -> None:
        self.forward = forward
        self.max_invalid = max_invalid
        self.count = 0
        self.first: list[InvalidRecord] = []

    def __call__(self, record: InvalidRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(record)
        if self.forward is not None:
            self.forward(record)
        if self.count > self.max_invalid:
            lines = ", ".join(str(r.line) for r in self.first)
            raise DataError(
                f"more than {self.max_invalid:,} invalid records (the first at lines {lines}: "
                f"{self.first[0].reason})",
                file=self.first[0].file,
                line=self.first[0].line,
            )


class InvalidValueReporter:
    """Reports the first few invalid values of each attribute to `on_invalid`."""

    def __init__(self, forward: InvalidCallback | None, limit: int = REPORTED_INVALID_VALUES):
        self.forward = forward
        self.limit = limit
        self.reported: dict[str, int] = {}

    def report(
        self,
        name: str,
        kind: AttributeType,
        raw: pd.Series,
        bad: np.ndarray,
        lines: np.ndarray,
        file: str,
    ) -> None:
        done = self.reported.get(name, 0)
        if self.forward is None or done >= self.limit or not bad.any():
            return
        positions = np.flatnonzero(bad)[: self.limit - done]
        self.reported[name] = done + len(positions)
        for position in positions.tolist():  # at most `limit` per attribute over the whole pass
            value = raw.iloc[position]
            reason = f"{value!r} is not a {kind.value} value; counted as invalid for this attribute"
            self.forward(InvalidRecord(file, int(lines[position]), name, reason))


def compute_statistics(
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    *,
    rearrangement: Rearrangement | None = None,
    progress: ProgressCallback | None = None,
    on_invalid: InvalidCallback | None = None,
    max_invalid: int = DEFAULT_MAX_INVALID,
) -> dict[str, Any]:
    """Read the datasource once and return its statistics JSON (docs/statistics-format.md).

    Memory stays bounded whatever the size of the data: the reader holds one chunk at a time
    and every accumulator is capped (see `mlcore.stats`).

    >>> from mlcore.io.locations import resolve_local
    >>> from mlcore.schema import parse_schema
    >>> files = resolve_local("/work/shared/data/banking.csv")  # doctest: +SKIP
    >>> schema = parse_schema(open("/work/shared/data/banking.csv.schema").read())  # doctest: +SKIP
    >>> stats = compute_statistics(files, schema, CsvFormat(",", True))  # doctest: +SKIP
    >>> stats["recordCount"], stats["target"]["distribution"][1]["count"]  # doctest: +SKIP
    (41188, 4640)
    """
    invalid_records = InvalidRecordCounter(on_invalid, max_invalid)
    reader = CsvReader(
        files,
        fmt,
        expected_columns=None if fmt.has_header else list(schema.names),
        on_invalid=invalid_records,
        progress=progress,
    )
    check_schema_fits_columns(schema, list(reader.columns), fmt.has_header)
    keep_rows = _row_selector(rearrangement, reader.total_bytes, schema)
    statistics = DatasetStatistics(schema)
    reporter = InvalidValueReporter(on_invalid)
    for chunk in reader.chunks():
        raw = chunk.frame.set_axis(schema.names, axis=1)
        converted = {a.name: convert_column(a.type, raw[a.name]) for a in schema.attributes}
        kept = keep_rows(chunk.offsets, converted)
        if kept is not None:
            raw = raw.loc[kept].reset_index(drop=True)
            converted = {name: _select(column, kept) for name, column in converted.items()}
            lines = chunk.line_numbers[kept]
        else:
            lines = chunk.line_numbers
        for attribute in schema.attributes:
            column = converted[attribute.name]
            reporter.report(
                attribute.name,
                attribute.type,
                raw[attribute.name],
                column.invalid,
                lines,
                chunk.file_name,
            )
        frame = pd.DataFrame({name: column.values for name, column in converted.items()})
        statistics.update(frame, invalid={name: c.invalid for name, c in converted.items()})
    return statistics.result(invalid_count=invalid_records.count)


RowSelector = Callable[[np.ndarray, dict[str, ConvertedColumn]], np.ndarray | None]


def _row_selector(
    rearrangement: Rearrangement | None, total_bytes: int, schema: Schema
) -> RowSelector:
    """A function giving the mask of rows the rearrangement keeps (None: keep everything)."""
    if rearrangement is None:
        return lambda offsets, converted: None
    from mlcore.io.rearrangement import Splitter

    splitter = Splitter(rearrangement, total_bytes)
    target = schema.target

    def keep(offsets: np.ndarray, converted: dict[str, ConvertedColumn]) -> np.ndarray:
        targets = converted[target].values if target else None
        return np.asarray(splitter.keep(offsets, targets=targets), dtype=bool)

    return keep


def _select(column: ConvertedColumn, mask: np.ndarray) -> ConvertedColumn:
    return ConvertedColumn(column.values[mask], column.missing[mask], column.invalid[mask])

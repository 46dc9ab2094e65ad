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

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcore.io.csvreader import Chunk, CsvFormat, InvalidRecord, ProgressCallback
from mlcore.io.dataset import DEFAULT_MAX_INVALID, TypedChunk, TypedReader
from mlcore.io.files import DataFile
from mlcore.io.rearrangement import Rearrangement
from mlcore.schema.model import Attribute, Schema
from mlcore.schema.values import convert_column
from mlcore.stats.summary import DatasetStatistics

REPORTED_INVALID_VALUES = 100

InvalidCallback = Callable[[InvalidRecord], None]


@dataclass
class CheckedChunk(TypedChunk):
    """A typed chunk that keeps records with invalid values, marking them per column."""

    invalid: dict[str, np.ndarray] = field(default_factory=dict)


class ValueCheckingReader(TypedReader):
    """`TypedReader` (same column matching, rearrangement and invalid-record limit) that keeps
    records holding invalid values and marks those values instead of dropping the record."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.values_reported: dict[str, int] = {}

    def __iter__(self) -> Iterator[CheckedChunk]:  # type: ignore[override]
        yield from super().__iter__()  # type: ignore[misc]

    def _typed(self, chunk: Chunk) -> CheckedChunk:
        values: dict[str, np.ndarray] = {}
        invalid: dict[str, np.ndarray] = {}
        for attribute in self.schema.attributes:
            raw = chunk.frame[attribute.name]
            converted = convert_column(attribute.type, raw)
            values[attribute.name] = np.asarray(converted.values)
            invalid[attribute.name] = np.asarray(converted.invalid, dtype=bool)
            self._report_first_invalid_values(attribute, raw, invalid[attribute.name], chunk)
        frame = pd.DataFrame(values)
        return CheckedChunk(frame, chunk.line_numbers, chunk.file_name, invalid=invalid)

    def _report_first_invalid_values(
        self, attribute: Attribute, raw: pd.Series, bad: np.ndarray, chunk: Chunk
    ) -> None:
        """Tell `on_invalid` where the first few bad values of each attribute are."""
        done = self.values_reported.get(attribute.name, 0)
        if self.on_invalid is None or done >= REPORTED_INVALID_VALUES or not bad.any():
            return
        rows = np.flatnonzero(bad)[: REPORTED_INVALID_VALUES - done].tolist()
        self.values_reported[attribute.name] = done + len(rows)
        for row in rows:  # at most REPORTED_INVALID_VALUES per attribute over the whole pass
            reason = (
                f"{raw.iloc[row]!r} is not a valid {attribute.type.value} value "
                "(counted as invalid for this attribute; the record is kept)"
            )
            line = int(chunk.line_numbers[row])
            self.on_invalid(InvalidRecord(chunk.file_name, line, attribute.name, reason))


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
    and every accumulator is capped (see `mlcore.stats`). Columns are matched to the schema and
    the rearrangement applied exactly as `mlcore.io.dataset.TypedReader` does for training.

    >>> from mlcore.io.locations import resolve_local
    >>> from mlcore.schema import parse_schema
    >>> files = resolve_local("/work/shared/data/banking.csv")  # doctest: +SKIP
    >>> schema = parse_schema(open("/work/shared/data/banking.csv.schema").read())  # doctest: +SKIP
    >>> stats = compute_statistics(files, schema, CsvFormat(",", True))  # doctest: +SKIP
    >>> stats["recordCount"], stats["target"]["distribution"][1]["count"]  # doctest: +SKIP
    (41188, 4640)
    """
    reader = ValueCheckingReader(
        files,
        schema,
        fmt,
        rearrangement=rearrangement,
        max_invalid=max_invalid,
        on_invalid=on_invalid,
        progress=progress,
    )
    statistics = DatasetStatistics(schema)
    for chunk in reader:
        statistics.update(chunk.frame, invalid=chunk.invalid)
    return statistics.result(invalid_count=reader.invalid_count)

"""`compute_statistics`: the reader, the type conversion and the accumulators in one pass.

Invalid data counts the way training will see it, so the figures describe the records a model
learns from:

* a record with the wrong number of fields, or with a value that does not fit its attribute's
  type (`previous` = 3 under a BINARY schema), is an *invalid record*: reported to `on_invalid`
  with its line (and column), skipped, and counted in `invalidRecordCount`; more than
  `max_invalid` of them fails the pass with a message naming the first bad lines;
* the attribute whose value made a record invalid counts it in its own `invalid` figure, so the
  data insights show where the bad values are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from mlcore.io.csvreader import CsvFormat, InvalidRecord, ProgressCallback
from mlcore.io.dataset import DEFAULT_MAX_INVALID, TypedReader
from mlcore.io.files import DataFile
from mlcore.io.rearrangement import Rearrangement
from mlcore.schema.model import Schema
from mlcore.stats.summary import DatasetStatistics

InvalidCallback = Callable[[InvalidRecord], None]


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
    the rearrangement applied by `mlcore.io.dataset.TypedReader`, exactly as for training.

    >>> from mlcore.io.locations import resolve_local
    >>> from mlcore.schema import parse_schema
    >>> files = resolve_local("banking.csv")  # doctest: +SKIP
    >>> schema = parse_schema(open("banking.csv.schema").read())  # doctest: +SKIP
    >>> stats = compute_statistics(files, schema, CsvFormat(",", True))  # doctest: +SKIP
    >>> stats["recordCount"], stats["invalidRecordCount"]  # doctest: +SKIP
    (40124, 1064)
    """
    statistics = DatasetStatistics(schema)

    def count_invalid(record: InvalidRecord) -> None:
        if record.column is not None and record.column in statistics.attributes:
            statistics.add_invalid(record.column)
        if on_invalid is not None:
            on_invalid(record)

    reader = TypedReader(
        files,
        schema,
        fmt,
        rearrangement=rearrangement,
        max_invalid=max_invalid,
        on_invalid=count_invalid,
        progress=progress,
        categories=True,  # CATEGORICAL columns as Categoricals: counted and grouped by codes
    )
    for chunk in reader:
        statistics.update(chunk.frame)
    result = statistics.result(
        records_read=reader.records_selected, invalid_count=reader.invalid_count
    )
    # Why records were invalid, for the page and the log (records read = valid + invalid).
    result["invalidRecordReasons"] = {
        "wrongFieldCount": reader.malformed_count,
        "invalidValue": reader.invalid_count - reader.malformed_count,
    }
    return result


def records_read_text(statistics: dict[str, Any]) -> str:
    """AML's terms, one set of numbers: records read, valid, invalid and why.

    >>> records_read_text({"recordsRead": 200, "recordCount": 137, "invalidRecordCount": 63,
    ...     "invalidRecordReasons": {"wrongFieldCount": 40, "invalidValue": 23}})
    "Read 200 records: 137 valid, 63 invalid (40 with the wrong number of fields, 23 with a value that does not fit its attribute's type)."
    """
    read, valid = statistics["recordsRead"], statistics["recordCount"]
    invalid = statistics["invalidRecordCount"]
    why = invalid_reasons_text(statistics.get("invalidRecordReasons"))
    return (
        f"Read {read:,} records: {valid:,} valid, {invalid:,} invalid{f' ({why})' if why else ''}."
    )


def invalid_reasons_text(reasons: dict[str, int] | None) -> str:
    """Why records were invalid, e.g. "40 with the wrong number of fields"; empty if none."""
    reasons = reasons or {}
    parts = [
        f"{reasons[key]:,} {label}"
        for key, label in (
            ("wrongFieldCount", "with the wrong number of fields"),
            ("invalidValue", "with a value that does not fit its attribute's type"),
            ("missingTarget", "without a target value"),
        )
        if reasons.get(key)
    ]
    return ", ".join(parts)

"""Reading a completed batch prediction's results back for its page: the first rows beside their
input records, and the result files as written or decompressed while they stream.

Everything here reads a bounded amount (the first rows, the first invalid lines) or streams;
nothing holds a whole result file in memory.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from console.models import BatchPrediction
from mlcore.errors import MLCoreError

from .storage import open_location

PREVIEW_ROWS = 100
STREAM_CHUNK = 64 * 1024


@dataclass
class ResultFile:
    """One input file and its result file, as the manifest pairs them."""

    index: int
    input_location: str
    result_location: str

    @property
    def input_name(self) -> str:
        return self.input_location.rstrip("/").rsplit("/", 1)[-1]

    @property
    def result_name(self) -> str:
        return self.result_location.rsplit("/", 1)[-1]

    @property
    def csv_name(self) -> str:
        return self.result_name.removesuffix(".gz") + (
            "" if self.result_name.endswith(".csv.gz") else ".csv"
        )


def result_files(bp: BatchPrediction) -> list[ResultFile]:
    return [
        ResultFile(i, source, result)
        for i, (source, result) in enumerate((bp.outputs or {}).items())
    ]


def result_file(bp: BatchPrediction, index: int) -> ResultFile | None:
    files = result_files(bp)
    return files[index] if 0 <= index < len(files) else None


def open_result(bp: BatchPrediction, result: ResultFile) -> IO[bytes]:
    return open_location(bp, result.result_location)


def decompressed_chunks(bp: BatchPrediction, result: ResultFile) -> Iterator[bytes]:
    """The result file's CSV text, decompressed as it is read (for Download as CSV)."""
    with open_result(bp, result) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as text:
        while chunk := text.read(STREAM_CHUNK):
            yield chunk


def compressed_chunks(bp: BatchPrediction, result: ResultFile) -> Iterator[bytes]:
    with open_result(bp, result) as raw:
        while chunk := raw.read(STREAM_CHUNK):
            yield chunk


def _result_lines(bp: BatchPrediction, result: ResultFile) -> Iterator[str]:
    with open_result(bp, result) as raw, gzip.GzipFile(fileobj=raw, mode="rb") as unzipped:
        yield from io.TextIOWrapper(unzipped, encoding="utf-8", newline="")


@dataclass
class Preview:
    """The first rows: the input's columns (as read) beside the prediction columns."""

    input_header: list[str] = field(default_factory=list)
    result_header: list[str] = field(default_factory=list)
    rows: list[tuple[list[str], list[str]]] = field(default_factory=list)
    error: str = ""


def preview(
    bp: BatchPrediction, input_files: list[Any], delimiter: str, has_header: bool
) -> Preview:
    """The first PREVIEW_ROWS records of the first result file and of its input file."""
    files = result_files(bp)
    if not files:
        return Preview(error="This batch prediction wrote no result file.")
    try:
        results = list(_first_csv_rows(_result_lines(bp, files[0]), PREVIEW_ROWS + 1, ","))
        inputs = _first_input_rows(input_files, files[0], delimiter, PREVIEW_ROWS + has_header)
    except (OSError, EOFError, MLCoreError, csv.Error, UnicodeDecodeError) as exc:
        return Preview(error=f"The results cannot be read: {exc}")
    except Exception as exc:  # e.g. botocore's ClientError for an S3 object deleted since
        return Preview(error=f"The results cannot be read: {type(exc).__name__}: {exc}")
    input_header = inputs[0] if has_header and inputs else []
    records = inputs[1:] if has_header else inputs
    result_header, predictions = (results[0], results[1:]) if results else ([], [])
    rows = [
        (records[i] if i < len(records) else [], predictions[i]) for i in range(len(predictions))
    ]
    return Preview(input_header, result_header, rows)


def _first_input_rows(
    input_files: list[Any], result: ResultFile, delimiter: str, n: int
) -> list[list[str]]:
    data_file = next((f for f in input_files if result.input_location.endswith(f.name)), None)
    if data_file is None:
        data_file = input_files[result.index] if result.index < len(input_files) else None
    if data_file is None:
        return []
    with data_file.opener() as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")
        return list(_first_csv_rows(text, n, delimiter))


def _first_csv_rows(lines: Any, n: int, delimiter: str) -> Iterator[list[str]]:
    for count, row in enumerate(csv.reader(lines, delimiter=delimiter)):
        if count >= n:
            return
        yield row

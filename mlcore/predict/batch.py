"""Batch predictions (reference section 8): score every record of a datasource into AML's files.

`batch_predict(model, files, schema, fmt, batch_prediction_id=..., store=...)` streams the
files chunk by chunk (memory bounded by the chunk size, whatever the data size) and writes:

* one gzip CSV per input file, `batch-prediction/result/<id>-<input file name>.gz`, with a
  header line and one line per record of the input, in the same order; a record that cannot be
  read (wrong number of fields) or scored (a value that is not valid for the type the model was
  trained with) gets a blank line and counts as invalid;
* the manifest `batch-prediction/<id>.manifest`: a JSON object mapping each input file's
  location to its result's location.

Columns, as AML wrote them: `tag` (the row id) when the data's schema has one, `trueLabel`
when the data has the model's target column, then our extensions' pass-through columns (input
columns copied as read, by name), then the prediction: BINARY `bestAnswer,score` (bestAnswer 1
when the score reaches `model.score_threshold`), MULTICLASS one column per class headed by its
label (the probabilities sum to 1), REGRESSION `score`. With `explain`, six more columns:
`feature1,contribution1,feature2,contribution2,feature3,contribution3`, the three input
attributes that moved the record's margin most and by how much (`mlcore.predict.explain`).
Numbers are written as AML did (`mlcore.predict.numbers`): `9.999157E-1`.

Columns are matched to the model's training schema **by name** and read with the training
type: MNIST's batch schema types the pixels NUMERIC where training said CATEGORICAL, and AML
scored it. A column the model needs but the data lacks is a missing value in every record;
columns the model does not know are ignored (they may still be passed through).

The run fails only when the input cannot be read or an output cannot be written, with a
`MLCoreError` naming the location; a failed run leaves no half-written result and no manifest
(results of input files finished before the failure stay).

>>> store = output_store_for("s3://bucket/predictions/")               # doctest: +SKIP
>>> result = batch_predict(model, files, schema, CsvFormat(),           # doctest: +SKIP
...                        batch_prediction_id="bp-1", store=store)
>>> result.outputs                                                     # doctest: +SKIP
{'s3://data/banking-batch.csv': 's3://bucket/predictions/batch-prediction/result/bp-1-banking-batch.csv.gz'}
"""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pandas as pd

from mlcore.errors import MLCoreError, SchemaError
from mlcore.io.csvreader import (
    DEFAULT_CHUNK_BYTES,
    SMALL_REGION_BYTES,
    Chunk,
    CsvFormat,
    CsvReader,
    InvalidRecord,
)
from mlcore.io.dataset import _convert as convert_typed_column
from mlcore.io.files import DataFile
from mlcore.predict.compiled import CompiledScorer, Unsupported
from mlcore.predict.csvlines import (
    Field,
    hidden_where,
    join_lines,
    text_field,
    text_line,
)
from mlcore.predict.explain import FeatureOwners, feature_owners, top_contributions
from mlcore.predict.numbers import format_aml_floats
from mlcore.predict.outputs import OutputStore, output_store_for
from mlcore.predict.scoring import frame_margins, score_batch, scores_of_margins
from mlcore.schema.model import Attribute, AttributeType, ModelType, Schema
from mlcore.schema.values import convert_column
from mlcore.train.model import TrainedModel

try:  # ISA-L's deflate: the same gzip format, 3 to 4x less CPU than zlib at level 1
    from isal import isal_zlib as deflate
except ImportError:  # a platform without its wheel
    deflate = zlib  # type: ignore[assignment]

DEFAULT_CHUNK_ROWS = 131_072
RESULT_FOLDER = "batch-prediction/result/"
MANIFEST_FOLDER = "batch-prediction/"
EXPLAINED = 3
# level 1 is 4x faster than 6 on prediction text for files ~20% larger (zlib; ISA-L's level 1
# is faster still, its files a little smaller than zlib's)
GZIP_LEVEL = 1
QUEUED_WRITES = 4
READ_AHEAD = 2
# AML's BatchPredictionId pattern and length
_ID = re.compile(r"[a-zA-Z0-9_.\-]{1,64}")
_TYPES_SHOWN = 5

Progress = Callable[[int, int], None]
Log = Callable[[str], None]


@dataclass
class BatchPredictionResult:
    """What a batch prediction wrote.

    `outputs` is the manifest's content (input location -> result location); `metric` is set
    when the data has the target: accuracy (BINARY, at the saved threshold), macro-F1
    (MULTICLASS) or RMSE (REGRESSION) over the records with a valid target value.
    """

    total_records: int
    invalid_records: int
    outputs: dict[str, str]
    manifest_location: str
    metric: dict[str, Any] | None
    columns: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# What to read and what to write
# --------------------------------------------------------------------------------------------


@dataclass
class _Plan:
    """The columns a batch prediction reads, converts and writes."""

    model_type: ModelType
    inputs: list[Attribute]  # the model's attributes present in the data, with training types
    absent: list[str]  # the model's attributes the data lacks: missing in every record
    row_id: str | None
    target: Attribute | None
    pass_through: list[str]
    explain: bool
    header: list[str]
    float_columns: list[str]
    category_columns: list[str]


def _plan(
    model: TrainedModel,
    data_columns: list[str],
    schema: Schema,
    pass_through: Sequence[str],
    explain: bool,
) -> _Plan:
    excluded = set(schema.excluded)
    usable = [name for name in data_columns if name not in excluded]
    needed = _attributes_read_by(model)
    inputs = [a for a in needed if a.name in usable]
    absent = [a.name for a in needed if a.name not in usable]
    row_id = schema.row_id
    if row_id is not None and row_id not in data_columns:
        raise SchemaError(f"the row id {row_id!r} is not a column of the data")
    target = model.schema.target_attribute
    if target is not None and target.name not in data_columns:
        target = None
    copied = list(dict.fromkeys(pass_through))
    unknown = [name for name in copied if name not in data_columns]
    if unknown:
        raise SchemaError(f"pass-through columns not in the data: {', '.join(unknown)}")
    header = (
        (["tag"] if row_id else [])
        + (["trueLabel"] if target else [])
        + copied
        + _prediction_columns(model)
        + (_explanation_columns() if explain else [])
    )
    clashes = sorted({name for name in copied if header.count(name) > 1})
    if clashes:
        raise SchemaError(
            f"pass-through columns named like output columns: {', '.join(clashes)}; "
            "the output's header would name two columns alike"
        )
    # raw text is written for these, so pandas must not turn them into numbers
    raw = {row_id, target.name if target else None, *copied}
    return _Plan(
        model_type=model.model_type,
        inputs=inputs,
        absent=absent,
        row_id=row_id,
        target=target,
        pass_through=copied,
        explain=explain,
        header=header,
        float_columns=[
            a.name for a in inputs if a.type is AttributeType.NUMERIC and a.name not in raw
        ],
        category_columns=[a.name for a in inputs if a.type is AttributeType.CATEGORICAL],
    )


def _attributes_read_by(model: TrainedModel) -> list[Attribute]:
    """The attributes the model's recipe reads, with the types it was trained with."""
    names = dict.fromkeys(
        name for output in model.fitted_recipe.outputs for name in output.spec.attributes
    )
    training = {a.name: a for a in model.schema.attributes}
    return [training[name] for name in names if name in training]


def _prediction_columns(model: TrainedModel) -> list[str]:
    if model.model_type is ModelType.BINARY:
        return ["bestAnswer", "score"]
    if model.model_type is ModelType.MULTICLASS:
        return [str(label) for label in model.classes]
    return ["score"]


def _explanation_columns() -> list[str]:
    return [
        name
        for rank in range(1, EXPLAINED + 1)
        for name in (f"feature{rank}", f"contribution{rank}")
    ]


def _reader(
    files: Sequence[DataFile], fmt: CsvFormat, columns: list[str] | None, chunk_bytes: int
) -> CsvReader:
    """The reader of the data: its columns from the header, or `columns` without one."""
    return CsvReader(
        files,
        fmt,
        expected_columns=columns,
        chunk_bytes=chunk_bytes,
        categories_from_bytes=SMALL_REGION_BYTES,
    )


def _type_notes(plan: _Plan, schema: Schema) -> list[str]:
    """Where the data's schema types a column differently from training (training wins)."""
    data_types = {a.name: a.type for a in schema.attributes}
    differing = [a for a in plan.inputs if data_types.get(a.name, a.type) is not a.type]
    if not differing:
        return []
    shown = ", ".join(f"{a.name} ({data_types[a.name]} -> {a.type})" for a in differing[:5])
    more = f" and {len(differing) - _TYPES_SHOWN} more" if len(differing) > _TYPES_SHOWN else ""
    return [f"read with the model's training types: {shown}{more}"]


# --------------------------------------------------------------------------------------------
# Scoring a slice of records
# --------------------------------------------------------------------------------------------


@dataclass
class _Slice:
    """Records of one file, scored: their output lines and what the metric needs."""

    lines: bytes
    line_lengths: np.ndarray
    line_numbers: np.ndarray
    invalid: np.ndarray
    invalid_reasons: list[InvalidRecord]
    truth: np.ndarray | None  # the target's text (stripped) per record, when the data has it
    predicted: np.ndarray | None  # labels (BINARY/MULTICLASS) or values (REGRESSION)


def _score_slice(
    model: TrainedModel,
    plan: _Plan,
    frame: pd.DataFrame,
    line_numbers: np.ndarray,
    file_name: str,
    owners: FeatureOwners | None,
    want_reasons: bool,
    scorer: CompiledScorer | None = None,
) -> _Slice:
    batch = None
    compiled = _compiled_margins(scorer, frame)
    if compiled is not None:
        margins, first_bad = compiled
    else:
        typed, first_bad = _typed_inputs(plan, frame)
        # explanations need every stored feature; scores alone are summed output by output
        if plan.explain:
            batch = model.fitted_recipe.encode(typed, np.full(len(frame), np.nan))
        else:
            margins = frame_margins(model, typed)
    scores = score_batch(model, batch) if batch is not None else scores_of_margins(model, margins)
    finite = np.isfinite(scores).all(axis=1) if scores.ndim == 2 else np.isfinite(scores)
    invalid = (first_bad >= 0) | ~finite
    reasons = (
        _invalid_reasons(plan, frame, first_bad, finite, line_numbers, file_name)
        if want_reasons and invalid.any()
        else []
    )
    fields, predicted = _prediction_fields(model, scores)
    truth = _stripped(frame[plan.target.name]) if plan.target else None
    leading = [text_field(_stripped(frame[plan.row_id]))] if plan.row_id else []
    if truth is not None:
        leading.append(text_field(truth))
    leading.extend(text_field(_raw(frame[name])) for name in plan.pass_through)
    if plan.explain:
        fields.extend(_explanation_fields(model, batch, scores, owners))
    joined = join_lines([*leading, *fields], blank=invalid)
    return _Slice(joined.data, joined.row_lengths, line_numbers, invalid, reasons, truth, predicted)


def _compiled_margins(
    scorer: CompiledScorer | None, frame: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray] | None:
    """The compiled scorer's margins and first bad inputs, or None: no scorer for the recipe,
    or a column it does not read in this chunk (the general path then scores the chunk)."""
    if scorer is None:
        return None
    try:
        return scorer.margins(frame)
    except Unsupported:
        return None


def _typed_inputs(plan: _Plan, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The model's input columns converted with the training types, and per record the
    position in `plan.inputs` of its first value that is not valid for its type (-1: none)."""
    columns: dict[str, Any] = {}
    first_bad = np.full(len(frame), -1, dtype=np.int64)
    for position, attribute in enumerate(plan.inputs):
        values, invalid = convert_typed_column(attribute, frame[attribute.name], True)
        columns[attribute.name] = values
        first_bad[invalid & (first_bad < 0)] = position
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame))), first_bad


def _invalid_reasons(
    plan: _Plan,
    frame: pd.DataFrame,
    first_bad: np.ndarray,
    finite: np.ndarray,
    line_numbers: np.ndarray,
    file_name: str,
) -> list[InvalidRecord]:
    """Why each invalid record of the slice is invalid, in line order. The bad values are
    gathered one column at a time (a frame lookup per record costs ~40 µs)."""
    found: list[InvalidRecord] = []
    for position in np.unique(first_bad[first_bad >= 0]).tolist():
        attribute = plan.inputs[position]
        rows = np.flatnonzero(first_bad == position)
        values = frame[attribute.name].iloc[rows].to_numpy(dtype=object)
        found.extend(
            InvalidRecord(
                file_name,
                line,
                attribute.name,
                f"{value!r} is not a valid {attribute.type.value} value (the model's type)",
            )
            for line, value in zip(line_numbers[rows].tolist(), values, strict=True)
        )
    reason = "the model's score is not a finite number"
    for line in line_numbers[~finite & (first_bad < 0)].tolist():
        found.append(InvalidRecord(file_name, line, None, reason))
    return sorted(found, key=lambda record: record.line)


def _raw(column: pd.Series) -> np.ndarray:
    """A column's text as read (a Categorical of strings gives its strings back)."""
    return column.to_numpy(dtype=object, na_value="")


def _stripped(column: pd.Series) -> np.ndarray:
    """A value's text without surrounding blanks, as types read it (`job`, not ` job`)."""
    return pd.Series(_raw(column), dtype=object).str.strip().to_numpy(dtype=object)


def _prediction_fields(model: TrainedModel, scores: np.ndarray) -> tuple[list[Field], np.ndarray]:
    """The prediction columns, and the predicted labels (or values) for the metric."""
    if model.model_type is ModelType.BINARY:
        best = scores >= model.score_threshold
        answer = np.where(best, ord("1"), ord("0")).astype(np.uint8)[:, None]
        best_answer = Field(answer)
        return [best_answer, format_aml_floats(scores)], best.astype(np.float64)
    if model.model_type is ModelType.MULTICLASS:
        classes = np.asarray(model.classes, dtype=object)
        fields = [format_aml_floats(scores[:, column]) for column in range(scores.shape[1])]
        return fields, classes[scores.argmax(axis=1)]
    return [format_aml_floats(scores)], scores


def _explanation_fields(
    model: TrainedModel, batch: Any, scores: np.ndarray, owners: FeatureOwners | None
) -> list[Field]:
    found = top_contributions(model, batch, top=EXPLAINED, owners=owners, scores=scores)
    fields: list[Field] = []
    for rank in range(EXPLAINED):
        values = found.values[:, rank]
        fields.append(text_field(found.names[:, rank]))
        fields.append(hidden_where(format_aml_floats(values), np.isnan(values)))
    return fields


# --------------------------------------------------------------------------------------------
# The metric, when the data has the target
# --------------------------------------------------------------------------------------------


class _Metric:
    """Accuracy, macro-F1 or RMSE accumulated over the scored records with a valid target."""

    def __init__(self, model: TrainedModel, target: Attribute) -> None:
        self.model_type = model.model_type
        self.target = target
        self.count = 0
        self.correct = 0
        self.squared_error = 0.0
        self.pairs: Counter[tuple[str, str]] = Counter()

    def add(self, truth: np.ndarray, predicted: np.ndarray, valid: np.ndarray) -> None:
        if self.model_type is ModelType.MULTICLASS:
            keep = valid & (truth != "")
            pairs = pd.Series(list(zip(truth[keep], predicted[keep], strict=True)), dtype=object)
            self.pairs.update(pairs.value_counts().to_dict())
            self.count += int(keep.sum())
            return
        values = convert_column(self.target.type, pd.Series(truth, dtype=object)).values
        keep = valid & ~np.isnan(values)
        self.count += int(keep.sum())
        if self.model_type is ModelType.BINARY:
            self.correct += int((values[keep] == predicted[keep]).sum())
        else:
            self.squared_error += float(((values[keep] - predicted[keep]) ** 2).sum())

    def result(self) -> dict[str, Any] | None:
        if self.count == 0:
            return None
        if self.model_type is ModelType.BINARY:
            return {"name": "accuracy", "value": self.correct / self.count}
        if self.model_type is ModelType.REGRESSION:
            return {"name": "rmse", "value": float(np.sqrt(self.squared_error / self.count))}
        return {"name": "macroF1", "value": _macro_f1(self.pairs)}


def _macro_f1(pairs: Counter[tuple[str, str]]) -> float:
    """AML's macro-F1: the mean F1 of the classes present in the data's target."""
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    for (true, guess), count in pairs.items():
        support[true] += count
        predicted[guess] += count
    scores = []
    for label, total in support.items():
        hits = pairs.get((label, label), 0)
        precision = hits / predicted[label] if predicted[label] else 0.0
        recall = hits / total
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return float(np.mean(scores))


# --------------------------------------------------------------------------------------------
# Result files
# --------------------------------------------------------------------------------------------


def result_file_names(batch_prediction_id: str, files: Sequence[DataFile]) -> list[str]:
    """`<id>-<input file name>.gz` per input file; a name already used gets `-2`, `-3`...
    before `.gz` (two files of one datasource may share a name in different folders).

    >>> from mlcore.io.files import DataFile
    >>> files = [DataFile(n, 0, lambda: None) for n in ("s3://b/x/a.csv", "/d/y/a.csv")]
    >>> result_file_names("bp-1", files)
    ['bp-1-a.csv.gz', 'bp-1-a.csv-2.gz']
    """
    names: list[str] = []
    for data_file in files:
        base = f"{batch_prediction_id}-{data_file.name.rstrip('/').rsplit('/', 1)[-1]}"
        name, copy = f"{base}.gz", 2
        while name in names:
            name, copy = f"{base}-{copy}.gz", copy + 1
        names.append(name)
    return names


class _ResultFile:
    """One gzip result being written: header first, then lines in input order.

    Compressing and writing happen on a thread of their own (deflate and file writes release the
    GIL), overlapping the next chunk's parsing and scoring; the queue between them holds at
    most `QUEUED_WRITES` pieces, so memory stays bounded. A write error is raised on the next
    `write` or on `close`. Unthreaded (`threaded=False`: a job of one block, where nothing
    would overlap), the caller compresses and writes; the bytes are the same.
    """

    def __init__(
        self, store: OutputStore, key: str, header: list[str], threaded: bool = True
    ) -> None:
        self.location = store.location(key)
        self.stream: BinaryIO = store.open_write(key)
        # wbits 31: a gzip member (header and CRC), mtime 0, so equal inputs give equal files
        self._compressor = deflate.compressobj(GZIP_LEVEL, deflate.DEFLATED, 31)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUED_WRITES)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._drain, name="batch-gzip", daemon=True)
            self._thread.start()
        self.records = 0
        self.invalid = 0
        self.write(text_line(header))

    def write(self, data: bytes) -> None:
        self._raise_error()
        if self._thread is None:
            self._compress(data)
        else:
            self._queue.put(data)

    def _drain(self) -> None:
        while True:
            data = self._queue.get()
            if data is None:
                return
            if self._error is not None:
                continue  # keep taking pieces so the producer never blocks on a full queue
            try:
                self._compress(data)
            except BaseException as err:  # handed to the producer's thread
                self._error = err

    def _compress(self, data: bytes) -> None:
        compressed = self._compressor.compress(data)
        if compressed:
            self._write_out(compressed)

    def _write_out(self, data: bytes) -> None:
        try:
            self.stream.write(data)
        except OSError as err:
            raise MLCoreError(f"cannot write the output: {err}", file=self.location) from None

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()

    def close(self) -> None:
        self._stop()
        self._raise_error()
        self._write_out(self._compressor.flush())
        self.stream.close()

    def discard(self) -> None:
        self._stop()
        discard = getattr(self.stream, "discard", None)
        if discard is not None:
            discard()
        else:
            self.stream.close()


def _with_blank_lines(scored: _Slice, blanks: list[int]) -> bytes:
    """The slice's lines with an empty line inserted for each unreadable record (`blanks`,
    line numbers), in input order."""
    if not blanks:
        return scored.lines
    ends = np.concatenate([[0], np.cumsum(scored.line_lengths)])
    before = np.searchsorted(scored.line_numbers, np.asarray(blanks), side="left")
    parts: list[bytes] = []
    start = 0
    for position in before.tolist():
        cut = int(ends[position])
        parts.append(scored.lines[start:cut])
        parts.append(b"\n")
        start = cut
    parts.append(scored.lines[start:])
    return b"".join(parts)


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


class _Run:
    """State of one batch prediction: the files written so far and the counts."""

    def __init__(
        self,
        model: TrainedModel,
        files: Sequence[DataFile],
        plan: _Plan,
        store: OutputStore,
        batch_prediction_id: str,
        on_invalid: Callable[[InvalidRecord], None] | None,
        log: Log | None,
    ) -> None:
        self.model = model
        self.files = list(files)
        self.plan = plan
        self.store = store
        self.keys = [RESULT_FOLDER + name for name in result_file_names(batch_prediction_id, files)]
        self.on_invalid = on_invalid
        self.log = log
        self.current: _ResultFile | None = None
        self.threaded_output = True  # compress on a thread of each result's own
        self.position = -1  # index of the file being written
        self.finished: dict[str, str] = {}
        self.total_records = 0
        self.invalid_records = 0
        self.metric = _Metric(model, plan.target) if plan.target else None
        self.owners = feature_owners(model) if plan.explain else None
        # the usual recipes are scored straight from the reader's columns (same numbers)
        self.scorer = None if plan.explain else CompiledScorer.compile(model, plan.inputs)

    def result_for(self, file_name: str) -> _ResultFile:
        """The result of `file_name`, finishing the results of the files before it."""
        index = self.position if self.position >= 0 else 0
        while self.files[index].name != file_name or index < self.position:
            index += 1
        while self.position < index:
            self._finish_current()
            self.position += 1
            self.current = _ResultFile(
                self.store, self.keys[self.position], self.plan.header, self.threaded_output
            )
        assert self.current is not None
        return self.current

    def add_chunk(self, chunk: Chunk, unreadable: list[InvalidRecord], chunk_rows: int) -> None:
        """Score a chunk and write its lines, with a blank line for each of the records of its
        block that could not be read (`unreadable`, in line order) where they stood."""
        result = self.result_for(chunk.file_name)
        n_rows = len(chunk.frame)
        taken = 0
        for start in range(0, n_rows, chunk_rows):
            stop = min(start + chunk_rows, n_rows)
            frame = chunk.frame
            if start or stop < n_rows:
                frame = frame.iloc[start:stop].reset_index(drop=True)
            lines = chunk.line_numbers[start:stop]
            scored = _score_slice(
                self.model,
                self.plan,
                frame,
                lines,
                chunk.file_name,
                self.owners,
                want_reasons=self.on_invalid is not None,
                scorer=self.scorer,
            )
            # the slice's blanks: up to its last line (the last slice takes the rest)
            end = len(unreadable)
            if stop < n_rows:
                end = taken
                while end < len(unreadable) and unreadable[end].line < int(lines[-1]):
                    end += 1
            blanks = unreadable[taken:end]
            taken = end
            result.write(_with_blank_lines(scored, [record.line for record in blanks]))
            self._count(result, scored, blanks)

    def add_unreadable(self, records: list[InvalidRecord]) -> None:
        """Records of blocks without a good record: nothing of theirs is pending, so their
        blank lines go out at once (memory stays bounded even if no record of a file is good)."""
        for record in records:
            result = self.result_for(record.file)
            result.write(b"\n")
            result.records += 1
            result.invalid += 1
            self.total_records += 1
            self.invalid_records += 1
            if self.on_invalid is not None:
                self.on_invalid(record)

    def _count(self, result: _ResultFile, scored: _Slice, blanks: list[InvalidRecord]) -> None:
        n_invalid = int(scored.invalid.sum()) + len(blanks)
        result.records += len(scored.line_numbers) + len(blanks)
        result.invalid += n_invalid
        self.total_records += len(scored.line_numbers) + len(blanks)
        self.invalid_records += n_invalid
        if self.on_invalid is not None:
            for record in sorted([*blanks, *scored.invalid_reasons], key=lambda r: r.line):
                self.on_invalid(record)
        if self.metric is not None and scored.truth is not None:
            assert scored.predicted is not None
            self.metric.add(scored.truth, scored.predicted, ~scored.invalid)

    def _finish_current(self) -> None:
        if self.current is None:
            return
        data_file = self.files[self.position]
        self.current.close()
        self.finished[data_file.name] = self.current.location
        if self.log is not None:
            self.log(
                f"{data_file.name}: {self.current.records:,} records, "
                f"{self.current.invalid:,} invalid -> {self.current.location}"
            )
        self.current = None

    def finish(self) -> None:
        """Finish the last file and write a header-only result for any file without records."""
        while self.position < len(self.files) - 1:
            self._finish_current()
            self.position += 1
            self.current = _ResultFile(
                self.store, self.keys[self.position], self.plan.header, self.threaded_output
            )
        self._finish_current()

    def abandon(self) -> None:
        if self.current is not None:
            self.current.discard()
            self.current = None


@dataclass
class _Delivery:
    """What the reader handed over, in order: a chunk with the unreadable records of its block,
    or (no chunk) unreadable records of blocks that had no good record at all."""

    chunk: Chunk | None
    unreadable: list[InvalidRecord]
    progress: tuple[int, int] | None


class _ReadAhead:
    """Parse the next chunk on a thread while the caller scores the current one.

    pandas' tokenizer and most numpy work release the GIL, so reading and scoring overlap on
    two cores. The reader's callbacks run on the reading thread; what they report travels in
    the queue and reaches the caller's callbacks on the caller's thread (the console's progress
    callback writes to its database, whose connections belong to a thread). At most
    `READ_AHEAD` deliveries wait, so memory stays bounded by the chunk size.

    Per block the reader reports its unreadable records, then its progress, then yields its
    chunk if it has good records. So at each progress call, the records noted before the
    previous progress call belong to blocks that yielded no chunk: they travel on their own.
    """

    def __init__(self, reader: CsvReader, inline: bool = False) -> None:
        self._reader = reader
        # inline: no thread, the caller's iteration reads (data of one block cannot overlap)
        self._inline = inline
        self._pending: list[_Delivery] = []
        self._unreadable: list[InvalidRecord] = []
        self._of_earlier_blocks = 0  # how many of `_unreadable` came before the current block
        self._progress: tuple[int, int] | None = None
        reader.on_invalid = self._unreadable.append
        reader.progress = self._block_read
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=READ_AHEAD)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._produce, name="batch-read", daemon=True)

    def _block_read(self, records: int, bytes_read: int) -> None:
        if self._of_earlier_blocks:
            earlier = self._unreadable[: self._of_earlier_blocks]
            del self._unreadable[: self._of_earlier_blocks]
            self._put("records", _Delivery(None, earlier, self._progress))
        self._of_earlier_blocks = len(self._unreadable)
        self._progress = (records, bytes_read)

    def start(self) -> None:
        """Start reading (the caller may prepare its output meanwhile); `close()` must follow."""
        if not self._inline:
            self._thread.start()

    def __iter__(self) -> Iterator[_Delivery]:
        if self._inline:
            yield from self._read_inline()
            return
        while True:
            kind, item = self._queue.get()
            if kind == "error":
                raise item
            yield item
            if kind == "end":
                return

    def close(self) -> None:
        """Stop the reading thread (at the end, or when the caller gives up early)."""
        self._stop.set()
        while self._thread.is_alive():  # unblock a reader waiting on a full queue
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)
        if self._thread.ident is not None:
            self._thread.join()

    def _read_inline(self) -> Iterator[_Delivery]:
        """The deliveries in the same order as the thread's, read as the caller iterates."""
        chunks = self._reader.chunks()
        try:
            for chunk in chunks:
                yield from self._take_pending()
                yield self._delivery(chunk)
            yield from self._take_pending()
            yield self._delivery(None)
        finally:
            chunks.close()

    def _take_pending(self) -> Iterator[_Delivery]:
        while self._pending:
            yield self._pending.pop(0)

    def _produce(self) -> None:
        chunks = self._reader.chunks()
        try:
            for chunk in chunks:
                if not self._put("chunk", self._delivery(chunk)):
                    return
            self._put("end", self._delivery(None))
        except BaseException as err:  # raised again on the caller's thread
            self._put("error", err)
        finally:
            chunks.close()

    def _delivery(self, chunk: Chunk | None) -> _Delivery:
        delivery = _Delivery(chunk, list(self._unreadable), self._progress)
        self._unreadable.clear()
        self._of_earlier_blocks = 0
        return delivery

    def _put(self, kind: str, item: Any) -> bool:
        if self._inline:  # only "records" deliveries come here inline
            self._pending.append(item)
            return True
        while not self._stop.is_set():
            try:
                self._queue.put((kind, item), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False


def batch_predict(
    model: TrainedModel,
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    *,
    batch_prediction_id: str,
    store: OutputStore,
    pass_through: Sequence[str] = (),
    explain: bool = False,
    progress: Progress | None = None,
    log: Log | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    on_invalid: Callable[[InvalidRecord], None] | None = None,
) -> BatchPredictionResult:
    """Score every record of `files` and write AML's result files and manifest to `store`.

    `schema` is the data's own (its column names without a header, its row id); the model's
    training schema decides how the model's columns are read. `progress(records, bytes_read)`
    is called once per chunk read; `on_invalid` receives each invalid record (file, line,
    column, reason) in input order; `log` receives a few lines a person reads.
    """
    if not _ID.fullmatch(batch_prediction_id):
        raise MLCoreError(
            f"{batch_prediction_id!r} is not a valid batch prediction id "
            "(1 to 64 letters, digits, '_', '.' or '-')"
        )
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be positive")
    # with a header, the reader finds the columns (one look at the first record, not two)
    reader = _reader(files, fmt, None, chunk_bytes) if fmt.has_header else None
    data_columns = reader.columns if reader is not None else schema.names
    plan = _plan(model, data_columns, schema, pass_through, explain)
    if log is not None:
        _log_plan(log, model, plan, schema, files)
    run = _Run(model, files, plan, store, batch_prediction_id, on_invalid, log)
    if reader is None:
        reader = _reader(files, fmt, data_columns, chunk_bytes)
    reader.read_as(plan.float_columns, plan.category_columns)
    # a single block cannot overlap with scoring: read and compress it on this thread
    inline = reader.total_bytes <= chunk_bytes
    read_ahead = _ReadAhead(reader, inline=inline)
    run.threaded_output = not inline
    try:
        # the first result file is opened before the reading thread starts: opened once
        # it runs, the thread holding the GIL (pandas) would keep this one waiting ~5 ms
        run.result_for(files[0].name)
        read_ahead.start()
        for delivery in read_ahead:
            if progress is not None and delivery.progress is not None:
                progress(*delivery.progress)
            if delivery.chunk is not None:
                run.add_chunk(delivery.chunk, delivery.unreadable, chunk_rows)
            else:
                run.add_unreadable(delivery.unreadable)
        run.finish()
    except BaseException:
        run.abandon()
        raise
    finally:
        read_ahead.close()
    manifest_key = f"{MANIFEST_FOLDER}{batch_prediction_id}.manifest"
    _write_manifest(store, manifest_key, run.finished)
    if log is not None:
        log(
            f"{run.total_records:,} records, {run.invalid_records:,} invalid; "
            f"manifest {store.location(manifest_key)}"
        )
    return BatchPredictionResult(
        total_records=run.total_records,
        invalid_records=run.invalid_records,
        outputs=dict(run.finished),
        manifest_location=store.location(manifest_key),
        metric=run.metric.result() if run.metric is not None else None,
        columns=list(plan.header),
    )


def _log_plan(
    log: Log, model: TrainedModel, plan: _Plan, schema: Schema, files: Sequence[DataFile]
) -> None:
    log(
        f"scoring {len(files)} file(s) with a {model.model_type.value} model; "
        f"columns: {','.join(plan.header)}"
    )
    if plan.absent:
        log(f"not in the data, scored as missing: {', '.join(plan.absent)}")
    for note in _type_notes(plan, schema):
        log(note)


def _write_manifest(store: OutputStore, key: str, outputs: dict[str, str]) -> None:
    document = json.dumps(outputs, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    stream = store.open_write(key)
    try:
        stream.write(document)
    except BaseException:
        discard = getattr(stream, "discard", None)
        if discard is not None:
            discard()
        raise
    stream.close()


__all__ = [
    "BatchPredictionResult",
    "OutputStore",
    "batch_predict",
    "output_store_for",
    "result_file_names",
]

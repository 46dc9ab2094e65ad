"""Evaluate a trained model on a datasource (reference section 7), in AML's shape.

`evaluate_model(model, files, schema, fmt, ...)` reads the datasource with `TypedReader`, scores
each chunk, and returns:

    {
      "MLModelType": "BINARY",
      "PerformanceMetrics": {"Properties": {"BinaryAUC": "0.9361..."}},   # values are strings
      "Baseline": {"Properties": {"BinaryAUC": "0.5"}},
      "TotalRecordCount": 1000,      # records the rearrangement selected
      "RecordCount": 990,            # records the metrics were computed on
      "InvalidRecordCount": 10,      # invalid records and records without a target value
      "Alerts": [{"name", "ok", "message"} x 5],
      "Details": {...}               # binary_details / multiclass_details / regression_details
    }

Two bounded pieces are gathered while streaming, for the pages: MULTICLASS `Details.cell_examples`
(the first 20 records of each shown confusion-matrix cell, with their line, row id, a few input
values and the model's scores; `CellExamples`), REGRESSION `Details.sample` (at most 5,000
(actual, predicted) pairs, reservoir-sampled with a fixed seed; `ReservoirSample`).

The metric keys are `BinaryAUC`, `MulticlassAvgFScore` and `RegressionRMSE`. A record whose target
is missing cannot be scored against anything: it is left out, reported to `on_invalid` and
counted as invalid (so the "all records used" alert fires), as AML does.

The model needs `model_type`, `classes` (MULTICLASS), `score_threshold` (BINARY, default 0.5),
`training_class_counts` (MULTICLASS baseline, distribution alert) and `training_target_mean`
(REGRESSION baseline); without them `Baseline.Properties` is empty.
`scorer(model, frame)` defaults to `mlcore.predict.score_frame`: P(1) of shape (n,) for BINARY,
probabilities (n, k) in `model.classes` order for MULTICLASS, predictions (n,) for REGRESSION.

`training_info` (all keys optional) feeds the alerts: `training_datasource_id`,
`evaluation_datasource_id`, `training_records` (default `model.records_used` when set),
`training_schema` (default `model.schema`),
`training_target_distribution` (default: from `model.training_class_counts`, or for REGRESSION
from `training_target_mean` and `model.training_target_std` when the model has it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlcore.errors import DataError
from mlcore.io.csvreader import CsvFormat, InvalidRecord, ProgressCallback
from mlcore.io.dataset import DEFAULT_MAX_INVALID, TypedChunk, TypedReader
from mlcore.io.files import DataFile
from mlcore.io.rearrangement import Rearrangement
from mlcore.metrics.alerts import (
    categorical_distribution,
    evaluation_alerts,
    numeric_distribution,
)
from mlcore.metrics.baselines import (
    baseline_binary_auc,
    baseline_multiclass_f1,
    baseline_regression_rmse,
)
from mlcore.metrics.binary import binary_details
from mlcore.metrics.multiclass import (
    MAX_EXAMPLE_INPUTS,
    CellExamples,
    multiclass_details,
    predicted_labels,
)
from mlcore.metrics.regression import ReservoirSample, regression_details
from mlcore.schema.model import ModelType, Schema

Scorer = Callable[[Any, pd.DataFrame], Any]

METRIC_KEYS = {
    ModelType.BINARY: "BinaryAUC",
    ModelType.MULTICLASS: "MulticlassAvgFScore",
    ModelType.REGRESSION: "RegressionRMSE",
}


@dataclass
class _Collected:
    """Truth and model output of every scored record, gathered chunk by chunk."""

    truth: list[np.ndarray] = field(default_factory=list)
    output: list[np.ndarray] = field(default_factory=list)
    missing_target: int = 0
    examples: CellExamples | None = None  # MULTICLASS
    sample: ReservoirSample | None = None  # REGRESSION

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if not self.truth:
            return np.array([]), np.array([])
        return np.concatenate(self.truth), np.concatenate(self.output)


def evaluate_model(
    model: Any,
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    *,
    rearrangement: Rearrangement | None = None,
    progress: ProgressCallback | None = None,
    on_invalid: Callable[[InvalidRecord], None] | None = None,
    training_info: Mapping[str, Any] | None = None,
    scorer: Scorer | None = None,
    max_invalid: int = DEFAULT_MAX_INVALID,
    chunk_bytes: int | None = None,
) -> dict[str, Any]:
    """Score the datasource and compute AML's evaluation (see the module docstring).

    >>> result = evaluate_model(model, files, schema, CsvFormat())      # doctest: +SKIP
    >>> result["PerformanceMetrics"]["Properties"]["BinaryAUC"]        # doctest: +SKIP
    '0.9361823'
    """
    model_type = ModelType(str(model.model_type))
    if schema.target is None:
        raise DataError("the evaluation datasource has no target attribute")
    score = scorer if scorer is not None else _default_scorer()
    reader = TypedReader(
        files,
        schema,
        fmt,
        rearrangement=rearrangement,
        max_invalid=max_invalid,
        on_invalid=on_invalid,
        progress=progress,
        **({"chunk_bytes": chunk_bytes} if chunk_bytes else {}),
    )
    collected = _collector(model_type, schema)
    for chunk in reader:
        _collect(chunk, schema.target, model, model_type, score, collected, on_invalid)
    truth, output = collected.arrays()
    if truth.size == 0:
        raise DataError("no record of the evaluation data has a target value to compare with")
    invalid = reader.invalid_count + collected.missing_target
    metric, baseline, details = _metrics(model, model_type, truth, output)
    if collected.examples is not None:
        details["cell_examples"] = collected.examples.for_matrix(details["confusion_matrix"])
    if collected.sample is not None:
        details["sample"] = collected.sample.to_dict()
    return {
        "MLModelType": model_type.value,
        "PerformanceMetrics": {"Properties": {METRIC_KEYS[model_type]: _aml_number(metric)}},
        "Baseline": {"Properties": _baseline_properties(METRIC_KEYS[model_type], baseline)},
        "TotalRecordCount": int(reader.records_selected),
        "RecordCount": int(truth.size),
        "InvalidRecordCount": int(invalid),
        # Why (TotalRecordCount = RecordCount + InvalidRecordCount), for the page and the log.
        "InvalidRecordReasons": {
            "wrongFieldCount": reader.malformed_count,
            "invalidValue": reader.invalid_count - reader.malformed_count,
            "missingTarget": int(collected.missing_target),
        },
        "Alerts": _alerts(model, model_type, schema, truth, invalid, training_info or {}),
        "Details": details,
    }


def _collector(model_type: ModelType, schema: Schema) -> _Collected:
    if model_type is ModelType.MULTICLASS:
        inputs = [a.name for a in schema.input_attributes][:MAX_EXAMPLE_INPUTS]
        return _Collected(examples=CellExamples(inputs=inputs, row_id=schema.row_id))
    if model_type is ModelType.REGRESSION:
        return _Collected(sample=ReservoirSample())
    return _Collected()


def _default_scorer() -> Scorer:
    # imported here so the metrics work (and test) without the scoring package
    from mlcore.predict import score_frame

    return score_frame  # type: ignore[no-any-return]


def _collect(
    chunk: TypedChunk,
    target: str,
    model: Any,
    model_type: ModelType,
    score: Scorer,
    collected: _Collected,
    on_invalid: Callable[[InvalidRecord], None] | None,
) -> None:
    """Drop (and report) records without a target, score the rest, keep truth and output."""
    values = chunk.frame[target].to_numpy()
    if model_type is ModelType.MULTICLASS:
        present = values.astype(str) != ""
    else:
        present = ~np.isnan(values.astype(np.float64))
    _report_missing_targets(chunk, target, present, on_invalid)
    collected.missing_target += int(np.count_nonzero(~present))
    if not present.any():
        return
    frame = chunk.frame[present].reset_index(drop=True)
    output = np.asarray(score(model, frame))
    if model_type is ModelType.MULTICLASS:
        truth = values[present].astype(str)
        classes = [str(c) for c in model.classes]
        predicted = predicted_labels(output, classes)
        collected.truth.append(truth)
        collected.output.append(predicted)
        if collected.examples is not None:
            _add_examples(collected.examples, chunk, present, frame, output, classes, truth)
    else:
        collected.truth.append(values[present].astype(np.float64))
        # BINARY: P("1") per row; a (n, 2) array of both classes' probabilities also works
        if output.ndim == 2 and output.shape[1] == 2:
            output = output[:, 1]
        collected.output.append(output.astype(np.float64).ravel())
        if collected.sample is not None:
            collected.sample.add(collected.truth[-1], collected.output[-1])


def _add_examples(
    examples: CellExamples,
    chunk: TypedChunk,
    present: np.ndarray,
    frame: pd.DataFrame,
    probabilities: np.ndarray,
    classes: list[str],
    truth: np.ndarray,
) -> None:
    """The chunk's records to `examples`, with P(true class) and P(predicted class)."""
    p = np.asarray(probabilities, dtype=np.float64)
    best = np.argmax(p, axis=1)
    column = {name: i for i, name in enumerate(classes)}
    true_index = np.array([column.get(label, -1) for label in truth.tolist()], dtype=np.int64)
    rows = np.arange(p.shape[0])
    # a true class the model never learned has probability 0
    score_true = np.where(true_index >= 0, p[rows, true_index.clip(0)], 0.0)
    row_ids = frame[examples.row_id].to_numpy() if examples.row_id in frame else None
    examples.add(
        truth,
        np.asarray(classes, dtype=str)[best],
        chunk.line_numbers[present],
        score_true,
        p[rows, best],
        {name: frame[name].to_numpy() for name in examples.inputs},
        file_name=chunk.file_name,
        row_ids=row_ids,
    )


def _report_missing_targets(
    chunk: TypedChunk,
    target: str,
    present: np.ndarray,
    on_invalid: Callable[[InvalidRecord], None] | None,
) -> None:
    if on_invalid is None:
        return
    for line in chunk.line_numbers[~present].tolist():
        on_invalid(InvalidRecord(chunk.file_name, int(line), target, "the target value is missing"))


def _metrics(
    model: Any, model_type: ModelType, truth: np.ndarray, output: np.ndarray
) -> tuple[float, float | None, dict[str, Any]]:
    """The headline metric, its baseline (None when the model lacks the training figure it
    needs) and the details for the pages."""
    if model_type is ModelType.BINARY:
        saved = getattr(model, "score_threshold", None)
        threshold = 0.5 if saved is None else float(saved)
        details = binary_details(output, truth, threshold)
        return details["auc"], baseline_binary_auc(), details
    if model_type is ModelType.MULTICLASS:
        details = multiclass_details(truth, output)
        counts = getattr(model, "training_class_counts", None)
        if not counts:
            return details["macro_f1"], None, details
        counts = {str(k): int(v) for k, v in dict(counts).items()}
        return details["macro_f1"], baseline_multiclass_f1(counts, truth), details
    details = regression_details(truth, output)
    mean = getattr(model, "training_target_mean", None)
    baseline = None if mean is None else baseline_regression_rmse(float(mean), truth)
    return details["rmse"], baseline, details


def _alerts(
    model: Any,
    model_type: ModelType,
    schema: Schema,
    truth: np.ndarray,
    invalid: int,
    info: Mapping[str, Any],
) -> list[dict[str, Any]]:
    return evaluation_alerts(
        info.get("training_datasource_id"),
        info.get("evaluation_datasource_id"),
        info.get("training_records", getattr(model, "records_used", None) or None),
        int(truth.size),
        info.get("training_schema", getattr(model, "schema", None)),
        schema,
        invalid,
        info.get("training_target_distribution", _training_distribution(model, model_type)),
        _evaluation_distribution(model_type, truth),
    )


def _training_distribution(model: Any, model_type: ModelType) -> dict[str, Any] | None:
    if model_type is ModelType.REGRESSION:
        std = getattr(model, "training_target_std", None)
        mean = getattr(model, "training_target_mean", None)
        if std is None or mean is None:
            return None
        return {"kind": "numeric", "count": 0, "mean": float(mean), "std": float(std)}
    counts = getattr(model, "training_class_counts", None)
    if not counts:
        return None
    return {"kind": "categorical", "counts": {str(k): int(v) for k, v in dict(counts).items()}}


def _evaluation_distribution(model_type: ModelType, truth: np.ndarray) -> dict[str, Any]:
    if model_type is ModelType.REGRESSION:
        return numeric_distribution(truth)
    if model_type is ModelType.BINARY:
        # the binary target reads as 0.0/1.0; training counts are keyed "0"/"1"
        return categorical_distribution(truth.astype(np.int64).astype(str))
    return categorical_distribution(truth)


def _baseline_properties(key: str, baseline: float | None) -> dict[str, str]:
    return {} if baseline is None else {key: _aml_number(baseline)}


def _aml_number(value: float) -> str:
    """AML returns metrics as strings; the shortest text that reads back as the same float."""
    return repr(float(value))

"""`train_model`: from CSV files to a `TrainedModel`, with memory bounded by the model.

The work, in order:

1. **Fit pass** — `TypedReader` streams the typed records; records without a target value are
   counted and skipped; the target is summarised (class counts, or mean and standard deviation)
   and `fit_recipe` learns vocabularies, bins and scales from the same stream.
2. **Size cap** — the model's estimated size (8 bytes per weight and output, plus the feature
   names) must fit `sgd.maxMLModelSizeInBytes`; when it does not, the least frequent features are
   dropped (`FittedRecipe.drop_features`) before any encoding, and the log says how many.
3. **Encode pass** — the CSV is read a second time and each chunk is encoded into the on-disk
   `FeatureCache` (sparse rows, a small fraction of the CSV's size). A datasource of at most
   `KEEP_FRAMES_MAX_BYTES` (16 MiB) keeps its typed frames from the fit pass instead (a few
   tens of MB at most), so small data is read once, and keeps its encoded rows in memory
   rather than in `.npz` files.
4. **SGD passes** over the cache, never re-parsing the CSV (`mlcore.train.sgd`).

The reader hands CATEGORICAL columns over as pandas Categoricals (`TypedReader(categories=
True)`), so fitting counts them and encoding maps them by their integer codes.

Why read the CSV twice rather than keep the typed frames of pass 1: the typed frames of a large
datasource do not fit in memory, and keeping their text columns on disk without pickle means a
format of our own that would cost about as much as the CSV parse it saves. The reader parses
banking.csv (4.9 MB) in about 40 ms; for a 5 GB datasource the second read roughly doubles the
time of the reading passes, while the SGD passes run from the cache.

`progress(pass_k, n_passes, records, loss)` is called with pass_k = 0 (loss NaN) as records are
read in the two reading passes, then once after each SGD pass (pass_k from 1).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlcore.errors import DataError
from mlcore.features.sparse import SparseBatch
from mlcore.io.csvreader import CsvFormat
from mlcore.io.dataset import TypedReader
from mlcore.io.files import DataFile
from mlcore.io.rearrangement import Rearrangement
from mlcore.recipes import fit_recipe, parse_recipe, suggest_recipe
from mlcore.schema.model import AttributeType, ModelType, Schema
from mlcore.schema.values import convert_column
from mlcore.train.cache import FeatureCache
from mlcore.train.losses import loss_for
from mlcore.train.model import BYTES_PER_WEIGHT, TrainedModel, estimated_model_size
from mlcore.train.parameters import TrainingParameters
from mlcore.train.regularization import (
    RegularizationChoice,
    fit_sgd_automatic,
    held_out_fraction,
    held_out_rows,
)
from mlcore.train.sgd import SGDConfig, SGDResult, TargetSummary, fit_sgd

MAX_CLASSES = 100
#: datasources up to this size keep the fit pass's typed frames for the encode pass
KEEP_FRAMES_MAX_BYTES = 16 * 1024 * 1024

ProgressCallback = Callable[[int, int, int, float], None]
LogCallback = Callable[[str], None]


def train_model(
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    *,
    model_type: ModelType | str,
    recipe_text: str | None = None,
    parameters: TrainingParameters | dict[str, str] | None = None,
    rearrangement: Rearrangement | None = None,
    progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
    seed: int = 0,
    work_dir: str | Path | None = None,
) -> TrainedModel:
    """Train an AML model (BINARY, MULTICLASS or REGRESSION) on a datasource.

    Parameters
    ----------
    files, schema, fmt, rearrangement
        The datasource, as for `TypedReader`. The schema must name a target.
    model_type : ModelType or str
        BINARY (logistic loss), MULTICLASS (softmax, at most 100 classes), REGRESSION (squared).
    recipe_text : str, optional
        An AML recipe; the suggested recipe for the schema when not given.
    parameters : TrainingParameters or AML's string map, optional
        The API defaults when not given (see `TrainingParameters.from_aml`).
    progress, log : callables, optional
        See the module docstring; `log` receives one line per step worth reporting.
    seed : int, default 0
        Seeds the shuffling (`sgd.shuffleType=auto`); results are deterministic for a seed.
    work_dir : str or Path, optional
        Where the feature cache lives while training (deleted afterwards).
    """
    started = time.perf_counter()
    say = log or (lambda line: None)
    model_type = ModelType(model_type)
    params = _parameters(parameters)
    if schema.target is None:
        raise DataError("training needs a target attribute in the schema")
    if recipe_text is None:
        recipe_text = _suggested_recipe(schema, _training_records(files, fmt, rearrangement))
    target = _TargetReader(model_type, schema)
    kept: list[pd.DataFrame] | None = (
        [] if sum(f.size for f in files) <= KEEP_FRAMES_MAX_BYTES else None
    )
    fitted = _fit_recipe(
        files, schema, fmt, rearrangement, recipe_text, target, params, progress, kept
    )
    say(
        f"read {target.records_seen:,} records; {target.records_without_target:,} without a "
        f"target were skipped; the recipe gives {fitted.n_features:,} features "
        f"({time.perf_counter() - started:.2f} s)"
    )
    fitted, dropped = _fit_size_cap(fitted, target.n_outputs, params.max_model_size, say)
    held_out = _HeldOut.for_records(target.records_with_target, params)
    # small data keeps its encoded rows in memory too (kept frames mean small, see above)
    with FeatureCache(work_dir, in_memory=kept is not None) as cache:
        encoding = time.perf_counter()
        _encode(
            files,
            schema,
            fmt,
            rearrangement,
            fitted,
            target,
            cache,
            params,
            progress,
            kept,
            held_out,
        )
        kept = None
        say(
            f"encoded {cache.n_rows:,} records ({cache.nnz:,} non-zero values) into the cache "
            f"({time.perf_counter() - encoding:.2f} s)"
            + (f"; {held_out.rows:,} held out to choose the regularization" if held_out else "")
        )
        result, choice = _fit(
            cache, held_out, fitted.n_features, model_type, target, params, seed, progress, say
        )
    if choice is not None:
        params = params.resolved(l2=choice.chosen_l2)
    say(f"trained in {time.perf_counter() - started:.2f} s, {result.passes} passes")
    return TrainedModel(
        model_type=model_type,
        schema=schema,
        recipe_text=recipe_text,
        fitted_recipe=fitted,
        weights=result.weights,
        classes=target.classes,
        parameters=params,
        training_target_mean=target.mean if model_type is ModelType.REGRESSION else None,
        training_target_std=target.summary().std if model_type is ModelType.REGRESSION else None,
        training_class_counts=target.class_counts_by_label(),
        history=result.history,
        records_used=result.records,
        records_without_target=target.records_without_target,
        passes=result.passes,
        converged=result.converged,
        dropped_features=dropped,
        regularization=choice.to_json() if choice is not None else None,
    )


def _fit(
    cache: FeatureCache,
    held_out: _HeldOut | None,
    n_features: int,
    model_type: ModelType,
    target: _TargetReader,
    params: TrainingParameters,
    seed: int,
    progress: ProgressCallback | None,
    say: LogCallback,
) -> tuple[SGDResult, RegularizationChoice | None]:
    """SGD with the caller's amounts, or with the amount and passes chosen on held-out records."""
    loss = loss_for(model_type.value, target.n_outputs)
    config = SGDConfig(
        max_passes=params.max_passes,
        shuffle=params.shuffle_type == "auto",
        l1=params.l1,
        l2=params.l2 or 0.0,
        seed=seed,
    )
    if held_out is None:
        result = fit_sgd(
            cache, n_features, loss, config, target=target.summary(), progress=progress, log=say
        )
        return result, None
    started = time.perf_counter()
    automatic = fit_sgd_automatic(
        cache,
        held_out.batches,
        n_features,
        loss,
        config,
        target=target.summary(),
        progress=progress,
        log=say,
    )
    automatic.choice.seconds = time.perf_counter() - started
    return automatic.result, automatic.choice


@dataclass
class _HeldOut:
    """The records set aside while encoding, to choose the regularization on."""

    fraction: float
    batches: list[SparseBatch] = field(default_factory=list)
    position: int = 0

    @classmethod
    def for_records(cls, records: int, params: TrainingParameters) -> _HeldOut | None:
        if not params.automatic_regularization:
            return None
        return cls(held_out_fraction(records))

    @property
    def rows(self) -> int:
        return sum(len(batch) for batch in self.batches)

    def split(self, batch: SparseBatch) -> SparseBatch:
        """Keep this batch's held-out rows; return the rest, to train on."""
        mask = held_out_rows(self.position, len(batch), self.fraction)
        self.position += len(batch)
        if not mask.any():
            return batch
        self.batches.append(batch.take(np.flatnonzero(mask)))
        return batch.take(np.flatnonzero(~mask))


def _parameters(parameters: TrainingParameters | dict[str, str] | None) -> TrainingParameters:
    if isinstance(parameters, TrainingParameters):
        return parameters
    return TrainingParameters.from_aml(parameters)


def _suggested_recipe(schema: Schema, records: int) -> str:
    """The suggested recipe for about `records` training records (its bins follow the count).

    The console passes the datasource's statistics; a caller without them (the command line, a
    program) still gets bins sized to its data, not 50 bins cut from a few hundred records.
    """
    return str(suggest_recipe(schema, {"recordCount": records}))


#: the suggested recipe's bins stop growing at this many records (50 bins x 200 records)
_RECORDS_THAT_MATTER = 50 * 200


def _training_records(
    files: Sequence[DataFile], fmt: CsvFormat, rearrangement: Rearrangement | None
) -> int:
    """About how many records the split trains on, counting lines only as far as it matters.

    Lines are counted in 1 MiB blocks and the count stops once the split's share of them
    reaches `_RECORDS_THAT_MATTER`, so a 5 GB datasource costs a few blocks, not a read.
    """
    share = 1.0
    if rearrangement is not None:
        share = (rearrangement.percent_end - rearrangement.percent_begin) / 100
        share = 1.0 - share if rearrangement.complement else share
    lines = 0
    for data_file in files:
        with data_file.open() as stream:
            lines -= 1 if fmt.has_header else 0
            last = b"\n"
            while block := stream.read(1 << 20):
                lines += block.count(b"\n")
                last = block[-1:]
                if lines * share >= _RECORDS_THAT_MATTER:
                    return int(lines * share)
            lines += 0 if last == b"\n" else 1  # a last line without its newline
    return max(int(lines * share), 0)


# -- the two reading passes -----------------------------------------------------------------


def _reader(
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    rearrangement: Rearrangement | None,
    n_passes: int,
    progress: ProgressCallback | None,
) -> TypedReader:
    def reading(records: int, _bytes: int) -> None:
        if progress is not None:
            progress(0, n_passes, records, math.nan)

    # categories: CATEGORICAL columns arrive as codes, which fitting and encoding count and map
    # without hashing a string per record
    return TypedReader(
        files, schema, fmt, rearrangement=rearrangement, progress=reading, categories=True
    )


def _fit_recipe(
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    rearrangement: Rearrangement | None,
    recipe_text: str,
    target: _TargetReader,
    params: TrainingParameters,
    progress: ProgressCallback | None,
    kept: list[pd.DataFrame] | None = None,
) -> Any:
    """Fit the recipe in one reading pass; append the typed frames to `kept` when given."""
    recipe = parse_recipe(recipe_text, schema)
    reader = _reader(files, schema, fmt, rearrangement, params.max_passes, progress)

    def frames() -> Iterator[pd.DataFrame]:
        for chunk in reader:
            frame = target.observe(chunk.frame)
            if kept is not None:
                kept.append(frame)
            yield frame

    fitted = fit_recipe(recipe, schema, frames())
    target.finish()
    return fitted


def _encode(
    files: Sequence[DataFile],
    schema: Schema,
    fmt: CsvFormat,
    rearrangement: Rearrangement | None,
    fitted: Any,
    target: _TargetReader,
    cache: FeatureCache,
    params: TrainingParameters,
    progress: ProgressCallback | None,
    kept: list[pd.DataFrame] | None = None,
    held_out: _HeldOut | None = None,
) -> None:
    """Encode every record into the cache (less the `held_out` ones), from `kept` frames or a
    second reading pass."""
    if kept is not None:
        frames: Iterator[pd.DataFrame] = iter(kept)
    else:
        reader = _reader(files, schema, fmt, rearrangement, params.max_passes, progress)
        frames = (chunk.frame for chunk in reader)
    for typed in frames:
        frame, y = target.labelled(typed)
        if len(frame):
            batch: SparseBatch = fitted.encode(frame, y)
            cache.append(held_out.split(batch) if held_out is not None else batch)


def _fit_size_cap(fitted: Any, n_outputs: int, max_size: int, say: LogCallback) -> tuple[Any, int]:
    """Drop the least frequent features until the estimated model size fits `max_size`."""
    names: list[str] = list(fitted.feature_names)
    size = estimated_model_size(names, n_outputs)
    if size <= max_size:
        return fitted, 0
    keep = size_cap_mask(names, np.asarray(fitted.feature_counts), n_outputs, max_size)
    dropped = int((~keep).sum())
    trimmed = fitted.drop_features(keep)
    say(
        f"the model would take {size:,} bytes, over sgd.maxMLModelSizeInBytes={max_size:,}: "
        f"kept the {int(keep.sum()):,} most frequent features; {trimmed.dropped}"
    )
    return trimmed, dropped


def size_cap_mask(
    names: list[str], counts: np.ndarray, n_outputs: int, max_size: int
) -> np.ndarray:
    """The most frequent features whose weights and names fit in `max_size` bytes.

    >>> size_cap_mask(["a", "b", "c"], np.array([5, 9, 1]), 1, 8 + 2 * 9).tolist()
    [True, True, False]
    """
    order = np.argsort(-counts, kind="stable")
    cost = BYTES_PER_WEIGHT * n_outputs + np.array([len(n.encode("utf-8")) for n in names])
    budget = max_size - BYTES_PER_WEIGHT * n_outputs  # the intercept
    fits = np.cumsum(cost[order]) <= budget
    keep = np.zeros(len(names), dtype=bool)
    keep[order[fits]] = True
    return keep


# -- the target -------------------------------------------------------------------------------


@dataclass
class _TargetReader:
    """Counts and encodes the target: 0/1, class index, or value; missing targets are skipped."""

    model_type: ModelType
    schema: Schema
    records_seen: int = 0
    records_without_target: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    count: int = 0
    mean: float = 0.0
    _squares: float = 0.0

    @property
    def name(self) -> str:
        return str(self.schema.target)

    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.model_type is ModelType.MULTICLASS else 1

    def observe(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Count a fit-pass frame's targets; return its rows that have one."""
        self.records_seen += len(frame)
        values, present = self._values(frame[self.name])
        self.records_without_target += int((~present).sum())
        values = values[present]
        if self.model_type is ModelType.REGRESSION:
            self._add_moments(values.astype(np.float64))
        elif self.model_type is ModelType.BINARY:  # 0.0/1.0: counted without any strings
            ones = int(np.count_nonzero(values))
            self._add_counts(["0", "1"], [len(values) - ones, ones])
        else:
            labels, counts = np.unique(values, return_counts=True)
            self._add_counts(labels.tolist(), counts.tolist())
            if len(self.counts) > MAX_CLASSES:
                raise DataError(
                    f"the target {self.name!r} has more than {MAX_CLASSES} distinct values; "
                    "a MULTICLASS model supports at most 100 classes"
                )
        return _rows(frame, present)

    def _add_counts(self, labels: list[str], counts: list[int]) -> None:
        for label, count in zip(labels, counts, strict=True):
            if count:
                self.counts[label] = self.counts.get(label, 0) + count

    @property
    def records_with_target(self) -> int:
        return self.count if self.model_type is ModelType.REGRESSION else sum(self.counts.values())

    def finish(self) -> None:
        if self.model_type is ModelType.BINARY:
            self.classes = ["0", "1"]
        elif self.model_type is ModelType.MULTICLASS:
            self.classes = _sorted_labels(list(self.counts))
            if len(self.classes) < 2:
                raise DataError(f"the target {self.name!r} needs at least 2 classes")
        total = self.count if self.model_type is ModelType.REGRESSION else sum(self.counts.values())
        if total == 0:
            raise DataError(f"no record has a value for the target {self.name!r}")

    def labelled(self, frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """An encode-pass frame's rows with a target, and their y for SGD."""
        values, present = self._values(frame[self.name])
        values = values[present]
        if self.model_type is ModelType.MULTICLASS:
            index = {label: i for i, label in enumerate(self.classes)}
            y = np.array([index.get(v, -1) for v in values.tolist()], dtype=np.float64)
            known = y >= 0  # a class unseen in the fit pass cannot happen on the same data
            return _rows(_rows(frame, present), known), y[known]
        return _rows(frame, present), values.astype(np.float64)  # BINARY: 0.0/1.0

    def summary(self) -> TargetSummary:
        if self.model_type is ModelType.REGRESSION:
            variance = self._squares / self.count if self.count else 1.0
            return TargetSummary(mean=self.mean, std=math.sqrt(variance) or 1.0)
        counts = np.array([self.counts.get(label, 0) for label in self.classes], dtype=np.int64)
        return TargetSummary(class_counts=counts)

    def class_counts_by_label(self) -> dict[str, int] | None:
        if self.model_type is ModelType.REGRESSION:
            return None
        return {label: int(self.counts.get(label, 0)) for label in self.classes}

    def _values(self, column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """The target as numbers (REGRESSION; BINARY as 0.0/1.0) or label strings (MULTICLASS),
        and where it is present."""
        if self.model_type is ModelType.REGRESSION:
            numbers = _as_numbers(column, self.name)
            return numbers, ~np.isnan(numbers)
        if self.model_type is ModelType.BINARY:
            numbers = _as_binary(column, self.name)
            return numbers, ~np.isnan(numbers)
        labels = _as_labels(column)
        return labels, labels != ""

    def _add_moments(self, values: np.ndarray) -> None:
        """Chan et al.'s merge of (count, mean, M2), stable for large means."""
        if not len(values):
            return
        n, mean = len(values), float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        total = self.count + n
        delta = mean - self.mean
        self._squares += m2 + delta * delta * self.count * n / total
        self.mean += delta * n / total
        self.count = total


def _rows(frame: pd.DataFrame, keep: np.ndarray) -> pd.DataFrame:
    """The rows where `keep` is True; the frame itself (no copy) when that is all of them."""
    return frame if bool(keep.all()) else frame[keep]


def _as_numbers(column: pd.Series, name: str) -> np.ndarray:
    if column.dtype == np.float64:
        return column.to_numpy(dtype=np.float64)
    converted = convert_column(AttributeType.NUMERIC, column)
    if np.any(converted.invalid):
        raise DataError(f"the target {name!r} must be numeric for a REGRESSION model")
    return np.asarray(converted.values, dtype=np.float64)


def _as_binary(column: pd.Series, name: str) -> np.ndarray:
    if column.dtype == np.float64:
        numbers = column.to_numpy(dtype=np.float64)
    else:
        converted = convert_column(AttributeType.BINARY, column)
        if np.any(converted.invalid):
            raise DataError(f"the target {name!r} must hold 0/1 values for a BINARY model")
        numbers = np.asarray(converted.values, dtype=np.float64)
    if np.any((numbers != 0) & (numbers != 1) & ~np.isnan(numbers)):
        raise DataError(f"the target {name!r} must hold 0/1 values for a BINARY model")
    return numbers


def _as_labels(column: pd.Series) -> np.ndarray:
    """Class labels as strings ("" when missing); whole numbers print without ".0"."""
    if isinstance(column.dtype, pd.CategoricalDtype):  # label the categories, not every row
        categories = [str(v).strip() for v in column.cat.categories.tolist()]
        return np.array([*categories, ""], dtype=object)[column.cat.codes.to_numpy()]
    if column.dtype == np.float64:
        numbers = column.to_numpy(dtype=np.float64)
        return np.array([_number_label(value) for value in numbers.tolist()], dtype=object)
    return np.array([str(v).strip() for v in column.tolist()], dtype=object)


def _number_label(value: float) -> str:
    if math.isnan(value):
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def _sorted_labels(labels: list[str]) -> list[str]:
    """Numeric order when every label is a number ("2" before "10"), else string order."""
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def iter_encoded(model: TrainedModel, frames: Iterator[pd.DataFrame]) -> Iterator[SparseBatch]:
    """Encode typed frames with a trained model's recipe (for evaluation and batch scoring)."""
    for frame in frames:
        yield model.fitted_recipe.encode(frame, np.full(len(frame), np.nan))

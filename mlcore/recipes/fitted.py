"""Fitting a recipe on training data, and encoding records into sparse feature rows.

`fit_recipe` makes one pass over typed frames and learns what the outputs need: quantile bin
boundaries (from a bounded value→count map), means and standard deviations, and the vocabulary of
every categorical, word, n-gram and cartesian output with how often each entry was seen. The
result, a `FittedRecipe`, turns a frame into a `SparseBatch`:

* NUMERIC outputs (raw numerics and `normalize(x)`): one feature, standardised with the training
  mean and standard deviation (so `normalize(x)` and `x` give the same values; SGD needs every
  numeric feature well scaled), plus `x:missing` = 1 when the value is missing (0 is then used).
  The indicator exists only if training saw missing values.
* BINARY outputs: one feature, 1.0 when true.
* Categorical, bins, words, n-grams, cartesian: one feature per vocabulary entry, value 1.0 when
  the record has it (presence, not counts: a repeated word does not outweigh others). Entries
  not seen in training are ignored; a missing quantile_bin input is the `missing` bin.

>>> import pandas as pd
>>> from mlcore.recipes.recipe import parse_recipe
>>> from mlcore.schema.model import Attribute, AttributeType, Schema
>>> schema = Schema([Attribute("age", AttributeType.NUMERIC), Attribute("job", AttributeType.CATEGORICAL)])
>>> recipe = parse_recipe({"outputs": ["job", "age"]}, schema)
>>> fitted = fit_recipe(recipe, schema, [pd.DataFrame({"age": [30.0, float("nan")], "job": ["a", "b"]})])
>>> fitted.feature_names
['job=a', 'job=b', 'age', 'age:missing']
>>> fitted.encode(pd.DataFrame({"age": [30.0], "job": ["c"]})).to_dense().tolist()
[[0.0, 0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from mlcore.features.sparse import SparseBatch
from mlcore.recipes import transforms
from mlcore.recipes.nodes import (
    BINARY,
    BINNED,
    CATEGORICAL,
    NUMERIC,
    TEXT,
    AttributeNode,
    Node,
    OutputSpec,
    TransformNode,
    node_from_dict,
)
from mlcore.recipes.recipe import Recipe
from mlcore.schema.model import Schema
from mlcore.stats.categorical import CappedCounts
from mlcore.stats.distinct import DistinctValueCounts, round_significant
from mlcore.stats.moments import Moments

FORMAT_VERSION = 1
MAX_VOCABULARY = 1_000_000  # per output while fitting; the rarest entries beyond it are dropped
MISSING_BIN = "missing"
# values looked at to decide whether a column repeats its values enough to bin them by hash
REPEAT_SAMPLE = 1000
VALUE, MISSING = "value", "missing"
# while fitting, a binned value inside a cartesian is carried as a placeholder holding the raw
# value; the real bin label replaces it once the boundaries are known (after the pass)
_PLACEHOLDER = re.compile("\x01(\\d+)\x02([^\x03]*)\x03")


@dataclass
class FittedOutput:
    """One output's learned state: its feature keys (vocabulary) and their training counts.

    `keys` are the vocabulary entries for categorical-like outputs, `["value", "missing"]` (or a
    subset) for NUMERIC and `["value"]` for BINARY.
    """

    spec: OutputSpec
    keys: list[str]
    counts: list[int]
    mean: float = 0.0
    std: float = 1.0
    _index: pd.Index | None = field(default=None, repr=False, compare=False)

    @property
    def kind(self) -> str:
        return self.spec.kind

    @property
    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.keys, dtype=object)
        return self._index

    def feature_names(self) -> list[str]:
        label = self.spec.label
        if self.kind in (NUMERIC, BINARY):
            return [label if key == VALUE else f"{label}:missing" for key in self.keys]
        return [f"{label}={key}" for key in self.keys]

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.spec.node.to_dict(),
            "source": self.spec.source,
            "keys": self.keys,
            "counts": self.counts,
            "mean": self.mean,
            "std": self.std,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedOutput:
        spec = OutputSpec(node_from_dict(data["node"]), str(data.get("source", "")))
        return cls(
            spec,
            [str(k) for k in data["keys"]],
            [int(c) for c in data["counts"]],
            float(data["mean"]),
            float(data["std"]),
        )


class _Evaluator:
    """Evaluates transform trees on a frame. `bins` maps a quantile_bin label to its cut points;
    without them (while fitting) binned values come out as placeholders."""

    def __init__(self, frame: pd.DataFrame, bins: dict[str, np.ndarray] | None) -> None:
        self.frame = frame
        self.bins = bins
        self.n_rows = len(frame)
        self.placeholder_ids: dict[str, int] = {}

    def numbers(self, node: Node) -> np.ndarray:
        """A NUMERIC/BINARY node's values (NaN = missing). normalize is applied by the output."""
        if isinstance(node, TransformNode):  # normalize: ranks and bins do not change
            return self.numbers(node.args[0])
        if node.name not in self.frame.columns:
            return np.full(self.n_rows, np.nan)
        column = self.frame[node.name]
        if column.dtype == np.float64:
            return column.to_numpy()
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64)

    def coded(self, node: Node) -> tuple[np.ndarray, pd.Index] | None:
        """An attribute held as a pandas Categorical (training's reader makes CATEGORICAL ones
        so): its codes (-1 = NaN) and categories. None for anything else."""
        if not isinstance(node, AttributeNode) or node.name not in self.frame.columns:
            return None
        column = self.frame[node.name]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            return None
        return column.cat.codes.to_numpy(), column.cat.categories

    def strings(self, node: Node) -> np.ndarray:
        """A CATEGORICAL/TEXT node's strings ("" = missing)."""
        if isinstance(node, AttributeNode):
            if node.name not in self.frame.columns:
                return np.full(self.n_rows, "", dtype=object)
            return self.frame[node.name].to_numpy(dtype=object, na_value="")
        inner = self.strings(node.args[0])
        return (
            transforms.lowercase(inner)
            if node.function == "lowercase"
            else transforms.no_punct(inner)
        )

    def tokens(self, node: Node) -> transforms.Tokens:
        kind = node.kind
        if kind == BINARY:
            values = self.numbers(node)
            rows = np.flatnonzero(~np.isnan(values)).astype(np.int64)
            return rows, np.where(values[rows] == 1, "1", "0").astype(object)
        if kind == BINNED:
            return self.binned(node)
        if kind == CATEGORICAL:
            if isinstance(node, TransformNode) and node.function == "cartesian":
                return self.cartesian(node)
            return transforms.whole_tokens(self.strings(node))
        if kind == TEXT:
            return transforms.text_tokens(self.strings(node))
        assert isinstance(node, TransformNode)
        if node.function == "cartesian":
            return self.cartesian(node)
        inner = self.words(node.args[0])
        assert node.n is not None
        return (transforms.ngram if node.function == "ngram" else transforms.osb)(*inner, node.n)

    def words(self, node: Node) -> transforms.Tokens:
        """Text-like input of ngram/osb: a categorical value is treated as text here."""
        return transforms.text_tokens(self.strings(node))

    def cartesian(self, node: TransformNode) -> transforms.Tokens:
        return transforms.cartesian(self.tokens(node.args[0]), self.tokens(node.args[1]))

    def binned(self, node: Node) -> transforms.Tokens:
        assert isinstance(node, TransformNode)
        values = self.numbers(node.args[0])
        missing = np.isnan(values)
        if self.bins is None:
            key = self.placeholder_ids[node.label]
            rounded = round_significant(np.nan_to_num(values), 6)
            # numpy's str() of a float64 is its shortest round-tripping repr
            # (no NUL bytes: numpy strips trailing NULs from its string scalars)
            labels = f"\x01{key}\x02" + rounded.astype(str).astype(object) + "\x03"
        else:
            boundaries = self.bins[node.label]
            names = np.array(transforms.bin_labels(boundaries), dtype=object)
            labels = names[transforms.bin_index(np.nan_to_num(values), boundaries)]
        labels[missing] = MISSING_BIN
        return np.arange(self.n_rows, dtype=np.int64), labels


class FittedRecipe:
    """A recipe with everything learned from training data; turns frames into `SparseBatch`es.

    `feature_names`, `n_features`, `feature_counts` (how often each feature was seen in
    training, for the size cap), `encode(frame, y)`, `drop_features(keep)`, `to_dict()`.
    `dropped` describes what `drop_features` or `max_features` removed ("" if nothing).
    """

    def __init__(
        self, outputs: list[FittedOutput], bins: dict[str, np.ndarray], dropped: str = ""
    ) -> None:
        self.outputs = outputs
        self.bins = bins
        self.dropped = dropped
        sizes = [len(output.keys) for output in outputs]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)]).astype(np.int64)

    @property
    def n_features(self) -> int:
        return int(self.offsets[-1])

    @property
    def feature_names(self) -> list[str]:
        return [name for output in self.outputs for name in output.feature_names()]

    @property
    def feature_counts(self) -> np.ndarray:
        counts = [count for output in self.outputs for count in output.counts]
        return np.asarray(counts, dtype=np.int64)

    def encode(self, frame: pd.DataFrame, y: np.ndarray | None = None) -> SparseBatch:
        """The frame's records as CSR rows (float32 values); `y` is stored as float64 (NaN if None)."""
        frame = frame.reset_index(drop=True)
        evaluator = _Evaluator(frame, self.bins)
        parts = [
            _encode_output(output, evaluator, int(offset))
            for output, offset in zip(self.outputs, self.offsets[:-1], strict=True)
        ]
        targets = np.full(len(frame), np.nan) if y is None else np.asarray(y, dtype=np.float64)
        if all(isinstance(part, _Slot) for part in parts):
            return _assemble_slots(parts, len(frame), self.n_features, targets)  # type: ignore[arg-type]
        spread = [part.spread() if isinstance(part, _Slot) else part for part in parts]
        return _assemble(spread, len(frame), self.n_features, targets)

    def drop_features(self, keep: np.ndarray) -> FittedRecipe:
        """A copy keeping only the features where `keep` is True (e.g. to fit a size cap)."""
        keep = np.asarray(keep, dtype=bool)
        if len(keep) != self.n_features:
            raise ValueError(f"keep has {len(keep)} entries for {self.n_features} features")
        outputs = []
        for output, start in zip(self.outputs, self.offsets[:-1], strict=True):
            mask = keep[start : start + len(output.keys)]
            outputs.append(
                replace(
                    output,
                    keys=[k for k, kept in zip(output.keys, mask, strict=True) if kept],
                    counts=[c for c, kept in zip(output.counts, mask, strict=True) if kept],
                    _index=None,
                )
            )
        return FittedRecipe(outputs, self.bins, _describe_drop(self, keep))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (lists, strings, numbers)."""
        return {
            "version": FORMAT_VERSION,
            "outputs": [output.to_dict() for output in self.outputs],
            "bins": {label: cuts.tolist() for label, cuts in self.bins.items()},
            "dropped": self.dropped,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FittedRecipe:
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unsupported fitted recipe version {data.get('version')!r}")
        bins = {str(k): np.asarray(v, dtype=np.float64) for k, v in data["bins"].items()}
        outputs = [FittedOutput.from_dict(item) for item in data["outputs"]]
        return cls(outputs, bins, str(data.get("dropped", "")))


def _describe_drop(fitted: FittedRecipe, keep: np.ndarray) -> str:
    dropped = int((~keep).sum())
    if dropped == 0:
        return fitted.dropped
    per_output = []
    for output, start in zip(fitted.outputs, fitted.offsets[:-1], strict=True):
        gone = int((~keep[start : start + len(output.keys)]).sum())
        if gone:
            per_output.append(f"{output.spec.label}: {gone}")
    text = f"dropped {dropped:,} of {fitted.n_features:,} features ({'; '.join(per_output)})"
    return f"{fitted.dropped}; {text}" if fitted.dropped else text


# -- encoding ---------------------------------------------------------------------------------

_Part = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class _Slot:
    """An output that stores at most one value per row, as dense per-row arrays.

    NUMERIC, BINARY, CATEGORICAL and BINNED outputs are of this kind (only text and token
    outputs can store several values in a row). `columns[i]` is row i's feature, -1 for none;
    `values` is None when every stored value is 1.0 (one-hot). Dense slots avoid a sort by row:
    a recipe of slots only is assembled by stacking them side by side.
    """

    columns: np.ndarray  # int64, shape (n_rows,)
    values: np.ndarray | None = None  # float32, shape (n_rows,)

    def spread(self) -> _Part:
        """As (rows, columns, values) of the stored values, for mixing with token outputs."""
        rows = np.flatnonzero(self.columns >= 0)
        values = np.ones(len(rows), np.float32) if self.values is None else self.values[rows]
        return rows, self.columns[rows], values


def _encode_output(output: FittedOutput, evaluator: _Evaluator, offset: int) -> _Part | _Slot:
    node = output.spec.node
    if output.kind == NUMERIC:
        return _encode_numeric(output, evaluator.numbers(node), offset)
    if output.kind == BINARY:
        if VALUE not in output.keys:
            return _Slot(np.full(evaluator.n_rows, -1, dtype=np.int64))
        return _Slot(np.where(evaluator.numbers(node) == 1, offset, -1).astype(np.int64))
    if output.kind == BINNED and not _is_cartesian(node):
        return _encode_bins(output, evaluator, offset)
    if output.kind == CATEGORICAL and isinstance(node, AttributeNode):
        return _Slot(_category_columns(output, evaluator, node, offset))
    rows, tokens = evaluator.tokens(node)
    columns = output.index.get_indexer(tokens)
    known = columns >= 0
    rows, columns = rows[known], columns[known].astype(np.int64)
    if output.kind == CATEGORICAL:  # lowercase/no_punct/cartesian of one-per-row inputs
        slot = np.full(evaluator.n_rows, -1, dtype=np.int64)
        slot[rows] = columns + offset
        return _Slot(slot)
    width = max(len(output.keys), 1)  # several tokens per row may repeat
    unique = np.unique(rows * width + columns)
    rows, columns = unique // width, unique % width
    return rows, columns + offset, np.ones(len(rows), dtype=np.float32)


def _category_columns(
    output: FittedOutput, evaluator: _Evaluator, node: AttributeNode, offset: int
) -> np.ndarray:
    """Each row's feature for a CATEGORICAL attribute (-1: missing or not in the vocabulary)."""
    coded = evaluator.coded(node)
    if coded is not None:
        # look up the few categories, not every row's string; a NaN code (-1) picks the -1
        # appended at the end
        codes, categories = coded
        key_of_category = output.index.get_indexer(categories)
        key_of_category[np.asarray(categories == "", dtype=bool)] = -1
        columns = np.append(key_of_category, -1)[codes]
    else:
        strings = evaluator.strings(node)
        columns = output.index.get_indexer(strings)
        if "" in output.index:  # "" is the missing value, never a category
            columns[strings == ""] = -1
    return np.where(columns >= 0, columns + offset, -1).astype(np.int64)


def _encode_bins(output: FittedOutput, evaluator: _Evaluator, offset: int) -> _Slot:
    """Each value's bin by binary search; bin numbers map to the output's keys (some dropped)."""
    node = output.spec.node
    assert isinstance(node, TransformNode) and evaluator.bins is not None
    values = evaluator.numbers(node.args[0])
    boundaries = evaluator.bins[node.label]
    key_of_bin = output.index.get_indexer(transforms.bin_labels(boundaries))
    columns = key_of_bin[_bin_numbers(np.nan_to_num(values), boundaries)]
    missing = np.isnan(values)
    if missing.any():
        columns[missing] = output.index.get_indexer([MISSING_BIN])[0]
    return _Slot(np.where(columns >= 0, columns + offset, -1).astype(np.int64))


def _bin_numbers(values: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """`transforms.bin_index(values, boundaries)`, searching each distinct value once when the
    values repeat (as most numeric columns do: a binary search per record costs 4x a hash)."""
    sample = values[:REPEAT_SAMPLE]
    if len(values) > 4 * REPEAT_SAMPLE and 2 * len(pd.unique(sample)) <= len(sample):
        codes, distinct = pd.factorize(values)  # no NaN here, so every code is >= 0
        return transforms.bin_index(distinct, boundaries)[codes]
    return transforms.bin_index(values, boundaries)


def _encode_numeric(output: FittedOutput, values: np.ndarray, offset: int) -> _Slot:
    """The standardised value when present, the `:missing` indicator (1.0) when not."""
    present = ~np.isnan(values)
    value_column = offset + output.keys.index(VALUE) if VALUE in output.keys else -1
    missing_column = offset + output.keys.index(MISSING) if MISSING in output.keys else -1
    columns = np.where(present, value_column, missing_column).astype(np.int64)
    scaled = np.where(present, (values - output.mean) / output.std, 1.0)
    return _Slot(columns, scaled.astype(np.float32))


def _assemble_slots(
    slots: list[_Slot], n_rows: int, n_features: int, targets: np.ndarray
) -> SparseBatch:
    """Stack the slots side by side: row i's values are its slots' in output order.

    Outputs own increasing column ranges, so every row's columns come out ascending. When no
    slot is empty in any row (banking's case), the rows are fixed-width and need no masking.
    """
    n_slots = len(slots)
    columns = np.empty((n_rows, n_slots), dtype=np.int32)
    values = np.ones((n_rows, n_slots), dtype=np.float32)
    for position, slot in enumerate(slots):
        columns[:, position] = slot.columns
        if slot.values is not None:
            values[:, position] = slot.values
    present = columns >= 0
    if present.all():
        indptr = np.arange(n_rows + 1, dtype=np.int64) * n_slots
        return SparseBatch(
            indptr, columns.ravel(), values.ravel(), targets, n_features
        ).known_width(n_slots)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(present.sum(axis=1), out=indptr[1:])
    return SparseBatch(indptr, columns[present], values[present], targets, n_features)


def _assemble(parts: list[_Part], n_rows: int, n_features: int, targets: np.ndarray) -> SparseBatch:
    rows = np.concatenate([p[0] for p in parts]) if parts else np.empty(0, np.int64)
    columns = np.concatenate([p[1] for p in parts]) if parts else np.empty(0, np.int64)
    values = np.concatenate([p[2] for p in parts]) if parts else np.empty(0, np.float32)
    # outputs own increasing column ranges and each part is sorted within a row, so a stable
    # sort by row alone leaves every row's columns ascending
    order = np.argsort(rows, kind="stable")
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_rows), out=indptr[1:])
    return SparseBatch(
        indptr,
        columns[order].astype(np.int32),
        values[order].astype(np.float32),
        targets,
        n_features,
    )


# -- fitting ----------------------------------------------------------------------------------


class _OutputAccumulator:
    """What one output learns during the pass."""

    def __init__(self, spec: OutputSpec) -> None:
        self.spec = spec
        self.moments = Moments()
        self.missing = 0
        self.trues = 0
        self.vocabulary = CappedCounts(MAX_VOCABULARY)

    def update(self, evaluator: _Evaluator) -> None:
        node, kind = self.spec.node, self.spec.kind
        if kind in (NUMERIC, BINARY):
            values = evaluator.numbers(node)
            present = values[~np.isnan(values)]
            self.missing += len(values) - len(present)
            self.moments.update(present)
            self.trues += int((present == 1).sum())
        elif kind != BINNED or _is_cartesian(node):  # plain bins are counted from the values
            coded = evaluator.coded(node) if kind == CATEGORICAL else None
            if coded is not None:
                self.vocabulary.merge(_category_counts(*coded))
                return
            tokens = evaluator.tokens(node)[1]
            self.vocabulary.update(pd.Series(tokens, dtype=object))

    def finish(
        self,
        bins: dict[str, np.ndarray],
        values: dict[str, DistinctValueCounts],
        missing: dict[str, int],
    ) -> FittedOutput:
        kind = self.spec.kind
        if kind == NUMERIC:
            return self._numeric()
        if kind == BINARY:
            return FittedOutput(self.spec, [VALUE], [self.trues])
        label = self.spec.label
        if kind == BINNED and not _is_cartesian(self.spec.node):
            return self._bins(bins[label], values[label], missing[label])
        counts = _resolve_placeholders(self.vocabulary.counts, list(values), bins)
        keys = sorted(counts)
        return FittedOutput(self.spec, keys, [counts[k] for k in keys])

    def _numeric(self) -> FittedOutput:
        keys, counts = [VALUE], [self.moments.n]
        if self.missing:
            keys.append(MISSING)
            counts.append(self.missing)
        std = self.moments.stddev(ddof=0) or 0.0
        return FittedOutput(
            self.spec,
            keys,
            counts,
            self.moments.mean,
            std if std > 0 and math.isfinite(std) else 1.0,
        )

    def _bins(self, cuts: np.ndarray, seen: DistinctValueCounts, missing: int) -> FittedOutput:
        per_bin = np.bincount(
            transforms.bin_index(seen.values, cuts), weights=seen.counts, minlength=len(cuts) + 1
        )
        keys = transforms.bin_labels(cuts)
        counts = [int(round(c)) for c in per_bin]
        if missing:
            keys.append(MISSING_BIN)
            counts.append(missing)
        return FittedOutput(self.spec, keys, counts)


def _category_counts(codes: np.ndarray, categories: pd.Index) -> CappedCounts:
    """How often each present category occurs, counted on the codes (no string hashing)."""
    counts = np.bincount(codes[codes >= 0], minlength=len(categories))
    seen = (counts > 0) & np.asarray(categories != "", dtype=bool)
    chunk = CappedCounts(MAX_VOCABULARY)
    chunk.counts = pd.Series(
        counts[seen].astype(np.int64), index=pd.Index(categories[seen], dtype=object)
    )
    return chunk


def _add_distinct(seen: DistinctValueCounts, values: np.ndarray) -> None:
    """`seen.update(values)`, with the distinct values found by hashing rather than sorting.

    A numeric column repeats few values (banking's 41,188 ages are 78 numbers), so hashing
    them and sorting the distinct ones is 2-4x faster than `np.unique` on every value.
    """
    if len(values) == 0:
        return
    codes, distinct = pd.factorize(values)
    counts = np.bincount(codes, minlength=len(distinct))
    order = np.argsort(distinct)
    chunk = DistinctValueCounts(seen.max_distinct)
    chunk.values, chunk.counts = distinct[order], counts[order].astype(np.int64)
    seen.merge(chunk)


def _resolve_placeholders(
    counts: pd.Series, binned: list[str], bins: dict[str, np.ndarray]
) -> dict[str, int]:
    """Vocabulary counts with each placeholder replaced by its bin's label.

    `binned[i]` is the quantile_bin label of placeholder number i.
    """
    labels = {label: transforms.bin_labels(cuts) for label, cuts in bins.items()}

    def bin_label(match: re.Match[str]) -> str:
        label = binned[int(match.group(1))]
        index = transforms.bin_index(np.array([float(match.group(2))]), bins[label])[0]
        return labels[label][index]

    result: dict[str, int] = {}
    for token, count in counts.items():
        key = _PLACEHOLDER.sub(bin_label, str(token))
        result[key] = result.get(key, 0) + int(count)
    return result


def fit_recipe(
    recipe: Recipe,
    schema: Schema,
    frames: Iterable[pd.DataFrame],
    *,
    max_features: int | None = None,
) -> FittedRecipe:
    """Learn the recipe's features in one pass over typed frames (see the module docstring).

    With `max_features`, only the most frequently seen features are kept (ties: first listed).
    """
    del schema  # the recipe's trees already carry the attribute types
    accumulators = [_OutputAccumulator(spec) for spec in recipe.outputs]
    binned = _binned_nodes(recipe.outputs)
    seen = {label: DistinctValueCounts() for label in binned}
    missing = dict.fromkeys(binned, 0)
    for item in frames:
        # a TypedChunk is accepted too, for callers that pass the reader's chunks directly
        frame = item.frame if hasattr(item, "frame") else item
        evaluator = _Evaluator(frame.reset_index(drop=True), None)
        evaluator.placeholder_ids = {label: i for i, label in enumerate(binned)}
        for label, node in binned.items():
            values = evaluator.numbers(node.args[0])
            finite = values[np.isfinite(values)]
            missing[label] += len(values) - len(finite)
            _add_distinct(seen[label], finite)
        for accumulator in accumulators:
            accumulator.update(evaluator)
    bins = {
        label: transforms.equal_population_boundaries(
            seen[label].values, seen[label].counts, node.n or 2
        )
        for label, node in binned.items()
    }
    fitted = FittedRecipe([a.finish(bins, seen, missing) for a in accumulators], bins)
    if max_features is not None and fitted.n_features > max_features:
        fitted = fitted.drop_features(_most_frequent(fitted.feature_counts, max_features))
    return fitted


def _is_cartesian(node: Node) -> bool:
    return isinstance(node, TransformNode) and node.function == "cartesian"


def _binned_nodes(outputs: list[OutputSpec]) -> dict[str, TransformNode]:
    nodes: dict[str, TransformNode] = {}
    for output in outputs:
        for node in output.node.walk():
            if isinstance(node, TransformNode) and node.function == "quantile_bin":
                nodes.setdefault(node.label, node)
    return nodes


def _most_frequent(counts: np.ndarray, limit: int) -> np.ndarray:
    order = np.argsort(-counts, kind="stable")
    keep = np.zeros(len(counts), dtype=bool)
    keep[order[:limit]] = True
    return keep

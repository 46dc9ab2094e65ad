"""The margins of one record of strings without pandas, for the Predict API.

`scoring.score_frame` of a one-row frame costs ~16 ms: `record_frame` converts each value
through a one-element Series and the recipe's encoders build ~130 Series and Indexes for the
row. Here each value is converted by the scalar twins of `mlcore.schema.values.convert_column`,
each recipe output is evaluated for that one record as `mlcore.recipes.fitted._Evaluator`
evaluates it for a frame, and the features go through the engine's own `margins_of`: the same
features, the same float32 values, the same summation, so the same margins bit for bit.

What the recipe needs (each output's vocabulary as a dict, its bin boundaries and the column of
each bin) is worked out once per fitted recipe and kept while the recipe lives.

A recipe that reads an attribute with a type other than the schema's, or uses a function this
module does not know, has no compiled form (`record_margins` returns None): the caller then
uses the frame path.

>>> convert_value(AttributeType.NUMERIC, " 1.5e3 "), convert_value(AttributeType.NUMERIC, "inf")
(1500.0, nan)
>>> convert_value(AttributeType.BINARY, " Yes"), convert_value(AttributeType.CATEGORICAL, " a ")
(1.0, 'a')
"""

from __future__ import annotations

import bisect
import math
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcore.features.sparse import SparseBatch
from mlcore.recipes.fitted import MISSING, MISSING_BIN, VALUE, FittedOutput, FittedRecipe
from mlcore.recipes.nodes import (
    BINARY,
    BINNED,
    CATEGORICAL,
    NUMERIC,
    TEXT,
    AttributeNode,
    Node,
    TransformNode,
)
from mlcore.recipes.transforms import _EDGE_PUNCT, bin_labels
from mlcore.schema.model import AttributeType, Schema
from mlcore.schema.values import _BINARY_VALUE, _NUMBER, convert_column
from mlcore.train.model import TrainedModel
from mlcore.train.sgd import margins_of

NAN = float("nan")
Value = float | str  # NUMERIC/BINARY: a float (NaN = missing); CATEGORICAL/TEXT: "" = missing
Values = Mapping[str, Value]
# a feature term appends (column, value) pairs; value is the float64 the batch path casts to
# float32 before multiplying
Term = Callable[[Values, list[int], list[float]], None]

_KNOWN_FUNCTIONS = frozenset(
    {"lowercase", "no_punct", "ngram", "osb", "quantile_bin", "normalize", "cartesian"}
)


def convert_value(type: AttributeType, text: str) -> Value:
    """One raw value as `convert_column(type, ...)` converts it: NUMERIC and BINARY to a float
    (NaN for missing or invalid), CATEGORICAL and TEXT to the stripped string."""
    if type is AttributeType.NUMERIC:
        return _convert_number(text)
    if type is AttributeType.BINARY:
        return _BINARY_VALUE.get(text.strip().lower(), NAN)
    return text.strip()


def _convert_number(text: str) -> float:
    stripped = text.strip()
    if not stripped:
        return NAN
    if _NUMBER.fullmatch(stripped):  # the literals pandas.to_numeric reads (minus nan/inf)
        number = float(stripped)
        return number if math.isfinite(number) else NAN
    # anything else is invalid for the rules in values.py; they decide, so an odd literal
    # pandas happens to read is still read the same way here (rare: invalid values only)
    return float(convert_column(AttributeType.NUMERIC, pd.Series([text], dtype=object)).values[0])


# -- one record's transform trees (the scalar form of fitted._Evaluator) ------------------------


def _number(node: Node, values: Values) -> float:
    if isinstance(node, TransformNode):  # normalize: applied by the output
        return _number(node.args[0], values)
    value = values.get(node.name, NAN)
    assert isinstance(value, float)
    return value


def _string(node: Node, values: Values) -> str:
    if isinstance(node, AttributeNode):
        value = values.get(node.name, "")
        assert isinstance(value, str)
        return value
    inner = _string(node.args[0], values)
    # as the frame evaluator: any function but lowercase here is no_punct
    return inner.lower() if node.function == "lowercase" else _no_punct(inner)


def _no_punct(text: str) -> str:
    return " ".join(_EDGE_PUNCT.sub("", text).split())


def _tokens(
    node: Node, values: Values, bins: dict[str, tuple[list[float], list[str]]]
) -> list[str]:
    kind = node.kind
    if kind == BINARY:
        value = _number(node, values)
        return [] if math.isnan(value) else ["1" if value == 1 else "0"]
    if kind == BINNED:
        assert isinstance(node, TransformNode)
        value = _number(node.args[0], values)
        if math.isnan(value):
            return [MISSING_BIN]
        boundaries, labels = bins[node.label]
        return [labels[bisect.bisect_right(boundaries, value)]]
    if kind == CATEGORICAL:
        if isinstance(node, TransformNode) and node.function == "cartesian":
            return _cartesian(node, values, bins)
        text = _string(node, values)
        return [text] if text != "" else []
    if kind == TEXT:
        return _string(node, values).split()
    assert isinstance(node, TransformNode)
    if node.function == "cartesian":
        return _cartesian(node, values, bins)
    words = _string(node.args[0], values).split()
    assert node.n is not None
    return (_ngrams if node.function == "ngram" else _osb)(words, node.n)


def _cartesian(
    node: TransformNode, values: Values, bins: dict[str, tuple[list[float], list[str]]]
) -> list[str]:
    left = _tokens(node.args[0], values, bins)
    right = _tokens(node.args[1], values, bins)
    return [f"{a}_{b}" for a in left for b in right]


def _ngrams(words: list[str], n: int) -> list[str]:
    """`transforms.ngram` of one record: the words, then every k-gram for k = 2..n."""
    grams = list(words)
    for k in range(2, n + 1):
        grams.extend(" ".join(words[i : i + k]) for i in range(len(words) - k + 1))
    return grams


def _osb(words: list[str], n: int) -> list[str]:
    """`transforms.osb` of one record: each word with each of the next n-1, `_` per gap."""
    return [
        words[i] + "_" * gap + words[i + gap]
        for gap in range(1, n)
        for i in range(len(words) - gap)
    ]


# -- compiling a fitted recipe into per-output terms ------------------------------------------


def _numeric_term(output: FittedOutput, offset: int) -> Term:
    node, keys = output.spec.node, output.keys
    value_column = offset + keys.index(VALUE) if VALUE in keys else -1
    missing_column = offset + keys.index(MISSING) if MISSING in keys else -1
    mean, std = output.mean, output.std

    def term(values: Values, columns: list[int], scaled: list[float]) -> None:
        value = _number(node, values)
        if math.isnan(value):
            if missing_column >= 0:
                columns.append(missing_column)
                scaled.append(1.0)
        elif value_column >= 0:
            columns.append(value_column)
            scaled.append((value - mean) / std)

    return term


def _binary_term(output: FittedOutput, offset: int) -> Term | None:
    if VALUE not in output.keys:
        return None
    node = output.spec.node

    def term(values: Values, columns: list[int], scaled: list[float]) -> None:
        if _number(node, values) == 1:
            columns.append(offset)
            scaled.append(1.0)

    return term


def _bins_term(output: FittedOutput, offset: int, bins: dict[str, np.ndarray]) -> Term:
    node = output.spec.node
    assert isinstance(node, TransformNode)
    boundaries = bins[node.label]
    position = _positions(output.keys, offset)
    bin_columns = [position.get(label, -1) for label in bin_labels(boundaries)]
    missing_column = position.get(MISSING_BIN, -1)
    cuts = boundaries.tolist()
    inner = node.args[0]

    def term(values: Values, columns: list[int], scaled: list[float]) -> None:
        value = _number(inner, values)
        column = (
            missing_column if math.isnan(value) else bin_columns[bisect.bisect_right(cuts, value)]
        )
        if column >= 0:
            columns.append(column)
            scaled.append(1.0)

    return term


def _category_term(output: FittedOutput, offset: int) -> Term:
    node = output.spec.node
    assert isinstance(node, AttributeNode)
    position = _positions(output.keys, offset)
    position.pop("", None)  # "" is the missing value, never a category
    name = node.name

    def term(values: Values, columns: list[int], scaled: list[float]) -> None:
        column = position.get(values.get(name, ""), -1)  # type: ignore[arg-type]
        if column >= 0:
            columns.append(column)
            scaled.append(1.0)

    return term


def _token_term(
    output: FittedOutput, offset: int, bins: dict[str, tuple[list[float], list[str]]]
) -> Term:
    """Outputs that may store several tokens of a record: each known token once, by column."""
    node = output.spec.node
    position = _positions(output.keys, offset)

    def term(values: Values, columns: list[int], scaled: list[float]) -> None:
        found = {position.get(token, -1) for token in _tokens(node, values, bins)}
        found.discard(-1)
        for column in sorted(found):
            columns.append(column)
            scaled.append(1.0)

    return term


def _positions(keys: list[str], offset: int) -> dict[str, int]:
    """Each key's column (the first one, as pandas' get_indexer picks)."""
    return {key: offset + i for i, key in reversed(list(enumerate(keys)))}


def _term_of(
    output: FittedOutput,
    offset: int,
    bins: dict[str, np.ndarray],
    labelled: dict[str, tuple[list[float], list[str]]],
) -> Term | None:
    """The output's term as `fitted._encode_output` encodes it (None: it never stores any)."""
    node, kind = output.spec.node, output.kind
    if kind == NUMERIC:
        return _numeric_term(output, offset)
    if kind == BINARY:
        return _binary_term(output, offset)
    if kind == BINNED and not (isinstance(node, TransformNode) and node.function == "cartesian"):
        return _bins_term(output, offset, bins)
    if kind == CATEGORICAL and isinstance(node, AttributeNode):
        return _category_term(output, offset)
    return _token_term(output, offset, labelled)


def _readable(fitted: FittedRecipe, schema: Schema) -> bool:
    """Whether every tree reads its attributes with their schema types and uses known functions
    whose bins were learned (otherwise the frame path decides what happens)."""
    types = {a.name: a.type for a in schema.attributes if a.name != schema.target}
    return all(
        _node_readable(node, types, fitted.bins)
        for output in fitted.outputs
        for node in output.spec.node.walk()
    )


def _node_readable(
    node: Node, types: dict[str, AttributeType], bins: dict[str, np.ndarray]
) -> bool:
    if isinstance(node, AttributeNode):
        return node.name not in types or types[node.name] is node.type
    if node.function == "quantile_bin":
        return node.label in bins
    return node.function in _KNOWN_FUNCTIONS


@dataclass
class RecordScorer:
    """A fitted recipe compiled for one record at a time, for models of one schema."""

    schema: Schema
    inputs: list[tuple[str, AttributeType]]  # the attributes a record is read for
    terms: list[Term]
    n_features: int

    @classmethod
    def compile(cls, fitted: FittedRecipe, schema: Schema) -> RecordScorer | None:
        if not _readable(fitted, schema):
            return None
        labelled = {label: (cuts.tolist(), bin_labels(cuts)) for label, cuts in fitted.bins.items()}
        terms = [
            _term_of(output, int(offset), fitted.bins, labelled)
            for output, offset in zip(fitted.outputs, fitted.offsets[:-1], strict=True)
        ]
        inputs = [(a.name, a.type) for a in schema.attributes if a.name != schema.target]
        return cls(schema, inputs, [t for t in terms if t is not None], fitted.n_features)

    def values(self, record: Mapping[str, Any]) -> dict[str, Value]:
        """The record's values converted with their training types (absent = missing)."""
        values: dict[str, Value] = {}
        for name, type in self.inputs:
            raw = record.get(name)
            values[name] = convert_value(type, "" if raw is None else str(raw))
        return values

    def features(self, record: Mapping[str, Any]) -> SparseBatch:
        """The record as a one-row batch, as `fitted_recipe.encode` encodes its typed row."""
        values = self.values(record)
        columns: list[int] = []
        scaled: list[float] = []
        for term in self.terms:
            term(values, columns, scaled)
        with np.errstate(over="ignore"):  # a huge value becomes inf in float32, as in encode
            stored = np.array(scaled, dtype=np.float32)
        return SparseBatch(
            np.array([0, len(columns)], dtype=np.int64),
            np.array(columns, dtype=np.int32),
            stored,
            np.full(1, NAN),
            self.n_features,
        )


# fitted recipe -> (the schema it was compiled for, its compiled form or None)
_compiled: weakref.WeakKeyDictionary[FittedRecipe, tuple[Schema, RecordScorer | None]] = (
    weakref.WeakKeyDictionary()
)


def record_scorer(model: TrainedModel) -> RecordScorer | None:
    """The model's compiled recipe (made on first use and kept while its fitted recipe lives;
    models that differ only in their threshold share it), or None if it has no compiled form."""
    fitted = model.fitted_recipe
    cached = _compiled.get(fitted)
    if cached is not None and cached[0] is model.schema:
        return cached[1]
    scorer = RecordScorer.compile(fitted, model.schema)
    _compiled[fitted] = (model.schema, scorer)
    return scorer


def record_margins(model: TrainedModel, record: Mapping[str, Any]) -> np.ndarray | None:
    """z (1, k) of one record of strings, the same numbers as `frame_margins` and `score_frame`
    give for `record_frame(model, record)`; None when the model's recipe has no compiled form."""
    scorer = record_scorer(model)
    if scorer is None:
        return None
    return margins_of(scorer.features(record), model.weights)

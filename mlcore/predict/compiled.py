"""Margins of a chunk's records straight from the reader's columns, for the common recipes.

`frame_margins` (mlcore.predict.scoring) converts every column with its training type into a
typed frame, then evaluates each recipe output through the fitted recipe's encoders: about 30
pandas calls per output and per column, ~8 ms per chunk whatever its size, which made a
4,000-record file cost 4x pandas' parse of it. A `CompiledScorer` is built once per batch
prediction for a recipe whose outputs each store at most one plain feature per record
(NUMERIC attributes and `normalize`, BINARY attributes, CATEGORICAL attributes, `quantile_bin`
of a number): it reads the columns as the CSV reader hands them over (float64, a Categorical,
or strings factorized once), converts each *distinct* string once, and adds each output's
weights with a gather.

The numbers are the same, bit for bit, as `frame_margins(model, typed)` after
`_typed_inputs`: every output's term is the same float64 product (weight x the float32
feature value) and the terms are added in the recipe's output order, so a batch prediction
writes the same bytes whichever path scored it. Anything else (text, n-grams, cartesian
products, lowercase, a column in an unexpected form) returns None at compile time or falls
back per chunk to the general path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcore.io.csvreader import column_arrays
from mlcore.io.dataset import _convert as convert_typed_column
from mlcore.recipes.fitted import MISSING, MISSING_BIN, VALUE, FittedOutput
from mlcore.recipes.nodes import BINARY, BINNED, CATEGORICAL, NUMERIC, AttributeNode, Node
from mlcore.recipes.transforms import bin_index, bin_labels
from mlcore.schema.model import Attribute, AttributeType
from mlcore.schema.values import _BINARY_VALUE, convert_column
from mlcore.train.model import TrainedModel

# distinct strings of a column converted one by one in Python below this count, else by pandas
_LOOP_LIMIT = 256


class Unsupported(Exception):
    """A chunk's column is not in a form the compiled scorer reads: use the general path."""


@dataclass
class _Column:
    """An input attribute's converted values for one chunk.

    NUMERIC and BINARY: `numbers` (float64, NaN = missing). CATEGORICAL: `codes` into
    `words` (the distinct stripped strings; "" = missing). `invalid` is None when no record is.
    """

    numbers: np.ndarray | None = None
    codes: np.ndarray | None = None
    words: list[str] | None = None
    invalid: np.ndarray | None = None
    _missing: np.ndarray | None | bool = False  # False: not looked at yet

    def missing(self) -> np.ndarray | None:
        """Where `numbers` is NaN, or None when nowhere (looked at once per chunk)."""
        if self._missing is False:
            assert self.numbers is not None
            found = np.isnan(self.numbers)
            self._missing = found if found.any() else None
        return self._missing  # type: ignore[return-value]


@dataclass
class _Output:
    """One recipe output, reduced to what its term needs."""

    kind: str
    attribute: str
    offset: int
    keys: dict[str, int]  # CATEGORICAL: word -> column (offset included)
    value_column: int = -1  # NUMERIC, BINARY
    missing_column: int = -1  # NUMERIC; BINNED: the `missing` bin's column
    mean: float = 0.0
    std: float = 1.0
    boundaries: np.ndarray | None = None  # BINNED
    bin_columns: np.ndarray | None = None  # BINNED: column of each bin number (-1: dropped)


def _leaf(node: Node) -> AttributeNode | None:
    """The attribute under a chain of `normalize` (the only transform that keeps a value)."""
    while not isinstance(node, AttributeNode):
        if getattr(node, "function", None) != "normalize":
            return None
        node = node.args[0]  # type: ignore[attr-defined]
    return node


def _compile_output(
    output: FittedOutput, offset: int, bins: dict[str, np.ndarray], types: dict[str, AttributeType]
) -> _Output | None:
    node = output.spec.node
    kind = output.kind
    if kind in (NUMERIC, BINARY):
        leaf = _leaf(node)
        if leaf is None or (kind == BINARY and not isinstance(node, AttributeNode)):
            return None
        if types.get(leaf.name) not in (AttributeType.NUMERIC, AttributeType.BINARY, None):
            return None
        keys = output.keys
        return _Output(
            kind,
            leaf.name,
            offset,
            {},
            value_column=offset + keys.index(VALUE) if VALUE in keys else -1,
            missing_column=offset + keys.index(MISSING) if MISSING in keys else -1,
            mean=output.mean,
            std=output.std,
        )
    if kind == CATEGORICAL and isinstance(node, AttributeNode):
        if types.get(node.name) not in (AttributeType.CATEGORICAL, None):
            return None
        keys = {key: offset + i for i, key in reversed(list(enumerate(output.keys)))}
        keys.pop("", None)  # "" is the missing value, never a category
        return _Output(kind, node.name, offset, keys)
    if kind == BINNED and getattr(node, "function", None) == "quantile_bin":
        leaf = _leaf(node.args[0])  # type: ignore[attr-defined]
        if leaf is None or node.label not in bins:
            return None
        if types.get(leaf.name) not in (AttributeType.NUMERIC, AttributeType.BINARY, None):
            return None
        boundaries = bins[node.label]
        # the output's key of each bin (as output.index.get_indexer, without building an Index)
        position = {key: i for i, key in reversed(list(enumerate(output.keys)))}
        key_of_bin = [position.get(label, -1) for label in bin_labels(boundaries)]
        missing = position.get(MISSING_BIN, -1)
        return _Output(
            kind,
            leaf.name,
            offset,
            {},
            missing_column=offset + missing if missing >= 0 else -1,
            boundaries=boundaries,
            bin_columns=np.array([offset + k if k >= 0 else -1 for k in key_of_bin], np.int64),
        )
    return None


class CompiledScorer:
    """Margins (n, k) and each record's first invalid input from a chunk of raw columns."""

    def __init__(self, model: TrainedModel, inputs: list[Attribute], outputs: list[_Output]):
        self.inputs = inputs
        self.outputs = outputs
        weights = model.weights
        # a zero row at the end: column -1 (no feature) adds nothing, as in frame_margins
        self.padded = np.vstack([weights[:-1], np.zeros((1, weights.shape[1]))])
        self.intercept = weights[-1]

    @classmethod
    def compile(cls, model: TrainedModel, inputs: list[Attribute]) -> CompiledScorer | None:
        """The scorer of `model` reading `inputs` (the attributes the data has, with their
        training types), or None when the recipe has an output it does not handle."""
        fitted = model.fitted_recipe
        types = {a.name: a.type for a in model.schema.attributes}
        if any(
            a.type not in (AttributeType.NUMERIC, AttributeType.BINARY, AttributeType.CATEGORICAL)
            for a in inputs
        ):
            return None
        outputs = []
        for output, offset in zip(fitted.outputs, fitted.offsets[:-1], strict=True):
            compiled = _compile_output(output, int(offset), fitted.bins, types)
            if compiled is None:
                return None
            outputs.append(compiled)
        return cls(model, inputs, outputs)

    def margins(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The margins of the frame's records (as `frame_margins` of the typed frame) and, per
        record, the position in `inputs` of its first value not valid for its type (-1: none).
        Raises `Unsupported` for a column in a form it does not read."""
        n_rows = len(frame)
        raw = dict(zip(frame.columns, column_arrays(frame), strict=True))
        columns: dict[str, _Column] = {}
        first_bad = np.full(n_rows, -1, dtype=np.int64)
        for position, attribute in enumerate(self.inputs):
            column = _converted(attribute, raw[attribute.name])
            columns[attribute.name] = column
            if column.invalid is not None:
                first_bad[column.invalid & (first_bad < 0)] = position
        k = self.padded.shape[1]
        # one class (BINARY, REGRESSION): 1-D arrays, the same numbers as the (n, 1) ones
        padded = self.padded[:, 0] if k == 1 else self.padded
        out = np.full(n_rows, self.intercept[0]) if k == 1 else np.tile(self.intercept, (n_rows, 1))
        for output in self.outputs:
            out += self._term(output, columns.get(output.attribute), n_rows, padded)
        return (out[:, None] if k == 1 else out), first_bad

    def _term(
        self, output: _Output, column: _Column | None, n_rows: int, padded: np.ndarray
    ) -> np.ndarray:
        if column is None:  # not in the data: missing in every record
            column = _Column(numbers=np.full(n_rows, np.nan), codes=np.zeros(n_rows, np.intp))
            column.words = [""]
        if output.kind == CATEGORICAL:
            assert column.words is not None and column.codes is not None
            keys = output.keys
            of_word = np.fromiter(
                (keys.get(word, -1) for word in column.words), np.int64, len(column.words)
            )
            return padded[of_word][column.codes]
        values = column.numbers
        assert values is not None
        missing = column.missing()
        if output.kind == NUMERIC:
            if missing is None:
                scaled = ((values - output.mean) / output.std).astype(np.float32)
                weight = padded[output.value_column]
            else:
                present = ~missing
                scaled = np.where(present, (values - output.mean) / output.std, 1.0)
                scaled = scaled.astype(np.float32)
                weight = padded[np.where(present, output.value_column, output.missing_column)]
            # float64 weight x float32 value, as frame_margins multiplies them
            return weight * (scaled if padded.ndim == 1 else scaled[:, None])
        if output.kind == BINARY:
            return padded[np.where(values == 1, output.value_column, -1)]
        # BINNED: the bin of each value, the `missing` bin for NaN
        assert output.boundaries is not None and output.bin_columns is not None
        searched = values if missing is None else np.nan_to_num(values)
        where = output.bin_columns[bin_index(searched, output.boundaries)]
        if missing is not None:
            where[missing] = output.missing_column
        return padded[where]


def _converted(attribute: Attribute, column: np.ndarray | pd.Categorical) -> _Column:
    """`mlcore.io.dataset._convert` of a column's values (as the reader parsed them), in the
    compact form the terms read."""
    kind = attribute.type
    if column.dtype == np.float64:
        if kind is AttributeType.CATEGORICAL:
            raise Unsupported(attribute.name)
        return _Column(numbers=np.asarray(column))
    if kind is AttributeType.NUMERIC:  # numbers the reader left as strings: the general rules
        values, invalid = convert_typed_column(attribute, pd.Series(column, copy=False))
        return _Column(numbers=np.asarray(values), invalid=_or_none(invalid))
    codes, distinct = _codes(column, attribute.name)
    if kind is AttributeType.CATEGORICAL:
        if len(distinct) <= _LOOP_LIMIT:
            words = [text.strip() for text in distinct]
        else:
            words = convert_column(kind, pd.Series(distinct, dtype=object)).values.tolist()
        return _Column(codes=codes, words=words)
    # BINARY: each distinct spelling looked up once (convert_column's rules)
    if len(distinct) <= _LOOP_LIMIT:
        looked_up = [_BINARY_VALUE.get(text.strip().lower()) for text in distinct]
        numbers = np.array([np.nan if v is None else v for v in looked_up], dtype=np.float64)
        bad = np.array(
            [v is None and text.strip() != "" for v, text in zip(looked_up, distinct, strict=True)],
            dtype=bool,
        )
    else:
        converted = convert_column(kind, pd.Series(distinct, dtype=object))
        numbers = np.asarray(converted.values, dtype=np.float64)
        bad = np.asarray(converted.invalid, dtype=bool)
    invalid = bad[codes] if bad.any() else None
    return _Column(numbers=numbers[codes], invalid=invalid)


def _codes(column: np.ndarray | pd.Categorical, name: str) -> tuple[np.ndarray, list[Any]]:
    """Codes of each record into the column's distinct strings (a Categorical's own codes and
    categories, or a factorization of the strings)."""
    if isinstance(column, pd.Categorical):
        codes = column.codes
        if len(codes) and codes.min() < 0:
            raise Unsupported(name)
        categories = column.categories
        if not pd.api.types.is_string_dtype(categories.dtype):
            raise Unsupported(name)
        return codes, categories.tolist()
    strings = np.asarray(column, dtype=object)
    coded = _codes_by_identity(strings)
    if coded is not None:
        codes, distinct_list = coded
    else:
        codes, distinct = pd.factorize(strings)
        if len(codes) and codes.min() < 0:
            raise Unsupported(name)
        distinct_list = distinct.tolist()
    if not all(isinstance(text, str) for text in distinct_list):
        raise Unsupported(name)
    return codes, distinct_list


def _codes_by_identity(strings: np.ndarray) -> tuple[np.ndarray, list[Any]] | None:
    """Codes of each record into its distinct string objects, or None when there are many.

    pandas' parser hands equal fields of a chunk over as one string object, so factorizing
    the objects' addresses (integers, read in place from the array) finds the distinct
    strings 4x faster than hashing each string's characters. Equal strings held by two
    objects get two codes and appear twice in the list: the terms look each word up by its
    value, so the margins are the same either way.
    """
    if not strings.flags.c_contiguous or not len(strings):
        return None
    addresses = np.frombuffer(strings, dtype=np.intp)  # a view of the object pointers
    codes, distinct = pd.factorize(addresses)
    if len(distinct) > _LOOP_LIMIT:  # no shared objects to speak of: hash the values
        return None
    # a record of each code (the last: every record of a code holds the same object)
    one_of = np.empty(len(distinct), dtype=np.intp)
    one_of[codes] = np.arange(len(codes))
    return codes, strings[one_of].tolist()


def _or_none(mask: np.ndarray) -> np.ndarray | None:
    mask = np.asarray(mask, dtype=bool)
    return mask if mask.any() else None


__all__ = ["CompiledScorer", "Unsupported"]

"""Turn the strings of a CSV column into typed values (reference section 2.3).

This is the hot path of every datasource pass, so each conversion works on a whole
`pandas.Series` at once; nothing here loops over rows in Python.

>>> import pandas as pd
>>> from mlcore.schema.model import AttributeType
>>> column = convert_column(AttributeType.BINARY, pd.Series([" Yes", "0", "", "maybe"]))
>>> column.values.tolist(), column.missing.tolist(), column.invalid.tolist()
([1.0, 0.0, nan, nan], [False, False, True, False], [False, False, False, True])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlcore.schema.model import AttributeType

BINARY_TRUE: frozenset[str] = frozenset({"1", "y", "yes", "t", "true"})
BINARY_FALSE: frozenset[str] = frozenset({"0", "n", "no", "f", "false"})

_BINARY_VALUE = {word: 1.0 for word in BINARY_TRUE} | {word: 0.0 for word in BINARY_FALSE}

# The literals `pandas.to_numeric` accepts, minus nan/inf, so `is_number` agrees with
# `convert_column` without paying for a Series per value.
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


@dataclass
class ConvertedColumn:
    """One column after conversion.

    `values` is float64 (NaN where missing or invalid) for NUMERIC and BINARY, and an
    object array of stripped strings ("" where missing) for CATEGORICAL and TEXT.
    `missing` marks empty fields; `invalid` marks non-empty fields that are not a value
    of the type (only NUMERIC and BINARY can be invalid).
    """

    values: np.ndarray
    missing: np.ndarray
    invalid: np.ndarray

    def __len__(self) -> int:
        return len(self.values)


def convert_column(type: AttributeType, strings: pd.Series) -> ConvertedColumn:
    """Convert a column of raw CSV strings to the values of an attribute type.

    Surrounding whitespace is ignored; an empty (or all-blank, or NA) field is missing.

    >>> import pandas as pd
    >>> convert_column(AttributeType.NUMERIC, pd.Series(["1.5", " 2", "", "abc"])).values
    array([1.5, 2. , nan, nan])
    """
    raw = strings.to_numpy(dtype=object, na_value="")
    if type is AttributeType.NUMERIC:
        return _convert_numeric(raw)
    if type is AttributeType.BINARY:
        return _convert_binary(raw)
    if type is AttributeType.CATEGORICAL:
        return _convert_categorical(raw)
    return _convert_text(raw)


@dataclass(frozen=True)
class SampleFit:
    """How a column's sampled values fit a type: `invalid` of the `sampled` non-empty values
    would be invalid records' fields, `examples` a few of them (distinct, as written)."""

    sampled: int
    invalid: int
    examples: list[str]


def sample_fit(type: AttributeType, strings: Sequence[str], limit: int = 3) -> SampleFit:
    """Check sampled values against a type before any data is read in full.

    >>> sample_fit(AttributeType.BINARY, ["<=50K", " >50K", "<=50K", "", "yes"])
    SampleFit(sampled=4, invalid=3, examples=['<=50K', '>50K'])
    >>> sample_fit(AttributeType.CATEGORICAL, ["<=50K"]).invalid
    0
    """
    # A sample is a few dozen values per column (785 columns for mnist): checking them one by
    # one with the scalar twins of convert_column is far cheaper than a Series per column.
    present = [value.strip() for value in strings if value.strip()]
    fits = _SCALAR_CHECKS.get(type)
    bad = [value for value in present if fits is not None and not fits(value)]
    return SampleFit(
        sampled=len(present), invalid=len(bad), examples=list(dict.fromkeys(bad))[:limit]
    )


def parse_binary_value(s: str) -> float | None:
    """Return 1.0 or 0.0 for a word of the binary vocabulary, None for anything else.

    >>> parse_binary_value(" FaLSe "), parse_binary_value("Y"), parse_binary_value("maybe")
    (0.0, 1.0, None)
    """
    return _BINARY_VALUE.get(s.strip().lower())


def is_number(s: str) -> bool:
    """True when `s` (surrounding whitespace ignored) is a finite decimal number.

    >>> is_number(" -1.5e3"), is_number("inf"), is_number("0x10"), is_number("")
    (True, False, False, False)
    """
    return _NUMBER.fullmatch(s.strip()) is not None


_SCALAR_CHECKS: dict[AttributeType, Callable[[str], bool]] = {
    AttributeType.NUMERIC: is_number,
    AttributeType.BINARY: lambda value: parse_binary_value(value) is not None,
}


def _strip(raw: np.ndarray) -> np.ndarray:
    """Strip every string of an object array (one vectorised pass)."""
    return pd.Series(raw, dtype=object, copy=False).str.strip().to_numpy(dtype=object)


def _convert_numeric(raw: np.ndarray) -> ConvertedColumn:
    # to_numeric skips surrounding blanks itself, so only the fields it could not read
    # (usually few) need stripping to tell an empty field from a bad one.
    parsed = _to_float(raw)
    unread = np.flatnonzero(np.isnan(parsed))
    stripped = _strip(raw[unread])
    parsed[unread] = _to_float(stripped)
    missing = np.zeros(len(raw), dtype=bool)
    missing[unread] = stripped == ""
    # to_numeric reads "nan" and "inf" as numbers; AML has no such values, so they are invalid.
    invalid = ~np.isfinite(parsed) & ~missing
    parsed[invalid | missing] = np.nan
    return ConvertedColumn(parsed, missing, invalid)


def _to_float(raw: np.ndarray) -> np.ndarray:
    parsed = pd.to_numeric(pd.Series(raw, dtype=object, copy=False), errors="coerce")
    return parsed.to_numpy(dtype=np.float64, na_value=np.nan, copy=True)


def _convert_binary(raw: np.ndarray) -> ConvertedColumn:
    # A binary column holds a handful of distinct spellings: clean and look up only those.
    codes, uniques = pd.factorize(raw)
    words = _strip(np.asarray(uniques, dtype=object))
    unique_values = pd.Series(words).str.lower().map(_BINARY_VALUE).to_numpy(dtype=np.float64)
    values = unique_values[codes]
    missing = (words == "")[codes]
    invalid = np.isnan(values) & ~missing
    return ConvertedColumn(values, missing, invalid)


def _convert_categorical(raw: np.ndarray) -> ConvertedColumn:
    # Categories repeat a lot, so stripping the distinct values only is cheaper.
    codes, uniques = pd.factorize(raw)
    words = _strip(np.asarray(uniques, dtype=object))
    return _strings(words[codes])


def _convert_text(raw: np.ndarray) -> ConvertedColumn:
    # Text values are mostly distinct: factorizing would not save any stripping.
    return _strings(_strip(raw))


def _strings(values: np.ndarray) -> ConvertedColumn:
    missing = values == ""
    return ConvertedColumn(values, missing, np.zeros(len(values), dtype=bool))

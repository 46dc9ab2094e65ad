"""Converting raw CSV strings to typed values (mlcore.schema.values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlcore.schema.model import AttributeType
from mlcore.schema.values import (
    BINARY_FALSE,
    BINARY_TRUE,
    ConvertedColumn,
    convert_column,
    is_number,
    parse_binary_value,
    sample_fit,
)


def convert(type: AttributeType, *strings: str | None) -> ConvertedColumn:
    return convert_column(type, pd.Series(list(strings), dtype=object))


def test_the_binary_vocabularies_are_the_ones_aml_documents() -> None:
    assert {"1", "y", "yes", "t", "true"} == BINARY_TRUE
    assert {"0", "n", "no", "f", "false"} == BINARY_FALSE


def test_it_parses_numbers_with_surrounding_blanks() -> None:
    column = convert(AttributeType.NUMERIC, "1", " 2.5 ", "-3e2", ".5", "+4", "\t7")
    assert column.values.tolist() == [1.0, 2.5, -300.0, 0.5, 4.0, 7.0]
    assert column.values.dtype == np.float64
    assert not column.missing.any()
    assert not column.invalid.any()


def test_it_marks_empty_and_blank_numbers_as_missing() -> None:
    column = convert(AttributeType.NUMERIC, "", "   ", None, "3")
    assert column.missing.tolist() == [True, True, True, False]
    assert not column.invalid.any()
    assert np.isnan(column.values[:3]).all()


@pytest.mark.parametrize("text", ["abc", "1,000", "0x10", "1_000", "inf", "-Infinity", "nan", "NA"])
def test_it_marks_unreadable_numbers_as_invalid(text: str) -> None:
    column = convert(AttributeType.NUMERIC, text, "1")
    assert column.invalid.tolist() == [True, False]
    assert column.missing.tolist() == [False, False]
    assert np.isnan(column.values[0])


def test_it_accepts_a_pandas_string_column() -> None:
    column = convert_column(AttributeType.NUMERIC, pd.Series(["1", " 2 ", None], dtype="str"))
    assert column.values[:2].tolist() == [1.0, 2.0]
    assert column.missing.tolist() == [False, False, True]


def test_it_ignores_the_series_index() -> None:
    strings = pd.Series(["1", "", "x"], index=[10, 5, 7], dtype=object)
    column = convert_column(AttributeType.NUMERIC, strings)
    assert column.missing.tolist() == [False, True, False]
    assert column.invalid.tolist() == [False, False, True]


def test_it_reads_every_binary_spelling_in_any_case_and_with_blanks() -> None:
    column = convert(
        AttributeType.BINARY, "1", "Y", " yes ", "T", "TRUE", "0", "n", "No", "f", " FaLSe "
    )
    assert column.values.tolist() == [1.0] * 5 + [0.0] * 5
    assert not column.missing.any()
    assert not column.invalid.any()


def test_it_marks_other_binary_words_as_invalid_and_empty_ones_as_missing() -> None:
    column = convert(AttributeType.BINARY, "maybe", "2", "", " ", None, "unknown")
    assert column.invalid.tolist() == [True, True, False, False, False, True]
    assert column.missing.tolist() == [False, False, True, True, True, False]
    assert np.isnan(column.values).all()


def test_it_strips_categories_and_keeps_empty_strings_for_missing_ones() -> None:
    column = convert(AttributeType.CATEGORICAL, " State-gov", "Private ", "", None, "?")
    assert column.values.tolist() == ["State-gov", "Private", "", "", "?"]
    assert column.values.dtype == object
    assert column.missing.tolist() == [False, False, True, True, False]
    assert not column.invalid.any()


def test_it_keeps_text_as_strings_and_never_marks_it_invalid() -> None:
    column = convert(AttributeType.TEXT, "  hello big world ", "", "42")
    assert column.values.tolist() == ["hello big world", "", "42"]
    assert column.missing.tolist() == [False, True, False]
    assert not column.invalid.any()


@pytest.mark.parametrize("type", list(AttributeType))
def test_it_converts_an_empty_column(type: AttributeType) -> None:
    column = convert(type)
    assert len(column) == 0
    assert column.missing.dtype == bool
    assert column.invalid.dtype == bool


@pytest.mark.parametrize(
    ("text", "expected"),
    [(" FaLSe ", 0.0), ("Y", 1.0), ("1", 1.0), ("no", 0.0), ("maybe", None), ("", None)],
)
def test_it_parses_single_binary_values(text: str, expected: float | None) -> None:
    assert parse_binary_value(text) == expected


@pytest.mark.parametrize(
    "text", ["0", " -1.5e3 ", "+2", ".5", "5.", "1E+2", "99999999999999999999999"]
)
def test_it_recognises_numbers(text: str) -> None:
    assert is_number(text)


@pytest.mark.parametrize("text", ["", " ", "inf", "nan", "0x10", "1_000", "1,5", "١٢", "- 1", "e5"])
def test_it_rejects_things_that_are_not_numbers(text: str) -> None:
    assert not is_number(text)


@pytest.mark.parametrize(
    "text", ["0", " -1.5e3 ", "+2", ".5", "5.", "1E+2", "inf", "nan", "0x10", "1_000", "١٢", "e5"]
)
def test_is_number_agrees_with_numeric_conversion(text: str) -> None:
    column = convert(AttributeType.NUMERIC, text)
    assert is_number(text) == (not column.invalid[0])


@pytest.mark.parametrize("type", list(AttributeType))
def test_a_sample_fit_counts_the_values_conversion_would_make_invalid(
    type: AttributeType,
) -> None:
    sample = ["<=50K", " >50K ", "", "1", "yes", "2.5", "inf", "<=50K", "F"]

    fit = sample_fit(type, sample)

    column = convert(type, *sample)
    assert fit.invalid == int(column.invalid.sum())
    assert fit.sampled == int((~column.missing).sum())
    bad = [value.strip() for value, invalid in zip(sample, column.invalid, strict=True) if invalid]
    assert fit.examples == list(dict.fromkeys(bad))[:3]


def test_it_converts_a_million_numbers_quickly() -> None:
    # A generous bound: this only catches an accidental per-row Python loop.
    import time

    strings = pd.Series(np.arange(1_000_000).astype(str).astype(object))
    started = time.perf_counter()
    column = convert_column(AttributeType.NUMERIC, strings)
    assert time.perf_counter() - started < 3.0
    assert column.values[-1] == 999_999.0

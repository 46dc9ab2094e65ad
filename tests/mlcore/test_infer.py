"""Guessing a schema, a target and a row id from sample rows (mlcore.schema.infer)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

from mlcore.errors import SchemaError
from mlcore.schema import (
    Attribute,
    AttributeType,
    Schema,
    check_schema_fits_columns,
    infer_schema,
    parse_schema,
    schema_to_json,
    suggest_target,
)
from mlcore.schema.infer import infer_type, suggest_row_id

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BINARY = AttributeType.BINARY
NUMERIC = AttributeType.NUMERIC
CATEGORICAL = AttributeType.CATEGORICAL
TEXT = AttributeType.TEXT


def read_sample(
    name: str, *, delimiter: str = ",", has_header: bool = True, rows: int = 1000
) -> tuple[list[str], list[list[str]]]:
    """The header (or Var01... names) and up to `rows` records, as the sniffer gives them."""
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        records = [
            r for r in itertools.islice(csv.reader(handle, delimiter=delimiter), rows + 1) if r
        ]
    if has_header:
        return records[0], records[1:]
    return [f"Var{i + 1:02d}" for i in range(len(records[0]))], records[:rows]


def types_of(schema: Schema) -> dict[str, AttributeType]:
    return {a.name: a.type for a in schema.attributes}


# --------------------------------------------------------------------------- type rules


@pytest.mark.parametrize(
    "values",
    [["0", "1", "1"], ["yes", "No", " YES "], ["t", "f"], ["TRUE", "false", ""], ["y", "n"], ["Y"]],
)
def test_it_infers_binary_for_the_binary_vocabulary(values: list[str]) -> None:
    assert infer_type(values) is BINARY


@pytest.mark.parametrize("values", [["0", "0", ""], ["1"], [" 0 ", "0"]])
def test_it_infers_numeric_for_a_digit_that_never_varies_in_the_sample(values: list[str]) -> None:
    assert infer_type(values) is NUMERIC


def test_it_types_every_mnist_pixel_numeric_even_when_blank_in_the_sample() -> None:
    columns, rows = read_sample("mnist-5k.csv", rows=200)
    types = types_of(infer_schema(columns, rows))
    pixel_types = {types[name] for name in columns if name != "label"}
    assert pixel_types == {NUMERIC}


def test_it_infers_binary_for_a_mix_of_binary_spellings() -> None:
    assert infer_type(["1", "no", "True", "f"]) is BINARY


@pytest.mark.parametrize(
    "values", [["0", "1", "2"], ["3.5", "-1", "", "1e3"], [" 39", " 50"], ["0", "0.5"]]
)
def test_it_infers_numeric_when_every_value_is_a_number(values: list[str]) -> None:
    assert infer_type(values) is NUMERIC


@pytest.mark.parametrize(
    "values",
    [["no", "unknown", "yes"], ["1", "2", "x"], ["inf", "1"], [" State-gov", " Private", " ?"]],
)
def test_it_infers_categorical_for_other_single_words(values: list[str]) -> None:
    assert infer_type(values) is CATEGORICAL


@pytest.mark.parametrize("values", [[], [""], ["", "  ", ""]])
def test_it_infers_categorical_for_a_column_without_values(values: list[str]) -> None:
    assert infer_type(values) is CATEGORICAL


def test_it_infers_text_for_distinct_sentences() -> None:
    values = [f"the customer wrote message number {i}" for i in range(50)]
    assert infer_type(values) is TEXT


def test_it_infers_text_for_distinct_two_word_values() -> None:
    assert infer_type(["great product", "very bad", "works fine", "too slow"]) is TEXT


def test_it_keeps_a_repeated_multi_word_label_categorical() -> None:
    values = ["Married civ spouse", "Never married", "Married civ spouse", "Divorced"] * 25
    assert infer_type(values) is CATEGORICAL


def test_it_keeps_repeated_long_phrases_categorical() -> None:
    values = ["one two three four", "five six seven eight"] * 50
    assert infer_type(values) is CATEGORICAL


# --------------------------------------------------------------------------- schemas


def test_it_builds_a_schema_in_column_order_without_a_target() -> None:
    schema = infer_schema(["a", "b", "c"], [["1", "x", "yes"], ["2", "y", "no"]], has_header=False)
    assert types_of(schema) == {"a": NUMERIC, "b": CATEGORICAL, "c": BINARY}
    assert schema.target is None
    assert schema.data_file_contains_header is False


def test_it_infers_from_a_header_alone() -> None:
    schema = infer_schema(["a", "b"], [])
    assert types_of(schema) == {"a": CATEGORICAL, "b": CATEGORICAL}


def test_it_treats_missing_fields_of_short_rows_as_empty() -> None:
    schema = infer_schema(["a", "b"], [["1", "2"], ["3"]])
    assert types_of(schema) == {"a": NUMERIC, "b": NUMERIC}


def test_it_names_blank_columns_and_renames_repeated_ones() -> None:
    schema = infer_schema(["age", " ", "age", "age"], [["1", "2", "3", "4"]])
    assert schema.names == ["age", "Var02", "age_2", "age_3"]


def test_the_inferred_schema_is_valid_and_round_trips() -> None:
    schema = infer_schema(["age", "", "age"], [["1", "x", "yes"]])
    assert parse_schema(schema_to_json(schema)) == schema


def test_it_refuses_more_than_a_thousand_columns() -> None:
    with pytest.raises(SchemaError, match="1,001 columns"):
        infer_schema([f"c{i}" for i in range(1001)], [])


# --------------------------------------------------------------------------- real data


def test_it_infers_the_banking_schema() -> None:
    columns, rows = read_sample("banking.csv")
    schema = infer_schema(columns, rows)
    types = types_of(schema)
    assert types["y"] is BINARY
    assert types["age"] is NUMERIC
    # `previous` holds counts 0..7: numeric, not the BINARY the tutorial's schema mistakenly used.
    assert types["previous"] is NUMERIC
    assert types["job"] is CATEGORICAL
    # `default` is no/unknown/yes, and "unknown" is not binary vocabulary.
    assert types["default"] is CATEGORICAL
    assert types["emp_var_rate"] is NUMERIC
    assert suggest_target(schema, rows) == "y"
    check_schema_fits_columns(schema, columns, has_header=True)


def test_it_agrees_with_the_tutorial_schema_except_for_previous() -> None:
    columns, rows = read_sample("banking.csv")
    inferred = types_of(infer_schema(columns, rows))
    tutorial = types_of(parse_schema((DATA / "banking.csv.schema").read_text()))
    differences = {name for name in tutorial if tutorial[name] is not inferred[name]}
    assert differences == {"previous"}


def test_it_infers_the_wine_quality_as_a_numeric_target() -> None:
    columns, rows = read_sample("winequality-red.csv", delimiter=";")
    schema = infer_schema(columns, rows)
    assert set(types_of(schema).values()) == {NUMERIC}
    assert suggest_target(schema, rows) == "quality"


def test_it_trims_the_blanks_of_the_adult_data_before_judging() -> None:
    columns, rows = read_sample("adult.data", has_header=False)
    schema = infer_schema(columns, rows, has_header=False)
    types = [a.type for a in schema.attributes]
    assert types[0] is NUMERIC  # age, written " 39"-style after the first field
    assert types[1] is CATEGORICAL  # workclass
    assert types[2] is NUMERIC  # fnlwgt
    assert types[14] is CATEGORICAL  # " <=50K" / " >50K"
    # No header: no name to go by, but the last column is a two-class label.
    assert suggest_target(schema, rows) == "Var15"


def test_it_finds_the_mnist_label_in_the_first_column() -> None:
    columns, rows = read_sample("mnist-5k.csv", rows=200)
    schema = infer_schema(columns, rows)
    assert len(schema.attributes) == 785
    assert suggest_target(schema, rows) == "label"


# --------------------------------------------------------------------------- suggestions


def schema_of(*pairs: tuple[str, AttributeType], **roles: str) -> Schema:
    return Schema([Attribute(name, type) for name, type in pairs], **roles)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "name",
    [
        "y",
        "Target",
        "LABEL",
        "class",
        "quality",
        "income",
        "outcome",
        "income-greater-50k",
        "isTarget",
    ],
)
def test_it_suggests_a_column_named_like_a_target(name: str) -> None:
    schema = schema_of((name, CATEGORICAL), ("age", NUMERIC), ("job", CATEGORICAL))
    assert suggest_target(schema, []) == name


def test_it_prefers_an_exact_target_name_to_a_name_containing_a_target_word() -> None:
    schema = schema_of(("y", BINARY), ("class_label", CATEGORICAL))
    assert suggest_target(schema, []) == "y"


def test_it_does_not_suggest_a_text_excluded_or_row_id_column() -> None:
    schema = schema_of(("label", TEXT), ("target", NUMERIC), ("y", NUMERIC), excluded=["target"])
    schema.row_id = "y"
    assert suggest_target(schema, []) is None


def test_it_suggests_a_binary_last_column_without_a_telling_name() -> None:
    schema = schema_of(("age", NUMERIC), ("responded", BINARY))
    assert suggest_target(schema, [["1", "0"]]) == "responded"


def test_it_suggests_a_categorical_last_column_with_few_classes() -> None:
    schema = schema_of(("age", NUMERIC), ("species", CATEGORICAL))
    rows = [["1", "setosa"], ["2", "virginica"], ["3", "versicolor"], ["4", ""]]
    assert suggest_target(schema, rows) == "species"


def test_it_does_not_suggest_a_last_column_with_many_classes() -> None:
    schema = schema_of(("age", NUMERIC), ("city", CATEGORICAL))
    rows = [[str(i), f"city{i}"] for i in range(11)]
    assert suggest_target(schema, rows) is None


def test_it_does_not_suggest_a_numeric_last_column_without_a_telling_name() -> None:
    assert suggest_target(schema_of(("a", NUMERIC), ("b", NUMERIC)), [["1", "2"]]) is None


def test_it_suggests_a_row_id_named_like_one_with_distinct_values() -> None:
    schema = schema_of(("customerId", CATEGORICAL), ("y", BINARY))
    assert suggest_row_id(schema, [["c1", "0"], ["c2", "1"]]) == "customerId"


def test_it_does_not_suggest_a_row_id_with_repeated_or_empty_values() -> None:
    schema = schema_of(("id", NUMERIC), ("y", BINARY))
    assert suggest_row_id(schema, [["1", "0"], ["1", "1"]]) is None
    assert suggest_row_id(schema, [["1", "0"], ["", "1"]]) is None


def test_it_does_not_suggest_a_row_id_for_the_banking_data() -> None:
    columns, rows = read_sample("banking.csv", rows=100)
    assert suggest_row_id(infer_schema(columns, rows), rows) is None

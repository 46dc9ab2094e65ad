"""One record scored without pandas (`mlcore.predict.record`) gives the frame path's scores.

The frame path is what `score_record` did before: `score_frame(model, record_frame(model, r))`.
Every comparison runs both on the same model and record and asks for the same Predict body
(labels equal, scores equal to 1e-9 relative; in practice they are equal bit for bit).
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlcore.predict import record as record_module
from mlcore.predict import scoring
from mlcore.predict.record import convert_value, record_scorer
from mlcore.predict.scoring import record_frame, score_frame, score_record
from mlcore.recipes.fitted import fit_recipe
from mlcore.recipes.recipe import parse_recipe
from mlcore.schema.jsonio import parse_schema
from mlcore.schema.model import Attribute, AttributeType, ModelType, Schema
from mlcore.schema.values import convert_column
from mlcore.train.model import TrainedModel
from mlcore.train.parameters import TrainingParameters
from mlcore.train.sgd import margins_of

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
EACH = settings(SETTINGS, max_examples=60)  # per transformation: 27 of them, three models each
ODD_NUMBERS = [
    "",
    " ",
    "\t",
    "abc",
    "nan",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    "1e999",
    "-1e999",
    "1e-400",
    "0x10",
    "1_000",
    "1,5",
    "١٢",
    "+.5",
    "5.",
    ".",
    "-",
    "1e",
    "1e+",
    " 41 ",
    "\u200341",
    "007",
    "-0",
    "12345678901234567890",
    "123456789012345678901234567890",
    "0.1234567890123456789",
    "9007199254740993",
    "-9223372036854775809",
    "18446744073709551616",
    "1.7976931348623157e308",
    "2.2250738585072014e-308",
    "4.9e-324",
    "3.14e+02",
    "1E5",
    "True",
    "yes",
]
ODD_WORDS = [
    "",
    " ",
    "Yes",
    " no ",
    "TRUE",
    "f",
    "Y",
    "maybe",
    "1",
    "0",
    "1.0",
    "nan",
    "None",
    "Admin.",
    "admin.",
    " admin. ",
    "blue-collar",
    "unseen-category",
    "ÉTÉ",
    "straße",
    "Hello, World!",
    "...",
    "a  b",
    "seat-belts! - (ok)",
    "I really enjoined it",
    "\u00a0x\u00a0",
]


# -- building models: fitted recipes with random weights (every feature counts) -----------------


def typed_frame(schema: Schema, raw: pd.DataFrame) -> pd.DataFrame:
    """Raw string columns converted with their schema types, as the training reader does."""
    return pd.DataFrame(
        {
            a.name: convert_column(a.type, raw[a.name].astype(object)).values
            for a in schema.attributes
            if a.name in raw.columns
        }
    )


def model_of(
    schema: Schema,
    recipe: str | dict[str, Any],
    frame: pd.DataFrame,
    model_type: ModelType,
    *,
    seed: int = 0,
    max_features: int | None = None,
    classes: list[str] | None = None,
) -> TrainedModel:
    fitted = fit_recipe(parse_recipe(recipe, schema), schema, [frame], max_features=max_features)
    k = len(classes) if model_type is ModelType.MULTICLASS and classes else 1
    weights = np.random.default_rng(seed).normal(0.0, 0.7, (fitted.n_features + 1, k))
    if model_type is ModelType.BINARY:
        classes = ["0", "1"]
    return TrainedModel(
        model_type=model_type,
        schema=schema,
        recipe_text=json.dumps(recipe) if isinstance(recipe, dict) else recipe,
        fitted_recipe=fitted,
        weights=weights,
        classes=classes or [],
        parameters=TrainingParameters(),
        score_threshold=0.4,
    )


def frame_path_body(model: TrainedModel, record: dict[str, Any]) -> dict[str, Any]:
    """`score_record` as it was: every record through a one-row DataFrame."""
    original = scoring.record_margins
    scoring.record_margins = lambda model, record: None  # type: ignore[assignment]
    try:
        return score_record(model, record)
    finally:
        scoring.record_margins = original


def assert_same_prediction(model: TrainedModel, record: dict[str, Any]) -> None:
    assert record_scorer(model) is not None, "the recipe should have a compiled form"
    expected = frame_path_body(model, record)
    actual = score_record(model, record)
    assert_close(actual, expected)


def assert_close(actual: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and list(actual) == list(expected)
        for key in expected:
            assert_close(actual[key], expected[key])
    elif isinstance(expected, float):
        assert isinstance(actual, float)
        if math.isnan(expected):  # a huge number overflows the margin in both paths
            assert math.isnan(actual)
            return
        assert actual == expected or math.isclose(actual, expected, rel_tol=1e-9, abs_tol=0.0), (
            actual,
            expected,
        )
    else:
        assert actual == expected


# -- banking: the tutorial's schema and recipe, its records --------------------------------------


@pytest.fixture(scope="module")
def banking(data_dir: Path) -> dict[str, Any]:
    schema = parse_schema((data_dir / "banking.csv.schema").read_text())
    raw = pd.read_csv(data_dir / "banking.csv", dtype=str, keep_default_na=False, nrows=8000)
    recipe = json.loads((data_dir / "banking-recipe.json").read_text())
    frame = typed_frame(schema, raw)
    return {
        "schema": schema,
        "records": raw.to_dict("records"),
        "batch": pd.read_csv(data_dir / "banking-batch.csv", dtype=str, keep_default_na=False)
        .head(300)
        .to_dict("records"),
        "model": model_of(schema, recipe, frame, ModelType.BINARY),
        "frame": frame,
    }


def test_banking_records_score_the_same_as_through_a_frame(banking: dict[str, Any]) -> None:
    model = banking["model"]
    for record in banking["records"][::40] + banking["batch"]:
        assert_same_prediction(model, record)


def test_banking_records_score_bit_for_bit_the_same_margins(banking: dict[str, Any]) -> None:
    model = banking["model"]
    for record in banking["batch"][:100]:
        frame = record_frame(model, record)
        expected = model.fitted_recipe.encode(frame)
        actual = record_scorer(model).features(record)  # type: ignore[union-attr]
        assert actual.indices.tolist() == expected.indices.tolist()
        assert actual.values.tobytes() == expected.values.tobytes()
        margins = record_module.record_margins(model, record)
        assert margins is not None
        assert margins.tobytes() == margins_of(expected, model.weights).tobytes()


def test_banking_multiclass_and_regression_models_score_the_same(banking: dict[str, Any]) -> None:
    schema = dataclasses.replace(banking["schema"], target="job", excluded=["y"])
    as_classes = model_of(
        schema,
        {"outputs": ["ALL_CATEGORICAL", "quantile_bin(ALL_NUMERIC,20)", "ALL_NUMERIC"]},
        banking["frame"],
        ModelType.MULTICLASS,
        seed=3,
        classes=sorted(set(banking["frame"]["job"])),
    )
    schema = dataclasses.replace(banking["schema"], target="duration", excluded=["y"])
    as_values = model_of(
        schema,
        {"outputs": ["ALL_CATEGORICAL", "ALL_NUMERIC", "cartesian(job, marital)"]},
        banking["frame"],
        ModelType.REGRESSION,
        seed=4,
    )
    for record in banking["batch"][:150]:
        assert_same_prediction(as_classes, record)
        assert_same_prediction(as_values, record)


def banking_like_records(banking: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Records made of real values, odd values, unseen ones, absent keys and stray keys."""
    frame_records = banking["records"]
    attributes = banking["schema"].attributes

    def value_of(attribute: Attribute) -> st.SearchStrategy[Any]:
        real = st.sampled_from([r[attribute.name] for r in frame_records[:500]])
        odd = st.sampled_from(ODD_NUMBERS if attribute.type is AttributeType.NUMERIC else ODD_WORDS)
        numbers = st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr)
        return st.one_of(real, real, odd, numbers, st.text(max_size=12), st.none(), st.integers())

    fields = {a.name: value_of(a) for a in attributes}
    return st.fixed_dictionaries(
        {}, optional={**fields, "stray": st.text(max_size=5), "": st.just("x")}
    )


def test_generated_banking_records_score_the_same(banking: dict[str, Any]) -> None:
    model = banking["model"]

    @SETTINGS
    @given(banking_like_records(banking))
    def check(record: dict[str, Any]) -> None:
        assert_same_prediction(model, record)

    check()


# -- winequality: all numeric, regression and classes -------------------------------------------


@pytest.fixture(scope="module")
def wine(data_dir: Path) -> dict[str, Any]:
    raw = pd.read_csv(data_dir / "winequality-red.csv", sep=";", dtype=str, keep_default_na=False)
    names = list(raw.columns)
    numeric = [Attribute(n, AttributeType.NUMERIC) for n in names[:-1]]
    regression = Schema([*numeric, Attribute("quality", AttributeType.NUMERIC)], target="quality")
    classes = Schema([*numeric, Attribute("quality", AttributeType.CATEGORICAL)], target="quality")
    recipe = {
        "groups": {},
        "assignments": {},
        "outputs": ["ALL_NUMERIC", "quantile_bin(ALL_NUMERIC,10)", "normalize(alcohol)"],
    }
    return {
        "records": raw.to_dict("records"),
        "regression": model_of(
            regression, recipe, typed_frame(regression, raw), ModelType.REGRESSION, seed=1
        ),
        "classes": model_of(
            classes,
            recipe,
            typed_frame(classes, raw),
            ModelType.MULTICLASS,
            seed=2,
            classes=sorted(set(raw["quality"])),
        ),
    }


def test_winequality_records_score_the_same_for_values_and_classes(wine: dict[str, Any]) -> None:
    for record in wine["records"][::7]:
        assert_same_prediction(wine["regression"], record)
        assert_same_prediction(wine["classes"], record)


def test_winequality_records_with_odd_numbers_score_the_same(wine: dict[str, Any]) -> None:
    names = list(wine["records"][0])

    @SETTINGS
    @given(
        st.sampled_from(wine["records"]),
        st.dictionaries(
            st.sampled_from(names),
            st.one_of(st.sampled_from(ODD_NUMBERS), st.floats().map(str), st.none()),
        ),
    )
    def check(base: dict[str, str], changes: dict[str, Any]) -> None:
        record = {**base, **changes}
        assert_same_prediction(wine["regression"], record)
        assert_same_prediction(wine["classes"], record)

    check()


# -- every transformation, on a small schema of each type ---------------------------------------

SMALL = Schema(
    [
        Attribute("a", AttributeType.NUMERIC),
        Attribute("b", AttributeType.NUMERIC),
        Attribute("flag", AttributeType.BINARY),
        Attribute("job", AttributeType.CATEGORICAL),
        Attribute("city", AttributeType.CATEGORICAL),
        Attribute("note", AttributeType.TEXT),
        Attribute("y", AttributeType.BINARY),
    ],
    target="y",
)
NOTES = [
    "I really enjoined it",
    "Seat-belts! - (OK)",
    "bad, bad debt...",
    "no remark",
    "",
    "Hello World hello world",
    "a b c d e f",
    "ÉTÉ straße",
]


def small_training_frame(seed: int = 0, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = [str(v) if i % 17 else "" for i, v in enumerate(rng.integers(18, 80, n))]
    raw = pd.DataFrame(
        {
            "a": a,
            "b": [f"{v:.3f}" for v in rng.normal(0, 100, n)],
            "flag": rng.choice(["yes", "no", "", "1"], n),
            "job": rng.choice(["Admin.", "tech", "retired", "", "blue-collar", "Tech"], n),
            "city": rng.choice(["Paris", "Lyon", "paris!", "Nice"], n),
            "note": rng.choice(NOTES, n),
            "y": rng.choice(["0", "1"], n),
        }
    )
    return typed_frame(SMALL, raw)


TRANSFORMATIONS = [
    "a",
    "normalize(a)",
    "quantile_bin(a,5)",
    "quantile_bin(b,50)",
    "quantile_bin(normalize(b),3)",
    "flag",
    "job",
    "lowercase(job)",
    "no_punct(city)",
    "lowercase(no_punct(city))",
    "note",
    "lowercase(note)",
    "no_punct(note)",
    "ngram(note,2)",
    "ngram(lowercase(note),4)",
    "ngram(job,2)",
    "osb(note,3)",
    "osb(no_punct(note),5)",
    "cartesian(job,flag)",
    "cartesian(job,city)",
    "cartesian(job,quantile_bin(a,4))",
    "cartesian(cartesian(job,city),flag)",
    "cartesian(note,job)",
    "cartesian(ngram(note,2),flag)",
    "cartesian(osb(lowercase(note),3),quantile_bin(b,3))",
    "lowercase(cartesian(job,city))",
    "ngram(cartesian(job,city),2)",
]


def small_records() -> st.SearchStrategy[dict[str, Any]]:
    def value_of(attribute: Attribute) -> st.SearchStrategy[Any]:
        if attribute.type is AttributeType.NUMERIC:
            odd = st.sampled_from(ODD_NUMBERS)
            numbers = st.one_of(
                st.integers(0, 100).map(str), st.floats(-1e4, 1e4).map(lambda v: f"{v:.6g}")
            )
            return st.one_of(odd, numbers, numbers, st.none())
        if attribute.name == "note":
            return st.one_of(
                st.sampled_from(NOTES + ODD_WORDS),
                st.lists(st.sampled_from(["hello", "World", "bad", "a", "b", "c", "!", "ok"])).map(
                    " ".join
                ),
                st.text(max_size=20),
            )
        seen = ["Admin.", "tech", "retired", "Tech", "Paris", "Lyon", "paris!", "Nice", "yes"]
        return st.one_of(st.sampled_from(seen + ODD_WORDS), st.text(max_size=8), st.none())

    fields = {a.name: value_of(a) for a in SMALL.attributes}
    return st.fixed_dictionaries({}, optional={**fields, "stray": st.just("1")})


@pytest.fixture(scope="module")
def small_frame() -> pd.DataFrame:
    return small_training_frame()


@pytest.mark.parametrize("output", TRANSFORMATIONS)
def test_each_transformation_scores_records_the_same(output: str, small_frame: Any) -> None:
    models = [
        model_of(SMALL, {"outputs": [output]}, small_frame, ModelType.BINARY, seed=5),
        model_of(SMALL, {"outputs": [output, "b"]}, small_frame, ModelType.REGRESSION, seed=6),
        model_of(
            dataclasses.replace(SMALL, target="job"),
            {"outputs": [output, "a"]} if "job" not in output else {"outputs": ["a", "b"]},
            small_frame,
            ModelType.MULTICLASS,
            seed=7,
            classes=["Admin.", "Tech", "blue-collar", "retired", "tech"],
        ),
    ]

    @EACH
    @given(small_records())
    def check(record: dict[str, Any]) -> None:
        for model in models:
            assert_same_prediction(model, record)

    check()


def test_a_recipe_of_every_transformation_with_features_dropped_scores_the_same(
    small_frame: Any,
) -> None:
    full = model_of(SMALL, {"outputs": TRANSFORMATIONS}, small_frame, ModelType.BINARY)
    # dropping the rarest features leaves outputs without their `value`, `missing` or some bins
    capped = model_of(
        SMALL,
        {"outputs": TRANSFORMATIONS},
        small_frame,
        ModelType.BINARY,
        seed=9,
        max_features=full.n_features // 3,
    )
    assert capped.fitted_recipe.dropped

    @SETTINGS
    @given(small_records())
    def check(record: dict[str, Any]) -> None:
        assert_same_prediction(full, record)
        assert_same_prediction(capped, record)

    check()


def test_records_with_nothing_usable_score_as_the_intercept_alone(small_frame: Any) -> None:
    model = model_of(SMALL, {"outputs": TRANSFORMATIONS}, small_frame, ModelType.BINARY)
    for record in ({}, {"a": "", "note": "   "}, {"stray": "x"}, {"y": "1"}):
        assert_same_prediction(model, record)


# -- conversions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("attribute_type", list(AttributeType))
def test_each_value_is_converted_as_a_column_of_it_would_be(attribute_type: AttributeType) -> None:
    def expected(text: str) -> Any:
        return convert_column(attribute_type, pd.Series([text], dtype=object)).values[0]

    @SETTINGS
    @given(
        st.one_of(
            st.sampled_from(ODD_NUMBERS + ODD_WORDS),
            st.text(),
            st.floats().map(repr),
            st.floats().map(lambda v: f"{v:.20e}"),
            st.integers().map(str),
            st.from_regex(r"\s*[+-]?\d{0,25}\.?\d{0,25}([eE][+-]?\d{1,3})?\s*", fullmatch=True),
        )
    )
    def check(text: str) -> None:
        actual, wanted = convert_value(attribute_type, text), expected(text)
        if isinstance(wanted, str):
            assert actual == wanted
        elif math.isnan(wanted):
            assert isinstance(actual, float) and math.isnan(actual)
        else:
            assert isinstance(actual, float) and actual == wanted

    check()


# -- when the frame path is kept, and the cache ---------------------------------------------------


def test_a_recipe_reading_an_attribute_with_another_type_falls_back_to_the_frame_path(
    small_frame: Any,
) -> None:
    model = model_of(SMALL, {"outputs": ["a", "job"]}, small_frame, ModelType.BINARY)
    retyped = Schema(
        [
            Attribute("a", AttributeType.CATEGORICAL) if a.name == "a" else a
            for a in SMALL.attributes
        ],
        target="y",
    )
    other = dataclasses.replace(model, schema=retyped)
    assert record_scorer(other) is None
    body = score_record(other, {"a": "41", "job": "tech"})
    assert body == frame_path_body(other, {"a": "41", "job": "tech"})
    assert record_scorer(model) is not None  # the same fitted recipe, its own schema again


def test_models_that_differ_only_in_their_threshold_share_one_compiled_recipe(
    small_frame: Any,
) -> None:
    model = model_of(SMALL, {"outputs": ["a", "job"]}, small_frame, ModelType.BINARY)
    lower = dataclasses.replace(model, score_threshold=0.01)
    assert record_scorer(lower) is record_scorer(model)
    assert score_record(lower, {"a": "41"})["predictedLabel"] == "1"
    assert_close(
        score_record(lower, {"a": "41"}),
        frame_path_body(lower, {"a": "41"}),
    )


def test_the_frame_path_and_the_record_path_agree_on_a_record_frame(small_frame: Any) -> None:
    model = model_of(SMALL, {"outputs": TRANSFORMATIONS}, small_frame, ModelType.BINARY)
    record = {"a": "40", "b": "-3.5", "flag": "yes", "job": "tech", "city": "Paris"}
    record["note"] = "Hello World hello world"
    expected = score_frame(model, record_frame(model, record))
    assert scoring.record_scores(model, record).tolist() == expected.tolist()

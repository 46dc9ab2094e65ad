"""fit_recipe and FittedRecipe: what is learned, how records are encoded, saving and dropping."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.io.csvreader import CsvFormat
from mlcore.io.dataset import TypedChunk, TypedReader
from mlcore.io.locations import resolve_local
from mlcore.recipes import FittedRecipe, fit_recipe, parse_recipe
from mlcore.schema import Attribute, AttributeType, Schema, parse_schema

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
NAN = float("nan")


@pytest.fixture
def schema() -> Schema:
    return Schema(
        [
            Attribute("age", AttributeType.NUMERIC),
            Attribute("job", AttributeType.CATEGORICAL),
            Attribute("title", AttributeType.TEXT),
            Attribute("married", AttributeType.BINARY),
            Attribute("y", AttributeType.BINARY),
        ],
        target="y",
    )


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "age": [20.0, 30.0, NAN, 40.0, 50.0, 60.0],
            "job": ["admin.", "tech", "tech", "", "admin.", "cook"],
            "title": ["Deep Learning", "deep deep learning!", "", "hello", "Deep", "learning"],
            "married": [1.0, 0.0, 1.0, NAN, 0.0, 1.0],
            "y": [1.0, 0.0, 1.0, 0.0, 1.0, 0.0],
        }
    )


def fitted_for(
    outputs: list[str], schema: Schema, frames: list[pd.DataFrame], **kw: int
) -> FittedRecipe:
    return fit_recipe(parse_recipe({"outputs": outputs}, schema), schema, frames, **kw)


def dense(fitted: FittedRecipe, frame: pd.DataFrame) -> dict[str, list[float]]:
    matrix = fitted.encode(frame).to_dense()
    return {name: matrix[:, i].tolist() for i, name in enumerate(fitted.feature_names)}


def test_categories_are_one_hot_and_unknown_or_missing_ones_are_ignored(
    schema: Schema, frame: pd.DataFrame
) -> None:
    fitted = fitted_for(["job"], schema, [frame])
    assert fitted.feature_names == ["job=admin.", "job=cook", "job=tech"]
    assert fitted.feature_counts.tolist() == [2, 1, 2]
    encoded = dense(fitted, pd.DataFrame({"job": ["tech", "pilot", ""]}))
    assert encoded == {"job=admin.": [0, 0, 0], "job=cook": [0, 0, 0], "job=tech": [1, 0, 0]}


def test_numerics_are_standardised_and_missing_gets_an_indicator(
    schema: Schema, frame: pd.DataFrame
) -> None:
    fitted = fitted_for(["age"], schema, [frame])
    assert fitted.feature_names == ["age", "age:missing"]
    assert fitted.feature_counts.tolist() == [5, 1]
    encoded = fitted.encode(frame)
    values = encoded.to_dense()
    present = [0, 1, 3, 4, 5]
    assert values[present, 0].mean() == pytest.approx(0.0, abs=1e-6)
    assert values[present, 0].std() == pytest.approx(1.0, abs=1e-6)
    assert values[:, 1].tolist() == [0, 0, 1, 0, 0, 0]
    assert values[2, 0] == 0.0
    assert encoded.values.dtype == np.float32


def test_normalize_gives_the_standardised_value_under_its_own_name(
    schema: Schema, frame: pd.DataFrame
) -> None:
    fitted = fitted_for(["age", "normalize(age)"], schema, [frame])
    encoded = dense(fitted, frame)
    assert encoded["normalize(age)"] == encoded["age"]


def test_no_missing_indicator_when_training_had_no_missing_value(schema: Schema) -> None:
    fitted = fitted_for(["age"], schema, [pd.DataFrame({"age": [1.0, 2.0]})])
    assert fitted.feature_names == ["age"]
    assert dense(fitted, pd.DataFrame({"age": [NAN]})) == {"age": [0.0]}


def test_a_constant_numeric_does_not_divide_by_zero(schema: Schema) -> None:
    fitted = fitted_for(["age"], schema, [pd.DataFrame({"age": [3.0, 3.0]})])
    assert dense(fitted, pd.DataFrame({"age": [3.0, 4.0]})) == {"age": [0.0, 1.0]}


def test_binary_is_one_feature_set_when_true(schema: Schema, frame: pd.DataFrame) -> None:
    fitted = fitted_for(["married"], schema, [frame])
    assert dense(fitted, frame) == {"married": [1, 0, 1, 0, 0, 1]}
    assert fitted.feature_counts.tolist() == [3]


def test_text_is_a_bag_of_words_marking_presence(schema: Schema, frame: pd.DataFrame) -> None:
    fitted = fitted_for(["lowercase(no_punct(title))"], schema, [frame])
    names = fitted.feature_names
    assert names == [f"lowercase(no_punct(title))={w}" for w in ["deep", "hello", "learning"]]
    assert dense(fitted, frame)[names[0]] == [1, 1, 0, 0, 1, 0]  # "deep deep" counts once


def test_a_text_attribute_alone_keeps_case_and_punctuation(
    schema: Schema, frame: pd.DataFrame
) -> None:
    fitted = fitted_for(["title"], schema, [frame])
    assert "title=learning!" in fitted.feature_names and "title=Deep" in fitted.feature_names


def test_ngram_features_include_the_words(schema: Schema, frame: pd.DataFrame) -> None:
    fitted = fitted_for(["ngram(lowercase(title),2)"], schema, [frame])
    assert "ngram(lowercase(title),2)=deep learning" in fitted.feature_names
    assert "ngram(lowercase(title),2)=deep" in fitted.feature_names


def test_quantile_bins_hold_equal_populations(schema: Schema) -> None:
    values = np.random.default_rng(1).exponential(size=20_000)
    train = pd.DataFrame({"age": values})
    fitted = fitted_for(["quantile_bin(age,20)"], schema, [train])
    assert fitted.n_features == 20
    counts = fitted.encode(train).to_dense().sum(axis=0)
    assert counts.min() >= 950 and counts.max() <= 1050
    assert fitted.feature_counts.tolist() == counts.astype(int).tolist()


def test_quantile_bin_labels_and_missing_bin(schema: Schema, frame: pd.DataFrame) -> None:
    fitted = fitted_for(["quantile_bin(age,2)"], schema, [frame])
    assert fitted.feature_names == [
        "quantile_bin(age,2)=(-inf,40)",
        "quantile_bin(age,2)=[40,inf)",
        "quantile_bin(age,2)=missing",
    ]
    assert dense(fitted, frame)["quantile_bin(age,2)=missing"] == [0, 0, 1, 0, 0, 0]


def test_cartesian_of_bins_and_categories_uses_bin_labels(
    schema: Schema, frame: pd.DataFrame
) -> None:
    fitted = fitted_for(["cartesian(quantile_bin(age,2),job)"], schema, [frame])
    prefix = "cartesian(quantile_bin(age,2),job)="
    assert fitted.feature_names == [
        prefix + name
        for name in [
            "(-inf,40)_admin.",
            "(-inf,40)_tech",
            "[40,inf)_admin.",
            "[40,inf)_cook",
            "missing_tech",
        ]
    ]
    encoded = dense(fitted, frame)
    assert encoded[prefix + "(-inf,40)_admin."] == [1, 0, 0, 0, 0, 0]
    assert encoded[prefix + "missing_tech"] == [0, 0, 1, 0, 0, 0]


def test_encoding_two_chunks_equals_encoding_one_frame(schema: Schema, frame: pd.DataFrame) -> None:
    outputs = ["ALL_INPUTS", "quantile_bin(age,3)", "osb(title,3)", "cartesian(job,title)"]
    fitted = fitted_for(outputs, schema, [frame])
    whole = fitted.encode(frame, frame["y"].to_numpy())
    first, second = fitted.encode(frame.iloc[:3]), fitted.encode(frame.iloc[3:])
    joined = np.vstack([first.to_dense(), second.to_dense()])
    np.testing.assert_array_equal(whole.to_dense(), joined)
    assert whole.y.tolist() == frame["y"].tolist()
    for row in range(len(whole)):
        columns = whole.indices[whole.indptr[row] : whole.indptr[row + 1]]
        assert (np.diff(columns) > 0).all()


def test_fitting_in_chunks_learns_the_same_as_in_one_frame(
    schema: Schema, frame: pd.DataFrame
) -> None:
    outputs = ["ALL_INPUTS", "quantile_bin(age,3)", "cartesian(quantile_bin(age,2),job)"]
    one = fitted_for(outputs, schema, [frame])
    chunked = fitted_for(outputs, schema, [frame.iloc[:2], frame.iloc[2:5], frame.iloc[5:]])
    assert chunked.feature_names == one.feature_names
    assert chunked.feature_counts.tolist() == one.feature_counts.tolist()
    assert {k: v.tolist() for k, v in chunked.bins.items()} == {
        k: v.tolist() for k, v in one.bins.items()
    }
    np.testing.assert_allclose(
        chunked.encode(frame).to_dense(), one.encode(frame).to_dense(), atol=1e-6
    )


def test_y_defaults_to_nan(schema: Schema, frame: pd.DataFrame) -> None:
    assert np.isnan(fitted_for(["job"], schema, [frame]).encode(frame).y).all()


def test_a_column_absent_at_encoding_counts_as_missing(schema: Schema, frame: pd.DataFrame) -> None:
    fitted = fitted_for(["age", "job"], schema, [frame])
    assert dense(fitted, pd.DataFrame({"other": [1]}))["age:missing"] == [1.0]


def test_to_dict_round_trips_through_json(schema: Schema, frame: pd.DataFrame) -> None:
    outputs = [
        "ALL_INPUTS",
        "quantile_bin(age,3)",
        "ngram(title,2)",
        "cartesian(quantile_bin(age,2),job)",
    ]
    fitted = fitted_for(outputs, schema, [frame])
    again = FittedRecipe.from_dict(json.loads(json.dumps(fitted.to_dict())))
    assert again.feature_names == fitted.feature_names
    assert again.feature_counts.tolist() == fitted.feature_counts.tolist()
    np.testing.assert_array_equal(again.encode(frame).to_dense(), fitted.encode(frame).to_dense())


def test_drop_features_keeps_the_rest_and_says_what_went(
    schema: Schema, frame: pd.DataFrame
) -> None:
    fitted = fitted_for(["job", "age"], schema, [frame])
    keep = np.array([True, False, True, True, False])
    smaller = fitted.drop_features(keep)
    assert smaller.feature_names == ["job=admin.", "job=tech", "age"]
    assert smaller.dropped == "dropped 2 of 5 features (job: 1; age: 1)"
    np.testing.assert_array_equal(
        smaller.encode(frame).to_dense(), fitted.encode(frame).to_dense()[:, keep]
    )
    assert FittedRecipe.from_dict(smaller.to_dict()).dropped == smaller.dropped


def test_drop_features_checks_the_mask_length(schema: Schema, frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="5 features"):
        fitted_for(["job", "age"], schema, [frame]).drop_features(np.ones(3, dtype=bool))


def test_max_features_keeps_the_most_frequent(schema: Schema, frame: pd.DataFrame) -> None:
    fitted = fitted_for(["job", "age"], schema, [frame], max_features=3)
    assert fitted.feature_names == ["job=admin.", "job=tech", "age"]
    assert "dropped 2 of 5" in fitted.dropped


def test_from_dict_rejects_an_unknown_version() -> None:
    with pytest.raises(ValueError, match="version"):
        FittedRecipe.from_dict({"version": 99, "outputs": [], "bins": {}})


@pytest.fixture(scope="module")
def banking() -> tuple[Schema, pd.DataFrame]:
    schema = parse_schema((DATA / "banking.csv.schema").read_text())
    reader = TypedReader(resolve_local(DATA / "banking.csv"), schema, CsvFormat(",", True))
    return schema, pd.concat([chunk.frame for chunk in reader], ignore_index=True)


def test_banking_encodes_quickly(banking: tuple[Schema, pd.DataFrame]) -> None:
    schema, frame = banking
    recipe = parse_recipe((DATA / "banking-recipe.json").read_text(), schema)
    fitted = fit_recipe(recipe, schema, [frame])
    fitted.encode(frame.iloc[:100])  # warm up
    started = time.perf_counter()
    batch = fitted.encode(frame, frame["y"].to_numpy())
    elapsed = time.perf_counter() - started
    assert len(batch) == len(frame) and batch.nnz == 20 * len(frame) - int(
        (frame["previous"] != 1).sum()
    )
    assert elapsed < 0.5  # about 0.08 s on a laptop; generous for busy CI machines


def test_the_tweaked_adult_recipe_fits_and_encodes() -> None:
    schema = parse_schema((DATA / "adult-train.csv.schema").read_text())
    frame = pd.read_csv(
        DATA / "adult.data", header=None, names=schema.names, sep=", ", engine="python", dtype=str
    )
    for attribute in schema.attributes:
        if attribute.type is AttributeType.NUMERIC:
            frame[attribute.name] = frame[attribute.name].astype(float)
    recipe = parse_recipe((DATA / "adult-tweakedrecipe.json").read_text(), schema)
    fitted = fit_recipe(recipe, schema, [frame])
    batch = fitted.encode(frame)
    crossed = [n for n in fitted.feature_names if n.startswith("cartesian(")]
    assert len(crossed) > 40 and all("\x01" not in n for n in crossed)
    row_sums = batch.to_dense()[:, [fitted.feature_names.index(n) for n in crossed]].sum(axis=1)
    assert (row_sums == 1).all()  # each record is in exactly one hours-bin x marital-status cell


def test_fit_accepts_the_readers_typed_chunks(schema: Schema, frame: pd.DataFrame) -> None:
    chunk = TypedChunk(frame, np.arange(len(frame)))
    fitted = fit_recipe(parse_recipe({"outputs": ["job"]}, schema), schema, [chunk])  # type: ignore[list-item]
    assert fitted.feature_names == ["job=admin.", "job=cook", "job=tech"]

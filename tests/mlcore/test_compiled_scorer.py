"""The compiled scorer gives the general path's margins bit for bit, however pandas shares the
string objects of a chunk."""

from __future__ import annotations

import io
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.io.csvreader import CsvFormat
from mlcore.io.files import DataFile
from mlcore.predict.batch import DEFAULT_CHUNK_BYTES, _plan, _reader, _typed_inputs
from mlcore.predict.compiled import CompiledScorer
from mlcore.predict.scoring import frame_margins
from mlcore.schema import parse_schema
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.train.model import TrainedModel
from mlcore.train.pipeline import train_model

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def memory_file(data: bytes, name: str = "data.csv") -> DataFile:
    return DataFile(name=name, size=len(data), opener=partial(io.BytesIO, data))


@pytest.fixture(scope="module")
def banking_model() -> TrainedModel:
    """The tutorial's model (its schema, the suggested recipe) on the first 6,000 records."""
    lines = (DATA / "banking.csv").read_bytes().split(b"\n")
    return train_model(
        [memory_file(b"\n".join(lines[:6001]) + b"\n")],
        parse_schema((DATA / "banking.csv.schema").read_text()),
        CsvFormat(),
        model_type="BINARY",
        parameters={"sgd.maxPasses": "3"},
    )


def binary_model(rows: pd.DataFrame, attribute: Attribute, outputs: str) -> TrainedModel:
    """A model of `rows`, `attribute` against the BINARY target `y`, with those recipe outputs."""
    return train_model(
        [memory_file(rows.to_csv(index=False).encode())],
        Schema([attribute, Attribute("y", AttributeType.BINARY)], target="y"),
        CsvFormat(),
        model_type="BINARY",
        recipe_text=f'{{"outputs": {outputs}}}',
        parameters={"sgd.maxPasses": "2"},
    )


def banking_batch_frame(model: TrainedModel) -> tuple[pd.DataFrame, CompiledScorer]:
    """banking-batch.csv as the batch reader hands it over, and the model's scorer."""
    data = (DATA / "banking-batch.csv").read_bytes()
    reader = _reader([memory_file(data)], CsvFormat(), None, DEFAULT_CHUNK_BYTES)
    schema = parse_schema((DATA / "banking-batch.csv.schema").read_text())
    plan = _plan(model, reader.columns, schema, (), False)
    reader.read_as(plan.float_columns, plan.category_columns)
    frame = pd.concat([chunk.frame for chunk in reader.chunks()], ignore_index=True)
    scorer = CompiledScorer.compile(model, plan.inputs)
    assert scorer is not None
    return frame, scorer


def general_margins(model: TrainedModel, frame: pd.DataFrame) -> np.ndarray:
    plan = _plan(model, list(frame.columns), Schema([]), (), False)
    typed, _ = _typed_inputs(plan, frame)
    return frame_margins(model, typed)


def with_a_string_object_per_field(frame: pd.DataFrame) -> pd.DataFrame:
    """The same frame, every text field its own object (pandas shares equal ones)."""
    copy = frame.copy()
    for name in copy.columns:
        if copy[name].dtype == object:
            copy[name] = pd.Series(
                ["".join(list(text)) for text in copy[name]], dtype=object, index=copy.index
            )
    return copy


def test_the_compiled_margins_of_banking_batch_are_the_general_paths_bit_for_bit(
    banking_model: TrainedModel,
) -> None:
    frame, scorer = banking_batch_frame(banking_model)
    compiled, first_bad = scorer.margins(frame)
    assert np.array_equal(compiled, general_margins(banking_model, frame))
    # the tutorial schema's BINARY `previous` holds values above 1 in 121 records
    assert int((first_bad >= 0).sum()) == 121


def test_equal_strings_held_by_different_objects_give_the_same_margins(
    banking_model: TrainedModel,
) -> None:
    frame, scorer = banking_batch_frame(banking_model)
    shared, _ = scorer.margins(frame)
    assert frame["job"].map(id).nunique() == frame["job"].nunique()  # pandas shared them
    separate = with_a_string_object_per_field(frame)
    assert separate["job"].map(id).nunique() == len(separate)
    margins, _ = scorer.margins(separate)
    assert np.array_equal(margins, shared)


def test_a_category_column_of_many_distinct_values_scores_as_the_general_path() -> None:
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 900, 2000)
    rows = pd.DataFrame(
        {
            "code": [f"c{v}" for v in codes],
            "y": ((codes % 3 == 0) ^ (rng.random(2000) < 0.1)).astype(int).astype(str),
        }
    )
    model = binary_model(rows, Attribute("code", AttributeType.CATEGORICAL), '["code"]')
    frame = rows.astype(object)
    scorer = CompiledScorer.compile(model, [Attribute("code", AttributeType.CATEGORICAL)])
    assert scorer is not None
    margins, first_bad = scorer.margins(frame)
    assert np.array_equal(margins, general_margins(model, frame))
    assert (first_bad < 0).all()
    assert len(set(np.round(margins[:, 0], 12))) > 256  # the words were told apart


@pytest.fixture(scope="module")
def binned_model() -> TrainedModel:
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(50, 20, 3000), 1)
    rows = pd.DataFrame({"x": x, "y": ((x + rng.normal(0, 10, 3000)) > 50).astype(int).astype(str)})
    recipe = '["quantile_bin(x, 20)", "quantile_bin(x, 7)", "x"]'
    return binary_model(rows, Attribute("x", AttributeType.NUMERIC), recipe)


@pytest.mark.parametrize(
    "values",
    [
        pytest.param(np.arange(-30.0, 130.0), id="whole numbers"),
        pytest.param(np.round(np.linspace(-10, 120, 4001), 1), id="tenths"),
        pytest.param(np.round(np.linspace(20, 80, 3001), 3), id="thousandths"),
        pytest.param(np.random.default_rng(1).uniform(0, 100, 2000), id="off any grid"),
        pytest.param(np.arange(0.0, 200_000.0, 3.0), id="a grid too wide"),
        pytest.param(np.array([1e17, 1e17 + 16, -1e17, 50.0]), id="beyond exact integers"),
        pytest.param(np.array([-0.0, 0.0, 49.9, 50.0, 50.1, np.nan, 61.0]), id="missing"),
        pytest.param(np.array([np.nan, np.nan]), id="all missing"),
    ],
)
def test_bins_found_on_a_grid_of_the_values_are_the_binary_searchs(
    binned_model: TrainedModel, values: np.ndarray
) -> None:
    frame = pd.DataFrame({"x": values})
    scorer = CompiledScorer.compile(binned_model, [Attribute("x", AttributeType.NUMERIC)])
    assert scorer is not None
    margins, _ = scorer.margins(frame)
    assert np.array_equal(margins, general_margins(binned_model, frame), equal_nan=True)

"""The training fast paths give what the general paths give.

Training reads CATEGORICAL columns as pandas Categoricals (`TypedReader(categories=True)`),
counts and encodes them by their codes, encodes one-value-per-row outputs as dense slots, and
counts quantile-bin inputs by hashing. Each is checked here against the plain path.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from mlcore.io.csvreader import CsvFormat, InvalidRecord
from mlcore.io.dataset import TypedReader
from mlcore.io.files import DataFile
from mlcore.recipes import fit_recipe, parse_recipe
from mlcore.recipes.fitted import _add_distinct, _assemble, _encode_output, _Evaluator, _Slot
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.stats.distinct import DistinctValueCounts

MemoryFile = Callable[..., DataFile]
N, B, C, T = (
    AttributeType.NUMERIC,
    AttributeType.BINARY,
    AttributeType.CATEGORICAL,
    AttributeType.TEXT,
)
DATA = (
    "age,job,flag,note,y\n"
    "30, admin ,yes,Good day,1\n"
    "41,admin,no,bad,0\n"
    ",tech,,,1\n"
    "52,,1,Good,0\n"
    "abc,tech,0,ok,1\n"  # an invalid NUMERIC value: reported, skipped
    "63,retired,maybe,ok,0\n"  # an invalid BINARY value: reported, skipped
    "28,tech,0,Bad day,1\n"
)
SCHEMA = Schema(
    [
        Attribute("age", N),
        Attribute("job", C),
        Attribute("flag", B),
        Attribute("note", T),
        Attribute("y", B),
    ],
    target="y",
)
RECIPE = """{"groups": {}, "assignments": {},
 "outputs": ["ALL_CATEGORICAL", "ALL_BINARY", "age", "quantile_bin(age, 3)", "note",
             "cartesian(job, quantile_bin(age, 3))"]}"""


def read(memory_file: MemoryFile, categories: bool) -> tuple[pd.DataFrame, list[InvalidRecord]]:
    invalid: list[InvalidRecord] = []
    reader = TypedReader(
        [memory_file(DATA)], SCHEMA, CsvFormat(), on_invalid=invalid.append, categories=categories
    )
    frames = [chunk.frame for chunk in reader]
    return pd.concat(frames, ignore_index=True), invalid


def test_categories_hold_the_same_values_and_invalid_records_are_still_reported(
    memory_file: MemoryFile,
) -> None:
    plain, plain_invalid = read(memory_file, categories=False)
    coded, coded_invalid = read(memory_file, categories=True)
    assert isinstance(coded["job"].dtype, pd.CategoricalDtype)
    assert coded["job"].tolist() == plain["job"].tolist() == ["admin", "admin", "tech", "", "tech"]
    # " admin " and "admin" are one category once stripped; "retired" stays a category of the
    # chunk although its only record was invalid (fitting counts it 0 times, so never learns it)
    assert sorted(coded["job"].cat.categories.tolist()) == ["", "admin", "retired", "tech"]
    for name in ("age", "flag", "y"):
        np.testing.assert_array_equal(coded[name].to_numpy(), plain[name].to_numpy())
    assert plain["note"].tolist() == coded["note"].tolist()
    lines = [(record.line, record.column) for record in coded_invalid]
    assert lines == [(record.line, record.column) for record in plain_invalid]
    assert lines == [(6, "age"), (7, "flag")]


def test_fitting_and_encoding_categories_equal_fitting_and_encoding_strings(
    memory_file: MemoryFile,
) -> None:
    recipe = parse_recipe(RECIPE, SCHEMA)
    plain = read(memory_file, categories=False)[0]
    coded = read(memory_file, categories=True)[0]
    fitted_plain = fit_recipe(recipe, SCHEMA, [plain])
    fitted_coded = fit_recipe(recipe, SCHEMA, [coded])
    assert fitted_coded.feature_names == fitted_plain.feature_names
    np.testing.assert_array_equal(fitted_coded.feature_counts, fitted_plain.feature_counts)
    # a category unseen in training and a missing one encode to nothing
    unseen = pd.DataFrame({"age": [33.0, 45.0], "job": ["pilot", ""], "flag": [1.0, np.nan]})
    unseen["note"] = ["new words", ""]
    unseen_coded = unseen.assign(job=pd.Categorical(unseen["job"]))
    for frame in (plain, unseen):
        expected = fitted_plain.encode(frame).to_dense()
        categorical = frame if frame is not plain else coded
        got = fitted_plain.encode(unseen_coded if frame is unseen else categorical).to_dense()
        np.testing.assert_array_equal(got, expected)


def test_slots_assemble_to_the_rows_the_sorting_assembly_gives(memory_file: MemoryFile) -> None:
    recipe = parse_recipe(
        '{"groups": {}, "assignments": {}, "outputs": ["job", "flag", "age", '
        '"quantile_bin(age, 3)"]}',
        SCHEMA,
    )
    frame = read(memory_file, categories=True)[0]
    fitted = fit_recipe(recipe, SCHEMA, [frame])
    fitted = fitted.drop_features(np.arange(fitted.n_features) != 1)  # a dropped feature too
    evaluator = _Evaluator(frame, fitted.bins)
    parts = [
        _encode_output(output, evaluator, int(offset))
        for output, offset in zip(fitted.outputs, fitted.offsets[:-1], strict=True)
    ]
    assert all(isinstance(part, _Slot) for part in parts)
    batch = fitted.encode(frame)  # the slots, stacked
    spread = [part.spread() for part in parts if isinstance(part, _Slot)]
    sorted_batch = _assemble(spread, len(frame), fitted.n_features, np.full(len(frame), np.nan))
    for name in ("indptr", "indices", "values"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(sorted_batch, name))
    assert batch.row_width() == 0  # the missing flag leaves one row a value short


@pytest.mark.parametrize("max_distinct", [1_000, 5])
def test_hashing_distinct_values_counts_what_update_counts(max_distinct: int) -> None:
    rng = np.random.default_rng(0)
    chunks = [rng.integers(0, 40, 500) / 4.0 + 1000.0 for _ in range(3)]
    hashed, sorted_ = DistinctValueCounts(max_distinct), DistinctValueCounts(max_distinct)
    for values in chunks:
        _add_distinct(hashed, values)
        sorted_.update(values)
    np.testing.assert_array_equal(hashed.values, sorted_.values)
    np.testing.assert_array_equal(hashed.counts, sorted_.counts)
    assert hashed.digits == sorted_.digits


@pytest.mark.parametrize("distinct", [7, 5_000, None])
def test_binning_by_distinct_values_equals_a_search_per_value(distinct: int | None) -> None:
    from mlcore.recipes.fitted import _bin_numbers
    from mlcore.recipes.transforms import bin_index

    rng = np.random.default_rng(distinct)
    values = rng.random(20_000) if distinct is None else rng.integers(0, distinct, 20_000) * 0.5
    boundaries = np.unique(np.quantile(values, np.linspace(0.05, 0.95, 19)))
    np.testing.assert_array_equal(_bin_numbers(values, boundaries), bin_index(values, boundaries))

"""The statistics pass's fast paths give what the general paths give.

`compute_statistics` reads CATEGORICAL columns as pandas Categoricals, so category counts, eta
groups and contingency tables are counted on the integer codes (bincounts) instead of hashing one
string per record. Each accumulator is fed the same values both ways here, chunk by chunk, and
must hold the same figures (eta within float rounding: bincount and groupby sum in another order).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from json_close import assert_close

from mlcore.io.csvreader import CsvFormat, InvalidRecord
from mlcore.io.dataset import TypedReader
from mlcore.io.files import DataFile
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.stats import (
    CappedCounts,
    CategoricalStats,
    CorrelationRatio,
    CramersV,
    DatasetStatistics,
    DistinctValueCounts,
    compute_statistics,
)
from mlcore.stats import distinct as distinct_module
from mlcore.stats.categorical import category_codes
from mlcore.stats.correlation import BinaryAgainstClasses, ContingencyTable, TargetAsGroups
from mlcore.stats.distinct import merge_value_counts
from mlcore.stats.moments import merge_groups

MemoryFile = Callable[..., DataFile]
N, B, C = AttributeType.NUMERIC, AttributeType.BINARY, AttributeType.CATEGORICAL
SEEDS = range(4)


def as_categorical(strings: np.ndarray) -> pd.Categorical:
    """Strings as the reader's Categorical: categories in order of first appearance, "" kept."""
    codes, uniques = pd.factorize(strings)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=object))


def random_words(rng: np.random.Generator, n: int, distinct: int) -> np.ndarray:
    words = np.array([f"w{i}" for i in range(distinct)] + [""], dtype=object)
    return words[rng.integers(0, distinct + 1, n)]


def chunks_of(n: int, rng: np.random.Generator) -> list[slice]:
    cuts = np.sort(rng.integers(0, n, 3)).tolist()
    edges = [0, *cuts, n]
    return [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def assert_frames_close(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert a.index.tolist() == b.index.tolist()
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12, atol=1e-12)


def test_category_codes_treat_the_empty_category_and_nan_as_missing() -> None:
    values = pd.Categorical.from_codes(
        [0, 1, -1, 2, 1], categories=pd.Index(["a", "", "b"], dtype=object)
    )
    codes, labels = category_codes(values)  # type: ignore[misc]
    assert codes.tolist() == [0, -1, -1, 2, -1]
    assert labels.tolist() == ["a", "", "b"]
    assert category_codes(np.array(["a"], dtype=object)) is None
    assert category_codes(pd.Categorical([1, 2])) is None  # not strings: the general path


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_counts_by_codes_equal_counts_by_strings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    words = random_words(rng, 3000, 40)
    plain, coded = CategoricalStats(cap=25), CategoricalStats(cap=25)  # a cap that bites
    for part in chunks_of(len(words), rng):
        plain.update(words[part])
        coded.update(as_categorical(words[part]))
    assert coded.to_dict() == plain.to_dict()
    assert coded.values.counts.to_dict() == plain.values.counts.to_dict()
    assert coded.values.counts.index.tolist() == plain.values.counts.index.tolist()
    assert coded.values.overflow == plain.values.overflow


@pytest.mark.parametrize("seed", SEEDS)
def test_eta_groups_by_codes_equal_the_groupby(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = random_words(rng, 4000, 60)
    values = rng.normal(50.0, 10.0, len(keys))
    values[rng.random(len(keys)) < 0.1] = np.nan
    plain, coded = CorrelationRatio(max_groups=30), CorrelationRatio(max_groups=30)
    for part in chunks_of(len(keys), rng):
        plain.update(keys[part], values[part])
        coded.update(as_categorical(keys[part]), values[part])
    assert_frames_close(coded.groups, plain.groups)
    assert coded.approximate == plain.approximate
    assert math.isclose(coded.value(), plain.value(), rel_tol=1e-9)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", SEEDS)
def test_contingency_tables_by_codes_equal_those_by_strings(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = random_words(rng, 3000, 30)
    columns = random_words(rng, 3000, 8)
    flags = rng.choice([0.0, 1.0, np.nan], len(rows))
    plain, coded = ContingencyTable(max_rows=20, max_columns=5), ContingencyTable(20, 5)
    plain_v, coded_v = CramersV(), CramersV()
    plain_b, coded_b = BinaryAgainstClasses(), BinaryAgainstClasses()
    for part in chunks_of(len(rows), rng):
        plain.update(rows[part], columns[part])
        coded.update(as_categorical(rows[part]), as_categorical(columns[part]))
        plain_v.update(rows[part], columns[part])
        coded_v.update(as_categorical(rows[part]), columns[part])
        plain_b.cramer.update(_binary_strings(flags[part]), columns[part])
        coded_b.update(flags[part], as_categorical(columns[part]))
    assert coded.rows.tolist() == plain.rows.tolist()
    assert coded.columns.tolist() == plain.columns.tolist()
    np.testing.assert_array_equal(coded.counts, plain.counts)
    assert coded_v.value() == plain_v.value()
    assert coded_b.value() == plain_b.value()


def _binary_strings(flags: np.ndarray) -> np.ndarray:
    out = np.where(flags == 1.0, "1", "0").astype(object)
    out[np.isnan(flags)] = None
    return out


def test_eta_against_a_categorical_target_uses_the_codes_too() -> None:
    rng = np.random.default_rng(7)
    classes = random_words(rng, 2000, 5)
    x = rng.normal(size=len(classes)) + np.char.str_len(classes.astype(str))
    plain, coded = TargetAsGroups(), TargetAsGroups()
    plain.update(x, classes)
    coded.update(x, as_categorical(classes))
    assert math.isclose(coded.value(), plain.value(), rel_tol=1e-9)  # type: ignore[arg-type]


DATA = (
    "age,job,flag,y,kind,zip\n"
    "30, admin ,yes,1,a,01\n"
    "41,admin,no,0,b,1\n"
    ",tech,,1,a,1.0\n"
    "52,,1,0,c,01\n"
    "abc,tech,0,1,a,2\n"  # an invalid NUMERIC value: reported, skipped
    "63,retired,maybe,0,b,1\n"  # an invalid BINARY value: reported, skipped
    "28,tech,0,1,,\n"
    "35,admin,1,0,c,1\n"
)


@pytest.mark.parametrize("target", ["y", "kind", "zip", None])
def test_a_pass_over_categoricals_equals_a_pass_over_strings(
    memory_file: MemoryFile, target: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The general path (the reader hands over strings, the accumulators hash them) against
    the fast one (Categoricals from the reader, counted by codes). `zip` looks numeric: pandas
    would merge "01", "1" and "1.0", so the reader must give its strings back."""
    schema = Schema(
        [
            Attribute("age", N),
            Attribute("job", C),
            Attribute("flag", B),
            Attribute("y", B),
            Attribute("kind", C),
            Attribute("zip", C),
        ],
        target=target,
    )
    results = []
    category_columns = TypedReader._category_columns
    for categories in (False, True):
        reader_categories = category_columns if categories else lambda self: []
        monkeypatch.setattr(TypedReader, "_category_columns", reader_categories)
        invalid: list[InvalidRecord] = []
        statistics = DatasetStatistics(schema)
        reader = TypedReader(
            [memory_file(DATA)],
            schema,
            CsvFormat(),
            on_invalid=invalid.append,
            categories=categories,
            chunk_bytes=40,  # several chunks
        )
        for chunk in reader:
            assert isinstance(chunk.frame["job"].dtype, pd.CategoricalDtype) == categories
            assert isinstance(chunk.frame["zip"].dtype, pd.CategoricalDtype) == categories
            statistics.update(chunk.frame)
        results.append((statistics.result(invalid_count=reader.invalid_count), invalid))
    (plain, plain_invalid), (coded, coded_invalid) = results
    zip_stats = next(a for a in coded["attributes"] if a["name"] == "zip")
    assert {v["value"] for v in zip_stats["top"]} == {"01", "1", "1.0"}
    assert_close(coded, plain)
    assert coded_invalid == plain_invalid
    assert [(r.line, r.column) for r in coded_invalid] == [(6, "age"), (7, "flag")]
    assert "'abc' is not a valid NUMERIC value" in coded_invalid[0].reason


def test_compute_statistics_reports_every_bad_record_in_file_order(
    memory_file: MemoryFile,
) -> None:
    lines = ["x,c,y"] + [f"{i},{'bad' if i % 3 else 'c'},{i % 2}" for i in range(1, 40)]
    lines[5] = "oops,c,1"  # a bad NUMERIC value before a bad BINARY one in the same chunk
    lines[9] = "9,c,maybe"
    schema = Schema([Attribute("x", N), Attribute("c", C), Attribute("y", B)], target="y")
    invalid: list[InvalidRecord] = []
    result = compute_statistics(
        [memory_file("\n".join(lines) + "\n")], schema, CsvFormat(), on_invalid=invalid.append
    )
    assert [(r.line, r.column) for r in invalid] == [(6, "x"), (10, "y")]
    assert invalid[1].reason == "'maybe' is not a valid BINARY value"
    assert result["invalidRecordCount"] == 2
    assert result["attributes"][0]["invalid"] == 1 and result["attributes"][2]["invalid"] == 1


@pytest.mark.parametrize("cap", [30, 1000])
@pytest.mark.parametrize("seed", SEEDS)
def test_capped_counts_added_in_place_equal_pandas_addition(seed: int, cap: int) -> None:
    """Chunk after chunk of mostly known values: the in-place sum (known values, sorted
    index) and pandas' aligned addition keep the same values, counts and order."""
    rng = np.random.default_rng(seed)
    counts = CappedCounts(cap=cap)
    expected = pd.Series(dtype="int64")
    for _ in range(12):
        words = pd.Series(random_words(rng, 300, int(rng.integers(3, 40))), dtype=object)
        chunk = words.value_counts(sort=False)
        counts.update(words)
        merged = chunk if expected.empty else expected.add(chunk, fill_value=0)
        expected = merged.astype("int64")
        if len(expected) > cap:
            expected = expected.sort_values(ascending=False, kind="stable").iloc[:cap]
        assert counts.counts.index.tolist() == expected.index.tolist()
        assert counts.counts.tolist() == expected.tolist()


@pytest.mark.parametrize("cap", [10_000, 300])
@pytest.mark.parametrize("seed", SEEDS)
def test_distinct_values_by_hashing_equal_np_unique(
    seed: int, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hashing each chunk's values gives what `np.unique` per chunk gave, in the exact mode and,
    past the cap (300), in the rounded one."""
    rng = np.random.default_rng(seed)
    chunks = [np.round(rng.normal(100.0, 30.0, 2000), int(rng.integers(0, 3))) for _ in range(6)]
    hashed = DistinctValueCounts(max_distinct=cap)
    for chunk in chunks:
        hashed.update(chunk)
    monkeypatch.setattr(
        distinct_module, "distinct_counts", lambda v: np.unique(v, return_counts=True)
    )
    sorted_ = DistinctValueCounts(max_distinct=cap)
    for chunk in chunks:
        sorted_.update(chunk)
    assert hashed.digits == sorted_.digits and (hashed.digits is not None) == (cap == 300)
    np.testing.assert_array_equal(hashed.values, sorted_.values)
    np.testing.assert_array_equal(hashed.counts, sorted_.counts)
    if cap == 10_000:  # exact: one np.unique over everything
        values, counts = np.unique(np.concatenate(chunks), return_counts=True)
        np.testing.assert_array_equal(hashed.values, values)
        np.testing.assert_array_equal(hashed.counts, counts)


def test_merge_value_counts_sums_the_counts_of_equal_values() -> None:
    values, counts = merge_value_counts(
        np.array([1.0, 2.0, 5.0]), np.array([1, 2, 3]), np.array([2.0, 3.0]), np.array([10, 1])
    )
    assert values.tolist() == [1.0, 2.0, 3.0, 5.0] and counts.tolist() == [1, 12, 1, 3]
    empty = merge_value_counts(np.empty(0), np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    assert len(empty[0]) == 0 and len(empty[1]) == 0


def pandas_merge_groups(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """The former merge_groups: pandas alignment and Series arithmetic."""
    index = a.index.union(b.index, sort=False)
    a = a.reindex(index, fill_value=0.0)
    b = b.reindex(index, fill_value=0.0)
    n = a["n"] + b["n"]
    delta = b["mean"] - a["mean"]
    mean = a["mean"] + delta * b["n"] / n
    m2 = a["m2"] + b["m2"] + delta * delta * a["n"] * b["n"] / n
    return pd.DataFrame({"n": n, "mean": mean, "m2": m2})


@pytest.mark.parametrize("seed", SEEDS)
def test_merge_groups_by_position_equals_pandas_alignment_bit_for_bit(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = [f"k{i}" for i in range(12)]
    for _ in range(50):

        def table() -> pd.DataFrame:
            size = int(rng.integers(1, 12))
            return pd.DataFrame(
                {
                    "n": rng.integers(1, 50, size).astype(float),
                    "mean": rng.normal(size=size),
                    "m2": rng.random(size),
                },
                index=pd.Index(rng.choice(keys, size=size, replace=False), dtype=object),
            )

        a, b = table(), table()
        merged, expected = merge_groups(a, b), pandas_merge_groups(a, b)
        assert merged.index.tolist() == expected.index.tolist()
        np.testing.assert_array_equal(merged.to_numpy(), expected.to_numpy())

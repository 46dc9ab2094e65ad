"""The statistics accumulators: each figure, and merging two halves equals one pass."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from json_close import assert_close

from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.stats import (
    BinaryStats,
    CappedCounts,
    CategoricalStats,
    CoMoments,
    CorrelationRatio,
    CramersV,
    DatasetStatistics,
    DistinctValueCounts,
    Moments,
    NumericStats,
    PearsonCorrelation,
    TextStats,
    correlation_for,
    cramers_v,
    rebin,
    round_significant,
)

SEEDS = range(5)


def split_points(rng: np.random.Generator, n: int) -> tuple[slice, slice]:
    cut = int(rng.integers(0, n + 1))
    return slice(0, cut), slice(cut, n)


# ----------------------------------------------------------------------------- moments


@pytest.mark.parametrize("seed", SEEDS)
def test_moments_merged_from_halves_equal_numpy_over_the_whole(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.normal(5191.0, 70.0, size=1000)
    first, second = split_points(rng, len(values))
    a, b = Moments(), Moments()
    a.update(values[first])
    b.update(values[second])
    a += b
    assert a.n == 1000
    assert math.isclose(a.mean, values.mean(), rel_tol=1e-12)
    assert math.isclose(a.variance(), values.var(ddof=1), rel_tol=1e-9)


def test_comoments_give_numpys_pearson_after_merging() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=500)
    y = 0.3 * x + rng.normal(size=500)
    a, b = CoMoments(), CoMoments()
    a.update(x[:123], y[:123])
    b.update(x[123:], y[123:])
    a += b
    assert math.isclose(a.pearson(), np.corrcoef(x, y)[0, 1], rel_tol=1e-9)


# ----------------------------------------------------------------------------- numeric


def test_numeric_stats_count_missing_min_max_mean_and_stddev() -> None:
    stats = NumericStats()
    stats.update(np.array([4.0, np.nan, 1.0, 7.0, np.inf]))
    d = stats.to_dict()
    assert (d["count"], d["missing"], d["invalid"]) == (3, 1, 1)
    assert (d["min"], d["max"], d["mean"], d["median"]) == (1.0, 7.0, 4.0, 4.0)
    assert math.isclose(d["stddev"], 3.0)
    assert d["approximate"] is False


@pytest.mark.parametrize("seed", SEEDS)
def test_the_median_is_exact_for_odd_and_even_counts(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 50, size=int(rng.integers(1, 400))).astype(float)
    stats = NumericStats()
    for part in np.array_split(values, 7):
        stats.update(part)
    assert stats.to_dict()["median"] == float(np.median(values))


@pytest.mark.parametrize("seed", SEEDS)
def test_numeric_stats_merged_from_halves_equal_one_pass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.lognormal(3, 1, size=2000), 2)
    values[rng.random(2000) < 0.05] = np.nan
    first, second = split_points(rng, len(values))
    whole, a, b = NumericStats(), NumericStats(), NumericStats()
    whole.update(values)
    a.update(values[first])
    b.update(values[second])
    a += b
    assert_close(a.to_dict(), whole.to_dict())


def test_the_histogram_has_1000_bins_summing_to_the_count_and_includes_the_max() -> None:
    stats = NumericStats()
    stats.update(np.array([0.0, 0.5, 9.99, 10.0]))
    histogram = stats.to_dict()["histogram"]
    assert len(histogram["counts"]) == 1000
    assert sum(histogram["counts"]) == 4
    assert histogram["counts"][0] == 1 and histogram["counts"][50] == 1
    assert histogram["counts"][999] == 2
    assert (histogram["min"], histogram["max"]) == (0.0, 10.0)


def test_a_constant_column_puts_everything_in_the_first_bin() -> None:
    stats = NumericStats()
    stats.update(np.full(5, 3.0))
    histogram = stats.to_dict()["histogram"]
    assert histogram["counts"][0] == 5 and sum(histogram["counts"]) == 5


def test_a_column_without_values_has_null_figures() -> None:
    stats = NumericStats()
    stats.update(np.array([np.nan, np.nan]))
    d = stats.to_dict()
    assert (d["count"], d["missing"], d["min"], d["median"], d["histogram"]) == (
        0,
        2,
        None,
        None,
        None,
    )


@pytest.mark.parametrize("bins", [20, 50, 100, 200, 500])
def test_rebin_keeps_the_total_and_gives_n_plus_one_edges(bins: int) -> None:
    rng = np.random.default_rng(bins)
    stats = NumericStats()
    stats.update(rng.normal(size=3000))
    histogram = stats.histogram()
    assert histogram is not None
    folded = rebin(histogram, bins)
    assert len(folded["counts"]) == bins and len(folded["edges"]) == bins + 1
    assert sum(folded["counts"]) == 3000
    assert folded["edges"][0] == histogram["min"] and folded["edges"][-1] == histogram["max"]


@pytest.mark.parametrize("bins", [0, 10, 1000, 30])
def test_rebin_refuses_other_bin_counts(bins: int) -> None:
    with pytest.raises(ValueError, match="bins must be one of"):
        rebin({"min": 0.0, "max": 1.0, "counts": [0] * 1000}, bins)


def test_distinct_values_stay_bounded_and_say_they_became_approximate() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(100.0, 10.0, size=20_000)
    counts = DistinctValueCounts(max_distinct=1000)
    for part in np.array_split(values, 10):
        counts.update(part)
    assert counts.approximate
    assert len(counts.values) <= 1000
    assert counts.total == 20_000
    assert abs(counts.median() - float(np.median(values))) < 0.5


def test_numeric_stats_flag_the_approximation_but_keep_exact_moments() -> None:
    rng = np.random.default_rng(0)
    values = rng.uniform(0, 1, size=5000)
    stats = NumericStats(max_distinct=100)
    stats.update(values)
    d = stats.to_dict()
    assert d["approximate"] is True
    assert d["min"] == values.min() and d["max"] == values.max()
    assert math.isclose(d["mean"], values.mean())
    assert sum(d["histogram"]["counts"]) == 5000


def test_round_significant_rounds_to_the_given_digits() -> None:
    rounded = round_significant(np.array([123456.0, -0.000123456, 0.0, 98765.4321]), 5)
    assert rounded.tolist() == [123460.0, -0.00012346, 0.0, 98765.0]


# ----------------------------------------------------------------------------- binary


def test_binary_stats_count_true_values_missing_and_invalid() -> None:
    stats = BinaryStats()
    stats.update(np.array([1.0, 0.0, 1.0, np.nan, 0.0]))
    stats.add_invalid(2)
    d = stats.to_dict()
    assert d == {"count": 4, "missing": 1, "invalid": 2, "trueCount": 2, "percentTrue": 50.0}
    assert stats.distribution() == [{"value": "0", "count": 2}, {"value": "1", "count": 2}]


@pytest.mark.parametrize("seed", SEEDS)
def test_binary_stats_merged_from_halves_equal_one_pass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.choice([0.0, 1.0, np.nan], size=300, p=[0.6, 0.3, 0.1])
    first, second = split_points(rng, len(values))
    whole, a, b = BinaryStats(), BinaryStats(), BinaryStats()
    whole.update(values)
    a.update(values[first])
    b.update(values[second])
    a += b
    assert a.to_dict() == whole.to_dict()


# ----------------------------------------------------------------------------- categorical


def test_categorical_stats_give_top_values_other_count_and_least_frequent() -> None:
    values = ["a"] * 20 + [f"v{i:02d}" for i in range(12) for _ in range(i + 1)] + ["", None]
    stats = CategoricalStats()
    stats.update(values)
    d = stats.to_dict()
    assert d["count"] == 20 + sum(range(1, 13)) and d["missing"] == 2
    assert d["uniqueCount"] == 13
    assert d["mostFrequent"] == "a"
    assert d["top"][0] == {"value": "a", "count": 20} and len(d["top"]) == 10
    assert d["top"][1] == {"value": "v11", "count": 12}
    assert d["otherCount"] == 1 + 2 + 3  # v00, v01 and v02 fall outside the top 10
    assert d["leastFrequent"][:2] == [{"value": "v00", "count": 1}, {"value": "v01", "count": 2}]
    assert len(d["leastFrequent"]) == 5


@pytest.mark.parametrize("seed", SEEDS)
def test_categorical_stats_merged_from_halves_equal_one_pass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.choice(["x", "y", "z", "w", ""], size=500).tolist()
    first, second = split_points(rng, len(values))
    whole, a, b = CategoricalStats(), CategoricalStats(), CategoricalStats()
    whole.update(values)
    a.update(values[first])
    b.update(values[second])
    a += b
    assert a.to_dict() == whole.to_dict()


def test_capped_counts_keep_the_most_frequent_values_and_count_the_overflow() -> None:
    counts = CappedCounts(cap=3)
    counts.update(pd.Series(["a"] * 5 + ["b"] * 4 + ["c"] * 3 + ["d", "e"]))
    assert counts.approximate
    assert counts.counts.to_dict() == {"a": 5, "b": 4, "c": 3}
    assert counts.overflow == 2


# ----------------------------------------------------------------------------- text

REFERENCE_ROWS = [
    "an exceptional dog saw the cat",
    "the bird flew",
    "the fish swam",
    "",
]


def test_text_stats_reproduce_the_reference_example() -> None:
    stats = TextStats()
    stats.update(REFERENCE_ROWS)
    d = stats.to_dict()
    assert d["totalWords"] == 12
    assert d["uniqueWords"] == 10
    assert (d["wordsPerRowMin"], d["wordsPerRowMax"]) == (0, 6)
    assert isinstance(d["wordsPerRowMin"], int) and isinstance(d["wordLengthMax"], int)
    assert (d["wordLengthMin"], d["wordLengthMax"]) == (2, 11)
    assert (d["count"], d["missing"]) == (3, 1)
    the = next(w for w in d["topWords"] if w["word"] == "the")
    assert (the["count"], the["percent"]) == (3, 25.0)


def test_without_a_target_the_most_prominent_word_splits_the_rows_most_evenly() -> None:
    stats = TextStats()
    stats.update(["a b", "a c", "d", "e"])
    top = stats.to_dict()["topWords"]
    assert top[0]["word"] == "a" and top[0]["prominence"] == 1.0  # in half the rows
    assert stats.correlation() is None


def test_text_correlation_is_the_strongest_word_against_a_binary_target() -> None:
    texts = ["good film", "good plot", "bad film", "bad plot", "good good", "bad"]
    target = np.array([1.0, 1.0, 0.0, 0.0, 1.0, 0.0])
    stats = TextStats(AttributeType.BINARY)
    stats.update(texts, target)
    assert stats.correlation() == 1.0  # "good" appears exactly in the positive rows
    film = next(w for w in stats.to_dict()["topWords"] if w["word"] == "film")
    presence = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 0.0])
    assert math.isclose(film["prominence"], abs(np.corrcoef(presence, target)[0, 1]), abs_tol=1e-12)


def test_text_prominence_against_a_categorical_target_is_cramers_v_of_word_presence() -> None:
    texts = ["red apple", "green apple", "red cherry", "yellow banana", "green lime", "red"]
    target = np.array(["fruit", "fruit", "berry", "fruit", "citrus", "berry"], dtype=object)
    stats = TextStats(AttributeType.CATEGORICAL)
    stats.update(texts, target)
    red = next(w for w in stats.to_dict()["topWords"] if w["word"] == "red")
    presence = np.array(["yes" if "red" in t.split() else "no" for t in texts])
    assert math.isclose(
        red["prominence"], independent_plain_cramers_v(presence, target), rel_tol=1e-9
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_text_stats_merged_from_halves_equal_one_pass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocabulary = np.array(["alpha", "be", "gamma", "delta", "epsilonic", "z"])
    texts = [" ".join(rng.choice(vocabulary, size=int(rng.integers(0, 6)))) for _ in range(200)]
    target = rng.normal(size=200)
    first, second = split_points(rng, len(texts))
    whole, a, b = (TextStats(AttributeType.NUMERIC) for _ in range(3))
    whole.update(texts, target)
    a.update(texts[first], target[first])
    b.update(texts[second], target[second])
    a += b
    assert_close(a.to_dict(), whole.to_dict())
    assert math.isclose(a.correlation(), whole.correlation(), rel_tol=1e-9)


# ----------------------------------------------------------------------------- correlations


def independent_eta(groups: np.ndarray, values: np.ndarray) -> float:
    grand = values.mean()
    total = ((values - grand) ** 2).sum()
    within = sum(
        ((values[groups == g] - values[groups == g].mean()) ** 2).sum() for g in set(groups)
    )
    n, k = len(values), len(set(groups))
    # epsilon-squared (Kelley 1935): the bias-corrected square of eta
    epsilon_squared = 1 - (within / (n - k)) / (total / (n - 1))
    return math.sqrt(max(0.0, epsilon_squared))


def independent_cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    rows, columns = sorted(set(a)), sorted(set(b))
    n = len(a)
    chi2 = 0.0
    for r in rows:
        for c in columns:
            observed = sum(1 for x, y in zip(a, b, strict=True) if x == r and y == c)
            expected = (a == r).sum() * (b == c).sum() / n
            chi2 += (observed - expected) ** 2 / expected
    # Bergsma (2013), "A bias-correction for Cramér's V and Tschuprow's T"
    r, k = len(rows), len(columns)
    phi2 = max(0.0, chi2 / n - (r - 1) * (k - 1) / (n - 1))
    r_tilde, k_tilde = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    return math.sqrt(phi2 / (min(r_tilde, k_tilde) - 1))


def independent_plain_cramers_v(a: np.ndarray, b: np.ndarray) -> float:
    """Cramér's V without the correction: text prominence uses it (two-row tables)."""
    rows, columns = sorted(set(a)), sorted(set(b))
    n = len(a)
    chi2 = sum(
        (
            sum(1 for x, y in zip(a, b, strict=True) if x == r and y == c)
            - (a == r).sum() * (b == c).sum() / n
        )
        ** 2
        / ((a == r).sum() * (b == c).sum() / n)
        for r in rows
        for c in columns
    )
    return math.sqrt(chi2 / (n * (min(len(rows), len(columns)) - 1)))


@pytest.mark.parametrize("seed", SEEDS)
def test_pearson_matches_numpy_and_ignores_missing_pairs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=400)
    y = -0.5 * x + rng.normal(size=400)
    x_with_gaps = x.copy()
    x_with_gaps[:10] = np.nan
    pearson, other = PearsonCorrelation(), PearsonCorrelation()
    pearson.update(x_with_gaps[:200], y[:200])
    other.update(x_with_gaps[200:], y[200:])
    pearson += other
    expected = abs(np.corrcoef(x[10:], y[10:])[0, 1])
    assert math.isclose(pearson.value(), expected, rel_tol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_eta_matches_the_textbook_formula_after_merging(seed: int) -> None:
    rng = np.random.default_rng(seed)
    groups = rng.choice(["a", "b", "c", "d"], size=300)
    values = rng.normal(size=300) + (groups == "b") * 1.5
    eta, other = CorrelationRatio(), CorrelationRatio()
    eta.update(groups[:100], values[:100])
    other.update(groups[100:], values[100:])
    eta += other
    assert math.isclose(eta.value(), independent_eta(groups, values), rel_tol=1e-9)


def test_eta_with_folded_groups_stays_bounded_and_underestimates() -> None:
    rng = np.random.default_rng(3)
    groups = np.array([f"g{i}" for i in rng.integers(0, 50, size=2000)])
    values = rng.normal(size=2000) + np.char.str_len(groups.astype(str))
    eta = CorrelationRatio(max_groups=10)
    for part in range(4):
        eta.update(groups[part * 500 : (part + 1) * 500], values[part * 500 : (part + 1) * 500])
    assert eta.approximate and len(eta.groups) <= 11
    assert eta.value() <= independent_eta(groups, values) + 1e-12


@pytest.mark.parametrize("seed", SEEDS)
def test_cramers_v_matches_the_textbook_formula_after_merging(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.choice(["x", "y", "z"], size=300)
    b = np.where(rng.random(300) < 0.4, a, rng.choice(["x", "y", "z", "w"], size=300))
    v, other = CramersV(), CramersV()
    v.update(a[:150], b[:150])
    other.update(a[150:], b[150:])
    v += other
    assert math.isclose(v.value(), independent_cramers_v(a, b), rel_tol=1e-9)


def test_an_identifier_column_has_no_correlation_to_the_target() -> None:
    """Every row its own value: plain eta and V would both say 1.0 and rank it first."""
    rng = np.random.default_rng(5)
    ids = np.array([f"id{i}" for i in range(500)])
    classes = rng.choice(["x", "y", "z"], size=500)
    v, eta = CramersV(), CorrelationRatio()
    v.update(ids, classes)
    eta.update(ids, rng.normal(size=500))
    assert v.value() == 0.0 and eta.value() == 0.0


def test_a_few_valued_attribute_on_many_rows_keeps_practically_its_plain_strength() -> None:
    rng = np.random.default_rng(6)
    a = rng.choice(["x", "y", "z"], size=5000)
    b = np.where(rng.random(5000) < 0.5, a, rng.choice(["x", "y", "z"], size=5000))
    v = CramersV()
    v.update(a, b)
    assert math.isclose(v.value(), independent_plain_cramers_v(a, b), rel_tol=1e-2)


def test_cramers_v_of_a_constant_side_is_zero() -> None:
    assert cramers_v(np.array([[5, 3]])) == 0.0


@pytest.mark.parametrize(
    ("attribute", "target", "kind"),
    [
        (AttributeType.NUMERIC, AttributeType.NUMERIC, "PearsonCorrelation"),
        (AttributeType.BINARY, AttributeType.BINARY, "PearsonCorrelation"),
        (AttributeType.CATEGORICAL, AttributeType.NUMERIC, "CorrelationRatio"),
        (AttributeType.NUMERIC, AttributeType.CATEGORICAL, "TargetAsGroups"),
        (AttributeType.CATEGORICAL, AttributeType.CATEGORICAL, "CramersV"),
        (AttributeType.BINARY, AttributeType.CATEGORICAL, "BinaryAgainstClasses"),
    ],
)
def test_each_pair_of_types_gets_the_documented_measure(
    attribute: AttributeType, target: AttributeType, kind: str
) -> None:
    assert type(correlation_for(attribute, target)).__name__ == kind


# ----------------------------------------------------------------------------- dataset


def mixed_schema(target: str | None = "y") -> Schema:
    return Schema(
        [
            Attribute("age", AttributeType.NUMERIC),
            Attribute("flag", AttributeType.BINARY),
            Attribute("job", AttributeType.CATEGORICAL),
            Attribute("note", AttributeType.TEXT),
            Attribute("y", AttributeType.BINARY),
        ],
        target=target,
    )


def mixed_frame(rng: np.random.Generator, n: int) -> pd.DataFrame:
    y = (rng.random(n) < 0.2).astype(float)
    age = np.round(rng.normal(40, 10, n) + 5 * y)
    age[rng.random(n) < 0.02] = np.nan
    return pd.DataFrame(
        {
            "age": age,
            "flag": rng.choice([0.0, 1.0, np.nan], size=n),
            "job": rng.choice(["admin.", "technician", "student", ""], size=n).astype(object),
            "note": [
                " ".join(rng.choice(["yes", "no", "maybe"], size=k)) for k in rng.integers(0, 4, n)
            ],
            "y": y,
        }
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_dataset_statistics_merged_from_halves_equal_one_pass(seed: int) -> None:
    rng = np.random.default_rng(seed)
    frame = mixed_frame(rng, 600)
    cut = int(rng.integers(0, 601))
    whole, a, b = (DatasetStatistics(mixed_schema()) for _ in range(3))
    whole.update(frame)
    a.update(frame.iloc[:cut].reset_index(drop=True))
    b.update(frame.iloc[cut:].reset_index(drop=True))
    a += b
    assert_close(a.result(), whole.result())


def test_dataset_statistics_are_json_without_nan_and_in_schema_order() -> None:
    stats = DatasetStatistics(mixed_schema())
    stats.update(mixed_frame(np.random.default_rng(0), 100))
    result = json.loads(json.dumps(stats.result(invalid_count=2), allow_nan=False))
    assert [a["name"] for a in result["attributes"]] == ["age", "flag", "job", "note", "y"]
    assert (result["recordsRead"], result["recordCount"], result["invalidRecordCount"]) == (
        102,
        100,
        2,
    )
    assert result["target"]["type"] == "BINARY" and result["target"]["histogram"] is None
    assert result["attributes"][-1]["correlation"] is None  # the target itself
    assert all(0.0 <= a["correlation"] <= 1.0 for a in result["attributes"][:-1])


def test_without_a_target_every_correlation_is_null() -> None:
    stats = DatasetStatistics(mixed_schema(target=None))
    stats.update(mixed_frame(np.random.default_rng(0), 50))
    result = stats.result()
    assert result["target"] is None and result["targetAttributeName"] is None
    assert {a["correlation"] for a in result["attributes"]} == {None}


def test_invalid_values_count_for_their_attribute_only() -> None:
    schema = Schema(
        [Attribute("x", AttributeType.NUMERIC), Attribute("y", AttributeType.NUMERIC)], target="y"
    )
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0], "y": [1.0, 2.0, 3.0, 5.0]})
    stats = DatasetStatistics(schema)
    stats.update(frame, invalid={"x": np.array([False, True, False, False])})
    x, y = stats.result()["attributes"]
    assert (x["count"], x["missing"], x["invalid"]) == (3, 0, 1)
    assert y["count"] == 4
    expected = abs(np.corrcoef([1.0, 3.0, 4.0], [1.0, 3.0, 5.0])[0, 1])
    assert math.isclose(x["correlation"], expected)


def test_a_numeric_target_gets_a_histogram_and_categorical_attributes_get_eta() -> None:
    schema = Schema(
        [Attribute("g", AttributeType.CATEGORICAL), Attribute("t", AttributeType.NUMERIC)],
        target="t",
    )
    stats = DatasetStatistics(schema)
    stats.update(pd.DataFrame({"g": ["a", "a", "b", "b"], "t": [1.0, 1.0, 3.0, 3.0]}))
    result = stats.result()
    assert result["target"]["distribution"] == []
    assert sum(result["target"]["histogram"]["counts"]) == 4
    assert result["attributes"][0]["correlation"] == 1.0


def test_a_categorical_target_lists_its_classes_most_frequent_first() -> None:
    schema = Schema(
        [Attribute("x", AttributeType.NUMERIC), Attribute("c", AttributeType.CATEGORICAL)],
        target="c",
    )
    stats = DatasetStatistics(schema)
    stats.update(pd.DataFrame({"x": [1.0, 2.0, 3.0, 9.0], "c": ["lo", "lo", "lo", "hi"]}))
    result = stats.result()
    assert result["target"]["distribution"] == [
        {"value": "lo", "count": 3},
        {"value": "hi", "count": 1},
    ]
    expected = independent_eta(np.array(["lo", "lo", "lo", "hi"]), np.array([1.0, 2.0, 3.0, 9.0]))
    assert math.isclose(result["attributes"][0]["correlation"], expected)


def test_a_capped_contingency_table_keeps_every_count_and_the_frequent_rows() -> None:
    from mlcore.stats.correlation import OTHER, ContingencyTable

    rng = np.random.default_rng(0)
    rows = np.array([f"r{i}" for i in rng.integers(0, 40, size=3000)] + ["big"] * 500)
    columns = rng.choice(["x", "y", "z"], size=len(rows))
    table = ContingencyTable(max_rows=5)
    for part in np.array_split(np.arange(len(rows)), 6):
        table.update(rows[part], columns[part])
    assert table.approximate
    assert len(table.rows) <= 6 and OTHER in table.rows and "big" in table.rows
    assert table.counts.sum() == len(rows)

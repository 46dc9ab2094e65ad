"""Each recipe transformation on the reference's examples (section 5.2)."""

from __future__ import annotations

import numpy as np
import pytest

from mlcore.recipes.transforms import (
    bin_index,
    bin_labels,
    cartesian,
    equal_population_boundaries,
    lowercase,
    ngram,
    no_punct,
    osb,
    text_tokens,
    whole_tokens,
)


def strings(*values: str) -> np.ndarray:
    return np.array(values, dtype=object)


def test_text_is_split_on_whitespace_only_keeping_punctuation() -> None:
    rows, tokens = text_tokens(strings("email-subject here", "", "  a\tb  "))
    assert rows.tolist() == [0, 0, 2, 2]
    assert tokens.tolist() == ["email-subject", "here", "a", "b"]


def test_a_categorical_value_is_one_token() -> None:
    rows, tokens = whole_tokens(strings("blue collar", "", "admin."))
    assert (rows.tolist(), tokens.tolist()) == ([0, 2], ["blue collar", "admin."])


def test_lowercase_lowers_every_character() -> None:
    assert lowercase(strings("Deep LEARNING", "")).tolist() == ["deep learning", ""]


def test_no_punct_strips_only_the_edges_of_each_word() -> None:
    assert no_punct(strings("seat-belts! are - great...", "(ok)")).tolist() == [
        "seat-belts are great",
        "ok",
    ]


def test_no_punct_drops_words_made_only_of_punctuation() -> None:
    assert no_punct(strings("- !! ...", "a - b")).tolist() == ["", "a b"]


def test_ngram_emits_every_k_gram_up_to_n_space_joined() -> None:
    rows, tokens = ngram(*text_tokens(strings("the quick brown fox")), 3)
    assert sorted(tokens.tolist()) == sorted(
        ["the", "quick", "brown", "fox", "the quick", "quick brown", "brown fox"]
        + ["the quick brown", "quick brown fox"]
    )
    assert set(rows.tolist()) == {0}


def test_ngrams_never_span_two_records() -> None:
    rows, tokens = ngram(*text_tokens(strings("a b", "c d")), 2)
    pairs = sorted(zip(rows.tolist(), tokens.tolist(), strict=True))
    assert pairs == [(0, "a"), (0, "a b"), (0, "b"), (1, "c"), (1, "c d"), (1, "d")]


def test_ngram_keeps_rows_in_ascending_order() -> None:
    rows, _ = ngram(*text_tokens(strings("a b c", "", "d e")), 3)
    assert rows.tolist() == sorted(rows.tolist())


def test_osb_follows_the_reference_example() -> None:
    _, tokens = osb(*text_tokens(strings("I really enjoined")), 3)
    assert sorted(tokens.tolist()) == ["I__enjoined", "I_really", "really_enjoined"]


def test_osb_window_limits_the_gap() -> None:
    _, tokens = osb(*text_tokens(strings("a b c d")), 2)
    assert sorted(tokens.tolist()) == ["a_b", "b_c", "c_d"]


def test_cartesian_joins_every_combination_with_an_underscore() -> None:
    a = (np.array([0, 0, 0]), strings("A", "B", "C"))
    b = (np.array([0]), strings("Z"))
    assert cartesian(a, b)[1].tolist() == ["A_Z", "B_Z", "C_Z"]


def test_cartesian_pairs_values_of_the_same_record_only() -> None:
    a = (np.array([0, 1, 2]), strings("x", "y", "z"))
    b = (np.array([0, 2]), strings("p", "q"))
    rows, tokens = cartesian(a, b)
    assert (rows.tolist(), tokens.tolist()) == ([0, 2], ["x_p", "z_q"])


def test_quantile_boundaries_make_equal_population_bins() -> None:
    values = np.random.default_rng(0).normal(size=10_000)
    unique, counts = np.unique(values, return_counts=True)
    cuts = equal_population_boundaries(unique, counts, 10)
    sizes = np.bincount(bin_index(values, cuts), minlength=10)
    assert len(cuts) == 9
    assert sizes.min() >= 990 and sizes.max() <= 1010


def test_quantile_boundaries_merge_when_values_tie() -> None:
    cuts = equal_population_boundaries(np.array([1.0, 2.0]), np.array([90, 10]), 10)
    assert cuts.tolist() == [2.0]


def test_a_single_value_makes_a_single_bin() -> None:
    cuts = equal_population_boundaries(np.array([5.0]), np.array([100]), 10)
    assert cuts.tolist() == [] and bin_labels(cuts) == ["(-inf,inf)"]


def test_bins_are_closed_on_the_left() -> None:
    cuts = np.array([3.0, 5.5])
    assert bin_index(np.array([2.9, 3.0, 5.4, 5.5, 99.0]), cuts).tolist() == [0, 1, 1, 2, 2]
    assert bin_labels(cuts) == ["(-inf,3)", "[3,5.5)", "[5.5,inf)"]


GRID_CASES = {
    "whole numbers": np.arange(-30.0, 130.0),
    "tenths": np.round(np.linspace(-10, 120, 4001), 1),
    "thousandths": np.round(np.linspace(20, 80, 3001), 3),
    "off any grid": np.random.default_rng(1).uniform(0, 100, 2000),
    "off the grid after its first values": np.concatenate([np.arange(100.0), [50.05]]),
    "a grid too wide": np.arange(0.0, 200_000.0, 3.0),
    "beyond exact integers": np.array([1e17, 1e17 + 16, -1e17, 50.0]),
    "negative zero": np.array([-0.0, 0.0, 49.9, 50.0, 50.1, 61.0]),
    "empty": np.zeros(0),
}


@pytest.mark.parametrize("values", GRID_CASES.values(), ids=GRID_CASES.keys())
def test_bins_looked_up_on_the_values_grid_are_the_binary_searchs(values: np.ndarray) -> None:
    cuts = np.sort(np.random.default_rng(2).uniform(-20, 130, 19).round(2))
    # boundaries on the values themselves and one float either side: any drift in the grid's
    # numbers moves a value across one of them
    on = np.unique(values[:: max(1, len(values) // 12)])
    near = [on, np.nextafter(on, -np.inf), np.nextafter(on, np.inf)]
    for boundaries in (cuts, *near, np.array([50.0]), np.zeros(0), np.array([-1e17, 1e17])):
        expected = np.searchsorted(boundaries, values, side="right")
        assert np.array_equal(bin_index(values, boundaries), expected)

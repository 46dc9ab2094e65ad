from __future__ import annotations

import json

import numpy as np
import pytest

from mlcore.errors import RearrangementError
from mlcore.io.rearrangement import (
    Rearrangement,
    Splitter,
    parse_rearrangement,
    rearrangement_to_json,
)

# --- parsing ----------------------------------------------------------------------------------


def test_it_parses_the_consoles_default_training_split() -> None:
    r = parse_rearrangement('{"splitting":{"percentBegin":0,"percentEnd":70}}')
    assert r == Rearrangement(0, 70, "sequential", "", False)


def test_it_parses_strings_for_numbers_and_booleans() -> None:
    r = parse_rearrangement(
        {
            "splitting": {
                "percentBegin": "70",
                "percentEnd": "100",
                "strategy": "random",
                "randomSeed": "s",
                "complement": "true",
            }
        }
    )
    assert r == Rearrangement(70, 100, "random", "s", True)


@pytest.mark.parametrize(
    "document",
    [
        {"splitting": {"strategy": "random", "randomSeed": "abc"}},
        {"splitting": {"strategy": "random", "strategyParams": {"randomSeed": "abc"}}},
        {"splitting": {"strategy": "random"}, "randomSeed": "abc"},
    ],
)
def test_it_finds_the_random_seed_wherever_aml_put_it(document: dict[str, object]) -> None:
    r = parse_rearrangement(json.dumps(document))
    assert r is not None and r.random_seed == "abc"


def test_it_ignores_unknown_keys_and_reads_numeric_seeds() -> None:
    r = parse_rearrangement(
        {"splitting": {"percentEnd": 30, "randomSeed": 12, "future": 1}, "other": True}
    )
    assert r == Rearrangement(0, 30, "sequential", "12", False)


@pytest.mark.parametrize("text", [None, "", "  ", "{}", {"unrelated": 1}])
def test_it_reads_no_splitting_as_all_the_data(text: object) -> None:
    assert parse_rearrangement(text) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"splitting": 5}, "splitting must be a JSON object"),
        ({"splitting": {"percentBegin": 70, "percentEnd": 70}}, "percentBegin < percentEnd"),
        ({"splitting": {"percentBegin": -1}}, "0 <= percentBegin"),
        ({"splitting": {"percentEnd": "101"}}, "percentEnd <= 100"),
        ({"splitting": {"percentEnd": "seventy"}}, "percentEnd must be a number"),
        ({"splitting": {"percentEnd": True}}, "percentEnd must be a number"),
        ({"splitting": {"strategy": "shuffle"}}, "strategy must be one of"),
        ({"splitting": {"complement": "maybe"}}, "complement must be true or false"),
    ],
)
def test_it_rejects_bad_values_with_a_clear_message(document: object, message: str) -> None:
    with pytest.raises(RearrangementError, match=message):
        parse_rearrangement(document)  # type: ignore[arg-type]


def test_it_writes_amls_json_and_reads_it_back() -> None:
    for r in [
        Rearrangement(0, 70),
        Rearrangement(70, 100, "random", "seed-1", True),
        Rearrangement(12.5, 40, "stratified", "x"),
    ]:
        assert parse_rearrangement(rearrangement_to_json(r)) == r
    assert rearrangement_to_json(Rearrangement(0, 70, "random", "s", True)) == (
        '{"splitting":{"percentBegin":0,"percentEnd":70,"strategy":"random",'
        '"randomSeed":"s","complement":"true"}}'
    )


# --- splitting ---------------------------------------------------------------------------------


def record_offsets(count: int = 10_000, seed: int = 1) -> tuple[np.ndarray, int]:
    """Offsets of `count` records of varying length, and the total size."""
    lengths = np.random.default_rng(seed).integers(20, 120, size=count)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return offsets, int(lengths.sum())


def keep_in_chunks(
    splitter: Splitter, offsets: np.ndarray, targets: np.ndarray | None = None
) -> np.ndarray:
    """Call keep() chunk by chunk, as the readers do."""
    parts = []
    for start in range(0, len(offsets), 777):
        chunk_targets = None if targets is None else targets[start : start + 777]
        parts.append(splitter.keep(offsets[start : start + 777], chunk_targets))
    return np.concatenate(parts)


def test_sequential_ranges_0_70_and_70_100_partition_the_records_in_order() -> None:
    offsets, total = record_offsets()
    first = Splitter(Rearrangement(0, 70), total).keep(offsets)
    last = Splitter(Rearrangement(70, 100), total).keep(offsets)

    assert not (first & last).any() and (first | last).all()
    boundary = int(np.argmin(first))
    assert first[:boundary].all() and not first[boundary:].any()
    assert offsets[boundary] >= 0.7 * total > offsets[boundary - 1]


def test_a_sequential_split_and_its_complement_partition_the_records() -> None:
    offsets, total = record_offsets()
    kept = Splitter(Rearrangement(20, 45), total).keep(offsets)
    rest = Splitter(Rearrangement(20, 45, complement=True), total).keep(offsets)
    assert np.array_equal(kept, ~rest)


def test_a_random_split_and_its_complement_partition_the_records_exactly() -> None:
    offsets, total = record_offsets()
    train = keep_in_chunks(Splitter(Rearrangement(0, 70, "random", "s1"), total), offsets)
    evaluate = keep_in_chunks(Splitter(Rearrangement(0, 70, "random", "s1", True), total), offsets)

    assert np.array_equal(train, ~evaluate)
    assert 0.68 < train.mean() < 0.72
    # Unlike a sequential split, the kept records are spread over the whole file.
    assert 0.65 < train[-2000:].mean() < 0.75


def test_random_ranges_0_70_and_70_100_partition_the_records() -> None:
    offsets, total = record_offsets()
    first = Splitter(Rearrangement(0, 70, "random", "s"), total).keep(offsets)
    last = Splitter(Rearrangement(70, 100, "random", "s"), total).keep(offsets)
    assert np.array_equal(first, ~last)


def test_a_random_split_is_repeatable_and_depends_on_the_seed() -> None:
    offsets, total = record_offsets()
    a = Splitter(Rearrangement(0, 70, "random", "s1"), total).keep(offsets)
    again = keep_in_chunks(Splitter(Rearrangement(0, 70, "random", "s1"), total), offsets)
    other = Splitter(Rearrangement(0, 70, "random", "s2"), total).keep(offsets)

    assert np.array_equal(a, again)
    assert (a != other).mean() > 0.3


def stratified_targets(count: int = 10_000) -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.choice(
        np.array(["no", "yes", "maybe"], dtype=object), size=count, p=[0.85, 0.1, 0.05]
    )


@pytest.mark.parametrize(("begin", "end"), [(0, 70), (70, 100), (0, 50), (25, 60)])
def test_a_stratified_split_keeps_every_class_in_proportion(begin: int, end: int) -> None:
    offsets, total = record_offsets()
    targets = stratified_targets()
    splitter = Splitter(Rearrangement(begin, end, "stratified", "seed"), total)

    kept = keep_in_chunks(splitter, offsets, targets)

    for value in ["no", "yes", "maybe"]:
        in_class = targets == value
        expected = in_class.sum() * (end - begin) / 100
        # The golden-ratio sequence's discrepancy: within a record or two at these sizes.
        assert abs(kept[in_class].sum() - expected) <= 2


def test_a_stratified_split_and_its_complement_partition_the_records() -> None:
    offsets, total = record_offsets()
    targets = stratified_targets()
    train = keep_in_chunks(
        Splitter(Rearrangement(0, 70, "stratified", "s"), total), offsets, targets
    )
    evaluate = keep_in_chunks(
        Splitter(Rearrangement(0, 70, "stratified", "s", True), total), offsets, targets
    )
    other_range = keep_in_chunks(
        Splitter(Rearrangement(70, 100, "stratified", "s"), total), offsets, targets
    )

    assert np.array_equal(train, ~evaluate)
    assert np.array_equal(train, ~other_range)


def test_a_stratified_split_depends_on_the_seed() -> None:
    offsets, total = record_offsets()
    targets = stratified_targets()
    a = Splitter(Rearrangement(0, 70, "stratified", "a"), total).keep(offsets, targets)
    b = Splitter(Rearrangement(0, 70, "stratified", "b"), total).keep(offsets, targets)
    assert (a != b).any()


def test_a_stratified_split_needs_the_targets() -> None:
    with pytest.raises(RearrangementError, match="needs the target"):
        Splitter(Rearrangement(0, 70, "stratified"), 100).keep(np.arange(10))

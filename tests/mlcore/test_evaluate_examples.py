"""The bounded pieces an evaluation stores for its pages: example records per multiclass
confusion-matrix cell, and a reservoir sample of regression (actual, predicted) pairs."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from mlcore.evaluate import evaluate_model
from mlcore.io.csvreader import CsvFormat
from mlcore.io.files import DataFile
from mlcore.metrics.multiclass import OTHERS, CellExamples
from mlcore.metrics.regression import ReservoirSample, r_squared
from mlcore.schema.model import Attribute, AttributeType, Schema

MemoryFile = Callable[..., DataFile]
N, C = AttributeType.NUMERIC, AttributeType.CATEGORICAL


@dataclass
class FakeModel:
    model_type: str
    schema: Schema
    classes: list[str] = field(default_factory=list)
    training_class_counts: dict[str, int] = field(default_factory=dict)
    training_target_mean: float = 0.0


def guess_scorer(model: FakeModel, frame: pd.DataFrame) -> np.ndarray:
    """0.7 on the class in column `guess`, the rest shared by the other classes."""
    guesses = frame["guess"].to_numpy(dtype=str)
    hit = guesses[:, None] == np.array(model.classes)[None, :]
    rest = 0.3 / (len(model.classes) - 1)
    return np.where(hit, 0.7, rest)


def twice_x(model: FakeModel, frame: pd.DataFrame) -> np.ndarray:
    return 2.0 * frame["x"].to_numpy(dtype=np.float64)


def multiclass_file(records: int, classes: int, seed: int = 1) -> tuple[str, list[list[str]]]:
    """Columns id, size, guess, y; rows as lists too, so a test knows every (true, guess) pair."""
    rng = np.random.default_rng(seed)
    labels = [f"k{i:02d}" for i in range(classes)]
    weights = np.linspace(3, 1, classes)
    truth = rng.choice(labels, size=records, p=weights / weights.sum())
    guess = np.where(rng.random(records) < 0.3, rng.choice(labels, size=records), truth)
    rows = [
        [f"r{i}", f"{i * 0.5}", g, t] for i, (g, t) in enumerate(zip(guess, truth, strict=True))
    ]
    text = "id,size,guess,y\n" + "".join(",".join(row) + "\n" for row in rows)
    return text, rows


def multiclass_schema() -> Schema:
    attributes = [Attribute("id", C), Attribute("size", N), Attribute("guess", C)]
    return Schema([*attributes, Attribute("y", C)], target="y", row_id="id")


def evaluate_multiclass(memory_file: MemoryFile, text: str, classes: int, **options: object):  # type: ignore[no-untyped-def]
    schema = multiclass_schema()
    model = FakeModel("MULTICLASS", schema, classes=[f"k{i:02d}" for i in range(classes)])
    return evaluate_model(
        model, [memory_file(text)], schema, CsvFormat(), scorer=guess_scorer, **options
    )


def test_each_shown_cell_keeps_its_first_twenty_records_with_the_right_pair(
    memory_file: MemoryFile,
) -> None:
    text, rows = multiclass_file(3000, classes=5)
    details = evaluate_multiclass(memory_file, text, 5)["Details"]
    labels = details["confusion_matrix"]["labels"]
    counts = details["confusion_matrix"]["counts"]
    examples = details["cell_examples"]

    assert examples["inputs"] == ["size", "guess"] and examples["row_id"] == "id"
    for i, true in enumerate(labels):
        for j, predicted in enumerate(labels):
            expected = [n for n, row in enumerate(rows) if row[3] == true and row[2] == predicted]
            cell = examples["cells"].get(f"{i},{j}", [])
            assert len(cell) == min(20, counts[i][j])
            # line 1 is the header: record n is on line n + 2
            assert [record["line"] for record in cell] == [n + 2 for n in expected[:20]]
            assert all(
                record["row_id"] == rows[n][0] for record, n in zip(cell, expected, strict=False)
            )
            assert all(
                (record["true"], record["predicted"]) == (true, predicted) for record in cell
            )
            assert all(record["inputs"][1] == predicted for record in cell)
            assert all(record["score_predicted"] == pytest.approx(0.7) for record in cell)
            right = 0.7 if i == j else 0.075
            assert all(record["score_true"] == pytest.approx(right) for record in cell)
    json.dumps(details, allow_nan=False)


def test_others_cells_merge_the_collapsed_classes_in_file_order(memory_file: MemoryFile) -> None:
    text, rows = multiclass_file(4000, classes=13, seed=2)
    details = evaluate_multiclass(memory_file, text, 13)["Details"]
    matrix = details["confusion_matrix"]
    assert matrix["labels"][-1] == OTHERS
    others = set(matrix["others_classes"])
    last = len(matrix["labels"]) - 1

    cell = details["cell_examples"]["cells"][f"{last},{last}"]
    expected = [n + 2 for n, row in enumerate(rows) if row[3] in others and row[2] in others]
    assert [record["line"] for record in cell] == expected[:20]
    assert all(record["true"] in others and record["predicted"] in others for record in cell)
    # only the shown cells are stored: at most 10 x 10 of them
    assert len(details["cell_examples"]["cells"]) <= 100


def test_the_examples_do_not_depend_on_how_the_file_is_cut_into_chunks(
    memory_file: MemoryFile,
) -> None:
    text, _ = multiclass_file(3000, classes=4, seed=3)
    whole = evaluate_multiclass(memory_file, text, 4)["Details"]["cell_examples"]
    chunked = evaluate_multiclass(memory_file, text, 4, chunk_bytes=2048)
    assert chunked["Details"]["cell_examples"] == whole


def test_examples_stay_bounded_when_there_are_more_pairs_than_it_follows() -> None:
    examples = CellExamples(inputs=[], limit=3, max_pairs=2)
    true = np.array(["a", "a", "b", "c", "a", "a", "a"])
    predicted = np.array(["a", "b", "b", "c", "a", "a", "a"])
    lines = np.arange(7)
    examples.add(true, predicted, lines, np.ones(7), np.ones(7), {})

    assert set(examples.pairs) == {("a", "a"), ("a", "b")}
    assert [len(records) for records in examples.pairs.values()] == [3, 1]
    assert examples.for_matrix({"labels": ["a", "b", "c"]})["incomplete"] is True


def test_long_text_inputs_are_cut_so_that_the_examples_stay_small(
    memory_file: MemoryFile,
) -> None:
    schema = Schema(
        [Attribute("review", AttributeType.TEXT), Attribute("guess", C), Attribute("y", C)],
        target="y",
    )
    model = FakeModel("MULTICLASS", schema, classes=["a", "b"])
    text = "review,guess,y\n" + "".join(f"{'word ' * 400},a,{'ab'[n % 2]}\n" for n in range(50))
    result = evaluate_model(model, [memory_file(text)], schema, CsvFormat(), scorer=guess_scorer)
    cells = result["Details"]["cell_examples"]["cells"]
    reviews = [record["inputs"][0] for records in cells.values() for record in records]
    assert len(reviews) == 40 and all(len(review) == 80 for review in reviews)
    assert len(json.dumps(cells)) < 20_000


def test_the_regression_sample_keeps_every_record_when_there_are_few(
    memory_file: MemoryFile,
) -> None:
    schema = Schema([Attribute("x", N), Attribute("y", N)], target="y")
    model = FakeModel("REGRESSION", schema, training_target_mean=3.0)
    result = evaluate_model(
        model, [memory_file("x,y\n1,2\n2,5\n3,6\n")], schema, CsvFormat(), scorer=twice_x
    )
    sample = result["Details"]["sample"]
    assert sample["actual"] == [2.0, 5.0, 6.0]
    assert sample["predicted"] == [2.0, 4.0, 6.0]
    assert sample["records"] == 3
    assert result["Details"]["r2"] == pytest.approx(r_squared([2, 5, 6], [2, 4, 6]))


def test_the_regression_sample_holds_at_most_5000_true_pairs_whatever_the_chunking(
    memory_file: MemoryFile,
) -> None:
    rng = np.random.default_rng(4)
    x = np.round(rng.normal(0, 1, 12_000), 4)
    y = np.round(2 * x + rng.normal(0, 0.1, x.size), 4)
    text = "x,y\n" + "".join(f"{a},{b}\n" for a, b in zip(x, y, strict=True))
    schema = Schema([Attribute("x", N), Attribute("y", N)], target="y")
    model = FakeModel("REGRESSION", schema)

    def sample(**options: object) -> dict[str, object]:
        return evaluate_model(
            model, [memory_file(text)], schema, CsvFormat(), scorer=twice_x, **options
        )["Details"]["sample"]

    whole, chunked = sample(), sample(chunk_bytes=4096)
    assert whole == chunked
    assert len(whole["actual"]) == len(whole["predicted"]) == 5000
    assert whole["records"] == 12_000
    pairs = set(zip(y.tolist(), (2 * x).tolist(), strict=True))
    assert all(pair in pairs for pair in zip(whole["actual"], whole["predicted"], strict=True))


def test_the_reservoir_sample_is_uniform_over_the_stream() -> None:
    # each of 10,000 records kept with probability 1/10: the kept positions spread evenly
    sample = ReservoirSample(size=1000, seed=5)
    stream = np.arange(10_000, dtype=np.float64)
    for start in range(0, stream.size, 700):
        sample.add(stream[start : start + 700], stream[start : start + 700])
    kept = np.array(sample.to_dict()["actual"])
    assert len(set(kept.tolist())) == 1000
    per_tenth = np.bincount((kept // 1000).astype(int), minlength=10)
    assert per_tenth.min() > 60 and per_tenth.max() < 140


def test_r_squared_matches_its_definition_and_is_undefined_for_a_constant_target() -> None:
    assert r_squared([1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]) == 1.0
    assert r_squared([1.0, 2.0, 3.0], [2.0, 2.0, 2.0]) == pytest.approx(0.0)
    assert r_squared([5.0, 5.0], [5.0, 4.0]) is None

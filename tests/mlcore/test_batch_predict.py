"""Batch predictions: AML's result files and manifest (reference section 8), from the engine."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlcore.artifacts import save_model
from mlcore.errors import LocationError, SchemaError
from mlcore.io.csvreader import CsvFormat, InvalidRecord
from mlcore.io.files import DataFile
from mlcore.predict import score_frame
from mlcore.predict.batch import (
    BatchPredictionResult,
    batch_predict,
    output_store_for,
    result_file_names,
)
from mlcore.predict.explain import explain_record
from mlcore.predict.numbers import format_aml_float, format_aml_floats
from mlcore.predict.scoring import frame_margins, record_frame
from mlcore.schema import parse_schema
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.train.model import TrainedModel
from mlcore.train.pipeline import train_model
from mlcore.train.sgd import margins_of

REPO = Path(__file__).resolve().parents[2]
RECIPE = '{"outputs": ["ALL_BINARY", "ALL_CATEGORICAL", "quantile_bin(age, 10)", "age"]}'
FAST = {"sgd.l2RegularizationAmount": "1e-6"}
N = 600
AML_NUMBER = re.compile(r"-?\d\.\d+E-?\d+")
TYPES = {
    "age": AttributeType.NUMERIC,
    "job": AttributeType.CATEGORICAL,
    "flag": AttributeType.BINARY,
    "y": AttributeType.BINARY,
    "kind": AttributeType.CATEGORICAL,
    "amount": AttributeType.NUMERIC,
}


# --------------------------------------------------------------------------------------------
# Data and models
# --------------------------------------------------------------------------------------------


def training_rows(n: int = N, seed: int = 0) -> pd.DataFrame:
    """age/job/flag inputs and three targets: y (0/1), kind (a/b/c), amount (a number)."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    job = rng.choice(["admin", "tech", "retired"], n)
    flag = rng.integers(0, 2, n)
    signal = (age - 50) / 10 + (job == "retired") * 1.5 + flag
    return pd.DataFrame(
        {
            "age": age.astype(str),
            "job": job,
            "flag": flag.astype(str),
            "y": (signal + rng.normal(0, 0.5, n) > 0).astype(int).astype(str),
            "kind": np.where(signal > 1, "c", np.where(signal > -1, "b", "a")),
            "amount": [f"{v:.4f}" for v in 3 * signal + 20 + rng.normal(0, 0.3, n)],
        }
    )


def to_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def memory_file(text: str, name: str = "data.csv") -> DataFile:
    data = text.encode("utf-8")
    return DataFile(name=name, size=len(data), opener=partial(io.BytesIO, data))


def schema_for(columns: list[str], **kwargs: Any) -> Schema:
    return Schema(
        [Attribute(name, TYPES.get(name, AttributeType.TEXT)) for name in columns], **kwargs
    )


def train(model_type: str, target: str) -> TrainedModel:
    others = [name for name in ("y", "kind", "amount") if name != target]
    schema = schema_for(list(TYPES), target=target, excluded=others)
    return train_model(
        [memory_file(to_csv(training_rows()))],
        schema,
        CsvFormat(),
        model_type=model_type,
        recipe_text=RECIPE,
        parameters=FAST,
    )


@pytest.fixture(scope="module")
def models() -> dict[str, TrainedModel]:
    return {
        "BINARY": train("BINARY", "y"),
        "MULTICLASS": train("MULTICLASS", "kind"),
        "REGRESSION": train("REGRESSION", "amount"),
    }


BATCH_CSV = (
    "age,job,flag\n"
    "70,retired,1\n"
    "20,admin,0\n"
    "45,tech\n"  # a field short: cannot be read
    ",,\n"  # every value missing: still scored
    "old,tech,1\n"  # not a number where the model wants one: cannot be scored
    "33,admin,yes\n"
)
BATCH_SCHEMA = schema_for(["age", "job", "flag"])


def run(
    model: TrainedModel,
    files: list[DataFile],
    schema: Schema,
    out: Path,
    **kwargs: Any,
) -> BatchPredictionResult:
    kwargs.setdefault("batch_prediction_id", "bp-1")
    return batch_predict(
        model, files, schema, CsvFormat(), store=output_store_for(str(out)), **kwargs
    )


def result_lines(location: str) -> list[str]:
    with gzip.open(location, "rt", encoding="utf-8", newline="") as stream:
        return stream.read().split("\n")[:-1]


def expected_scores(model: TrainedModel, rows: list[dict[str, str]]) -> np.ndarray:
    """What the real-time scorer gives each record (invalid values read as missing)."""
    frames = [record_frame(model, row) for row in rows]
    return score_frame(model, pd.concat(frames, ignore_index=True))


# --------------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------------


def test_a_binary_result_has_aml_header_one_line_per_record_and_blank_lines_for_bad_ones(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = models["BINARY"]
    invalid: list[InvalidRecord] = []

    result = run(model, [memory_file(BATCH_CSV)], BATCH_SCHEMA, tmp_path, on_invalid=invalid.append)

    lines = result_lines(result.outputs["data.csv"])
    assert lines[0] == "bestAnswer,score"
    assert len(lines) == 1 + 6
    assert [lines[3], lines[5]] == ["", ""]
    assert (result.total_records, result.invalid_records) == (6, 2)
    assert [(r.line, r.column) for r in invalid] == [(4, None), (6, "age")]
    good = [lines[i] for i in (1, 2, 4, 6)]
    scores = np.array([float(line.split(",")[1]) for line in good])
    records = [
        {"age": "70", "job": "retired", "flag": "1"},
        {"age": "20", "job": "admin", "flag": "0"},
        {},
        {"age": "33", "job": "admin", "flag": "yes"},
    ]
    np.testing.assert_allclose(scores, expected_scores(model, records), rtol=1e-6)
    answers = [line.split(",")[0] for line in good]
    assert answers == ["1" if s >= model.score_threshold else "0" for s in scores]
    assert all(AML_NUMBER.fullmatch(line.split(",")[1]) for line in good)


def test_the_manifest_maps_each_input_location_to_its_result_location(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    files = [memory_file(BATCH_CSV, "s3://data/in/part-1.csv"), memory_file(BATCH_CSV, "b.csv")]

    result = run(models["BINARY"], files, BATCH_SCHEMA, tmp_path, batch_prediction_id="bp-7")

    manifest = tmp_path / "batch-prediction" / "bp-7.manifest"
    assert result.manifest_location == str(manifest)
    results = tmp_path / "batch-prediction" / "result"
    assert json.loads(manifest.read_text()) == {
        "s3://data/in/part-1.csv": str(results / "bp-7-part-1.csv.gz"),
        "b.csv": str(results / "bp-7-b.csv.gz"),
    }
    assert result.outputs == json.loads(manifest.read_text())
    assert sorted(p.name for p in results.iterdir()) == ["bp-7-b.csv.gz", "bp-7-part-1.csv.gz"]


def test_two_inputs_of_the_same_name_get_distinct_result_names() -> None:
    files = [memory_file("", "/x/a.csv"), memory_file("", "/y/a.csv"), memory_file("", "b")]
    assert result_file_names("bp", files) == ["bp-a.csv.gz", "bp-a.csv-2.gz", "bp-b.gz"]


def test_a_multiclass_result_has_a_column_per_class_summing_to_one(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = models["MULTICLASS"]

    result = run(model, [memory_file(BATCH_CSV)], BATCH_SCHEMA, tmp_path)

    lines = result_lines(result.outputs["data.csv"])
    assert lines[0] == "a,b,c"
    rows = [[float(v) for v in line.split(",")] for line in lines[1:] if line]
    assert len(rows) == 4
    np.testing.assert_allclose(np.sum(rows, axis=1), 1.0, atol=1e-6)
    assert np.argmax(rows[0]) == 2  # 70, retired, flag: class c


def test_a_regression_result_has_a_score_column(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = models["REGRESSION"]

    result = run(model, [memory_file(BATCH_CSV)], BATCH_SCHEMA, tmp_path)

    lines = result_lines(result.outputs["data.csv"])
    assert lines[0] == "score"
    values = [float(line) for line in lines[1:] if line]
    expected = expected_scores(model, [{"age": "70", "job": "retired", "flag": "1"}])[0]
    assert values[0] == pytest.approx(expected, rel=1e-6)


def test_tag_and_true_label_lead_when_the_data_has_a_row_id_and_the_target(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    rows = training_rows(50, seed=3)
    rows.insert(0, "id", [f"r{i}" for i in range(50)])
    data = rows[["id", "age", "job", "flag", "y"]]
    schema = schema_for(list(data.columns), row_id="id")
    model = models["BINARY"]

    result = run(model, [memory_file(to_csv(data))], schema, tmp_path)

    lines = result_lines(result.outputs["data.csv"])
    assert lines[0] == "tag,trueLabel,bestAnswer,score"
    parsed = [line.split(",") for line in lines[1:]]
    assert [p[0] for p in parsed] == list(data["id"])
    assert [p[1] for p in parsed] == list(data["y"])
    accuracy = np.mean([p[1] == p[2] for p in parsed])
    assert result.metric == {"name": "accuracy", "value": pytest.approx(accuracy)}


def test_the_metric_is_macro_f1_or_rmse_for_the_other_types(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    data = training_rows(80, seed=4)
    multiclass = run(
        models["MULTICLASS"],
        [memory_file(to_csv(data[["age", "job", "flag", "kind"]]))],
        schema_for(["age", "job", "flag", "kind"]),
        tmp_path / "m",
    )
    regression = run(
        models["REGRESSION"],
        [memory_file(to_csv(data[["age", "job", "flag", "amount"]]))],
        schema_for(["age", "job", "flag", "amount"]),
        tmp_path / "r",
    )
    assert multiclass.metric is not None and multiclass.metric["name"] == "macroF1"
    assert 0.6 < multiclass.metric["value"] <= 1
    lines = result_lines(regression.outputs["data.csv"])
    assert lines[0] == "trueLabel,score"
    errors = [float(a) - float(b) for a, b in (line.split(",") for line in lines[1:])]
    assert regression.metric == {
        "name": "rmse",
        "value": pytest.approx(float(np.sqrt(np.mean(np.square(errors)))), rel=1e-5),
    }


# --------------------------------------------------------------------------------------------
# Matching the data to the model
# --------------------------------------------------------------------------------------------


def test_columns_are_matched_by_name_and_read_with_the_training_types(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = models["BINARY"]
    reordered = "flag,extra,job,age\n1,zzz,retired,70\n0,zzz,admin,20\n"
    # the data's schema types job NUMERIC and flag CATEGORICAL: the training types win
    schema = Schema(
        [
            Attribute("flag", AttributeType.CATEGORICAL),
            Attribute("extra", AttributeType.TEXT),
            Attribute("job", AttributeType.NUMERIC),
            Attribute("age", AttributeType.CATEGORICAL),
        ]
    )
    logged: list[str] = []

    result = run(model, [memory_file(reordered)], schema, tmp_path, log=logged.append)

    scores = [float(line.split(",")[1]) for line in result_lines(result.outputs["data.csv"])[1:]]
    records = [
        {"age": "70", "job": "retired", "flag": "1"},
        {"age": "20", "job": "admin", "flag": "0"},
    ]
    np.testing.assert_allclose(scores, expected_scores(model, records), rtol=1e-6)
    assert result.invalid_records == 0
    assert any(
        "training types" in line and "job (NUMERIC -> CATEGORICAL)" in line for line in logged
    )


def test_a_column_the_model_needs_but_the_data_lacks_is_scored_as_missing(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = models["REGRESSION"]
    logged: list[str] = []

    result = run(
        model,
        [memory_file("job,flag\nretired,1\nadmin,0\n")],
        schema_for(["job", "flag"]),
        tmp_path,
        log=logged.append,
    )

    values = [float(v) for v in result_lines(result.outputs["data.csv"])[1:]]
    records = [{"job": "retired", "flag": "1"}, {"job": "admin", "flag": "0"}]
    np.testing.assert_allclose(values, expected_scores(model, records), rtol=1e-6)
    assert any("scored as missing: age" in line for line in logged)


def test_a_file_without_a_header_is_named_by_its_schema(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    schema = schema_for(["age", "job", "flag"], data_file_contains_header=False)
    no_header = batch_predict(
        models["BINARY"],
        [memory_file("70,retired,1\n20,admin,0\n")],
        schema,
        CsvFormat(has_header=False),
        batch_prediction_id="bp-1",
        store=output_store_for(str(tmp_path / "a")),
    )
    headed = run(
        models["BINARY"],
        [memory_file("age,job,flag\n70,retired,1\n20,admin,0\n")],
        BATCH_SCHEMA,
        tmp_path / "b",
    )
    assert result_lines(no_header.outputs["data.csv"]) == result_lines(headed.outputs["data.csv"])


# --------------------------------------------------------------------------------------------
# Streaming
# --------------------------------------------------------------------------------------------


def test_small_chunks_give_the_same_files_as_one_chunk(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    rows = to_csv(training_rows(300, seed=5)[["age", "job", "flag"]]).split("\n")
    rows[10] = "1,2"  # unreadable records inside a chunk, at chunk ends and at the very end
    rows[11] = "x,admin,1"
    rows.insert(len(rows) - 1, "not,enough")
    text = "\n".join(rows)
    files = [memory_file(text, "one.csv"), memory_file("age,job,flag\n", "empty.csv")]
    files.append(memory_file(text, "two.csv"))
    whole = run(models["MULTICLASS"], files, BATCH_SCHEMA, tmp_path / "whole")
    progress: list[tuple[int, int]] = []

    pieces = run(
        models["MULTICLASS"],
        files,
        BATCH_SCHEMA,
        tmp_path / "pieces",
        chunk_rows=7,
        chunk_bytes=256,
        progress=lambda records, read: progress.append((records, read)),
    )

    for name in ("one.csv", "empty.csv", "two.csv"):
        assert result_lines(pieces.outputs[name]) == result_lines(whole.outputs[name])
    assert result_lines(whole.outputs["empty.csv"]) == ["a,b,c"]
    one = result_lines(whole.outputs["one.csv"])
    assert len(one) == 1 + 301 and one[10] == one[11] == one[-1] == ""
    assert (pieces.total_records, pieces.invalid_records) == (602, 6)
    assert len(progress) > 10 and progress[-1][0] == 602


def test_runs_of_unreadable_records_keep_their_place_between_chunks(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    good = "70,retired,1\n20,admin,0\n"
    text = "age,job,flag\n" + good + "1,2\n" * 40 + good + "x\n" * 30
    files = [memory_file(text, "a.csv"), memory_file("age,job,flag\n" + "1\n" * 20, "b.csv")]
    files.append(memory_file("age,job,flag\n" + good, "c.csv"))
    invalid: list[InvalidRecord] = []

    result = run(
        models["BINARY"], files, BATCH_SCHEMA, tmp_path, chunk_bytes=32, on_invalid=invalid.append
    )

    a = result_lines(result.outputs["a.csv"])
    assert len(a) == 1 + 2 + 40 + 2 + 30
    assert [i for i, line in enumerate(a) if line] == [0, 1, 2, 43, 44]
    assert result_lines(result.outputs["b.csv"]) == ["bestAnswer,score"] + [""] * 20
    assert len(result_lines(result.outputs["c.csv"])) == 3
    assert (result.total_records, result.invalid_records) == (96, 90)
    assert [(r.file, r.line) for r in invalid] == (
        [("a.csv", line) for line in [*range(4, 44), *range(46, 76)]]
        + [("b.csv", line) for line in range(2, 22)]
    )


def test_a_header_only_result_is_written_for_an_input_file_without_records(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    files = [memory_file("age,job,flag\n", "a.csv"), memory_file(BATCH_CSV, "b.csv")]
    result = run(models["REGRESSION"], files, BATCH_SCHEMA, tmp_path)
    assert result_lines(result.outputs["a.csv"]) == ["score"]
    assert len(result_lines(result.outputs["b.csv"])) == 7


# --------------------------------------------------------------------------------------------
# Extensions: pass-through columns and explanations
# --------------------------------------------------------------------------------------------


def test_pass_through_columns_are_copied_as_read_ahead_of_the_predictions(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    data = 'customer,age,job,flag,note\nC-1,70,retired,1,"likes ""tea"", not coffee"\nC-2,20,admin,0,\n'
    schema = schema_for(["customer", "age", "job", "flag", "note"])

    result = run(
        models["BINARY"],
        [memory_file(data)],
        schema,
        tmp_path,
        pass_through=["customer", "age", "note"],
    )

    with gzip.open(result.outputs["data.csv"], "rt", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == ["customer", "age", "note", "bestAnswer", "score"]
    assert [row[:3] for row in rows[1:]] == [
        ["C-1", "70", 'likes "tea", not coffee'],
        ["C-2", "20", ""],
    ]
    assert result.columns == rows[0]


def test_pass_through_text_keeps_non_ascii_quotes_and_very_long_values(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    long_note = "x" * 5000 + ', "end"'
    notes = ["Müller, Zoë", long_note, "plain", "日本語"]
    frame = pd.DataFrame({"note": notes, "age": ["70", "20", "old", "33"], "job": "admin"})
    frame["flag"] = "1"

    result = run(
        models["BINARY"],
        [memory_file(to_csv(frame))],
        schema_for(["note", "age", "job", "flag"]),
        tmp_path,
        pass_through=["note"],
    )

    with gzip.open(result.outputs["data.csv"], "rt", encoding="utf-8", newline="") as stream:
        rows = list(csv.reader(stream))
    assert [row[0] if row else None for row in rows[1:]] == [notes[0], long_note, None, notes[3]]


def test_a_pass_through_column_must_exist_and_not_clash_with_an_output_column(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    with pytest.raises(SchemaError, match="not in the data: customer"):
        run(
            models["BINARY"],
            [memory_file(BATCH_CSV)],
            BATCH_SCHEMA,
            tmp_path,
            pass_through=["customer"],
        )
    clash = memory_file("age,job,flag,score\n1,a,1,5\n")
    with pytest.raises(SchemaError, match="named like output columns: score"):
        run(
            models["BINARY"],
            [clash],
            schema_for(["age", "job", "flag", "score"]),
            tmp_path,
            pass_through=["score"],
        )
    assert not (tmp_path / "batch-prediction").exists()


def test_explanations_name_the_three_attributes_that_moved_the_margin_most(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model = models["BINARY"]

    result = run(model, [memory_file(BATCH_CSV)], BATCH_SCHEMA, tmp_path, explain=True)

    with gzip.open(result.outputs["data.csv"], "rt", newline="") as stream:
        rows = list(csv.reader(stream))
    assert rows[0] == [
        "bestAnswer",
        "score",
        "feature1",
        "contribution1",
        "feature2",
        "contribution2",
        "feature3",
        "contribution3",
    ]
    first = rows[1]
    assert set(first[2::2]) == {"age", "job", "flag"}
    contributions = [float(v) for v in first[3::2]]
    assert [abs(c) for c in contributions] == sorted((abs(c) for c in contributions), reverse=True)
    # the three attributes are all the model has: with the intercept they make up the margin
    margin = model.weights[-1, 0] + sum(contributions)
    assert 1 / (1 + np.exp(-margin)) == pytest.approx(float(first[1]), rel=1e-5)
    record = {"age": "70", "job": "retired", "flag": "1"}
    assert [
        (e["attribute"], pytest.approx(e["contribution"], rel=1e-6))
        for e in explain_record(model, record)
    ] == list(zip(first[2::2], contributions, strict=True))
    assert rows[2] == [] or rows[3] == []  # the unreadable record is still a blank line


def test_explain_record_follows_the_predicted_class_or_the_one_asked_for(
    models: dict[str, TrainedModel],
) -> None:
    model = models["MULTICLASS"]
    record = {"age": "75", "job": "retired", "flag": "1"}
    frame = record_frame(model, record)
    batch = model.fitted_recipe.encode(frame)
    logits = model.weights[:-1].T @ batch.to_dense()[0] + model.weights[-1]
    for label in model.classes:
        explained = explain_record(model, record, top=None, label=label)
        column = model.classes.index(label)
        total = sum(e["contribution"] for e in explained) + model.weights[-1, column]
        assert total == pytest.approx(logits[column], rel=1e-6)
    predicted = model.classes[int(np.argmax(logits))]
    assert explain_record(model, record) == explain_record(model, record, label=predicted)[:3]


def test_scores_summed_output_by_output_equal_the_encoded_batch_s(
    models: dict[str, TrainedModel],
) -> None:
    rows = training_rows(200, seed=6)
    rows["note"] = np.where(rows["job"] == "admin", "Good client", "no remark, late")
    rows.loc[::7, "age"] = ""
    schema = schema_for([*TYPES, "note"], target="y", excluded=["kind", "amount"])
    text_model = train_model(
        [memory_file(to_csv(rows))],
        schema,
        CsvFormat(),
        model_type="BINARY",
        recipe_text='{"outputs": ["ALL_INPUTS", "ngram(lowercase(note), 2)", '
        '"cartesian(job, quantile_bin(age, 5))"]}',
        parameters=FAST,
    )
    typed = pd.concat(
        [record_frame(text_model, row) for row in rows.to_dict("records")], ignore_index=True
    )
    for model in [*models.values(), text_model]:
        batch = model.fitted_recipe.encode(typed)
        np.testing.assert_allclose(
            frame_margins(model, typed), margins_of(batch, model.weights), rtol=1e-12, atol=1e-12
        )


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def test_numbers_are_the_shortest_digits_of_the_float32_in_e_notation() -> None:
    assert format_aml_float(0.9999157) == "9.999157E-1"
    assert format_aml_float(0.0018863) == "1.8863E-3"
    assert format_aml_float(-15.26385) == "-1.526385E1"
    assert format_aml_float(8.359159) == "8.359159E0"
    assert format_aml_float(2.0) == "2.0E0"
    rng = np.random.default_rng(0)
    values = np.concatenate([rng.random(5000), -rng.lognormal(0, 8, 5000), [1e-40, 3e38]])
    texts = format_aml_floats(values).to_strings()
    assert all(AML_NUMBER.fullmatch(text) for text in texts)
    back = np.array([float(text) for text in texts])
    np.testing.assert_allclose(back, values, rtol=1e-6)
    assert (back.astype(np.float32) == values.astype(np.float32)).all()


def test_numbers_reproduce_the_real_aml_file(data_dir: Path) -> None:
    aml = (data_dir / "predictionID.JMVH7NRS-MNIST.batch.prediction.csv").read_text()
    values = [text for line in aml.splitlines()[1:2000] for text in line.split(",")]
    ours = format_aml_floats(np.array([float(text) for text in values])).to_strings()
    assert len(values) == 19_990
    assert sum(a == b for a, b in zip(ours, values, strict=True)) == 19_981


# --------------------------------------------------------------------------------------------
# MNIST against the real AML file
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_model(data_dir: Path) -> TrainedModel:
    lines = (data_dir / "mnist-5k.csv").read_text().split("\n")
    schema = parse_schema((data_dir / "mnist-train.csv.schema").read_text())
    return train_model(
        [memory_file("\n".join(lines[:1001]) + "\n", "mnist-1k.csv")],
        schema,
        CsvFormat(),
        model_type="MULTICLASS",
        recipe_text=(data_dir / "mnist-recipe.json").read_text(),
        parameters={**FAST, "sgd.maxPasses": "5"},
    )


def test_the_mnist_result_has_the_form_of_aml_s_own_file(
    mnist_model: TrainedModel, data_dir: Path, tmp_path: Path
) -> None:
    # the batch schema types the pixels NUMERIC (pixel750 BINARY); training said CATEGORICAL
    batch_schema = parse_schema((data_dir / "mnist-batch.csv.schema").read_text())
    assert batch_schema.attribute("pixel750").type is AttributeType.BINARY
    lines = (data_dir / "mnist-5k.csv").read_text().split("\n")
    unseen = [line.split(",", 1)[1] for line in lines[4001:4201]]
    header = lines[0].split(",", 1)[1]
    data = memory_file("\n".join([header, *unseen]) + "\n", "test.csv")

    result = batch_predict(
        mnist_model,
        [data],
        batch_schema,
        CsvFormat(),
        batch_prediction_id="JMVH7NRS",
        store=output_store_for(str(tmp_path)),
    )

    ours = result_lines(result.outputs["test.csv"])
    aml = (data_dir / "predictionID.JMVH7NRS-MNIST.batch.prediction.csv").read_text().split("\n")
    assert Path(result.outputs["test.csv"]).name == "JMVH7NRS-test.csv.gz"
    assert sorted(ours[0].split(",")) == sorted(aml[0].split(",")) == list("0123456789")
    assert len(ours) == 201 and result.invalid_records == 0
    for rows in (ours[1:], aml[1:201]):
        values = [line.split(",") for line in rows]
        assert all(AML_NUMBER.fullmatch(v) for row in values for v in row)
        sums = np.array([[float(v) for v in row] for row in values]).sum(axis=1)
        np.testing.assert_allclose(sums, 1.0, atol=1e-5)
    truth = [line.split(",", 1)[0] for line in lines[4001:4201]]
    predicted = [
        mnist_model.classes[int(np.argmax([float(v) for v in r.split(",")]))] for r in ours[1:]
    ]
    assert np.mean(np.array(truth) == np.array(predicted)) > 0.75


# --------------------------------------------------------------------------------------------
# Output locations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [":", "//", "/./", "/../"])
def test_an_s3_output_key_is_checked_like_aml_checks_it(bad: str) -> None:
    with pytest.raises(LocationError, match=re.escape(f"may not contain {bad!r}")):
        output_store_for(f"s3://bucket/a{bad}b/", s3_client=object())


def test_an_output_location_gets_its_trailing_slash(tmp_path: Path) -> None:
    store = output_store_for("s3://bucket/predictions", s3_client=object())
    assert store.location("batch-prediction/x.manifest") == (
        "s3://bucket/predictions/batch-prediction/x.manifest"
    )
    local = output_store_for(str(tmp_path / "out"))
    assert local.location("a/b.gz") == str(tmp_path / "out" / "a" / "b.gz")


def test_results_and_manifest_go_to_s3(
    models: dict[str, TrainedModel], s3_client: Any, s3_bucket: str
) -> None:
    store = output_store_for(f"s3://{s3_bucket}/out", s3_client=s3_client)

    result = batch_predict(
        models["BINARY"],
        [memory_file(BATCH_CSV, f"s3://{s3_bucket}/in/data.csv")],
        BATCH_SCHEMA,
        CsvFormat(),
        batch_prediction_id="bp-s3",
        store=store,
    )

    root = f"s3://{s3_bucket}/out/batch-prediction/"
    assert result.manifest_location == root + "bp-s3.manifest"
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_bucket)["Contents"])
    assert keys == [
        "out/batch-prediction/bp-s3.manifest",
        "out/batch-prediction/result/bp-s3-data.csv.gz",
    ]
    manifest = s3_client.get_object(Bucket=s3_bucket, Key=keys[0])["Body"].read()
    assert json.loads(manifest) == {
        f"s3://{s3_bucket}/in/data.csv": root + "result/bp-s3-data.csv.gz"
    }
    body = s3_client.get_object(Bucket=s3_bucket, Key=keys[1])["Body"].read()
    lines = gzip.decompress(body).decode().split("\n")
    assert lines[0] == "bestAnswer,score" and len(lines) == 1 + 6 + 1


def test_a_missing_bucket_fails_before_scoring_and_names_the_location(
    models: dict[str, TrainedModel], s3_client: Any
) -> None:
    store = output_store_for("s3://no-such-bucket-here/out/", s3_client=s3_client)
    with pytest.raises(LocationError, match="no such bucket") as caught:
        batch_predict(
            models["BINARY"],
            [memory_file(BATCH_CSV)],
            BATCH_SCHEMA,
            CsvFormat(),
            batch_prediction_id="bp-1",
            store=store,
        )
    assert caught.value.file == "s3://no-such-bucket-here/out/"


def test_an_unwritable_local_output_fails_with_its_location_and_leaves_no_result(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(LocationError, match="cannot write the output") as caught:
        run(models["BINARY"], [memory_file(BATCH_CSV)], BATCH_SCHEMA, blocker / "out")
    assert str(blocker / "out") in str(caught.value)


def test_a_failure_while_reading_leaves_no_partial_result_and_no_manifest(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    latin = b"age,job,flag\n70,retired,1\n\xff,admin,0\n"  # not UTF-8 on line 3
    bad = DataFile("bad.csv", len(latin), partial(io.BytesIO, latin))
    with pytest.raises(Exception, match="not UTF-8") as caught:
        run(models["BINARY"], [memory_file(BATCH_CSV, "good.csv"), bad], BATCH_SCHEMA, tmp_path)
    assert "bad.csv" in str(caught.value)
    # nothing half-written is left: good.csv's result was still open when bad.csv failed
    assert list((tmp_path / "batch-prediction" / "result").iterdir()) == []
    assert not (tmp_path / "batch-prediction" / "bp-1.manifest").exists()


def test_a_batch_prediction_id_is_checked(models: dict[str, TrainedModel], tmp_path: Path) -> None:
    with pytest.raises(Exception, match="not a valid batch prediction id"):
        run(
            models["BINARY"],
            [memory_file(BATCH_CSV)],
            BATCH_SCHEMA,
            tmp_path,
            batch_prediction_id="a/b",
        )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def test_the_command_line_writes_the_layout_and_prints_a_summary(
    models: dict[str, TrainedModel], tmp_path: Path
) -> None:
    model_file = tmp_path / "m.amlmodel"
    save_model(models["BINARY"], model_file)
    data = tmp_path / "in" / "batch.csv"
    data.parent.mkdir()
    data.write_text(BATCH_CSV)
    schema = tmp_path / "batch.schema"
    schema.write_text(
        json.dumps(
            {
                "version": "1.0",
                "dataFormat": "CSV",
                "dataFileContainsHeader": True,
                "attributes": [
                    {"attributeName": "age", "attributeType": "NUMERIC"},
                    {"attributeName": "job", "attributeType": "CATEGORICAL"},
                    {"attributeName": "flag", "attributeType": "BINARY"},
                ],
            }
        )
    )
    cli: Callable[..., subprocess.CompletedProcess[str]] = partial(
        subprocess.run, cwd=REPO, capture_output=True, text=True, timeout=120
    )
    out = tmp_path / "out"

    done = cli(
        [sys.executable, "-m", "mlcore", "predict", model_file, data, "--schema", schema]
        + ["--out", out, "--id", "bp-cli", "--pass-through", "job", "--explain"]
    )

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    result = out / "batch-prediction" / "result" / "bp-cli-batch.csv.gz"
    assert summary["outputs"] == {str(data): str(result)}
    assert (summary["totalRecordCount"], summary["invalidRecordCount"]) == (6, 2)
    assert result_lines(str(result))[0].startswith("job,bestAnswer,score,feature1,")
    assert (out / "batch-prediction" / "bp-cli.manifest").exists()

    refused = cli(
        [sys.executable, "-m", "mlcore", "predict", model_file, data, "--schema", schema]
        + ["--out", "s3://bucket/a//b/"]
    )
    assert refused.returncode == 2
    assert (
        "s3://bucket/a//b/: the S3 key of an output location may not contain '//'" in refused.stderr
    )

"""train_model from CSV to TrainedModel, AML's training parameters, and `python -m mlcore train`."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score
from test_predict import RECIPE, synthetic_csv, synthetic_file, synthetic_schema

from mlcore.artifacts import load_model
from mlcore.errors import DataError, MLCoreError
from mlcore.io.csvreader import CsvFormat
from mlcore.io.dataset import TypedReader
from mlcore.io.files import DataFile
from mlcore.io.locations import resolve_local
from mlcore.io.rearrangement import Rearrangement
from mlcore.predict import score_frame
from mlcore.schema import parse_schema
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.train.parameters import (
    API_DEFAULT_MAX_MODEL_SIZE,
    CONSOLE_DEFAULT_MAX_MODEL_SIZE,
    ParameterError,
    TrainingParameters,
)
from mlcore.train.pipeline import size_cap_mask, train_model

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
CSV = CsvFormat(",", True)


def banking_schema() -> Schema:
    """The shared schema with `previous` (a count, 0-7) as NUMERIC rather than BINARY."""
    schema = parse_schema((DATA / "banking.csv.schema").read_text())
    schema.attributes = [
        Attribute(a.name, AttributeType.NUMERIC) if a.name == "previous" else a
        for a in schema.attributes
    ]
    return schema


def text_file(text: str, name: str = "data.csv") -> DataFile:
    data = text.encode()
    return DataFile(name=name, size=len(data), opener=partial(io.BytesIO, data))


# -- parameters -------------------------------------------------------------------------------


def test_parameters_default_to_the_api_values_with_shuffling_on() -> None:
    params = TrainingParameters.from_aml({})
    assert params == TrainingParameters()
    assert (params.max_model_size, params.max_passes, params.shuffle_type) == (
        API_DEFAULT_MAX_MODEL_SIZE,
        10,
        "auto",
    )
    assert (params.l1, params.l2) == (0.0, None)
    assert params.automatic_regularization


def _wine_file() -> DataFile:
    path = DATA / "winequality-red.csv"
    return DataFile(str(path), path.stat().st_size, partial(path.open, "rb"))


def test_the_suggested_recipe_without_statistics_sizes_its_bins_to_the_training_records() -> None:
    from mlcore.train.pipeline import _suggested_recipe, _training_records

    wine = _wine_file()
    fmt = CsvFormat(delimiter=";", has_header=True)
    records = _training_records([wine], fmt, Rearrangement(0.0, 70.0))
    assert records == int(1599 * 0.7)
    complement = _training_records([wine], fmt, Rearrangement(0.0, 70.0, complement=True))
    assert complement == int(1599 * 0.3)
    schema = Schema(
        [Attribute("x", AttributeType.NUMERIC), Attribute("y", AttributeType.BINARY)], target="y"
    )
    few, some, many = (_suggested_recipe(schema, n) for n in (200, 2_000, 200_000))
    assert "quantile_bin" not in few and "ALL_NUMERIC" in few  # the linear term only
    assert "quantile_bin(NUMERIC_VARS_QB_10,10)" in some and "ALL_NUMERIC" in some
    assert "quantile_bin(NUMERIC_VARS_QB_50,50)" in many


def test_console_defaults_are_100_mib_and_auto_shuffle() -> None:
    params = TrainingParameters.from_aml(None, console=True)
    assert params.max_model_size == CONSOLE_DEFAULT_MAX_MODEL_SIZE == 104_857_600
    assert params.shuffle_type == "auto"


def test_parameters_read_aml_strings_and_echo_every_key() -> None:
    params = TrainingParameters.from_aml(
        {
            "sgd.maxPasses": "20",
            "sgd.l1RegularizationAmount": "1e-4",
            "sgd.maxMLModelSizeInBytes": "100000",
            "sgd.shuffleType": "AUTO",
        }
    )
    assert (params.max_passes, params.l1, params.l2, params.shuffle_type) == (20, 1e-4, 0.0, "auto")
    echoed = params.to_aml()
    assert echoed == {
        "algorithm": "sgd",
        "sgd.l1RegularizationAmount": "0.0001",
        "sgd.l2RegularizationAmount": "0.0",
        "sgd.maxMLModelSizeInBytes": "100000",
        "sgd.maxPasses": "20",
        "sgd.shuffleType": "auto",
    }
    assert TrainingParameters.from_aml(echoed) == params


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"sgd.maxPass": "3"}, "sgd.maxPass"),
        ({"sgd.maxPasses": "0"}, "sgd.maxPasses"),
        ({"sgd.maxPasses": "10001"}, "sgd.maxPasses"),
        ({"sgd.maxPasses": "2.5"}, "sgd.maxPasses"),
        ({"sgd.maxMLModelSizeInBytes": "99999"}, "sgd.maxMLModelSizeInBytes"),
        ({"sgd.maxMLModelSizeInBytes": "2147483649"}, "sgd.maxMLModelSizeInBytes"),
        ({"sgd.shuffleType": "always"}, "sgd.shuffleType"),
        ({"sgd.l2RegularizationAmount": "-1"}, "sgd.l2RegularizationAmount"),
        ({"sgd.l1RegularizationAmount": "lots"}, "sgd.l1RegularizationAmount"),
    ],
)
def test_bad_parameters_are_refused_naming_the_key(given: dict[str, str], named: str) -> None:
    with pytest.raises(ParameterError) as caught:
        TrainingParameters.from_aml(given)
    assert caught.value.key == named and named in str(caught.value)
    assert isinstance(caught.value, MLCoreError)


def test_l1_and_l2_together_are_refused() -> None:
    with pytest.raises(ParameterError, match="exclusive"):
        TrainingParameters.from_aml(
            {"sgd.l1RegularizationAmount": "1e-8", "sgd.l2RegularizationAmount": "1e-6"}
        )


# -- training ---------------------------------------------------------------------------------


def test_banking_model_reaches_auc_093_on_the_last_30_percent() -> None:
    files = resolve_local(str(DATA / "banking.csv"))
    schema = banking_schema()
    lines: list[str] = []
    model = train_model(
        files,
        schema,
        CSV,
        model_type="BINARY",
        rearrangement=Rearrangement(0, 70),
        log=lines.append,
    )
    test = pd.concat(
        [c.frame for c in TypedReader(files, schema, CSV, rearrangement=Rearrangement(70, 100))]
    )
    auc = roc_auc_score(test["y"].to_numpy(), score_frame(model, test))
    assert auc >= 0.93, lines
    assert model.records_used == 28_831 and model.records_without_target == 0
    assert model.training_class_counts is not None
    assert sum(model.training_class_counts.values()) == 28_831
    assert model.history[-1] < model.history[0]
    assert "quantile_bin" in model.recipe_text  # the suggested recipe


def test_records_without_a_target_are_skipped_and_counted() -> None:
    lines = synthetic_csv(300).splitlines()
    for i in (3, 10, 200):  # blank the y field of three records
        fields = lines[i].split(",")
        fields[4] = ""
        lines[i] = ",".join(fields)
    model = train_model(
        [text_file("\n".join(lines) + "\n")],
        synthetic_schema("y"),
        CSV,
        model_type="BINARY",
        recipe_text=RECIPE,
    )
    assert (model.records_used, model.records_without_target) == (297, 3)


def test_size_cap_drops_the_least_frequent_features_and_logs_it() -> None:
    n = 6000
    rng = np.random.default_rng(0)
    ids = [
        f"customer-{i:05d}" for i in rng.integers(0, 50000, n)
    ]  # ~5,600 values, ~125 kB  # thousands of rare values
    rows = [f"{c},{rng.integers(0, 2)}" for c in ids]
    data = text_file("id,y\n" + "\n".join(rows) + "\n")
    schema = Schema(
        [Attribute("id", AttributeType.CATEGORICAL), Attribute("y", AttributeType.BINARY)],
        target="y",
    )
    lines: list[str] = []
    model = train_model(
        [data],
        schema,
        CSV,
        model_type="BINARY",
        recipe_text='{"outputs": ["id"]}',
        parameters={"sgd.maxMLModelSizeInBytes": "100000"},
        log=lines.append,
    )
    assert model.dropped_features > 0
    assert model.size_in_bytes <= 100_000
    assert any("sgd.maxMLModelSizeInBytes=100,000" in line for line in lines)
    counts = pd.Series(ids).value_counts()
    kept = {name.split("=", 1)[1] for name in model.fitted_recipe.feature_names}
    assert counts[list(kept)].min() >= counts.drop(list(kept)).max()


def test_size_cap_mask_keeps_the_most_frequent_features_that_fit() -> None:
    # per feature 8 bytes x 2 outputs + the name; the intercept takes 16 of the 68
    keep = size_cap_mask(["a", "bb", "c", "d"], np.array([3, 9, 1, 5]), 2, 16 + 18 + 17 + 17)
    assert keep.tolist() == [True, True, False, True]


def test_multiclass_labels_sort_numerically_and_more_than_100_are_refused() -> None:
    rows = "\n".join(f"{i % 12},{float(i % 12) + 0.1 * (i % 3)}" for i in range(600))
    schema = Schema(
        [Attribute("label", AttributeType.NUMERIC), Attribute("x", AttributeType.NUMERIC)],
        target="label",
    )
    model = train_model(
        [text_file("label,x\n" + rows + "\n")],
        schema,
        CSV,
        model_type="MULTICLASS",
        recipe_text='{"outputs": ["ALL_NUMERIC"]}',
    )
    assert model.classes == [str(i) for i in range(12)]
    assert model.weights.shape == (model.n_features + 1, 12)
    many = "\n".join(f"{i},{i}" for i in range(150))
    with pytest.raises(DataError, match="at most 100 classes"):
        train_model(
            [text_file("label,x\n" + many + "\n")],
            schema,
            CSV,
            model_type="MULTICLASS",
            recipe_text='{"outputs": ["ALL_NUMERIC"]}',
        )


def test_training_is_deterministic_and_leaves_no_cache_behind(tmp_path: Path) -> None:
    def run() -> np.ndarray:
        return train_model(
            [synthetic_file()],
            synthetic_schema("y"),
            CSV,
            model_type="BINARY",
            recipe_text=RECIPE,
            parameters={"sgd.shuffleType": "auto"},
            seed=3,
            work_dir=tmp_path,
        ).weights

    np.testing.assert_array_equal(run(), run())
    assert list(tmp_path.iterdir()) == []


def test_progress_reports_reading_then_each_pass() -> None:
    calls: list[tuple[int, int, int, float]] = []
    model = train_model(
        [synthetic_file()],
        synthetic_schema("amount"),
        CSV,
        model_type="REGRESSION",
        recipe_text=RECIPE,
        parameters={"sgd.maxPasses": "3", "sgd.l2RegularizationAmount": "1e-6"},
        progress=lambda *args: calls.append(args),
    )
    passes = [call for call in calls if call[0] > 0]
    assert calls[0][0] == 0 and np.isnan(calls[0][3])
    assert [call[0] for call in passes] == list(range(1, model.passes + 1))
    assert [call[3] for call in passes] == model.history


def test_a_schema_without_target_is_refused() -> None:
    schema = synthetic_schema("y")
    schema.target = None
    with pytest.raises(DataError, match="target"):
        train_model([synthetic_file()], schema, CSV, model_type="BINARY", recipe_text=RECIPE)


# -- the command line ------------------------------------------------------------------------


def test_cli_train_writes_a_model_and_prints_a_summary(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text(synthetic_csv(400))
    schema = tmp_path / "data.schema"
    schema.write_text(
        json.dumps(
            {
                "targetAttributeName": "kind",
                "dataFileContainsHeader": True,
                "attributes": [
                    {"attributeName": n, "attributeType": t}
                    for n, t in [
                        ("age", "NUMERIC"),
                        ("job", "CATEGORICAL"),
                        ("note", "TEXT"),
                        ("flag", "BINARY"),
                        ("y", "BINARY"),
                        ("kind", "CATEGORICAL"),
                        ("amount", "NUMERIC"),
                    ]
                ],
                "excludedAttributeNames": ["y", "amount"],
            }
        )
    )
    recipe = tmp_path / "recipe.json"
    recipe.write_text(RECIPE)
    out = tmp_path / "model.zip"
    done = subprocess.run(
        [sys.executable, "-m", "mlcore", "train", data, "--schema", schema]
        + ["--model-type", "multiclass", "--recipe", recipe, "--out", out]
        + ["--parameters", '{"sgd.maxPasses": "4"}'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["records"] == 400 and summary["classes"] == ["a", "b", "c"]
    assert summary["passes"] == len(summary["lossHistory"]) <= 4
    assert summary["parameters"]["sgd.maxPasses"] == "4"
    assert "pass 1/4" in done.stderr
    assert load_model(out).n_features == summary["features"]


def test_cli_train_reports_a_bad_parameter_with_exit_code_2(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text(synthetic_csv(50))
    done = subprocess.run(
        [sys.executable, "-m", "mlcore", "train", data, "--schema", DATA / "banking.csv.schema"]
        + ["--model-type", "BINARY", "--out", tmp_path / "m.zip"]
        + ["--parameters", '{"sgd.maxPasses": "0"}'],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "sgd.maxPasses" in done.stderr


def test_regression_on_a_target_scaled_by_1e4_predicts_the_same_values_scaled() -> None:
    lines = (DATA / "winequality-red.csv").read_text().splitlines()
    header = lines[0].split(";")
    scaled = [
        ";".join([*row.split(";")[:-1], str(float(row.split(";")[-1]) * 1e4)]) for row in lines[1:]
    ]
    schema = Schema(
        [Attribute(name.strip('"'), AttributeType.NUMERIC) for name in header], target="quality"
    )
    fmt = CsvFormat(delimiter=";", has_header=True)

    def train(text: str) -> np.ndarray:
        model = train_model([text_file(text)], schema, fmt, model_type="REGRESSION")
        frame = next(iter(TypedReader([text_file(text)], schema, fmt))).frame
        return score_frame(model, frame)

    original = train("\n".join(lines) + "\n")
    in_tens_of_thousands = train("\n".join([lines[0], *scaled]) + "\n")
    np.testing.assert_allclose(in_tens_of_thousands, original * 1e4, rtol=1e-6)

"""evaluate_model on small CSVs with fake models that follow the scoring contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score, roc_auc_score

from mlcore.cli import main
from mlcore.errors import DataError
from mlcore.evaluate import evaluate_model
from mlcore.io.csvreader import CsvFormat, InvalidRecord
from mlcore.io.files import DataFile
from mlcore.io.locations import resolve_local
from mlcore.io.rearrangement import Rearrangement
from mlcore.metrics.alerts import ALL_RECORDS_USED, HELD_OUT, SCHEMA_MATCHED, SUFFICIENT_DATA
from mlcore.schema import parse_schema
from mlcore.schema.model import Attribute, AttributeType, Schema

MemoryFile = Callable[..., DataFile]
N, B, C = AttributeType.NUMERIC, AttributeType.BINARY, AttributeType.CATEGORICAL


@dataclass
class FakeModel:
    """What evaluate_model reads of a TrainedModel; scores come from the `x` column."""

    model_type: str
    schema: Schema
    classes: list[str] = field(default_factory=lambda: ["0", "1"])
    score_threshold: float = 0.5
    training_class_counts: dict[str, int] = field(default_factory=dict)
    training_target_mean: float = 0.0


def binary_scorer(model: FakeModel, frame: pd.DataFrame) -> np.ndarray:
    return frame["x"].to_numpy(dtype=np.float64)


def multiclass_scorer(model: FakeModel, frame: pd.DataFrame) -> np.ndarray:
    """All the probability on the class named in column `guess`."""
    guesses = frame["guess"].to_numpy(dtype=str)
    return (guesses[:, None] == np.array(model.classes)[None, :]).astype(np.float64)


def regression_scorer(model: FakeModel, frame: pd.DataFrame) -> np.ndarray:
    return 2.0 * frame["x"].to_numpy(dtype=np.float64)


BINARY_SCHEMA = Schema([Attribute("x", N), Attribute("y", B)], target="y")
BINARY_CSV = "x,y\n0.9,1\n0.8,0\n0.7,1\n0.3,0\n0.3,1\n0.1,0\n0.6,yes\n0.2,no\n"


def binary_model(**changes: Any) -> FakeModel:
    defaults: dict[str, Any] = {"training_class_counts": {"0": 40, "1": 40}}
    return FakeModel("BINARY", BINARY_SCHEMA, **{**defaults, **changes})


def test_it_evaluates_a_binary_model_in_amls_shape(memory_file: MemoryFile) -> None:
    result = evaluate_model(
        binary_model(), [memory_file(BINARY_CSV)], BINARY_SCHEMA, CsvFormat(), scorer=binary_scorer
    )

    scores = [0.9, 0.8, 0.7, 0.3, 0.3, 0.1, 0.6, 0.2]
    labels = [1, 0, 1, 0, 1, 0, 1, 0]
    auc = result["PerformanceMetrics"]["Properties"]["BinaryAUC"]
    assert isinstance(auc, str) and float(auc) == pytest.approx(roc_auc_score(labels, scores))
    assert result["Baseline"] == {"Properties": {"BinaryAUC": "0.5"}}
    assert result["MLModelType"] == "BINARY"
    assert (result["RecordCount"], result["InvalidRecordCount"]) == (8, 0)
    assert result["Details"]["threshold_metrics"]["tp"] == 3
    assert len(result["Details"]["threshold_table"]["thresholds"]) == 101
    json.dumps(result, allow_nan=False)


def test_it_uses_the_models_saved_score_threshold(memory_file: MemoryFile) -> None:
    result = evaluate_model(
        binary_model(score_threshold=0.75),
        [memory_file(BINARY_CSV)],
        BINARY_SCHEMA,
        CsvFormat(),
        scorer=binary_scorer,
    )

    metrics = result["Details"]["threshold_metrics"]
    assert metrics["threshold"] == 0.75 and (metrics["tp"], metrics["fp"]) == (1, 1)


def test_it_skips_and_reports_records_without_a_target(memory_file: MemoryFile) -> None:
    reported: list[InvalidRecord] = []
    data = "x,y\n0.9,1\n0.5,\n0.1,0\n0.4,maybe\n"

    result = evaluate_model(
        binary_model(),
        [memory_file(data)],
        BINARY_SCHEMA,
        CsvFormat(),
        scorer=binary_scorer,
        on_invalid=reported.append,
    )

    assert (result["RecordCount"], result["InvalidRecordCount"]) == (2, 2)
    assert sorted(record.line for record in reported) == [3, 5]
    alerts = {alert["name"]: alert for alert in result["Alerts"]}
    assert alerts[ALL_RECORDS_USED]["ok"] is False


def test_records_read_are_the_evaluated_plus_the_invalid_ones_with_why(
    memory_file: MemoryFile,
) -> None:
    # 8 good records, one with two fields too many, one with a bad x, one without a target.
    data = BINARY_CSV + "0.5,1,7,8\nabc,1\n0.4,\n"

    result = evaluate_model(
        binary_model(), [memory_file(data)], BINARY_SCHEMA, CsvFormat(), scorer=binary_scorer
    )

    assert (result["TotalRecordCount"], result["RecordCount"]) == (11, 8)
    assert result["InvalidRecordCount"] == 3
    assert result["InvalidRecordReasons"] == {
        "wrongFieldCount": 1,
        "invalidValue": 1,
        "missingTarget": 1,
    }


def test_it_raises_the_alerts_from_training_info(memory_file: MemoryFile) -> None:
    info = {
        "training_datasource_id": "ds-1",
        "evaluation_datasource_id": "ds-1",
        "training_records": 1000,
    }

    result = evaluate_model(
        binary_model(),
        [memory_file(BINARY_CSV)],
        BINARY_SCHEMA,
        CsvFormat(),
        scorer=binary_scorer,
        training_info=info,
    )

    alerts = {alert["name"]: alert["ok"] for alert in result["Alerts"]}
    assert alerts[HELD_OUT] is False and alerts[SUFFICIENT_DATA] is False
    assert alerts[SCHEMA_MATCHED] is True and len(alerts) == 5


def test_it_evaluates_a_multiclass_model_against_the_training_top_class(
    memory_file: MemoryFile,
) -> None:
    schema = Schema([Attribute("guess", C), Attribute("y", C)], target="y")
    model = FakeModel(
        "MULTICLASS",
        schema,
        classes=["cat", "dog", "emu"],
        training_class_counts={"cat": 10, "dog": 30, "emu": 5},
    )
    data = "guess,y\ncat,cat\ndog,cat\ndog,dog\nemu,emu\ncat,dog\ncat,cat\n"

    result = evaluate_model(
        model, [memory_file(data)], schema, CsvFormat(), scorer=multiclass_scorer
    )

    true = ["cat", "cat", "dog", "emu", "dog", "cat"]
    guess = ["cat", "dog", "dog", "emu", "cat", "cat"]
    score = result["PerformanceMetrics"]["Properties"]["MulticlassAvgFScore"]
    assert float(score) == pytest.approx(f1_score(true, guess, average="macro"))
    baseline = result["Baseline"]["Properties"]["MulticlassAvgFScore"]
    assert float(baseline) == pytest.approx(f1_score(true, ["dog"] * 6, average="macro"))
    assert result["Details"]["confusion_matrix"]["labels"] == ["cat", "dog", "emu"]
    json.dumps(result, allow_nan=False)


def test_it_evaluates_a_regression_model_against_the_training_mean(
    memory_file: MemoryFile,
) -> None:
    schema = Schema([Attribute("x", N), Attribute("y", N)], target="y")
    model = FakeModel("REGRESSION", schema, training_target_mean=3.0)
    data = "x,y\n1,2\n2,5\n3,6\n"

    result = evaluate_model(
        model, [memory_file(data)], schema, CsvFormat(), scorer=regression_scorer
    )

    rmse = result["PerformanceMetrics"]["Properties"]["RegressionRMSE"]
    assert float(rmse) == pytest.approx(np.sqrt((0 + 1 + 0) / 3))
    baseline = result["Baseline"]["Properties"]["RegressionRMSE"]
    assert float(baseline) == pytest.approx(np.sqrt((1 + 4 + 9) / 3))
    assert sum(result["Details"]["residual_histogram"]["counts"]) == 3


def test_it_evaluates_only_the_records_the_rearrangement_selects(memory_file: MemoryFile) -> None:
    everything = evaluate_model(
        binary_model(), [memory_file(BINARY_CSV)], BINARY_SCHEMA, CsvFormat(), scorer=binary_scorer
    )
    part = evaluate_model(
        binary_model(),
        [memory_file(BINARY_CSV)],
        BINARY_SCHEMA,
        CsvFormat(),
        scorer=binary_scorer,
        rearrangement=Rearrangement(percent_begin=50, percent_end=100),
    )

    assert 0 < part["RecordCount"] < everything["RecordCount"]


def test_it_refuses_data_with_no_target_values(memory_file: MemoryFile) -> None:
    with pytest.raises(DataError, match="target"):
        evaluate_model(
            binary_model(),
            [memory_file("x,y\n0.5,\n")],
            BINARY_SCHEMA,
            CsvFormat(),
            scorer=binary_scorer,
        )


def test_a_saved_threshold_of_zero_is_kept(memory_file: MemoryFile) -> None:
    result = evaluate_model(
        binary_model(score_threshold=0.0),
        [memory_file(BINARY_CSV)],
        BINARY_SCHEMA,
        CsvFormat(),
        scorer=binary_scorer,
    )

    assert result["Details"]["threshold_metrics"]["percent_predicted_positive"] == 100.0


def test_it_leaves_the_baseline_out_when_the_model_lacks_the_training_mean(
    memory_file: MemoryFile,
) -> None:
    schema = Schema([Attribute("x", N), Attribute("y", N)], target="y")
    model = FakeModel("REGRESSION", schema)
    model.training_target_mean = None  # type: ignore[assignment]

    result = evaluate_model(
        model, [memory_file("x,y\n1,2\n")], schema, CsvFormat(), scorer=regression_scorer
    )

    assert result["Baseline"] == {"Properties": {}}
    assert result["PerformanceMetrics"]["Properties"]["RegressionRMSE"] == "0.0"


def test_it_takes_the_training_record_count_from_the_model(memory_file: MemoryFile) -> None:
    model = binary_model()
    model.records_used = 1000  # type: ignore[attr-defined]

    result = evaluate_model(
        model, [memory_file(BINARY_CSV)], BINARY_SCHEMA, CsvFormat(), scorer=binary_scorer
    )

    alerts = {alert["name"]: alert["ok"] for alert in result["Alerts"]}
    assert alerts[SUFFICIENT_DATA] is False


@pytest.fixture(scope="module")
def banking_model(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A binary model trained on the first 70 % of banking.csv, saved to a file."""
    from mlcore.artifacts import save_model
    from mlcore.train.pipeline import train_model

    schema = parse_schema((data_dir / "banking.csv.schema").read_text())
    model = train_model(
        resolve_local(data_dir / "banking.csv"),
        schema,
        CsvFormat(),
        model_type="BINARY",
        rearrangement=Rearrangement(0, 70),
        work_dir=tmp_path_factory.mktemp("work"),
    )
    path = tmp_path_factory.mktemp("model") / "banking.model"
    save_model(model, path)
    return path


def test_it_evaluates_a_real_model_on_the_held_out_thirty_percent(
    banking_model: Path, data_dir: Path
) -> None:
    from mlcore.artifacts import load_model

    model = load_model(banking_model)

    result = evaluate_model(
        model,
        resolve_local(data_dir / "banking.csv"),
        model.schema,
        CsvFormat(),
        rearrangement=Rearrangement(70, 100),
        training_info={"training_datasource_id": "ds-70", "evaluation_datasource_id": "ds-30"},
    )

    assert float(result["PerformanceMetrics"]["Properties"]["BinaryAUC"]) >= 0.93
    alerts = {alert["name"]: alert["ok"] for alert in result["Alerts"]}
    assert alerts[HELD_OUT] and alerts[SUFFICIENT_DATA] and alerts[SCHEMA_MATCHED]
    json.dumps(result, allow_nan=False)


def test_the_command_line_prints_the_evaluation(
    banking_model: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    split = '{"splitting": {"percentBegin": 70, "percentEnd": 100}}'

    code = main(
        ["evaluate", str(banking_model), str(data_dir / "banking.csv"), "--rearrangement", split]
    )

    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["MLModelType"] == "BINARY"
    assert float(printed["PerformanceMetrics"]["Properties"]["BinaryAUC"]) >= 0.93


def test_the_command_line_rejects_a_file_that_is_not_a_model(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "fake.model"
    fake.write_text("not a zip")

    code = main(["evaluate", str(fake), str(data_dir / "banking.csv")])

    assert code == 2 and "model file" in capsys.readouterr().err

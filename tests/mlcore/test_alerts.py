"""The five evaluation alerts, each firing and not firing."""

from __future__ import annotations

from typing import Any

import pytest

from mlcore.metrics.alerts import (
    ALL_RECORDS_USED,
    HELD_OUT,
    SCHEMA_MATCHED,
    SUFFICIENT_DATA,
    TARGET_DISTRIBUTION,
    categorical_distribution,
    distribution_from_statistics,
    evaluation_alerts,
    numeric_distribution,
    total_variation,
)
from mlcore.schema.model import Attribute, AttributeType, Schema

N, C = AttributeType.NUMERIC, AttributeType.CATEGORICAL


def schema(**types: AttributeType) -> Schema:
    return Schema([Attribute(name, t) for name, t in types.items()], target="y")


TRAINING_SCHEMA = schema(age=N, job=C, y=C)
BALANCED = categorical_distribution(["a"] * 50 + ["b"] * 50)


def alerts(**changes: Any) -> dict[str, dict[str, Any]]:
    """The alerts for a healthy evaluation, with `changes` applied, by name."""
    arguments: dict[str, Any] = {
        "training_datasource_id": "ds-train",
        "evaluation_datasource_id": "ds-eval",
        "training_records": 700,
        "evaluation_records": 300,
        "training_schema": TRAINING_SCHEMA,
        "evaluation_schema": schema(age=N, job=C, y=C),
        "invalid_evaluation_records": 0,
        "training_target_distribution": BALANCED,
        "evaluation_target_distribution": categorical_distribution(["a"] * 48 + ["b"] * 52),
        **changes,
    }
    return {alert["name"]: alert for alert in evaluation_alerts(**arguments)}


def test_a_healthy_evaluation_raises_no_alert_and_lists_all_five_in_order() -> None:
    result = evaluation_alerts(
        "ds-train", "ds-eval", 700, 300, TRAINING_SCHEMA, TRAINING_SCHEMA, 0, BALANCED, BALANCED
    )

    assert [a["name"] for a in result] == [
        HELD_OUT,
        SUFFICIENT_DATA,
        SCHEMA_MATCHED,
        ALL_RECORDS_USED,
        TARGET_DISTRIBUTION,
    ]
    assert all(a["ok"] for a in result)
    assert all(a["message"] for a in result)


def test_it_alerts_when_the_model_is_evaluated_on_its_training_datasource() -> None:
    alert = alerts(evaluation_datasource_id="ds-train")[HELD_OUT]

    assert alert["ok"] is False and "ds-train" in alert["message"]


def test_it_alerts_when_evaluation_records_are_under_ten_percent_of_training() -> None:
    assert alerts(evaluation_records=69)[SUFFICIENT_DATA]["ok"] is False
    assert alerts(evaluation_records=70)[SUFFICIENT_DATA]["ok"] is True


def test_it_alerts_on_missing_extra_or_retyped_attributes() -> None:
    missing = alerts(evaluation_schema=schema(age=N, y=C))[SCHEMA_MATCHED]
    extra = alerts(evaluation_schema=schema(age=N, job=C, city=C, y=C))[SCHEMA_MATCHED]
    retyped = alerts(evaluation_schema=schema(age=C, job=C, y=C))[SCHEMA_MATCHED]

    assert missing["ok"] is False and "missing attributes: job" in missing["message"]
    assert extra["ok"] is False and "extra attributes: city" in extra["message"]
    assert retyped["ok"] is False and "age" in retyped["message"]


def test_it_does_not_mind_the_attributes_in_another_order() -> None:
    assert alerts(evaluation_schema=schema(y=C, job=C, age=N))[SCHEMA_MATCHED]["ok"] is True


def test_it_alerts_when_invalid_records_were_left_out() -> None:
    alert = alerts(invalid_evaluation_records=3)[ALL_RECORDS_USED]

    assert alert["ok"] is False and "3 invalid records" in alert["message"]


def test_it_alerts_when_the_class_shares_differ() -> None:
    skewed = categorical_distribution(["a"] * 80 + ["b"] * 20)

    alert = alerts(evaluation_target_distribution=skewed)[TARGET_DISTRIBUTION]

    assert alert["ok"] is False and "0.30" in alert["message"]


def test_it_alerts_when_the_evaluation_has_a_class_training_never_saw() -> None:
    shifted = categorical_distribution(["a"] * 40 + ["b"] * 40 + ["c"] * 20)

    assert alerts(evaluation_target_distribution=shifted)[TARGET_DISTRIBUTION]["ok"] is False


@pytest.mark.parametrize(
    ("mean", "std", "ok"),
    [(10.2, 2.1, True), (11.0, 2.0, False), (10.0, 3.5, False), (10.0, 1.0, False)],
)
def test_it_compares_numeric_targets_by_mean_and_spread(mean: float, std: float, ok: bool) -> None:
    training = {"kind": "numeric", "count": 700, "mean": 10.0, "std": 2.0}
    evaluation = {"kind": "numeric", "count": 300, "mean": mean, "std": std}

    result = alerts(
        training_target_distribution=training, evaluation_target_distribution=evaluation
    )

    assert result[TARGET_DISTRIBUTION]["ok"] is ok


def test_it_reports_checks_it_cannot_make_as_not_checked_rather_than_alerting() -> None:
    result = alerts(
        training_datasource_id=None,
        training_records=None,
        training_schema=None,
        training_target_distribution=None,
    )

    for name in [HELD_OUT, SUFFICIENT_DATA, SCHEMA_MATCHED, TARGET_DISTRIBUTION]:
        assert result[name]["ok"] is True
        assert result[name]["message"].startswith("Not checked")


def test_total_variation_is_zero_for_equal_shares_and_one_for_disjoint_classes() -> None:
    assert total_variation({"a": 1, "b": 1}, {"a": 50, "b": 50}) == 0.0
    assert total_variation({"a": 3}, {"b": 3}) == 1.0


def test_it_reads_target_distributions_from_datasource_statistics() -> None:
    categorical = {
        "target": {
            "name": "y",
            "distribution": [{"value": "0", "count": 9}, {"value": "1", "count": 1}],
        },
        "attributes": [],
    }
    numeric = {
        "target": {"name": "y", "distribution": None, "histogram": {}},
        "attributes": [{"name": "y", "count": 4, "mean": 2.5, "stddev": 1.1}],
    }

    assert distribution_from_statistics(categorical) == {
        "kind": "categorical",
        "counts": {"0": 9, "1": 1},
    }
    assert distribution_from_statistics(numeric) == {
        "kind": "numeric",
        "count": 4,
        "mean": 2.5,
        "std": 1.1,
    }
    assert distribution_from_statistics({"target": None}) is None
    assert numeric_distribution([1.0, 3.0])["std"] == 1.0

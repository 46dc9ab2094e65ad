"""The five evaluation alerts (reference 7.2), each `{"name", "ok", "message"}`.

`ok` is False when the alert fires. A check whose inputs are unknown (None) is reported as ok
with a message saying it was not checked, so a page never shows a false alarm for missing data.

Target distributions are plain dicts, built with `categorical_distribution`,
`numeric_distribution` or `distribution_from_statistics` (the `target` entry of
`mlcore.stats.compute_statistics`):

* BINARY / CATEGORICAL: `{"kind": "categorical", "counts": {label: count}}`;
* NUMERIC: `{"kind": "numeric", "count": n, "mean": m, "std": s}`.

When the distributions count as different (AML's own test is unpublished and "approximate",
so these thresholds are ours):

* categorical: total variation distance (half the sum of absolute differences of the class
  shares) above `MAX_TOTAL_VARIATION` = 0.1, i.e. more than 10 % of the records would have to
  change class to turn one distribution into the other;
* numeric: the means differ by more than `MAX_MEAN_SHIFT` = 0.25 training standard deviations,
  or the standard deviations differ by more than a factor `MAX_STD_RATIO` = 1.5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from mlcore.schema.model import Schema

HELD_OUT = "Evaluation of ML model is done on held-out data"
SUFFICIENT_DATA = "Sufficient data was used for the evaluation of the predictive model"
SCHEMA_MATCHED = "Schema matched"
ALL_RECORDS_USED = (
    "All records from evaluation files were used for predictive model performance evaluation"
)
TARGET_DISTRIBUTION = "Distribution of target variable"

MIN_EVALUATION_SHARE = 0.10
MAX_TOTAL_VARIATION = 0.10
MAX_MEAN_SHIFT = 0.25
MAX_STD_RATIO = 1.5

Alert = dict[str, Any]
Distribution = Mapping[str, Any]


def _alert(name: str, ok: bool, message: str) -> Alert:
    return {"name": name, "ok": ok, "message": message}


def categorical_distribution(labels: npt.ArrayLike) -> dict[str, Any]:
    """Counts per label.

    >>> categorical_distribution(["a", "b", "a"])
    {'kind': 'categorical', 'counts': {'a': 2, 'b': 1}}
    """
    values, counts = np.unique(np.asarray(labels).astype(str), return_counts=True)
    return {
        "kind": "categorical",
        "counts": dict(zip(values.tolist(), counts.tolist(), strict=True)),
    }


def numeric_distribution(values: npt.ArrayLike) -> dict[str, Any]:
    """Count, mean and standard deviation.

    >>> numeric_distribution([1.0, 3.0])
    {'kind': 'numeric', 'count': 2, 'mean': 2.0, 'std': 1.0}
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return {"kind": "numeric", "count": 0, "mean": 0.0, "std": 0.0}
    return {"kind": "numeric", "count": int(v.size), "mean": float(v.mean()), "std": float(v.std())}


def distribution_from_statistics(statistics: Mapping[str, Any]) -> dict[str, Any] | None:
    """The target distribution from `compute_statistics(...)` output (None without a target)."""
    target = statistics.get("target")
    if not target:
        return None
    if target.get("distribution") is not None:
        counts = {str(item["value"]): int(item["count"]) for item in target["distribution"]}
        return {"kind": "categorical", "counts": counts}
    attribute = next(a for a in statistics["attributes"] if a["name"] == target["name"])
    return {
        "kind": "numeric",
        "count": int(attribute.get("count") or 0),
        "mean": float(attribute.get("mean") or 0.0),
        "std": float(attribute.get("stddev") or 0.0),
    }


def held_out_alert(
    training_datasource_id: str | None, evaluation_datasource_id: str | None
) -> Alert:
    if training_datasource_id is None or evaluation_datasource_id is None:
        return _alert(HELD_OUT, True, "Not checked: the training datasource is not known.")
    if training_datasource_id == evaluation_datasource_id:
        return _alert(
            HELD_OUT,
            False,
            f"The model was evaluated on its own training datasource ({training_datasource_id}), "
            "so the figures are too optimistic. Evaluate on data the model has not seen.",
        )
    return _alert(HELD_OUT, True, "The evaluation datasource is not the training datasource.")


def sufficient_data_alert(training_records: int | None, evaluation_records: int) -> Alert:
    if training_records is None:
        return _alert(SUFFICIENT_DATA, True, "Not checked: the training record count is not known.")
    needed = MIN_EVALUATION_SHARE * training_records
    share = f"{evaluation_records:,} evaluation records for {training_records:,} training records"
    if evaluation_records < needed:
        return _alert(
            SUFFICIENT_DATA,
            False,
            f"Only {share}: fewer than 10 % of the training records, "
            "so the figures may not be reliable.",
        )
    return _alert(SUFFICIENT_DATA, True, f"{share}: at least 10 %.")


def schema_matched_alert(training_schema: Schema | None, evaluation_schema: Schema) -> Alert:
    if training_schema is None:
        return _alert(SCHEMA_MATCHED, True, "Not checked: the training schema is not known.")
    trained = {a.name: a.type for a in training_schema.attributes}
    evaluated = {a.name: a.type for a in evaluation_schema.attributes}
    problems = []
    missing = [name for name in trained if name not in evaluated]
    extra = [name for name in evaluated if name not in trained]
    retyped = [
        f"{name} ({trained[name].value} in training, {evaluated[name].value} here)"
        for name in trained
        if name in evaluated and trained[name] != evaluated[name]
    ]
    if missing:
        problems.append("missing attributes: " + ", ".join(missing))
    if extra:
        problems.append("extra attributes: " + ", ".join(extra))
    if retyped:
        problems.append("attributes of another type: " + ", ".join(retyped))
    if problems:
        return _alert(
            SCHEMA_MATCHED,
            False,
            "The evaluation schema differs from the training schema; " + "; ".join(problems) + ".",
        )
    return _alert(SCHEMA_MATCHED, True, "The evaluation data has the training data's attributes.")


def all_records_used_alert(invalid_evaluation_records: int) -> Alert:
    if invalid_evaluation_records > 0:
        records = "record was" if invalid_evaluation_records == 1 else "records were"
        return _alert(
            ALL_RECORDS_USED,
            False,
            f"{invalid_evaluation_records:,} invalid {records} left out of the evaluation "
            "(a missing target, a value not valid for its type, or a wrong number of fields).",
        )
    return _alert(ALL_RECORDS_USED, True, "Every record of the evaluation data was used.")


def total_variation(first: Mapping[str, float], second: Mapping[str, float]) -> float:
    """Half the sum of absolute differences of the shares (0 = same, 1 = disjoint).

    >>> total_variation({"a": 5, "b": 5}, {"a": 8, "b": 2})
    0.3
    """
    labels = sorted(set(first) | set(second))
    p = np.array([first.get(label, 0) for label in labels], dtype=np.float64)
    q = np.array([second.get(label, 0) for label in labels], dtype=np.float64)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0 if p.sum() == q.sum() else 1.0
    return float(np.round(0.5 * np.abs(p / p.sum() - q / q.sum()).sum(), 12))


def _numeric_difference(training: Distribution, evaluation: Distribution) -> str | None:
    """Why two numeric distributions differ, or None when they are alike."""
    t_mean, t_std = float(training["mean"]), float(training["std"])
    e_mean, e_std = float(evaluation["mean"]), float(evaluation["std"])
    summary = f"training mean {t_mean:.4g} (sd {t_std:.4g}), evaluation mean {e_mean:.4g} (sd {e_std:.4g})"
    if t_std == 0.0:
        return None if (e_mean == t_mean and e_std == 0.0) else summary
    if abs(e_mean - t_mean) > MAX_MEAN_SHIFT * t_std:
        return summary
    if e_std == 0.0 or not (1 / MAX_STD_RATIO <= e_std / t_std <= MAX_STD_RATIO):
        return summary
    return None


def target_distribution_alert(
    training: Distribution | None, evaluation: Distribution | None
) -> Alert:
    if training is None or evaluation is None:
        return _alert(
            TARGET_DISTRIBUTION, True, "Not checked: the training target distribution is not known."
        )
    advice = (
        " The figures may not reflect how the model does on data like its training data; "
        "splitting one datasource at random gives both parts the same distribution. "
        "(This check uses approximate statistics and may raise false alarms.)"
    )
    if training["kind"] == "categorical":
        distance = total_variation(training["counts"], evaluation["counts"])
        if distance > MAX_TOTAL_VARIATION:
            return _alert(
                TARGET_DISTRIBUTION,
                False,
                f"The target's class shares differ between training and evaluation data "
                f"(total variation {distance:.3f}, above {MAX_TOTAL_VARIATION:.2f})." + advice,
            )
        return _alert(
            TARGET_DISTRIBUTION,
            True,
            f"The target's class shares are alike (total variation {distance:.3f}).",
        )
    difference = _numeric_difference(training, evaluation)
    if difference:
        return _alert(
            TARGET_DISTRIBUTION,
            False,
            f"The target's distribution differs between training and evaluation data: {difference}."
            + advice,
        )
    return _alert(
        TARGET_DISTRIBUTION, True, "The target's mean and spread are alike in both datasets."
    )


def evaluation_alerts(
    training_datasource_id: str | None,
    evaluation_datasource_id: str | None,
    training_records: int | None,
    evaluation_records: int,
    training_schema: Schema | None,
    evaluation_schema: Schema,
    invalid_evaluation_records: int,
    training_target_distribution: Distribution | None,
    evaluation_target_distribution: Distribution | None,
) -> list[Alert]:
    """The five alerts in AML's order.

    >>> alerts = evaluation_alerts("ds-1", "ds-1", 100, 5, None, Schema([]), 0, None, None)
    >>> [a["ok"] for a in alerts]
    [False, False, True, True, True]
    """
    return [
        held_out_alert(training_datasource_id, evaluation_datasource_id),
        sufficient_data_alert(training_records, evaluation_records),
        schema_matched_alert(training_schema, evaluation_schema),
        all_records_used_alert(invalid_evaluation_records),
        target_distribution_alert(training_target_distribution, evaluation_target_distribution),
    ]

"""Evaluation metrics, baselines and alerts (reference section 7).

* `binary`: `binary_auc` (exact, ties), `roc_curve`, `score_histograms`, `score_counts`,
  `threshold_metrics`, `threshold_table`, `threshold_metrics_from_counts`, `binary_details`.
* `multiclass`: `macro_f1`, `per_class_metrics`, `confusion_matrix`, `aml_confusion_matrix`
  (top 9 + "others"), `predicted_labels`, `multiclass_details`, `CellExamples` (the first 20
  records of each confusion-matrix cell, kept while streaming).
* `regression`: `rmse`, `mean_absolute_error`, `r_squared`, `residual_histogram`,
  `regression_details`, `ReservoirSample` (at most 5,000 (actual, predicted) pairs, seeded).
* `baselines`: `baseline_binary_auc`, `baseline_multiclass_f1`, `baseline_regression_rmse`.
* `alerts`: `evaluation_alerts` and the distribution helpers.

Every function takes numpy-compatible arrays and returns plain Python values (JSON-ready, no
NaN). `mlcore.evaluate.evaluate_model` puts them together for a datasource.
"""

from __future__ import annotations

from mlcore.metrics.alerts import (
    categorical_distribution,
    distribution_from_statistics,
    evaluation_alerts,
    numeric_distribution,
)
from mlcore.metrics.baselines import (
    baseline_binary_auc,
    baseline_multiclass_f1,
    baseline_regression_rmse,
)
from mlcore.metrics.binary import (
    binary_auc,
    binary_details,
    roc_curve,
    score_counts,
    score_histograms,
    threshold_metrics,
    threshold_metrics_from_counts,
    threshold_table,
)
from mlcore.metrics.multiclass import (
    CellExamples,
    ConfusionMatrix,
    aml_confusion_matrix,
    confusion_matrix,
    macro_f1,
    multiclass_details,
    per_class_metrics,
    predicted_labels,
)
from mlcore.metrics.regression import (
    ReservoirSample,
    mean_absolute_error,
    r_squared,
    regression_details,
    residual_histogram,
    rmse,
)

__all__ = [
    "CellExamples",
    "ConfusionMatrix",
    "ReservoirSample",
    "aml_confusion_matrix",
    "baseline_binary_auc",
    "baseline_multiclass_f1",
    "baseline_regression_rmse",
    "binary_auc",
    "binary_details",
    "categorical_distribution",
    "confusion_matrix",
    "distribution_from_statistics",
    "evaluation_alerts",
    "macro_f1",
    "mean_absolute_error",
    "multiclass_details",
    "numeric_distribution",
    "per_class_metrics",
    "predicted_labels",
    "r_squared",
    "regression_details",
    "residual_histogram",
    "rmse",
    "roc_curve",
    "score_counts",
    "score_histograms",
    "threshold_metrics",
    "threshold_metrics_from_counts",
    "threshold_table",
]

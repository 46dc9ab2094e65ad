"""Baselines as AML defines them (reference 7.1): what a model that learned nothing scores.

* BINARY: AUC 0.5 (a random guesser).
* MULTICLASS: the macro F1 of always predicting the most frequent class **of the training data**,
  measured on the evaluation labels. Ten balanced classes give about 0.02: the predicted class has
  F1 = 2 * 0.1 * 1 / 1.1 ≈ 0.18, the other nine 0, and the mean is ≈ 0.018.
* REGRESSION: the RMSE of always predicting the **training** mean, on the evaluation targets.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from mlcore.metrics.multiclass import macro_f1
from mlcore.metrics.regression import rmse

BINARY_BASELINE_AUC = 0.5


def baseline_binary_auc() -> float:
    """The AUC of a random guesser.

    >>> baseline_binary_auc()
    0.5
    """
    return BINARY_BASELINE_AUC


def most_frequent_class(class_counts: Mapping[str, int]) -> str:
    """The most frequent class; on a tie the first in label order, so the answer is stable.

    >>> most_frequent_class({"b": 3, "a": 3, "c": 1})
    'a'
    """
    if not class_counts:
        raise ValueError("no training classes to choose the baseline class from")
    return min(class_counts, key=lambda label: (-class_counts[label], str(label)))


def baseline_multiclass_f1(
    training_class_counts: Mapping[str, int], evaluation_labels: npt.ArrayLike
) -> float:
    """Macro F1 on the evaluation labels of always predicting the training data's top class.

    >>> labels = [str(d) for d in range(10)] * 10
    >>> round(baseline_multiclass_f1({"3": 60, "4": 40}, labels), 3)
    0.018
    """
    truth = np.asarray(evaluation_labels).astype(str).ravel()
    constant = np.full(truth.size, most_frequent_class(training_class_counts))
    return macro_f1(truth, constant)


def baseline_regression_rmse(training_mean: float, evaluation_targets: npt.ArrayLike) -> float:
    """RMSE on the evaluation targets of always predicting the training mean.

    >>> baseline_regression_rmse(2.0, [1.0, 3.0])
    1.0
    """
    targets = np.asarray(evaluation_targets, dtype=np.float64).ravel()
    return rmse(targets, np.full(targets.size, float(training_mean)))

"""What a trained model learned, in words: its strongest features, per class for MULTICLASS."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from mlcore.train.model import TrainedModel

DEFAULT_TOP = 20


def model_insights(model: TrainedModel, top: int = DEFAULT_TOP) -> dict[str, Any]:
    """The features with the largest positive and negative weights, by output.

    Outputs are `"score"` for BINARY (log-odds of "1") and REGRESSION, and each class label for
    MULTICLASS. Weights multiply standardised numeric features and 0/1 indicators, so their sizes
    are comparable within a model.

    >>> insights = model_insights(model)                         # doctest: +SKIP
    >>> insights["top"]["score"]["positive"][0]                  # doctest: +SKIP
    {'feature': 'duration=[631,4918]', 'weight': 2.91}
    """
    names = list(model.fitted_recipe.feature_names)
    features = model.weights[:-1]
    outputs = model.classes if features.shape[1] > 1 else ["score"]
    return {
        "features": len(names),
        "top": {
            str(label): _strongest(names, features[:, column], top)
            for column, label in enumerate(outputs)
        },
        "intercept": [_finite(w) for w in model.weights[-1]],
        "history": [_finite(loss) for loss in model.history],
        "passes": model.passes,
        "converged": model.converged,
        "dropped_features": model.dropped_features,
        "records_used": model.records_used,
        "records_without_target": model.records_without_target,
    }


def _strongest(names: list[str], weights: np.ndarray, top: int) -> dict[str, list[dict[str, Any]]]:
    order = np.argsort(weights, kind="stable")
    positive = [i for i in order[::-1][:top] if weights[i] > 0]
    negative = [i for i in order[:top] if weights[i] < 0]
    return {
        "positive": [{"feature": names[i], "weight": _finite(weights[i])} for i in positive],
        "negative": [{"feature": names[i], "weight": _finite(weights[i])} for i in negative],
    }


def _finite(value: float) -> float | None:
    value = float(value)
    return round(value, 6) if math.isfinite(value) else None

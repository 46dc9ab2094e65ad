"""`TrainedModel`: everything scoring, evaluation and the model file need, as plain data."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlcore.schema.model import ModelType, Schema
from mlcore.train.parameters import TrainingParameters

BYTES_PER_WEIGHT = 8
DEFAULT_SCORE_THRESHOLD = 0.5


def estimated_model_size(feature_names: list[str], n_outputs: int) -> int:
    """AML-style model size: 8 bytes per weight (intercept included) plus the feature names.

    >>> estimated_model_size(["age", "job=admin."], 1)
    37
    """
    weights = BYTES_PER_WEIGHT * (len(feature_names) + 1) * n_outputs
    return weights + sum(len(name.encode("utf-8")) for name in feature_names)


@dataclass
class TrainedModel:
    """A trained linear model and how it came to be.

    `weights` is float64 (n_features + 1, k): one row per feature of `fitted_recipe` in order,
    the intercept last; k = 1 for BINARY (log-odds of "1") and REGRESSION, the number of classes
    for MULTICLASS (columns in `classes` order). `classes` is `["0", "1"]` for BINARY, the sorted
    labels for MULTICLASS, `[]` for REGRESSION.
    """

    model_type: ModelType
    schema: Schema
    recipe_text: str
    fitted_recipe: Any  # mlcore.recipes.FittedRecipe
    weights: np.ndarray
    classes: list[str]
    parameters: TrainingParameters
    score_threshold: float = DEFAULT_SCORE_THRESHOLD
    training_target_mean: float | None = None
    training_target_std: float | None = None
    training_class_counts: dict[str, int] | None = None
    history: list[float] = field(default_factory=list)
    records_used: int = 0
    records_without_target: int = 0
    passes: int = 0
    converged: bool = False
    dropped_features: int = 0
    #: the automatic regularization choice (`RegularizationChoice.to_json()`), when one was made
    regularization: dict[str, Any] | None = None
    created: float = field(default_factory=time.time)

    @property
    def n_features(self) -> int:
        return int(self.weights.shape[0] - 1)

    @property
    def size_in_bytes(self) -> int:
        return estimated_model_size(list(self.fitted_recipe.feature_names), self.weights.shape[1])

    @property
    def target(self) -> str | None:
        return self.schema.target

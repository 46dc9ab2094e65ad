"""Training: AML's parameters, the three losses, mini-batch AdaGrad SGD, the feature cache.

`train_model` (in `mlcore.train.pipeline`) runs the whole job from CSV files to a `TrainedModel`.
"""

from __future__ import annotations

from mlcore.train.losses import LogisticLoss, MultinomialLoss, SquaredLoss, loss_for
from mlcore.train.parameters import ParameterError, TrainingParameters
from mlcore.train.sgd import SGDConfig, SGDResult, fit_sgd

__all__ = [
    "LogisticLoss",
    "MultinomialLoss",
    "ParameterError",
    "SGDConfig",
    "SGDResult",
    "SquaredLoss",
    "TrainingParameters",
    "fit_sgd",
    "loss_for",
]

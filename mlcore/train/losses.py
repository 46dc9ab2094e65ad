"""The three losses AML trains with (reference section 6), as functions of the linear output.

Each loss takes the margins `z` (the model's linear output, shape (n, k)) and the targets `y`
(shape (n,)) and returns the per-row loss (n,) and its gradient with respect to `z` (n, k). SGD
chains that gradient through the sparse rows. All are numerically stable for any finite `z`.

* `LogisticLoss` (BINARY, k = 1): y in {0, 1}, p = sigmoid(z), loss = log(1 + e^z) - y z.
* `MultinomialLoss` (MULTICLASS, k classes): y = class index, softmax cross-entropy.
* `SquaredLoss` (REGRESSION, k = 1): loss = (z - y)^2 / 2.

>>> import numpy as np
>>> loss, grad = LogisticLoss().value_and_gradient(np.array([[0.0]]), np.array([1.0]))
>>> round(float(loss[0]), 6), float(grad[0, 0])
(0.693147, -0.5)
"""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Loss(Protocol):
    """What SGD needs from a loss."""

    name: str

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row loss (n,) and d loss / d z (n, k)."""
        ...

    def predict(self, z: np.ndarray) -> np.ndarray:
        """Scores from margins: probabilities of 1 (n,), class probabilities (n, k), values (n,)."""
        ...


def sigmoid(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z) without overflow for large |z|."""
    out = np.empty_like(z, dtype=np.float64)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so exp never overflows."""
    shifted = z - z.max(axis=1, keepdims=True)
    exp_z = np.exp(shifted)
    return exp_z / exp_z.sum(axis=1, keepdims=True)


class LogisticLoss:
    """Binary log loss; `z` has one column, `y` holds 0.0 or 1.0."""

    name = "logistic"

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        margin = z[:, 0]
        # log(1 + e^z) = max(z, 0) + log1p(e^-|z|): stable on both sides
        exp_minus_abs = np.exp(-np.abs(margin))
        loss = np.maximum(margin, 0.0) + np.log1p(exp_minus_abs) - y * margin
        # the sigmoid from the same exponential (exactly `sigmoid`'s two branches): one exp
        # per row instead of two, in SGD's inner loop
        probability = np.where(margin >= 0, 1.0, exp_minus_abs) / (1.0 + exp_minus_abs)
        return loss, (probability - y)[:, None]

    def predict(self, z: np.ndarray) -> np.ndarray:
        return sigmoid(z[:, 0])


class MultinomialLoss:
    """Softmax cross-entropy over `n_classes` columns; `y` holds class indices as floats."""

    name = "multinomial"

    def __init__(self, n_classes: int) -> None:
        self.n_classes = n_classes

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.arange(len(z))
        labels = y.astype(np.int64)
        shifted = z - z.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(shifted).sum(axis=1))
        loss = log_norm - shifted[rows, labels]
        gradient = np.exp(shifted - log_norm[:, None])
        gradient[rows, labels] -= 1.0
        return loss, gradient

    def predict(self, z: np.ndarray) -> np.ndarray:
        return softmax(z)


class SquaredLoss:
    """Half the squared error; `z` has one column."""

    name = "squared"

    def value_and_gradient(self, z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        residual = z[:, 0] - y
        return 0.5 * residual * residual, residual[:, None]

    def predict(self, z: np.ndarray) -> np.ndarray:
        return z[:, 0].astype(np.float64, copy=True)


def loss_for(model_type: str, n_classes: int = 2) -> Loss:
    """The loss AML uses for a model type: BINARY, MULTICLASS or REGRESSION."""
    if model_type == "BINARY":
        return LogisticLoss()
    if model_type == "MULTICLASS":
        return MultinomialLoss(n_classes)
    if model_type == "REGRESSION":
        return SquaredLoss()
    raise ValueError(f"unknown model type {model_type!r}")

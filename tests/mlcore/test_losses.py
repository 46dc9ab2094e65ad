"""The three losses: gradients checked by finite differences, stability at extreme margins."""

from __future__ import annotations

import numpy as np
import pytest

from mlcore.train.losses import (
    LogisticLoss,
    MultinomialLoss,
    SquaredLoss,
    loss_for,
    sigmoid,
    softmax,
)

STEP = 1e-6


def numeric_gradient(loss: object, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Central differences of the summed loss, one margin at a time."""
    gradient = np.zeros_like(z)
    for index in np.ndindex(*z.shape):
        up, down = z.copy(), z.copy()
        up[index] += STEP
        down[index] -= STEP
        gradient[index] = (
            loss.value_and_gradient(up, y)[0].sum() - loss.value_and_gradient(down, y)[0].sum()  # type: ignore[attr-defined]
        ) / (2 * STEP)
    return gradient


@pytest.mark.parametrize(
    ("loss", "z", "y"),
    [
        (
            LogisticLoss(),
            np.array([[-3.0], [-0.2], [0.0], [1.5], [4.0]]),
            np.array([0, 1, 1, 0, 1.0]),
        ),
        (SquaredLoss(), np.array([[-2.0], [0.3], [5.0]]), np.array([1.0, 0.3, -4.0])),
        (
            MultinomialLoss(4),
            np.random.default_rng(0).normal(size=(6, 4)) * 3,
            np.array([0, 1, 2, 3, 2, 0.0]),
        ),
    ],
    ids=["logistic", "squared", "multinomial"],
)
def test_each_loss_gradient_matches_finite_differences(
    loss: object, z: np.ndarray, y: np.ndarray
) -> None:
    _, analytic = loss.value_and_gradient(z, y)  # type: ignore[attr-defined]
    np.testing.assert_allclose(analytic, numeric_gradient(loss, z, y), rtol=1e-5, atol=1e-7)


def test_logistic_loss_is_finite_and_exact_at_huge_margins() -> None:
    z = np.array([[-800.0], [800.0], [-800.0], [800.0]])
    loss, gradient = LogisticLoss().value_and_gradient(z, np.array([0.0, 1.0, 1.0, 0.0]))
    np.testing.assert_allclose(loss, [0.0, 0.0, 800.0, 800.0])
    np.testing.assert_allclose(gradient[:, 0], [0.0, 0.0, -1.0, 1.0])


def test_multinomial_loss_is_finite_at_huge_margins_and_probabilities_sum_to_one() -> None:
    z = np.array([[1000.0, -1000.0, 0.0], [-500.0, 700.0, 699.0]])
    loss, gradient = MultinomialLoss(3).value_and_gradient(z, np.array([0.0, 2.0]))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(gradient))
    np.testing.assert_allclose(loss, [0.0, 1.0 + np.log1p(np.exp(-1.0))], atol=1e-12)
    np.testing.assert_allclose(softmax(z).sum(axis=1), 1.0)


def test_logistic_loss_matches_the_textbook_formula_at_moderate_margins() -> None:
    z = np.linspace(-5, 5, 11)[:, None]
    y = (np.arange(11) % 2).astype(float)
    p = 1 / (1 + np.exp(-z[:, 0]))
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(LogisticLoss().value_and_gradient(z, y)[0], expected)
    np.testing.assert_allclose(sigmoid(z[:, 0]), p)


def test_loss_for_picks_the_loss_of_each_model_type() -> None:
    assert isinstance(loss_for("BINARY"), LogisticLoss)
    assert loss_for("MULTICLASS", 7).n_classes == 7  # type: ignore[attr-defined]
    assert isinstance(loss_for("REGRESSION"), SquaredLoss)
    with pytest.raises(ValueError):
        loss_for("RANKING")

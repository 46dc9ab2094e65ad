"""The SGD core on sparse batches, checked against scikit-learn on the same data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import f1_score, mean_squared_error, roc_auc_score

from mlcore.features.sparse import SparseBatch
from mlcore.train.cache import FeatureCache
from mlcore.train.losses import LogisticLoss, MultinomialLoss, SquaredLoss
from mlcore.train.sgd import (
    SGDConfig,
    _scatter,
    _StepRows,
    auto_learning_rate,
    concatenate,
    fit_sgd,
    margins_of,
    mini_batches,
    row_slice,
    scatter_gradient,
)


def dense_batch(x: np.ndarray, y: np.ndarray) -> SparseBatch:
    """A dense matrix as CSR rows (every feature stored)."""
    n, d = x.shape
    return SparseBatch(
        np.arange(0, n * d + 1, d, dtype=np.int64),
        np.tile(np.arange(d, dtype=np.int32), n),
        x.ravel().astype(np.float32),
        y.astype(np.float64),
        d,
    )


def one_hot_batch(n: int, seed: int) -> SparseBatch:
    """Rows with 1-3 active one-hot features out of 50; the label depends on features 0-4."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 4, size=n)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    indices = rng.integers(0, 50, size=indptr[-1]).astype(np.int32)
    values = np.ones(indptr[-1], dtype=np.float32)
    row_of = np.repeat(np.arange(n), lengths)
    signal = np.bincount(row_of, weights=(indices < 5).astype(float), minlength=n)
    y = (signal + rng.normal(0, 0.3, n) > 0.5).astype(float)
    return SparseBatch(indptr, indices, values, y, 50)


def chunks_of(batch: SparseBatch, sizes: list[int]) -> list[SparseBatch]:
    bounds = np.cumsum([0, *sizes])
    return [row_slice(batch, int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


@pytest.fixture(scope="module")
def binary_problem() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(4000, 20, n_informative=8, random_state=0)


def test_binary_sgd_reaches_the_auc_of_sklearn_logistic_regression(
    binary_problem: tuple[np.ndarray, np.ndarray],
) -> None:
    x, y = binary_problem
    train, test = slice(0, 3000), slice(3000, None)
    result = fit_sgd([dense_batch(x[train], y[train])], 20, LogisticLoss(), SGDConfig())
    ours = roc_auc_score(y[test], margins_of(dense_batch(x[test], y[test]), result.weights)[:, 0])
    sklearn = roc_auc_score(
        y[test], LogisticRegression().fit(x[train], y[train]).decision_function(x[test])
    )
    assert ours >= sklearn - 0.005


def test_regression_sgd_reaches_the_rmse_of_sklearn_linear_regression() -> None:
    x, y = make_regression(4000, 20, n_informative=10, noise=10, random_state=0)
    y = 3 * y + 100  # off-centre and wide, so target scaling matters
    train, test = slice(0, 3000), slice(3000, None)
    config = SGDConfig(max_passes=30, tol=1e-4)
    result = fit_sgd([dense_batch(x[train], y[train])], 20, SquaredLoss(), config)
    ours = mean_squared_error(
        y[test], margins_of(dense_batch(x[test], y[test]), result.weights)[:, 0]
    )
    sklearn = mean_squared_error(
        y[test], LinearRegression().fit(x[train], y[train]).predict(x[test])
    )
    assert np.sqrt(ours) <= np.sqrt(sklearn) * 1.03


def test_multiclass_sgd_reaches_the_macro_f1_of_sklearn_logistic_regression() -> None:
    x, y = make_classification(4000, 20, n_informative=8, n_classes=4, random_state=0)
    train, test = slice(0, 3000), slice(3000, None)
    result = fit_sgd([dense_batch(x[train], y[train])], 20, MultinomialLoss(4), SGDConfig())
    predicted = margins_of(dense_batch(x[test], y[test]), result.weights).argmax(axis=1)
    sklearn = LogisticRegression().fit(x[train], y[train]).predict(x[test])
    assert f1_score(y[test], predicted, average="macro") >= (
        f1_score(y[test], sklearn, average="macro") - 0.02
    )


def test_sparse_one_hot_rows_learn_the_informative_features() -> None:
    batch = one_hot_batch(5000, seed=1)
    result = fit_sgd([batch], 50, LogisticLoss(), SGDConfig())
    weights = result.weights[:-1, 0]
    assert weights[:5].min() > weights[5:].max()


def test_l1_leaves_exact_zeros_on_noise_features() -> None:
    batch = one_hot_batch(5000, seed=2)
    result = fit_sgd([batch], 50, LogisticLoss(), SGDConfig(l1=0.02, l2=0.0))
    weights = result.weights[:-1, 0]
    assert np.count_nonzero(weights[5:] == 0.0) >= 30
    assert np.all(weights[:5] > 0)
    unregularised = fit_sgd([batch], 50, LogisticLoss(), SGDConfig(l2=0.0))
    assert np.count_nonzero(unregularised.weights[:-1, 0] == 0.0) == 0


def test_training_is_deterministic_for_a_seed_and_shuffling_depends_on_it() -> None:
    chunks = chunks_of(one_hot_batch(3000, seed=3), [1000, 700, 1300])
    config = SGDConfig(shuffle=True, seed=7, max_passes=3)
    first = fit_sgd(chunks, 50, LogisticLoss(), config)
    again = fit_sgd(chunks, 50, LogisticLoss(), config)
    other = fit_sgd(chunks, 50, LogisticLoss(), SGDConfig(shuffle=True, seed=8, max_passes=3))
    np.testing.assert_array_equal(first.weights, again.weights)
    assert first.history == again.history
    assert not np.array_equal(first.weights, other.weights)


def test_chunked_training_equals_in_memory_training(tmp_path: object) -> None:
    batch = one_hot_batch(3000, seed=4)
    config = SGDConfig(max_passes=4, batch_size=256, tol=0.0)
    whole = fit_sgd([batch], 50, LogisticLoss(), config)
    chunked = fit_sgd(chunks_of(batch, [1, 700, 255, 1044, 1000]), 50, LogisticLoss(), config)
    with FeatureCache(tmp_path) as cache:  # type: ignore[arg-type]
        for chunk in chunks_of(batch, [1500, 1, 1499]):
            cache.append(chunk)
        cached = fit_sgd(cache, 50, LogisticLoss(), config)
    np.testing.assert_array_equal(whole.weights, chunked.weights)
    np.testing.assert_array_equal(whole.weights, cached.weights)
    assert whole.history == chunked.history == cached.history


def test_early_stop_triggers_and_is_logged() -> None:
    batch = one_hot_batch(3000, seed=5)
    lines: list[str] = []
    progress: list[tuple[int, int, int, float]] = []
    result = fit_sgd(
        [batch],
        50,
        LogisticLoss(),
        SGDConfig(max_passes=200, tol=1e-3),
        log=lines.append,
        progress=lambda *args: progress.append(args),
    )
    assert result.converged and result.passes < 200
    assert lines[-1] == f"converged after {result.passes} passes (loss {result.history[-1]:.6g})"
    assert lines[0].startswith("learning rate ")
    assert [p[0] for p in progress] == list(range(1, result.passes + 1))
    assert progress[-1][1:3] == (200, 3000)


def test_without_tol_all_passes_run() -> None:
    result = fit_sgd([one_hot_batch(500, 6)], 50, LogisticLoss(), SGDConfig(max_passes=7, tol=0))
    assert result.passes == len(result.history) == 7 and not result.converged


def test_margins_handle_empty_rows_and_the_intercept() -> None:
    batch = SparseBatch(
        np.array([0, 0, 2, 2, 3]),
        np.array([0, 2, 1], dtype=np.int32),
        np.array([1.0, 2.0, 3.0], dtype=np.float32),
        np.zeros(4),
        3,
    )
    weights = np.array([[1.0, 0.0], [10.0, 1.0], [100.0, 2.0], [0.5, -1.0]])
    np.testing.assert_allclose(margins_of(batch, weights), batch.dot(weights[:-1]) + weights[-1])


def test_concatenate_and_row_slice_round_trip() -> None:
    batch = one_hot_batch(100, seed=9)
    joined = concatenate(chunks_of(batch, [10, 0, 90]))
    np.testing.assert_array_equal(joined.to_dense(), batch.to_dense())
    np.testing.assert_array_equal(joined.y, batch.y)


def test_feature_cache_deletes_its_files_when_closed(tmp_path: object) -> None:
    cache = FeatureCache(tmp_path)  # type: ignore[arg-type]
    cache.append(one_hot_batch(10, seed=0))
    assert cache.directory is not None
    assert len(cache) == 1 and cache.n_rows == 10 and cache.directory.exists()
    np.testing.assert_array_equal(cache[0].to_dense(), one_hot_batch(10, seed=0).to_dense())
    cache.close()
    assert not cache.directory.exists()


def test_the_in_memory_cache_trains_exactly_like_the_disk_cache(tmp_path: object) -> None:
    batch = one_hot_batch(3000, seed=4)
    config = SGDConfig(max_passes=3, shuffle=True, seed=1)
    results = []
    for in_memory in (False, True):
        with FeatureCache(tmp_path, in_memory=in_memory) as cache:  # type: ignore[arg-type]
            for chunk in chunks_of(batch, [1200, 1800]):
                cache.append(chunk)
            assert (cache.directory is None) == in_memory
            assert cache.n_rows == 3000 and cache.nnz == batch.nnz
            results.append(fit_sgd(cache, 50, LogisticLoss(), config))
    np.testing.assert_array_equal(results[0].weights, results[1].weights)
    assert list(tmp_path.iterdir()) == []  # type: ignore[attr-defined]


def fixed_width_batch(n: int, width: int, n_features: int, seed: int) -> SparseBatch:
    rng = np.random.default_rng(seed)
    indices = np.sort(rng.choice(n_features, size=(n, width)), axis=1).astype(np.int32)
    return SparseBatch(
        np.arange(n + 1, dtype=np.int64) * width,
        indices.ravel(),
        rng.normal(size=n * width).astype(np.float32),
        (rng.random(n) < 0.5).astype(np.float64),
        n_features,
    )


@pytest.mark.parametrize("k", [1, 3])
def test_the_fixed_width_step_computes_what_the_general_step_does(k: int) -> None:
    batch = fixed_width_batch(64, 5, 40, seed=k)
    weights = np.random.default_rng(0).normal(size=(41, k))
    gradient = np.random.default_rng(1).normal(size=(64, k))
    rows = _StepRows.of(batch)
    assert batch.row_width() == 5 and rows.row_of is None  # the fixed-width path
    row_of = np.repeat(np.arange(64), 5)
    np.testing.assert_allclose(rows.margins(weights), margins_of(batch, weights), rtol=1e-12)
    touched, sums = scatter_gradient(rows.flat_indices, rows.contributions(gradient), 40)
    expected_touched, expected_sums = _scatter(batch, gradient, row_of)
    np.testing.assert_array_equal(touched, expected_touched)
    np.testing.assert_allclose(sums, expected_sums, rtol=1e-12)


def test_rows_of_different_lengths_take_the_general_path() -> None:
    batch = one_hot_batch(50, seed=3)
    assert batch.row_width() == 0 and _StepRows.of(batch).row_of is not None


def test_shuffledmini_batches_are_the_shuffled_chunk_cut_in_order() -> None:
    batch = fixed_width_batch(100, 3, 20, seed=5)
    chunks = chunks_of(batch, [30, 70])
    config = SGDConfig(shuffle=True, batch_size=16, seed=4)
    got = concatenate(list(mini_batches(chunks, config, np.random.default_rng(4))))
    rng = np.random.default_rng(4)
    order = rng.permutation(2)
    expected = concatenate(
        [chunks[i].take(rng.permutation(len(chunks[i]))) for i in order.tolist()]
    )
    for name in ("indptr", "indices", "values", "y"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))


def test_both_gradient_scatters_agree() -> None:
    narrow = one_hot_batch(200, seed=11)
    wide = SparseBatch(narrow.indptr, narrow.indices, narrow.values, narrow.y, 10**6)
    gradient = np.random.default_rng(0).normal(size=(200, 3))
    row_of = np.repeat(np.arange(200), np.diff(narrow.indptr))
    touched_narrow, sums_narrow = _scatter(narrow, gradient, row_of)  # bincount
    touched_wide, sums_wide = _scatter(wide, gradient, row_of)  # sort and reduceat
    np.testing.assert_array_equal(touched_narrow, touched_wide)
    np.testing.assert_allclose(sums_narrow, sums_wide, rtol=1e-12)
    dense = narrow.to_dense().T @ gradient
    np.testing.assert_allclose(sums_narrow, dense[touched_narrow], rtol=1e-12)


def test_the_automatic_learning_rate_shrinks_with_longer_rows() -> None:
    narrow = one_hot_batch(100, seed=12)  # 2 values per row on average
    wide = dense_batch(np.ones((10, 100)), np.zeros(10))
    assert auto_learning_rate([narrow]) == 1.0  # capped
    assert auto_learning_rate([wide]) == pytest.approx(0.05)


def test_taking_fixed_width_rows_equals_the_general_gather() -> None:
    batch = fixed_width_batch(40, 4, 30, seed=6)
    tail = row_slice(batch, 7, 40)  # a slice whose indptr does not start at 0
    order = np.random.default_rng(0).permutation(len(tail))
    taken = tail.take(order)
    assert taken.row_width() == 4
    np.testing.assert_array_equal(taken.indptr, np.arange(len(tail) + 1) * 4)
    np.testing.assert_array_equal(taken.to_dense(), tail.to_dense()[order])
    np.testing.assert_array_equal(taken.y, tail.y[order])

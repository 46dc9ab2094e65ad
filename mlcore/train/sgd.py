"""Mini-batch SGD with per-coordinate AdaGrad rates over sparse rows, numpy only.

`fit_sgd(chunks, n_features, loss, config)` trains a linear model on a sequence of `SparseBatch`
chunks (a list in memory, or a `FeatureCache` on disk), so memory is bounded by the model and one
chunk, never by the data. Chunks are re-cut into mini-batches of `config.batch_size` rows across
chunk boundaries, so without shuffling the same rows in the same order give the same model
however they are chunked.

Each mini-batch is one vectorised step:

1. margins z = X w + b (a gather and a segmented sum over the CSR rows);
2. the loss's gradient with respect to z, averaged over the rows;
3. the gradient of each touched coordinate: `np.bincount` when the model has few features,
   else sorting the batch's feature indices and summing segments (`np.add.reduceat`), so a
   model with millions of features does not pay O(n_features) per mini-batch;
4. AdaGrad: each coordinate's step is `learning_rate / sqrt(sum of its squared gradients)`,
   which gives rare one-hot features large steps and frequent ones small steps;
5. L2 as weight decay on the touched coordinates, or L1 as a proximal (soft-threshold) step on
   them, which leaves exact zeros. The intercept is never regularised.

Two choices make small data train as well as large data (see `SGDConfig`): the mini-batch size
follows the row count (`auto_batch_size`: at least 64 steps per pass, 8 to 512 rows), and the
model returned is the average of the iterates from the second pass on (averaged SGD), not the
last, noisy iterate. With `sgd.shuffleType=auto`, a chunk's rows are permuted anew each pass
and each mini-batch gathers its rows from the chunk (`SparseBatch.take`, a block gather when
every row stores the same number of values). Fixed-width mini-batches take a faster step
(`_StepRows`): margins are row-wise dot products of (rows, width) blocks.

Weights are stored as one (n_features + 1, k) array whose last row is the intercept.

>>> import numpy as np
>>> from mlcore.features.sparse import SparseBatch
>>> from mlcore.train.losses import LogisticLoss
>>> x = SparseBatch(np.array([0, 1, 2]), np.array([0, 1], np.int32),
...                 np.array([1.0, 1.0], np.float32), np.array([1.0, 0.0]), 2)
>>> result = fit_sgd([x], 2, LogisticLoss(), SGDConfig(max_passes=50))
>>> bool(result.weights[0, 0] > 0 > result.weights[1, 0])
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from mlcore.features.sparse import SparseBatch
from mlcore.train.losses import LogisticLoss, Loss, MultinomialLoss, SquaredLoss

ProgressCallback = Callable[[int, int, int, float], None]
LogCallback = Callable[[str], None]

ADAGRAD_EPSILON = 1e-8
# the automatic mini-batch size: at least this many steps per pass, rows per batch in this range
MIN_STEPS_PER_PASS = 64
MIN_AUTO_BATCH = 8
MAX_AUTO_BATCH = 512
# below this many features per stored value, scatter gradients with bincount (see _scatter)
BINCOUNT_FEATURES_PER_NONZERO = 8
AUTO_RATE_SCALE = 5.0
MAX_AUTO_RATE = 1.0


@dataclass(frozen=True)
class SGDConfig:
    """The optimiser's settings.

    Parameters
    ----------
    max_passes : int, default 10
        Passes over the data, >= 1; fewer when the loss stops improving (see `tol`).
    shuffle : bool, default False
        Visit the chunks in a random order and shuffle the rows inside each chunk, anew each
        pass (seeded by `seed`), as `sgd.shuffleType=auto` asks.
    l1, l2 : float, default 0.0 and 1e-6
        Regularisation amounts (>= 0, at most one non-zero): the objective is the mean loss
        plus `l1 * |w|_1` or `l2 / 2 * |w|^2` (sklearn's SGD convention).
    batch_size : int, optional
        Rows per mini-batch, >= 1. By default it follows the data (`auto_batch_size`): 512 rows
        for large data, fewer for small data so that a pass takes at least
        `MIN_STEPS_PER_PASS` steps. With 512-row batches a 1,122-row training set (wine quality)
        got 3 steps per pass, 30 in 10 passes, far from the optimum.
    average : bool, default True
        Return the average of the iterates from the start of the second pass on (averaged SGD,
        Polyak-Ruppert), rather than the last iterate. The last iterate of SGD jitters around
        the optimum by about the step size; the average does not, which matters most on small
        data where a pass is a few hundred noisy steps (wine quality regression on the suggested
        recipe, held-out RMSE: 0.809 -> 0.669 with the automatic batch size, 0.748 -> 0.696
        with 512-row batches; banking AUC 0.9432 -> 0.9441). Averaging is lazy (a coordinate's running sum is brought up to date only when
        the coordinate is touched), so it costs O(touched coordinates) per step and one more
        weight-sized array. With one pass there is nothing to average. Not with L1: L1 is
        asked for exact zeros, and an average is zero only where every iterate was.
    learning_rate : float, optional
        AdaGrad's base step (> 0). By default it is chosen from the data, as AML does:
        `AUTO_RATE_SCALE / (mean stored values per row)`, at most 1. AdaGrad's first step moves
        every touched weight by about the base step, so the first change of a row's margin is
        about base step x its stored values; keeping that product near 5 suits both
        banking-like rows (20-30 one-hot values, rate ~0.2) and MNIST-like rows (784 values).
    tol : float, default 1e-3
        Stop when a pass improves the mean loss by less than this fraction of the previous
        pass's; 0 disables early stopping.
    seed : int, default 0
        Seeds the shuffling; training is deterministic for a seed.
    """

    max_passes: int = 10
    shuffle: bool = False
    l1: float = 0.0
    l2: float = 1e-6
    batch_size: int | None = None
    average: bool = True
    learning_rate: float | None = None
    tol: float = 1e-3
    seed: int = 0

    def __post_init__(self) -> None:
        if self.max_passes < 1:
            raise ValueError("max_passes must be >= 1")
        if self.l1 < 0 or self.l2 < 0 or (self.l1 > 0 and self.l2 > 0):
            raise ValueError("l1 and l2 must be >= 0 and not both positive")
        if (
            (self.batch_size is not None and self.batch_size < 1)
            or (self.learning_rate or 1.0) <= 0
            or self.tol < 0
        ):
            raise ValueError("batch_size >= 1, learning_rate > 0 and tol >= 0 are required")


@dataclass
class SGDResult:
    """What training produced. `weights` is (n_features + 1, k), the intercept in the last row."""

    weights: np.ndarray
    history: list[float] = field(default_factory=list)
    passes: int = 0
    converged: bool = False
    records: int = 0


@dataclass
class TargetSummary:
    """What SGD needs to know about the target before the first step.

    `mean`/`std` scale a regression target to unit variance (the model is unscaled afterwards);
    `class_counts` start the intercept at the log prior, so early passes do not waste steps
    learning the base rate.
    """

    mean: float = 0.0
    std: float = 1.0
    class_counts: np.ndarray | None = None


def summarize_target(chunks: Sequence[SparseBatch], loss: Loss) -> TargetSummary:
    """One pass over the targets (used when the caller has not counted them already)."""
    count, total, squares = 0, 0.0, 0.0
    n_classes = n_outputs(loss) if isinstance(loss, MultinomialLoss) else 2
    counts = np.zeros(n_classes, dtype=np.int64)
    for chunk in _iterate(chunks):
        y = chunk.y
        count += len(y)
        total += float(y.sum())
        squares += float((y * y).sum())
        if not isinstance(loss, SquaredLoss):
            counts += np.bincount(y.astype(np.int64), minlength=n_classes)[:n_classes]
    if isinstance(loss, SquaredLoss):
        mean = total / count if count else 0.0
        variance = squares / count - mean * mean if count else 1.0
        return TargetSummary(mean=mean, std=float(np.sqrt(max(variance, 0.0))) or 1.0)
    return TargetSummary(class_counts=counts)


def fit_sgd(
    chunks: Sequence[SparseBatch],
    n_features: int,
    loss: Loss,
    config: SGDConfig | None = None,
    *,
    target: TargetSummary | None = None,
    progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
) -> SGDResult:
    """Train a linear model on `chunks` (re-read once per pass) and return its weights.

    Parameters
    ----------
    chunks : sequence of SparseBatch
        Anything with `len()` and indexing: a list, or a `FeatureCache`. Rows whose target is
        NaN must have been left out upstream.
    n_features : int
        Width of the rows; the model has `n_features + 1` rows of weights.
    loss : Loss
        `LogisticLoss`, `MultinomialLoss(k)` or `SquaredLoss`.
    config : SGDConfig, optional
        Defaults to `SGDConfig()`.
    target : TargetSummary, optional
        Computed with one extra pass when not given.
    progress : callable, optional
        `progress(pass_k, max_passes, records, loss)` after each pass (pass_k from 1).
    log : callable, optional
        Receives one line per notable event (convergence).
    """
    config = config or SGDConfig()
    target = target or summarize_target(chunks, loss)
    rate = config.learning_rate
    if rate is None:
        rate = auto_learning_rate(chunks)
        if log is not None:
            log(f"learning rate {rate:.4g} (chosen from the mean values per row)")
    state = _State.start(n_features, n_outputs(loss), loss, target, rate)
    if config.batch_size is None:
        config = replace(config, batch_size=auto_batch_size(chunks))
    rng = np.random.default_rng(config.seed)
    result = SGDResult(weights=state.weights)
    for pass_k in range(1, config.max_passes + 1):
        if pass_k == 2 and config.average and config.l1 == 0:
            state.start_averaging()
        records, total_loss = 0, 0.0
        for batch in mini_batches(chunks, config, rng):
            total_loss += state.step(batch, loss, config)
            records += len(batch)
        mean_loss = total_loss / records * target.std**2 if records else 0.0
        result.history.append(mean_loss)
        result.passes, result.records = pass_k, records
        if progress is not None:
            progress(pass_k, config.max_passes, records, mean_loss)
        if _converged(result.history, config.tol):
            result.converged = True
            if log is not None:
                log(f"converged after {pass_k} passes (loss {mean_loss:.6g})")
            break
    result.weights = state.unscaled(target)
    return result


def auto_batch_size(chunks: Sequence[SparseBatch]) -> int:
    """Rows per mini-batch: `rows / MIN_STEPS_PER_PASS`, within [MIN_AUTO_BATCH, MAX_AUTO_BATCH].

    >>> from mlcore.features.sparse import SparseBatch
    >>> def rows(n):
    ...     return [SparseBatch(np.zeros(n + 1, np.int64), np.zeros(0, np.int32),
    ...                         np.zeros(0, np.float32), np.zeros(n), 1)]
    >>> auto_batch_size(rows(100)), auto_batch_size(rows(3_500)), auto_batch_size(rows(10**6))
    (8, 55, 512)
    """
    rows = getattr(chunks, "n_rows", None)
    if rows is None:
        rows = sum(len(chunk) for chunk in _iterate(chunks))
    return int(min(MAX_AUTO_BATCH, max(MIN_AUTO_BATCH, -(-rows // MIN_STEPS_PER_PASS))))


def auto_learning_rate(chunks: Sequence[SparseBatch]) -> float:
    """`AUTO_RATE_SCALE / mean stored values per row`, at most `MAX_AUTO_RATE`.

    Uses the `nnz` and `n_rows` totals of a `FeatureCache` when present, else reads the chunks.
    """
    nnz, rows = getattr(chunks, "nnz", None), getattr(chunks, "n_rows", None)
    if nnz is None or rows is None:
        nnz = rows = 0
        for chunk in _iterate(chunks):
            nnz, rows = nnz + chunk.nnz, rows + len(chunk)
    per_row = max(nnz / rows, 1.0) if rows else 1.0
    return min(AUTO_RATE_SCALE / per_row, MAX_AUTO_RATE)


def _converged(history: list[float], tol: float) -> bool:
    if tol <= 0 or len(history) < 2:
        return False
    previous, current = history[-2], history[-1]
    return previous - current < tol * max(abs(previous), 1e-12)


def n_outputs(loss: Loss) -> int:
    return loss.n_classes if isinstance(loss, MultinomialLoss) else 1


# -- the inner loop -------------------------------------------------------------------------


@dataclass
class _State:
    """Weights (intercept last) and AdaGrad's running sums of squared gradients."""

    weights: np.ndarray
    squared_sums: np.ndarray
    target: TargetSummary
    rate: float
    # lazy averaging: running sums of the iterates, the step each coordinate's sum is up to
    # (the value since then is weights[c]), and the steps taken since averaging began
    sums: np.ndarray | None = None
    since: np.ndarray | None = None
    steps: int = 0

    # side-by-side copies of the model (one per L2 amount of `mlcore.train.regularization`),
    # each `k` columns wide; every copy sees the same mini-batches
    copies: int = 1
    l2_columns: np.ndarray | None = None

    @classmethod
    def start(
        cls,
        n_features: int,
        k: int,
        loss: Loss,
        target: TargetSummary,
        rate: float,
        *,
        l2_amounts: Sequence[float] | None = None,
    ) -> _State:
        """A fresh model; with `l2_amounts`, one copy per amount, side by side in the columns."""
        copies = len(l2_amounts) if l2_amounts is not None else 1
        weights = np.zeros((n_features + 1, k * copies), dtype=np.float64)
        weights[-1] = np.tile(_initial_intercept(loss, target, k), copies)
        l2_columns = None if l2_amounts is None else np.repeat(np.asarray(l2_amounts, float), k)
        return cls(
            weights, np.zeros_like(weights), target, rate, copies=copies, l2_columns=l2_columns
        )

    def keep_copies(self, copies: Sequence[int]) -> None:
        """Go on with only these copies (by their column position), dropping the others."""
        k = self.weights.shape[1] // self.copies
        columns = np.concatenate([np.arange(c * k, (c + 1) * k) for c in copies])
        self.weights = np.ascontiguousarray(self.weights[:, columns])
        self.squared_sums = np.ascontiguousarray(self.squared_sums[:, columns])
        if self.sums is not None:
            self.sums = np.ascontiguousarray(self.sums[:, columns])
        if self.l2_columns is not None:
            self.l2_columns = self.l2_columns[columns]
        self.copies = len(copies)

    def start_averaging(self) -> None:
        self.sums = np.zeros_like(self.weights)
        # the weights before the first averaged step count from step 1 on
        self.since = np.ones(len(self.weights), dtype=np.int64)
        self.steps = 0

    def _before_update(self, rows: np.ndarray | slice) -> None:
        """Add the coordinates' current values to their sums for every step they held them."""
        if self.sums is None or self.since is None:
            return
        held = (self.steps - self.since[rows]).astype(np.float64)
        self.sums[rows] += self.weights[rows] * held[..., None]
        self.since[rows] = self.steps

    def averaged(self) -> np.ndarray:
        """The mean of the iterates after each step since averaging began (or the last one)."""
        if self.sums is None or self.since is None or self.steps == 0:
            return self.weights
        held = (self.steps - self.since + 1).astype(np.float64)  # through the last step
        return (self.sums + self.weights * held[:, None]) / self.steps

    def step(self, batch: SparseBatch, loss: Loss, config: SGDConfig) -> float:
        """One AdaGrad step on a mini-batch; returns the batch's summed loss before the step."""
        return float(self.step_copies(batch, loss, config).sum())

    def step_copies(self, batch: SparseBatch, loss: Loss, config: SGDConfig) -> np.ndarray:
        """One AdaGrad step of every copy; returns each copy's summed loss before the step."""
        n_rows = len(batch)
        if self.sums is not None:
            self.steps += 1  # the iterate after this step counts once
        rows = _StepRows.of(batch)
        losses, gradient = copies_loss(
            loss, rows.margins(self.weights), scaled_target(batch.y, loss, self.target), self.copies
        )
        gradient /= n_rows
        touched, coordinate_gradient = scatter_gradient(
            rows.flat_indices, rows.contributions(gradient), batch.n_features
        )
        if self.l2_columns is not None:
            coordinate_gradient += self.l2_columns * self.weights[touched]
        elif config.l2 > 0:
            coordinate_gradient += config.l2 * self.weights[touched]
        self._adagrad(touched, coordinate_gradient, config)
        self._adagrad_intercept(gradient.sum(axis=0), config)
        return losses.sum(axis=0)

    def _adagrad(self, touched: np.ndarray, gradient: np.ndarray, config: SGDConfig) -> None:
        sums = self.squared_sums[touched] + gradient * gradient
        self.squared_sums[touched] = sums
        self._before_update(touched)
        rates = self.rate / (np.sqrt(sums) + ADAGRAD_EPSILON)
        updated = self.weights[touched] - rates * gradient
        if config.l1 > 0:
            # proximal step for l1 * |w|: soft-threshold by the coordinate's own step size
            updated = np.sign(updated) * np.maximum(np.abs(updated) - rates * config.l1, 0.0)
        self.weights[touched] = updated

    def _adagrad_intercept(self, gradient: np.ndarray, config: SGDConfig) -> None:
        self.squared_sums[-1] += gradient * gradient
        self._before_update(slice(len(self.weights) - 1, None))
        self.weights[-1] -= (
            self.rate * gradient / (np.sqrt(self.squared_sums[-1]) + ADAGRAD_EPSILON)
        )

    def unscaled(self, target: TargetSummary) -> np.ndarray:
        """Weights on the target's own scale (regression trains on a standardised target)."""
        weights = self.averaged() * target.std
        weights[-1] += target.mean
        return weights


def scaled_target(y: np.ndarray, loss: Loss, target: TargetSummary) -> np.ndarray:
    """The target as SGD sees it: standardised for regression, as it is otherwise."""
    if isinstance(loss, SquaredLoss):
        return (y - target.mean) / target.std
    return y


def copies_loss(
    loss: Loss, margins: np.ndarray, y: np.ndarray, copies: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each copy's per-row loss (n, copies) and the gradient (n, copies * k) of the margins.

    The copies' columns sit side by side, so the margins reshape to one row per (row, copy)
    without a copy of the data, and the loss sees them as that many rows.
    """
    if copies == 1:
        losses, gradient = loss.value_and_gradient(margins, y)
        return losses[:, None], gradient
    n_rows, width = margins.shape
    stacked = margins.reshape(n_rows * copies, width // copies)
    losses, gradient = loss.value_and_gradient(stacked, np.repeat(y, copies))
    return losses.reshape(n_rows, copies), gradient.reshape(n_rows, width)


def _initial_intercept(loss: Loss, target: TargetSummary, k: int) -> np.ndarray:
    if isinstance(loss, SquaredLoss) or target.class_counts is None:
        return np.zeros(k)
    counts = target.class_counts.astype(np.float64) + 0.5  # smoothed, so no log(0)
    if isinstance(loss, LogisticLoss):
        return np.array([np.log(counts[1] / counts[0])])
    log_prior = np.log(counts / counts.sum())
    return log_prior - log_prior.mean()


@dataclass
class _StepRows:
    """A mini-batch in the form its step needs: fixed-width blocks when it has them.

    Fixed-width rows (the common case: one value per categorical, bin and numeric output) are
    an (n_rows, width) block of indices and one of values, so a margin is a plain row-wise dot
    product (`np.einsum`) and no per-value row index is built; that makes a banking step about
    1.6x faster than the general CSR path, which handles rows of any length.
    """

    batch: SparseBatch
    indices: np.ndarray  # (n_rows, width) intp when fixed-width, else the CSR indices
    values: np.ndarray  # (n_rows, width) when fixed-width, else the CSR values
    row_of: np.ndarray | None  # the row of each stored value (general path only)

    @classmethod
    def of(cls, batch: SparseBatch) -> _StepRows:
        width = batch.row_width()
        if width:
            n_rows, low, high = len(batch), int(batch.indptr[0]), int(batch.indptr[-1])
            return cls(
                batch,
                batch.indices[low:high].reshape(n_rows, width).astype(np.intp),
                batch.values[low:high].reshape(n_rows, width),
                None,
            )
        row_of = np.repeat(np.arange(len(batch)), np.diff(batch.indptr))
        return cls(batch, batch.indices, batch.values, row_of)

    @property
    def flat_indices(self) -> np.ndarray:
        return self.indices.ravel() if self.row_of is None else self.indices

    def margins(self, weights: np.ndarray) -> np.ndarray:
        """z = X W[:-1] + W[-1], shape (n_rows, k)."""
        if self.row_of is not None:
            return margins_of(self.batch, weights, self.row_of)
        if weights.shape[1] == 1:
            column = weights[:, 0]
            dots = np.einsum("ij,ij->i", self.values, column.take(self.indices))
            return (dots + column[-1])[:, None]
        return np.einsum("ij,ijk->ik", self.values, weights[self.indices]) + weights[-1]

    def contributions(self, gradient: np.ndarray) -> np.ndarray:
        """Each stored value times its row's gradient: (nnz, k), in stored order."""
        k = gradient.shape[1]
        if self.row_of is not None:
            return self.values[:, None].astype(np.float64) * gradient[self.row_of]
        if k == 1:
            return (self.values * gradient).reshape(-1, 1)
        return (self.values[:, :, None] * gradient[:, None, :]).reshape(-1, k)


def margins_of(
    batch: SparseBatch, weights: np.ndarray, row_of: np.ndarray | None = None
) -> np.ndarray:
    """z = X W[:-1] + W[-1] for every row: shape (n_rows, k).

    A segmented sum with `np.add.reduceat` (exact and much faster than `np.add.at`); empty rows
    need care because reduceat returns the element at the index instead of zero for them.
    """
    n_rows, k = len(batch), weights.shape[1]
    out = np.zeros((n_rows, k), dtype=np.float64)
    if batch.nnz:
        products = batch.values[:, None].astype(np.float64) * weights[batch.indices]
        starts = batch.indptr[:-1]
        nonempty = starts < batch.indptr[1:]
        out[nonempty] = np.add.reduceat(products, starts[nonempty], axis=0)
    out += weights[-1]
    return out


def _scatter(
    batch: SparseBatch, gradient: np.ndarray, row_of: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`scatter_gradient` of a CSR batch whose rows have the gradients `gradient` (n_rows, k)."""
    contributions = batch.values[:, None].astype(np.float64) * gradient[row_of]
    return scatter_gradient(batch.indices, contributions, batch.n_features)


def scatter_gradient(
    indices: np.ndarray, contributions: np.ndarray, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """The touched feature indices (sorted, unique) and the summed contributions of each.

    `contributions` (nnz, k) belong to the features `indices` (nnz,). Two exact ways, chosen by
    size so neither dominates a pass: with few features, `bincount` over all of them
    (O(nnz + n_features)); with many, sorting the indices and summing segments
    (O(nnz log nnz)), so a million-feature model does not pay per feature per batch.
    """
    nnz, k = contributions.shape
    if nnz == 0:
        return np.zeros(0, dtype=np.int64), np.zeros((0, k))
    if n_features <= BINCOUNT_FEATURES_PER_NONZERO * nnz:
        indices = indices.astype(np.intp, copy=False)  # bincount would convert on each call
        touched = np.flatnonzero(np.bincount(indices, minlength=n_features))
        if k == 1:
            sums = np.bincount(indices, weights=contributions[:, 0], minlength=n_features)
            return touched, sums[touched][:, None]
        slots = (indices[:, None] * k + np.arange(k)).ravel()
        sums = np.bincount(slots, weights=contributions.ravel(), minlength=n_features * k)
        return touched, sums.reshape(n_features, k)[touched]
    order = np.argsort(indices)
    sorted_indices = indices[order]
    starts = np.flatnonzero(np.r_[True, sorted_indices[1:] != sorted_indices[:-1]])
    return sorted_indices[starts].astype(np.int64), np.add.reduceat(
        contributions[order], starts, axis=0
    )


# -- feeding mini-batches ---------------------------------------------------------------------


def _iterate(chunks: Sequence[SparseBatch]) -> Iterator[SparseBatch]:
    for position in range(len(chunks)):
        yield chunks[position]


def mini_batches(
    chunks: Sequence[SparseBatch], config: SGDConfig, rng: np.random.Generator
) -> Iterator[SparseBatch]:
    """Cut the chunks (in pass order, rows shuffled if asked) into `batch_size`-row batches.

    A batch may straddle two chunks, so mini-batches depend only on the row order, not on
    where the chunk boundaries fall. A shuffled chunk is not copied in its new order: each
    mini-batch gathers its own rows (`SparseBatch.take`), which gives the same batches and
    touches each row once instead of twice.
    """
    assert config.batch_size is not None
    size = config.batch_size
    order = rng.permutation(len(chunks)) if config.shuffle else range(len(chunks))
    leftover: SparseBatch | None = None
    for position in order:
        chunk = chunks[int(position)]
        rows = rng.permutation(len(chunk)) if config.shuffle else None
        start = 0
        if leftover is not None:
            start = min(size - len(leftover), len(chunk))
            leftover = concatenate([leftover, _rows_in_order(chunk, rows, 0, start)])
            if len(leftover) < size:
                continue
            yield leftover
            leftover = None
        while start + size <= len(chunk):
            yield _rows_in_order(chunk, rows, start, start + size)
            start += size
        if start < len(chunk):
            leftover = _rows_in_order(chunk, rows, start, len(chunk))
    if leftover is not None and len(leftover):
        yield leftover


def _rows_in_order(
    chunk: SparseBatch, order: np.ndarray | None, start: int, stop: int
) -> SparseBatch:
    """Rows start..stop-1 of the chunk in pass order: a view, or a gather when shuffled."""
    if order is None:
        return row_slice(chunk, start, stop)
    return chunk.take(order[start:stop])


def shuffled_rows(batch: SparseBatch, order: np.ndarray) -> SparseBatch:
    """`batch.take(order)` (kept as a name: fixed-width rows are gathered as whole blocks)."""
    return batch.take(order)


def row_slice(batch: SparseBatch, start: int, stop: int) -> SparseBatch:
    """Rows start..stop-1 as views of the batch's arrays (no copy)."""
    low, high = int(batch.indptr[start]), int(batch.indptr[stop])
    sliced = SparseBatch(
        batch.indptr[start : stop + 1] - low,
        batch.indices[low:high],
        batch.values[low:high],
        batch.y[start:stop],
        batch.n_features,
    )
    width = batch.row_width()  # worked out once per chunk, inherited by its slices
    return sliced.known_width(width) if width and stop > start else sliced


def concatenate(batches: Sequence[SparseBatch]) -> SparseBatch:
    """The rows of several batches, one after the other."""
    offsets = np.cumsum([0] + [batch.nnz for batch in batches[:-1]])
    indptr = np.concatenate(
        [np.zeros(1, dtype=np.int64)]
        + [batch.indptr[1:] + offset for batch, offset in zip(batches, offsets, strict=True)]
    )
    return SparseBatch(
        indptr.astype(np.int64),
        np.concatenate([batch.indices for batch in batches]),
        np.concatenate([batch.values for batch in batches]),
        np.concatenate([batch.y for batch in batches]),
        batches[0].n_features,
    )

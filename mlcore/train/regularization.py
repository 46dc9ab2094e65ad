"""Automatic regularization and stopping: the L2 amount and the passes chosen on held-out records.

When the caller sets neither `sgd.l1RegularizationAmount` nor `sgd.l2RegularizationAmount`, the
trainer chooses them, so that a model of a few hundred records is held back as much as it needs
and a model of millions is not held back at all:

1. **A held-out slice.** About `HELD_OUT_FRACTION` of the training records (at least
   `MIN_HELD_OUT` where the data allows, at most `MAX_HELD_OUT`) are set aside while encoding,
   chosen by a hash of their position (`held_out_rows`): deterministic, independent of the
   chunking, and spread evenly over a file sorted by anything.
2. **A grid of L2 amounts, trained side by side.** The amounts are `GRID_STRENGTHS / n`
   for n training records (`l2_grid`): in scikit-learn's terms C from 100 down to 0.001,
   the range `LogisticRegressionCV` searches. All copies of the model train in the same
   passes over the cache, as the columns of one weight matrix (`SGDState(l2_amounts=...)`),
   so each pass reads the data once for the whole grid and every copy sees the same
   mini-batches; a pass costs about as much as one pass of a model with that many outputs.
3. **Held-out loss after every pass**, for every amount, on the averaged weights SGD would
   return. The best (amount, pass) so far is kept; passes stop when it has not improved for
   `PATIENCE` passes, or at `sgd.maxPasses`.
4. **A refit on every record** (training and held-out) with the chosen amount for the chosen
   number of passes, so no record is lost to the choice; the choice itself is final.

Why a side-by-side grid rather than warm-starting amounts one after the other: warm starts
share little work once SGD's per-coordinate rates have decayed, and the sequence would need
`len(grid)` times the passes; side by side, the grid costs a wider step, not more reads.

>>> l2_grid(1_000)
[1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0]
>>> held_out_rows(0, 10, 0.5).tolist()
[False, True, False, True, True, False, True, False, False, True]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from mlcore.features.sparse import SparseBatch
from mlcore.train.exact import MAX_ITERATIONS, Objective, is_small, joined, solve
from mlcore.train.losses import Loss, MultinomialLoss, SquaredLoss
from mlcore.train.parameters import DEFAULT_PASSES
from mlcore.train.sgd import (
    LogCallback,
    ProgressCallback,
    SGDConfig,
    SGDResult,
    TargetSummary,
    auto_batch_size,
    auto_learning_rate,
    copies_loss,
    fit_sgd,
    margins_of,
    mini_batches,
    n_outputs,
    scaled_target,
)
from mlcore.train.sgd import _State as SGDState

HELD_OUT_FRACTION = 0.1
#: the held-out slice grows to this many records where the data allows (up to a quarter)
MIN_HELD_OUT = 30
MAX_HELD_OUT_SHARE = 0.25
#: enough records to rank the amounts; a larger slice would only cost memory
MAX_HELD_OUT = 50_000
#: above this many training records the amounts are compared on a sample of this many, and the
#: model is then trained once on all of them with the kept strength (`_sample_then_train`)
SEARCH_MAX_RECORDS = 10_000
#: ... and on a sample of at most this many stored values (wide rows: MNIST's 784 pixels make a
#: side-by-side step of 6 amounts x 10 classes cost 60 models' worth)
SEARCH_MAX_VALUES = 2_000_000
_SAMPLE_OFFSET = 1 << 40
#: passes of the comparison on the sample (the ranking of the amounts settles within a few)
SAMPLE_SEARCH_PASSES = 5
#: with fewer held-out records than this the choice is noise: the middle of the grid is used
MIN_HELD_OUT_TO_CHOOSE = 10
#: L2 amount x training records, for each amount tried (scikit-learn's 1/C)
GRID_STRENGTHS = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
#: passes without a better held-out loss before stopping
PATIENCE = 2
#: a held-out loss must beat the best by this fraction to count as better
IMPROVEMENT = 1e-4

# Knuth's multiplicative hash constant (2^64 / golden ratio): consecutive positions land far apart
_HASH_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def held_out_fraction(records: int) -> float:
    """The share of `records` training records to hold out.

    >>> held_out_fraction(100), held_out_fraction(10_000), held_out_fraction(10_000_000)
    (0.25, 0.1, 0.005)
    """
    if records <= 0:
        return 0.0
    fraction = max(HELD_OUT_FRACTION, min(MAX_HELD_OUT_SHARE, MIN_HELD_OUT / records))
    return min(fraction, MAX_HELD_OUT / records)


def held_out_rows(first: int, count: int, fraction: float) -> np.ndarray:
    """Which of the records at positions first..first+count-1 are held out (a boolean mask).

    A record is held out when the multiplicative hash of its position falls in the lowest
    `fraction` of the 64-bit range: the same records whatever the chunk boundaries.
    """
    return unit_hash(first, count) < fraction


def l2_grid(records: int) -> list[float]:
    """The L2 amounts tried for `records` training records, weakest first.

    The mean loss's curvature does not depend on the record count, while the noise that
    regularization holds back shrinks as 1/n; so the amounts scale as 1/n.
    """
    n = max(records, 1)
    return [float(f"{strength / n:.3g}") for strength in GRID_STRENGTHS]


@dataclass
class RegularizationChoice:
    """What the automatic choice tried and kept, for the model's log, page and file."""

    amounts: list[float]
    held_out_loss: list[list[float]]  # per amount, per pass (shorter for a pruned amount)
    chosen_l2: float
    chosen_passes: int
    passes_run: int
    held_out_records: int
    training_records: int
    refit_records: int = 0
    seconds: float = 0.0
    reason: str = ""
    held_out_f1: list[list[float]] = field(default_factory=list)  # MULTICLASS: macro-F1
    search_records: int = 0  # the records the amounts were compared on
    final_loss: list[float] = field(default_factory=list)  # large data: the final training's
    #: "sgd" (passes of SGD), or "lbfgs" (small data solved to convergence; passes are iterations)
    solver: str = "sgd"
    folds: int = 0  # the small-data choice's cross-validation folds

    def to_json(self) -> dict[str, Any]:
        return {
            "method": "held-out",
            "amounts": self.amounts,
            "heldOutLoss": [[_round(x) for x in losses] for losses in self.held_out_loss],
            "heldOutMacroF1": [[_round(x) for x in row] for row in self.held_out_f1],
            "l2": self.chosen_l2,
            "passes": self.chosen_passes,
            "passesRun": self.passes_run,
            "heldOutRecords": self.held_out_records,
            "trainingRecords": self.training_records,
            "refitRecords": self.refit_records,
            "searchRecords": self.search_records,
            "finalHeldOutLoss": [_round(x) for x in self.final_loss],
            "solver": self.solver,
            "folds": self.folds,
            "seconds": round(self.seconds, 3),
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RegularizationChoice:
        return cls(
            amounts=[float(x) for x in data.get("amounts", [])],
            held_out_loss=[[float(x) for x in row] for row in data.get("heldOutLoss", [])],
            held_out_f1=[[float(x) for x in row] for row in data.get("heldOutMacroF1", [])],
            chosen_l2=float(data["l2"]),
            chosen_passes=int(data["passes"]),
            passes_run=int(data.get("passesRun", data["passes"])),
            held_out_records=int(data.get("heldOutRecords", 0)),
            training_records=int(data.get("trainingRecords", 0)),
            refit_records=int(data.get("refitRecords", 0)),
            search_records=int(data.get("searchRecords", 0)),
            final_loss=[float(x) for x in data.get("finalHeldOutLoss", [])],
            solver=str(data.get("solver", "sgd")),
            folds=int(data.get("folds", 0)),
            seconds=float(data.get("seconds", 0.0)),
            reason=str(data.get("reason", "")),
        )

    def summary(self) -> str:
        """One line for the log."""
        if not self.held_out_loss:
            return f"L2 {self.chosen_l2:g} chosen without a held-out slice: {self.reason}"
        tried = ", ".join(f"{a:g}" for a in self.amounts)
        if self.solver == "lbfgs":
            best = self.held_out_loss[self.amounts.index(self.chosen_l2)][0]
            return (
                f"automatic regularization: L2 {self.chosen_l2:g} (cross-validated loss "
                f"{best:.6g}, {self.folds} folds of the {self.refit_records:,} records; each of "
                f"{tried} solved to convergence with L-BFGS, then the kept one on every record "
                f"in {self.chosen_passes} iterations)"
            )
        if self.final_loss:
            best = self.final_loss[self.chosen_passes - 1]
            return (
                f"automatic regularization: L2 {self.chosen_l2:g} after {self.chosen_passes} "
                f"passes (held-out loss {best:.6g} on {self.held_out_records:,} records; the "
                f"strengths of {tried} were compared on a sample of "
                f"{self.search_records:,} of the {self.training_records:,} training records)"
            )
        best = self.held_out_loss[self.amounts.index(self.chosen_l2)][self.chosen_passes - 1]
        return (
            f"automatic regularization: L2 {self.chosen_l2:g} after {self.chosen_passes} "
            f"passes (held-out loss {best:.6g} on {self.held_out_records:,} records; tried "
            f"{tried} for {self.passes_run} passes)"
        )


@dataclass
class AutomaticResult:
    """The model trained with the chosen amount, and the choice."""

    result: SGDResult
    choice: RegularizationChoice


def fit_sgd_automatic(
    chunks: Sequence[SparseBatch],
    held_out: Sequence[SparseBatch],
    n_features: int,
    loss: Loss,
    config: SGDConfig,
    *,
    target: TargetSummary,
    progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
) -> AutomaticResult:
    """Choose the L2 amount and the passes on `held_out`, then refit on `chunks` + `held_out`.

    `config.l1` and `config.l2` are ignored (the amounts are the grid's); its `max_passes`
    bounds both the search and the refit.
    """
    training_rows = _rows(chunks)
    held_rows = _rows(held_out)
    everything = _Chained([chunks, held_out])
    rate = config.learning_rate or auto_learning_rate(everything)
    config = replace(config, l1=0.0, l2=0.0, learning_rate=rate, tol=0.0)
    # a caller who caps the passes below the default asked for a short SGD run: no solver
    if is_small(training_rows + held_rows, everything.nnz) and config.max_passes >= DEFAULT_PASSES:
        return _solve_exactly(chunks, held_out, loss, target, progress, log)
    if held_rows < MIN_HELD_OUT_TO_CHOOSE:
        return _without_a_choice(everything, n_features, loss, config, target, progress, log)
    if sample_share(training_rows, _nnz(chunks)) < 1.0:
        return _sample_then_train(chunks, held_out, n_features, loss, config, target, progress, log)
    amounts = l2_grid(training_rows)
    choice = _search(chunks, held_out, n_features, loss, config, amounts, target, progress)
    choice.held_out_records, choice.training_records = held_rows, training_rows
    choice.search_records = training_rows
    if log is not None:
        log(choice.summary())
    refit = fit_sgd(
        everything,
        n_features,
        loss,
        replace(config, l2=choice.chosen_l2, max_passes=choice.chosen_passes),
        target=target,
    )
    choice.refit_records = refit.records
    if log is not None:
        log(f"refitted on all {refit.records:,} records with L2 {choice.chosen_l2:g}")
    return AutomaticResult(result=refit, choice=choice)


def _solve_exactly(
    chunks: Sequence[SparseBatch],
    held_out: Sequence[SparseBatch],
    loss: Loss,
    target: TargetSummary,
    progress: ProgressCallback | None,
    log: LogCallback | None,
) -> AutomaticResult:
    """Small data: each amount's optimum (L-BFGS, strongest amount first, warm starts) scored
    by `FOLDS`-fold cross-validation over every record; the winner solved again on all of them
    (`mlcore.train.exact`). With a few hundred records a single held-out slice of a few dozen
    ranks the amounts by noise (wine quality >= 7: 111 held-out records, 15 of them good
    wines, picked an amount that lost 0.03 AUC); folds use every record once for scoring."""
    everything = joined(_Chained([chunks, held_out]))
    rows = len(everything)
    folds = fold_of(rows, min(FOLDS, rows))
    fold_rows = int(np.bincount(folds).max()) if rows else 0
    amounts = l2_grid(rows)
    fold_amounts = l2_grid(rows - fold_rows)
    scale = target.std**2 if isinstance(loss, SquaredLoss) else 1.0
    multiclass = isinstance(loss, MultinomialLoss)
    losses, f1 = np.zeros(len(amounts)), np.zeros(len(amounts))
    for fold in range(int(folds.max()) + 1 if rows else 0):
        scored = np.flatnonzero(folds == fold)
        trained = Objective(everything.take(np.flatnonzero(folds != fold)), loss, target)
        start: np.ndarray | None = None
        for position in reversed(range(len(amounts))):
            weights, _ = solve(trained, fold_amounts[position], start)
            start = weights.values.ravel()
            scores = held_out_scores([everything.take(scored)], weights.values, loss, target, 1)
            losses[position] += float(scores.loss[0]) * scale * len(scored) / rows
            if scores.macro_f1 is not None:
                f1[position] += float(scores.macro_f1[0]) * len(scored) / rows

    def merit(position: int) -> tuple[float, float]:
        return (-f1[position], losses[position]) if multiclass else (losses[position], 0.0)

    winner = min(range(len(amounts)), key=merit)
    objective = Objective(everything, loss, target)
    final, values = solve(objective, amounts[winner])
    iterations = len(values)
    history = [value * scale for value in values] or [
        objective(final.values.ravel(), amounts[winner])[0] * scale
    ]
    if progress is not None:
        progress(1, 1, rows, history[-1])
    choice = RegularizationChoice(
        amounts=amounts,
        held_out_loss=[[float(x)] for x in losses],
        held_out_f1=[[float(x)] for x in f1] if multiclass else [],
        chosen_l2=amounts[winner],
        chosen_passes=len(history),
        passes_run=len(history),
        held_out_records=rows,
        training_records=rows - fold_rows,
        refit_records=rows,
        search_records=rows,
        solver="lbfgs",
        folds=int(folds.max()) + 1 if rows else 0,
    )
    if log is not None:
        log(choice.summary())
    result = SGDResult(
        weights=final.unscaled(),
        history=history,
        passes=len(history),
        converged=iterations < MAX_ITERATIONS,
        records=rows,
    )
    return AutomaticResult(result=result, choice=choice)


#: cross-validation folds for the small-data choice
FOLDS = 5


def fold_of(rows: int, folds: int) -> np.ndarray:
    """Each record's fold, 0..folds-1, from the hash of its position (deterministic, even).

    >>> np.bincount(fold_of(1_000, 5)).tolist()
    [200, 199, 201, 200, 200]
    """
    if rows == 0 or folds <= 1:
        return np.zeros(rows, dtype=np.int64)
    return np.minimum((unit_hash(0, rows) * folds).astype(np.int64), folds - 1)


def unit_hash(first: int, count: int) -> np.ndarray:
    """A number in [0, 1) for each position first..first+count-1, spread by the multiplicative
    hash: the same for a position whatever the chunking."""
    positions = np.arange(first, first + count, dtype=np.uint64) + np.uint64(1)
    hashed = positions * _HASH_MULTIPLIER  # wraps modulo 2^64, as intended
    return (hashed >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _sample_then_train(
    chunks: Sequence[SparseBatch],
    held_out: Sequence[SparseBatch],
    n_features: int,
    loss: Loss,
    config: SGDConfig,
    target: TargetSummary,
    progress: ProgressCallback | None,
    log: LogCallback | None,
) -> AutomaticResult:
    """Large data: compare the amounts on a sample, then train once on every training record
    with the kept strength, stopping where the held-out loss is best.

    The grid's amounts are strengths over the record count (`l2_grid`), so the strength that
    wins on the sample's n records carries over to all N as the same strength / N.
    """
    training_rows, held_rows = _rows(chunks), _rows(held_out)
    sample = sampled_rows(chunks, sample_share(training_rows, _nnz(chunks)))
    sample_rows = _rows(sample)
    # the sample has to rank the amounts, not to train the model: a few passes do
    short = replace(config, max_passes=min(config.max_passes, SAMPLE_SEARCH_PASSES))
    searched = _search(
        sample, held_out, n_features, loss, short, l2_grid(sample_rows), target, None
    )
    position = l2_grid(sample_rows).index(searched.chosen_l2)
    amounts = l2_grid(training_rows)
    final = train_watching(
        chunks, held_out, n_features, loss, config, amounts[position], target, progress
    )
    choice = RegularizationChoice(
        amounts=amounts,
        held_out_loss=searched.held_out_loss,
        held_out_f1=searched.held_out_f1,
        chosen_l2=amounts[position],
        chosen_passes=final.result.passes,
        passes_run=len(final.curve),
        held_out_records=held_rows,
        training_records=training_rows,
        refit_records=final.result.records,
        search_records=sample_rows,
        final_loss=final.curve,
    )
    if log is not None:
        log(choice.summary())
    final.result.records = training_rows + held_rows  # the held-out ones decided when to stop
    return AutomaticResult(result=final.result, choice=choice)


def sample_share(rows: int, nnz: int) -> float:
    """The share of the training records the amounts are compared on (1.0: all of them).

    >>> sample_share(5_000, 100_000), sample_share(40_000, 1_200_000), sample_share(3_150, 4_940_768)
    (1.0, 0.25, 0.4047953678456467)
    """
    return min(1.0, SEARCH_MAX_RECORDS / max(rows, 1), SEARCH_MAX_VALUES / max(nnz, 1))


def sampled_rows(chunks: Sequence[SparseBatch], fraction: float) -> list[SparseBatch]:
    """About `fraction` of the rows, chosen by a hash of their position (not the held-out
    hash: the positions are offset), copied out of the chunks."""
    sample, position = [], 0
    for index in range(len(chunks)):
        chunk = chunks[index]
        keep = held_out_rows(position + _SAMPLE_OFFSET, len(chunk), fraction)
        position += len(chunk)
        if keep.any():
            sample.append(chunk.take(np.flatnonzero(keep)))
    return sample


@dataclass
class WatchedTraining:
    result: SGDResult
    curve: list[float]  # held-out loss after each pass


def train_watching(
    chunks: Sequence[SparseBatch],
    held_out: Sequence[SparseBatch],
    n_features: int,
    loss: Loss,
    config: SGDConfig,
    amount: float,
    target: TargetSummary,
    progress: ProgressCallback | None,
) -> WatchedTraining:
    """SGD with one L2 amount that returns the averaged weights of the pass with the lowest
    held-out loss, stopping `PATIENCE` passes after it."""
    state = SGDState.start(
        n_features, n_outputs(loss), loss, target, config.learning_rate, l2_amounts=[amount]
    )
    config = replace(config, batch_size=config.batch_size or auto_batch_size(chunks))
    rng = np.random.default_rng(config.seed)
    scale = target.std**2 if isinstance(loss, SquaredLoss) else 1.0
    curve: list[float] = []
    history: list[float] = []
    best, best_pass, weights, records = math.inf, 0, state.unscaled(target), 0
    for pass_k in range(1, config.max_passes + 1):
        if pass_k == 2 and config.average:
            state.start_averaging()
        records, total = 0, 0.0
        for batch in mini_batches(chunks, config, rng):
            total += float(state.step_copies(batch, loss, config).sum())
            records += len(batch)
        history.append(total / max(records, 1) * scale)
        curve.append(
            float(held_out_scores(held_out, state.averaged(), loss, target, 1).loss[0]) * scale
        )
        if progress is not None:
            progress(pass_k, config.max_passes, records, history[-1])
        if curve[-1] < best * (1 - IMPROVEMENT):
            best, best_pass, weights = curve[-1], pass_k, state.unscaled(target)
        elif pass_k - best_pass >= PATIENCE:
            break
    result = SGDResult(
        weights=weights, history=history[:best_pass], passes=best_pass, records=records
    )
    return WatchedTraining(result, curve)


def _without_a_choice(
    everything: Sequence[SparseBatch],
    n_features: int,
    loss: Loss,
    config: SGDConfig,
    target: TargetSummary,
    progress: ProgressCallback | None,
    log: LogCallback | None,
) -> AutomaticResult:
    rows = _rows(everything)
    grid = l2_grid(rows)
    amount = grid[len(grid) // 2]
    reason = f"too few records ({rows:,}) to hold any out, so the middle of the grid"
    result = fit_sgd(
        everything,
        n_features,
        loss,
        replace(config, l2=amount),
        target=target,
        progress=progress,
    )
    choice = RegularizationChoice(
        amounts=[amount],
        held_out_loss=[],
        chosen_l2=amount,
        chosen_passes=result.passes,
        passes_run=result.passes,
        held_out_records=0,
        training_records=rows,
        refit_records=result.records,
        reason=reason,
    )
    if log is not None:
        log(choice.summary())
    return AutomaticResult(result=result, choice=choice)


def _search(
    chunks: Sequence[SparseBatch],
    held_out: Sequence[SparseBatch],
    n_features: int,
    loss: Loss,
    config: SGDConfig,
    amounts: list[float],
    target: TargetSummary,
    progress: ProgressCallback | None,
) -> RegularizationChoice:
    """Train one copy per amount side by side; return the best (amount, pass) on `held_out`."""
    k = n_outputs(loss)
    state = SGDState.start(n_features, k, loss, target, config.learning_rate, l2_amounts=amounts)
    config = replace(config, batch_size=config.batch_size or auto_batch_size(chunks))
    rng = np.random.default_rng(config.seed)
    scale = target.std**2 if isinstance(loss, SquaredLoss) else 1.0
    track = _Tracker(amounts, multiclass=isinstance(loss, MultinomialLoss))
    alive = list(range(len(amounts)))  # the grid positions still trained, in column order
    for pass_k in range(1, config.max_passes + 1):
        if pass_k == 2 and config.average:
            state.start_averaging()
        records, training_loss = 0, np.zeros(len(alive))
        for batch in mini_batches(chunks, config, rng):
            training_loss += state.step_copies(batch, loss, config)
            records += len(batch)
        scores = held_out_scores(held_out, state.averaged(), loss, target, len(alive))
        track.add(pass_k, alive, scores.loss * scale, scores.macro_f1)
        if progress is not None:
            best = alive.index(track.best_copy) if track.best_copy in alive else 0
            progress(pass_k, config.max_passes, records, training_loss[best] / records * scale)
        if pass_k - track.best_loss_pass >= PATIENCE:
            break
        if pass_k == PRUNE_AFTER_PASS and len(alive) > 3:
            keep = _neighbours(track.best_copy, len(amounts))
            state.keep_copies([alive.index(g) for g in keep])
            alive = keep
    return track.choice()


#: after this pass only the best amount so far and its two neighbours in the grid go on
PRUNE_AFTER_PASS = 2


def _neighbours(position: int, size: int) -> list[int]:
    """The grid positions next to `position` and itself (three, fewer at an edge of the grid)."""
    return list(range(max(position - 1, 0), min(position + 2, size)))


@dataclass
class HeldOutScores:
    """Each copy's mean held-out loss, and its macro-F1 for a multiclass model."""

    loss: np.ndarray
    macro_f1: np.ndarray | None = None


class _Tracker:
    """The held-out figures of every (amount, pass), and the best of them so far.

    The passes stop on the held-out **loss** (smooth, and what SGD minimises). Which amount
    wins is decided by the figure the evaluation will report: the loss for BINARY (AUC follows
    it) and REGRESSION (RMSE is its square root), the macro-F1 for MULTICLASS, where the loss
    prefers strong regularization that stops predicting the rare classes at all (wine's three
    quality classes: the loss picks 100/n and a macro-F1 of 0.41; 10/n gives 0.48). Each
    amount is judged at the pass of its own lowest loss; ties go to the lower loss.
    """

    def __init__(self, amounts: list[float], *, multiclass: bool) -> None:
        self.amounts = amounts
        self.multiclass = multiclass
        self.losses: list[list[float]] = [[] for _ in amounts]
        self.f1: list[list[float]] = [[] for _ in amounts]
        self.best_loss = math.inf
        self.best_loss_pass = 1
        self.best_copy = 0
        self.passes = 0

    def add(self, pass_k: int, alive: list[int], losses: np.ndarray, f1: np.ndarray | None) -> None:
        self.passes = pass_k
        for column, position in enumerate(alive):
            self.losses[position].append(float(losses[column]))
            self.f1[position].append(float(f1[column]) if f1 is not None else math.nan)
        column = int(np.argmin(losses))
        if losses[column] < self.best_loss * (1 - IMPROVEMENT):
            self.best_loss, self.best_loss_pass = float(losses[column]), pass_k
        self.best_copy = self._winner()

    def _winner(self) -> int:
        def merit(position: int) -> tuple[float, float]:
            curve = self.losses[position]
            at = int(np.argmin(curve))
            if self.multiclass:
                return (-self.f1[position][at], curve[at])
            return (curve[at], 0.0)

        return min((p for p in range(len(self.amounts)) if self.losses[p]), key=merit)

    def choice(self) -> RegularizationChoice:
        winner = self.best_copy
        curve = self.losses[winner]
        return RegularizationChoice(
            amounts=self.amounts,
            held_out_loss=self.losses,
            held_out_f1=self.f1 if self.multiclass else [],
            chosen_l2=self.amounts[winner],
            chosen_passes=int(np.argmin(curve)) + 1,
            passes_run=self.passes,
            held_out_records=0,
            training_records=0,
        )


def held_out_scores(
    held_out: Sequence[SparseBatch],
    weights: np.ndarray,
    loss: Loss,
    target: TargetSummary,
    copies: int,
) -> HeldOutScores:
    """Each copy's mean loss on the held-out rows (on SGD's scale: a standardised target), and
    for a multiclass model its macro-F1 over the classes of the held-out rows."""
    totals, rows = np.zeros(copies), 0
    k = n_outputs(loss)
    multiclass = isinstance(loss, MultinomialLoss)
    confusion = np.zeros((copies, k, k), dtype=np.int64) if multiclass else None
    for position in range(len(held_out)):
        batch = held_out[position]
        y = scaled_target(batch.y, loss, target)
        margins = margins_of(batch, weights)
        losses, _ = copies_loss(loss, margins, y, copies)
        totals += losses.sum(axis=0)
        rows += len(batch)
        if confusion is not None:
            predicted = margins.reshape(len(batch), copies, k).argmax(axis=2)
            true = np.broadcast_to(y.astype(np.int64)[:, None], predicted.shape)
            copy = np.broadcast_to(np.arange(copies), predicted.shape)
            np.add.at(confusion, (copy, true, predicted), 1)
    mean = totals / max(rows, 1)
    return HeldOutScores(mean, None if confusion is None else _macro_f1(confusion))


def _macro_f1(confusion: np.ndarray) -> np.ndarray:
    """Per copy, the mean F1 of the classes that occur in the rows (AML's MulticlassAvgFScore)."""
    true_positives = np.diagonal(confusion, axis1=1, axis2=2).astype(np.float64)
    actual = confusion.sum(axis=2)
    predicted = confusion.sum(axis=1)
    denominator = actual + predicted
    f1 = np.divide(
        2 * true_positives, denominator, out=np.zeros_like(true_positives), where=denominator > 0
    )
    present = actual[0] > 0
    return f1[:, present].mean(axis=1) if present.any() else np.zeros(len(confusion))


def _rows(chunks: Sequence[SparseBatch]) -> int:
    rows = getattr(chunks, "n_rows", None)
    if rows is None:
        rows = sum(len(chunks[i]) for i in range(len(chunks)))
    return int(rows)


class _Chained(Sequence[SparseBatch]):
    """Several chunk sequences read as one (the training cache, then the held-out slice)."""

    def __init__(self, parts: list[Sequence[SparseBatch]]) -> None:
        self._index = [(part, i) for part in parts for i in range(len(part))]
        self.n_rows = sum(_rows(part) for part in parts)
        self.nnz = sum(_nnz(part) for part in parts)

    def __len__(self) -> int:
        return len(self._index)

    def __getitem__(self, position: int) -> SparseBatch:  # type: ignore[override]
        part, i = self._index[position]
        return part[i]


def _nnz(chunks: Sequence[SparseBatch]) -> int:
    nnz = getattr(chunks, "nnz", None)
    if nnz is None:
        nnz = sum(chunks[i].nnz for i in range(len(chunks)))
    return int(nnz)


def _round(value: float) -> float:
    return float(f"{value:.6g}") if math.isfinite(value) else value

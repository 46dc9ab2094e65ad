"""Multiclass metrics (reference 7.1 and 7.4): per-class precision/recall/F1, macro F1 and the
confusion matrices.

Which classes count: AML's `MulticlassAvgFScore` averages the F1 of **the classes of the
evaluation data** (the true labels). A class that is only ever predicted adds no term of its own;
its wrong predictions already lower the recall of the classes they were taken from. (scikit-learn's
`f1_score(average="macro")` averages over the union of true and predicted labels instead; the two
agree whenever every predicted class occurs in the evaluation data.) Pass `labels=` to choose.

Class order everywhere: most to least frequent in the evaluation data, ties by label, then the
classes only predicted (by label). 0/0 ratios are 0, as in `mlcore.metrics.binary`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

MAX_SHOWN_CLASSES = 10
OTHERS = "others"

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def _ratio(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> FloatArray:
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def _strings(values: npt.ArrayLike) -> npt.NDArray[np.str_]:
    return np.asarray(values).astype(str).ravel()


def class_order(true: npt.ArrayLike, predicted: npt.ArrayLike | None = None) -> list[str]:
    """True classes by falling frequency (ties by label), then predicted-only classes.

    >>> class_order(["b", "a", "b", "c"], ["z", "a", "b", "b"])
    ['b', 'a', 'c', 'z']
    """
    labels, counts = np.unique(_strings(true), return_counts=True)
    order = np.lexsort((labels, -counts))  # last key is primary: count descending, then label
    ordered = labels[order].tolist()
    if predicted is not None:
        seen = set(ordered)
        ordered += sorted(set(np.unique(_strings(predicted)).tolist()) - seen)
    return ordered


@dataclass
class ConfusionMatrix:
    """`counts[i, j]`: records of true class `labels[i]` predicted as `labels[j]`."""

    labels: list[str]
    counts: IntArray

    @property
    def true_counts(self) -> IntArray:
        return self.counts.sum(axis=1)

    @property
    def predicted_counts(self) -> IntArray:
        return self.counts.sum(axis=0)

    def precision(self) -> FloatArray:
        return _ratio(np.diag(self.counts), self.predicted_counts)

    def recall(self) -> FloatArray:
        return _ratio(np.diag(self.counts), self.true_counts)

    def f1(self) -> FloatArray:
        # 2 TP / (2 TP + FP + FN) is the harmonic mean of precision and recall, without 0/0 steps
        tp = np.diag(self.counts)
        return _ratio(2 * tp, self.true_counts + self.predicted_counts)

    def to_dict(self) -> dict[str, Any]:
        return {"labels": list(self.labels), "counts": self.counts.tolist()}


def confusion_matrix(
    true: npt.ArrayLike, predicted: npt.ArrayLike, labels: Sequence[str] | None = None
) -> ConfusionMatrix:
    """The full confusion matrix (rows true, columns predicted) in `class_order` by default.

    Records whose true or predicted label is not in an explicit `labels` are left out.

    >>> confusion_matrix(["a", "b", "b"], ["a", "a", "b"]).counts.tolist()
    [[1, 1], [0, 1]]
    """
    t, p = _strings(true), _strings(predicted)
    if t.shape != p.shape:
        raise ValueError(f"{t.size} true labels but {p.size} predictions")
    names = list(labels) if labels is not None else class_order(t, p)
    k = len(names)
    lookup = np.asarray(names, dtype=str)
    sorter = np.argsort(lookup)
    t_index, t_ok = _positions(lookup, sorter, t)
    p_index, p_ok = _positions(lookup, sorter, p)
    ok = t_ok & p_ok
    flat = np.bincount(t_index[ok] * k + p_index[ok], minlength=k * k)
    return ConfusionMatrix(names, flat.reshape(k, k).astype(np.int64))


def _positions(
    lookup: npt.NDArray[np.str_], sorter: IntArray, values: npt.NDArray[np.str_]
) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Index of each value in `lookup` (vectorised) and whether it is there at all."""
    if lookup.size == 0:
        return np.zeros(values.size, dtype=np.int64), np.zeros(values.size, dtype=bool)
    found = np.searchsorted(lookup, values, sorter=sorter).clip(0, lookup.size - 1)
    index = sorter[found]
    return index.astype(np.int64), lookup[index] == values


def per_class_metrics(
    true: npt.ArrayLike, predicted: npt.ArrayLike, labels: Sequence[str] | None = None
) -> dict[str, list[Any]]:
    """Precision, recall, F1 and counts per class, as columns.

    >>> per_class_metrics(["a", "b", "b"], ["a", "a", "b"])["f1"]
    [0.6666666666666666, 0.6666666666666666]
    """
    matrix = confusion_matrix(true, predicted, labels)
    return {
        "labels": list(matrix.labels),
        "precision": matrix.precision().tolist(),
        "recall": matrix.recall().tolist(),
        "f1": matrix.f1().tolist(),
        "true_count": matrix.true_counts.tolist(),
        "predicted_count": matrix.predicted_counts.tolist(),
    }


def macro_f1(
    true: npt.ArrayLike, predicted: npt.ArrayLike, labels: Sequence[str] | None = None
) -> float:
    """Unweighted mean of the per-class F1 over the evaluation data's classes (AML's
    `MulticlassAvgFScore`); `labels` overrides the set of classes. 0 for no classes.

    >>> round(macro_f1(["a", "b", "b"], ["a", "a", "b"]), 4)
    0.6667
    >>> macro_f1(["a", "a"], ["a", "z"])   # "z" is never a true class: no term of its own
    0.6666666666666666
    """
    t, p = _strings(true), _strings(predicted)
    classes = list(labels) if labels is not None else class_order(t)
    if not classes:
        return 0.0
    # the matrix keeps predicted-only classes so the chosen classes' precision stays right
    matrix = confusion_matrix(t, p, [*classes, *sorted(set(p.tolist()) - set(classes))])
    return float(matrix.f1()[: len(classes)].mean())


def collapse(matrix: ConfusionMatrix, max_classes: int = MAX_SHOWN_CLASSES) -> ConfusionMatrix:
    """Keep the first `max_classes - 1` classes and merge the rest into "others" when there are
    more than `max_classes`; otherwise the matrix unchanged.

    >>> m = ConfusionMatrix(["a", "b", "c"], np.array([[3, 0, 1], [0, 2, 0], [1, 0, 1]]))
    >>> collapse(m, 2).labels, collapse(m, 2).counts.tolist()
    (['a', 'others'], [[3, 1], [1, 3]])
    """
    k = len(matrix.labels)
    if k <= max_classes:
        return matrix
    keep = max_classes - 1
    group = np.minimum(np.arange(k), keep)  # class i goes to row/column group[i]
    merged = np.zeros((keep + 1, keep + 1), dtype=np.int64)
    np.add.at(merged, (group[:, None], group[None, :]), matrix.counts)
    return ConfusionMatrix([*matrix.labels[:keep], OTHERS], merged)


def aml_confusion_matrix(
    true: npt.ArrayLike, predicted: npt.ArrayLike, max_classes: int = MAX_SHOWN_CLASSES
) -> dict[str, Any]:
    """The console's matrix: at most `max_classes` classes, most to least frequent in the
    evaluation data; with more, the top `max_classes - 1` plus "others".

    Columns beside the counts: `true_class_frequency` (share of records per true class, the
    second-to-last column), `f1` per class (last column; for "others", the F1 of the merged
    class), and the last row `predicted_class_frequency`. `row_percent` is each cell as a
    percentage of its true class. F1 of a kept class is the same as in the full matrix, since
    merging other classes changes neither its diagonal cell nor its row and column totals.

    >>> m = aml_confusion_matrix(["a", "b", "b"], ["a", "a", "b"])
    >>> m["labels"], m["counts"], m["true_class_frequency"]
    (['b', 'a'], [[1, 1], [0, 1]], [0.6666666666666666, 0.3333333333333333])
    """
    return _aml_matrix(confusion_matrix(true, predicted), max_classes)


def _aml_matrix(full: ConfusionMatrix, max_classes: int = MAX_SHOWN_CLASSES) -> dict[str, Any]:
    """`aml_confusion_matrix` from the full matrix in `class_order`."""
    shown = collapse(full, max_classes)
    n = int(full.counts.sum())
    others = full.labels[len(shown.labels) - 1 :] if len(shown.labels) < len(full.labels) else []
    return {
        "labels": list(shown.labels),
        "counts": shown.counts.tolist(),
        "row_percent": (100 * _ratio(shown.counts, shown.true_counts[:, None])).tolist(),
        "true_class_frequency": _ratio(shown.true_counts, n).tolist(),
        "predicted_class_frequency": _ratio(shown.predicted_counts, n).tolist(),
        "f1": shown.f1().tolist(),
        "collapsed": bool(others),
        "others_classes": others,
        "class_count": len(full.labels),
        "record_count": n,
    }


def predicted_labels(probabilities: npt.ArrayLike, classes: Sequence[str]) -> npt.NDArray[np.str_]:
    """The class of highest probability per row (the first one on a tie), as labels.

    >>> predicted_labels([[0.2, 0.8], [0.5, 0.5]], ["x", "y"]).tolist()
    ['y', 'x']
    """
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != len(classes):
        raise ValueError(f"expected probabilities of shape (n, {len(classes)}), got {p.shape}")
    return np.asarray(list(classes), dtype=str)[np.argmax(p, axis=1)]


def multiclass_details(true: npt.ArrayLike, predicted: npt.ArrayLike) -> dict[str, Any]:
    """Everything the evaluation pages show for a multiclass model, JSON-ready.

    >>> multiclass_details(["a", "b"], ["a", "a"])["macro_f1"]
    0.3333333333333333
    """
    # one pass over the records; everything else is read from the full matrix, whose class
    # order puts the evaluation data's classes (true count > 0) first
    full = confusion_matrix(true, predicted)
    f1 = full.f1()
    evaluation_classes = int(np.count_nonzero(full.true_counts))
    return {
        "macro_f1": float(f1[:evaluation_classes].mean()) if evaluation_classes else 0.0,
        "confusion_matrix": _aml_matrix(full),
        "full_confusion_matrix": full.to_dict(),
        "per_class": {
            "labels": list(full.labels),
            "precision": full.precision().tolist(),
            "recall": full.recall().tolist(),
            "f1": f1.tolist(),
            "true_count": full.true_counts.tolist(),
            "predicted_count": full.predicted_counts.tolist(),
        },
    }


# --- example records per confusion-matrix cell ---------------------------------------------------

MAX_CELL_EXAMPLES = 20
# (true, predicted) pairs followed while streaming: at most 20,000 records of about 1 kB in memory.
# k classes make at most k * k pairs, so every pair of up to 31 classes is followed; past this many
# pairs the new ones keep no examples (the pairs of frequent classes come early), and the result
# says it is incomplete.
MAX_TRACKED_PAIRS = 1_000
MAX_EXAMPLE_INPUTS = 4
MAX_EXAMPLE_TEXT = 80  # characters of a text value or row id kept per example


@dataclass
class CellExamples:
    """The first `limit` records (in file order) of each (true, predicted) pair, while streaming.

    First in file order rather than random: deterministic, and the line numbers shown lead
    straight to the file. `add` takes one chunk's labels, line numbers and model scores; memory
    is at most `limit` records per pair and `max_pairs` pairs. `for_matrix` then keeps the
    cells the page shows (top 9 + "others": the "others" cells merge their classes' records,
    still the first in file order).

    >>> ex = CellExamples(inputs=["x"], limit=1)
    >>> ex.add(["a", "a"], ["b", "b"], [2, 3], [0.4, 0.3], [0.6, 0.7], {"x": [1.5, 2.5]})
    >>> ex.for_matrix({"labels": ["a", "b"], "others_classes": []})["cells"]["0,1"]
    [{'line': 2, 'file': '', 'score_true': 0.4, 'score_predicted': 0.6, 'true': 'a', 'predicted': 'b', 'inputs': [1.5]}]
    """

    inputs: list[str] = field(default_factory=list)
    limit: int = MAX_CELL_EXAMPLES
    max_pairs: int = MAX_TRACKED_PAIRS
    row_id: str | None = None
    pairs: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    pairs_dropped: bool = False
    _seen: int = 0

    def add(
        self,
        true: npt.ArrayLike,
        predicted: npt.ArrayLike,
        lines: npt.ArrayLike,
        score_true: npt.ArrayLike,
        score_predicted: npt.ArrayLike,
        inputs: dict[str, npt.ArrayLike],
        *,
        file_name: str = "",
        row_ids: npt.ArrayLike | None = None,
    ) -> None:
        t, p = _strings(true), _strings(predicted)
        order = self._seen + np.arange(t.size)
        self._seen += t.size
        keys = np.char.add(np.char.add(t, "\x1f"), p)
        # np.unique's first index per key; only rows that still fit their pair's quota are read
        _, inverse = np.unique(keys, return_inverse=True)
        rank = _rank_within_group(inverse.ravel())
        for i in np.flatnonzero(rank < self.limit).tolist():
            stored = self._slot(str(t[i]), str(p[i]))
            if stored is None or len(stored) >= self.limit:
                continue
            stored.append(
                _example(i, int(order[i]), lines, file_name, score_true, score_predicted)
                | {"true": str(t[i]), "predicted": str(p[i])}
                | {"inputs": [_plain(np.asarray(inputs[name])[i]) for name in self.inputs]}
                | ({"row_id": _plain(np.asarray(row_ids)[i])} if row_ids is not None else {})
            )

    def _slot(self, true: str, predicted: str) -> list[dict[str, Any]] | None:
        key = (true, predicted)
        if key not in self.pairs:
            if len(self.pairs) >= self.max_pairs:
                self.pairs_dropped = True
                return None
            self.pairs[key] = []
        return self.pairs[key]

    def for_matrix(self, matrix: dict[str, Any]) -> dict[str, Any]:
        """Examples of the shown cells, keyed "row,column" of `aml_confusion_matrix`'s labels."""
        labels = [str(label) for label in matrix["labels"]]
        others = {str(c) for c in matrix.get("others_classes") or []}
        position = {label: i for i, label in enumerate(labels)}
        other_index = labels.index(OTHERS) if others and OTHERS in labels else None
        merged: dict[str, list[dict[str, Any]]] = {}
        for (true, predicted), records in self.pairs.items():
            i = other_index if true in others else position.get(true)
            j = other_index if predicted in others else position.get(predicted)
            if i is None or j is None:
                continue
            merged.setdefault(f"{i},{j}", []).extend(records)
        cells = {
            key: [
                {k: v for k, v in record.items() if k != "order"}
                for record in sorted(records, key=lambda record: int(record["order"]))[: self.limit]
            ]
            for key, records in merged.items()
        }
        return {
            "limit": self.limit,
            "inputs": list(self.inputs),
            "row_id": self.row_id,
            "incomplete": self.pairs_dropped,
            "cells": cells,
        }


def _rank_within_group(groups: IntArray) -> IntArray:
    """For each row, how many earlier rows share its group (0 for the first)."""
    order = np.argsort(groups, kind="stable")
    sorted_groups = groups[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_groups)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, sorted_groups.size]))
    rank = np.empty(groups.size, dtype=np.int64)
    rank[order] = np.arange(groups.size) - run_start
    return rank


def _example(
    i: int,
    order: int,
    lines: npt.ArrayLike,
    file_name: str,
    score_true: npt.ArrayLike,
    score_predicted: npt.ArrayLike,
) -> dict[str, Any]:
    return {
        "order": order,
        "line": int(np.asarray(lines)[i]),
        "file": file_name,
        "score_true": round(float(np.asarray(score_true)[i]), 6),
        "score_predicted": round(float(np.asarray(score_predicted)[i]), 6),
    }


def _plain(value: Any) -> Any:
    """A JSON-ready input value: numbers as floats (NaN, a missing value, as None), else text
    cut to `MAX_EXAMPLE_TEXT` characters (a TEXT attribute may hold pages per record).

    >>> _plain(float("nan")) is None, _plain("x" * 100)[-3:], len(_plain("x" * 100))
    (True, 'xx…', 80)
    """
    if isinstance(value, (float, np.floating)):
        return None if np.isnan(value) else round(float(value), 6)
    if isinstance(value, (int, np.integer)):
        return int(value)
    text = str(value)
    return text if len(text) <= MAX_EXAMPLE_TEXT else text[: MAX_EXAMPLE_TEXT - 1] + "…"

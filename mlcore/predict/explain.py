"""Why a linear model scored a record as it did: each input attribute's contribution.

A model's margin is the intercept plus, for every feature the record has, weight x transformed
value (a standardised number, or 1.0 for a category, bin, word...). A feature comes from one
attribute (`job=admin.`, `quantile_bin(age,50)=[38,39)`) or, for a `cartesian`, two: its share
is then split equally between them. Summing per attribute gives contributions that add up,
with the intercept, to the margin exactly:

* BINARY: the log-odds of "1" (the score is its sigmoid);
* MULTICLASS: the predicted class's logit (or the class asked for);
* REGRESSION: the predicted value.

A numeric attribute at its training mean contributes 0 (features are standardised); a category
contributes its weight, so the sign says which way the attribute pushed this record.

`top_contributions(model, batch, top=3)` does this for a batch of encoded rows (the batch
prediction's explanation columns); `explain_record(model, record)` for one record of strings,
as the console's "try it" form sends it.

>>> explain_record(model, {"age": "58", "duration": "1200", "job": "retired"})  # doctest: +SKIP
[{'attribute': 'duration', 'contribution': 2.91}, {'attribute': 'age', 'contribution': 0.42},
 {'attribute': 'job', 'contribution': 0.31}]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlcore.features.sparse import SparseBatch
from mlcore.schema.model import ModelType
from mlcore.train.model import TrainedModel

DEFAULT_TOP = 3


@dataclass
class FeatureOwners:
    """Which attribute(s) each feature of a fitted recipe comes from.

    `first[j]` / `second[j]` index `attributes` (-1: none); `share[j]` is 1.0, or 0.5 when
    the feature belongs to two attributes.
    """

    attributes: list[str]
    first: np.ndarray
    second: np.ndarray
    share: np.ndarray


def feature_owners(model: TrainedModel) -> FeatureOwners:
    """The attribute(s) behind every feature of the model's fitted recipe."""
    fitted = model.fitted_recipe
    position: dict[str, int] = {}
    first = np.full(fitted.n_features, -1, dtype=np.int64)
    second = np.full(fitted.n_features, -1, dtype=np.int64)
    for output, start, stop in zip(
        fitted.outputs, fitted.offsets[:-1], fitted.offsets[1:], strict=True
    ):
        names = list(dict.fromkeys(output.spec.attributes))  # cartesian(a, a) is a's alone
        indices = [position.setdefault(name, len(position)) for name in names]
        first[start:stop] = indices[0] if indices else -1
        second[start:stop] = indices[1] if len(indices) > 1 else -1
    share = np.where(second >= 0, 0.5, 1.0)
    return FeatureOwners(list(position), first, second, share)


def _explained_columns(model: TrainedModel, margins_or_scores: np.ndarray) -> np.ndarray:
    """The weight column explained for each row: the predicted class for MULTICLASS, else 0."""
    n_rows = len(margins_or_scores)
    if model.model_type is ModelType.MULTICLASS:
        return np.asarray(margins_or_scores).argmax(axis=1).astype(np.int64)
    return np.zeros(n_rows, dtype=np.int64)


@dataclass
class Contributions:
    """Per row, the attributes that moved its margin most: names ("" past the last one) and
    signed contributions (NaN there), shape (n_rows, top), largest magnitude first."""

    names: np.ndarray  # object
    values: np.ndarray  # float64


def top_contributions(
    model: TrainedModel,
    batch: SparseBatch,
    *,
    top: int | None = DEFAULT_TOP,
    columns: np.ndarray | None = None,
    owners: FeatureOwners | None = None,
    scores: np.ndarray | None = None,
) -> Contributions:
    """The `top` attributes of each encoded row by |contribution| (all of them with None).

    `columns` picks the weight column per row (MULTICLASS: the class index); by default the
    predicted class, from `scores` (or computed). Attributes contributing exactly 0 are left out.
    """
    owners = owners if owners is not None else feature_owners(model)
    n_rows = len(batch)
    if columns is None:
        if model.model_type is ModelType.MULTICLASS and scores is None:
            from mlcore.predict.scoring import score_batch

            scores = score_batch(model, batch)
        columns = _explained_columns(model, scores if scores is not None else np.zeros(n_rows))
    rows, attributes, values = _per_attribute(model, batch, columns, owners)
    width = len(owners.attributes) if top is None else top
    return _largest_per_row(rows, attributes, values, n_rows, width, owners.attributes)


def _per_attribute(
    model: TrainedModel, batch: SparseBatch, columns: np.ndarray, owners: FeatureOwners
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, attribute, contribution) summed per row and attribute, sorted by row."""
    start, stop = int(batch.indptr[0]), int(batch.indptr[-1])
    indices = batch.indices[start:stop].astype(np.int64)
    row_of = np.repeat(np.arange(len(batch), dtype=np.int64), np.diff(batch.indptr))
    weights = model.weights[indices, columns[row_of]]
    products = batch.values[start:stop].astype(np.float64) * weights * owners.share[indices]
    pairs_row = np.concatenate([row_of, row_of])
    pairs_attribute = np.concatenate([owners.first[indices], owners.second[indices]])
    pairs_value = np.concatenate([products, products])
    owned = pairs_attribute >= 0
    n_attributes = max(len(owners.attributes), 1)
    keys = pairs_row[owned] * n_attributes + pairs_attribute[owned]
    unique, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=pairs_value[owned], minlength=len(unique))
    return unique // n_attributes, unique % n_attributes, sums


def _largest_per_row(
    rows: np.ndarray,
    attributes: np.ndarray,
    values: np.ndarray,
    n_rows: int,
    top: int,
    names: list[str],
) -> Contributions:
    nonzero = values != 0
    rows, attributes, values = rows[nonzero], attributes[nonzero], values[nonzero]
    # by row, then by decreasing magnitude (ties: attribute order, for a stable answer)
    order = np.lexsort((attributes, -np.abs(values), rows))
    rows, attributes, values = rows[order], attributes[order], values[order]
    first_of_row = np.searchsorted(rows, rows, side="left")
    rank = np.arange(len(rows)) - first_of_row
    kept = rank < top
    out_names = np.full((n_rows, top), "", dtype=object)
    out_values = np.full((n_rows, top), np.nan)
    name_array = np.asarray(names, dtype=object)
    out_names[rows[kept], rank[kept]] = name_array[attributes[kept]]
    out_values[rows[kept], rank[kept]] = values[kept]
    return Contributions(out_names, out_values)


def explain_record(
    model: TrainedModel,
    record: Mapping[str, str],
    *,
    top: int | None = DEFAULT_TOP,
    label: str | None = None,
) -> list[dict[str, Any]]:
    """The attributes that contributed most to one record's score, largest magnitude first:
    `[{"attribute": name, "contribution": value}, ...]` (see the module docstring for units).

    The record is read as `score_record` reads it (absent or invalid values are missing).
    MULTICLASS explains the predicted class unless `label` names another. `top=None` lists
    every attribute that contributed.
    """
    from mlcore.predict.scoring import record_frame, score_batch

    batch = model.fitted_recipe.encode(record_frame(model, dict(record)), np.full(1, np.nan))
    if label is not None and model.model_type is ModelType.MULTICLASS:
        if label not in model.classes:
            raise ValueError(f"{label!r} is not a class of the model")
        columns = np.array([model.classes.index(label)], dtype=np.int64)
    else:
        columns = _explained_columns(model, score_batch(model, batch).reshape(1, -1))
    found = top_contributions(model, batch, top=top, columns=columns)
    return [
        {"attribute": str(name), "contribution": float(value)}
        for name, value in zip(found.names[0], found.values[0], strict=True)
        if name
    ]


__all__ = [
    "Contributions",
    "FeatureOwners",
    "explain_record",
    "feature_owners",
    "top_contributions",
]

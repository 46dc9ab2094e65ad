"""A batch of encoded records as a compressed sparse row (CSR) matrix, numpy only."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SparseBatch:
    """Rows of features in CSR form plus the target of each row.

    Row `i` has the features `indices[indptr[i]:indptr[i+1]]` with the matching `values`.
    `y` holds the target: 0/1 for BINARY, the class index for MULTICLASS, the value for
    REGRESSION (NaN where the record has no usable target, e.g. at scoring time).
    """

    indptr: np.ndarray  # int64, shape (n_rows + 1,)
    indices: np.ndarray  # int32, shape (nnz,)
    values: np.ndarray  # float32, shape (nnz,)
    y: np.ndarray  # float64, shape (n_rows,)
    n_features: int
    # what `row_width` found (0: not fixed-width), so it is worked out once per batch
    _width: int | None = field(default=None, init=False, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    def row_width(self) -> int:
        """The number of values every row stores, or 0 when rows differ (or store none).

        Recipes without text store exactly one value per output and row, so most batches are
        fixed-width: their values are then an (n_rows, width) block, which SGD uses directly.

        >>> SparseBatch(np.array([0, 2, 4]), np.zeros(4, np.int32), np.ones(4, np.float32),
        ...             np.zeros(2), 3).row_width()
        2
        """
        if self._width is None:
            self._width = _common_row_length(self.indptr)
        return self._width

    def known_width(self, width: int) -> SparseBatch:
        """Record a width the caller knows already (a slice of a fixed-width batch); returns self."""
        self._width = width
        return self

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """Rows times a weight vector (n_features,) or matrix (n_features, k)."""
        products = (
            self.values[:, None] * weights[self.indices]
            if weights.ndim == 2
            else (self.values * weights[self.indices])
        )
        row_of = np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))
        if weights.ndim == 2:
            out = np.zeros((len(self), weights.shape[1]), dtype=np.float64)
            np.add.at(out, row_of, products)
            return out
        return np.bincount(row_of, weights=products, minlength=len(self)).astype(np.float64)

    def take(self, rows: np.ndarray) -> SparseBatch:
        """A new batch with the given rows, in that order."""
        width = self.row_width()
        if width:
            # whole fixed-width blocks: no per-value index to build (several times faster)
            start, stop = int(self.indptr[0]), int(self.indptr[-1])
            return SparseBatch(
                np.arange(len(rows) + 1, dtype=np.int64) * width,
                self.indices[start:stop].reshape(-1, width).take(rows, axis=0).ravel(),
                self.values[start:stop].reshape(-1, width).take(rows, axis=0).ravel(),
                self.y.take(rows),
                self.n_features,
            ).known_width(width)
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        gather = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1], dtype=np.int64)
        return SparseBatch(
            indptr, self.indices[gather], self.values[gather], self.y[rows], self.n_features
        )

    def to_dense(self) -> np.ndarray:
        dense = np.zeros((len(self), self.n_features), dtype=np.float64)
        row_of = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        np.add.at(dense, (row_of, self.indices), self.values)
        return dense


def _common_row_length(indptr: np.ndarray) -> int:
    n_rows = len(indptr) - 1
    stored = int(indptr[-1] - indptr[0])
    if n_rows <= 0 or stored == 0 or stored % n_rows:
        return 0
    width = stored // n_rows
    lengths = np.diff(indptr)
    return width if bool((lengths == width).all()) else 0

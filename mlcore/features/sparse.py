"""A batch of encoded records as a compressed sparse row (CSR) matrix, numpy only."""

from __future__ import annotations

from dataclasses import dataclass

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

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

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

"""The encoded feature cache: SparseBatch chunks on disk, read back once per SGD pass.

Encoding (CSV parse, type conversion, recipe transforms) costs far more than an SGD step, so the
first encoding pass writes each chunk to `work_dir` as one uncompressed `.npz` (indptr, indices,
values, y) and passes 2..n read the arrays back. Files hold only numbers and are loaded with
`allow_pickle=False`. The directory is removed by `close()` (or leaving the `with` block).

>>> import tempfile                                                     # doctest: +SKIP
>>> with FeatureCache(tempfile.mkdtemp()) as cache:                     # doctest: +SKIP
...     cache.append(batch)
...     len(cache), cache.n_rows, cache[0].nnz
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

import numpy as np

from mlcore.features.sparse import SparseBatch


class FeatureCache:
    """An append-only, indexable sequence of SparseBatch chunks stored as files.

    Parameters
    ----------
    work_dir : str or Path, optional
        A directory under which the cache makes its own fresh subdirectory; the system's
        temporary directory when not given.
    """

    def __init__(self, work_dir: str | Path | None = None) -> None:
        if work_dir is not None:
            Path(work_dir).mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="feature-cache-", dir=work_dir))
        self.n_features = 0
        self.n_rows = 0
        self.nnz = 0
        self._count = 0

    def append(self, batch: SparseBatch) -> None:
        """Write one chunk (empty chunks are skipped)."""
        if len(batch) == 0:
            return
        np.savez(
            self._path(self._count),
            indptr=batch.indptr,
            indices=batch.indices,
            values=batch.values,
            y=batch.y,
        )
        self._count += 1
        self.n_rows += len(batch)
        self.nnz += batch.nnz
        self.n_features = batch.n_features

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, position: int) -> SparseBatch:
        if not 0 <= position < self._count:
            raise IndexError(position)
        with np.load(self._path(position), allow_pickle=False) as arrays:
            return SparseBatch(
                arrays["indptr"], arrays["indices"], arrays["values"], arrays["y"], self.n_features
            )

    def __iter__(self) -> Iterator[SparseBatch]:
        for position in range(self._count):
            yield self[position]

    @property
    def size_in_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.directory.glob("*.npz"))

    def close(self) -> None:
        """Delete the cache's files and directory."""
        shutil.rmtree(self.directory, ignore_errors=True)
        self._count = 0

    def __enter__(self) -> FeatureCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _path(self, position: int) -> Path:
        return self.directory / f"chunk-{position:06d}.npz"

"""A data file the readers can open, wherever it lives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class DataFile:
    """One CSV file of a datasource.

    `name` is what messages show (a path, `s3://bucket/key`, or an upload's original name);
    `opener` returns a fresh binary stream positioned at the start.
    """

    name: str
    size: int
    opener: Callable[[], BinaryIO]

    def open(self) -> BinaryIO:
        return self.opener()

"""What every accumulator shares: merging with `+=` and JSON-safe numbers."""

from __future__ import annotations

import math
from typing import Any, Self


class Mergeable:
    """An accumulator two workers can fill separately and then combine.

    Subclasses implement `merge(other)`; `a += b` is the same thing, as in river's running statistics.
    """

    def merge(self, other: Self) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def __iadd__(self, other: Self) -> Self:
        if type(other) is not type(self):
            return NotImplemented
        return self.merge(other)


def json_number(value: Any) -> float | int | None:
    """A plain Python number for JSON, or None for NaN, infinity and None.

    >>> json_number(float("nan")) is None
    True
    >>> json_number(3.0)
    3.0
    """
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    number = float(value)
    if number.is_integer() and type(value).__name__.startswith(("int", "uint")):
        return int(number)
    return number if math.isfinite(number) else None


def percent(part: float, whole: float) -> float | None:
    """`part` as a percentage of `whole`, or None when `whole` is zero."""
    return 100.0 * part / whole if whole else None

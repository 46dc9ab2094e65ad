"""Data rearrangement: which records of a datasource a split keeps (reference section 4).

AML's JSON reads `{"splitting": {"percentBegin": 0, "percentEnd": 70, "strategy": "random",
"randomSeed": "s", "complement": "true"}}`. Each record gets a number in [0, 100) and is kept when
`percentBegin <= number < percentEnd` (inverted by `complement`):

* sequential: the record's position, `100 * byte_offset / total_bytes` (no counting pass needed);
* random: a hash (splitmix64) of the seed and the record's byte offset, so the same seed always
  picks the same records whatever the chunking;
* stratified (our extension): for the k-th record of each target value, the golden-ratio sequence
  `frac(k * 0.618... + offset(seed, value))`, which spreads every class evenly over [0, 100). Each
  class is split in proportion to within a few records (the sequence's discrepancy grows like
  log n: at most 4 records measured for classes of up to 100,000 records).

Because every record has one number, a split and its complement (or ranges 0-70 and 70-100)
partition the records exactly.

>>> r = parse_rearrangement('{"splitting": {"percentBegin": "0", "percentEnd": 70}}')
>>> r
Rearrangement(percent_begin=0.0, percent_end=70.0, strategy='sequential', random_seed='', complement=False)
>>> Splitter(r, total_bytes=100).keep(np.array([0, 50, 69, 70, 99])).tolist()
[True, True, True, False, False]
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlcore import safejson
from mlcore.errors import RearrangementError

STRATEGIES = ("sequential", "random", "stratified")
_GOLDEN_RATIO_CONJUGATE = (math.sqrt(5.0) - 1.0) / 2.0
_TRUE_WORDS = {"true", "1", "yes"}
_FALSE_WORDS = {"false", "0", "no", ""}


@dataclass(frozen=True)
class Rearrangement:
    """A validated splitting: keep records numbered in [percent_begin, percent_end)."""

    percent_begin: float = 0.0
    percent_end: float = 100.0
    strategy: str = "sequential"
    random_seed: str = ""
    complement: bool = False

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise RearrangementError(
                f"strategy must be one of {', '.join(STRATEGIES)}, not {self.strategy!r}"
            )
        if not 0 <= self.percent_begin < self.percent_end <= 100:
            raise RearrangementError(
                "percentBegin and percentEnd must satisfy 0 <= percentBegin < percentEnd <= 100, "
                f"not {_format_percent(self.percent_begin)} and {_format_percent(self.percent_end)}"
            )

    @property
    def needs_targets(self) -> bool:
        return self.strategy == "stratified"


def parse_rearrangement(data: str | Mapping[str, Any] | None) -> Rearrangement | None:
    """Parse AML's DataRearrangement JSON; None (or no `splitting`) means all the data.

    `randomSeed` may sit in `splitting`, in `splitting.strategyParams` or at the top level;
    numbers and booleans may be strings; unknown keys are ignored.

    >>> parse_rearrangement({"splitting": {"percentEnd": "30", "complement": "true",
    ...     "strategy": "random", "strategyParams": {"randomSeed": "42"}}})
    Rearrangement(percent_begin=0.0, percent_end=30.0, strategy='random', random_seed='42', complement=True)
    >>> parse_rearrangement(None) is None
    True
    """
    document = _load(data)
    if document is None:
        return None
    splitting = document.get("splitting")
    if splitting is None:
        return None
    if not isinstance(splitting, Mapping):
        raise RearrangementError("splitting must be a JSON object")
    strategy = splitting.get("strategy", "sequential")
    if not isinstance(strategy, str):
        raise RearrangementError(f"strategy must be a string, not {strategy!r}")
    return Rearrangement(
        percent_begin=_percent(splitting.get("percentBegin", 0), "percentBegin"),
        percent_end=_percent(splitting.get("percentEnd", 100), "percentEnd"),
        strategy=strategy.strip().lower() or "sequential",
        random_seed=_find_seed(document, splitting),
        complement=_boolean(splitting.get("complement", False), "complement"),
    )


def rearrangement_to_json(rearrangement: Rearrangement) -> str:
    """Write AML's compact `{"splitting": {...}}` form.

    >>> rearrangement_to_json(Rearrangement(0, 70))
    '{"splitting":{"percentBegin":0,"percentEnd":70}}'
    """
    splitting: dict[str, Any] = {
        "percentBegin": _json_number(rearrangement.percent_begin),
        "percentEnd": _json_number(rearrangement.percent_end),
    }
    if rearrangement.strategy != "sequential":
        splitting["strategy"] = rearrangement.strategy
    if rearrangement.random_seed:
        splitting["randomSeed"] = rearrangement.random_seed
    if rearrangement.complement:
        splitting["complement"] = "true"
    return json.dumps({"splitting": splitting}, separators=(",", ":"))


def _load(data: str | Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    if data is None:
        return None
    if isinstance(data, str):
        if not data.strip():
            return None
        try:
            data = safejson.loads(data)
        except json.JSONDecodeError as err:
            raise RearrangementError(
                f"the data rearrangement is not valid JSON: {err.msg} "
                f"(line {err.lineno}, column {err.colno})"
            ) from None
    if not isinstance(data, Mapping):
        raise RearrangementError("the data rearrangement must be a JSON object")
    return data


def _percent(value: Any, name: str) -> float:
    if isinstance(value, bool):
        raise RearrangementError(f"{name} must be a number, not {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer past 1e308
        raise RearrangementError(f"{name} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise RearrangementError(f"{name} must be a number, not {value!r}")
    return number


def _boolean(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise RearrangementError(f"{name} must be true or false, not {value!r}")


def _find_seed(document: Mapping[str, Any], splitting: Mapping[str, Any]) -> str:
    params = splitting.get("strategyParams")
    candidates = [
        splitting.get("randomSeed"),
        params.get("randomSeed") if isinstance(params, Mapping) else None,
        document.get("randomSeed"),
    ]
    for seed in candidates:
        if seed is not None:
            if isinstance(seed, Mapping | list):
                raise RearrangementError(f"randomSeed must be a string, not {seed!r}")
            return str(seed)
    return ""


def _json_number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _format_percent(value: float) -> str:
    return str(_json_number(value))


# --------------------------------------------------------------------------------------------
# Selecting records
# --------------------------------------------------------------------------------------------


def _hash64(*parts: str) -> int:
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a fast, well-mixed 64-bit hash of each value (wrapping math)."""
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _unit_interval(z: np.ndarray) -> np.ndarray:
    """Map 64-bit hashes to [0, 1) using their top 53 bits (exact in float64)."""
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


class Splitter:
    """Decide, chunk by chunk, which records a rearrangement keeps.

    Call `keep` in file order: the stratified strategy counts the records of each target value.

    >>> splitter = Splitter(Rearrangement(0, 70, "random", "seed"), total_bytes=1000)
    >>> mask = splitter.keep(np.arange(0, 1000, 10))
    >>> bool(mask.any()), bool((~mask).any())
    (True, True)
    """

    def __init__(self, rearrangement: Rearrangement, total_bytes: int) -> None:
        self.rearrangement = rearrangement
        self.total_bytes = max(int(total_bytes), 1)
        self._seed_hash = np.uint64(_hash64("random", rearrangement.random_seed))
        self._seen_per_value: dict[str, int] = {}
        self._value_offsets: dict[str, float] = {}

    def numbers(self, offsets: np.ndarray, targets: Any = None) -> np.ndarray:
        """Each record's number in [0, 100), compared with percentBegin/percentEnd."""
        offsets = np.asarray(offsets, dtype=np.int64)
        strategy = self.rearrangement.strategy
        if strategy == "sequential":
            return offsets.astype(np.float64) * (100.0 / self.total_bytes)
        if strategy == "random":
            hashed = _splitmix64(offsets.astype(np.uint64) ^ self._seed_hash)
            return _unit_interval(hashed) * 100.0
        if targets is None:
            raise RearrangementError("the stratified strategy needs the target values")
        return self._stratified_numbers(targets)

    def keep(self, offsets: np.ndarray, targets: Any = None) -> np.ndarray:
        """A boolean mask of the records kept, given their byte offsets (and target values)."""
        number = self.numbers(offsets, targets)
        r = self.rearrangement
        inside = (number >= r.percent_begin) & (number < r.percent_end)
        return ~inside if r.complement else inside

    def _stratified_numbers(self, targets: Any) -> np.ndarray:
        values = pd.Series(np.asarray(targets, dtype=object))
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        rank_in_chunk = values.groupby(codes).cumcount().to_numpy(dtype=np.int64)
        uniques = [str(u) for u in uniques]
        seen = np.array([self._seen_per_value.get(u, 0) for u in uniques], dtype=np.int64)
        offset = np.array([self._value_offset(u) for u in uniques], dtype=np.float64)
        k = seen[codes] + rank_in_chunk
        for code, count in enumerate(np.bincount(codes, minlength=len(uniques)).tolist()):
            self._seen_per_value[uniques[code]] = int(seen[code]) + count
        # k * golden ratio loses precision only past 2**52 records of one class.
        return np.modf(k * _GOLDEN_RATIO_CONJUGATE + offset[codes])[0] * 100.0

    def _value_offset(self, value: str) -> float:
        if value not in self._value_offsets:
            seed = self.rearrangement.random_seed
            self._value_offsets[value] = _hash64("stratified", seed, value) / float(1 << 64)
        return self._value_offsets[value]

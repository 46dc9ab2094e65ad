"""AML's training parameters (reference section 6), declared once with their ranges.

Values arrive as strings (the API's `Parameters` is a string-to-string map) and are echoed back
as strings with `"algorithm": "sgd"`.

>>> params = TrainingParameters.from_aml({"sgd.maxPasses": "20", "sgd.l1RegularizationAmount": "1e-4"})
>>> params.max_passes, params.l1, params.l2
(20, 0.0001, 0.0)

Without an amount the trainer chooses L2 itself (`l2 is None` until then), and the echo says so
until training has resolved it:

>>> TrainingParameters().to_aml()["sgd.l2RegularizationAmount"]
'auto'
>>> TrainingParameters().resolved(l2=1e-3).to_aml()["sgd.l2RegularizationAmount"]
'0.001'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

from mlcore.errors import MLCoreError

ShuffleType = Literal["auto", "none"]

#: The API's default model size cap, in bytes (32 MiB).
API_DEFAULT_MAX_MODEL_SIZE = 33_554_432
#: The console's default model size cap, in bytes (100 MiB), as a console-made model showed it.
CONSOLE_DEFAULT_MAX_MODEL_SIZE = 104_857_600
MIN_MODEL_SIZE = 100_000
MAX_MODEL_SIZE = 2_147_483_648
MIN_PASSES = 1
MAX_PASSES = 10_000
DEFAULT_PASSES = 10
#: What `sgd.l2RegularizationAmount` says when the trainer is to choose the amount.
AUTO = "auto"
#: Shuffling is on unless the caller says "none", whoever the caller is (console, command line,
#: API). AML's API defaulted to "none" and AML itself strongly recommended changing it: on a
#: file sorted by anything related to the target, unshuffled SGD learns the file's order
#: (wine quality regression on the command line: RMSE 0.770 unshuffled, 0.669 shuffled).
#: A deliberate departure from AML's API, noted in docs/architecture.md.
DEFAULT_SHUFFLE: ShuffleType = "auto"

KEY_SIZE = "sgd.maxMLModelSizeInBytes"
KEY_PASSES = "sgd.maxPasses"
KEY_SHUFFLE = "sgd.shuffleType"
KEY_L1 = "sgd.l1RegularizationAmount"
KEY_L2 = "sgd.l2RegularizationAmount"
KNOWN_KEYS = (KEY_SIZE, KEY_PASSES, KEY_SHUFFLE, KEY_L1, KEY_L2)


class ParameterError(MLCoreError):
    """A training parameter is unknown, not a number, out of range, or conflicts with another."""

    def __init__(self, message: str, *, key: str | None = None) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


@dataclass(frozen=True)
class TrainingParameters:
    """SGD settings, validated on construction.

    Parameters
    ----------
    max_model_size : int, default 33554432
        `sgd.maxMLModelSizeInBytes`, 100000 to 2147483648. Features are trimmed to fit.
    max_passes : int, default 10
        `sgd.maxPasses`, 1 to 10000. Training may stop earlier on convergence.
    shuffle_type : {"none", "auto"}, default "auto"
        `sgd.shuffleType`; "auto" shuffles the rows (seeded) before every pass.
    l1 : float, default 0.0
        `sgd.l1RegularizationAmount`, >= 0. Exclusive with `l2`.
    l2 : float or None, default None
        `sgd.l2RegularizationAmount`, >= 0. Exclusive with `l1`. None (the default, or "auto")
        asks the trainer to choose it on held-out records and to stop passes there
        (`mlcore.train.regularization`); AML's fixed default was 1e-6, which does not hold back
        a model of a few hundred records.
    """

    max_model_size: int = API_DEFAULT_MAX_MODEL_SIZE
    max_passes: int = DEFAULT_PASSES
    shuffle_type: ShuffleType = DEFAULT_SHUFFLE
    l1: float = 0.0
    l2: float | None = None

    def __post_init__(self) -> None:
        _check_range(KEY_SIZE, self.max_model_size, MIN_MODEL_SIZE, MAX_MODEL_SIZE)
        _check_range(KEY_PASSES, self.max_passes, MIN_PASSES, MAX_PASSES)
        if self.shuffle_type not in ("auto", "none"):
            raise ParameterError("must be 'auto' or 'none'", key=KEY_SHUFFLE)
        for key, amount in ((KEY_L1, self.l1), (KEY_L2, self.l2)):
            if amount is not None and (not math.isfinite(amount) or amount < 0):
                raise ParameterError(f"must be a number >= 0, got {amount!r}", key=key)
        if self.l1 > 0 and (self.l2 is None or self.l2 > 0):
            raise ParameterError(
                f"L1 and L2 regularization are exclusive: set {KEY_L1} or {KEY_L2}, not both"
            )

    @classmethod
    def from_aml(
        cls, parameters: dict[str, str] | None = None, *, console: bool = False
    ) -> TrainingParameters:
        """Read AML's string map; absent keys take the defaults.

        The defaults are the same for every caller (`DEFAULT_SHUFFLE`, `DEFAULT_PASSES`, L2
        chosen automatically) except the model size cap, where AML itself differed: 32 MiB
        through the API, 100 MiB in the console (`console=True`).

        Setting `sgd.l1RegularizationAmount` above zero without an L2 key turns L2 off, since
        the two are exclusive; an L2 key of "auto" is the same as no L2 key.
        """
        given = dict(parameters or {})
        for key in given:
            if key not in KNOWN_KEYS and key != "algorithm":
                raise ParameterError("unknown training parameter", key=key)
        if given.get("algorithm", "sgd").lower() != "sgd":
            raise ParameterError("the only algorithm is 'sgd'", key="algorithm")
        l1 = _float(given, KEY_L1, 0.0)
        if str(given.get(KEY_L2, "")).strip().lower() == AUTO:
            given.pop(KEY_L2)
        default_l2 = 0.0 if l1 > 0 else None
        return cls(
            max_model_size=_int(
                given,
                KEY_SIZE,
                CONSOLE_DEFAULT_MAX_MODEL_SIZE if console else API_DEFAULT_MAX_MODEL_SIZE,
            ),
            max_passes=_int(given, KEY_PASSES, DEFAULT_PASSES),
            shuffle_type=_shuffle(given, DEFAULT_SHUFFLE),
            l1=l1,
            l2=_optional_float(given, KEY_L2, default_l2),
        )

    @property
    def automatic_regularization(self) -> bool:
        """Whether the trainer is to choose the L2 amount (nobody gave an L1 or L2 amount)."""
        return self.l2 is None

    def resolved(self, *, l2: float) -> TrainingParameters:
        """These parameters with the amount the trainer chose."""
        return replace(self, l2=l2)

    def to_aml(self) -> dict[str, str]:
        """Every key as a string, plus `"algorithm": "sgd"`, as AML's responses echo them.

        An L2 amount still to be chosen reads "auto"; once `resolved`, the amount used.
        """
        return {
            "algorithm": "sgd",
            KEY_L1: repr(float(self.l1)),
            KEY_L2: AUTO if self.l2 is None else repr(float(self.l2)),
            KEY_SIZE: str(self.max_model_size),
            KEY_PASSES: str(self.max_passes),
            KEY_SHUFFLE: self.shuffle_type,
        }


def _check_range(key: str, value: int, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ParameterError(f"must be an integer from {low} to {high}, got {value!r}", key=key)


def _int(given: dict[str, str], key: str, default: int) -> int:
    if key not in given:
        return default
    text = str(given[key]).strip()
    try:
        number = float(text)
    except ValueError:
        raise ParameterError(f"not a number: {text!r}", key=key) from None
    if not math.isfinite(number) or number != int(number):
        raise ParameterError(f"must be a whole number, got {text!r}", key=key)
    return int(number)


def _float(given: dict[str, str], key: str, default: float) -> float:
    if key not in given:
        return default
    text = str(given[key]).strip()
    try:
        return float(text)
    except ValueError:
        raise ParameterError(f"not a number: {text!r}", key=key) from None


def _optional_float(given: dict[str, str], key: str, default: float | None) -> float | None:
    return default if key not in given else _float(given, key, 0.0)


def _shuffle(given: dict[str, str], default: ShuffleType) -> ShuffleType:
    value = str(given.get(KEY_SHUFFLE, default)).strip().lower()
    if value not in ("auto", "none"):
        raise ParameterError(f"must be 'auto' or 'none', got {value!r}", key=KEY_SHUFFLE)
    return "auto" if value == "auto" else "none"

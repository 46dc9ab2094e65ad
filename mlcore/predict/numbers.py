"""Numbers as AML's batch prediction files write them: `9.999157E-1`, `1.8863E-3`, `-1.526385E1`.

The rule (reference section 8, checked against AML's own MNIST output file): the value is taken
as a 32-bit float and written with the fewest significant digits that read back as that same
float (the closest such digits when there is a choice), always in E notation with at least one
digit after the point (`1.0E0`, Java's style). On the first 19,990 values of the real file the
rule gives the same text for 19,981; the other 9 differ in the last digit, where Java's old
`Float.toString` was not the shortest.

`format_aml_float(x)` formats one value; `format_aml_floats(values)` formats an array without a
Python loop per value. It returns a `Field`: each value's text as a row of a byte matrix, which
the batch writer joins into CSV lines (`join_lines`) without making a Python string per value.
Both give the same text.

>>> format_aml_float(0.9999157), format_aml_float(0.0018863), format_aml_float(-15.26385)
('9.999157E-1', '1.8863E-3', '-1.526385E1')
>>> format_aml_float(8.359159), format_aml_float(1.0), format_aml_float(0.0)
('8.359159E0', '1.0E0', '0.0E0')
>>> format_aml_floats([0.5, 1e-7, 123456.78]).to_strings()
['5.0E-1', '1.0E-7', '1.2345678E5']
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlcore.predict.csvlines import Field

#: a float32 never needs more than 9 significant digits to be told apart from its neighbours
MAX_DIGITS = 9
# 10**k is exact in float64 for |k| <= 22: scaling by a table entry rounds once
_EXACT_POWER = 22
_MULTIPLY = np.array([10.0 ** max(k, 0) for k in range(-_EXACT_POWER, _EXACT_POWER + 1)])
_DIVIDE = np.array([10.0 ** max(-k, 0) for k in range(-_EXACT_POWER, _EXACT_POWER + 1)])
_INT_POWERS = np.array([10**k for k in range(MAX_DIGITS + 1)], dtype=np.int64)
_ZERO = ord("0")
_MINUS, _POINT, _E = ord("-"), ord("."), ord("E")
# sign, first digit, point, 8 digits after it, E, exponent sign, 2 exponent digits
_WIDTH = 3 + (MAX_DIGITS - 1) + 4
_AFTER_COLUMNS = np.arange(1, MAX_DIGITS)[None, :]  # right-aligned digit columns after the first
_MANTISSA_BITS = 0x7FFFFF
_HALVINGS = int(np.ceil(np.log2(MAX_DIGITS)))  # closes any interval within 1..MAX_DIGITS


def format_aml_float(value: float) -> str:
    """One number in AML's batch-output notation (see the module docstring).

    >>> format_aml_float(3.4e38), format_aml_float(1e-45), format_aml_float(float("nan"))
    ('3.4E38', '1.0E-45', 'NaN')
    """
    return format_aml_floats([value]).to_strings()[0]


def format_aml_floats(values: Sequence[float] | np.ndarray) -> Field:
    """Every value in AML's notation, vectorised; NaN and infinities as Java writes them."""
    single = np.asarray(values, dtype=np.float64).astype(np.float32)
    x = single.astype(np.float64)
    finite = np.isfinite(x)
    nonzero = finite & (x != 0)
    digits = np.zeros(len(x), dtype=np.int64)
    exponent = np.zeros(len(x), dtype=np.int64)
    if nonzero.any():
        digits[nonzero], exponent[nonzero] = _shortest_digits(np.abs(single[nonzero]))
    number = _scientific(digits, exponent, np.signbit(x) & nonzero)
    if not finite.all():
        number = _with_special_values(number, x, ~finite)
    return number


def _shortest_digits(single: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For positive float32 values: digits m and exponent e with value = m x 10**e, m having as
    few digits as possible (trailing zeros removed) while reading back as the same float32.

    Reading back is monotone in the number of digits (the nearest decimal with p + 1 digits is
    at least as close as the nearest with p), so the count is found by bisection over 1..9.
    Next to a power of two a float's rounding interval is lopsided and monotony can fail; those
    few values try every count in turn, and both neighbours of the value.
    """
    a = single.astype(np.float64)
    log = np.floor(np.log10(a)).astype(np.int64)
    low = np.ones(len(a), dtype=np.int64)  # the answer is in [low, high]
    high = np.full(len(a), MAX_DIGITS, dtype=np.int64)
    # every row in every round (a closed interval keeps its bounds): picking the open rows out
    # and back in cost more than computing the closed ones again
    for _ in range(_HALVINGS):
        open_ = low < high
        middle = (low + high) // 2
        found = _reads_back(np.rint(_scaled(a, middle - 1 - log)), middle, log, single)
        high = np.where(open_ & found, middle, high)
        low = np.where(open_ & ~found, middle + 1, low)
    power = low - 1 - log
    digits = np.rint(_scaled(a, power))
    lopsided = np.flatnonzero((single.view(np.uint32) & _MANTISSA_BITS) == 0)
    if lopsided.size:
        digits[lopsided], power[lopsided] = _lopsided_digits(
            a[lopsided], log[lopsided], single[lopsided]
        )
    return _without_trailing_zeros(digits.astype(np.int64), -power)


def _lopsided_digits(
    a: np.ndarray, log: np.ndarray, single: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Powers of two: the first digit count where the nearest, or else the other neighbour,
    reads back."""
    digits = np.zeros(len(a))
    power = np.zeros(len(a), dtype=np.int64)
    todo = np.arange(len(a))
    for precision in range(1, MAX_DIGITS + 1):
        p = np.full(len(todo), precision)
        shift = precision - 1 - log[todo]
        scaled = _scaled(a[todo], shift)
        nearest = np.rint(scaled)
        other = nearest + np.where(nearest < scaled, 1.0, -1.0)
        near_ok = _reads_back(nearest, p, log[todo], single[todo])
        other_ok = ~near_ok & _reads_back(other, p, log[todo], single[todo])
        done = near_ok | other_ok
        digits[todo[done]] = np.where(near_ok, nearest, other)[done]
        power[todo[done]] = shift[done]
        todo = todo[~done]
        if not todo.size:
            break
    return digits, power


def _scaled(values: np.ndarray, power: np.ndarray) -> np.ndarray:
    """values x 10**power with one rounding (a table of exact powers); powers beyond +-22
    (subnormals, huge values) go in exact steps."""
    inside = np.abs(power) <= _EXACT_POWER
    if inside.all():
        index = power + _EXACT_POWER
        return values * _MULTIPLY[index] / _DIVIDE[index]
    result = values.astype(np.float64, copy=True)
    remaining = power.copy()
    while remaining.any():
        step = np.clip(remaining, -_EXACT_POWER, _EXACT_POWER)
        index = step + _EXACT_POWER
        result = result * _MULTIPLY[index] / _DIVIDE[index]
        remaining -= step
    return result


def _reads_back(
    candidate: np.ndarray, precision: np.ndarray, log: np.ndarray, single: np.ndarray
) -> np.ndarray:
    """Whether candidate x 10**(log + 1 - precision), rounded to float32, is `single`."""
    value = _scaled(candidate, log + 1 - precision)
    with np.errstate(over="ignore"):
        return (candidate > 0) & (value.astype(np.float32) == single)


def _without_trailing_zeros(
    digits: np.ndarray, exponent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    for _ in range(MAX_DIGITS + 1):
        ends_in_zero = (digits % 10 == 0) & (digits > 0)
        if not ends_in_zero.any():
            break
        digits = np.where(ends_in_zero, digits // 10, digits)
        exponent = exponent + ends_in_zero
    return digits, exponent


def _scientific(digits: np.ndarray, exponent: np.ndarray, negative: np.ndarray) -> Field:
    """`[-]d.ddddE[-]x` from digits m and exponent e (value = m x 10**e), in a fixed layout of
    15 columns with NUL where a sign or a digit is not written (`join_lines` drops those)."""
    n = len(digits)
    count = np.maximum(np.searchsorted(_INT_POWERS, digits, side="right"), 1)
    shown_exponent = exponent + count - 1
    # the digits right-aligned in 9 columns (uint8 arithmetic on int32 is cheap)
    right = np.empty((n, MAX_DIGITS), dtype=np.uint8)
    rest = digits.astype(np.int32)
    for column in range(MAX_DIGITS - 1, -1, -1):
        right[:, column] = rest % 10
        rest //= 10
    right += _ZERO
    text = np.zeros((n, _WIDTH), dtype=np.uint8)
    text[negative, 0] = _MINUS
    text[:, 1] = right[np.arange(n), MAX_DIGITS - count]
    text[:, 2] = _POINT
    right[count == 1, MAX_DIGITS - 1] = _ZERO  # "1.0E0": at least one digit after the point
    # after the point: the last max(count - 1, 1) of the right-aligned digits
    after = text[:, 3 : 3 + MAX_DIGITS - 1]
    after[...] = right[:, 1:]
    after *= (MAX_DIGITS - np.maximum(count - 1, 1))[:, None] <= _AFTER_COLUMNS
    text[:, 3 + MAX_DIGITS - 1] = _E
    text[shown_exponent < 0, -3] = _MINUS
    magnitude = np.abs(shown_exponent).astype(np.uint8)  # at most 45 for a float32
    tens = magnitude // 10
    text[:, -2] = (tens + _ZERO) * (tens > 0)
    text[:, -1] = magnitude % 10 + _ZERO
    return Field(text)


def _with_special_values(number: Field, x: np.ndarray, special: np.ndarray) -> Field:
    """NaN, Infinity and -Infinity, as Java's Float.toString spells them, replace the digits."""
    assert number.data is not None
    text = number.data.copy()
    for word, where in (
        (b"NaN", np.isnan(x)),
        (b"Infinity", special & (x > 0)),
        (b"-Infinity", special & (x < 0)),
    ):
        row = np.zeros(text.shape[1], dtype=np.uint8)
        row[: len(word)] = np.frombuffer(word, dtype=np.uint8)
        text[where] = row
    return Field(text)


__all__ = ["MAX_DIGITS", "format_aml_float", "format_aml_floats"]

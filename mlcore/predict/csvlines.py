"""CSV lines built from numpy arrays, without a Python string per value.

A `Field` is one CSV column's text for every row: a byte matrix whose row i holds row i's text
in its non-NUL bytes, in order, NUL bytes filling the rest wherever the layout leaves room
(text never holds a NUL: the reader refuses files with one). `join_lines` sets every field's
matrix side by side and keeps the non-NUL bytes, so a chunk of 100,000 lines is a few numpy
operations. Numbers come from `mlcore.predict.numbers.format_aml_floats`, whose fixed layout
leaves a NUL where a sign or a digit is not written; strings from `text_field`, which quotes
the values that need it as RFC 4180 says (a comma, a double quote or a line break inside).

Strings longer than `MAX_MATRIX_WIDTH` bytes would make a wide matrix of mostly padding: such a
field keeps its rows as Python bytes instead, and `join_lines` then joins row by row.

>>> import numpy as np
>>> rows = join_lines([text_field(np.array(["a", "b,c", ""], dtype=object)),
...                    text_field(np.array(["x", 'a "b" c', "z"], dtype=object))],
...                   blank=np.array([False, False, True]))
>>> rows.data
b'a,x\\n"b,c","a ""b"" c"\\n\\n'
>>> rows.row_lengths.tolist()
[4, 18, 1]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: the widest string matrix built; longer values are joined row by row instead
MAX_MATRIX_WIDTH = 256
_NEEDS_QUOTES = np.frombuffer(b',"\r\n', dtype=np.uint8)
_ASCII_LIMIT = 128


@dataclass
class Field:
    """A CSV field on every row: `data` (uint8, one row per line, the text in its non-NUL
    bytes), or (long strings) `row_bytes`, each row's bytes."""

    data: np.ndarray | None = None
    row_bytes: list[bytes] | None = None

    def __len__(self) -> int:
        if self.row_bytes is not None:
            return len(self.row_bytes)
        assert self.data is not None
        return self.data.shape[0]

    def rows(self) -> list[bytes]:
        """Each row's bytes (the slow way, for joining with a long-string field)."""
        if self.row_bytes is not None:
            return self.row_bytes
        return _split(join_lines([self], separator=b"", terminator=b""))

    def to_strings(self) -> list[str]:
        return [row.decode("utf-8") for row in self.rows()]


class JoinedRows:
    """Rows of text joined from fields: the bytes, and (counted when asked) each row's length."""

    def __init__(self, data: bytes, kept: np.ndarray | None = None, n_rows: int = 0) -> None:
        self.data = data
        self._kept = kept  # the joined matrix's mask of written bytes
        self._n_rows = n_rows
        self._row_lengths: np.ndarray | None = None

    @property
    def row_lengths(self) -> np.ndarray:
        # counted on demand: a row-wise count of the mask costs as much as the join, and only
        # blank lines inserted between rows need it
        if self._row_lengths is None:
            if self._kept is None:
                self._row_lengths = np.zeros(self._n_rows, dtype=np.int64)
            else:
                self._row_lengths = np.count_nonzero(self._kept, axis=1).astype(np.int64)
        return self._row_lengths


def _split(joined: JoinedRows) -> list[bytes]:
    ends = np.cumsum(joined.row_lengths).tolist()
    starts = [0, *ends[:-1]]
    return [joined.data[s:e] for s, e in zip(starts, ends, strict=True)]


def empty_field(n_rows: int) -> Field:
    return Field(np.zeros((n_rows, 0), dtype=np.uint8))


def hidden_where(one: Field, hide: np.ndarray) -> Field:
    """The field, empty on the rows where `hide` is True."""
    if one.row_bytes is not None:
        return Field(
            row_bytes=[b"" if h else r for r, h in zip(one.rows(), hide.tolist(), strict=True)]
        )
    assert one.data is not None
    return Field(np.where(hide[:, None], np.uint8(0), one.data))


def join_lines(
    fields: Sequence[Field],
    *,
    separator: bytes = b",",
    terminator: bytes = b"\n",
    blank: np.ndarray | None = None,
) -> JoinedRows:
    """The rows' fields run together with `separator` between and `terminator` after each row;
    a row where `blank` is True keeps only its terminator (AML's line for a failed record)."""
    n_rows = len(fields[0]) if fields else 0
    if any(one.row_bytes is not None for one in fields):
        return _join_row_by_row(fields, n_rows, separator, terminator, blank)
    matrices: list[np.ndarray] = []
    for position, one in enumerate(fields):
        if position and separator:
            matrices.append(np.frombuffer(separator, dtype=np.uint8))
        assert one.data is not None
        matrices.append(one.data)
    if terminator:
        matrices.append(np.frombuffer(terminator, dtype=np.uint8))
    total = sum(m.shape[-1] for m in matrices)
    if total == 0 or n_rows == 0:
        return JoinedRows(b"", None, n_rows)
    # side by side in one matrix, then its written (non-NUL) bytes in row order
    joined = np.empty((n_rows, total), dtype=np.uint8)
    at = 0
    for matrix in matrices:
        width = matrix.shape[-1]
        joined[:, at : at + width] = matrix
        at += width
    if blank is not None and blank.any():
        joined[blank, : total - len(terminator)] = 0
    kept = joined != 0
    return JoinedRows(joined[kept].tobytes(), kept, n_rows)


def _join_row_by_row(
    fields: Sequence[Field],
    n_rows: int,
    separator: bytes,
    terminator: bytes,
    blank: np.ndarray | None,
) -> JoinedRows:
    columns = [one.rows() for one in fields]
    hide = [False] * n_rows if blank is None else blank.tolist()
    lines = [
        terminator if hidden else separator.join(values) + terminator
        for hidden, values in zip(hide, zip(*columns, strict=True), strict=True)
    ]
    joined = JoinedRows(b"".join(lines), None, n_rows)
    joined._row_lengths = np.array([len(line) for line in lines], dtype=np.int64)
    return joined


def text_field(values: np.ndarray) -> Field:
    """Strings as CSV fields: quoted (with doubled quotes) when they hold a comma, a quote or
    a line break. `values` is an array of `str` (object or unicode dtype)."""
    n_rows = len(values)
    if n_rows == 0:
        return empty_field(0)
    unicode = np.asarray(values, dtype=str)
    width = unicode.dtype.itemsize // 4
    if width == 0:
        return empty_field(n_rows)
    if width > MAX_MATRIX_WIDTH:
        return Field(row_bytes=[_quoted(text).encode("utf-8") for text in unicode.tolist()])
    codes = unicode.view(np.uint32).reshape(n_rows, width)
    ascii_rows = (codes < _ASCII_LIMIT).all(axis=1)
    data = codes.astype(np.uint8)
    special = np.isin(data, _NEEDS_QUOTES).any(axis=1) & ascii_rows
    slow = np.flatnonzero(~ascii_rows | special)
    if slow.size == 0:
        return Field(data)  # a unicode array pads with NUL, so the matrix is the field
    return _with_slow_rows(data, unicode, slow)


def _with_slow_rows(data: np.ndarray, unicode: np.ndarray, slow: np.ndarray) -> Field:
    """Re-make the rows that need UTF-8 encoding or quoting (usually few) in Python."""
    encoded = [_quoted(text).encode("utf-8") for text in unicode[slow].tolist()]
    width = max(data.shape[1], max(len(b) for b in encoded))
    if width > MAX_MATRIX_WIDTH * 4:
        rows = [bytes(row).rstrip(b"\x00") for row in data]
        for position, row in zip(slow.tolist(), encoded, strict=True):
            rows[position] = row
        return Field(row_bytes=rows)
    wide = np.zeros((data.shape[0], width), dtype=np.uint8)
    wide[:, : data.shape[1]] = data
    for position, row in zip(slow.tolist(), encoded, strict=True):
        wide[position, :] = 0
        wide[position, : len(row)] = np.frombuffer(row, dtype=np.uint8)
    return Field(wide)


def text_line(values: Sequence[str]) -> bytes:
    """One line of strings as CSV fields (the bytes `join_lines` of one-row `text_field`s
    gives), without numpy: a header line.

    >>> text_line(["tag", "a,b", 'x"y'])
    b'tag,"a,b","x""y"\\n'
    """
    return ",".join(_quoted(text) for text in values).encode("utf-8") + b"\n"


def _quoted(text: str) -> str:
    if any(char in text for char in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


__all__ = [
    "Field",
    "JoinedRows",
    "empty_field",
    "hidden_where",
    "join_lines",
    "text_field",
    "text_line",
]

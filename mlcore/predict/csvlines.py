"""CSV lines built from numpy arrays, without a Python string per value.

A `Field` is one CSV column's text for every row, made of `Piece`s: byte matrices of which each
row keeps its first `lengths[i]` bytes (or its last, `from_right`). `join_lines` sets every
piece of every field side by side, keeps the bytes inside the lengths and returns the rows run
together, so a chunk of 100,000 lines is a few numpy operations. Numbers come from
`mlcore.predict.numbers.format_aml_floats`; strings from `text_field`, which quotes the values
that need it as RFC 4180 says (a comma, a double quote or a line break inside).

Strings longer than `MAX_MATRIX_WIDTH` bytes would make a wide matrix of mostly padding: such a
field keeps its rows as Python bytes instead, and `join_lines` then joins row by row.

>>> import numpy as np
>>> rows = join_lines([text_field(np.array(["a", "b,c", ""], dtype=object)),
...                    text_field(np.array(["x", 'a "b" c', "z"], dtype=object))],
...                   blank=np.array([False, False, True]))
>>> rows.data
b'a,x\\n"b,c","a ""b"" c"\\n\\n'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

#: the widest string matrix built; longer values are joined row by row instead
MAX_MATRIX_WIDTH = 256
_NEEDS_QUOTES = np.frombuffer(b',"\r\n', dtype=np.uint8)
_ASCII_LIMIT = 128


@dataclass
class Piece:
    """Part of a field's text on every row: `data[i]` holds row i's bytes, of which the row
    keeps the first `lengths[i]` (the last ones when `from_right`)."""

    data: np.ndarray  # uint8, shape (n_rows, width)
    lengths: np.ndarray  # int64, shape (n_rows,)
    from_right: bool = False

    def kept(self, out: np.ndarray | None = None) -> np.ndarray:
        """The mask of the bytes each row keeps, shape (n_rows, width) (into `out` if given)."""
        columns = np.arange(self.data.shape[1])[None, :]
        if self.from_right:
            return np.greater_equal(columns, (self.data.shape[1] - self.lengths)[:, None], out=out)
        return np.less(columns, self.lengths[:, None], out=out)

    def hidden_where(self, hide: np.ndarray) -> Piece:
        return Piece(self.data, np.where(hide, 0, self.lengths), self.from_right)


@dataclass
class Field:
    """A CSV field on every row: its pieces run together, or (long strings) each row's bytes."""

    pieces: list[Piece] = field(default_factory=list)
    row_bytes: list[bytes] | None = None

    def __len__(self) -> int:
        if self.row_bytes is not None:
            return len(self.row_bytes)
        return len(self.pieces[0].lengths) if self.pieces else 0

    def rows(self) -> list[bytes]:
        """Each row's bytes (the slow way, for joining with a long-string field)."""
        if self.row_bytes is not None:
            return self.row_bytes
        return _split(join_lines([self], separator=b"", terminator=b""))

    def to_strings(self) -> list[str]:
        return [row.decode("utf-8") for row in self.rows()]


@dataclass
class JoinedRows:
    """Rows of text joined from fields: the bytes, and each row's length."""

    data: bytes
    row_lengths: np.ndarray


def _split(joined: JoinedRows) -> list[bytes]:
    ends = np.cumsum(joined.row_lengths).tolist()
    starts = [0, *ends[:-1]]
    return [joined.data[s:e] for s, e in zip(starts, ends, strict=True)]


def constant_piece(text: bytes, n_rows: int, present: np.ndarray | None = None) -> Piece:
    """The same bytes on every row (or only where `present`)."""
    data = np.broadcast_to(np.frombuffer(text, dtype=np.uint8), (n_rows, len(text)))
    lengths = np.full(n_rows, len(text), dtype=np.int64)
    if present is not None:
        lengths = np.where(present, lengths, 0)
    return Piece(data, lengths)


def constant_field(text: str, n_rows: int) -> Field:
    return Field([constant_piece(text.encode("utf-8"), n_rows)]) if text else empty_field(n_rows)


def empty_field(n_rows: int) -> Field:
    return Field([Piece(np.zeros((n_rows, 0), dtype=np.uint8), np.zeros(n_rows, np.int64))])


def hidden_where(one: Field, hide: np.ndarray) -> Field:
    """The field, empty on the rows where `hide` is True."""
    if one.row_bytes is not None:
        return Field(
            row_bytes=[b"" if h else r for r, h in zip(one.rows(), hide.tolist(), strict=True)]
        )
    return Field([piece.hidden_where(hide) for piece in one.pieces])


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
    pieces: list[Piece] = []
    for position, one in enumerate(fields):
        if position and separator:
            pieces.append(constant_piece(separator, n_rows))
        pieces.extend(one.pieces)
    if blank is not None:
        pieces = [piece.hidden_where(blank) for piece in pieces]
    if terminator:
        pieces.append(constant_piece(terminator, n_rows))
    if not pieces or n_rows == 0:
        return JoinedRows(b"", np.zeros(n_rows, dtype=np.int64))
    # the pieces side by side, and the mask of the bytes kept, written in place (one pass
    # each); a row's length is the sum of its pieces' (a row-wise sum of the mask is slow)
    total = sum(p.data.shape[1] for p in pieces)
    data = np.empty((n_rows, total), dtype=np.uint8)
    keep = np.empty((n_rows, total), dtype=bool)
    row_lengths = np.zeros(n_rows, dtype=np.int64)
    at = 0
    for piece in pieces:
        width = piece.data.shape[1]
        data[:, at : at + width] = piece.data
        piece.kept(out=keep[:, at : at + width])
        row_lengths += np.clip(piece.lengths, 0, width)
        at += width
    return JoinedRows(data[keep].tobytes(), row_lengths)


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
    return JoinedRows(b"".join(lines), np.array([len(line) for line in lines], dtype=np.int64))


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
    lengths = np.strings.str_len(unicode).astype(np.int64)
    ascii_rows = (codes < _ASCII_LIMIT).all(axis=1)
    data = codes.astype(np.uint8)
    special = np.isin(data, _NEEDS_QUOTES).any(axis=1) & ascii_rows
    slow = np.flatnonzero(~ascii_rows | special)
    if slow.size == 0:
        return Field([Piece(data, lengths)])
    return _with_slow_rows(data, lengths, unicode, slow)


def _with_slow_rows(
    data: np.ndarray, lengths: np.ndarray, unicode: np.ndarray, slow: np.ndarray
) -> Field:
    """Re-make the rows that need UTF-8 encoding or quoting (usually few) in Python."""
    encoded = [_quoted(text).encode("utf-8") for text in unicode[slow].tolist()]
    width = max(data.shape[1], max(len(b) for b in encoded))
    if width > MAX_MATRIX_WIDTH * 4:
        rows = [bytes(row[:length]) for row, length in zip(data, lengths.tolist(), strict=True)]
        for position, row in zip(slow.tolist(), encoded, strict=True):
            rows[position] = row
        return Field(row_bytes=rows)
    wide = np.zeros((data.shape[0], width), dtype=np.uint8)
    wide[:, : data.shape[1]] = data
    lengths = lengths.copy()
    for position, row in zip(slow.tolist(), encoded, strict=True):
        wide[position, :] = 0
        wide[position, : len(row)] = np.frombuffer(row, dtype=np.uint8)
        lengths[position] = len(row)
    return Field([Piece(wide, lengths)])


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
    "Piece",
    "constant_field",
    "constant_piece",
    "empty_field",
    "hidden_where",
    "join_lines",
    "text_field",
    "text_line",
]

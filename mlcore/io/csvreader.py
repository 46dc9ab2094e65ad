"""The streaming CSV reader: sniffing, record splitting, field parsing.

Design (speed and bounded memory, whatever the file size):

* Each file is read in binary blocks of about `chunk_bytes`. The bytes after the last complete
  record are carried into the next block, so a record never straddles two chunks.
* Record boundaries are found with numpy: a newline ends a record only when an even number of
  double quotes precede it (RFC 4180 quotes come in pairs, an escaped quote `""` included), so
  newlines inside quoted fields are not boundaries. Each block starts at a record boundary, so
  the quote parity restarts at zero for every block.
* Field counts come from the delimiters outside quotes, also with numpy. Records with the wrong
  number of fields are reported as `InvalidRecord` and left out; blank lines are skipped silently.
* The good records go, as one byte buffer per chunk, to `pandas.read_csv` (C engine, every value a
  `str`, no NA conversion), which does the unquoting. If pandas finds a different number of rows
  (a bare carriage return inside a field, say), a small pure-Python splitter parses that chunk.
* UTF-8 is checked block by block on complete records only; a record ends with a newline byte,
  which never sits inside a multibyte character, so no character is ever split between checks.

Known limits: files with old Mac line endings (a bare `\\r`, no `\\n`) are not supported; a quote
inside an unquoted field (`5'10"`) upsets the quote parity, so the following records merge until
the next stray quote and are reported as invalid. Values are never trimmed: with `, ` separators
(adult.data) the values keep their leading space and the type conversion trims them later.

>>> from mlcore.io.locations import resolve_local
>>> files = resolve_local("../shared/data/banking.csv")      # doctest: +SKIP
>>> sniffed = sniff(files)                                       # doctest: +SKIP
>>> for chunk in CsvReader(files, sniffed.format).chunks():      # doctest: +SKIP
...     print(chunk.file_name, len(chunk.frame), chunk.line_numbers[0])
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import pandas as pd
from pandas.api.types import pandas_dtype
from pandas.io.parsers import TextFileReader

try:  # pandas' C tokenizer (private: see _parse_with_tokenizer)
    from pandas._libs.parsers import TextReader as _TextReader
except ImportError:  # pragma: no cover - a pandas without it: read_csv does the work
    _TextReader = None

from mlcore.errors import DataError
from mlcore.io.files import DataFile

# a frame of column arrays without a Series each (private: see _all_rows); where it is missing,
# pandas' public read makes the frame (a frame of the arrays by other means would infer types)
_FROM_ARRAYS = getattr(pd.DataFrame, "_from_arrays", None)

DELIMITER_CANDIDATES: tuple[str, ...] = (",", ";", "\t", "|")
DEFAULT_CHUNK_BYTES = 8 << 20
DEFAULT_SAMPLE_BYTES = 1 << 20
# pandas parses a region of at least this many bytes in its own chunks (low_memory)
LOW_MEMORY_FROM_BYTES = 1 << 20
# below this many bytes of records, pandas' Categoricals cost more than the strings (about 1 ms
# per chunk of banking-batch.csv's 4,119 records and 10 category columns); see CsvReader
SMALL_REGION_BYTES = 1 << 20
# A record longer than this means an unbalanced quote swallowed the rest of the file; AML's own
# record limit is 100 KB, so this leaves plenty of room while keeping memory bounded.
MAX_RECORD_BYTES = 16 << 20
MAX_SAMPLE_ROWS = 1000
# A one-column file must have one field on this share of its sampled lines to be a table.
NOT_A_TABLE_SHARE = 0.9
UTF8_BOM = b"\xef\xbb\xbf"

_QUOTE = ord('"')
_NEWLINE = ord("\n")
_CARRIAGE_RETURN = ord("\r")
_QUOTE_BYTE = b'"'
_NO_POSITIONS = np.zeros(0, dtype=np.int64)
_BYTE_SUM = np.uint64(0x0101010101010101)

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class CsvFormat:
    """How to split a datasource's files into fields.

    >>> CsvFormat(delimiter=";", has_header=True)
    CsvFormat(delimiter=';', has_header=True)
    """

    delimiter: str = ","
    has_header: bool = True

    def __post_init__(self) -> None:
        if len(self.delimiter) != 1 or self.delimiter in '"\r\n':
            raise ValueError(f"unsupported delimiter {self.delimiter!r}")


@dataclass(frozen=True)
class InvalidRecord:
    """A record the readers left out, and why.

    `line` is the 1-based physical line where the record starts in `file`; `column` names the
    attribute at fault when there is one (a bad value), else None (a wrong field count).
    """

    file: str
    line: int
    column: str | None
    reason: str


@dataclass
class Chunk:
    """Consecutive good records of one file, as strings exactly as in the file (unquoted).

    Columns the reader was asked to read as floats (`float_columns`) are float64 (NaN for an
    empty field) when every value of the chunk is a finite number or empty, else strings.
    Columns asked for as categories (`category_columns`) are usually Categoricals of the same
    strings; a chunk the pure-Python splitter had to parse (or a small one, see
    `categories_from_bytes`) holds plain strings instead.
    """

    frame: pd.DataFrame
    line_numbers: np.ndarray
    offsets: np.ndarray
    file_name: str

    def __len__(self) -> int:
        return len(self.frame)


@dataclass
class Sniffed:
    """What `sniff` found out about a datasource's files."""

    delimiter: str
    has_header: bool
    columns: list[str]
    sample_rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    @property
    def format(self) -> CsvFormat:
        return CsvFormat(delimiter=self.delimiter, has_header=self.has_header)


# --------------------------------------------------------------------------------------------
# Record splitting (numpy)
# --------------------------------------------------------------------------------------------


@dataclass
class _Records:
    """The complete records at the front of a buffer.

    `starts`/`ends` are byte positions in the buffer (`ends` excludes the line terminator);
    `segment_ends` include it, so segments tile `[0, consumed)` exactly.
    """

    starts: np.ndarray
    ends: np.ndarray
    segment_ends: np.ndarray
    lines: np.ndarray
    consumed: int
    newlines_consumed: int
    open_quote_at_end: bool = False
    quoted: bool = True  # whether the buffer holds a double quote (False: no quote at all)

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def blank(self) -> np.ndarray:
        return self.ends == self.starts


def _split_records(buffer: bytes, *, first_line: int, final: bool) -> _Records:
    """Find the complete records in `buffer`, which starts at a record boundary.

    With `final`, the bytes after the last newline form a last record (a file whose last line has
    no newline). Line numbers are 1-based and physical, counting from `first_line`.
    """
    data = np.frombuffer(buffer, dtype=np.uint8)
    newlines = np.flatnonzero(data == _NEWLINE)
    # most files hold no quote at all: memchr says so at memory speed, and every newline is
    # then a boundary (no scan for quotes, no parity, the line numbers a plain count)
    quoted = _QUOTE_BYTE in buffer
    quotes = np.flatnonzero(data == _QUOTE) if quoted else _NO_POSITIONS
    # A newline is a boundary when an even number of quotes precede it.
    outside_quotes = (np.searchsorted(quotes, newlines) & 1) == 0 if quotes.size else None
    boundaries = newlines if outside_quotes is None else newlines[outside_quotes]
    segment_ends = boundaries + 1
    ends = boundaries.copy()
    consumed = int(segment_ends[-1]) if segment_ends.size else 0
    open_quote = False
    if final and consumed < len(buffer):
        segment_ends = np.append(segment_ends, len(buffer))
        ends = np.append(ends, len(buffer))
        open_quote = bool((quotes.size - np.searchsorted(quotes, consumed)) & 1)
        consumed = len(buffer)
    starts = np.empty_like(segment_ends)
    if starts.size:
        starts[0] = 0
        starts[1:] = segment_ends[:-1]
    # A record ending in CRLF: the CR belongs to the terminator, not to the last field.
    has_cr = (ends > starts) & (data[np.maximum(ends - 1, 0)] == _CARRIAGE_RETURN)
    ends = ends - has_cr
    if outside_quotes is None:  # record i starts after newline i - 1
        lines = first_line + np.arange(len(starts), dtype=np.int64)
        newlines_consumed = len(boundaries)
    else:
        lines = first_line + np.searchsorted(newlines, starts)
        newlines_consumed = int(np.searchsorted(newlines, consumed))
    return _Records(  # already int64 (flatnonzero's type): no copies
        starts=starts.astype(np.int64, copy=False),
        ends=ends.astype(np.int64, copy=False),
        segment_ends=segment_ends.astype(np.int64, copy=False),
        lines=lines.astype(np.int64, copy=False),
        consumed=consumed,
        newlines_consumed=newlines_consumed,
        open_quote_at_end=open_quote,
        quoted=quoted,
    )


def _field_counts(buffer: bytes, records: _Records, delimiter: str) -> np.ndarray:
    """The number of fields of each record: delimiters outside quotes, plus one."""
    data = np.frombuffer(buffer, dtype=np.uint8, count=records.consumed)
    if not records.quoted:
        before = _delimiters_before(data, ord(delimiter))
        return before(records.ends) - before(records.starts) + 1
    delimiters = np.flatnonzero(data == ord(delimiter))
    quotes = np.flatnonzero(data == _QUOTE)
    if quotes.size and delimiters.size:
        delimiters = delimiters[(np.searchsorted(quotes, delimiters) & 1) == 0]
    before_end = np.searchsorted(delimiters, records.ends)
    before_start = np.searchsorted(delimiters, records.starts)
    return (before_end - before_start + 1).astype(np.int64)


def _delimiters_before(data: np.ndarray, delimiter: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function telling how many `delimiter` bytes of `data` lie before each given position.

    Counted eight bytes at a time: the 0/1 bytes of a comparison, read as 64-bit words, are
    summed by one multiplication each (the sum lands in the top byte), then prefix-summed per
    word; a position inside a word adds the count of that word's bytes below it. This is about
    3x cheaper than listing the delimiters' positions (a record has many fields).
    """
    n_words = len(data) // 8 + 1  # one word more than needed: a position may be len(data)
    hits = np.zeros(n_words * 8, dtype=np.uint8)
    np.equal(data, delimiter, out=hits[: len(data)].view(bool))
    words = hits.view(np.uint64)
    per_word = (words * _BYTE_SUM) >> np.uint64(56)
    before_word = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(per_word.view(np.int64), out=before_word[1:])  # same dtype: no slow casting

    def before(positions: np.ndarray) -> np.ndarray:
        word = positions >> 3
        inside = (positions & 7).astype(np.uint64) << np.uint64(3)
        below = words[word] & ((np.uint64(1) << inside) - np.uint64(1))
        return before_word[word] + ((below * _BYTE_SUM) >> np.uint64(56)).astype(np.int64)

    return before


# What a compressed file starts with: named .csv, it is still not text.
_COMPRESSED = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz"}


def _check_utf8(region: bytes, *, file: str, first_line: int) -> None:
    """Raise DataError naming the line of the first byte that is not UTF-8, or of a NUL byte
    (no text has one, and no database could keep it: PostgreSQL refuses NUL in text).

    >>> _check_utf8(b"\\x1f\\x8b\\x08\\x00", file="data.csv", first_line=1)
    Traceback (most recent call last):
    ...
    mlcore.errors.DataError: data.csv, line 1: the file is gzip-compressed, not CSV text: decompress it first
    >>> _check_utf8(b"a,b\\n1,\\x002\\n", file="data.csv", first_line=1)
    Traceback (most recent call last):
    ...
    mlcore.errors.DataError: data.csv, line 2: the file holds a NUL byte (0x00), which CSV text never does (is it UTF-16? save it as UTF-8)
    """
    nul = region.find(b"\x00")  # memchr: as fast as isascii
    if nul >= 0 and not any(region.startswith(magic) for magic in _COMPRESSED):
        line = first_line + region.count(b"\n", 0, nul)
        raise DataError(
            "the file holds a NUL byte (0x00), which CSV text never does "
            "(is it UTF-16? save it as UTF-8)",
            file=file,
            line=line,
        )
    if region.isascii():  # the common case, checked at memory speed
        return
    try:
        region.decode("utf-8")
    except UnicodeDecodeError as err:
        line = first_line + region.count(b"\n", 0, err.start)
        kind = next((k for m, k in _COMPRESSED.items() if region.startswith(m)), None)
        if first_line == 1 and kind:
            message = f"the file is {kind}-compressed, not CSV text: decompress it first"
        else:
            message = f"the file is not UTF-8: invalid byte 0x{region[err.start]:02x}"
        raise DataError(message, file=file, line=line) from None


# --------------------------------------------------------------------------------------------
# Field parsing
# --------------------------------------------------------------------------------------------


def split_record(text: str, delimiter: str) -> list[str]:
    """Split one record into its fields, RFC 4180 style (what pandas' C parser does).

    >>> split_record('x,"a, ""q"" b",', ",")
    ['x', 'a, "q" b', '']
    """
    fields: list[str] = []
    current: list[str] = []
    in_quotes = False
    at_field_start = True
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if in_quotes:
            if char == '"':
                if i + 1 < n and text[i + 1] == '"':
                    current.append('"')
                    i += 1
                else:
                    in_quotes = False
            else:
                current.append(char)
        elif char == delimiter:
            fields.append("".join(current))
            current = []
            at_field_start = True
            i += 1
            continue
        elif char == '"' and at_field_start:
            in_quotes = True
        else:
            current.append(char)
        at_field_start = False
        i += 1
    fields.append("".join(current))
    return fields


def _parse_with_pandas(
    region: bytes,
    delimiter: str,
    n_fields: int,
    float_positions: Sequence[int] = (),
    category_positions: Sequence[int] = (),
) -> pd.DataFrame:
    """Parse with pandas' C parser: every field a str, float64 for `float_positions`, and a
    Categorical of the strings ("" included, never NaN) for `category_positions`.

    A float column accepts numbers and empty fields (NaN) only: anything else (`NA`, `abc`, a
    blank) raises ValueError, and `inf` parses; the caller checks for both.
    """
    floats: dict[int, Any] = {position: np.float64 for position in float_positions}
    floats |= {position: "category" for position in category_positions if position not in floats}
    dtypes = {position: floats.get(position, object) for position in range(n_fields)}
    # pandas' own chunks of ~32k rows keep its buffers in cache: 15-20% less CPU on an 8 MiB
    # block; one pass is cheaper for small ones
    low_memory = len(region) >= LOW_MEMORY_FROM_BYTES
    if not low_memory:
        frame = _parse_with_tokenizer(region, delimiter, n_fields, dtypes, float_positions)
        if frame is not None:
            return frame
    parser = pd.read_csv(
        io.BytesIO(region),
        iterator=True,
        engine="c",
        sep=delimiter,
        header=None,
        names=range(n_fields),
        dtype=dtypes,
        keep_default_na=False,
        na_values={position: [""] for position in float_positions},
        na_filter=bool(float_positions),
        quoting=csv.QUOTE_MINIMAL,
        doublequote=True,
        quotechar='"',
        skip_blank_lines=True,
        skipinitialspace=False,
        encoding="utf-8",
        low_memory=low_memory,
    )
    with parser:
        return _all_rows(parser)


def _parse_with_tokenizer(
    region: bytes,
    delimiter: str,
    n_fields: int,
    dtypes: dict[int, Any],
    float_positions: Sequence[int],
) -> pd.DataFrame | None:
    """`_parse_with_pandas` in one pass, calling pandas' C tokenizer with the arguments
    `read_csv` gives it for these options, without `read_csv`'s processing of them: 0.3 ms of
    a 2.9 ms parse of 4,000 records. The tokenizer's signature is private: None when it does
    not take these arguments (a test compares the two ways on the installed pandas)."""
    if _TextReader is None or _FROM_ARRAYS is None:
        return None
    try:
        tokenizer = _TextReader(
            io.BytesIO(region),
            delimiter=delimiter,
            escapechar=None,
            quotechar='"',
            quoting=csv.QUOTE_MINIMAL,
            doublequote=True,
            skipinitialspace=False,
            lineterminator=None,
            header=None,
            index_col=None,
            names=list(range(n_fields)),
            skiprows=set(),
            na_values={position: {""} for position in float_positions},
            keep_default_na=False,
            true_values=None,
            false_values=None,
            converters={},
            dtype={position: pandas_dtype(dtype) for position, dtype in dtypes.items()},
            thousands=None,
            comment=None,
            decimal=".",
            usecols=None,
            skip_blank_lines=True,
            encoding_errors="strict",
            on_bad_lines=0,  # raise
            dtype_backend="numpy",
            na_filter=bool(float_positions),
            float_precision=None,
            na_fvalues={position: set() for position in float_positions},
            allow_leading_cols=True,
        )
    except TypeError:
        return None
    try:
        parsed = tokenizer.read()
    except StopIteration:  # no row at all: read_csv knows what frame that makes
        return None
    finally:
        tokenizer.close()
    return _frame_of_arrays([parsed[position] for position in range(n_fields)], range(n_fields))


def _frame_of_arrays(arrays: list[Any], names: Sequence[Any]) -> pd.DataFrame:
    """A frame of the parsed column arrays as they are (callers check `_FROM_ARRAYS`)."""
    assert _FROM_ARRAYS is not None
    rows = len(arrays[0]) if arrays else 0
    return _FROM_ARRAYS(
        arrays, columns=pd.Index(names), index=pd.RangeIndex(rows), verify_integrity=False
    )


def _all_rows(parser: TextFileReader) -> pd.DataFrame:
    """Every row of `parser` as a frame, made straight from the column arrays it parsed.

    Given a dtype per column, `TextFileReader.read` wraps each parsed array in a Series before
    making the frame of them: ~0.5 ms for 20 columns of 4,000 rows, a sixth of the whole parse.
    The arrays are the same either way. Both calls used here are pandas' private ones (stable
    since pandas 1; a test checks them on the installed version): without them, `read`.
    """
    engine_read = getattr(getattr(parser, "_engine", None), "read", None)
    if engine_read is None or _FROM_ARRAYS is None:
        return parser.read()
    _, names, parsed = engine_read(None)  # no index: the options name no index column
    return _frame_of_arrays([parsed[name] for name in names], names)


def column_arrays(frame: pd.DataFrame) -> list[Any]:
    """Each column's values in order (an ndarray, or a Categorical), without a Series each.

    `frame[name]` and `frame.iloc[:, i]` build a Series per call, and the first lookup by name
    builds the columns' hash index: 30 to 50 us a column in a fresh process, which a chunk of
    20 columns paid about 30 times (the float check here, then the scorer). pandas' own
    iterator over the column arrays (private, hence the public fallback) takes ~7 us a column.
    """
    iterate = getattr(frame, "_iter_column_arrays", None)
    if iterate is not None:
        return list(iterate())
    arrays: list[Any] = []
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        categorical = isinstance(column.dtype, pd.CategoricalDtype)
        arrays.append(column.array if categorical else column.to_numpy())
    return arrays


def _parse_with_python(
    buffer: bytes, starts: np.ndarray, ends: np.ndarray, delimiter: str, n_fields: int
) -> pd.DataFrame:
    rows = [
        split_record(buffer[s:e].decode("utf-8"), delimiter)
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]
    frame = pd.DataFrame(rows, columns=range(n_fields), dtype=object)
    return frame


def _select_bytes(buffer: bytes, records: _Records, keep: np.ndarray) -> bytes:
    """The bytes of the kept records (terminators included), in order."""
    if keep.all():
        return buffer[: records.consumed]
    kept = np.flatnonzero(keep)
    if kept.size and kept.size == len(keep) - kept[0]:
        # Only leading records dropped (typically the header): a plain slice.
        return buffer[int(records.starts[kept[0]]) : records.consumed]
    data = np.frombuffer(buffer, dtype=np.uint8, count=records.consumed)
    byte_mask = np.repeat(keep, records.segment_ends - records.starts)
    return data[byte_mask].tobytes()


# --------------------------------------------------------------------------------------------
# Column names
# --------------------------------------------------------------------------------------------


def generic_column_names(count: int) -> list[str]:
    """Names for a file without a header: Var01, Var02... (at least two digits).

    >>> generic_column_names(3)
    ['Var01', 'Var02', 'Var03']
    """
    width = max(2, len(str(count)))
    return [f"Var{i:0{width}d}" for i in range(1, count + 1)]


def column_names_from_header(header: Sequence[str]) -> tuple[list[str], list[str]]:
    """Attribute names from a header line, and notes on what had to change.

    Names are trimmed; an empty name becomes VarNN; a repeated name gets a `_2`, `_3`... suffix.

    >>> column_names_from_header(["age", " job", "", "age"])[0]
    ['age', 'job', 'Var03', 'age_2']
    """
    generic = generic_column_names(len(header))
    names: list[str] = []
    notes: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(header):
        name = raw.strip() or generic[position]
        if not raw.strip():
            notes.append(f"Column {position + 1} has no name in the header; named it {name}")
        base, suffix = name, 2
        while name in seen:
            name, suffix = f"{base}_{suffix}", suffix + 1
        if name != (raw.strip() or generic[position]):
            notes.append(f"Column name {base!r} appears more than once; renamed one to {name!r}")
        seen.add(name)
        names.append(name)
    return names, notes


# --------------------------------------------------------------------------------------------
# Reading blocks
# --------------------------------------------------------------------------------------------


def _read_block(stream: BinaryIO, size: int) -> bytes:
    """Read `size` bytes unless the stream ends first (raw streams may return less per call)."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


@dataclass
class _Block:
    """One buffer of complete records from a file, with where it sits in the file."""

    buffer: bytes
    records: _Records
    file_offset: int  # byte offset of buffer[0] in the file (BOM included)


def _iter_blocks(data_file: DataFile, chunk_bytes: int, max_record_bytes: int) -> Iterator[_Block]:
    """Split a file into buffers of complete records, UTF-8 checked, BOM skipped."""
    with data_file.open() as stream:
        carry = b""
        file_offset = 0
        next_line = 1
        first = True
        position = 0  # bytes read from the stream
        while True:
            # no more than the file's size (and one byte to see its end): a read asks for the
            # memory it requests, and 8 MiB for a 0.5 MB file cost 0.2 ms. A file grown since
            # its size was taken fills the request, and is read on in whole chunks.
            unread = data_file.size - position
            request = min(chunk_bytes, unread + 1) if unread > 0 else chunk_bytes
            block = _read_block(stream, request)
            position += len(block)
            final = len(block) < request
            if first:
                first = False
                if block.startswith(UTF8_BOM):
                    block = block[len(UTF8_BOM) :]
                    file_offset = len(UTF8_BOM)
            buffer = carry + block if carry else block
            if not buffer and final:
                return
            records = _split_records(buffer, first_line=next_line, final=final)
            if records.consumed:
                region = buffer[: records.consumed]
                _check_utf8(region, file=data_file.name, first_line=next_line)
                yield _Block(buffer, records, file_offset)
            carry = buffer[records.consumed :]
            if len(carry) > max_record_bytes:
                raise DataError(
                    f"a record is longer than {max_record_bytes} bytes; "
                    "is a double quote left unclosed?",
                    file=data_file.name,
                    line=next_line + records.newlines_consumed,
                )
            file_offset += records.consumed
            next_line += records.newlines_consumed
            if final:
                return


def _first_record(
    data_file: DataFile, delimiter: str, blocks: Iterable[_Block] | None = None
) -> tuple[list[str], int] | None:
    """The first non-blank record of a file (or of its `blocks`, already read) as fields, with
    its line; None for an empty file."""
    if blocks is None:
        blocks = _iter_blocks(data_file, 1 << 16, MAX_RECORD_BYTES)
    for block in blocks:
        records = block.records
        for i in np.flatnonzero(~records.blank).tolist():
            text = block.buffer[int(records.starts[i]) : int(records.ends[i])].decode("utf-8")
            return split_record(text, delimiter), int(records.lines[i])
    return None


# --------------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------------


class CsvReader:
    """Stream the records of a datasource's files as chunks of strings.

    `expected_columns` (a count, or the names for a file without a header) fixes the number of
    fields a record must have; by default it comes from the header (or from the first record).
    `on_invalid` receives each record with the wrong number of fields; `progress(records_read,
    bytes_read)` is called once per block read.

    `float_columns` names columns expected to hold numbers: pandas then parses them straight to
    float64, which avoids building a Python string per value (the reader's main cost). A chunk
    where such a column holds anything else is parsed again as strings, and that column is read
    as strings from then on, so a column full of `NA`s costs one extra parse, not one per chunk.

    `category_columns` names columns that repeat a few strings (CATEGORICAL and BINARY
    attributes): pandas then hands them over as Categoricals of the same strings, hashing each
    field's bytes instead of building a Python string per field. The categories come in pandas'
    (sorted) order, not in order of appearance. pandas turns all-numeric or all-boolean
    categories into numbers, losing the strings; such a column is parsed again as strings and
    read as strings from then on. With `categories_from_bytes`, a chunk of fewer bytes holds
    those columns as strings (`SMALL_REGION_BYTES`: where the Categoricals' fixed cost is more
    than the strings'; batch predictions, which take either form, ask for that).

    >>> reader = CsvReader(files, CsvFormat(",", True))              # doctest: +SKIP
    >>> reader.columns[:3]                                            # doctest: +SKIP
    ['age', 'job', 'marital']
    >>> sum(len(chunk.frame) for chunk in reader.chunks())            # doctest: +SKIP
    41188
    """

    def __init__(
        self,
        files: Sequence[DataFile],
        fmt: CsvFormat,
        *,
        expected_columns: int | Sequence[str] | None = None,
        chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        on_invalid: Callable[[InvalidRecord], None] | None = None,
        progress: ProgressCallback | None = None,
        max_record_bytes: int = MAX_RECORD_BYTES,
        float_columns: Collection[str] = (),
        category_columns: Collection[str] = (),
        categories_from_bytes: int = 0,
    ) -> None:
        if not files:
            raise DataError("the datasource has no files")
        if chunk_bytes < 1:
            raise ValueError("chunk_bytes must be positive")
        self.files = list(files)
        self.fmt = fmt
        self.chunk_bytes = chunk_bytes
        self.max_record_bytes = max_record_bytes
        self.on_invalid = on_invalid
        self.progress = progress
        self.header: list[str] | None = None
        self.header_file: str | None = None
        # a file of one block read whole for its header: (its position, the block), for chunks()
        self._kept: tuple[int, _Block] | None = None
        self.columns = self._find_columns(expected_columns)
        self.categories_from_bytes = categories_from_bytes
        self.read_as(float_columns, category_columns)

    def read_as(
        self, float_columns: Collection[str] = (), category_columns: Collection[str] = ()
    ) -> None:
        """Which columns to read as floats and as categories (see the class), for a reader
        made before they were known (its columns tell them); before reading only."""
        floats, categories = set(float_columns), set(category_columns)
        self._float_positions = [i for i, c in enumerate(self.columns) if c in floats]
        self._category_positions = [i for i, c in enumerate(self.columns) if c in categories]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def n_fields(self) -> int:
        return len(self.columns)

    def _find_columns(self, expected: int | Sequence[str] | None) -> list[str]:
        first = None
        for position, data_file in enumerate(self.files):
            kept = self._whole_block(data_file)
            blocks = [kept] if kept is not None else None
            first = _first_record(data_file, self.fmt.delimiter, blocks)
            if first is not None:
                if kept is not None:
                    self._kept = (position, kept)
                self.header_file = data_file.name
                break
        if first is None:
            raise DataError("file is empty", file=self.files[0].name)
        fields, line = first
        if self.fmt.has_header:
            self.header = fields
            names, _ = column_names_from_header(fields)
            expected_count = expected if isinstance(expected, int) else None
            if expected is not None and not isinstance(expected, int):
                expected_count = len(expected)
            if expected_count is not None and expected_count != len(names):
                raise DataError(
                    f"the header has {len(names)} fields, expected {expected_count}",
                    file=self.header_file,
                    line=line,
                )
            return names
        if expected is None:
            return generic_column_names(len(fields))
        if isinstance(expected, int):
            return generic_column_names(expected)
        return list(expected)

    def _whole_block(self, data_file: DataFile) -> _Block | None:
        """A file smaller than a chunk read whole, its one block kept so that `chunks()` does
        not read and split it again (for 4,000 records, a third of the reader's own cost);
        None when it is larger, or turns out larger than listed, or does not read cleanly (its
        errors then come where they always did: from the first 64 KiB now, the rest later)."""
        if data_file.size >= self.chunk_bytes:
            return None
        blocks = _iter_blocks(data_file, self.chunk_bytes, self.max_record_bytes)
        try:
            block = next(blocks, None)
            more = next(blocks, None) if block is not None else None
        except DataError:
            return None
        finally:
            blocks.close()
        return block if more is None else None

    def chunks(self) -> Iterator[Chunk]:
        """Yield the good records, one chunk per block read; a chunk never spans two files."""
        records_read = 0
        bytes_read = 0
        datasource_offset = 0
        for position, data_file in enumerate(self.files):
            header_pending = self.fmt.has_header
            file_bytes = 0
            for block in self._blocks(position, data_file):
                chunk, header_pending, n_records = self._read_block(
                    block, data_file, datasource_offset, header_pending
                )
                records_read += n_records
                file_bytes = block.file_offset + block.records.consumed
                if self.progress is not None:
                    self.progress(records_read, bytes_read + file_bytes)
                if chunk is not None:
                    yield chunk
            bytes_read += file_bytes
            datasource_offset += max(file_bytes, data_file.size)
        if records_read == 0:
            reason = "contains a header but no records" if self.fmt.has_header else "file is empty"
            raise DataError(reason, file=self.header_file or self.files[0].name)

    def _blocks(self, position: int, data_file: DataFile) -> Iterable[_Block]:
        if self._kept is not None and self._kept[0] == position:
            return [self._kept[1]]
        return _iter_blocks(data_file, self.chunk_bytes, self.max_record_bytes)

    def _read_block(
        self, block: _Block, data_file: DataFile, datasource_offset: int, header_pending: bool
    ) -> tuple[Chunk | None, bool, int]:
        """Parse one block: skip the header, report bad field counts, parse the rest."""
        records = block.records
        data_rows = ~records.blank
        if header_pending and data_rows.any():
            header_index = int(np.argmax(data_rows))
            self._check_header(block, header_index, data_file)
            data_rows[header_index] = False
            header_pending = False
        n_records = int(data_rows.sum())
        frame = self._parse_if_counts_fit(block, data_rows) if n_records else None
        good = data_rows
        if frame is None:
            counts = _field_counts(block.buffer, records, self.fmt.delimiter)
            good = data_rows & (counts == self.n_fields)
            if records.open_quote_at_end:
                good[-1] = False
            self._report_bad_counts(records, data_rows & ~good, counts, data_file.name)
            if not good.any():
                return None, header_pending, n_records
            frame = self._parse(block.buffer, records, good)
            assert frame is not None  # not strict: the pure-Python splitter has the last word
        offsets = datasource_offset + block.file_offset + records.starts[good]
        chunk = Chunk(
            frame=frame,
            line_numbers=records.lines[good],
            offsets=offsets.astype(np.int64),
            file_name=data_file.name,
        )
        return chunk, header_pending, n_records

    def _check_header(self, block: _Block, index: int, data_file: DataFile) -> None:
        records = block.records
        text = block.buffer[int(records.starts[index]) : int(records.ends[index])].decode("utf-8")
        fields = split_record(text, self.fmt.delimiter)
        if self.header is not None and fields != self.header:
            raise DataError(
                f"the header differs from the header of {self.header_file}",
                file=data_file.name,
                line=int(records.lines[index]),
            )

    def _report_bad_counts(
        self, records: _Records, bad: np.ndarray, counts: np.ndarray, file_name: str
    ) -> None:
        if self.on_invalid is None or not bad.any():
            return
        for i in np.flatnonzero(bad).tolist():
            if records.open_quote_at_end and i == len(records) - 1:
                reason = "a quoted field is not closed before the end of the file"
            else:
                reason = f"expected {self.n_fields} fields, found {int(counts[i])}"
            self.on_invalid(InvalidRecord(file_name, int(records.lines[i]), None, reason))

    def _parse_if_counts_fit(self, block: _Block, data_rows: np.ndarray) -> pd.DataFrame | None:
        """The block's records parsed without counting each one's fields, when that is safe:
        else None (the caller counts them and leaves the bad ones out).

        In a block without quotes, if the delimiters add up to exactly (fields - 1) per record,
        a record with too few fields implies another with too many, and pandas refuses a
        record with more fields than names (ParserError). So when pandas parses the records
        into as many rows, every record has the right number of fields (pandas and the
        records agree on where rows end: no quote, and no carriage return but CRLF's); on any
        doubt this returns None. This saves the per-record count (~6 ms per 8 MiB block).
        """
        records = block.records
        if records.quoted:
            return None
        kept = data_rows | records.blank
        region = _select_bytes(block.buffer, records, kept)
        data = np.frombuffer(region, np.uint8)
        if np.count_nonzero(data == ord(self.fmt.delimiter)) != int(data_rows.sum()) * (
            self.n_fields - 1
        ):
            return None
        # a carriage return that does not end a record (CRLF) is a row break to pandas: one
        # record could become two rows while a blank-looking one is skipped, same row count
        crlf = (records.segment_ends - records.ends == 2) & kept
        if np.count_nonzero(data == _CARRIAGE_RETURN) != np.count_nonzero(crlf):
            return None
        return self._parse(block.buffer, records, data_rows, region=region, strict=True)

    def _parse(
        self,
        buffer: bytes,
        records: _Records,
        good: np.ndarray,
        *,
        region: bytes | None = None,
        strict: bool = False,
    ) -> pd.DataFrame | None:
        """The good records as a frame. `region`: their bytes (blank records may be in it:
        pandas skips them). `strict`: None when pandas fails or finds other rows (the caller
        knows another way) instead of the pure-Python splitter."""
        if region is None:
            # blank records stay in: pandas skips them, and the slice is cheaper than a mask
            region = _select_bytes(buffer, records, good | records.blank)
        expected_rows = int(good.sum())
        # pandas builds each Categorical for ~0.15 ms whatever its length: below a few thousand
        # records the strings may cost less (consumers take either form)
        categories = len(region) >= self.categories_from_bytes
        frame = self._parse_region(region, expected_rows, categories)
        if frame is not None and categories and self._drop_converted_categories(frame):
            # those columns as strings now
            frame = self._parse_region(region, expected_rows, categories)
        if frame is None or len(frame) != expected_rows:
            if strict:
                return None
            # pandas saw other row breaks (a bare CR, a whitespace-only record): parse slowly.
            frame = _parse_with_python(
                buffer, records.starts[good], records.ends[good], self.fmt.delimiter, self.n_fields
            )
        frame.columns = pd.Index(self.columns, dtype=object)
        return frame

    def _parse_region(
        self, region: bytes, expected_rows: int, categories: bool = True
    ) -> pd.DataFrame | None:
        """pandas' parse of the region (floats where they fit), or None if pandas failed;
        `categories`: the category columns as Categoricals (else strings)."""
        category_positions = self._category_positions if categories else []
        frame = (
            self._parse_with_floats(region, expected_rows, category_positions)
            if self._float_positions
            else None
        )
        if frame is None:
            try:
                frame = _parse_with_pandas(
                    region, self.fmt.delimiter, self.n_fields, (), category_positions
                )
            except (pd.errors.ParserError, ValueError):
                frame = None
            if frame is not None and self._float_positions:
                self._drop_non_numeric_float_columns(frame)
        return frame

    def _drop_converted_categories(self, frame: pd.DataFrame) -> bool:
        """Stop reading as categories the columns whose categories pandas turned into numbers
        or booleans; True if there were any (the chunk must then be parsed again).

        pandas converts a categorical column whose every value looks numeric ("01", "1",
        "1.0" all become 1) or boolean: the strings, which decide validity and identity of a
        value here, are lost, so such a column is read as strings from then on (one extra parse
        per column, not one per chunk).
        """
        converted = [
            position
            for position in self._category_positions
            if not pd.api.types.is_string_dtype(frame.iloc[:, position].cat.categories.dtype)
        ]
        self._category_positions = [p for p in self._category_positions if p not in converted]
        return bool(converted)

    def _parse_with_floats(
        self, region: bytes, expected_rows: int, category_positions: Sequence[int]
    ) -> pd.DataFrame | None:
        """The fast parse, or None when a float column holds something else than numbers."""
        try:
            frame = _parse_with_pandas(
                region,
                self.fmt.delimiter,
                self.n_fields,
                self._float_positions,
                category_positions,
            )
        except (pd.errors.ParserError, ValueError):
            return None
        if len(frame) != expected_rows:
            return None
        arrays = column_arrays(frame)
        for position in self._float_positions:  # column by column: no copy of them all
            if np.isinf(arrays[position]).any():
                return None
        return frame

    def _drop_non_numeric_float_columns(self, frame: pd.DataFrame) -> None:
        """Stop reading as floats the columns that just held something else than numbers."""
        keep = []
        for position in self._float_positions:
            strings = frame.iloc[:, position]
            numbers = pd.to_numeric(strings, errors="coerce").to_numpy(dtype=np.float64)
            if not ((np.isnan(numbers) | np.isinf(numbers)) & (strings != "").to_numpy()).any():
                keep.append(position)
        self._float_positions = keep


# --------------------------------------------------------------------------------------------
# Sniffing
# --------------------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    value = text.strip()
    if not value:
        return False
    try:
        number = float(value)
    except ValueError:
        return False
    return number == number and abs(number) != float("inf")


def _read_sample(data_file: DataFile, sample_bytes: int) -> tuple[bytes, bool, bool]:
    """The first `sample_bytes` of a file (more if one record is longer), BOM removed.

    Returns (sample, reached_end_of_file, had_bom).
    """
    with data_file.open() as stream:
        sample = _read_block(stream, sample_bytes)
        at_end = len(sample) < sample_bytes
        while not at_end and b"\n" not in sample and len(sample) < MAX_RECORD_BYTES:
            more = _read_block(stream, sample_bytes)
            at_end = len(more) < sample_bytes
            sample += more
    had_bom = sample.startswith(UTF8_BOM)
    return (sample[len(UTF8_BOM) :] if had_bom else sample), at_end, had_bom


def _choose_delimiter(buffer: bytes, records: _Records) -> tuple[str, int]:
    """The candidate giving the most records with the same field count (>1); commas win ties."""
    data_rows = ~records.blank
    best, best_score, best_count = ",", -1.0, 1
    for candidate in DELIMITER_CANDIDATES:
        counts = _field_counts(buffer, records, candidate)[data_rows]
        if counts.size == 0:
            continue
        values, frequencies = np.unique(counts, return_counts=True)
        modal = int(values[np.argmax(frequencies)])
        score = float(frequencies.max()) / counts.size
        if modal > 1 and score > best_score:
            best, best_score, best_count = candidate, score, modal
    return best, best_count


def _first_row_is_header(rows: list[list[str]]) -> bool:
    """A header has no numbers, and either names numeric columns or is unlike the data below."""
    first, rest = rows[0], rows[1:]
    if any(_is_number(value) for value in first):
        return False
    if not rest:
        return all(value.strip() for value in first)
    width = len(first)
    rest = [row for row in rest if len(row) == width]
    for column in range(width):
        values = [row[column] for row in rest if row[column].strip()]
        numeric = sum(_is_number(v) for v in values)
        if values and numeric >= 0.9 * len(values):
            return True
    names_unique = len(set(first)) == width and all(v.strip() for v in first)
    repeated_below = any(first[c] in {row[c] for row in rest} for c in range(width))
    return names_unique and not repeated_below


def sniff(files: Sequence[DataFile], sample_bytes: int = DEFAULT_SAMPLE_BYTES) -> Sniffed:
    """Guess the delimiter, the header and the column names from the start of the data.

    Reads the first non-empty file's first `sample_bytes` (more if needed to see one record).

    >>> sniffed = sniff(resolve_local("../shared/data/winequality-red.csv"))  # doctest: +SKIP
    >>> sniffed.delimiter, sniffed.has_header, sniffed.columns[0]               # doctest: +SKIP
    (';', True, 'fixed acidity')
    """
    if not files:
        raise DataError("the datasource has no files")
    for data_file in files:
        sample, at_end, had_bom = _read_sample(data_file, sample_bytes)
        records = _split_records(sample, first_line=1, final=at_end)
        if records.consumed:
            _check_utf8(sample[: records.consumed], file=data_file.name, first_line=1)
        if (~records.blank).any():
            return _sniff_sample(data_file, sample, records, had_bom)
    raise DataError("file is empty", file=files[0].name)


def _sniff_sample(data_file: DataFile, sample: bytes, records: _Records, had_bom: bool) -> Sniffed:
    notes: list[str] = []
    if had_bom:
        notes.append("Skipped a UTF-8 byte-order mark at the start of the file")
    delimiter, width = _choose_delimiter(sample, records)
    if delimiter != ",":
        shown = {"\t": "a tab", ";": "';'", "|": "'|'"}[delimiter]
        notes.append(f"Detected {shown} as the delimiter (not a comma)")
    rows = [
        split_record(sample[s:e].decode("utf-8"), delimiter)
        for s, e in zip(records.starts.tolist(), records.ends.tolist(), strict=True)
        if e > s
    ][: MAX_SAMPLE_ROWS + 1]
    if width == 1 and len(rows[0]) == 1:
        _check_single_column_is_a_table(sample, records, data_file.name)
    has_header = _first_row_is_header(rows)
    if has_header:
        if len(rows) == 1:
            raise DataError("contains a header but no records", file=data_file.name)
        columns, name_notes = column_names_from_header(rows[0])
        notes.append("The first line looks like a header: its values name the columns")
        notes.extend(name_notes)
        rows = rows[1:]
    else:
        columns = generic_column_names(len(rows[0]))
        notes.append(f"No header line detected; named the columns {', '.join(columns[:2])}...")
    rows = rows[:MAX_SAMPLE_ROWS]
    notes.extend(_width_notes(len(columns), width))
    if delimiter == "," and _mostly_space_after_delimiter(rows):
        notes.append(
            "Values follow ', ' (a comma and a space); the leading spaces are kept as read "
            "and trimmed when values are converted"
        )
    return Sniffed(delimiter, has_header, columns, rows, notes)


def _check_single_column_is_a_table(buffer: bytes, records: _Records, file: str) -> None:
    """Refuse prose (a .names file, a README): no delimiter splits its lines evenly.

    A genuine one-column file has one field on (nearly) every line; prose has commas here
    and there, so its lines have 1, 2, 4... comma-separated fields.
    """
    counts = _field_counts(buffer, records, ",")[~records.blank]
    if counts.size and float(np.mean(counts == 1)) >= NOT_A_TABLE_SHARE:
        return
    low, high = int(counts.min()), int(counts.max())
    raise DataError(
        "is not a table: no comma, semicolon, tab or '|' splits its lines into the same "
        f"number of fields (its first {counts.size:,} lines have {low} to {high} "
        "comma-separated fields). A datasource needs CSV data: one record per line, with "
        "the same number of fields on every line.",
        file=file,
    )


def _width_notes(columns: int, modal_width: int) -> list[str]:
    """Say so when the file has one column, or when most lines disagree with the first line."""
    if columns == 1:
        return ["Found a single column: no comma, semicolon, tab or '|' separates fields"]
    if modal_width != columns:
        return [
            f"The first line has {columns} fields but most sampled lines have {modal_width}: "
            "lines with another number of fields will be invalid records"
        ]
    return []


def _mostly_space_after_delimiter(rows: list[list[str]]) -> bool:
    later_fields = [value for row in rows for value in row[1:]]
    if not later_fields:
        return False
    spaced = sum(value.startswith(" ") for value in later_fields)
    return spaced >= 0.9 * len(later_fields)

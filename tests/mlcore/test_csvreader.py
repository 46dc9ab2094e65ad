from __future__ import annotations

import csv
import io
import random
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlcore.errors import DataError
from mlcore.io.csvreader import (
    CsvFormat,
    CsvReader,
    InvalidRecord,
    column_arrays,
    column_names_from_header,
    generic_column_names,
    sniff,
    split_record,
)
from mlcore.io.files import DataFile
from mlcore.io.locations import resolve_local

MemoryFile = Callable[..., DataFile]


def read_all(
    files: DataFile | list[DataFile], fmt: CsvFormat | None = None, **options: object
) -> tuple[list[list[str]], list[int], list[int], list[InvalidRecord]]:
    """Every good row, its line and offset, and the invalid records, for short assertions."""
    invalid: list[InvalidRecord] = []
    reader = CsvReader(
        files if isinstance(files, list) else [files],
        fmt or CsvFormat(),
        on_invalid=invalid.append,
        **options,  # type: ignore[arg-type]
    )
    rows: list[list[str]] = []
    lines: list[int] = []
    offsets: list[int] = []
    for chunk in reader.chunks():
        rows.extend(chunk.frame.to_numpy().tolist())
        lines.extend(chunk.line_numbers.tolist())
        offsets.extend(chunk.offsets.tolist())
    return rows, lines, offsets, invalid


# --- fields ----------------------------------------------------------------------------------


def test_it_unquotes_fields_holding_delimiters_newlines_and_escaped_quotes(
    memory_file: MemoryFile,
) -> None:
    data = 'a,b,c\n"x, y","line1\nline2","say ""hi"""\n'

    rows, lines, _, invalid = read_all(memory_file(data))

    assert rows == [["x, y", "line1\nline2", 'say "hi"']]
    assert lines == [2]
    assert invalid == []


def test_it_counts_physical_lines_after_a_multiline_field(memory_file: MemoryFile) -> None:
    data = 'a,b\n1,"one\ntwo\nthree"\n2,x\n3\n'

    rows, lines, _, invalid = read_all(memory_file(data))

    assert rows == [["1", "one\ntwo\nthree"], ["2", "x"]]
    assert lines == [2, 5]
    assert [(r.line, r.reason) for r in invalid] == [(6, "expected 2 fields, found 1")]


def test_it_keeps_values_exactly_as_written(memory_file: MemoryFile) -> None:
    data = "a,b,c,d\nNA, padded ,null,\n"

    rows, *_ = read_all(memory_file(data))

    assert rows == [["NA", " padded ", "null", ""]]


def test_it_reads_crlf_line_endings_without_keeping_the_carriage_return(
    memory_file: MemoryFile,
) -> None:
    data = 'a,b\r\n1,2\r\n"x\r\ny",3\r\n'

    rows, lines, *_ = read_all(memory_file(data))

    assert rows == [["1", "2"], ["x\r\ny", "3"]]
    assert lines == [2, 3]


def test_it_reads_a_last_line_without_a_newline(memory_file: MemoryFile) -> None:
    rows, *_ = read_all(memory_file("a,b\n1,2\n3,4"))
    assert rows == [["1", "2"], ["3", "4"]]


def test_it_skips_blank_lines_silently(memory_file: MemoryFile) -> None:
    rows, lines, _, invalid = read_all(memory_file("a,b\n\n1,2\r\n\r\n\n3,4\n\n"))
    assert rows == [["1", "2"], ["3", "4"]]
    assert lines == [3, 6]
    assert invalid == []


def test_it_skips_a_utf8_byte_order_mark(memory_file: MemoryFile) -> None:
    data = b"\xef\xbb\xbfname,size\ncaf\xc3\xa9,1\n"

    reader = CsvReader([memory_file(data)], CsvFormat())
    rows, _, offsets, _ = read_all(memory_file(data))

    assert reader.columns == ["name", "size"]
    assert rows == [["café", "1"]]
    assert offsets == [13]  # offsets count the BOM: they are positions in the file


def test_it_parses_a_bare_carriage_return_inside_a_field(memory_file: MemoryFile) -> None:
    rows, *_ = read_all(memory_file("a,b\n1,x\ry\n2,z\n"))
    assert rows == [["1", "x\ry"], ["2", "z"]]


def test_a_bare_carriage_return_beside_a_blank_looking_record_keeps_records_apart(
    memory_file: MemoryFile,
) -> None:
    """pandas breaks a row at a bare CR and skips a whitespace-only record: with both, it finds
    as many rows as there are records, and the delimiters add up. The record with the CR has
    too many fields and the blank-looking one too few: both are invalid, the others in place."""
    data = "a,b\n1,2\r3,4\n   \n5,6\n"
    rows, lines, _, invalid = read_all(memory_file(data))
    assert rows == [["5", "6"]] and lines == [4]
    assert [(r.line, r.reason) for r in invalid] == [
        (2, "expected 2 fields, found 3"),
        (3, "expected 2 fields, found 1"),
    ]


def test_it_splits_records_like_pandas_does() -> None:
    assert split_record('x,"a, ""q"" b",', ",") == ["x", 'a, "q" b', ""]
    assert split_record("", ",") == [""]
    assert split_record('a;"b;c"', ";") == ["a", "b;c"]


# --- invalid records ---------------------------------------------------------------------------


def test_it_rejects_a_row_with_too_many_columns(memory_file: MemoryFile) -> None:
    rows, _, _, invalid = read_all(memory_file("a,b\n1,2\n1,2,3\n4,5\n"))

    assert rows == [["1", "2"], ["4", "5"]]
    assert invalid == [InvalidRecord("data.csv", 3, None, "expected 2 fields, found 3")]


def test_it_rejects_a_row_with_too_few_columns(memory_file: MemoryFile) -> None:
    _, _, _, invalid = read_all(memory_file("a,b,c\n1,2,3\n1,2\n"))
    assert [(r.line, r.reason) for r in invalid] == [(3, "expected 3 fields, found 2")]


def test_it_reports_a_quote_left_open_at_the_end_of_the_file(memory_file: MemoryFile) -> None:
    rows, _, _, invalid = read_all(memory_file('a,b\n1,2\n3,"open\n4,5\n'))
    assert rows == [["1", "2"]]
    assert [(r.line, r.reason) for r in invalid] == [
        (3, "a quoted field is not closed before the end of the file")
    ]


def test_it_stops_when_a_record_grows_beyond_the_limit(memory_file: MemoryFile) -> None:
    data = 'a,b\n1,"never closed\n' + "x,y\n" * 200
    with pytest.raises(DataError, match="longer than 100 bytes") as caught:
        read_all(memory_file(data), chunk_bytes=16, max_record_bytes=100)
    assert caught.value.line == 2


def test_it_rejects_an_empty_file(memory_file: MemoryFile) -> None:
    with pytest.raises(DataError, match="file is empty") as caught:
        read_all(memory_file(b""))
    assert caught.value.file == "data.csv"
    with pytest.raises(DataError, match="file is empty"):
        sniff([memory_file("\n\n")])


def test_it_rejects_a_file_with_a_header_but_no_records(memory_file: MemoryFile) -> None:
    with pytest.raises(DataError, match="contains a header but no records"):
        read_all(memory_file("a,b\n"))
    with pytest.raises(DataError, match="contains a header but no records") as caught:
        sniff([memory_file("name,size\n", name="h.csv")])
    assert caught.value.file == "h.csv"


def test_it_names_the_line_of_bytes_that_are_not_utf8(memory_file: MemoryFile) -> None:
    data = b'a,b\n1,2\n"multi\nline",ok\n3,caf\xe9\n'
    with pytest.raises(DataError, match="not UTF-8") as caught:
        read_all(memory_file(data))
    assert (caught.value.file, caught.value.line) == ("data.csv", 5)
    with pytest.raises(DataError, match="not UTF-8") as caught:
        sniff([memory_file(data)])
    assert caught.value.line == 5


def test_it_finds_bad_bytes_in_a_last_line_without_newline(memory_file: MemoryFile) -> None:
    with pytest.raises(DataError) as caught:
        read_all(memory_file(b"a,b\n1,2\n3,\xff"), chunk_bytes=4)
    assert caught.value.line == 3


# --- chunking ---------------------------------------------------------------------------------


def tricky_csv(rows: int = 400, seed: int = 7) -> bytes:
    """A CSV exercising quotes, newlines in fields, multibyte UTF-8, CRLF, blanks and bad rows."""
    rng = random.Random(seed)
    values = ["plain", "", "x, y", 'say "hi"', "two\nlines", "été ✓", "ünï\r\ncode", "NA", " sp "]
    out = ["id,text,num\r\n"]
    for i in range(rows):
        text = rng.choice(values)
        quoted = (
            '"' + text.replace('"', '""') + '"'
            if rng.random() < 0.7 or any(c in text for c in ',"\n\r')
            else text
        )
        ending = rng.choice(["\n", "\r\n"])
        kind = rng.random()
        if kind < 0.05:
            out.append(f"{i},{quoted}{ending}")  # too few fields
        elif kind < 0.1:
            out.append(f"{i},{quoted},1,2{ending}")  # too many
        elif kind < 0.13:
            out.append(ending)  # blank line
        else:
            out.append(f"{i},{quoted},{rng.random():.3f}{ending}")
    return "".join(out).encode("utf-8")


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 64, 1000])
def test_tiny_chunks_read_exactly_what_one_big_block_reads(
    memory_file: MemoryFile, chunk_bytes: int
) -> None:
    data = tricky_csv()
    expected = read_all(memory_file(data), chunk_bytes=1 << 20)

    got = read_all(memory_file(data), chunk_bytes=chunk_bytes)

    assert got == expected
    rows, lines, offsets, invalid = expected
    assert len(rows) > 300 and len(invalid) > 20


def test_tricky_records_agree_with_pythons_csv_module(memory_file: MemoryFile) -> None:
    data = tricky_csv()
    rows, *_ = read_all(memory_file(data), chunk_bytes=97)

    parsed = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    expected = [row for row in parsed[1:] if len(row) == 3]

    assert rows == expected


def test_offsets_point_at_the_start_of_each_record(memory_file: MemoryFile) -> None:
    data = tricky_csv()
    rows, _, offsets, _ = read_all(memory_file(data), chunk_bytes=50)
    for row, offset in zip(rows, offsets, strict=True):
        assert data[offset:].decode("utf-8").startswith(row[0] + ",")


def test_a_multibyte_character_split_between_blocks_is_not_an_error(
    memory_file: MemoryFile,
) -> None:
    data = ("a\n" + "é✓€\n" * 50).encode("utf-8")
    for chunk_bytes in range(1, 9):
        rows, *_ = read_all(memory_file(data), chunk_bytes=chunk_bytes)
        assert rows == [["é✓€"]] * 50


def test_it_reports_progress_once_per_block(memory_file: MemoryFile) -> None:
    data = "a\n" + "".join(f"{i}\n" for i in range(100))
    calls: list[tuple[int, int]] = []
    reader = CsvReader(
        [memory_file(data)], CsvFormat(), chunk_bytes=100, progress=lambda *a: calls.append(a)
    )
    list(reader.chunks())
    assert calls[-1] == (100, len(data))
    assert len(calls) >= len(data) // 100
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)


# --- several files ----------------------------------------------------------------------------


def test_it_reads_every_file_of_a_directory_skipping_each_header(tmp_path: Path) -> None:
    (tmp_path / "1.csv").write_text("a,b\n1,2\n3,4\n")
    (tmp_path / "2.csv").write_text("a,b\n5,6\n")
    files = resolve_local(tmp_path)

    chunks = list(CsvReader(files, CsvFormat()).chunks())

    assert [c.file_name for c in chunks] == [str(tmp_path / "1.csv"), str(tmp_path / "2.csv")]
    assert [c.frame.to_numpy().tolist() for c in chunks] == [[["1", "2"], ["3", "4"]], [["5", "6"]]]
    assert chunks[1].line_numbers.tolist() == [2]
    assert chunks[1].offsets.tolist() == [12 + 4]  # offsets run on across files


def test_it_rejects_a_file_whose_header_differs_from_the_first(tmp_path: Path) -> None:
    (tmp_path / "1.csv").write_text("a,b\n1,2\n")
    (tmp_path / "2.csv").write_text("a,c\n5,6\n")
    with pytest.raises(DataError, match="header differs") as caught:
        list(CsvReader(resolve_local(tmp_path), CsvFormat()).chunks())
    assert caught.value.file == str(tmp_path / "2.csv")


def test_it_reads_files_without_a_header_with_generic_names(memory_file: MemoryFile) -> None:
    reader = CsvReader([memory_file("1,2\n3,4\n")], CsvFormat(has_header=False))
    [chunk] = list(reader.chunks())
    assert reader.columns == ["Var01", "Var02"]
    assert list(chunk.frame.columns) == ["Var01", "Var02"]
    assert chunk.line_numbers.tolist() == [1, 2]


def test_it_uses_the_expected_column_names_for_a_file_without_a_header(
    memory_file: MemoryFile,
) -> None:
    reader = CsvReader(
        [memory_file("1,2\n3\n")], CsvFormat(has_header=False), expected_columns=["x", "y"]
    )
    [chunk] = list(reader.chunks())
    assert list(chunk.frame.columns) == ["x", "y"]
    assert len(chunk) == 1


# --- the shared data files ---------------------------------------------------------------------


def test_banking_csv_reads_41188_records_with_21_columns(data_dir: Path) -> None:
    files = resolve_local(data_dir / "banking.csv")
    invalid: list[InvalidRecord] = []
    reader = CsvReader(files, sniff(files).format, on_invalid=invalid.append)

    chunks = list(reader.chunks())

    assert len(reader.columns) == 21
    assert reader.columns[0] == "age" and reader.columns[-1] == "y"
    assert sum(len(c) for c in chunks) == 41188
    assert invalid == []
    assert chunks[0].frame.iloc[0, -1] == "0"  # no trailing carriage return


def test_banking_csv_in_small_chunks_gives_the_same_records(data_dir: Path) -> None:
    files = resolve_local(data_dir / "banking.csv")
    small = list(CsvReader(files, CsvFormat(), chunk_bytes=100_000).chunks())
    assert len(small) > 40
    assert sum(len(c) for c in small) == 41188
    line_numbers = np.concatenate([c.line_numbers for c in small])
    assert line_numbers.tolist() == list(range(2, 41190))


def test_sniff_detects_the_semicolon_and_quoted_header_of_winequality(data_dir: Path) -> None:
    sniffed = sniff(resolve_local(data_dir / "winequality-red.csv"))

    assert sniffed.delimiter == ";"
    assert sniffed.has_header
    assert sniffed.columns[0] == "fixed acidity" and sniffed.columns[-1] == "quality"
    assert len(sniffed.columns) == 12
    assert sniffed.sample_rows[0][:2] == ["7.4", "0.7"]
    assert "Detected ';' as the delimiter (not a comma)" in sniffed.notes


def test_sniff_finds_no_header_in_adult_data_and_notes_the_spaces(data_dir: Path) -> None:
    files = resolve_local(data_dir / "adult.data")
    sniffed = sniff(files)

    assert sniffed.delimiter == ","
    assert not sniffed.has_header
    assert sniffed.columns == generic_column_names(15)
    assert sniffed.sample_rows[0][1] == " State-gov"  # kept as read; conversion trims
    assert len(sniffed.sample_rows) == 1000
    assert any("', '" in note for note in sniffed.notes)
    records = sum(len(c) for c in CsvReader(files, sniffed.format).chunks())
    assert records == 32561  # the trailing blank line is skipped


def test_sniff_detects_tabs_and_pipes(memory_file: MemoryFile) -> None:
    assert sniff([memory_file("a\tb\n1\t2\n")]).delimiter == "\t"
    assert sniff([memory_file("a|b|c\n1|2|3\n4|5|6\n")]).delimiter == "|"


def test_sniff_prefers_the_delimiter_with_consistent_field_counts(memory_file: MemoryFile) -> None:
    data = "name,comment\nx,a;b\ny,c\nz,d;e;f\n"
    assert sniff([memory_file(data)]).delimiter == ","


def test_sniff_says_when_most_lines_disagree_with_the_first_on_the_field_count(
    memory_file: MemoryFile,
) -> None:
    sniffed = sniff([memory_file("a,b,c\n1\n2\n3\n4,5,6\n")])
    assert sniffed.columns == ["a", "b", "c"]
    assert not any("single column" in note for note in sniffed.notes)
    assert any("first line has 3 fields but most sampled lines have 1" in n for n in sniffed.notes)


def test_sniff_notes_a_file_with_a_single_column(memory_file: MemoryFile) -> None:
    sniffed = sniff([memory_file("amount\n1\n2\n3\n")])
    assert sniffed.columns == ["amount"]
    assert any("single column" in note for note in sniffed.notes)


def test_sniff_refuses_prose_as_not_a_table_with_one_reason(shared_data: Path) -> None:
    names = shared_data / "winequality.names"

    with pytest.raises(DataError) as refused:
        sniff(resolve_local(names))

    assert refused.value.file == str(names)
    assert refused.value.message.startswith("is not a table: no comma, semicolon, tab or '|'")


def test_sniff_detects_a_header_over_all_string_columns(memory_file: MemoryFile) -> None:
    assert sniff([memory_file("color,size\nred,big\nblue,small\n")]).has_header
    assert not sniff([memory_file("red,big\nblue,small\nred,small\n")]).has_header


def test_sniff_treats_a_first_row_with_numbers_as_data(memory_file: MemoryFile) -> None:
    sniffed = sniff([memory_file("1,x\n2,y\n")])
    assert not sniffed.has_header
    assert sniffed.columns == ["Var01", "Var02"]
    assert sniffed.sample_rows == [["1", "x"], ["2", "y"]]


def test_sniff_skips_empty_files_of_a_multi_file_datasource(memory_file: MemoryFile) -> None:
    sniffed = sniff([memory_file(b"", name="empty.csv"), memory_file("a,b\n1,2\n")])
    assert sniffed.columns == ["a", "b"]


def test_generic_names_are_zero_padded_to_at_least_two_digits() -> None:
    assert generic_column_names(2) == ["Var01", "Var02"]
    assert generic_column_names(120)[0] == "Var001"


def test_header_names_are_trimmed_filled_and_made_unique() -> None:
    names, notes = column_names_from_header([" a", "", "a", "a"])
    assert names == ["a", "Var02", "a_2", "a_3"]
    assert len(notes) == 3


# --- float columns ------------------------------------------------------------------------------


def test_it_parses_float_columns_straight_to_float64(memory_file: MemoryFile) -> None:
    reader = CsvReader([memory_file("x,s\n1.5,a\n,b\n 2 ,c\n")], CsvFormat(), float_columns=["x"])
    [chunk] = list(reader.chunks())
    assert chunk.frame["x"].dtype == np.float64
    assert chunk.frame["x"].tolist()[::2] == [1.5, 2.0] and np.isnan(chunk.frame["x"].iloc[1])
    assert chunk.frame["s"].tolist() == ["a", "b", "c"]


@pytest.mark.parametrize("odd_value", ["abc", "NA", "nan", "inf", "-Infinity", "  "])
def test_a_float_column_holding_something_else_falls_back_to_strings(
    memory_file: MemoryFile, odd_value: str
) -> None:
    data = "x,y\n" + "1,2\n" * 20 + f"{odd_value},3\n" + "4,5\n" * 20
    reader = CsvReader([memory_file(data)], CsvFormat(), chunk_bytes=40, float_columns=["x", "y"])

    chunks = list(reader.chunks())

    odd = next(c for c in chunks if 22 in c.line_numbers.tolist())
    assert odd.frame["x"].dtype == object
    assert odd_value in odd.frame["x"].tolist()
    # From then on x is read as strings, y still as floats.
    assert chunks[-1].frame["x"].dtype == object
    assert chunks[-1].frame["y"].dtype == np.float64
    assert chunks[0].frame["x"].dtype == np.float64


# --- category columns ---------------------------------------------------------------------------


def test_it_parses_category_columns_to_categoricals_of_the_same_strings(
    memory_file: MemoryFile,
) -> None:
    data = 'c,x,s\n a,1.5,p\n"b,c",,q\n,2,r\n a,3,s\n'
    reader = CsvReader(
        [memory_file(data)], CsvFormat(), float_columns=["x"], category_columns=["c"]
    )
    [chunk] = list(reader.chunks())
    assert isinstance(chunk.frame["c"].dtype, pd.CategoricalDtype)
    assert chunk.frame["c"].tolist() == [" a", "b,c", "", " a"]  # unquoted, never stripped
    assert (chunk.frame["c"].cat.codes >= 0).all()  # "" is a category, not NaN
    assert chunk.frame["s"].dtype == object and chunk.frame["x"].dtype == np.float64
    plain_rows = read_all(memory_file(data))[0]
    assert read_all(memory_file(data), category_columns=["c"])[0] == plain_rows


@pytest.mark.parametrize("values", [["01", "1", "1.0", "+1"], ["True", "false", "TRUE"]])
def test_a_category_column_pandas_would_convert_is_read_as_strings(
    memory_file: MemoryFile, values: list[str]
) -> None:
    """pandas turns all-numeric (or all-boolean) categories into numbers, merging "01" and "1":
    the chunk is parsed again with that column as strings, and so are the following chunks."""
    data = "c,d\n" + "".join(f"{values[i % len(values)]},w{i % 3}\n" for i in range(60))
    reader = CsvReader(
        [memory_file(data)], CsvFormat(), chunk_bytes=100, category_columns=["c", "d"]
    )
    chunks = list(reader.chunks())
    assert len(chunks) > 2
    assert all(chunk.frame["c"].dtype == object for chunk in chunks)
    assert all(isinstance(chunk.frame["d"].dtype, pd.CategoricalDtype) for chunk in chunks)
    read_back = [v for chunk in chunks for v in chunk.frame["c"].tolist()]
    assert read_back == [values[i % len(values)] for i in range(60)]


@pytest.mark.parametrize("stated_size", [0, 1, 37, 5_000, 10**9])
@pytest.mark.parametrize("chunk_bytes", [64, 1 << 20])
def test_a_file_whose_size_changed_since_it_was_listed_is_read_whole(
    stated_size: int, chunk_bytes: int
) -> None:
    # reads ask for no more than the stated size: a stale size must not cut the file short
    data = b"a,b\n" + b"".join(b"%d,x%d\n" % (i, i) for i in range(700))
    stale = DataFile("data.csv", stated_size, lambda: io.BytesIO(data))
    rows, lines, offsets, invalid = read_all(stale, chunk_bytes=chunk_bytes)
    assert rows == [[str(i), f"x{i}"] for i in range(700)]
    assert lines == list(range(2, 702))
    assert offsets[-1] == data.rindex(b"699,")
    assert invalid == []


def test_column_arrays_are_the_columns_values_with_or_without_pandas_private_iterator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frame = pd.DataFrame(
        {
            "n": [1.5, np.nan, 3.0],
            "s": np.array(["a", "b", "a"], dtype=object),
            "c": pd.Categorical(["x", "y", "x"]),
        }
    ).astype({"s": object})  # as the reader asks pandas for text
    fast = column_arrays(frame)
    monkeypatch.delattr(pd.DataFrame, "_iter_column_arrays")
    slow = column_arrays(frame)
    for arrays in (fast, slow):
        np.testing.assert_array_equal(arrays[0], [1.5, np.nan, 3.0])
        assert arrays[1].dtype == object and arrays[1].tolist() == ["a", "b", "a"]
        assert isinstance(arrays[2], pd.Categorical) and arrays[2].tolist() == ["x", "y", "x"]


def counting_file(data: bytes) -> tuple[DataFile, list[int]]:
    opened: list[int] = []

    def opener() -> io.BytesIO:
        opened.append(1)
        return io.BytesIO(data)

    return DataFile("data.csv", len(data), opener), opened


def test_a_file_smaller_than_a_chunk_is_read_once_for_its_header_and_its_records() -> None:
    data = b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(3000))
    small, opened = counting_file(data)
    reader = CsvReader([small], CsvFormat(), chunk_bytes=1 << 20)
    assert reader.columns == ["a", "b"]
    assert sum(len(chunk.frame) for chunk in reader.chunks()) == 3000
    assert sum(len(chunk.frame) for chunk in reader.chunks()) == 3000  # read again: the same
    assert len(opened) == 1  # one GET for a small S3 object, not two
    large, opened = counting_file(data)
    reader = CsvReader([large], CsvFormat(), chunk_bytes=4096)
    assert sum(len(chunk.frame) for chunk in reader.chunks()) == 3000
    assert len(opened) == 2


def test_a_bad_byte_past_the_header_look_of_a_small_file_is_reported_when_records_are_read() -> (
    None
):
    data = b"a,b\n" + b"1,x\n" * 20_000 + b"2,\xff\n"
    bad, _ = counting_file(data)
    reader = CsvReader([bad], CsvFormat(), chunk_bytes=1 << 20)  # the header reads cleanly
    with pytest.raises(DataError, match=r"line 20002: the file is not UTF-8: invalid byte 0xff"):
        list(reader.chunks())


@pytest.mark.parametrize(
    ("text", "floats", "categories"),
    [
        pytest.param(b"1.5,a,x,\n,b,y,7\n2,a,x,8\n", [0], [2], id="numbers, empties, categories"),
        pytest.param(
            b'1,"a,b",x,"q ""u"" o"\r\n2,"two\nlines",y,z\r\n', [0], [], id="quoted, CRLF"
        ),
        pytest.param(b"1,a,b,c\n\n2,d,e,f\n", [], [1, 2], id="a blank line, no floats"),
        pytest.param(b"1,a,b,c\nNA,d,e,f\n", [0], [], id="not a number in a float column"),
        pytest.param(b"1,a,b,c\n2,d,e,f,g\n", [0], [], id="a record too long"),
    ],
)
def test_the_tokenizer_called_directly_parses_as_read_csv_does(
    monkeypatch: pytest.MonkeyPatch, text: bytes, floats: list[int], categories: list[int]
) -> None:
    from mlcore.io import csvreader

    assert csvreader._TextReader is not None  # the installed pandas has the direct way

    def parse() -> pd.DataFrame | str:
        try:
            return csvreader._parse_with_pandas(text, ",", 4, floats, categories)
        except (pd.errors.ParserError, ValueError) as err:
            return type(err).__name__

    direct = parse()
    monkeypatch.setattr(csvreader, "_TextReader", None)  # read_csv, as before
    public = parse()
    if isinstance(public, str):
        assert direct == public
    else:
        assert isinstance(direct, pd.DataFrame)
        pd.testing.assert_frame_equal(direct, public, check_column_type=False)


def test_the_parse_makes_the_frame_pandas_read_would_from_the_same_arrays() -> None:
    from mlcore.io.csvreader import _all_rows

    text = b"1.5,a,x,\n,b,y,7\n2,a,x,8\n"
    options = {
        "header": None,
        "names": range(4),
        "dtype": {0: np.float64, 1: object, 2: "category", 3: object},
        "keep_default_na": False,
        "na_values": {0: [""]},
        "iterator": True,
    }
    # the private calls the fast way takes exist in the installed pandas (else it falls back)
    assert hasattr(pd.DataFrame, "_from_arrays")
    with pd.read_csv(io.BytesIO(text), **options) as parser:
        assert callable(parser._engine.read)
        fast = _all_rows(parser)
    with pd.read_csv(io.BytesIO(text), **options) as parser:
        public = parser.read()
    pd.testing.assert_frame_equal(fast, public, check_column_type=False)
    assert fast[1].dtype == object and isinstance(fast[2].dtype, pd.CategoricalDtype)


def test_without_pandas_private_frame_maker_the_parse_keeps_text_columns_as_objects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mlcore.io import csvreader

    text = b"1.5,a,x\n,b,y\n"
    fast = csvreader._parse_with_pandas(text, ",", 3, [0], [])
    monkeypatch.setattr(csvreader, "_FROM_ARRAYS", None)  # pandas' public read then
    public = csvreader._parse_with_pandas(text, ",", 3, [0], [])
    pd.testing.assert_frame_equal(fast, public, check_column_type=False)
    assert public[1].dtype == object and public[2].dtype == object

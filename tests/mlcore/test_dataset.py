from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from mlcore.errors import DataError, SchemaError
from mlcore.io.csvreader import CsvFormat, InvalidRecord
from mlcore.io.dataset import TypedChunk, TypedReader, iter_typed_chunks
from mlcore.io.files import DataFile
from mlcore.io.locations import resolve_local
from mlcore.io.rearrangement import Rearrangement
from mlcore.schema.model import Attribute, AttributeType, Schema

MemoryFile = Callable[..., DataFile]
N, B, C, T = (
    AttributeType.NUMERIC,
    AttributeType.BINARY,
    AttributeType.CATEGORICAL,
    AttributeType.TEXT,
)


def schema_of(target: str | None = "y", **types: AttributeType) -> Schema:
    return Schema([Attribute(name, t) for name, t in types.items()], target=target)


def collect(chunks: list[TypedChunk]) -> tuple[dict[str, list[object]], list[int]]:
    columns: dict[str, list[object]] = {}
    lines: list[int] = []
    for chunk in chunks:
        for name in chunk.frame.columns:
            columns.setdefault(name, []).extend(chunk.frame[name].tolist())
        lines.extend(chunk.line_numbers.tolist())
    return columns, lines


def test_it_converts_every_attribute_to_its_type(memory_file: MemoryFile) -> None:
    data = "x,flag,colour,y\n1.5,yes, red ,0\n,No,,1\n"
    schema = schema_of(x=N, flag=B, colour=C, y=B)

    [chunk] = list(iter_typed_chunks([memory_file(data)], schema, CsvFormat()))

    assert chunk.frame["x"].dtype == np.float64
    assert chunk.frame["x"].tolist()[0] == 1.5 and np.isnan(chunk.frame["x"].iloc[1])
    assert chunk.frame["flag"].tolist() == [1.0, 0.0]
    assert chunk.frame["colour"].tolist() == ["red", ""]
    assert chunk.line_numbers.tolist() == [2, 3]


def test_it_reports_an_invalid_numeric_value_with_its_line_and_column(
    memory_file: MemoryFile,
) -> None:
    data = "x,y\n1,0\nabc,1\n3,1\n"
    invalid: list[InvalidRecord] = []

    chunks = list(
        iter_typed_chunks(
            [memory_file(data)], schema_of(x=N, y=B), CsvFormat(), on_invalid=invalid.append
        )
    )

    columns, lines = collect(chunks)
    assert columns["x"] == [1.0, 3.0]
    assert lines == [2, 4]
    assert invalid == [InvalidRecord("data.csv", 3, "x", "'abc' is not a valid NUMERIC value")]


def test_it_names_the_first_bad_attribute_of_a_record(memory_file: MemoryFile) -> None:
    invalid: list[InvalidRecord] = []
    data = "a,b,y\n1,1,0\n1,maybe,zz\n"
    list(
        iter_typed_chunks(
            [memory_file(data)], schema_of(a=N, b=B, y=B), CsvFormat(), on_invalid=invalid.append
        )
    )
    assert [(r.line, r.column) for r in invalid] == [(3, "b")]


def test_it_counts_records_with_a_wrong_field_count_as_invalid(memory_file: MemoryFile) -> None:
    reader = TypedReader([memory_file("x,y\n1,0\n1,2,3\n2,1\n")], schema_of(x=N, y=B), CsvFormat())

    assert sum(len(c) for c in reader) == 2
    # Read (and selected) = valid + invalid: the malformed record was read too.
    assert (reader.records_read, reader.records_selected, reader.invalid_count) == (3, 3, 1)
    assert reader.malformed_count == 1
    assert reader.first_invalid_lines == [3]


def test_it_fails_after_more_than_max_invalid_records_naming_the_first_lines(
    memory_file: MemoryFile,
) -> None:
    rows = ["1,0", "bad,0", "2,1", "bad,1", "bad,0", "3,0", "bad,1", "bad,1"]
    data = "x,y\n" + "\n".join(rows) + "\n"

    with pytest.raises(DataError) as caught:
        list(
            iter_typed_chunks([memory_file(data)], schema_of(x=N, y=B), CsvFormat(), max_invalid=3)
        )

    assert caught.value.message == "more than 3 invalid records; first bad lines: 3, 5, 6, 8"
    assert caught.value.file == "data.csv"


def test_it_tolerates_exactly_max_invalid_records(memory_file: MemoryFile) -> None:
    data = "x,y\n1,0\nbad,0\nbad,1\n"
    chunks = list(
        iter_typed_chunks([memory_file(data)], schema_of(x=N, y=B), CsvFormat(), max_invalid=2)
    )
    assert sum(len(c) for c in chunks) == 1


def test_the_default_limit_stops_a_datasource_with_10001_invalid_records(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    good = "".join(f"{i},1\n" for i in range(5000))
    bad = "".join(f"n{i},0\n" for i in range(10_001))
    path.write_text("x,y\n" + good + bad)
    schema = schema_of(x=N, y=B)

    with pytest.raises(
        DataError, match=r"more than 10000 invalid records; first bad lines: 5002, 5003"
    ):
        list(iter_typed_chunks(resolve_local(path), schema, CsvFormat()))

    path.write_text("x,y\n" + good + bad[bad.index("\n") + 1 :])  # exactly 10,000 invalid
    reader = TypedReader(resolve_local(path), schema, CsvFormat())
    assert sum(len(c) for c in reader) == 5000
    assert reader.invalid_count == 10_000


def test_it_rejects_data_without_the_target_column(memory_file: MemoryFile) -> None:
    with pytest.raises(DataError, match="target attribute 'y' is not a column") as caught:
        list(iter_typed_chunks([memory_file("x,z\n1,2\n")], schema_of(x=N, y=B), CsvFormat()))
    assert caught.value.file == "data.csv"


def test_it_matches_header_columns_to_the_schema_by_name(memory_file: MemoryFile) -> None:
    [chunk] = list(iter_typed_chunks([memory_file("y,x\n1,5\n")], schema_of(x=N, y=B), CsvFormat()))
    assert list(chunk.frame.columns) == ["x", "y"]
    assert chunk.frame.iloc[0].tolist() == [5.0, 1.0]


def test_it_lists_the_attributes_missing_from_the_header_and_the_extra_columns(
    memory_file: MemoryFile,
) -> None:
    schema = schema_of(a=N, b=N, y=B)
    with pytest.raises(SchemaError) as caught:
        list(iter_typed_chunks([memory_file("a,y,c,d\n1,0,2,3\n")], schema, CsvFormat()))
    assert "attributes missing from the data: b" in str(caught.value)
    assert "columns not in the schema: c, d" in str(caught.value)


def test_it_matches_columns_by_position_without_a_header(memory_file: MemoryFile) -> None:
    fmt = CsvFormat(has_header=False)
    [chunk] = list(iter_typed_chunks([memory_file("1,0\n2,1\n")], schema_of(x=N, y=B), fmt))
    assert chunk.frame["x"].tolist() == [1.0, 2.0]
    assert chunk.line_numbers.tolist() == [1, 2]

    with pytest.raises(SchemaError, match="the schema has 2 attributes but the data has 3 columns"):
        list(iter_typed_chunks([memory_file("1,0,5\n")], schema_of(x=N, y=B), fmt))


# --- rearrangement -----------------------------------------------------------------------------


def numbered_file(memory_file: MemoryFile, count: int = 1000) -> DataFile:
    rows = "".join(f"{i},{'yes' if i % 10 == 0 else 'no'}\n" for i in range(count))
    return memory_file("x,y\n" + rows)


def selected_lines(data_file: DataFile, rearrangement: Rearrangement) -> set[int]:
    reader = iter_typed_chunks(
        [data_file], schema_of(x=N, y=B), CsvFormat(), rearrangement=rearrangement
    )
    return set(collect(list(reader))[1])


@pytest.mark.parametrize("strategy", ["sequential", "random", "stratified"])
def test_a_split_and_its_complement_partition_the_records(
    memory_file: MemoryFile, strategy: str
) -> None:
    data_file = numbered_file(memory_file)
    train = selected_lines(data_file, Rearrangement(0, 70, strategy, "seed"))
    evaluate = selected_lines(data_file, Rearrangement(0, 70, strategy, "seed", complement=True))

    assert not train & evaluate
    assert train | evaluate == set(range(2, 1002))
    assert 650 <= len(train) <= 750


def test_a_sequential_split_keeps_the_first_part_of_the_file(memory_file: MemoryFile) -> None:
    lines = selected_lines(numbered_file(memory_file), Rearrangement(0, 70))
    assert lines == set(range(2, 2 + len(lines)))


def test_a_stratified_split_keeps_the_target_proportions(memory_file: MemoryFile) -> None:
    data_file = numbered_file(memory_file)
    reader = iter_typed_chunks(
        [data_file],
        schema_of(x=N, y=B),
        CsvFormat(),
        rearrangement=Rearrangement(0, 70, "stratified", "s"),
    )
    columns, _ = collect(list(reader))
    assert abs(sum(columns["y"]) - 70) <= 1  # 100 "yes" records
    assert abs(len(columns["y"]) - 700) <= 2


def test_the_rearrangement_picks_records_before_their_values_are_checked(
    memory_file: MemoryFile,
) -> None:
    rows = (
        "".join(f"{i},0\n" for i in range(90)) + "bad,0\n" + "".join(f"{i},0\n" for i in range(9))
    )
    data_file = memory_file("x,y\n" + rows)
    schema = schema_of(x=N, y=B)

    first = TypedReader([data_file], schema, CsvFormat(), rearrangement=Rearrangement(0, 70))
    rest = TypedReader(
        [data_file], schema, CsvFormat(), rearrangement=Rearrangement(0, 70, complement=True)
    )
    first_count = sum(len(c) for c in first)
    rest_count = sum(len(c) for c in rest)

    assert first.invalid_count == 0
    assert rest.invalid_count == 1 and rest.first_invalid_lines == [92]
    assert first_count + rest_count == 99
    assert first.records_read == rest.records_read == 100


def test_it_reports_progress(memory_file: MemoryFile) -> None:
    calls: list[tuple[int, int]] = []
    list(
        iter_typed_chunks(
            [numbered_file(memory_file)],
            schema_of(x=N, y=B),
            CsvFormat(),
            progress=lambda *a: calls.append(a),
        )
    )
    assert calls and calls[-1][0] == 1000


def test_banking_csv_converts_with_its_schema(data_dir: Path) -> None:
    document = json.loads((data_dir / "banking.csv.schema").read_text())
    schema = Schema(
        [
            Attribute(a["attributeName"], AttributeType(a["attributeType"]))
            for a in document["attributes"]
        ],
        target=document["targetAttributeName"],
    )
    invalid: list[InvalidRecord] = []
    files = resolve_local(data_dir / "banking.csv")
    reader = TypedReader(files, schema, CsvFormat(), on_invalid=invalid.append)

    chunks = list(reader)

    # The reference schema types `previous` (a count, 0 to 7) as BINARY, so its values above 1
    # are invalid, as AML would report them.
    assert reader.records_read == 41188
    assert sum(len(c) for c in chunks) + reader.invalid_count == 41188
    assert {r.column for r in invalid} == {"previous"}
    assert 0 < reader.invalid_count < 10_000
    frame = chunks[0].frame
    assert frame["age"].dtype == np.float64
    assert frame["job"].iloc[0] == "services"
    assert set(np.unique(np.concatenate([c.frame["y"].to_numpy() for c in chunks]))) == {0.0, 1.0}


def test_numeric_values_read_as_floats_or_as_strings_give_the_same_result(
    memory_file: MemoryFile,
) -> None:
    values = ["1.5", "", " 2", "abc", "3e2", "inf", "nan", "  ", "-0.25", "NA", "7"] * 30
    data = "x,y\n" + "".join(f"{v},1\n" for v in values)
    invalid: list[InvalidRecord] = []

    chunks = list(
        TypedReader(
            [memory_file(data)],
            schema_of(x=N, y=B),
            CsvFormat(),
            on_invalid=invalid.append,
            chunk_bytes=64,
        )
    )

    x = np.concatenate([c.frame["x"].to_numpy() for c in chunks])
    good = [v for v in values if v.strip().lower() not in {"abc", "inf", "nan", "na"}]
    expected = [float(v) if v.strip() else np.nan for v in good]
    np.testing.assert_array_equal(x, np.array(expected))
    assert len(invalid) == 4 * 30
    assert {r.reason for r in invalid} == {
        f"{v!r} is not a valid NUMERIC value" for v in ["abc", "inf", "nan", "NA"]
    }

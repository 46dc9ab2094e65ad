"""mlcore.safejson, the one loader of user JSON, and every parser that uses it: a document nested
deeper than Python's recursion limit (1,000 levels) was an uncaught RecursionError (an HTTP 500,
a traceback); now it is the parser's own error, saying how deep and where."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from mlcore import safejson
from mlcore.artifacts import ModelFileError, load_model
from mlcore.errors import DataError, RearrangementError, SchemaError
from mlcore.io.csvreader import sniff
from mlcore.io.files import DataFile
from mlcore.io.rearrangement import parse_rearrangement
from mlcore.recipes import RecipeError, parse_recipe
from mlcore.schema import Attribute, AttributeType, Schema, parse_schema

DEEP = 100_000  # deeper than any recursion limit


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_it_loads_what_json_loads() -> None:
    text = '{"a": [1, 2.5, "x", null, true], "b": {"c": "[[[{{{"}}'
    assert safejson.loads(text) == json.loads(text)
    assert safejson.loads(text.encode()) == json.loads(text)
    assert safejson.loads(nested(safejson.MAX_DEPTH)) is not None


@pytest.mark.parametrize("depth", [safejson.MAX_DEPTH + 1, 1000, DEEP])
def test_a_document_nested_too_deep_is_a_decode_error_at_the_first_bracket_too_many(
    depth: int,
) -> None:
    text = '{"a":\n ' + nested(depth) + "}"
    with pytest.raises(json.JSONDecodeError) as caught:
        safejson.loads(text)
    error = caught.value
    assert isinstance(error, safejson.JSONTooDeepError)
    assert error.msg == "nested more than 100 levels deep"
    assert (error.lineno, error.colno) == (2, 2 + safejson.MAX_DEPTH - 1)


def test_brackets_inside_strings_do_not_count_nor_escaped_quotes() -> None:
    text = json.dumps(["[" * 500, '\\"' + "{" * 500, {"k": "]" * 9}])
    assert safejson.loads(text, max_depth=3) == json.loads(text)


def test_a_number_too_long_for_python_is_a_decode_error_naming_its_place() -> None:
    with pytest.raises(json.JSONDecodeError, match=r"a number has 5,000 digits") as caught:
        safejson.loads('{"n":\n 1' + "0" * 4999 + "}")
    assert (caught.value.lineno, caught.value.colno) == (2, 2)


def test_bytes_that_are_not_text_are_a_unicode_error() -> None:
    with pytest.raises(UnicodeDecodeError):
        safejson.loads(b'{"a": "\xff"}')


# --------------------------------------------------------------------------- every parser


def test_a_deep_schema_is_a_schema_error() -> None:
    for text in ('{"attributes": ' + nested(DEEP) + "}", nested(1000).encode()):
        with pytest.raises(SchemaError, match=r"not valid JSON: nested more than 100 levels deep"):
            parse_schema(text)


def test_a_deep_recipe_is_a_recipe_error_with_its_position() -> None:
    schema = Schema([Attribute("a", AttributeType.NUMERIC)])
    with pytest.raises(RecipeError, match=r"nested more than 100 levels deep") as caught:
        parse_recipe('{"groups": ' + nested(DEEP) + "}", schema)
    assert caught.value.position == len('{"groups": ') + safejson.MAX_DEPTH - 1  # "{" is one level


def test_a_deep_or_overflowing_rearrangement_is_a_rearrangement_error() -> None:
    with pytest.raises(RearrangementError, match=r"nested more than 100 levels deep \(line 1"):
        parse_rearrangement('{"splitting": ' + nested(DEEP) + "}")
    # an integer too big for a float was an uncaught OverflowError
    with pytest.raises(RearrangementError, match="percentEnd must be a number"):
        parse_rearrangement('{"splitting": {"percentEnd": 1' + "0" * 400 + "}}")


def test_a_model_file_whose_header_is_deep_json_is_a_model_file_error() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("header.json", nested(DEEP))
        archive.writestr("weights.npy", b"")
    buffer.seek(0)
    with pytest.raises(ModelFileError, match="nested more than 100 levels deep"):
        load_model(buffer)


# --------------------------------------------------------------------------- data files


def _sniffed_error(tmp_path, name: str, content: bytes) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(DataError) as caught:
        sniff([DataFile(str(path), path.stat().st_size, lambda p=path: p.open("rb"))])
    return str(caught.value)


def test_a_gzip_file_named_csv_is_refused_as_compressed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import gzip

    message = _sniffed_error(tmp_path, "data.csv", gzip.compress(b"a,b\n1,2\n"))
    assert message.endswith(
        "line 1: the file is gzip-compressed, not CSV text: decompress it first"
    )


def test_a_nul_byte_in_a_data_file_is_refused_naming_its_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    message = _sniffed_error(tmp_path, "data.csv", b"a,b\n1,2\n3,x\x00y\n")
    assert "data.csv, line 3: the file holds a NUL byte" in message
    utf16 = "a,b\n1,2\n".encode("utf-16")
    assert "is it UTF-16?" in _sniffed_error(tmp_path, "wide.csv", utf16)


# --------------------------------------------------------------------------- no other loader


# `json.loads` kept where the text is the program's own, never a person's.
OWN_JSON = {
    "console/services/common.py": "a Create call's input, dumped and loaded again",
    "console/settings.py": "AML_SQL_CONNECTIONS, from the administrator's environment",
    "mlcore/cli.py": "infer-schema's own schema_to_json",
    "mlcore/safejson.py": "the loader itself",
}


def test_every_other_json_document_goes_through_safejson() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    loads = re.compile(r"\bjson\.loads?\(")
    found = {
        str(path.relative_to(root))
        for folder in ("console", "mlcore")
        for path in (root / folder).rglob("*.py")
        if "migrations" not in path.parts and loads.search(path.read_text())
    }
    assert found <= set(OWN_JSON), f"use mlcore.safejson.loads in {sorted(found - set(OWN_JSON))}"

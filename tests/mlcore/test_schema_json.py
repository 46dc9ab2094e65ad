"""Reading, validating and writing AML schema JSON (mlcore.schema.jsonio)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mlcore.errors import SchemaError
from mlcore.schema import (
    Attribute,
    AttributeType,
    ModelType,
    Schema,
    check_schema_fits_columns,
    parse_schema,
    schema_to_dict,
    schema_to_json,
    validate_schema,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
REAL_SCHEMAS = sorted(DATA.glob("*.schema"))

SERVICE_FORM: dict[str, Any] = {
    "version": "1.0",
    "rowId": "customerId",
    "rowWeight": "weight",
    "targetAttributeName": "willRespond",
    "dataFormat": "CSV",
    "dataFileContainsHeader": False,
    "attributes": [
        {"attributeName": "customerId", "attributeType": "CATEGORICAL"},
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "notes", "attributeType": "TEXT"},
        {"attributeName": "weight", "attributeType": "NUMERIC"},
        {"attributeName": "willRespond", "attributeType": "BINARY"},
    ],
    "excludedAttributeNames": ["notes"],
}

BOTOCORE_FORM: dict[str, Any] = {
    "version": "1.0",
    "recordAnnotationFieldName": "customerId",
    "recordWeightFieldName": "weight",
    "targetFieldName": "willRespond",
    "dataFormat": "CSV",
    "dataFileContainsHeader": False,
    "variables": [
        {"fieldName": "customerId", "fieldType": "CATEGORICAL"},
        {"fieldName": "age", "fieldType": "NUMERIC"},
        {"fieldName": "notes", "fieldType": "TEXT"},
        {"fieldName": "weight", "fieldType": "NUMERIC"},
        {"fieldName": "willRespond", "fieldType": "BINARY"},
    ],
    "excludedVariableNames": ["notes"],
}

EXPECTED = Schema(
    attributes=[
        Attribute("customerId", AttributeType.CATEGORICAL),
        Attribute("age", AttributeType.NUMERIC),
        Attribute("notes", AttributeType.TEXT),
        Attribute("weight", AttributeType.NUMERIC),
        Attribute("willRespond", AttributeType.BINARY),
    ],
    target="willRespond",
    row_id="customerId",
    row_weight="weight",
    data_file_contains_header=False,
    excluded=["notes"],
)


def service(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(SERVICE_FORM)
    document.update(changes)
    return document


def botocore(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(BOTOCORE_FORM)
    document.update(changes)
    return document


def attributes(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"attributeName": name, "attributeType": type} for name, type in pairs]


def rejection(document: Any) -> SchemaError:
    with pytest.raises(SchemaError) as caught:
        parse_schema(document)
    return caught.value


# --------------------------------------------------------------------------- both vocabularies


def test_it_reads_the_service_vocabulary() -> None:
    assert parse_schema(service()) == EXPECTED


def test_it_reads_the_botocore_vocabulary() -> None:
    assert parse_schema(botocore()) == EXPECTED


def test_it_reads_json_text_and_utf8_bytes_with_a_bom() -> None:
    text = json.dumps(SERVICE_FORM)
    assert parse_schema(text) == EXPECTED
    assert parse_schema(("\ufeff" + text).encode()) == EXPECTED


@pytest.mark.parametrize("document", [SERVICE_FORM, BOTOCORE_FORM])
def test_both_vocabularies_round_trip_through_the_service_form(document: dict[str, Any]) -> None:
    schema = parse_schema(document)
    assert parse_schema(schema_to_json(schema)) == schema
    assert schema_to_dict(schema) == SERVICE_FORM


def test_it_writes_nulls_and_keys_in_the_order_of_the_real_files() -> None:
    schema = Schema([Attribute("a", AttributeType.NUMERIC)])
    written = json.loads(schema_to_json(schema))
    assert list(written) == [
        "version",
        "rowId",
        "rowWeight",
        "targetAttributeName",
        "dataFormat",
        "dataFileContainsHeader",
        "attributes",
        "excludedAttributeNames",
    ]
    assert written["rowId"] is None
    assert written["targetAttributeName"] is None
    assert written["excludedAttributeNames"] == []


def test_it_indents_by_two_spaces_unless_told_otherwise() -> None:
    schema = Schema([Attribute("a", AttributeType.NUMERIC)])
    assert '\n  "version": "1.0"' in schema_to_json(schema)
    assert "\n" not in schema_to_json(schema, indent=None)


def test_it_accepts_the_two_spellings_of_a_field_when_they_agree() -> None:
    schema = parse_schema(service(targetFieldName="willRespond"))
    assert schema.target == "willRespond"


def test_it_rejects_the_two_spellings_of_a_field_when_they_disagree() -> None:
    error = rejection(service(targetFieldName="age"))
    assert error.path == "targetFieldName"
    assert "disagree" in error.message


# --------------------------------------------------------------------------- real files


@pytest.mark.parametrize("path", REAL_SCHEMAS, ids=lambda p: p.name)
def test_every_real_schema_file_parses_and_round_trips(path: Path) -> None:
    schema = parse_schema(path.read_bytes())
    assert parse_schema(schema_to_json(schema)) == schema
    assert schema_to_dict(schema) == {"targetAttributeName": None} | json.loads(path.read_text())


def test_the_real_schemas_have_the_targets_and_model_types_of_the_tutorials() -> None:
    banking = parse_schema((DATA / "banking.csv.schema").read_text())
    assert banking.target == "y"
    assert banking.model_type() is ModelType.BINARY
    assert banking.attribute("previous").type is AttributeType.BINARY
    mnist = parse_schema((DATA / "mnist-train.csv.schema").read_text())
    assert mnist.row_weight is None
    assert len(mnist.attributes) == 785
    assert mnist.model_type() is ModelType.MULTICLASS
    assert parse_schema((DATA / "banking-batch.csv.schema").read_text()).target is None


# --------------------------------------------------------------------------- lenient values


@pytest.mark.parametrize(("flag", "expected"), [(True, True), ("false", False), (" TRUE ", True)])
def test_it_accepts_the_header_flag_as_a_boolean_or_a_string(flag: object, expected: bool) -> None:
    assert parse_schema(service(dataFileContainsHeader=flag)).data_file_contains_header is expected


def test_it_defaults_missing_and_null_fields() -> None:
    schema = parse_schema(
        {
            "version": None,
            "rowId": None,
            "dataFormat": None,
            "dataFileContainsHeader": None,
            "attributes": attributes(("a", "NUMERIC")),
            "excludedAttributeNames": None,
        }
    )
    assert schema == Schema([Attribute("a", AttributeType.NUMERIC)])


def test_it_treats_an_empty_target_as_no_target() -> None:
    assert parse_schema(service(targetAttributeName="")).target is None


def test_it_accepts_attribute_types_in_any_case() -> None:
    schema = parse_schema({"attributes": attributes(("a", "numeric"), ("b", " Binary "))})
    assert [a.type for a in schema.attributes] == [AttributeType.NUMERIC, AttributeType.BINARY]


def test_it_drops_repeated_excluded_names() -> None:
    assert parse_schema(service(excludedAttributeNames=["notes", "notes"])).excluded == ["notes"]


# --------------------------------------------------------------------------- errors


def test_it_rejects_text_that_is_not_json_and_says_where() -> None:
    error = rejection('{"version": "1.0",\n  "attributes": [}')
    assert "not valid JSON" in error.message
    assert "line 2, column 18" in error.message


def test_it_rejects_bytes_that_are_not_utf8() -> None:
    assert "not UTF-8" in rejection(b'{"version": "\xff"}').message


@pytest.mark.parametrize(("document", "kind"), [("[1, 2]", "a list"), ('"x"', "a string")])
def test_it_rejects_json_that_is_not_an_object(document: str, kind: str) -> None:
    error = rejection(document)
    assert error.message == f"the schema must be a JSON object, not {kind}"
    assert error.path is None


def test_it_rejects_a_schema_without_attributes() -> None:
    document = service()
    del document["attributes"]
    assert "no attributes list" in rejection(document).message


def test_it_rejects_attributes_that_are_not_a_list() -> None:
    error = rejection(service(attributes={"attributeName": "a"}))
    assert error.path == "attributes"
    assert "must be a list" in error.message


def test_it_rejects_an_empty_attribute_list() -> None:
    error = rejection({"attributes": []})
    assert error.path == "attributes"
    assert "at least one attribute" in error.message


def test_it_rejects_an_attribute_that_is_not_an_object() -> None:
    error = rejection({"variables": [{"fieldName": "a", "fieldType": "TEXT"}, "b"]})
    assert error.path == "variables[1]"


def test_it_rejects_more_than_a_thousand_attributes() -> None:
    many = attributes(*[(f"v{i}", "NUMERIC") for i in range(1001)])
    error = rejection({"attributes": many})
    assert error.path == "attributes"
    assert "1,001 attributes" in error.message
    assert "at most 1,000" in error.message


def test_it_accepts_exactly_a_thousand_attributes() -> None:
    many = attributes(*[(f"v{i}", "NUMERIC") for i in range(1000)])
    assert len(parse_schema({"attributes": many}).attributes) == 1000


def test_it_rejects_a_duplicate_attribute_name() -> None:
    error = rejection({"attributes": attributes(("a", "NUMERIC"), ("b", "TEXT"), ("a", "BINARY"))})
    assert error.path == "attributes[2].attributeName"
    assert "'a' is used twice" in error.message
    assert "attributes[0]" in error.message


@pytest.mark.parametrize("name", ["", "   "])
def test_it_rejects_an_empty_attribute_name(name: str) -> None:
    error = rejection({"attributes": attributes(("a", "NUMERIC"), (name, "TEXT"))})
    assert error.path == "attributes[1].attributeName"
    assert "cannot be empty" in error.message


def test_it_rejects_an_attribute_without_a_name_in_the_old_vocabulary() -> None:
    error = rejection({"variables": [{"fieldType": "TEXT"}]})
    assert error.path == "variables[0].fieldName"
    assert "no name" in error.message


def test_it_rejects_a_name_that_is_not_a_string() -> None:
    error = rejection({"attributes": [{"attributeName": 3, "attributeType": "TEXT"}]})
    assert error.path == "attributes[0].attributeName"
    assert "not a number" in error.message


def test_it_rejects_an_unknown_type_and_lists_the_allowed_ones() -> None:
    error = rejection(
        {"attributes": attributes(("a", "NUMERIC"), ("b", "NUMERIC"), ("c", "TEXT"), ("d", "INT"))}
    )
    assert error.path == "attributes[3].attributeType"
    assert "unknown attribute type 'INT'" in error.message
    assert "BINARY, CATEGORICAL, NUMERIC, TEXT" in error.message


def test_it_rejects_an_attribute_without_a_type() -> None:
    error = rejection({"attributes": [{"attributeName": "a"}]})
    assert error.path == "attributes[0].attributeType"
    assert "no type" in error.message


@pytest.mark.parametrize("type", ["WEIGHTED_INT_SEQUENCE", "WEIGHTED_STRING_SEQUENCE"])
def test_it_rejects_the_weighted_sequence_types_as_unsupported(type: str) -> None:
    error = rejection({"variables": [{"fieldName": "a", "fieldType": type}]})
    assert error.path == "variables[0].fieldType"
    assert f"the type {type!r} is not supported" in error.message


def test_it_rejects_a_target_that_is_not_an_attribute() -> None:
    error = rejection(service(targetAttributeName="willrespond"))
    assert error.path == "targetAttributeName"
    assert "the target 'willrespond' is not one of the schema's attributes" in error.message
    assert "did you mean 'willRespond'?" in error.message


def test_it_names_the_old_key_when_an_old_style_target_is_not_an_attribute() -> None:
    error = rejection(botocore(targetFieldName="nope"))
    assert error.path == "targetFieldName"


def test_it_rejects_a_row_id_that_is_not_an_attribute() -> None:
    error = rejection(botocore(recordAnnotationFieldName="id"))
    assert error.path == "recordAnnotationFieldName"
    assert "row id 'id'" in error.message


def test_it_rejects_a_row_weight_that_is_not_an_attribute() -> None:
    error = rejection(service(rowWeight="w"))
    assert error.path == "rowWeight"
    assert "row weight 'w'" in error.message


def test_it_rejects_an_excluded_name_that_is_not_an_attribute() -> None:
    error = rejection(service(excludedAttributeNames=["notes", "nots"]))
    assert error.path == "excludedAttributeNames[1]"
    assert "excluded attribute 'nots'" in error.message


def test_it_rejects_a_target_that_is_also_excluded() -> None:
    error = rejection(service(excludedAttributeNames=["notes", "willRespond"]))
    assert error.path == "excludedAttributeNames[1]"
    assert "cannot also be excluded" in error.message


def test_it_rejects_a_target_that_is_also_the_row_id() -> None:
    error = rejection(service(rowId="willRespond"))
    assert error.path == "rowId"
    assert "cannot also be the row id" in error.message


def test_it_rejects_a_row_id_that_is_also_the_row_weight() -> None:
    error = rejection(service(rowId="weight"))
    assert error.path == "rowWeight"


def test_it_rejects_a_text_target() -> None:
    error = rejection(service(targetAttributeName="notes", excludedAttributeNames=[]))
    assert error.path == "targetAttributeName"
    assert "must be BINARY, CATEGORICAL or NUMERIC" in error.message


def test_it_rejects_a_row_weight_that_is_not_numeric() -> None:
    error = rejection(service(rowWeight="customerId", rowId=None))
    assert error.path == "rowWeight"
    assert "must be NUMERIC" in error.message


def test_it_rejects_a_target_that_is_not_a_string() -> None:
    error = rejection(service(targetAttributeName=["willRespond"]))
    assert error.path == "targetAttributeName"
    assert "not a list" in error.message


@pytest.mark.parametrize("data_format", ["JSON", "csv2", 1])
def test_it_rejects_a_data_format_other_than_csv(data_format: object) -> None:
    error = rejection(service(dataFormat=data_format))
    assert error.path == "dataFormat"
    assert "AML reads only CSV" in error.message


@pytest.mark.parametrize("flag", ["yes", 1, "maybe"])
def test_it_rejects_a_header_flag_that_is_not_true_or_false(flag: object) -> None:
    error = rejection(service(dataFileContainsHeader=flag))
    assert error.path == "dataFileContainsHeader"
    assert "must be true or false" in error.message


def test_it_rejects_excluded_names_that_are_not_a_list_of_strings() -> None:
    assert rejection(service(excludedAttributeNames="notes")).path == "excludedAttributeNames"
    assert rejection(service(excludedAttributeNames=[None])).path == "excludedAttributeNames[0]"


def test_it_rejects_a_misspelt_key_and_suggests_the_right_one() -> None:
    error = rejection(service(targetAttribute="willRespond"))
    assert error.path == "targetAttribute"
    assert "did you mean 'targetAttributeName'?" in error.message


def test_it_rejects_an_unknown_key_inside_an_attribute() -> None:
    document = {"attributes": [{"attributeName": "a", "attributeType": "TEXT", "kind": "x"}]}
    assert rejection(document).path == "attributes[0].kind"


def test_the_error_text_starts_with_the_path() -> None:
    assert str(rejection(service(rowWeight="w"))).startswith("rowWeight: the row weight 'w'")


def test_it_validates_a_schema_built_in_code() -> None:
    validate_schema(EXPECTED)
    with pytest.raises(SchemaError) as caught:
        validate_schema(Schema([Attribute("a", AttributeType.NUMERIC)], target="b"))
    assert caught.value.path == "targetAttributeName"


# --------------------------------------------------------------------------- fitting the data

TWO = Schema([Attribute("age", AttributeType.NUMERIC), Attribute("y", AttributeType.BINARY)])


def test_it_accepts_columns_that_match_the_attributes() -> None:
    assert check_schema_fits_columns(TWO, ["age", "y"], has_header=True) is None
    assert check_schema_fits_columns(TWO, [" age", " y"], has_header=True) is None
    assert check_schema_fits_columns(TWO, ["Var01", "Var02"], has_header=False) is None


def test_it_names_the_attributes_missing_from_the_data() -> None:
    with pytest.raises(SchemaError) as caught:
        check_schema_fits_columns(TWO, ["age"], has_header=True)
    assert caught.value.path == "attributes"
    assert "2 attributes but the data has 1 column" in caught.value.message
    assert "not in the data: 'y'" in caught.value.message


def test_it_names_the_columns_missing_from_the_schema() -> None:
    with pytest.raises(SchemaError) as caught:
        check_schema_fits_columns(TWO, ["age", "y", "job"], has_header=True)
    assert "not in the schema: 'job'" in caught.value.message


def test_names_that_differ_at_the_same_count_are_not_called_a_count_mismatch() -> None:
    with pytest.raises(SchemaError) as caught:
        check_schema_fits_columns(TWO, ["age", "label"], has_header=True)
    assert "attributes but the data has" not in caught.value.message
    assert "the schema's attribute names differ from the data's header" in caught.value.message
    assert "not in the data: 'y'" in caught.value.message
    assert "not in the schema: 'label'" in caught.value.message


def test_it_rejects_columns_in_another_order() -> None:
    with pytest.raises(SchemaError) as caught:
        check_schema_fits_columns(TWO, ["y", "age"], has_header=True)
    assert caught.value.path == "attributes[0].attributeName"
    assert "by position" in caught.value.message


def test_without_a_header_only_the_column_count_matters() -> None:
    with pytest.raises(SchemaError) as caught:
        check_schema_fits_columns(TWO, ["Var01", "Var02", "Var03"], has_header=False)
    assert "2 attributes but the data has 3 columns" in caught.value.message


def test_the_banking_schema_fits_the_banking_header() -> None:
    schema = parse_schema((DATA / "banking.csv.schema").read_text())
    header = (DATA / "banking.csv").read_text().split("\n", 1)[0].strip().split(",")
    check_schema_fits_columns(schema, header, has_header=True)
    batch = (DATA / "banking-batch.csv").read_text().split("\n", 1)[0].strip().split(",")
    with pytest.raises(SchemaError, match="not in the data: 'y'"):
        check_schema_fits_columns(schema, batch, has_header=True)

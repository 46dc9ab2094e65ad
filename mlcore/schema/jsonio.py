"""Reading, validating and writing AML schema JSON (reference section 2.2).

Two vocabularies are read. The service's own, found in every real `.schema` file::

    {"version": "1.0", "rowId": null, "rowWeight": null, "targetAttributeName": "y",
     "dataFormat": "CSV", "dataFileContainsHeader": true,
     "attributes": [{"attributeName": "y", "attributeType": "BINARY"}],
     "excludedAttributeNames": []}

and the older one of the botocore docstrings (`recordAnnotationFieldName`,
`recordWeightFieldName`, `targetFieldName`, `variables` of `fieldName`/`fieldType`,
`excludedVariableNames`). Each key may use either spelling; error paths use the spelling
the document used, so a message points at the text the user wrote. Only the service form
is written.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlcore import safejson
from mlcore.errors import SchemaError
from mlcore.schema.model import MODEL_TYPE_FOR_TARGET, Attribute, AttributeType, Schema

MAX_ATTRIBUTES = 1_000  # AML's limit on the variables of a data file (reference section 12)
DATA_FORMATS = ("CSV",)
# Types the older vocabulary lists but the service never implemented.
UNSUPPORTED_TYPES = ("WEIGHTED_INT_SEQUENCE", "WEIGHTED_STRING_SEQUENCE")
ALLOWED_TYPES = ", ".join(sorted(t.value for t in AttributeType))


@dataclass(frozen=True)
class _Key:
    """One schema field: its service spelling and, if any, its older spelling."""

    name: str
    old_name: str | None = None

    def spellings(self) -> tuple[str, ...]:
        return (self.name,) if self.old_name is None else (self.name, self.old_name)


VERSION = _Key("version")
ROW_ID = _Key("rowId", "recordAnnotationFieldName")
ROW_WEIGHT = _Key("rowWeight", "recordWeightFieldName")
TARGET = _Key("targetAttributeName", "targetFieldName")
DATA_FORMAT = _Key("dataFormat")
HEADER = _Key("dataFileContainsHeader")
ATTRIBUTES = _Key("attributes", "variables")
EXCLUDED = _Key("excludedAttributeNames", "excludedVariableNames")
TOP_LEVEL_KEYS = (VERSION, ROW_ID, ROW_WEIGHT, TARGET, DATA_FORMAT, HEADER, ATTRIBUTES, EXCLUDED)

ATTRIBUTE_NAME = _Key("attributeName", "fieldName")
ATTRIBUTE_TYPE = _Key("attributeType", "fieldType")
ATTRIBUTE_KEYS = (ATTRIBUTE_NAME, ATTRIBUTE_TYPE)


@dataclass
class _Paths:
    """The spelling each reference field had in the document, for error paths."""

    row_id: str = ROW_ID.name
    row_weight: str = ROW_WEIGHT.name
    target: str = TARGET.name
    attributes: str = ATTRIBUTES.name
    attribute_name: str = ATTRIBUTE_NAME.name
    excluded: str = EXCLUDED.name


# --------------------------------------------------------------------------- reading


def parse_schema(text: str | bytes | Mapping[str, Any]) -> Schema:
    """Read and validate a schema given as JSON text, UTF-8 bytes or an already-parsed dict.

    Raises `SchemaError` whose `path` points at the offending key, e.g.
    ``attributes[3].attributeType``.

    >>> schema = parse_schema('{"targetFieldName": "y", "variables": ['
    ...     '{"fieldName": "age", "fieldType": "NUMERIC"},'
    ...     '{"fieldName": "y", "fieldType": "BINARY"}]}')
    >>> schema.target, [a.type.value for a in schema.attributes]
    ('y', ['NUMERIC', 'BINARY'])
    """
    document = _load_document(text)
    _reject_unknown_keys(document, TOP_LEVEL_KEYS, path=None)
    paths = _Paths()
    attributes = _read_attributes(document, paths)
    schema = Schema(
        attributes=attributes,
        target=_read_reference(document, TARGET, paths, "target"),
        row_id=_read_reference(document, ROW_ID, paths, "row_id"),
        row_weight=_read_reference(document, ROW_WEIGHT, paths, "row_weight"),
        data_file_contains_header=_read_header_flag(document),
        excluded=_read_excluded(document, paths),
        version=_read_version(document),
        data_format=_read_data_format(document),
    )
    _validate(schema, paths)
    return schema


def validate_schema(schema: Schema) -> None:
    """Check a `Schema` built in code (e.g. edited in the wizard) by the rules `parse_schema` applies.

    >>> validate_schema(Schema([Attribute("a", AttributeType.TEXT)], target="a"))
    Traceback (most recent call last):
    ...
    mlcore.errors.SchemaError: targetAttributeName: the target 'a' is TEXT; a target must be BINARY, CATEGORICAL or NUMERIC
    """
    paths = _Paths()
    for index, attribute in enumerate(schema.attributes):
        _check_name(attribute.name, f"{paths.attributes}[{index}].{paths.attribute_name}")
    _validate(schema, paths)


def _load_document(text: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise SchemaError(
                f"the schema is not UTF-8 text (bad byte at offset {error.start})"
            ) from error
    if isinstance(text, str):
        try:
            document = safejson.loads(text.removeprefix("\ufeff"))
        except json.JSONDecodeError as error:
            raise SchemaError(
                f"the schema is not valid JSON: {error.msg} at line {error.lineno}, "
                f"column {error.colno}"
            ) from error
    else:
        document = text
    if not isinstance(document, Mapping):
        raise SchemaError(f"the schema must be a JSON object, not {_json_kind(document)}")
    return document


def _read_attributes(document: Mapping[str, Any], paths: _Paths) -> list[Attribute]:
    key, items = _lookup(document, ATTRIBUTES)
    paths.attributes = key
    if items is None:
        raise SchemaError(
            "the schema has no attributes list", path=key if key in document else None
        )
    if not isinstance(items, list):
        raise SchemaError(f"must be a list of attributes, not {_json_kind(items)}", path=key)
    if not items:
        raise SchemaError("the schema must list at least one attribute", path=key)
    if len(items) > MAX_ATTRIBUTES:
        raise SchemaError(
            f"the schema lists {len(items):,} attributes; AML allows at most {MAX_ATTRIBUTES:,}",
            path=key,
        )
    attributes = [
        _read_attribute(item, f"{key}[{index}]", paths) for index, item in enumerate(items)
    ]
    _reject_duplicate_names(attributes, paths)
    return attributes


def _read_attribute(item: object, path: str, paths: _Paths) -> Attribute:
    if not isinstance(item, Mapping):
        raise SchemaError(
            f"each attribute must be an object with a name and a type, not {_json_kind(item)}",
            path=path,
        )
    _reject_unknown_keys(item, ATTRIBUTE_KEYS, path=path)
    # An attribute missing a key is reported in the spelling of its list ("variables" → "fieldName").
    old_style = paths.attributes == ATTRIBUTES.old_name
    name_key, name = _lookup(item, ATTRIBUTE_NAME, old_style)
    paths.attribute_name = name_key
    _check_name(name, f"{path}.{name_key}")
    type_key, type_name = _lookup(item, ATTRIBUTE_TYPE, old_style)
    return Attribute(name, _parse_type(type_name, f"{path}.{type_key}"))


def _check_name(name: object, path: str) -> None:
    if name is None:
        raise SchemaError("the attribute has no name", path=path)
    if not isinstance(name, str):
        raise SchemaError(f"an attribute name must be a string, not {_json_kind(name)}", path=path)
    if not name.strip():
        raise SchemaError("an attribute name cannot be empty", path=path)


def _parse_type(type_name: object, path: str) -> AttributeType:
    if type_name is None:
        raise SchemaError(f"the attribute has no type; use one of {ALLOWED_TYPES}", path=path)
    if not isinstance(type_name, str):
        raise SchemaError(
            f"an attribute type must be a string, not {_json_kind(type_name)}", path=path
        )
    normalised = type_name.strip().upper()
    if normalised in UNSUPPORTED_TYPES:
        raise SchemaError(
            f"the type {type_name!r} is not supported (AML never implemented weighted "
            f"sequences); use one of {ALLOWED_TYPES}",
            path=path,
        )
    try:
        return AttributeType(normalised)
    except ValueError:
        raise SchemaError(
            f"unknown attribute type {type_name!r}; use one of {ALLOWED_TYPES}", path=path
        ) from None


def _reject_duplicate_names(attributes: list[Attribute], paths: _Paths) -> None:
    first_index: dict[str, int] = {}
    for index, attribute in enumerate(attributes):
        if attribute.name in first_index:
            raise SchemaError(
                f"the attribute name {attribute.name!r} is used twice "
                f"(also at {paths.attributes}[{first_index[attribute.name]}])",
                path=f"{paths.attributes}[{index}].{paths.attribute_name}",
            )
        first_index[attribute.name] = index


def _read_reference(
    document: Mapping[str, Any], key: _Key, paths: _Paths, field_name: str
) -> str | None:
    """A field naming one attribute (target, row id, row weight); null or "" mean none."""
    used_key, value = _lookup(document, key)
    setattr(paths, field_name, used_key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SchemaError(
            f"must be an attribute name (a string) or null, not {_json_kind(value)}",
            path=used_key,
        )
    return value


def _read_excluded(document: Mapping[str, Any], paths: _Paths) -> list[str]:
    key, names = _lookup(document, EXCLUDED)
    paths.excluded = key
    if names is None:
        return []
    if not isinstance(names, list):
        raise SchemaError(f"must be a list of attribute names, not {_json_kind(names)}", path=key)
    for index, name in enumerate(names):
        if not isinstance(name, str):
            raise SchemaError(
                f"must be an attribute name (a string), not {_json_kind(name)}",
                path=f"{key}[{index}]",
            )
    # Listing a name twice is harmless; keep the first occurrence only.
    return list(dict.fromkeys(names))


def _read_header_flag(document: Mapping[str, Any]) -> bool:
    value = document.get(HEADER.name)
    if value is None:
        return Schema.data_file_contains_header  # the dataclass default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise SchemaError(f"must be true or false, not {json.dumps(value)}", path=HEADER.name)


def _read_version(document: Mapping[str, Any]) -> str:
    value = document.get(VERSION.name)
    if value is None:
        return Schema.version  # the dataclass default
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise SchemaError(
            f'must be a string such as "1.0", not {_json_kind(value)}', path="version"
        )
    return str(value)


def _read_data_format(document: Mapping[str, Any]) -> str:
    value = document.get(DATA_FORMAT.name)
    if value is None:
        return Schema.data_format  # the dataclass default
    if not isinstance(value, str) or value.strip().upper() not in DATA_FORMATS:
        raise SchemaError(
            f"unsupported data format {json.dumps(value)}; AML reads only CSV",
            path=DATA_FORMAT.name,
        )
    return value.strip().upper()


def _lookup(document: Mapping[str, Any], key: _Key, old_style: bool = False) -> tuple[str, Any]:
    """The spelling used for `key` and its value (None when absent, with the spelling of
    the document's vocabulary: the old one when `old_style`).

    Both spellings at once are accepted only when they agree, so nothing is silently dropped.
    """
    present = [spelling for spelling in key.spellings() if spelling in document]
    if not present:
        return (key.old_name if old_style and key.old_name else key.name), None
    if len(present) == 2 and document[present[0]] != document[present[1]]:
        raise SchemaError(
            f"{present[0]!r} and {present[1]!r} are two spellings of the same field "
            "and disagree; give only one",
            path=present[1],
        )
    return present[0], document[present[0]]


def _reject_unknown_keys(
    document: Mapping[str, Any], keys: tuple[_Key, ...], path: str | None
) -> None:
    known = [spelling for key in keys for spelling in key.spellings()]
    for name in document:
        if name not in known:
            close = difflib.get_close_matches(str(name), known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(known)}"
            raise SchemaError(
                f"unknown key {name!r}{hint}", path=f"{path}.{name}" if path else str(name)
            )


def _json_kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


# --------------------------------------------------------------------------- validation


def _validate(schema: Schema, paths: _Paths) -> None:
    """Rules across fields: references name attributes and do not collide."""
    if not schema.attributes:
        raise SchemaError("the schema must list at least one attribute", path=paths.attributes)
    if len(schema.attributes) > MAX_ATTRIBUTES:
        raise SchemaError(
            f"the schema lists {len(schema.attributes):,} attributes; "
            f"AML allows at most {MAX_ATTRIBUTES:,}",
            path=paths.attributes,
        )
    _reject_duplicate_names(schema.attributes, paths)
    known = set(schema.names)
    for role, name, path in (
        ("target", schema.target, paths.target),
        ("row id", schema.row_id, paths.row_id),
        ("row weight", schema.row_weight, paths.row_weight),
    ):
        if name is not None and name not in known:
            raise SchemaError(_not_an_attribute(role, name, schema), path=path)
    for index, name in enumerate(schema.excluded):
        if name not in known:
            raise SchemaError(
                _not_an_attribute("excluded attribute", name, schema),
                path=f"{paths.excluded}[{index}]",
            )
    _check_roles_do_not_collide(schema, paths)
    _check_role_types(schema, paths)


def _not_an_attribute(role: str, name: str, schema: Schema) -> str:
    close = difflib.get_close_matches(name, schema.names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"the {role} {name!r} is not one of the schema's attributes{hint}"


def _check_roles_do_not_collide(schema: Schema, paths: _Paths) -> None:
    if schema.target is not None:
        if schema.target in schema.excluded:
            index = schema.excluded.index(schema.target)
            raise SchemaError(
                f"the target {schema.target!r} cannot also be excluded",
                path=f"{paths.excluded}[{index}]",
            )
        if schema.target == schema.row_id:
            raise SchemaError(
                f"the target {schema.target!r} cannot also be the row id", path=paths.row_id
            )
        if schema.target == schema.row_weight:
            raise SchemaError(
                f"the target {schema.target!r} cannot also be the row weight",
                path=paths.row_weight,
            )
    if schema.row_id is not None and schema.row_id == schema.row_weight:
        raise SchemaError(
            f"the row id {schema.row_id!r} cannot also be the row weight", path=paths.row_weight
        )


def _check_role_types(schema: Schema, paths: _Paths) -> None:
    target = schema.target_attribute
    if target is not None and target.type not in MODEL_TYPE_FOR_TARGET:
        raise SchemaError(
            f"the target {target.name!r} is {target.type.value}; a target must be "
            "BINARY, CATEGORICAL or NUMERIC",
            path=paths.target,
        )
    if schema.row_weight is not None:
        weight = schema.attribute(schema.row_weight)
        if weight.type is not AttributeType.NUMERIC:
            raise SchemaError(
                f"the row weight {weight.name!r} is {weight.type.value}; a weight must be NUMERIC",
                path=paths.row_weight,
            )


# --------------------------------------------------------------------------- writing


def schema_to_dict(schema: Schema) -> dict[str, Any]:
    """The schema in the service vocabulary, keys in the order of AML's own files.

    >>> schema_to_dict(Schema([Attribute("y", AttributeType.BINARY)], target="y"))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'version': '1.0', 'rowId': None, 'rowWeight': None, 'targetAttributeName': 'y',
     'dataFormat': 'CSV', 'dataFileContainsHeader': True,
     'attributes': [{'attributeName': 'y', 'attributeType': 'BINARY'}],
     'excludedAttributeNames': []}
    """
    return {
        VERSION.name: schema.version,
        ROW_ID.name: schema.row_id,
        ROW_WEIGHT.name: schema.row_weight,
        TARGET.name: schema.target,
        DATA_FORMAT.name: schema.data_format,
        HEADER.name: schema.data_file_contains_header,
        ATTRIBUTES.name: [
            {ATTRIBUTE_NAME.name: a.name, ATTRIBUTE_TYPE.name: a.type.value}
            for a in schema.attributes
        ],
        EXCLUDED.name: list(schema.excluded),
    }


def schema_to_json(schema: Schema, indent: int | None = 2) -> str:
    """The schema as JSON text in the service vocabulary (`parse_schema` reads it back).

    >>> print(schema_to_json(Schema([Attribute("age", AttributeType.NUMERIC)]), indent=None))
    {"version": "1.0", "rowId": null, "rowWeight": null, "targetAttributeName": null, \
"dataFormat": "CSV", "dataFileContainsHeader": true, \
"attributes": [{"attributeName": "age", "attributeType": "NUMERIC"}], "excludedAttributeNames": []}
    """
    return json.dumps(schema_to_dict(schema), indent=indent, ensure_ascii=False)


# --------------------------------------------------------------------------- fitting data


def check_schema_fits_columns(schema: Schema, columns: list[str], has_header: bool) -> None:
    """Raise `SchemaError` unless the data's columns match the schema's attributes.

    Attributes map to columns by position, so the counts must agree; with a header the
    names must also agree, in order (surrounding blanks ignored).

    >>> schema = Schema([Attribute("age", AttributeType.NUMERIC), Attribute("y", AttributeType.BINARY)])
    >>> check_schema_fits_columns(schema, ["age", "y"], has_header=True)
    >>> check_schema_fits_columns(schema, ["age"], has_header=True)
    Traceback (most recent call last):
    ...
    mlcore.errors.SchemaError: attributes: the schema lists 2 attributes but the data has 1 column; not in the data: 'y'
    """
    names = [name.strip() for name in schema.names]
    found = [column.strip() for column in columns]
    if has_header:
        _check_same_names(names, found)
    elif len(names) != len(found):
        raise SchemaError(
            f"the schema lists {_count(len(names), 'attribute')} but the data has "
            f"{_count(len(found), 'column')}",
            path=ATTRIBUTES.name,
        )


def _check_same_names(names: list[str], found: list[str]) -> None:
    missing = [name for name in names if name not in found]
    extra = [column for column in found if column not in names]
    if len(names) != len(found) or missing or extra:
        details = []
        if missing:
            details.append(f"not in the data: {_quoted(missing)}")
        if extra:
            details.append(f"not in the schema: {_quoted(extra)}")
        summary = (
            f"the schema lists {_count(len(names), 'attribute')} but the data has "
            f"{_count(len(found), 'column')}"
            if len(names) != len(found)
            else "the schema's attribute names differ from the data's header"
        )
        raise SchemaError(
            summary + (f"; {'; '.join(details)}" if details else ""), path=ATTRIBUTES.name
        )
    for index, (name, column) in enumerate(zip(names, found, strict=True)):
        if name != column:
            raise SchemaError(
                f"attributes are matched to columns by position: attribute {index + 1} is "
                f"{name!r} but column {index + 1} of the data is {column!r}",
                path=f"{ATTRIBUTES.name}[{index}].{ATTRIBUTE_NAME.name}",
            )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _quoted(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(repr(name) for name in names[:limit])
    return shown if len(names) <= limit else f"{shown} and {len(names) - limit} more"

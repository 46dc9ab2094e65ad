"""The AML data schema: the dataclasses, value conversion, JSON reading/writing and inference."""

from __future__ import annotations

from mlcore.schema.infer import infer_schema, infer_type, suggest_row_id, suggest_target
from mlcore.schema.jsonio import (
    MAX_ATTRIBUTES,
    check_schema_fits_columns,
    parse_schema,
    schema_to_dict,
    schema_to_json,
    validate_schema,
)
from mlcore.schema.model import Attribute, AttributeType, ModelType, Schema
from mlcore.schema.values import (
    BINARY_FALSE,
    BINARY_TRUE,
    ConvertedColumn,
    SampleFit,
    convert_column,
    is_number,
    parse_binary_value,
    sample_fit,
)

__all__ = [
    "BINARY_FALSE",
    "BINARY_TRUE",
    "MAX_ATTRIBUTES",
    "Attribute",
    "AttributeType",
    "ConvertedColumn",
    "ModelType",
    "SampleFit",
    "Schema",
    "check_schema_fits_columns",
    "convert_column",
    "infer_schema",
    "infer_type",
    "is_number",
    "parse_binary_value",
    "parse_schema",
    "sample_fit",
    "schema_to_dict",
    "schema_to_json",
    "suggest_row_id",
    "suggest_target",
    "validate_schema",
]

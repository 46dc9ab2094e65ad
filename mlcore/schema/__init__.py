"""The AML data schema: the dataclasses, value conversion, JSON reading/writing and inference."""

from __future__ import annotations

from mlcore.schema.model import Attribute, AttributeType, ModelType, Schema
from mlcore.schema.values import (
    BINARY_FALSE,
    BINARY_TRUE,
    ConvertedColumn,
    convert_column,
    is_number,
    parse_binary_value,
)

__all__ = [
    "BINARY_FALSE",
    "BINARY_TRUE",
    "Attribute",
    "AttributeType",
    "ConvertedColumn",
    "ModelType",
    "Schema",
    "convert_column",
    "is_number",
    "parse_binary_value",
]

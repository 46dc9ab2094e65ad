"""Input checked against the service model botocore ships (AWS JSON 1.1, 2014-12-12).

The model is the contract: each operation's input shape says which members are required and
what their types, lengths, ranges, patterns and enums are. `check_input` walks the received
document along it and raises `InvalidInputException` naming the first member that breaks it
(`DataSpec.DataLocationS3`, `Tags[3].Key`), as AWS's own validation did. Members the model
does not declare are ignored, as AWS JSON services ignore them.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape

from .errors import invalid_input

SERVICE = "machinelearning"
TARGET_PREFIX = "AmazonML_20141212."

# Java's Unicode classes, which Python's `re` lacks. They only occur inside a class that also
# holds digits and "_" (the tag patterns), so Unicode `\w` stands for letters there.
_JAVA_CLASSES = {r"\p{L}": r"\w", r"\p{N}": r"\d", r"\p{Z}": r"\s"}
# Patterns the server does not hold clients to: PredictEndpoint is our own address, not AWS's.
_UNCHECKED_PATTERNS = {"VipURL"}


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model(SERVICE)


def operation_model(target: str) -> OperationModel | None:
    """The operation an `X-Amz-Target` header names, or None when it names none of ours."""
    if not target.startswith(TARGET_PREFIX):
        return None
    name = target[len(TARGET_PREFIX) :]
    if name not in service_model().operation_names:
        return None
    return service_model().operation_model(name)


def check_input(operation: OperationModel, document: Any) -> dict[str, Any]:
    """The input document, checked; raises InvalidInputException naming the member at fault."""
    if not isinstance(document, dict):
        raise invalid_input("The request body must be a JSON object.")
    shape = operation.input_shape
    if shape is not None:
        _check(shape, document, "")
    return document


def _check(shape: Shape, value: Any, where: str) -> None:
    kind = shape.type_name
    if kind == "structure":
        _check_structure(shape, value, where)
    elif kind == "list":
        _check_list(shape, value, where)
    elif kind == "map":
        _check_map(shape, value, where)
    elif kind == "string":
        _check_string(shape, value, where)
    elif kind in ("integer", "long"):
        _check_integer(shape, value, where)
    elif kind in ("float", "double"):
        _check_number(shape, value, where)
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise _wrong(where, "a boolean", value)
    elif kind == "timestamp" and (
        isinstance(value, bool) or not isinstance(value, (int, float, str))
    ):
        raise _wrong(where, "a timestamp", value)


def _check_structure(shape: Shape, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise _wrong(where, "an object", value)
    for name in shape.required_members:
        if value.get(name) is None:
            raise invalid_input(f"{_join(where, name)} is required.", member=_join(where, name))
    for name, member in shape.members.items():
        if value.get(name) is not None:
            _check(member, value[name], _join(where, name))


def _check_list(shape: Shape, value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise _wrong(where, "a list", value)
    _check_count(shape, len(value), where, "items")
    for index, item in enumerate(value):
        _check(shape.member, item, f"{where}[{index}]")


def _check_map(shape: Shape, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise _wrong(where, "an object", value)
    _check_count(shape, len(value), where, "entries")
    for key, item in value.items():
        _check(shape.key, key, f"{where} key {key!r}")
        _check(shape.value, item, f"{where}[{key!r}]")


def _check_string(shape: Shape, value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise _wrong(where, "a string", value)
    _check_count(shape, len(value), where, "characters")
    enum = shape.metadata.get("enum")
    if enum and value not in enum:
        raise invalid_input(
            f"{where} must be one of {', '.join(enum)}, not {_shown(value)}.", member=where
        )
    pattern = shape.metadata.get("pattern")
    if pattern and shape.name not in _UNCHECKED_PATTERNS and not _pattern(pattern).fullmatch(value):
        raise invalid_input(
            f"{where} {_shown(value)} does not match the pattern {pattern}.", member=where
        )


def _check_integer(shape: Shape, value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, "an integer", value)
    _check_range(shape, value, where)


def _check_number(shape: Shape, value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _wrong(where, "a number", value)
    _check_range(shape, value, where)


def _check_count(shape: Shape, count: int, where: str, unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if low is not None and count < low:
        raise invalid_input(
            f"{where} must have at least {low} {unit} (it has {count}).", member=where
        )
    if high is not None and count > high:
        raise invalid_input(
            f"{where} must have at most {high:,} {unit} (it has {count:,}).", member=where
        )


def _check_range(shape: Shape, value: float, where: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        raise invalid_input(f"{where} must be between {low} and {high}, not {value}.", member=where)


@cache
def _pattern(java: str) -> re.Pattern[str]:
    for java_class, python_class in _JAVA_CLASSES.items():
        java = java.replace(java_class, python_class)
    return re.compile(java)


def _wrong(where: str, expected: str, value: Any) -> Exception:
    return invalid_input(
        f"{where or 'The request'} must be {expected}, not {_type_of(value)}.", member=where
    )


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name

"""Checks an API output against botocore's own `machinelearning` service model.

`shape_problems(value, "GetMLModelOutput")` walks the named shape and lists every way the value
breaks it: unknown or null members, missing required ones, wrong JSON types, values outside an
enum, lengths and ranges, patterns (but those named in `lenient_patterns`: our server paths and
http endpoint URLs are deliberate differences). `parsed_by_botocore` feeds the output to the
parser boto3 itself uses, as a client would receive it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.parsers import create_parser


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("machinelearning")


def shape(name: str) -> Shape:
    return service_model().shape_for(name)


def shape_problems(
    value: Any, shape_name: str, *, lenient_patterns: frozenset[str] = frozenset()
) -> list[str]:
    """Every way `value` differs from the shape (an empty list when it fits)."""
    problems: list[str] = []
    _walk(value, shape(shape_name), shape_name, problems, lenient_patterns)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        problems.append(f"{shape_name}: not JSON: {exc}")
    return problems


def parsed_by_botocore(operation: str, output: dict[str, Any]) -> dict[str, Any]:
    """The output as boto3 hands it to a program (timestamps become datetimes)."""
    op: OperationModel = service_model().operation_model(operation)
    response = {"body": json.dumps(output).encode(), "headers": {}, "status_code": 200}
    parsed = create_parser("json").parse(response, op.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


def _walk(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if value is None:
        problems.append(f"{path}: null (an absent member must be left out)")
        return
    checker = _CHECKERS.get(s.type_name)
    if checker is None:
        problems.append(f"{path}: no check for shape type {s.type_name}")
        return
    checker(value, s, path, problems, lenient)


def _structure(
    value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]
) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: {type(value).__name__}, expected an object ({s.name})")
        return
    members = s.members  # type: ignore[attr-defined]
    for key in value:
        if key not in members:
            problems.append(f"{path}.{key}: not a member of {s.name}")
    for key in s.required_members:  # type: ignore[attr-defined]
        if key not in value:
            problems.append(f"{path}.{key}: required by {s.name}, missing")
    for key, member in members.items():
        if key in value:
            _walk(value[key], member, f"{path}.{key}", problems, lenient)


def _map(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if not isinstance(value, dict):
        problems.append(f"{path}: {type(value).__name__}, expected a map ({s.name})")
        return
    for key, item in value.items():
        _walk(key, s.key, f"{path} key {key!r}", problems, lenient)  # type: ignore[attr-defined]
        _walk(item, s.value, f"{path}[{key!r}]", problems, lenient)  # type: ignore[attr-defined]


def _list(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if not isinstance(value, list):
        problems.append(f"{path}: {type(value).__name__}, expected a list ({s.name})")
        return
    for i, item in enumerate(value):
        _walk(item, s.member, f"{path}[{i}]", problems, lenient)  # type: ignore[attr-defined]


def _string(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if not isinstance(value, str):
        problems.append(f"{path}: {type(value).__name__}, expected a string ({s.name})")
        return
    if s.enum and value not in s.enum:
        problems.append(f"{path}: {value!r} is not one of {s.enum}")
    _bounds(len(value), s, path, problems, "length")
    pattern = s.metadata.get("pattern")
    if pattern and s.name not in lenient and not re.fullmatch(pattern, value, re.DOTALL):
        problems.append(f"{path}: {value!r} does not match {s.name}'s pattern {pattern}")


def _integer(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{path}: {value!r}, expected an integer ({s.name})")
        return
    _bounds(value, s, path, problems, "value")


def _number(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{path}: {value!r}, expected a number ({s.name})")


def _boolean(value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]) -> None:
    if not isinstance(value, bool):
        problems.append(f"{path}: {value!r}, expected true or false ({s.name})")


def _timestamp(
    value: Any, s: Shape, path: str, problems: list[str], lenient: frozenset[str]
) -> None:
    # The JSON protocol's timestamps are epoch seconds: a number, not a string.
    if isinstance(value, bool) or not isinstance(value, int | float):
        problems.append(f"{path}: {value!r}, expected epoch seconds ({s.name})")


def _bounds(size: int, s: Shape, path: str, problems: list[str], what: str) -> None:
    low, high = s.metadata.get("min"), s.metadata.get("max")
    if low is not None and size < low:
        problems.append(f"{path}: {what} {size} below {s.name}'s minimum {low}")
    if high is not None and size > high:
        problems.append(f"{path}: {what} {size} above {s.name}'s maximum {high}")


_CHECKERS = {
    "structure": _structure,
    "map": _map,
    "list": _list,
    "string": _string,
    "integer": _integer,
    "long": _integer,
    "float": _number,
    "double": _number,
    "boolean": _boolean,
    "timestamp": _timestamp,
}

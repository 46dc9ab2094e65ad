"""One JSON loader for every document a person or a program hands in: schemas, recipes, data
rearrangements, training parameters, the schema table's packed field, API request bodies.

`json.loads` recurses once per level of nesting, so a document nested a thousand levels deep
raises `RecursionError` (an uncaught crash: an HTTP 500, a traceback); one nested 900 levels
deep loads, and then crashes whatever walks it next (copying, dumping, comparing). No document
AML reads goes deeper than a handful of levels, so `loads` refuses anything deeper than
`MAX_DEPTH` before parsing, with a `JSONTooDeepError`. That is a `json.JSONDecodeError`: code
that already reports bad JSON ("... at line 1, column 130") reports this one the same way,
with the position of the first bracket too many.

>>> loads('{"a": [1, 2]}')
{'a': [1, 2]}
>>> loads("[" * 5 + "]" * 5, max_depth=4)
Traceback (most recent call last):
...
mlcore.safejson.JSONTooDeepError: nested more than 4 levels deep: line 1 column 5 (char 4)
>>> loads('["[[[[[[", {"x": "{{{{{{"}]', max_depth=2)  # brackets inside strings do not count
['[[[[[[', {'x': '{{{{{{'}]
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

MAX_DEPTH = 100

# A string (with its escapes; its closing quote may be missing in broken JSON), or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)
_OPENING = frozenset("[{")


class JSONTooDeepError(json.JSONDecodeError):
    """The document nests arrays and objects deeper than the loader accepts."""

    def __init__(self, doc: str, pos: int, max_depth: int) -> None:
        super().__init__(f"nested more than {max_depth} levels deep", doc, pos)
        self.max_depth = max_depth


def loads(text: str | bytes | bytearray, *, max_depth: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """`json.loads(text, **kwargs)`, refusing documents nested deeper than `max_depth`.

    Bytes are decoded as `json.loads` decodes them (UTF-8, -16 or -32, found from the first
    bytes); a `UnicodeDecodeError` still means bytes that are not text.
    """
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
    check_depth(text, max_depth)
    kwargs.setdefault("parse_int", _parse_int)
    try:
        return json.loads(text, **kwargs)
    except RecursionError:  # only if the caller's own stack was already nearly full
        raise JSONTooDeepError(text, 0, max_depth) from None
    except _NumberTooLong as error:
        # int() refuses more than sys.get_int_max_str_digits() digits with a bare ValueError
        count, limit = len(error.digits.lstrip("-")), sys.get_int_max_str_digits()
        message = f"a number has {count:,} digits; at most {limit:,} are read"
        raise json.JSONDecodeError(message, text, max(text.find(error.digits), 0)) from None


class _NumberTooLong(Exception):
    def __init__(self, digits: str) -> None:
        super().__init__(digits)
        self.digits = digits


def _parse_int(digits: str) -> int:
    try:
        return int(digits)
    except ValueError:
        raise _NumberTooLong(digits) from None


def check_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """Raise `JSONTooDeepError` at the first `[` or `{` that opens level `max_depth + 1`."""
    if text.count("[") + text.count("{") <= max_depth:
        return  # cannot be that deep: the common case costs two fast counts
    depth = 0
    for match in _TOKENS.finditer(text):
        start = match.start()
        char = text[start]
        if char in _OPENING:
            depth += 1
            if depth > max_depth:
                raise JSONTooDeepError(text, start, max_depth)
        elif char != '"':
            depth -= 1


__all__ = ["MAX_DEPTH", "JSONTooDeepError", "check_depth", "loads"]

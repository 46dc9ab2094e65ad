"""SQLite made as strict as PostgreSQL about NUL characters, for the bad-input suites.

PostgreSQL refuses a NUL (0x00) in a text value ("PostgreSQL text fields cannot contain NUL (0x00)
bytes"), whether the value is to be stored or only looked up, and jsonb refuses the escape
`\\u0000`. The test database is SQLite, which keeps both: without this guard a value that is an
HTTP 500 in production would pass here.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection


@contextmanager
def postgres_like_text() -> Iterator[None]:
    """Make SQLite refuse a NUL character in a query's text parameters, as PostgreSQL does
    ("PostgreSQL text fields cannot contain NUL (0x00) bytes"): in production that is a 500
    whether the value was to be stored or only looked up, so the suites see it here too. So is
    a NUL in a JSON field's value, which jsonb refuses ("unsupported Unicode escape sequence")."""

    def refuse_nul(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        rows = params if many else [params]
        for row in rows or ():
            values = row.values() if isinstance(row, dict) else row or ()
            for value in values:
                if not isinstance(value, str):
                    continue
                if "\x00" in value:
                    raise ValueError("PostgreSQL text fields cannot contain NUL (0x00) bytes")
                if value.startswith(("[", "{")) and "\\u0000" in value:
                    raise ValueError("unsupported Unicode escape sequence: \\u0000 in jsonb")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_nul):
        yield

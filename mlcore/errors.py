"""Errors the engine raises. Each says what went wrong and, where known, where."""

from __future__ import annotations


class MLCoreError(Exception):
    """Base error: a message plus an optional place (file, line, column)."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column

    @property
    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class DataError(MLCoreError):
    """The data cannot be used: empty, not UTF-8, header only, too many invalid records..."""


class LocationError(MLCoreError):
    """A data location cannot be read: outside the allowed roots, missing, unreadable S3 key."""


class SchemaError(MLCoreError):
    """A schema is malformed or does not fit the data. `path` points into the JSON."""

    def __init__(self, message: str, *, path: str | None = None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.path = path

    def __str__(self) -> str:
        base = super().__str__()
        return f"{self.path}: {base}" if self.path else base


class RearrangementError(MLCoreError):
    """A data rearrangement JSON is malformed or out of range."""

"""Errors the API returns: `{"__type": code, "message": ...}` with an HTTP status."""

from __future__ import annotations


class ApiError(Exception):
    """A refusal the client sees as AWS JSON 1.1 returns it (botocore raises the modeled class)."""

    def __init__(self, code: str, message: str, status: int = 400, *, member: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.member = member  # the input member at fault, when one is


def invalid_input(message: str, *, member: str = "") -> ApiError:
    return ApiError("InvalidInputException", message, member=member)

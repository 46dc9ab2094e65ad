"""Errors services raise, named after AML's modeled exceptions."""

from __future__ import annotations


class ServiceError(Exception):
    aml_type = "InternalServerException"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(ServiceError):
    aml_type = "InvalidInputException"


class ResourceNotFound(ServiceError):
    aml_type = "ResourceNotFoundException"


class IdempotentParameterMismatch(ServiceError):
    aml_type = "IdempotentParameterMismatchException"


class InvalidTag(ServiceError):
    aml_type = "InvalidTagException"


class TagLimitExceeded(ServiceError):
    aml_type = "TagLimitExceededException"


class PredictorNotMounted(ServiceError):
    aml_type = "PredictorNotMountedException"


class LimitExceeded(ServiceError):
    aml_type = "LimitExceededException"

"""`POST /` with `X-Amz-Target: AmazonML_20141212.<Operation>`: one AML API call.

Order of work: which operation, who signed it (SigV4), is the input what the model allows,
then the operation itself. Every refusal is an AWS JSON 1.1 error document; only a fault of
ours is an HTTP 500 InternalServerException, logged with its request id and never with the
request's body or signature.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse

from console.public_url import public_base_url
from console.services.errors import ServiceError
from mlcore import safejson

from . import auth, operations, shapes
from .errors import ApiError

logger = logging.getLogger("console.api")

CONTENT_TYPE = "application/x-amz-json-1.1"
TAG_OPERATIONS = {"AddTags", "DeleteTags"}
TAG_LISTS = {"Tags", "TagKeys"}


def is_api_call(request: HttpRequest) -> bool:
    return "HTTP_X_AMZ_TARGET" in request.META


def api(request: HttpRequest) -> HttpResponse:
    request_id = str(uuid.uuid4())
    started = time.perf_counter()
    name, user_id = "?", None
    try:
        operation = _operation_of(request)
        name = operation.name
        user = auth.authenticate(request)
        user_id = user.pk
        params = shapes.check_input(operation, _document_of(request))
        call = operations.Call(owner=user, params=params, base_url=public_base_url(request))
        body, status = operations.HANDLERS[name](call), 200
    except ApiError as err:
        body, status = _error_body(_tag_error(name, err)), err.status
    except ServiceError as err:
        body, status = {"__type": err.aml_type, "message": err.message}, 400
    except Exception:
        logger.exception("API %s failed (request %s)", name, request_id)
        body = {
            "__type": "InternalServerException",
            "message": f"An internal error occurred (request id {request_id}).",
        }
        status = 500
    elapsed = (time.perf_counter() - started) * 1000
    logger.info("API %s user=%s status=%s %.1f ms", name, user_id, status, elapsed)
    return _response(body, status, request_id)


def _operation_of(request: HttpRequest) -> Any:
    target = request.META.get("HTTP_X_AMZ_TARGET", "")
    if request.method != "POST":
        raise ApiError("UnknownOperationException", "AML API calls are POST requests.", 405)
    operation = shapes.operation_model(target)
    if operation is None:
        raise ApiError("UnknownOperationException", f"Unknown operation {target!r}.")
    return operation


def _document_of(request: HttpRequest) -> Any:
    try:
        raw = request.body
    except RequestDataTooBig:
        raise ApiError(
            "SerializationException",
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
            413,
        ) from None
    if not raw.strip():
        return {}
    try:
        return safejson.loads(raw)
    except UnicodeDecodeError as exc:
        raise ApiError(
            "SerializationException",
            f"The request body is not UTF-8 text (a bad byte at offset {exc.start}).",
        ) from None
    except json.JSONDecodeError as exc:  # safejson's too-deep nesting and over-long numbers too
        raise ApiError(
            "SerializationException",
            f"The request body is not valid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}.",
        ) from None


def _tag_error(name: str, err: ApiError) -> ApiError:
    """AML answers bad tags with its tag errors rather than a plain InvalidInputException."""
    if name not in TAG_OPERATIONS or err.code != "InvalidInputException":
        return err
    head = err.member.split("[", 1)[0].split(".", 1)[0]
    if head not in TAG_LISTS:
        return err
    if err.member in TAG_LISTS and "at most" in err.message:
        return ApiError("TagLimitExceededException", err.message)
    return ApiError("InvalidTagException", err.message)


def _error_body(err: ApiError) -> dict[str, str]:
    return {"__type": err.code, "message": err.message}


def _response(body: dict[str, Any], status: int, request_id: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, separators=(",", ":"), allow_nan=False),
        status=status,
        content_type=CONTENT_TYPE,
    )
    response["x-amzn-RequestId"] = request_id
    return response


class AmlApiMiddleware:
    """Answers AML API calls before the console's session, CSRF and login layers, which are for
    browsers: an API call carries its own proof of identity, the SigV4 signature."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_call(request):
            return api(request)
        return self.get_response(request)

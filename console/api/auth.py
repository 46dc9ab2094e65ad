"""SigV4 authentication of API requests: who signed this request, or the AWS refusal.

The signature is recomputed with botocore's own signer (`botocore.auth.SigV4Auth`) over the request
as it was received (method, path and query, the Host header as sent, the headers the client listed
in SignedHeaders, the body bytes and its X-Amz-Date), so our canonical form is exactly the one the
clients sign with. Refusals carry AWS's codes and messages, which client programs match on.

Neither the secret nor a signature is ever logged or put in a refusal's message.
"""

from __future__ import annotations

import hmac
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any, NoReturn

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.utils.encoding import escape_uri_path

from console.api import keys
from console.api.errors import ApiError

logger = logging.getLogger(__name__)

SERVICE = "machinelearning"
ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
MAX_CLOCK_SKEW = timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
_AMZ_DATE = re.compile(r"\d{8}T\d{6}Z")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_REGION = re.compile(r"[a-z0-9-]{1,64}")

SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."


@dataclass(frozen=True)
class SignedRequestHeader:
    """The parts of an `Authorization: AWS4-HMAC-SHA256 ...` header."""

    access_key_id: str
    date: str
    region: str
    service: str
    terminator: str
    signed_headers: tuple[str, ...]
    signature: str


def authenticate(request: HttpRequest, *, now: datetime | None = None) -> Any:
    """The user whose active access key signed `request`; raises ApiError otherwise.

    `now` (aware) is the server's clock, given by tests; the request body stays readable as
    `request.body` afterwards.
    """
    now = now or datetime.now(UTC)
    header = parse_authorization(request.headers.get("Authorization"))
    amz_date = _amz_date_of(request)
    _check_scope(header, amz_date)
    _check_clock_skew(amz_date, now)
    key = keys.active_key(header.access_key_id)
    if key is None:
        _refuse("UnrecognizedClientException", INVALID_TOKEN, header.access_key_id)
    try:
        secret = keys.secret_of(key)
    except keys.UndecryptableSecret:
        logger.error("API access key %s cannot be decrypted", header.access_key_id)
        _refuse("UnrecognizedClientException", INVALID_TOKEN, header.access_key_id)
    expected = expected_signature(request, header, amz_date, secret)
    if not hmac.compare_digest(expected, header.signature):
        _refuse("InvalidSignatureException", SIGNATURE_MISMATCH, header.access_key_id)
    keys.record_use(key, now)
    return key.user


def parse_authorization(value: str | None) -> SignedRequestHeader:
    """Split the Authorization header; a missing or malformed one is refused as AWS does."""
    if not value or not value.strip():
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token")
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ApiError(
            "IncompleteSignatureException",
            f"Unsupported Authorization type: {algorithm[:40]!r}; requests must be signed with "
            f"{ALGORITHM} (Signature Version 4).",
        )
    parameters = _authorization_parameters(rest)
    missing = [
        name for name in ("Credential", "SignedHeaders", "Signature") if not parameters.get(name)
    ]
    if missing:
        raise ApiError(
            "IncompleteSignatureException",
            " ".join(f"Authorization header requires '{name}' parameter." for name in missing),
        )
    credential = parameters["Credential"].split("/")
    if len(credential) != 5 or not all(credential):
        raise ApiError(
            "IncompleteSignatureException",
            "Authorization header's 'Credential' parameter must be "
            "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request.",
        )
    if not _SIGNATURE.fullmatch(parameters["Signature"]):
        raise ApiError(
            "IncompleteSignatureException",
            "Authorization header's 'Signature' parameter must be 64 lower-case hex digits.",
        )
    access_key_id, date, region, service, terminator = credential
    return SignedRequestHeader(
        access_key_id=access_key_id,
        date=date,
        region=region,
        service=service,
        terminator=terminator,
        signed_headers=tuple(parameters["SignedHeaders"].split(";")),
        signature=parameters["Signature"],
    )


def expected_signature(
    request: HttpRequest, header: SignedRequestHeader, amz_date: str, secret: str
) -> str:
    """The signature botocore computes for `request` as received, with `secret`."""
    body = _body_of(request)
    received = _as_botocore_request(request, header.signed_headers, amz_date, body)
    _check_declared_payload_hash(received, body)
    signer = _ReceivedRequestSigner(
        Credentials(header.access_key_id, secret), SERVICE, header.region
    )
    canonical_request = signer.canonical_request(received)
    string_to_sign = signer.string_to_sign(received, canonical_request)
    return str(signer.signature(string_to_sign, received))


class _ReceivedRequestSigner(SigV4Auth):
    """botocore's SigV4 signer, signing exactly the headers the client listed.

    botocore's own `headers_to_sign` leaves out a few names (User-Agent, Expect) and adds Host
    when absent; a received request was signed over its SignedHeaders, so those are used as is.
    """

    def headers_to_sign(self, request: AWSRequest) -> HTTPHeaders:
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


def _body_of(request: HttpRequest) -> bytes:
    try:
        return request.body
    except RequestDataTooBig:
        # The same refusal the dispatcher gives, rather than an internal error from here.
        raise ApiError(
            "SerializationException",
            f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes.",
            413,
        ) from None


def _as_botocore_request(
    request: HttpRequest, signed_headers: tuple[str, ...], amz_date: str, body: bytes
) -> AWSRequest:
    headers = HTTPHeaders()
    for name in signed_headers:
        value = _received_host(request) if name == "host" else request.headers.get(name)
        if value is None:
            raise ApiError(
                "IncompleteSignatureException",
                f"The header '{name}' is listed in SignedHeaders but is not in the request.",
            )
        headers[name] = value
    url = f"{request.scheme}://{_received_host(request)}{_received_path(request)}"
    received = AWSRequest(method=request.method, url=url, headers=headers, data=body)
    received.context["timestamp"] = amz_date
    return received


def _received_host(request: HttpRequest) -> str:
    # As sent, not request.get_host(): a proxy's X-Forwarded-Host is not what the client signed.
    host = request.META.get("HTTP_HOST")
    if host:
        return str(host)
    return f"{request.META.get('SERVER_NAME', '')}:{request.META.get('SERVER_PORT', '')}"


def _received_path(request: HttpRequest) -> str:
    query = request.META.get("QUERY_STRING", "")
    path = escape_uri_path(request.path)
    return f"{path}?{query}" if query else path


def _check_declared_payload_hash(received: AWSRequest, body: bytes) -> None:
    """botocore trusts a signed X-Amz-Content-SHA256 in place of hashing the body, so a body
    swapped under a replayed header would pass: the declared hash must be the body's."""
    declared = received.headers.get("X-Amz-Content-SHA256")
    if declared is not None and not hmac.compare_digest(declared, sha256(body).hexdigest()):
        raise ApiError("InvalidSignatureException", SIGNATURE_MISMATCH)


def _authorization_parameters(rest: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for part in rest.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            parameters[name.strip()] = value.strip()
    return parameters


def _amz_date_of(request: HttpRequest) -> str:
    value = request.headers.get("X-Amz-Date")
    if value is None:
        raise ApiError(
            "IncompleteSignatureException",
            "Authorization header requires existence of a 'X-Amz-Date' header.",
        )
    if not _AMZ_DATE.fullmatch(value) or _parse_amz_date(value) is None:
        raise ApiError(
            "IncompleteSignatureException",
            f"Date must be in ISO-8601 'basic format'. Got '{value[:40]}'. "
            "See http://en.wikipedia.org/wiki/ISO_8601",
        )
    return value


def _parse_amz_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, AMZ_DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def _check_scope(header: SignedRequestHeader, amz_date: str) -> None:
    if header.terminator != TERMINATOR:
        raise ApiError(
            "InvalidSignatureException",
            f"Credential should be scoped with a valid terminator: '{TERMINATOR}', "
            f"not '{header.terminator[:40]}'.",
        )
    if header.service != SERVICE:
        raise ApiError(
            "InvalidSignatureException",
            f"Credential should be scoped to correct service: '{SERVICE}'. ",
        )
    if not _REGION.fullmatch(header.region):
        raise ApiError(
            "InvalidSignatureException", "Credential should be scoped to a valid region."
        )
    if header.date != amz_date[:8]:
        raise ApiError(
            "InvalidSignatureException",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from "
            f"HTTP: '{header.date[:8]}' != '{amz_date[:8]}', from '{amz_date}'.",
        )


def _check_clock_skew(amz_date: str, now: datetime) -> None:
    signed_at = _parse_amz_date(amz_date)
    assert signed_at is not None  # _amz_date_of checked it
    earliest, latest = now - MAX_CLOCK_SKEW, now + MAX_CLOCK_SKEW
    if signed_at < earliest:
        raise ApiError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {_amz(earliest)} "
            f"({_amz(now)} - 15 min.)",
        )
    if signed_at > latest:
        raise ApiError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {_amz(latest)} "
            f"({_amz(now)} + 15 min.)",
        )


def _amz(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(AMZ_DATE_FORMAT)


def _refuse(code: str, message: str, access_key_id: str) -> NoReturn:
    # The key id is not a secret (AWS logs it too); it tells an operator whose client is failing.
    logger.info("API request refused (%s) for access key %s", code, access_key_id[:128])
    raise ApiError(code, message)

"""boto3's `machinelearning` client, talking to the console in this process.

botocore builds, signs (SigV4) and parses exactly as it does against a server; only the last
step, sending the bytes, is handed to Django's test client (a `before-send` handler), so these
tests exercise the real protocol without a socket. The live-server suites in tests/integration
do the same over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from django.test import Client

ENDPOINT = "http://testserver"


class _Raw:
    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._content


def ml_client(
    key_id: str, secret: str, *, django_client: Client | None = None, validate: bool = True
) -> Any:
    """`validate=False` turns botocore's own checks off, to send what a careless client might."""
    client = boto3.client(
        "machinelearning",
        endpoint_url=ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"max_attempts": 1}, parameter_validation=validate),
    )
    http = django_client or Client()

    def send(request: Any, **_: Any) -> AWSResponse:
        headers = {_meta_name(k): _text(v) for k, v in request.headers.items()}
        headers.pop("CONTENT_TYPE", None)
        headers.pop("CONTENT_LENGTH", None)
        url = urlsplit(request.url)
        headers.setdefault("HTTP_HOST", url.netloc)  # urllib3 adds Host when it sends
        response = http.generic(
            request.method,
            url.path or "/",
            data=request.body or b"",
            content_type=_text(request.headers.get("Content-Type", "")),
            **headers,
        )
        return AWSResponse(
            request.url, response.status_code, dict(response.items()), _Raw(response.content)
        )

    client.meta.events.register("before-send.machinelearning", send)
    return client


def _meta_name(header: str) -> str:
    name = header.upper().replace("-", "_")
    return name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{name}"


def _text(value: Any) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)

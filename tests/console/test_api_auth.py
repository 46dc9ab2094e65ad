"""SigV4 authentication of API requests (console.api.auth) and the keys it checks (console.api.keys).

Requests are signed by botocore itself: either a real boto3 `machinelearning` client whose HTTP
sending is replaced by Django's test client (so the exact headers boto3 sends reach a tiny view
here), or botocore's SigV4Auth at a fixed moment, turned into a RequestFactory request.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test import Client, RequestFactory
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from console.api import keys
from console.api.auth import authenticate
from console.api.errors import ApiError
from console.models import AccessKey
from console.services.errors import ResourceNotFound

JSON_11 = "application/x-amz-json-1.1"
TARGET = "AmazonML_20141212.DescribeMLModels"
SIGNED_AT = datetime(2026, 12, 6, 4, 45, 0, tzinfo=UTC)
SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN = "The security token included in the request is invalid."

# ----------------------------------------------------------------- a tiny test-only API view

seen_by_view: list[dict[str, str]] = []


@csrf_exempt
@login_not_required
def signed_echo(request: HttpRequest) -> HttpResponse:
    """Authenticate, then answer DescribeMLModels' empty shape; note who and what it saw."""
    try:
        user = authenticate(request)
    except ApiError as exc:
        body = {"__type": exc.code, "message": exc.message}
        return JsonResponse(body, status=exc.status, content_type=JSON_11)
    seen_by_view.append({"user": user.get_username(), "body": request.body.decode()})
    return JsonResponse({"Results": []}, content_type=JSON_11)


urlpatterns = [path("", signed_echo)]
pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture(autouse=True)
def _requests_reach_the_test_view(settings: Any) -> None:
    """The API's dispatcher middleware answers X-Amz-Target requests itself; keep it out."""
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("console.api.")]


@pytest.fixture(autouse=True)
def _forget_what_the_view_saw() -> Iterator[None]:
    seen_by_view.clear()
    yield
    seen_by_view.clear()


class _Raw:
    """The little of urllib3's response that botocore reads."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        yield self._content


def boto3_client(
    access_key_id: str, secret: str, *, token: str | None = None, region: str = "us-east-1"
) -> Any:
    """A real boto3 client whose requests go, as signed, through Django's test client."""
    client = boto3.client(
        "machinelearning",
        endpoint_url="http://testserver",
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret,
        aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}),
    )
    django_client = Client()

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        url = urlsplit(request.url)
        headers = {name: _text(value) for name, value in request.headers.items()}
        content_type = headers.pop("Content-Type")
        headers.pop("Content-Length", None)
        headers["Host"] = url.netloc
        response = django_client.post(
            url.path or "/", data=request.body, content_type=content_type, headers=headers
        )
        return AWSResponse(
            request.url, response.status_code, dict(response.items()), _Raw(response.content)
        )

    client.meta.events.register("before-send.machinelearning", send)
    return client


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


# ----------------------------------------------------------- botocore signing at a set moment


def signed_request(
    access_key_id: str,
    secret: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    body: bytes = b"{}",
    at: datetime = SIGNED_AT,
    region: str = "us-east-1",
    service: str = "machinelearning",
    token: str | None = None,
    extra_headers: dict[str, str] | None = None,
    host: str = "testserver",
) -> HttpRequest:
    """A RequestFactory POST carrying exactly what botocore's SigV4Auth signed."""
    signed = sign(
        access_key_id,
        secret,
        monkeypatch,
        body=body,
        at=at,
        region=region,
        service=service,
        token=token,
        extra_headers=extra_headers,
        host=host,
    )
    return as_django_request(signed, body=body, host=host)


def sign(
    access_key_id: str,
    secret: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    body: bytes = b"{}",
    at: datetime = SIGNED_AT,
    region: str = "us-east-1",
    service: str = "machinelearning",
    token: str | None = None,
    extra_headers: dict[str, str] | None = None,
    host: str = "testserver",
) -> dict[str, str]:
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda *a, **k: at.replace(tzinfo=None)
    )
    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body,
        headers={"Content-Type": JSON_11, "X-Amz-Target": TARGET, **(extra_headers or {})},
    )
    SigV4Auth(Credentials(access_key_id, secret, token), service, region).add_auth(request)
    return dict(request.headers.items())


def as_django_request(
    headers: dict[str, str], *, body: bytes, host: str = "testserver"
) -> HttpRequest:
    extra = {
        "HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items() if k != "Content-Type"
    }
    return RequestFactory().post(
        "/", data=body, content_type=headers.get("Content-Type", JSON_11), HTTP_HOST=host, **extra
    )


def refusal(call: Callable[[], Any]) -> ApiError:
    with pytest.raises(ApiError) as raised:
        call()
    return raised.value


@pytest.fixture
def owner_key(owner: Any) -> tuple[AccessKey, str]:
    return keys.create_access_key(owner, "laptop")


# ------------------------------------------------------------------------ boto3, end to end


def test_it_accepts_a_boto3_request_and_finds_the_keys_owner(
    owner_key: tuple[AccessKey, str],
) -> None:
    key, secret = owner_key
    answer = boto3_client(key.access_key_id, secret).describe_ml_models(Limit=5)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert seen_by_view == [{"user": "alice", "body": '{"Limit": 5}'}]


def test_it_accepts_any_region(owner_key: tuple[AccessKey, str]) -> None:
    key, secret = owner_key
    boto3_client(key.access_key_id, secret, region="eu-west-1").describe_ml_models()
    assert [seen["user"] for seen in seen_by_view] == ["alice"]


def test_it_accepts_a_signed_session_token(owner_key: tuple[AccessKey, str]) -> None:
    key, secret = owner_key
    boto3_client(key.access_key_id, secret, token="a-session-token").describe_ml_models()
    assert [seen["user"] for seen in seen_by_view] == ["alice"]


def test_it_refuses_boto3_with_a_wrong_secret(owner_key: tuple[AccessKey, str]) -> None:
    key, _ = owner_key
    with pytest.raises(ClientError) as raised:
        boto3_client(key.access_key_id, "x" * 40).describe_ml_models()
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("InvalidSignatureException", SIGNATURE_MISMATCH)
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert seen_by_view == []


def test_it_refuses_boto3_with_an_unknown_key() -> None:
    with pytest.raises(ClientError) as raised:
        boto3_client("AKIAAAAAAAAAAAAAAAAA", "x" * 40).describe_ml_models()
    error = raised.value.response["Error"]
    assert (error["Code"], error["Message"]) == ("UnrecognizedClientException", INVALID_TOKEN)


def test_it_refuses_boto3_with_a_revoked_key(owner: Any, owner_key: tuple[AccessKey, str]) -> None:
    key, secret = owner_key
    keys.revoke_access_key(owner, key.access_key_id)
    with pytest.raises(ClientError) as raised:
        boto3_client(key.access_key_id, secret).describe_ml_models()
    assert raised.value.response["Error"]["Code"] == "UnrecognizedClientException"


def test_it_refuses_a_post_without_authorization_through_the_view(client: Client) -> None:
    response = client.post("/", data=b"{}", content_type=JSON_11)
    assert response.status_code == 400
    assert json.loads(response.content) == {
        "__type": "MissingAuthenticationTokenException",
        "message": "Missing Authentication Token",
    }


# ------------------------------------------------------------- signatures at a fixed moment


def test_it_accepts_a_good_signature(
    owner: Any, owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    request = signed_request(key.access_key_id, secret, monkeypatch, body=b'{"Limit": 1}')
    assert authenticate(request, now=SIGNED_AT) == owner
    assert request.body == b'{"Limit": 1}'  # still readable by the dispatcher


def test_it_refuses_a_request_without_authorization() -> None:
    request = RequestFactory().post("/", data=b"{}", content_type=JSON_11)
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message, error.status) == (
        "MissingAuthenticationTokenException",
        "Missing Authentication Token",
        400,
    )


def test_it_refuses_a_tampered_body(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    headers = sign(key.access_key_id, secret, monkeypatch, body=b'{"Limit": 1}')
    request = as_django_request(headers, body=b'{"Limit": 100}')
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message, error.status) == (
        "InvalidSignatureException",
        SIGNATURE_MISMATCH,
        400,
    )


def test_it_refuses_a_tampered_signed_header(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    headers = sign(key.access_key_id, secret, monkeypatch)
    headers["X-Amz-Target"] = "AmazonML_20141212.DeleteMLModel"
    error = refusal(lambda: authenticate(as_django_request(headers, body=b"{}"), now=SIGNED_AT))
    assert (error.code, error.message) == ("InvalidSignatureException", SIGNATURE_MISMATCH)


def test_it_refuses_a_request_sent_to_another_host_than_signed(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    headers = sign(key.access_key_id, secret, monkeypatch, host="127.0.0.1:8000")
    accepted = as_django_request(headers, body=b"{}", host="127.0.0.1:8000")
    assert authenticate(accepted, now=SIGNED_AT).get_username() == "alice"
    moved = as_django_request(headers, body=b"{}", host="127.0.0.1:9000")
    assert refusal(lambda: authenticate(moved, now=SIGNED_AT)).code == "InvalidSignatureException"


def test_it_refuses_a_body_swapped_under_a_signed_payload_hash(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # botocore's signer takes a signed X-Amz-Content-SHA256 instead of hashing the body.
    key, secret = owner_key
    signed_body = b'{"Limit": 1}'
    declared = {"X-Amz-Content-SHA256": sha256(signed_body).hexdigest()}
    headers = sign(key.access_key_id, secret, monkeypatch, body=signed_body, extra_headers=declared)
    assert authenticate(as_django_request(headers, body=signed_body), now=SIGNED_AT)
    swapped = as_django_request(headers, body=b'{"Limit": 100}')
    error = refusal(lambda: authenticate(swapped, now=SIGNED_AT))
    assert (error.code, error.message) == ("InvalidSignatureException", SIGNATURE_MISMATCH)


def test_it_refuses_a_body_larger_than_django_accepts_as_the_dispatcher_does(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    key, secret = owner_key
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10
    request = signed_request(key.access_key_id, secret, monkeypatch, body=b'{"Limit": 100}')
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.status) == ("SerializationException", 413)


def test_it_refuses_a_signature_made_with_another_secret(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, _ = owner_key
    request = signed_request(key.access_key_id, "w" * 40, monkeypatch)
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message) == ("InvalidSignatureException", SIGNATURE_MISMATCH)


def test_it_refuses_an_unknown_key(monkeypatch: pytest.MonkeyPatch) -> None:
    request = signed_request("AKIAUNKNOWNUNKNOWN22", "s" * 40, monkeypatch)
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message, error.status) == (
        "UnrecognizedClientException",
        INVALID_TOKEN,
        400,
    )


def test_it_refuses_a_revoked_key(
    owner: Any, owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    keys.revoke_access_key(owner, key.access_key_id)
    request = signed_request(key.access_key_id, secret, monkeypatch)
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message) == ("UnrecognizedClientException", INVALID_TOKEN)


def test_it_refuses_the_key_of_a_deactivated_user(
    owner: Any, owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    owner.is_active = False
    owner.save()
    request = signed_request(key.access_key_id, secret, monkeypatch)
    assert (
        refusal(lambda: authenticate(request, now=SIGNED_AT)).code == "UnrecognizedClientException"
    )


def test_it_refuses_a_signature_more_than_15_minutes_old(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    request = signed_request(
        key.access_key_id, secret, monkeypatch, at=datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
    )
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message) == (
        "InvalidSignatureException",
        "Signature expired: 20261206T040000Z is now earlier than 20261206T043000Z "
        "(20261206T044500Z - 15 min.)",
    )


def test_it_refuses_a_signature_more_than_15_minutes_ahead(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    request = signed_request(
        key.access_key_id, secret, monkeypatch, at=datetime(2026, 12, 6, 5, 30, tzinfo=UTC)
    )
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert (error.code, error.message) == (
        "InvalidSignatureException",
        "Signature not yet current: 20261206T053000Z is still later than 20261206T050000Z "
        "(20261206T044500Z + 15 min.)",
    )


@pytest.mark.parametrize("skew", [timedelta(minutes=-15), timedelta(minutes=15)])
def test_it_accepts_a_clock_exactly_15_minutes_off(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch, skew: timedelta
) -> None:
    key, secret = owner_key
    request = signed_request(key.access_key_id, secret, monkeypatch, at=SIGNED_AT + skew)
    assert authenticate(request, now=SIGNED_AT).get_username() == "alice"


def test_it_refuses_a_credential_scoped_to_another_service(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key
    request = signed_request(key.access_key_id, secret, monkeypatch, service="dynamodb")
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert error.code == "InvalidSignatureException"
    assert "Credential should be scoped to correct service: 'machinelearning'" in error.message


GOOD_CREDENTIAL = "Credential=AKIAAAAAAAAAAAAAAAAA/20261206/us-east-1/machinelearning/aws4_request"
GOOD_SIGNED_HEADERS = "SignedHeaders=content-type;host;x-amz-date;x-amz-target"
GOOD_SIGNATURE = "Signature=" + "0" * 64


@pytest.mark.parametrize(
    ("authorization", "named"),
    [
        (f"AWS4-HMAC-SHA256 {GOOD_SIGNED_HEADERS}, {GOOD_SIGNATURE}", "'Credential'"),
        (f"AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, {GOOD_SIGNATURE}", "'SignedHeaders'"),
        (f"AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, {GOOD_SIGNED_HEADERS}", "'Signature'"),
        (
            f"AWS4-HMAC-SHA256 Credential=AKIAAAAAAAAAAAAAAAAA/20261206, "
            f"{GOOD_SIGNED_HEADERS}, {GOOD_SIGNATURE}",
            "'Credential'",
        ),
        (
            f"AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, {GOOD_SIGNED_HEADERS}, Signature=xyz",
            "'Signature'",
        ),
        ("Basic YWxpY2U6c2VjcmV0", "AWS4-HMAC-SHA256"),
    ],
)
def test_it_refuses_a_malformed_authorization_header_naming_what_is_missing(
    authorization: str, named: str
) -> None:
    request = RequestFactory().post(
        "/",
        data=b"{}",
        content_type=JSON_11,
        HTTP_AUTHORIZATION=authorization,
        HTTP_X_AMZ_DATE="20261206T044500Z",
        HTTP_X_AMZ_TARGET=TARGET,
    )
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert error.code == "IncompleteSignatureException"
    assert named in error.message


@pytest.mark.parametrize(
    ("amz_date", "named"), [(None, "'X-Amz-Date'"), ("2026-12-06 04:45", "ISO-8601")]
)
def test_it_refuses_a_missing_or_malformed_x_amz_date(amz_date: str | None, named: str) -> None:
    extra = {} if amz_date is None else {"HTTP_X_AMZ_DATE": amz_date}
    request = RequestFactory().post(
        "/",
        data=b"{}",
        content_type=JSON_11,
        HTTP_AUTHORIZATION=f"AWS4-HMAC-SHA256 {GOOD_CREDENTIAL}, {GOOD_SIGNED_HEADERS}, {GOOD_SIGNATURE}",
        **extra,
    )
    error = refusal(lambda: authenticate(request, now=SIGNED_AT))
    assert error.code == "IncompleteSignatureException"
    assert named in error.message


def test_it_notes_the_last_use_at_most_once_a_minute(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    key, secret = owner_key

    def use_at(moment: datetime) -> datetime | None:
        authenticate(signed_request(key.access_key_id, secret, monkeypatch, at=moment), now=moment)
        return AccessKey.objects.get(pk=key.pk).last_used_at

    assert key.last_used_at is None
    assert use_at(SIGNED_AT) == SIGNED_AT
    assert use_at(SIGNED_AT + timedelta(seconds=30)) == SIGNED_AT
    later = SIGNED_AT + timedelta(seconds=61)
    assert use_at(later) == later


# ---------------------------------------------------------------------------------- the keys


def test_it_makes_ids_and_secrets_shaped_like_aws_ones(owner: Any) -> None:
    key, secret = keys.create_access_key(owner, "ci")
    assert key.access_key_id.startswith("AKIA") and len(key.access_key_id) == 20
    assert set(key.access_key_id[4:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert len(secret) == 40
    assert key.description == "ci" and key.is_active


def test_it_stores_the_secret_encrypted_never_in_clear(owner: Any) -> None:
    key, secret = keys.create_access_key(owner)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {AccessKey._meta.db_table}")
        stored = repr(cursor.fetchall())
    assert secret not in stored
    assert keys.secret_of(AccessKey.objects.get(pk=key.pk)) == secret


def test_it_derives_the_encryption_key_from_the_override_setting(owner: Any, settings: Any) -> None:
    settings.AML_ACCESS_KEY_ENCRYPTION_KEY = "a separate key for access-key secrets"
    key, secret = keys.create_access_key(owner)
    settings.SECRET_KEY = "a rotated django secret key that is long enough to be real"
    assert keys.secret_of(key) == secret
    settings.AML_ACCESS_KEY_ENCRYPTION_KEY = "another key"
    with pytest.raises(keys.UndecryptableSecret):
        keys.secret_of(key)


def test_it_still_reads_secrets_after_secret_key_rotation_with_a_fallback(
    owner: Any, settings: Any
) -> None:
    key, secret = keys.create_access_key(owner)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a rotated django secret key that is long enough to be real"
    assert keys.secret_of(key) == secret


def test_it_refuses_a_key_whose_secret_cannot_be_decrypted(
    owner_key: tuple[AccessKey, str], monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    key, secret = owner_key
    settings.AML_ACCESS_KEY_ENCRYPTION_KEY = "not the key it was encrypted with"
    request = signed_request(key.access_key_id, secret, monkeypatch)
    assert (
        refusal(lambda: authenticate(request, now=SIGNED_AT)).code == "UnrecognizedClientException"
    )


def test_it_revokes_only_the_users_own_keys(owner: Any, stranger: Any) -> None:
    key, _ = keys.create_access_key(owner)
    with pytest.raises(ResourceNotFound):
        keys.revoke_access_key(stranger, key.access_key_id)
    assert keys.active_key(key.access_key_id) == key
    revoked = keys.revoke_access_key(owner, key.access_key_id)
    assert revoked.revoked_at is not None
    assert keys.active_key(key.access_key_id) is None
    assert keys.revoke_access_key(owner, key.access_key_id).revoked_at == revoked.revoked_at


def test_it_logs_neither_the_secret_nor_the_signature(
    owner: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, secret = keys.create_access_key(owner)
    good = sign(key.access_key_id, secret, monkeypatch)
    bad = sign(key.access_key_id, "w" * 40, monkeypatch)
    authenticate(as_django_request(good, body=b"{}"), now=SIGNED_AT)
    refusal(lambda: authenticate(as_django_request(bad, body=b"{}"), now=SIGNED_AT))
    monkeypatch.undo()  # boto3 signs now, as the view checks
    boto3_client(key.access_key_id, secret).describe_ml_models()
    server_side = [
        r for r in caplog.records if not r.name.startswith(("botocore", "boto3", "urllib3"))
    ]
    assert any("refused" in r.getMessage() for r in server_side)  # the log is captured at all
    signatures = [h["Authorization"].rsplit("Signature=", 1)[1] for h in (good, bad)]
    for record in server_side:
        logged = record.getMessage() + repr(record.args)
        assert secret not in logged
        assert all(signature not in logged for signature in signatures)


def test_the_view_answers_json_with_the_aws_type(owner_key: tuple[AccessKey, str]) -> None:
    key, _ = owner_key
    response = Client().post(
        "/",
        data=b"{}",
        content_type=JSON_11,
        HTTP_AUTHORIZATION=f"AWS4-HMAC-SHA256 Credential={key.access_key_id}/20261206",
        HTTP_X_AMZ_DATE="20261206T044500Z",
    )
    assert response.status_code == 400
    assert json.loads(response.content)["__type"] == "IncompleteSignatureException"

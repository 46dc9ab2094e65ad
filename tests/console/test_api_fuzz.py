"""Every API operation fed generated input derived from botocore's service model: documents that
fit the shapes, and documents broken on purpose (a required member gone, a member of the wrong
JSON type, too long, outside its enum or pattern, huge or deeply nested). Whatever arrives, the
answer is an AWS JSON error or a result, never a 500, and a refusal of the input names the
member at fault."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.model import Shape
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_text import postgres_like_text
from reliability_figures import record

from console.api.keys import create_access_key
from console.api.shapes import _pattern, service_model

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

SUITE = "Bad input: API"

OPERATIONS = sorted(service_model().operation_names)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
WILD = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
SHORT_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_. /:", max_size=20)


def fitting(shape: Shape, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values the shape allows (mostly), so that the operations themselves are reached."""
    kind = shape.type_name
    meta = shape.metadata
    if kind == "structure":
        required = {
            name: fitting(shape.members[name], depth + 1) for name in shape.required_members
        }
        optional = {
            name: fitting(member, depth + 1)
            for name, member in shape.members.items()
            if name not in required
        }
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "list":
        return st.lists(fitting(shape.member, depth + 1), max_size=3)
    if kind == "map":
        return st.dictionaries(SHORT_TEXT, fitting(shape.value, depth + 1), max_size=3)
    if kind == "string":
        if meta.get("enum"):
            return st.sampled_from(meta["enum"])
        if meta.get("pattern"):
            return st.from_regex(_pattern(meta["pattern"]), fullmatch=True).filter(
                lambda text: len(text) <= meta.get("max", 2048) and len(text) >= meta.get("min", 0)
            )
        return st.text(min_size=meta.get("min", 0), max_size=min(meta.get("max", 30), 30))
    if kind in ("integer", "long"):
        return st.integers(meta.get("min", -(2**31)), meta.get("max", 2**31))
    if kind in ("float", "double"):
        return st.floats(-2, 2, allow_nan=False)
    if kind == "boolean":
        return st.booleans()
    return st.floats(0, 2e9)


@st.composite
def broken(draw: st.DrawFn, shape: Shape) -> tuple[dict[str, Any], str]:
    """A fitting document with one member broken, and the member's name."""
    document = draw(fitting(shape))
    members = list(shape.members)
    name = draw(st.sampled_from(members))
    member = shape.members[name]
    how = draw(st.sampled_from(["drop", "wrong type", "too long", "deep", "huge list"]))
    if how == "drop":
        if name not in shape.required_members:
            return document, ""
        document.pop(name, None)
    elif how == "wrong type":
        document[name] = draw(WILD.filter(lambda v: v is not None and not _fits_type(member, v)))
    elif how == "too long":
        document[name] = "x" * (member.metadata.get("max", 10_000) + 1)
    elif how == "deep":
        document[name] = _nested(400)
    else:
        document[name] = ["y"] * 5000
    return document, name


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _fits_type(shape: Shape, value: Any) -> bool:
    kind = shape.type_name
    if kind == "string":
        return isinstance(value, str)
    if kind in ("integer", "long"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double", "timestamp"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    return isinstance(value, dict)


@pytest.fixture
def signed_post(owner: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    # S3 reads go to a closed local port, refused at once: no fuzzed location reaches AWS
    settings.AML_DATA_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "fuzz")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "fuzz")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    key, secret = create_access_key(owner)
    credentials = Credentials(key.access_key_id, secret)
    client = Client()

    def post(operation: str, document: Any) -> tuple[int, dict[str, Any]]:
        body = json.dumps(document).encode()
        target = f"AmazonML_20141212.{operation}"
        request = AWSRequest(
            method="POST",
            url="http://testserver/",
            data=body,
            headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target},
        )
        SigV4Auth(credentials, "machinelearning", "us-east-1").add_auth(request)
        response = client.generic(
            "POST",
            "/",
            data=body,
            content_type="application/x-amz-json-1.1",
            HTTP_HOST="testserver",
            HTTP_X_AMZ_TARGET=target,
            HTTP_X_AMZ_DATE=request.headers["X-Amz-Date"],
            HTTP_AUTHORIZATION=request.headers["Authorization"],
        )
        return response.status_code, json.loads(response.content)

    # the database refuses NUL in text as PostgreSQL, the production database, does
    with postgres_like_text():
        yield post


FUZZ = settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


class Figures:
    """The requests one test sent to an operation and the 500s among them, for
    docs/reliability.md (the report adds up the figures of both tests per operation)."""

    def __init__(self, check: str) -> None:
        self.check, self.tried, self.bad = check, 0, 0

    def count(self, status: int) -> None:
        self.tried += 1
        self.bad += status >= 500

    def record(self) -> None:
        record(SUITE, self.check, tried=self.tried, bad=self.bad, bad_means="HTTP 500s")


@pytest.mark.parametrize("operation", OPERATIONS)
def test_fitting_input_never_makes_a_500(operation: str, signed_post: Any) -> None:
    shape = service_model().operation_model(operation).input_shape
    figures = Figures(operation)

    @FUZZ
    @given(document=fitting(shape))
    def check(document: dict[str, Any]) -> None:
        status, body = signed_post(operation, document)
        figures.count(status)
        assert status != 500, body
        if status >= 400:
            assert body["__type"].endswith("Exception") and body["message"]

    try:
        check()
    finally:
        figures.record()
    assert figures.tried and not figures.bad, (figures.tried, figures.bad)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_broken_input_is_refused_naming_the_member(operation: str, signed_post: Any) -> None:
    shape = service_model().operation_model(operation).input_shape
    figures = Figures(operation)

    @FUZZ
    @given(case=broken(shape))
    def check(case: tuple[dict[str, Any], str]) -> None:
        document, member = case
        status, body = signed_post(operation, document)
        figures.count(status)
        assert status != 500, body
        if member and body.get("__type") == "InvalidInputException":
            assert member in body["message"], body

    try:
        check()
    finally:
        figures.record()
    assert figures.tried and not figures.bad, (figures.tried, figures.bad)


def test_a_body_that_is_not_an_object_is_refused(signed_post: Any) -> None:
    figures = Figures("GetDataSource")
    try:
        for document in ([], "x", 3, None):
            status, body = signed_post("GetDataSource", document)
            figures.count(status)
            assert status == 400
            assert body["__type"] == "InvalidInputException"
    finally:
        figures.record()

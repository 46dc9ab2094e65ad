"""SigV4 through the real API middleware: requests signed by botocore at a chosen moment, sent as
captured. A signature more than 15 minutes old or ahead is refused with AWS's code and message; a
body or signed header changed after signing is refused; an exact replay within the window is
answered as the first was and changes nothing more (every AML operation repeats to the same state:
docs/api.md says why replays are not refused)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.test import Client
from reliability_figures import record

from console.api.keys import create_access_key
from console.models import DataSource, Status

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

JSON_11 = "application/x-amz-json-1.1"
PREFIX = "AmazonML_20141212."


def signed(
    key: tuple[str, str], target: str, body: dict[str, Any], at: datetime, monkeypatch: Any
) -> tuple[dict[str, str], bytes]:
    """The headers and body botocore's signer makes for this call at moment `at`."""
    monkeypatch.setattr(
        botocore.auth, "get_current_datetime", lambda *a, **k: at.replace(tzinfo=None)
    )
    raw = json.dumps(body).encode()
    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=raw,
        headers={"Content-Type": JSON_11, "X-Amz-Target": PREFIX + target},
    )
    SigV4Auth(Credentials(*key), "machinelearning", "us-east-1").add_auth(request)
    monkeypatch.undo()
    return dict(request.headers.items()), raw


def send(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
    """The captured request, sent again as it was (what an eavesdropper could replay)."""
    meta = {
        "HTTP_" + name.upper().replace("-", "_"): value
        for name, value in headers.items()
        if name != "Content-Type"
    }
    response = Client().post("/", data=body, content_type=JSON_11, HTTP_HOST="testserver", **meta)
    return response.status_code, json.loads(response.content)


@pytest.fixture
def key(owner: Any) -> tuple[str, str]:
    access_key, secret = create_access_key(owner)
    return access_key.access_key_id, secret


@pytest.fixture
def data(owner: Any) -> DataSource:
    return DataSource.objects.create(
        owner=owner, entity_id="ds-Signed00001", name="before", status=Status.COMPLETED
    )


def test_signatures_outside_the_15_minute_window_are_refused_with_awss_message(
    key: tuple[str, str], data: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = datetime.now(UTC)
    refusals = {}
    for label, moment in (
        ("old", now - timedelta(minutes=16)),
        ("ahead", now + timedelta(minutes=16)),
    ):
        headers, body = signed(
            key, "GetDataSource", {"DataSourceId": data.entity_id}, moment, monkeypatch
        )
        refusals[label] = send(headers, body)
    headers, body = signed(key, "GetDataSource", {"DataSourceId": data.entity_id}, now, monkeypatch)
    accepted = send(headers, body)

    assert refusals["old"][1]["__type"] == "InvalidSignatureException"
    assert refusals["old"][1]["message"].startswith("Signature expired: ")
    assert refusals["ahead"][1]["__type"] == "InvalidSignatureException"
    assert refusals["ahead"][1]["message"].startswith("Signature not yet current: ")
    assert accepted[0] == 200 and accepted[1]["DataSourceId"] == data.entity_id
    _record(tried=3, bad=int(refusals["old"][0] == 200) + int(refusals["ahead"][0] == 200))


def test_a_body_or_signed_header_changed_after_signing_is_refused(
    key: tuple[str, str], data: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    update = {"DataSourceId": data.entity_id, "DataSourceName": "by the owner"}
    headers, body = signed(key, "UpdateDataSource", update, datetime.now(UTC), monkeypatch)
    changed_body = body.replace(b"by the owner", b"by an attacker")
    changed_target = {**headers, "X-Amz-Target": PREFIX + "DeleteDataSource"}

    outcomes = [send(headers, changed_body), send(changed_target, body)]

    assert [o[1]["__type"] for o in outcomes] == ["InvalidSignatureException"] * 2
    data.refresh_from_db()
    assert data.name == "before" and data.status == Status.COMPLETED
    _record(tried=2, bad=sum(o[0] == 200 for o in outcomes))


def test_an_exact_replay_within_the_window_is_answered_alike_and_changes_nothing_more(
    key: tuple[str, str], data: DataSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    create = {
        "EvaluationId": "ev-Replayed001",
        "MLModelId": "ml-Missing0001",
        "EvaluationDataSourceId": data.entity_id,
    }
    captured = {
        "UpdateDataSource": {"DataSourceId": data.entity_id, "DataSourceName": "renamed once"},
        "AddTags": {
            "ResourceId": data.entity_id,
            "ResourceType": "DataSource",
            "Tags": [{"Key": "k", "Value": "v"}],
        },
        "CreateEvaluation": create,
    }
    first, again = {}, {}
    for target, body in captured.items():
        headers, raw = signed(key, target, body, datetime.now(UTC), monkeypatch)
        first[target] = send(headers, raw)
        again[target] = send(headers, raw)

    data.refresh_from_db()
    assert again == first
    assert data.name == "renamed once" and data.tags == {"k": "v"}
    _record(tried=len(captured), bad=sum(again[t] != first[t] for t in captured))


def _record(*, tried: int, bad: int) -> None:
    record(
        "Security",
        "SigV4 clock skew, tampering, replay",
        tried=tried,
        bad=bad,
        bad_means="signed requests accepted wrongly (or a replay answered differently)",
    )

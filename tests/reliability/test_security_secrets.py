"""Secrets never reach the logs or the pages: a whole session (a wrong then a right password, a key
made on the keys page, API calls signed with it, refused signatures, an upload, a training, an
evaluation, a batch prediction) with every logger at DEBUG. Neither the password, the secret access
key, the session id nor SECRET_KEY may appear in a log record or in any page served afterwards
(the key's secret is shown once, on the response that creates it, and nowhere else)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError
from django.conf import settings
from django.test import Client
from reliability_figures import record
from security_world import alice_world, ml_client, probe_urls

from console.api.keys import secret_of
from console.models import AccessKey

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

PASSWORD = "correct horse 1"  # tests/conftest.py's owner


def page_text(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def test_a_whole_session_logs_and_shows_no_password_secret_key_session_id_or_secret_key(
    owner: Any, enqueued: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    browser = Client()
    pages = [page_text(browser.post("/accounts/login/", {"username": "alice", "password": "nope"}))]
    assert (
        browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code
        == 302
    )
    session_id = browser.cookies["sessionid"].value
    created = browser.post("/keys/create/", {"description": "laptop"})
    key = AccessKey.objects.get(user=owner)
    secret = secret_of(key)
    assert secret in page_text(created)  # shown once, there

    aml = ml_client(key.access_key_id, secret)
    aml.describe_data_sources()
    refused = []
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x" * 40):
        with pytest.raises(ClientError) as caught:
            ml_client(key.access_key_id, wrong).describe_ml_models()
        refused.append(caught.value.response["Error"]["Code"])
    world = alice_world(owner, browser, enqueued, monkeypatch)  # upload, training, evaluation...
    aml.get_ml_model(MLModelId=world.objects["ml"].entity_id)
    pages += [page_text(browser.get(p.path)) for p in probe_urls(world) if _readable(p)]

    secrets = {
        "password": PASSWORD,
        "secret access key": secret,
        "session id": session_id,
        "later session id": browser.cookies["sessionid"].value,  # signing in again made a new one
        "SECRET_KEY": settings.SECRET_KEY,
    }
    logged = caplog.text
    found = [
        f"{name} in {where}"
        for name, value in secrets.items()
        for where, text in (("the logs", logged), *((f"page {i}", p) for i, p in enumerate(pages)))
        if value in text
    ]
    record(
        "Security",
        "secrets in logs and pages",
        tried=len(caplog.records) + len(pages),
        bad=len(found),
        bad_means="log records or pages showing a password, secret key, session id or SECRET_KEY",
        note="every logger at DEBUG through sign-in, keys, API calls and every job",
    )
    assert refused == ["InvalidSignatureException"] * 2
    assert len(caplog.records) > 20 and len(pages) > 30  # the session did log and show things
    assert found == []


def _readable(probe: Any) -> bool:
    """Pages of the console a browser would GET (not the sign-out, which would end the session)."""
    return probe.area == "console"

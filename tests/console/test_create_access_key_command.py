"""`python manage.py create_access_key USERNAME [--create-user] [--description TEXT]`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import RequestFactory

from console.api.auth import authenticate
from console.models import AccessKey

ROOT = Path(__file__).resolve().parents[2]
JSON_11 = "application/x-amz-json-1.1"


def run_command(*args: str) -> dict[str, str]:
    out = StringIO()
    call_command("create_access_key", *args, stdout=out)
    return json.loads(out.getvalue())  # exactly one JSON object, or this fails


def authenticates_as(created: dict[str, str]) -> str:
    """Sign a request with the printed key, as boto3 would, and say whose key it is."""
    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=b"{}",
        headers={"Content-Type": JSON_11, "X-Amz-Target": "AmazonML_20141212.DescribeMLModels"},
    )
    credentials = Credentials(created["AccessKeyId"], created["SecretAccessKey"])
    SigV4Auth(credentials, "machinelearning", "us-east-1").add_auth(request)
    signed_at = datetime.strptime(request.context["timestamp"], "%Y%m%dT%H%M%SZ")
    received = RequestFactory().post(
        "/",
        data=b"{}",
        content_type=JSON_11,
        HTTP_HOST="testserver",
        HTTP_X_AMZ_TARGET="AmazonML_20141212.DescribeMLModels",
        HTTP_X_AMZ_DATE=request.headers["X-Amz-Date"],
        HTTP_AUTHORIZATION=request.headers["Authorization"],
    )
    return str(authenticate(received, now=signed_at.replace(tzinfo=UTC)).get_username())


@pytest.mark.django_db
def test_it_prints_one_json_object_whose_key_authenticates(owner: Any) -> None:
    created = run_command("alice", "--description", "ci")
    assert set(created) == {"AccessKeyId", "SecretAccessKey"}
    assert created["AccessKeyId"].startswith("AKIA") and len(created["SecretAccessKey"]) == 40
    assert AccessKey.objects.get(access_key_id=created["AccessKeyId"]).description == "ci"
    assert authenticates_as(created) == "alice"


@pytest.mark.django_db
def test_it_refuses_an_unknown_user_without_create_user() -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'.*--create-user"):
        run_command("nobody")
    assert not AccessKey.objects.exists()
    assert not get_user_model().objects.filter(username="nobody").exists()


@pytest.mark.django_db
def test_it_creates_the_user_with_an_unusable_password() -> None:
    created = run_command("robot", "--create-user")
    robot = get_user_model().objects.get(username="robot")
    assert not robot.has_usable_password()
    assert authenticates_as(created) == "robot"


@pytest.mark.django_db
def test_it_gives_an_existing_user_another_key_with_create_user(owner: Any) -> None:
    first = run_command("alice", "--create-user")
    second = run_command("alice")
    assert first["AccessKeyId"] != second["AccessKeyId"]
    assert AccessKey.objects.filter(user=owner).count() == 2


def manage_py(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run manage.py in another process on this test's database file and secret key."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "AML_DATA_DIR": str(tmp_path),
    }
    env.pop("AML_ACCESS_KEY_ENCRYPTION_KEY", None)
    env.pop("AML_TEST_DATABASE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_manage_py_prints_one_json_object_whose_key_authenticates(tmp_path: Path) -> None:
    if connection.vendor != "sqlite" or str(connection.settings_dict["NAME"]).startswith(
        ("file:", ":memory:")
    ):
        pytest.skip("another process cannot open an in-memory test database")
    result = manage_py("create_access_key", "ci-bot", "--create-user", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"AccessKeyId", "SecretAccessKey"}
    assert authenticates_as(created) == "ci-bot"


@pytest.mark.django_db(transaction=True)
def test_manage_py_fails_cleanly_for_an_unknown_user(tmp_path: Path) -> None:
    if connection.vendor != "sqlite" or str(connection.settings_dict["NAME"]).startswith(
        ("file:", ":memory:")
    ):
        pytest.skip("another process cannot open an in-memory test database")
    result = manage_py("create_access_key", "nobody", tmp_path=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "No user named 'nobody'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_it_refuses_a_description_no_key_can_keep_with_a_message() -> None:
    with pytest.raises(CommandError, match="--description: A description has at most"):
        call_command("create_access_key", "alice", "--create-user", "--description", "x" * 300)

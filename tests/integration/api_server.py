"""The AML API served over real HTTP for the boto3 and AWS CLI tests.

One session-wide set of processes: gunicorn serving `console.wsgi` on a free loopback port and a
Celery worker, both on pytest-django's SQLite test database file (tests/realservices.py makes it a
file), on a throwaway redis-server, reading and writing s3:// through moto's S3 server. The
server's own address is its public one (AML_PUBLIC_URL / AML_PUBLIC_BASE_URL), so the EndpointUrl
of a real-time endpoint points back at it and boto3's Predict reaches it.

Each test module gets its own two users with access keys (`api_users`); their objects and keys
are flushed from the database when the module ends, so no other test sees them.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from realservices import AWS_TEST_ENV, ROOT, Worker, free_port, launch_worker, wait_for

SHARED_DATA_ROOT = ROOT.parent / "shared" / "data"
API_TARGET_PREFIX = "AmazonML_20141212."
REGION = "us-east-1"
# boto3's waiters poll every 30 s by default; the tests poll every second, for up to two minutes.
# polls every second; a busy shared machine can take minutes, so the patience is generous
FAST_WAITER = {"Delay": 1, "MaxAttempts": 600}
_usernames = itertools.count(1)
# The SQL connections the server is configured with (AML_SQL_CONNECTIONS), on one SQLite file:
# RDS's `<instance identifier>/<database name>` and Redshift's `<cluster identifier>`.
SQL_CONNECTION_NAMES = ("aml-banking/banking", "aml-warehouse")
SQL_BANKING_ROWS = 2000


@dataclass(frozen=True)
class ApiUser:
    """A console user and one of their access keys."""

    username: str
    access_key_id: str
    secret_access_key: str


@dataclass
class ApiServer:
    """gunicorn serving the console, its worker, and where they keep their files."""

    url: str
    process: subprocess.Popen[Any]
    log_file: Path
    worker: Worker
    s3_endpoint: str
    data_dir: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def logs(self) -> str:
        """Both processes' output, for a failure message."""
        return f"--- server log ---\n{self.log()[-6000:]}\n--- worker log ---\n{self.worker.log()[-6000:]}"


def service_env(
    *, db_name: str, broker_url: str, data_dir: Path, s3_endpoint: str, public_url: str
) -> dict[str, str]:
    """The environment the server and the worker share: one database, broker, storage and S3."""
    from django.conf import settings

    env = {
        **os.environ,
        **AWS_TEST_ENV,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        # The same secret as this process's, so access keys it encrypts can be read by the server.
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": f"sqlite:///{db_name}",
        "CELERY_BROKER_URL": broker_url,
        "AML_DATA_DIR": str(data_dir),
        "AML_DATA_ROOTS": os.pathsep.join([str(data_dir / "datasets"), str(SHARED_DATA_ROOT)]),
        "AML_STORAGE": "local",
        "AML_CELERY_EAGER": "false",
        "AML_DATA_S3_ENDPOINT_URL": s3_endpoint,
        "AML_S3_ENDPOINT_URL": s3_endpoint,
        "AML_PUBLIC_URL": public_url,
        "AML_PUBLIC_BASE_URL": public_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("AML_TEST_DATABASE", None)
    env.pop("AWS_PROFILE", None)
    return env


def start_worker(
    env: dict[str, str], log_file: Path, *, options: Sequence[str] = ("--pool=solo",)
) -> Worker:
    """`celery -A console worker` with `options` (the pool, a node name...), once it is ready."""
    return launch_worker(env, log_file, options, env["CELERY_BROKER_URL"])


def start_gunicorn(
    env: dict[str, str], port: int, log_file: Path, *, workers: int = 1, threads: int = 8
) -> subprocess.Popen[Any]:
    """The production server (`console.wsgi` under gunicorn) on 127.0.0.1:`port`."""
    with log_file.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "console.wsgi:application"]
            + ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
            + ["--worker-class", "gthread", "--timeout", "120", "--access-logfile", "-"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    wait_for(
        lambda: process.poll() is not None or _answers(f"http://127.0.0.1:{port}/accounts/login/"),
        timeout=60,
        what="gunicorn to answer",
        step=0.1,
    )
    if process.poll() is not None:
        pytest.fail(f"gunicorn exited with code {process.returncode}:\n{log_file.read_text()}")
    return process


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status < 500)
    except urllib.error.HTTPError as exc:
        return exc.code < 500
    except OSError:
        return False


def banking_sql_database(path: Path, rows: int = SQL_BANKING_ROWS) -> Path:
    """A SQLite database whose table `banking` holds the first `rows` records of banking.csv."""
    import csv
    import sqlite3

    with (SHARED_DATA_ROOT / "banking.csv").open(newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        records = list(itertools.islice(reader, rows))
    columns = ", ".join(f'"{name}" TEXT' for name in header)
    with sqlite3.connect(path) as database:
        database.execute(f"CREATE TABLE banking ({columns})")
        database.executemany(
            f"INSERT INTO banking VALUES ({', '.join('?' for _ in header)})", records
        )
    return path


def stop_process(process: subprocess.Popen[Any], timeout: float = 20) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def api_database(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """The test database file's path, created here if no test of the session asked for a database
    (pytest-django creates only those its tests mark; these tests use it from other processes)."""
    from django.db import connections
    from django.test.utils import setup_databases, teardown_databases

    settings = connections["default"].settings_dict
    created = None
    if settings["NAME"] != settings.get("TEST", {}).get("NAME"):
        with django_db_blocker.unblock():
            created = setup_databases(verbosity=0, interactive=False, aliases={"default"})
    db_name = str(settings["NAME"])
    if connections["default"].vendor != "sqlite" or db_name.startswith(("file:", ":memory:")):
        pytest.skip(f"a server process cannot open the test database {db_name!r}")
    assert db_name == settings["TEST"]["NAME"], f"{db_name} is not the test database"
    try:
        yield db_name
    finally:
        if created is not None:
            with django_db_blocker.unblock():
                teardown_databases(created, verbosity=0)


def start_redis(folder: Path, port: int | None = None) -> tuple[subprocess.Popen[Any], str]:
    """A redis-server of the API server's own, so its worker never shares a queue with the
    function-scoped workers of other tests (they count redis databases up from 0). `port` starts
    it again where an earlier one was stopped."""
    import shutil

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (`make system-test-deps` installs it)")
    port = port or free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--daemonize", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(url, socket_timeout=0.5).ping())
        except redis.RedisError:
            return False

    wait_for(lambda: process.poll() is not None or answers(), timeout=10, what="redis-server")
    if process.poll() is not None:
        pytest.fail(f"redis-server exited with code {process.returncode} on port {port}")
    return process, url


@pytest.fixture(scope="session")
def api_server(
    api_database: str, moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    """gunicorn + a Celery worker on the test database, with s3:// on the moto server."""
    db_name = api_database
    folder = tmp_path_factory.mktemp("api-server")
    (folder / "datasets").mkdir()
    redis_process, broker_url = start_redis(folder)
    try:
        yield from _served(db_name, broker_url, moto_server, folder)
    finally:
        stop_process(redis_process)


def _served(db_name: str, broker_url: str, moto_server: str, folder: Path) -> Iterator[ApiServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = service_env(
        db_name=db_name,
        broker_url=broker_url,
        data_dir=folder,
        s3_endpoint=moto_server,
        public_url=url,
    )
    sql_file = banking_sql_database(folder / "banking.sqlite3")
    env["AML_SQL_CONNECTIONS"] = json.dumps(
        {name: f"sqlite:///{sql_file}" for name in SQL_CONNECTION_NAMES}
    )
    worker = start_worker(env, folder / "worker.log")
    try:
        process = start_gunicorn(env, port, folder / "server.log")
        try:
            yield ApiServer(url, process, folder / "server.log", worker, moto_server, folder, env)
        finally:
            stop_process(process)
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def api_users(api_server: ApiServer, django_db_blocker: Any) -> Iterator[tuple[ApiUser, ApiUser]]:
    """Two users with an access key each (made by `console.api.keys.create_access_key`).

    When the module ends the database is flushed, as pytest-django does after a transactional
    test: their objects, keys and the users themselves are gone.
    """
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from console.api.keys import create_access_key

    users = []
    with django_db_blocker.unblock():
        for role in ("owner", "other"):
            user = get_user_model().objects.create_user(
                username=f"api-{role}-{next(_usernames)}", password=uuid.uuid4().hex
            )
            key, secret = create_access_key(user, description="API tests")
            users.append(ApiUser(user.username, key.access_key_id, secret))
    try:
        yield users[0], users[1]
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)


def make_ml_client(
    server: ApiServer,
    user: ApiUser,
    *,
    secret: str | None = None,
    access_key_id: str | None = None,
    validate: bool = True,
) -> Any:
    """boto3's `machinelearning` client on the live server, signing with the user's key.

    No retries (a refusal must surface at once); `validate=False` lets a request that botocore
    would refuse client-side reach the server, to see the server's own validation.
    """
    return boto3.client(
        "machinelearning",
        endpoint_url=server.url,
        region_name=REGION,
        aws_access_key_id=access_key_id or user.access_key_id,
        aws_secret_access_key=secret or user.secret_access_key,
        config=Config(
            retries={"total_max_attempts": 1},
            parameter_validation=validate,
            read_timeout=120,
        ),
    )


@pytest.fixture(scope="module")
def ml_client(api_server: ApiServer) -> Callable[..., Any]:
    """`ml_client(user, **options)`: see `make_ml_client`."""

    def build(user: ApiUser, **options: Any) -> Any:
        return make_ml_client(api_server, user, **options)

    return build


@pytest.fixture(scope="session")
def s3_client(moto_server: str) -> Any:
    """boto3's S3 client on the moto server (the same S3 the console reads and writes)."""
    return boto3.client(
        "s3",
        endpoint_url=moto_server,
        region_name=REGION,
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    )


def banking_bucket(s3: Any) -> str:
    """A fresh bucket holding the tutorial's files: banking.csv, banking-batch.csv, schemas."""
    name = f"aml-api-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    for file in ("banking.csv", "banking-batch.csv"):
        s3.upload_file(str(SHARED_DATA_ROOT / file), name, f"data/{file}")
        s3.upload_file(str(SHARED_DATA_ROOT / f"{file}.schema"), name, f"schemas/{file}.schema")
    s3.upload_file(str(SHARED_DATA_ROOT / "banking-recipe.json"), name, "recipes/banking.json")
    return name


def wait_for_endpoint(client: Any, ml_model_id: str, status: str = "READY") -> dict[str, Any]:
    """Poll GetMLModel until the real-time endpoint has `status`; its EndpointInfo."""

    def reached() -> dict[str, Any] | None:
        info = client.get_ml_model(MLModelId=ml_model_id)["EndpointInfo"]
        assert info["EndpointStatus"] != "FAILED", info
        return info if info["EndpointStatus"] == status else None

    return wait_for(reached, timeout=120, what=f"the endpoint of {ml_model_id} to be {status}")


# --------------------------------------------------------------------------- raw signed calls


@dataclass(frozen=True)
class RawAnswer:
    status: int
    body: dict[str, Any]
    text: str


def signed_request(
    url: str,
    operation: str,
    payload: dict[str, Any] | str,
    *,
    access_key_id: str,
    secret: str,
    signed_at: datetime.datetime | None = None,
) -> AWSRequest:
    """A JSON 1.1 request signed with botocore's own SigV4 signer (optionally back-dated)."""
    body = payload if isinstance(payload, str) else json.dumps(payload)
    request = AWSRequest(
        method="POST",
        url=url.rstrip("/") + "/",
        data=body.encode(),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": API_TARGET_PREFIX + operation,
        },
    )
    signer = SigV4Auth(Credentials(access_key_id, secret), "machinelearning", REGION)
    if signed_at is None:
        signer.add_auth(request)
    else:
        with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at):
            signer.add_auth(request)
    return request


def send(request: AWSRequest, *, body: bytes | None = None) -> RawAnswer:
    """POST the prepared request as it is (or with another body, to tamper with it)."""
    prepared = request.prepare()
    data = prepared.body if body is None else body
    if isinstance(data, str):
        data = data.encode()
    raw = urllib.request.Request(
        prepared.url, data=data, method="POST", headers=dict(prepared.headers.items())
    )
    try:
        with urllib.request.urlopen(raw, timeout=60) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode()
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        parsed = {}
    return RawAnswer(status, parsed if isinstance(parsed, dict) else {}, text)


def raw_call(
    server: ApiServer, user: ApiUser, operation: str, payload: dict[str, Any]
) -> RawAnswer:
    """One API call without boto3: the JSON exactly as the server wrote it."""
    request = signed_request(
        server.url,
        operation,
        payload,
        access_key_id=user.access_key_id,
        secret=user.secret_access_key,
    )
    return send(request)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def read_s3_uri(s3: Any, uri: str) -> bytes:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def read_batch_results(s3: Any, output_uri: str, batch_prediction_id: str) -> dict[str, list[str]]:
    """The batch prediction's manifest, read from the bucket, and each result file's lines."""
    import gzip

    folder = output_uri if output_uri.endswith("/") else output_uri + "/"
    manifest_uri = f"{folder}batch-prediction/{batch_prediction_id}.manifest"
    manifest = json.loads(read_s3_uri(s3, manifest_uri))
    assert isinstance(manifest, dict) and manifest, manifest
    return {
        result: gzip.decompress(read_s3_uri(s3, result)).decode().splitlines()
        for result in manifest.values()
    }


def error_code(exc: Any) -> str:
    return str(exc.response["Error"]["Code"])


def error_message(exc: Any) -> str:
    return str(exc.response["Error"]["Message"])

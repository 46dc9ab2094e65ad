"""A throw-away console for the API benchmarks: its own data folder and SQLite database, a user
with an access key, the production server (gunicorn, `console.wsgi`) on loopback, and requests
signed with botocore's SigV4 signer sent over plain keep-alive HTTP connections.

Jobs run inline (AML_CELERY_EAGER=true) in the benchmark's own process while it prepares the
objects; the server only answers requests.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
REGION = "us-east-1"
TARGET_PREFIX = "AmazonML_20141212."


def setup_django(workdir: Path) -> None:
    """A migrated console whose data (database, files, secret key) live in `workdir`."""
    os.environ["AML_DATA_DIR"] = str(workdir / "data")
    os.environ["AML_CELERY_EAGER"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    for name in ("DATABASE_URL", "AML_TEST_DATABASE", "AML_STORAGE", "CELERY_BROKER_URL"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


@dataclass(frozen=True)
class Key:
    username: str
    access_key_id: str
    secret: str


def user_with_key(username: str, password: str) -> tuple[Any, Key]:
    from django.contrib.auth import get_user_model

    from console.api.keys import create_access_key

    user = get_user_model().objects.create_user(username=username, password=password)
    key, secret = create_access_key(user, description="benchmark")
    return user, Key(username, key.access_key_id, secret)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(
    workdir: Path, port: int, workers: int | None, extra: list[str] | None = None
) -> subprocess.Popen[Any]:
    """`gunicorn console.wsgi:application` as the Dockerfile runs it: the settings of
    gunicorn.conf.py (read from the repository's root), unless `workers` or `extra` options
    say otherwise."""
    env = {**os.environ, "AML_PUBLIC_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}
    env["AML_CELERY_EAGER"] = "false"
    log = (workdir / "gunicorn.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "console.wsgi:application"]
        + ["--bind", f"127.0.0.1:{port}"]
        + ([] if workers is None else ["--workers", str(workers)])
        + (extra or []),
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{(workdir / 'gunicorn.log').read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not answer within 60 s")


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def signed_headers(
    host: str, operation: str, body: bytes, access_key_id: str, secret: str
) -> dict[str, str]:
    """The headers of a JSON 1.1 call signed once with botocore's SigV4Auth."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url=f"http://{host}/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET_PREFIX + operation,
        },
    )
    SigV4Auth(Credentials(access_key_id, secret), "machinelearning", REGION).add_auth(request)
    return dict(request.headers.items())


def call(
    connection: http.client.HTTPConnection,
    key: Key,
    operation: str,
    payload: dict[str, Any],
) -> tuple[int, dict[str, Any]]:
    """One signed call on a keep-alive connection: (HTTP status, parsed JSON)."""
    body = json.dumps(payload).encode()
    host = f"{connection.host}:{connection.port}"
    connection.request(
        "POST", "/", body, signed_headers(host, operation, body, key.access_key_id, key.secret)
    )
    response = connection.getresponse()
    data = response.read()
    return response.status, json.loads(data) if data else {}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def machine_load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min) / {five:.2f} (5 min) on {os.cpu_count()} cores"

"""Real services for the integration tests: redis-server, a Celery worker process, a moto S3 server.

A worker process cannot see pytest-django's in-memory SQLite database, so as soon as these tests
are collected the test database becomes a file (in a temporary folder) that both processes open.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_test_db_folder: str | None = None
_redis_databases = itertools.count()


def pytest_configure(config: pytest.Config) -> None:
    """Put the SQLite test database in a file before pytest-django creates it."""
    global _test_db_folder
    if not config.pluginmanager.hasplugin("django"):
        return  # e.g. `pytest tests/mlcore -p no:django`: no database at all
    from django.db import connections

    db = connections["default"].settings_dict
    test = db.setdefault("TEST", {})
    if db["ENGINE"] == "django.db.backends.sqlite3" and not test.get("NAME"):
        _test_db_folder = tempfile.mkdtemp(prefix="aml-test-db-")
        test["NAME"] = os.path.join(_test_db_folder, "test.sqlite3")


def pytest_unconfigure(config: pytest.Config) -> None:
    if _test_db_folder:
        shutil.rmtree(_test_db_folder, ignore_errors=True)


def postgres_bin() -> Path:
    """The folder of Debian's PostgreSQL programs (initdb, pg_ctl, postgres): `AML_PG_BIN`, or the
    newest version installed under /usr/lib/postgresql (Debian 12 ships 15, later releases more)."""
    if os.environ.get("AML_PG_BIN"):
        return Path(os.environ["AML_PG_BIN"])
    installed = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
    )
    return installed[-1].parent if installed else Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, step: float = 0.05) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(step)


def still_running(processes: list[Any], *, timeout: float) -> list[Any]:
    """The psutil processes still running after up to `timeout` s. A zombie has stopped: its
    parent is gone and whatever reaps orphans (init, a container's pid 1) may never reap it."""
    import psutil

    def runs(process: Any) -> bool:
        try:
            return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return False

    deadline = time.monotonic() + timeout
    while True:
        alive = [process for process in processes if runs(process)]
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.05)


@pytest.fixture
def wait() -> Callable[..., Any]:
    """`wait(condition, timeout=..., what=...)`: the polling helper, for the test modules."""
    return wait_for


# --------------------------------------------------------------------------- Redis


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway redis-server on a free port; yields `redis://127.0.0.1:<port>`."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (`make system-test-deps` installs it)")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--daemonize", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: process.poll() is not None or _redis_answers(port),
            timeout=10,
            what="redis-server to answer PING",
        )
        if process.poll() is not None:
            pytest.fail(f"redis-server exited with code {process.returncode} on port {port}")
        yield f"redis://127.0.0.1:{port}"
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[Any], timeout: float = 10) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --------------------------------------------------------------------------- Celery


@dataclass
class Worker:
    """A real `celery worker` process started by the `celery_worker` fixture."""

    process: subprocess.Popen[Any]
    log_file: Path
    broker_url: str
    env: dict[str, str] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the worker vanishes mid-job without a chance to clean up."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        _stop(self.process, timeout=20)


@pytest.fixture
def broker_url(redis_url: str) -> Iterator[str]:
    """A Redis database of its own for this test, emptied before use."""
    import redis

    url = f"{redis_url}/{next(_redis_databases) % 16}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    yield url


@pytest.fixture
def celery_publisher(broker_url: str, settings: Any) -> Iterator[str]:
    """Point this process's Celery app at the test broker so `.delay()` really publishes."""
    from console.celery import app

    saved = {key: app.conf[key] for key in ("broker_url", "broker_transport_options")}
    saved_eager = app.conf.task_always_eager
    settings.CELERY_BROKER_URL = broker_url
    app.conf.broker_url = broker_url
    app.conf.broker_transport_options = {}
    app.conf.task_always_eager = False
    _reset_connections(app)
    try:
        yield broker_url
    finally:
        _reset_connections(app)
        for key, value in saved.items():
            app.conf[key] = value
        app.conf.task_always_eager = saved_eager


def _reset_connections(app: Any) -> None:
    """Forget pooled connections made for an earlier broker URL."""
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    amqp = app.amqp
    if getattr(amqp, "_producer_pool", None) is not None:
        amqp._producer_pool.force_close_all()
        amqp._producer_pool = None


def console_process_env(
    broker_url: str, settings: Any, data_dir: Path, **extra: str
) -> dict[str, str]:
    """The environment of a console process (worker, runconsole) sharing this test's database
    file, broker, storage and data roots; needs the `transactional_db` fixture."""
    from django.db import connection

    env = {
        **os.environ,
        **AWS_TEST_ENV,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": f"sqlite:///{connection.settings_dict['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        # MEDIA_ROOT is AML_DATA_DIR/files, the very folder tests/conftest.py gives this test.
        "AML_DATA_DIR": str(data_dir),
        "AML_DATA_ROOTS": os.pathsep.join(str(p) for p in settings.AML_DATA_ROOTS),
        "AML_STORAGE": "local",
        "AML_CELERY_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }
    env.pop("AML_TEST_DATABASE", None)
    return env


def launch_worker(
    env: dict[str, str], log_file: Path, options: Sequence[str], broker: str
) -> Worker:
    """`celery -A console worker` with `options` (the pool, a node name...), once it is ready;
    stopped again if it never gets there."""
    with log_file.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "console", "worker", *options]
            + ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, log_file, broker, env)
    try:
        wait_for(
            lambda: process.poll() is not None or "ready." in worker.log(),
            timeout=60,
            what="the Celery worker to be ready",
            step=0.1,
        )
    except BaseException:
        worker.stop()
        raise
    if process.poll() is not None:
        pytest.fail(f"the Celery worker exited with code {process.returncode}:\n{worker.log()}")
    return worker


@pytest.fixture
def celery_worker(
    celery_publisher: str, settings: Any, tmp_path: Path, transactional_db: None
) -> Iterator[Callable[..., Worker]]:
    """Start real worker processes sharing this test's database file, storage and data roots.

    `start(pool="prefork")` runs the job in a pool process of its own (one), as production does.
    """
    from django.db import connection

    db_name = str(connection.settings_dict["NAME"])
    if connection.vendor != "sqlite" or db_name.startswith(("file:", ":memory:")):
        pytest.skip(f"a worker process cannot open the test database {db_name!r}")
    started: list[Worker] = []

    def start(*, pool: str = "solo", **extra_env: str) -> Worker:
        env = console_process_env(celery_publisher, settings, tmp_path, **extra_env)
        log_file = tmp_path / f"worker-{len(started)}.log"
        options = [f"--pool={pool}"] + (["--concurrency=1"] if pool == "prefork" else [])
        worker = launch_worker(env, log_file, options, celery_publisher)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


# --------------------------------------------------------------------------- S3


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's S3 over real HTTP on a free port; yields the endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dummy credentials, so boto3 never looks for real ones."""
    for name, value in AWS_TEST_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return AWS_TEST_ENV

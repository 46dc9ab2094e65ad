"""The console in its production shape, started for real for the fault tests (issue 11).

PostgreSQL 15 (a throwaway cluster run by the `postgres` system user), redis-server as the Celery
broker, two Celery workers and a separate beat, the web server under gunicorn, and moto's S3
server as the console's storage (AML_STORAGE=s3) and the data's S3. The environment is
docker-compose.yml's, with a short stale-job limit and sweep interval so a dead worker's job is
failed within a minute.

moto runs in this process (ThreadedMotoServer), so it can be stopped and started again on the
same port with its buckets intact. It checks credentials (moto's IAM enforcement): the console
signs with an IAM user's key whose policy allows all of S3 but reading `private/` of the data
bucket, which gives a real "Access Denied". The workers' temporary folder is a small tmpfs when
the test process may mount one, so "the disk is full" can be made real too.

Every part can be stopped and started again on the same address: `ProductionShape.stop_redis`,
`start_redis`, `restart_postgres`, `stop_moto`... A test that breaks a part puts it back.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

# The API tests' helpers (tests/integration) start gunicorn, the workers and redis-server here too.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from api_server import (  # noqa: E402
    REGION,
    SHARED_DATA_ROOT,
    ApiUser,
    service_env,
    start_gunicorn,
    start_redis,
    start_worker,
    stop_process,
)
from botocore.config import Config  # noqa: E402
from realservices import ROOT, Worker, free_port, postgres_bin, wait_for  # noqa: E402

PG_BIN = postgres_bin()
PG_USER = "postgres"  # the system user that runs the cluster (PostgreSQL refuses to run as root)
DB_NAME = "aml"
STALE_JOB_SECONDS = 20
SWEEP_INTERVAL_SECONDS = 5
WORKER_NAMES = ("fault-one", "fault-two")
TMPFS_BYTES = 32 * 1024 * 1024
DENIED_PREFIX = "private/"
MNIST_ROWS = 1000


# --------------------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    """A PostgreSQL cluster in `folder` (owned by the postgres user), on 127.0.0.1:`port`."""

    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{DB_NAME}"

    def run(self, program: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", PG_USER, "--", str(PG_BIN / program), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            pytest.fail(f"{program} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
        return result

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            *("-D", str(self.data), "-l", str(self.folder / "server.log")),
            *("-o", options, "-w", "-t", "60", "start"),
        )

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart(self) -> None:
        # -l: the new server's output goes to the log, not to our pipe (which would never close)
        self.run(
            "pg_ctl",
            *("-D", str(self.data), "-l", str(self.folder / "server.log")),
            *("-m", "fast", "-w", "-t", "60", "restart"),
        )

    def execute(self, sql: str, database: str = DB_NAME) -> list[tuple[Any, ...]]:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=PG_USER, dbname=database, autocommit=True
        ) as connection:
            cursor = connection.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []

    def terminate_backends(self) -> int:
        """pg_terminate_backend on every other connection to the console's database."""
        rows = self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()"
        )
        return sum(1 for (terminated,) in rows if terminated)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""


def start_postgres() -> Postgres:
    """initdb and start a cluster as the postgres user in a folder it owns; the database `aml`."""
    if not (PG_BIN / "initdb").exists() or shutil.which("runuser") is None:
        pytest.fail(
            f"PostgreSQL is needed for the production-shape tests: no initdb in {PG_BIN} "
            "(`make system-test-deps` installs Debian's postgresql; AML_PG_BIN names another folder)"
        )
    folder = Path(tempfile.mkdtemp(prefix="aml-postgres-"))
    shutil.chown(folder, PG_USER, PG_USER)
    postgres = Postgres(folder, free_port())
    postgres.run("initdb", "-D", str(postgres.data), "-U", PG_USER, "-A", "trust", "--no-sync")
    postgres.start()
    postgres.execute(f"CREATE DATABASE {DB_NAME}", database="postgres")
    return postgres


def remove_postgres(postgres: Postgres) -> None:
    try:
        postgres.stop()
    finally:
        shutil.rmtree(postgres.folder, ignore_errors=True)


# --------------------------------------------------------------------------- S3 (moto)


@dataclass
class S3Server:
    """moto's server in this process on a fixed port: stopped and started again, it keeps its
    buckets (moto's state lives in this process, not in the server thread)."""

    port: int
    server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import logging

        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # a line per S3 request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@dataclass(frozen=True)
class S3Key:
    access_key_id: str
    secret_access_key: str


def console_iam_key(s3: S3Server) -> S3Key:
    """An IAM user whose policy allows all of S3 but reading `private/` of any bucket."""
    iam = boto3.client(
        "iam",
        endpoint_url=s3.url,
        region_name=REGION,
        aws_access_key_id="bootstrap",
        aws_secret_access_key="bootstrap",
    )
    name = f"aml-console-{uuid.uuid4().hex[:8]}"
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {
                "Effect": "Deny",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::*/{DENIED_PREFIX}*",
            },
        ],
    }
    iam.put_user_policy(UserName=name, PolicyName="console", PolicyDocument=json.dumps(policy))
    return S3Key(key["AccessKeyId"], key["SecretAccessKey"])


class MotoAuthorisation:
    """Turn moto's credential and policy checks on from now (they are process-wide settings)."""

    def __init__(self) -> None:
        from moto import settings

        self.saved = settings.INITIAL_NO_AUTH_ACTION_COUNT

    def enforce(self) -> None:
        from moto import settings
        from moto.core.authorization import ActionAuthenticatorMixin

        settings.INITIAL_NO_AUTH_ACTION_COUNT = ActionAuthenticatorMixin.request_count

    def restore(self) -> None:
        from moto import settings

        settings.INITIAL_NO_AUTH_ACTION_COUNT = self.saved


# --------------------------------------------------------------------------- the temporary disk


def mount_small_tmpfs(folder: Path) -> bool:
    """A tmpfs of TMPFS_BYTES on `folder` (root may mount one); False when it cannot be mounted."""
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None or os.geteuid() != 0:
        return False
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES},mode=1777", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    return result.returncode == 0


def unmount(folder: Path) -> None:
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill_disk(folder: Path) -> Path:
    """Fill the file system of `folder` until it refuses a byte more; the filler to delete."""
    filler = folder / "filler"
    block = b"\0" * (1 << 16)
    with filler.open("wb", buffering=0) as out:
        try:
            while True:
                out.write(block)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return filler


# --------------------------------------------------------------------------- the web pages


@dataclass(frozen=True)
class WebUser(ApiUser):
    """An API user who can also sign in to the console's pages."""

    password: str = ""


class WebSession:
    """The console's pages over HTTP with a signed-in session and its CSRF token."""

    def __init__(self, url: str) -> None:
        import requests

        self.url = url
        self.http = requests.Session()

    def post(self, path: str, data: dict[str, Any]) -> Any:
        token = self.http.cookies.get("csrftoken", "")
        return self.http.post(
            path if path.startswith("http") else self.url + path,
            data={**data, "csrfmiddlewaretoken": token},
            headers={"Referer": self.url + "/"},
            allow_redirects=False,
            timeout=60,
        )

    def sign_in(self, user: WebUser) -> None:
        self.http.get(self.url + "/accounts/login/", timeout=60)
        answer = self.post(
            "/accounts/login/", {"username": user.username, "password": user.password}
        )
        assert answer.status_code == 302, (
            f"sign-in refused: {answer.status_code} {answer.text[:500]}"
        )

    def next_step(self, path: str, data: dict[str, Any]) -> str:
        """POST one wizard step; where it sends the browser next."""
        answer = self.post(path, data)
        assert answer.status_code == 302, f"{path}: {answer.status_code} {answer.text[:2000]}"
        return str(answer.headers["Location"])

    def batch_prediction_into_console_storage(self, ml_model_id: str, data_source_id: str) -> str:
        """The batch prediction wizard, results kept in the console's own storage; the new id."""
        data_step = self.next_step("/batch-predictions/new/", {"ml_model": ml_model_id})
        results_step = self.next_step(data_step, {"data_source": data_source_id})
        review = self.next_step(
            results_step, {"destination": "storage", "name": "faults: into the console's storage"}
        )
        created = self.next_step(review, {})
        return created.rstrip("/").rsplit("/", 1)[-1]


# --------------------------------------------------------------------------- the whole shape


@dataclass
class ProductionShape:
    folder: Path
    env: dict[str, str]
    postgres: Postgres
    s3: S3Server
    s3_key: S3Key
    data_bucket: str
    storage_bucket: str
    redis_port: int
    web_port: int
    tmp_is_tmpfs: bool
    redis: subprocess.Popen[Any] | None = None
    web: subprocess.Popen[Any] | None = None
    beat: subprocess.Popen[Any] | None = None
    workers: list[Worker] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def tmp(self) -> Path:
        return Path(self.env["TMPDIR"])

    # ----------------------------------------------------------- parts

    def start_redis(self) -> None:
        self.redis, _ = start_redis(self.folder, self.redis_port)

    def stop_redis(self) -> None:
        if self.redis is not None:
            stop_process(self.redis)
            self.redis = None

    def start_workers(self) -> None:
        for name in WORKER_NAMES:
            options = ("--pool=prefork", "--concurrency=1", "-n", f"{name}@%h")
            log_file = self.folder / f"worker-{name}-{len(self.workers)}.log"
            self.workers.append(start_worker(self.env, log_file, options=options))

    def start_beat(self) -> None:
        log_file = self.folder / "beat.log"
        with log_file.open("a") as out:
            self.beat = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "console", "beat", "-l", "info"]
                + ["-s", str(self.folder / "beat-schedule"), "--pidfile", ""],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def start_web(self) -> None:
        self.web = start_gunicorn(
            self.env, self.web_port, self.folder / "web.log", workers=2, threads=4
        )

    def ensure_running(self) -> None:
        """Start whatever part of the console is stopped, as its supervisor would."""
        if not self.workers:
            self.start_workers()
        if self.beat is None or self.beat.poll() is not None:
            self.start_beat()
        if self.web is None or self.web.poll() is not None:
            self.start_web()

    def processes(self) -> list[subprocess.Popen[Any]]:
        parts = [self.web, self.beat, *(worker.process for worker in self.workers)]
        return [process for process in parts if process is not None]

    def stop_gracefully(self, timeout: float = 90) -> list[int]:
        """SIGTERM to gunicorn, the workers and beat; what is still running after `timeout` s."""
        # gunicorn's workers and the Celery pool processes as well as the parents
        every = [
            *self.processes(),
            *(child for process in self.processes() for child in children_of(process.pid)),
        ]
        for process in self.processes():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

        def all_gone() -> bool:
            return all(not is_running(pid_of(process)) for process in every)

        with contextlib.suppress(pytest.fail.Exception):
            wait_for(all_gone, timeout=timeout, what="every process to exit", step=0.2)
        left = [pid_of(process) for process in every if is_running(pid_of(process))]
        self.web, self.beat, self.workers = None, None, []
        return left

    def pool_children(self) -> list[int]:
        """The pids of the workers' pool processes (prefork: the processes that run the jobs)."""
        return [pid for worker in self.workers for pid in children_of(worker.process.pid)]

    def busiest_pool_child(self, sample: float = 1.0) -> int:
        """The pool process that used the most CPU over `sample` seconds: the one with a job."""
        before = {pid: cpu_ticks(pid) for pid in self.pool_children()}
        time.sleep(sample)
        used = {pid: cpu_ticks(pid) - ticks for pid, ticks in before.items()}
        return max(used, key=lambda pid: used[pid])

    def jobs_in_progress(self) -> list[tuple[str, str]]:
        """(table, entity id) of every row In progress, read from the database itself."""
        tables = ("datasource", "mlmodel", "evaluation", "batchprediction")
        return [
            (table, str(entity_id))
            for table in tables
            for (entity_id,) in self.postgres.execute(
                f"SELECT entity_id FROM console_{table} WHERE status = 'INPROGRESS'"
            )
        ]

    def row(self, table: str, entity_id: str) -> tuple[str, str]:
        """(status, message) of one object, read from the database itself."""
        rows = self.postgres.execute(
            f"SELECT status, message FROM console_{table} WHERE entity_id = '{entity_id}'"
        )
        assert len(rows) == 1, f"{table} {entity_id}: {rows}"
        return str(rows[0][0]), str(rows[0][1])

    def stop_everything(self) -> None:
        for process in self.processes():
            stop_process(process)
        self.web, self.beat, self.workers = None, None, []
        self.stop_redis()

    # ----------------------------------------------------------- using it

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            pytest.fail(f"manage.py {' '.join(args)}:\n{result.stdout}{result.stderr}")
        return result

    def new_user(self) -> WebUser:
        """A console user who signs in with a password and has an access key, made by
        `manage.py createsuperuser` and `manage.py create_access_key`."""
        username = f"faults-{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe(16)
        subprocess.run(
            [sys.executable, "manage.py", "createsuperuser", "--noinput"]
            + ["--username", username, "--email", f"{username}@example.com"],
            cwd=ROOT,
            env={**self.env, "DJANGO_SUPERUSER_PASSWORD": password},
            check=True,
            capture_output=True,
            timeout=120,
        )
        made = json.loads(self.manage("create_access_key", username).stdout)
        return WebUser(username, made["AccessKeyId"], made["SecretAccessKey"], password)

    def signed_in(self, user: WebUser) -> WebSession:
        """A browser-like HTTP session of `user` on the console's pages."""
        session = WebSession(self.url)
        session.sign_in(user)
        return session

    def ml_client(self, user: ApiUser) -> Any:
        return boto3.client(
            "machinelearning",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=user.access_key_id,
            aws_secret_access_key=user.secret_access_key,
            config=Config(retries={"total_max_attempts": 1}, read_timeout=60, connect_timeout=10),
        )

    def s3_client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.s3.url,
            region_name=REGION,
            aws_access_key_id=self.s3_key.access_key_id,
            aws_secret_access_key=self.s3_key.secret_access_key,
        )

    def logs(self) -> str:
        """The tail of every part's log, for a failure message."""
        parts = sorted(self.folder.glob("*.log"))
        tails = [
            f"--- {path.name} ---\n{path.read_text(errors='replace')[-4000:]}" for path in parts
        ]
        return "\n".join([*tails, f"--- postgres ---\n{self.postgres.log()[-3000:]}"])


def pid_of(process: subprocess.Popen[Any] | int) -> int:
    return process if isinstance(process, int) else process.pid


def is_running(pid: int) -> bool:
    """True while `pid` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    if state == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # one of ours: reap it
        return False
    return True


def cpu_ticks(pid: int) -> int:
    """User and system CPU ticks of `pid` so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def children_of(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def upload_data(s3: Any, bucket: str, small_rows: int) -> None:
    """banking.csv and banking-batch.csv, a small banking file of `small_rows` records, and a
    copy of banking.csv under the prefix the console may not read."""
    s3.create_bucket(Bucket=bucket)
    banking = SHARED_DATA_ROOT / "banking.csv"
    for name in ("banking.csv", "banking-batch.csv"):
        s3.upload_file(str(SHARED_DATA_ROOT / name), bucket, f"data/{name}")
    lines = banking.read_text().splitlines(keepends=True)[: small_rows + 1]
    s3.put_object(Bucket=bucket, Key="data/banking-small.csv", Body="".join(lines).encode())
    # a training that takes a while: MULTICLASS over 1,000 handwritten digits of 784 pixels
    with (SHARED_DATA_ROOT / "mnist-5k.csv").open() as mnist:
        first = "".join(line for _, line in zip(range(MNIST_ROWS + 1), mnist, strict=False))
    s3.put_object(Bucket=bucket, Key="data/mnist-1k.csv", Body=first.encode())
    s3.upload_file(str(banking), bucket, f"{DENIED_PREFIX}banking.csv")


def production_shape(small_rows: int) -> Iterator[ProductionShape]:
    """Start every part, migrate the database; stop and remove everything afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="aml-production-shape-"))
    tmp = folder / "tmp"
    tmp_is_tmpfs = mount_small_tmpfs(tmp)
    postgres = start_postgres()
    authorisation = MotoAuthorisation()
    s3 = S3Server(free_port())
    s3.start()
    shape: ProductionShape | None = None
    try:
        key = console_iam_key(s3)
        authorisation.enforce()
        web_port = free_port()
        url = f"http://127.0.0.1:{web_port}"
        env = service_env(
            db_name="unused", broker_url="", data_dir=folder, s3_endpoint=s3.url, public_url=url
        )
        redis_port = free_port()
        env.update(
            {
                "DATABASE_URL": postgres.url,
                "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
                "AML_STORAGE": "s3",
                "AML_S3_BUCKET": f"aml-console-{uuid.uuid4().hex[:8]}",
                "AWS_ACCESS_KEY_ID": key.access_key_id,
                "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
                "SECRET_KEY": secrets.token_urlsafe(50),
                "AML_STALE_JOB_SECONDS": str(STALE_JOB_SECONDS),
                "AML_SWEEP_INTERVAL_SECONDS": str(SWEEP_INTERVAL_SECONDS),
                "TMPDIR": str(tmp),
                "WEB_CONCURRENCY": "2",
            }
        )
        env.pop("AWS_SESSION_TOKEN", None)  # moto would take the key for a role's: refused
        env.pop("AML_SQL_CONNECTIONS", None)
        shape = ProductionShape(
            folder=folder,
            env=env,
            postgres=postgres,
            s3=s3,
            s3_key=key,
            data_bucket=f"aml-data-{uuid.uuid4().hex[:8]}",
            storage_bucket=env["AML_S3_BUCKET"],
            redis_port=redis_port,
            web_port=web_port,
            tmp_is_tmpfs=tmp_is_tmpfs,
        )
        client = shape.s3_client()
        client.create_bucket(Bucket=shape.storage_bucket)
        upload_data(client, shape.data_bucket, small_rows)
        shape.manage("migrate", "--noinput")
        shape.start_redis()
        shape.start_workers()
        shape.start_beat()
        shape.start_web()
        yield shape
    finally:
        if shape is not None:
            shape.stop_everything()
        s3.stop()
        authorisation.restore()
        remove_postgres(postgres)
        if tmp_is_tmpfs:
            unmount(tmp)
        shutil.rmtree(folder, ignore_errors=True)

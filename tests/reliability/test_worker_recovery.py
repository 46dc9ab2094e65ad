"""Faults: worker. A job whose worker dies is failed at once, saying so; a stopped console leaves
no process and no job In progress.

Real processes throughout: a Celery worker on a real redis-server, the pool process or the whole
worker killed with SIGKILL mid-training, `manage.py runconsole` stopped with SIGTERM. The stale
limit is an hour in every process here, so the sweep cannot be what fails a job: only the
claimant checks can (console/claimants.py, lifecycle.fail_jobs_of_dead_workers).
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil
import pytest
from prediction_factories import data_root, data_source
from realservices import ROOT, console_process_env, free_port, still_running
from reliability_figures import record

from console import dependencies, lifecycle
from console.claimants import Claimant, process_start, this_host
from console.models import ALL_OBJECT_TYPES, DataSource, MLModel, Status
from console.services.ml_models import create_ml_model

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
]

SUITE = "Faults: worker"
STUCK = "jobs left In progress"
STALE_LIMIT = "3600"  # seconds: far beyond every wait here, so the sweep never fires
FAILURE_TIMEOUT = 60  # generous: the failure is expected within a second or two
# 100 passes over 1,000 MNIST records: about 20 s of training, cut short by every test.
TRAINING = {"sgd.maxPasses": "100", "sgd.l2RegularizationAmount": "1e-6"}


@pytest.fixture(autouse=True)
def _stale_limit_of_an_hour(settings: Any) -> None:
    settings.AML_STALE_JOB_SECONDS = int(STALE_LIMIT)


def mnist_model(owner: Any, shared_data: Path) -> MLModel:
    """A MULTICLASS model on the first 1,000 records of mnist-5k.csv, queued for the worker."""
    lines = (shared_data / "mnist-5k.csv").read_text().splitlines(keepends=True)
    path = data_root() / "mnist-1k.csv"
    path.write_text("".join(lines[:1001]))
    schema = (shared_data / "mnist-train.csv.schema").read_text()
    ds = data_source(owner, path, schema, "MNIST 1k")
    return create_ml_model(
        owner,
        ml_model_type="MULTICLASS",
        training_data_source_id=ds.entity_id,
        ml_model_name="MNIST",
        parameters=TRAINING,
    )


def wait_until_training(wait: Callable[..., Any], ml: MLModel, log: Callable[[], str]) -> MLModel:
    """The model's row once its training has finished a pass (so a worker process is in it)."""

    def training() -> MLModel | None:
        row = MLModel.objects.get(pk=ml.pk)
        assert row.status != Status.COMPLETED, "trained before the fault could be injected"
        assert row.status != Status.FAILED, f"{row.message}\n{log()}"
        return row if row.progress.get("pass", 0) >= 1 else None

    return wait(training, timeout=90, what="the training to finish its first pass", step=0.1)


def status_after(ml: MLModel, timeout: float) -> MLModel:
    """The row once it left INPROGRESS, or as it is after `timeout` s (to record, then assert)."""
    deadline = time.monotonic() + timeout
    while True:
        row = MLModel.objects.get(pk=ml.pk)
        if row.status != Status.INPROGRESS or time.monotonic() > deadline:
            return row
        time.sleep(0.1)


def assert_failed_because_its_worker_stopped(row: MLModel, running: MLModel) -> None:
    assert row.status == Status.FAILED, f"still {row.status}"
    assert row.message == lifecycle.WORKER_STOPPED
    assert "stopped responding" not in row.message  # the sweep's message: not the sweep
    assert f"process {running.claimed_by_pid} on {this_host()}) is gone" in row.log
    # Failed long before the sweep's stale limit could have fired on its last heartbeat.
    assert (row.finished_at - running.heartbeat_at).total_seconds() < int(STALE_LIMIT)
    assert not row.artifact_key


def jobs_in_progress() -> list[str]:
    return [
        obj.entity_id
        for model in ALL_OBJECT_TYPES
        for obj in model.objects.filter(status=Status.INPROGRESS)
    ]


def test_killing_the_pool_process_mid_training_fails_the_job_at_once(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any]
) -> None:
    worker = celery_worker(pool="prefork", AML_STALE_JOB_SECONDS=STALE_LIMIT)
    ml = mnist_model(owner, shared_data)
    running = wait_until_training(wait, ml, worker.log)
    pool = psutil.Process(running.claimed_by_pid)
    assert pool.ppid() == worker.process.pid, "the job runs in the worker's pool process"

    pool.send_signal(signal.SIGKILL)
    row = status_after(ml, FAILURE_TIMEOUT)

    record(
        SUITE,
        "kill -9 of the pool process mid-training",
        tried=1,
        bad=int(row.is_active),
        bad_means=STUCK,
    )
    assert_failed_because_its_worker_stopped(row, running)
    assert worker.process.poll() is None, "the worker itself lives on"


def test_a_worker_starting_on_the_host_of_a_killed_worker_fails_its_job_as_it_starts(
    owner: Any, shared_data: Path, celery_worker: Any, wait: Callable[..., Any]
) -> None:
    first = celery_worker(AML_STALE_JOB_SECONDS=STALE_LIMIT)  # solo: the job runs in the worker
    ml = mnist_model(owner, shared_data)
    running = wait_until_training(wait, ml, first.log)
    assert running.claimed_by_pid == first.process.pid

    first.kill()
    assert MLModel.objects.get(pk=ml.pk).status == Status.INPROGRESS, "nobody is left to see it"
    second = celery_worker(AML_STALE_JOB_SECONDS=STALE_LIMIT)
    # The worker_ready signal runs before the worker logs "ready.", where celery_worker returns.
    row = MLModel.objects.get(pk=ml.pk)

    record(
        SUITE,
        "kill -9 of the whole worker, then a worker starts",
        tried=1,
        bad=int(row.is_active),
        bad_means=STUCK,
    )
    assert_failed_because_its_worker_stopped(row, running)
    assert "failed-redelivered" not in second.log()  # it was failed at start, not on a redelivery


def test_a_redelivered_job_whose_claiming_process_is_dead_is_failed_not_run(
    owner: Any, shared_data: Path, celery_worker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = celery_worker(AML_STALE_JOB_SECONDS=STALE_LIMIT)
    held: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", held.append)  # the first delivery never happens
    ds = data_source(
        owner, shared_data / "banking.csv", (shared_data / "banking.csv.schema").read_text()
    )
    claimant = a_process_that_has_exited()
    assert lifecycle.claim(DataSource, ds.pk, by=claimant) is not None
    assert held == [ds]

    dependencies.task_for(DataSource).delay(ds.pk)  # the delivery Celery makes after a worker loss
    deadline = time.monotonic() + FAILURE_TIMEOUT
    while DataSource.objects.get(pk=ds.pk).is_active and time.monotonic() < deadline:
        time.sleep(0.1)
    row = DataSource.objects.get(pk=ds.pk)

    record(
        SUITE,
        "redelivery of a job whose process is dead",
        tried=1,
        bad=int(row.is_active),
        bad_means=STUCK,
    )
    assert row.status == Status.FAILED, worker.log()
    assert row.message == lifecycle.WORKER_STOPPED
    assert f"process {claimant.pid} on {claimant.host}) is gone" in row.log
    assert row.records_count is None  # failed, not run a second time


def a_process_that_has_exited() -> Claimant:
    """The identity a real process had while it ran; it has exited since."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        claimant = Claimant(host=this_host(), pid=child.pid, start=process_start(child.pid) or "")
    finally:
        child.kill()
        child.wait()
    assert claimant.start and claimant.is_known_dead()
    return claimant


def test_a_graceful_stop_of_runconsole_during_a_training_leaves_no_process_and_no_job_running(
    owner: Any,
    shared_data: Path,
    celery_publisher: str,
    settings: Any,
    tmp_path: Path,
    transactional_db: None,
    wait: Callable[..., Any],
) -> None:
    log_file = tmp_path / "runconsole.log"
    env = console_process_env(
        celery_publisher, settings, tmp_path, AML_STALE_JOB_SECONDS=STALE_LIMIT
    )
    console = start_runconsole(env, log_file)
    family: list[psutil.Process] = []
    try:
        wait(
            lambda: "ready." in log_file.read_text(),
            timeout=60,
            what="runconsole's worker",
            step=0.1,
        )
        ml = mnist_model(owner, shared_data)
        wait_until_training(wait, ml, log_file.read_text)
        family += psutil.Process(console.pid).children(recursive=True)
        assert len(family) >= 3, "a worker, its pool process and the beat"

        console.send_signal(signal.SIGTERM)
        exit_code = console.wait(timeout=60)
    finally:
        leave_nothing_behind(console, family)
    alive = still_running(family, timeout=10)
    beats = [
        p
        for p in psutil.process_iter(["cmdline"])
        if is_our_beat(p.info["cmdline"] or [], tmp_path)
    ]
    row = MLModel.objects.get(pk=ml.pk)
    left = jobs_in_progress()

    record(
        SUITE, "SIGTERM to runconsole mid-training", tried=1, bad=int(bool(left)), bad_means=STUCK
    )
    assert exit_code == 0, log_file.read_text()
    assert alive == [] and beats == []
    assert left == []
    assert row.status == Status.FAILED
    assert row.message == lifecycle.CONSOLE_STOPPED


def start_runconsole(env: dict[str, str], log_file: Path) -> subprocess.Popen[bytes]:
    with log_file.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "manage.py", "runconsole", f"--addr=127.0.0.1:{free_port()}"]
            + ["--concurrency=1", "--stop-timeout=2"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so a failed test can kill whatever it left, as a group
        )


def is_our_beat(cmdline: list[str], data_dir: Path) -> bool:
    return "beat" in cmdline and any(str(data_dir) in part for part in cmdline)


def leave_nothing_behind(console: subprocess.Popen[bytes], family: list[psutil.Process]) -> None:
    """Whatever the outcome, no process of this test outlives it."""
    survivors = list(family)
    if console.poll() is None:
        survivors.append(psutil.Process(console.pid))
    for process in survivors:  # psutil checks it is the same process (pid and start) first
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    console.wait(timeout=10)

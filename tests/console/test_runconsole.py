"""`manage.py runconsole`: it refuses a taken address before it starts a worker it could not stop,
runs one beat beside its worker, and a stop leaves no process of either and no job In progress
(the whole stop, on a real worker, is in tests/reliability/test_worker_recovery.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from realservices import still_running

from console import lifecycle
from console.claimants import Claimant, process_start, this_host
from console.management.commands.runconsole import (
    beat_command,
    ensure_address_is_free,
    group_members,
    start_child,
    stop_children,
    stop_worker,
    worker_command,
)
from console.models import DataSource, Status


def test_it_refuses_an_address_already_in_use_with_a_clear_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot serve on 127.0.0.1:{port}.*another --addr"):
            ensure_address_is_free(f"127.0.0.1:{port}")


def test_it_accepts_a_free_address() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ensure_address_is_free(f"127.0.0.1:{port}")  # raises if the port were taken
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # and it did not keep the port for itself
        assert again.getsockname()[1] == port


def test_it_refuses_an_address_without_a_port() -> None:
    with pytest.raises(CommandError, match="host:port"):
        ensure_address_is_free("127.0.0.1:http")


def test_the_command_starts_no_worker_when_its_address_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started: list[object] = []
    monkeypatch.setattr(
        "console.management.commands.runconsole.subprocess.Popen",
        lambda *args, **kwargs: started.append(args),
    )
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match="cannot serve"):
            call_command("runconsole", "--addr", f"127.0.0.1:{port}")
    assert started == []


# --------------------------------------------------------------------------- its children and their stop

IGNORES_SIGTERM_WITH_A_CHILD = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"])
print(child.pid, flush=True)
time.sleep(60)
"""
EXITS_ON_SIGTERM = """
import signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
print("ready", flush=True)
time.sleep(60)
"""


def start_script(script: str) -> tuple[subprocess.Popen[bytes], int | None]:
    """Start `script` the way runconsole starts its worker; returns it and the pid it prints."""
    read, write = os.pipe()
    child = start_child([sys.executable, "-c", script], stdout=write)
    os.close(write)
    with os.fdopen(read) as out:
        first_line = out.readline().strip()
    return child, int(first_line) if first_line.isdigit() else None


def test_the_worker_runs_without_a_beat_and_the_one_beat_keeps_a_pidfile_in_the_data_folder(
    settings: Any,
) -> None:
    worker = worker_command(concurrency=2)
    beat = beat_command()
    assert "worker" in worker and "--beat" not in worker and "-B" not in worker
    assert beat[beat.index("-A") : beat.index("-A") + 3] == ["-A", "console", "beat"]
    schedule = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    assert f"--schedule={schedule}" in beat
    assert f"--pidfile={schedule.parent / 'celerybeat.pid'}" in beat


def test_a_stop_kills_a_child_that_ignores_sigterm_and_every_process_of_its_group() -> None:
    leader, grandchild_pid = start_script(IGNORES_SIGTERM_WITH_A_CHILD)
    assert grandchild_pid is not None
    grandchild = psutil.Process(grandchild_pid)
    assert group_members(leader.pid) == {leader.pid, grandchild_pid}

    stop_children([leader], timeout=0.5)

    assert leader.returncode == -signal.SIGKILL
    assert still_running([grandchild], timeout=10) == []


def test_a_stop_lets_a_child_that_exits_on_sigterm_finish_by_itself() -> None:
    leader, _ = start_script(EXITS_ON_SIGTERM)

    stop_children([leader], timeout=30)

    assert leader.returncode == 0  # a warm shutdown, not a kill


def test_the_children_stop_when_runconsole_itself_is_killed() -> None:
    parent, child_pid = start_script(
        "from console.management.commands.runconsole import start_child\n"
        "import sys, time\n"
        "child = start_child([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    assert child_pid is not None
    child = psutil.Process(child_pid)

    parent.kill()  # SIGKILL: runconsole's own stop never runs
    parent.wait()

    assert still_running([child], timeout=10) == []


@pytest.mark.django_db
def test_stopping_the_worker_fails_the_jobs_its_processes_claimed_and_only_those(
    owner: Any, tmp_path: Path
) -> None:
    leader, _ = start_script(EXITS_ON_SIGTERM)  # stands for the worker: warm-shuts on SIGTERM
    ours = a_claimed_datasource(owner, tmp_path, "ours", claimant_of_process(leader.pid))
    elsewhere = a_claimed_datasource(
        owner, tmp_path, "elsewhere", Claimant(host="another-host", pid=leader.pid, start="x")
    )
    # Dead too, but not a process of this worker: a worker starting here will fail it.
    not_ours = a_claimed_datasource(owner, tmp_path, "not-ours", A_PID_THAT_NEVER_RAN)

    assert stop_worker(leader, timeout=30) == 1

    ours.refresh_from_db()
    elsewhere.refresh_from_db()
    not_ours.refresh_from_db()
    assert not_ours.status == Status.INPROGRESS
    assert ours.status == Status.FAILED
    assert ours.message == "The console was stopped while this job ran. Create it again to retry."
    assert f"process {leader.pid} on {this_host()}) is gone" in ours.log
    assert elsewhere.status == Status.INPROGRESS  # not ours to judge: the sweep's


# Linux pids never exceed 2**22 (pid_max's ceiling).
A_PID_THAT_NEVER_RAN = Claimant(host=this_host(), pid=2**22 + 1, start="never")


def claimant_of_process(pid: int) -> Claimant:
    return Claimant(host=this_host(), pid=pid, start=process_start(pid) or "")


def a_claimed_datasource(owner: Any, folder: Path, name: str, claimant: Claimant) -> DataSource:
    ds = DataSource.objects.create(
        owner=owner,
        entity_id=f"ds-{name}",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3=str(folder / f"{name}.csv"),
    )
    claimed = lifecycle.claim(DataSource, ds.pk, by=claimant)
    assert claimed is not None
    return claimed

"""Which process claimed a job, and whether that process is still alive.

A claim records the host name, the pid and the start of the process running the job. The start
is the boot id and the process's start time in clock ticks since boot, both from /proc: a pid
reused by another process (after a reboot, or after many processes) then never passes for the
claimant. Only a claimant on this host can be checked; another host's jobs are left to the sweep
(`lifecycle.sweep_stale_jobs`).

Nothing here imports Django, so `runconsole` and the Celery signal handlers can use it freely.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


@dataclass(frozen=True)
class Claimant:
    host: str
    pid: int
    start: str

    @classmethod
    def this_process(cls) -> Claimant:
        pid = os.getpid()
        return cls(host=this_host(), pid=pid, start=process_start(pid) or "")

    def is_on_this_host(self) -> bool:
        return self.host == this_host()

    def is_known_dead(self) -> bool:
        """True only when the claimant ran on this host and that very process is gone."""
        return self.is_on_this_host() and process_start(self.pid) != self.start

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


def this_host() -> str:
    return socket.gethostname()


def process_start(pid: int) -> str | None:
    """`<boot id>:<start>` of a running process; None if there is none or it is a zombie."""
    if has_proc():
        return _linux_process_start(pid)
    return _portable_process_start(pid)


def has_proc() -> bool:
    return (PROC / "self" / "stat").exists()


def stat_fields(pid: int | str) -> list[str] | None:
    """Linux: the fields of /proc/<pid>/stat from the third on (state, ppid, pgrp, ...); None
    when there is no such process (or it exited while we looked)."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    return stat[stat.rindex(")") + 2 :].split()


def _linux_process_start(pid: int) -> str | None:
    fields = stat_fields(pid)
    if fields is None:
        return None
    state, start_ticks = fields[0], fields[19]
    if state in {"Z", "X"}:  # exited, not yet reaped by its parent: it runs nothing any more
        return None
    return f"{_boot_id()}:{start_ticks}"


def _boot_id() -> str:
    try:
        return (PROC / "sys" / "kernel" / "random" / "boot_id").read_text().strip()
    except OSError:
        return "unknown-boot"


def _portable_process_start(pid: int) -> str | None:
    """Without /proc (not Linux) only existence can be told: a reused pid passes for the claimant."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, as another user's process
    return "unknown"

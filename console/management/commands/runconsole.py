"""Run the whole console on one machine: a Celery worker, the beat that sweeps, the web server.

A stop (Ctrl-C, SIGTERM) leaves nothing behind and no job In progress. The worker and the beat
each run in a session of their own, so a signal reaches every process of one of them (the
worker's pool processes too) and none of the terminal's. The worker is asked for Celery's warm
shutdown and given `--stop-timeout` seconds to finish what it runs; then whatever is left of
either is killed, and a job the worker had claimed and did not finish is failed through
`lifecycle` with a message saying the console was stopped.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from console.claimants import PROC, has_proc, stat_fields

PR_SET_PDEATHSIG = 1


class Command(BaseCommand):
    help = "Start a Celery worker, the Celery beat and the web server on 127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--concurrency", type=int, default=2)
        parser.add_argument(
            "--stop-timeout",
            type=float,
            default=10.0,
            help="seconds a stop waits for running jobs before it kills the worker (default 10)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Checked before the worker starts: runserver failing on a taken port exits at once
        # (os._exit), without running the `finally` that stops the worker.
        ensure_address_is_free(options["addr"])
        for sig in (signal.SIGTERM, signal.SIGINT):
            if signal.getsignal(sig) is not signal.SIG_IGN:  # a background job keeps ignoring ^C
                signal.signal(sig, _exit_quietly)
        children: list[subprocess.Popen[bytes]] = []
        try:
            children.append(start_child(worker_command(options["concurrency"])))
            children.append(start_child(beat_command()))
            broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
            worker, beat = children
            self.stdout.write(
                f"Celery worker (pid {worker.pid}, broker: {broker}) and beat (pid {beat.pid}) started."
            )
            self.stdout.write(
                f"AML Console: http://{options['addr']}/  (Ctrl-C stops web and worker)"
            )
            call_command("runserver", options["addr"], use_reloader=False, use_threading=True)
        finally:
            if children:
                self.stdout.write(
                    f"Stopping: running jobs get {options['stop_timeout']:g} s to finish "
                    "(Ctrl-C again to stop them now)."
                )
                failed = stop_worker(*children, timeout=options["stop_timeout"])
                if failed:
                    self.stdout.write(f"Marked {failed} unfinished job(s) FAILED.")


def worker_command(concurrency: int) -> list[str]:
    # No --beat: the beat is a process of its own (beat_command), so stopping or scaling
    # workers never leaves a second beat behind.
    return celery_command(
        "worker",
        f"--concurrency={concurrency}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    )


def beat_command() -> list[str]:
    schedule = Path(settings.CELERY_BEAT_SCHEDULE_FILENAME)
    return celery_command(
        "beat",
        f"--schedule={schedule}",
        # One beat per data folder: a second console on it refuses to start another beat.
        f"--pidfile={schedule.with_name('celerybeat.pid')}",
    )


def celery_command(program: str, *options: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "console", program, "--loglevel=INFO", *options]


def start_child(command: list[str], **popen_options: Any) -> subprocess.Popen[bytes]:
    """Start `command` as the leader of a new session, to be stopped as a group."""
    return subprocess.Popen(
        command, start_new_session=True, preexec_fn=_die_with_parent, **popen_options
    )


def _die_with_parent() -> None:
    """Linux: the child gets SIGTERM if runconsole itself is killed (SIGKILL skips our stop)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: a killed runconsole leaves its children running


def _exit_quietly(*_: Any) -> None:
    raise SystemExit(0)


def stop_worker(
    worker: subprocess.Popen[bytes], *others: subprocess.Popen[bytes], timeout: float
) -> int:
    """Warm-shut the worker (and `others`, the beat, alongside), kill what is left of them, and
    fail the jobs the worker's processes had claimed. Returns how many were failed."""
    from console import lifecycle

    pids = group_members(worker.pid)
    stop_children([worker, *others], timeout=timeout)
    return lifecycle.fail_jobs_of_dead_workers(message=lifecycle.CONSOLE_STOPPED, pids=pids)


def stop_children(children: list[subprocess.Popen[bytes]], *, timeout: float) -> None:
    """SIGTERM each leader, wait up to `timeout` (a second Ctrl-C ends the wait), kill each group."""
    hurry: list[bool] = []
    previous = {
        sig: signal.signal(sig, lambda *_: hurry.append(True))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        for child in children:
            _signal_leader(child, signal.SIGTERM)
        _wait_until(lambda: all(_has_exited(c) for c in children) or bool(hurry), timeout)
        for child in children:
            # The leader is not reaped yet, so its pid (the group's id) cannot have been reused.
            _signal_group(child, signal.SIGKILL)
            child.wait()
        # SIGKILL is delivered asynchronously: wait until the killed are dead, so the jobs they
        # claimed are seen to have lost their process.
        _wait_until(lambda: not any(group_members(c.pid, live_only=True) for c in children), 10)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def group_members(pgid: int, *, live_only: bool = False) -> set[int]:
    """Pids of the processes in process group `pgid` (Linux /proc; just the leader elsewhere).

    `live_only` leaves out zombies: they have exited, and their reaper may be slow to reap.
    """
    if not has_proc():
        return set() if live_only else {pgid}
    members = set()
    for entry in PROC.iterdir():
        fields = stat_fields(entry.name) if entry.name.isdigit() else None
        if fields is None:
            continue  # not a process, or one that exited while we looked
        state, group = fields[0], int(fields[2])
        if group == pgid and not (live_only and state in {"Z", "X"}):
            members.add(int(entry.name))
    return members


def _has_exited(child: subprocess.Popen[bytes]) -> bool:
    """True once the leader exited, without reaping it (WNOWAIT)."""
    if child.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_leader(child: subprocess.Popen[bytes], sig: int) -> None:
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, sig)


def _signal_group(child: subprocess.Popen[bytes], sig: int) -> None:
    if child.returncode is None:
        # ProcessLookupError: the whole group is gone already
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def ensure_address_is_free(addr: str) -> None:
    host, _, port = addr.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, int(port)))
    except ValueError as exc:
        raise CommandError(f"--addr must be host:port, not {addr!r}") from exc
    except OSError as exc:
        raise CommandError(
            f"cannot serve on {addr}: {exc.strerror or exc}. Is the console already running? "
            "Stop it, or pass another --addr."
        ) from exc

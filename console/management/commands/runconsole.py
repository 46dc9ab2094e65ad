"""Run the whole console on one machine: a real Celery worker (with the sweep's beat) and the web server."""

from __future__ import annotations

import atexit
import signal
import socket
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start a Celery worker process and the web server on 127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        # Checked before the worker starts: runserver failing on a taken port would exit without
        # stopping a worker already running.
        ensure_address_is_free(options["addr"])
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "console",
                "worker",
                "--beat",
                "--loglevel=INFO",
                f"--concurrency={options['concurrency']}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}",
            ]
        )
        atexit.register(_stop, worker)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
        self.stdout.write(f"Celery worker started (pid {worker.pid}, broker: {broker}).")
        self.stdout.write(f"AML Console: http://{options['addr']}/  (Ctrl-C stops web and worker)")
        call_command("runserver", options["addr"], use_reloader=False, use_threading=True)


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


def _stop(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            worker.kill()

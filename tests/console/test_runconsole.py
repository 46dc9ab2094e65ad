"""`manage.py runconsole` refuses a taken address before it starts a worker it could not stop."""

from __future__ import annotations

import socket

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from console.management.commands.runconsole import ensure_address_is_free


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

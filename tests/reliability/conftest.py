"""Fixtures of the security suites: one user's objects of every kind, built without a worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from security_world import World, alice_world


@pytest.fixture
def world(owner: Any, enqueued: list[Any], monkeypatch: pytest.MonkeyPatch) -> World:
    return alice_world(owner, Client(), enqueued, monkeypatch)

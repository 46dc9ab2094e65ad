"""Fixtures shared by the console tests: the three personas and isolated file storage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# Real redis-server, Celery worker and S3 server fixtures, shared by integration and e2e tests.
pytest_plugins = ["realservices"]

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.fail(f"the shared data sets are missing: expected them in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_storage(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Give every Django test its own upload/media folder and a data root it may read."""
    if "settings" not in request.fixturenames and not _uses_django(request):
        return
    settings = request.getfixturevalue("settings")
    media = tmp_path / "files"
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    settings.MEDIA_ROOT = media
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    settings.AML_DATA_ROOTS = [datasets.resolve(), SHARED_DATA.resolve()]


def _uses_django(request: pytest.FixtureRequest) -> bool:
    return any(m.name in {"django_db"} for m in request.node.iter_markers()) or bool(
        {"client", "db", "transactional_db", "live_server"} & set(request.fixturenames)
    )


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Nothing goes to a worker: the objects whose job would have been sent, in order (tests run
    them by hand with `prediction_factories.run_all`, or check they stay PENDING)."""
    from console import dependencies

    sent: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", sent.append)
    return sent


@pytest.fixture
def owner(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(username="alice", password="correct horse 1")


@pytest.fixture
def stranger(django_user_model):  # type: ignore[no-untyped-def]
    return django_user_model.objects.create_user(username="mallory", password="correct horse 2")


@pytest.fixture
def owner_client(client, owner):  # type: ignore[no-untyped-def]
    client.force_login(owner)
    return client


@pytest.fixture
def stranger_client(client, stranger):  # type: ignore[no-untyped-def]
    client.force_login(stranger)
    return client

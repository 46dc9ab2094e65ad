"""docker-compose.yml and the Makefile must stay in step with the settings they drive."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_SOURCE = (ROOT / "console" / "settings.py").read_text()
READ_BY_BOTO3 = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_runs_the_production_shape_of_services() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "minio", "minio-init", "web", "worker"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert "celery -A console worker" in services["worker"]["command"]


def test_every_console_variable_in_compose_is_read_by_the_settings() -> None:
    env = compose()["services"]["web"]["environment"]
    unread = [
        name
        for name in env
        if name not in READ_BY_BOTO3 and not re.search(rf"[\"']{name}[\"']", SETTINGS_SOURCE)
    ]
    assert unread == []


def test_the_worker_and_web_share_database_broker_and_storage() -> None:
    services = compose()["services"]
    web, worker = services["web"]["environment"], services["worker"]["environment"]
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "AML_STORAGE", "AML_S3_BUCKET"):
        assert web[name] == worker[name]
    assert web["DATABASE_URL"].startswith("postgres://")
    assert web["CELERY_BROKER_URL"].startswith("redis://")


def test_the_readme_names_the_two_commands_the_ci_uses() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "make run" in readme and "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text()

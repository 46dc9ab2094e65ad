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
    assert {"postgres", "redis", "minio", "minio-init", "web", "worker", "beat"} <= set(services)
    assert "gunicorn" in services["web"]["command"]
    assert "celery -A console worker" in services["worker"]["command"]


def test_the_beat_is_a_service_of_its_own_so_scaling_workers_never_adds_a_beat() -> None:
    services = compose()["services"]
    commands = {
        name: " ".join(str(service.get("command", "")).split())
        for name, service in services.items()
    }
    assert "--beat" not in commands["worker"] and " -B" not in commands["worker"]
    assert [name for name, command in commands.items() if " beat" in command] == ["beat"]
    assert commands["beat"].startswith("celery -A console beat")
    assert services["beat"].get("deploy", {}).get("replicas", 1) == 1


def test_the_beat_keeps_its_schedule_on_a_volume() -> None:
    config = compose()
    beat = config["services"]["beat"]
    schedule = re.search(r"--schedule=(\S+)", beat["command"])
    assert schedule is not None
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in beat["volumes"]}
    folder = str(Path(schedule.group(1)).parent)
    assert folder in mounts
    assert mounts[folder] in config["volumes"]


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

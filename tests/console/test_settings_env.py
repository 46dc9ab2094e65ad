"""console.env: settings read from the environment, failing loudly on a bad value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.env import (
    ImproperSetting,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_paths,
    env_str,
)

ROOT = Path(__file__).resolve().parents[2]
BASE = Path("/srv/console")


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "on"])
def test_it_reads_true(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("AML_FLAG", raw)
    assert env_bool("AML_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off"])
def test_it_reads_false(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv("AML_FLAG", raw)
    assert env_bool("AML_FLAG", True) is False


def test_it_uses_the_default_for_an_unset_or_empty_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AML_FLAG", raising=False)
    assert env_bool("AML_FLAG", True) is True
    assert env_int("AML_FLAG", 7) == 7
    assert env_str("AML_FLAG", "x") == "x"
    monkeypatch.setenv("AML_FLAG", "")
    assert env_bool("AML_FLAG", True) is True
    assert env_int("AML_FLAG", 7) == 7


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_it_refuses_a_bad_boolean_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("AML_FLAG", raw)

    with pytest.raises(ImproperSetting, match=rf"AML_FLAG={raw!r} is not a boolean"):
        env_bool("AML_FLAG", False)


def test_it_reads_a_whole_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AML_COUNT", "42")
    assert env_int("AML_COUNT", 1, minimum=10) == 42


@pytest.mark.parametrize("raw", ["ten", "1.5", "1e3"])
def test_it_refuses_a_bad_number_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    monkeypatch.setenv("AML_COUNT", raw)

    with pytest.raises(ImproperSetting, match=r"AML_COUNT=.* is not a whole number"):
        env_int("AML_COUNT", 1)


def test_it_refuses_a_number_below_the_minimum(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AML_STALE_JOB_SECONDS", "5")

    with pytest.raises(ImproperSetting, match="AML_STALE_JOB_SECONDS=5 must be at least 10"):
        env_int("AML_STALE_JOB_SECONDS", 600, minimum=10)


def test_it_reads_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example , b.example,, ")
    assert env_list("ALLOWED_HOSTS", []) == ["a.example", "b.example"]


def test_it_reads_absolute_paths_and_refuses_relative_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AML_DATA_ROOTS", "/data/a:/data/b")
    assert env_paths("AML_DATA_ROOTS", []) == [Path("/data/a"), Path("/data/b")]

    monkeypatch.setenv("AML_DATA_ROOTS", "/data/a:relative/b")
    with pytest.raises(
        ImproperSetting, match="AML_DATA_ROOTS: 'relative/b' is not an absolute path"
    ):
        env_paths("AML_DATA_ROOTS", [])


# --------------------------------------------------------------------------- DATABASE_URL


def test_it_reads_an_absolute_sqlite_url() -> None:
    assert database_from_url("sqlite:////var/lib/aml/db.sqlite3", base_dir=BASE) == {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": "/var/lib/aml/db.sqlite3",
    }


def test_it_reads_a_relative_sqlite_url_from_the_base_folder() -> None:
    config = database_from_url("sqlite:///data/db.sqlite3", base_dir=BASE)

    assert config["NAME"] == str(BASE / "data" / "db.sqlite3")


def test_it_refuses_a_sqlite_url_without_a_file() -> None:
    with pytest.raises(ImproperSetting, match="names no SQLite file"):
        database_from_url("sqlite:///", base_dir=BASE)


def test_it_reads_a_postgres_url() -> None:
    config = database_from_url(
        "postgres://aml:p%40ss%2Fword@db.internal:5433/console?sslmode=require", base_dir=BASE
    )

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["NAME"] == "console"
    assert config["USER"] == "aml"
    assert config["PASSWORD"] == "p@ss/word"
    assert config["HOST"] == "db.internal"
    assert config["PORT"] == "5433"
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_a_kept_postgres_connection_is_checked_before_it_is_used_again() -> None:
    config = database_from_url("postgres://aml@db.internal/console", base_dir=BASE)

    assert config["CONN_MAX_AGE"] == 60
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.parametrize("scheme", ["postgresql", "pgsql"])
def test_it_accepts_the_other_postgres_spellings(scheme: str) -> None:
    config = database_from_url(f"{scheme}://u@localhost/aml", base_dir=BASE)

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["PORT"] == ""


def test_it_refuses_a_postgres_url_without_a_database() -> None:
    with pytest.raises(ImproperSetting, match="names no database"):
        database_from_url("postgres://u:p@localhost:5432/", base_dir=BASE)


@pytest.mark.parametrize("url", ["mysql://u:p@localhost/aml", "db.sqlite3", "redis://localhost/0"])
def test_it_refuses_an_unsupported_database_scheme(url: str) -> None:
    with pytest.raises(ImproperSetting, match="unsupported scheme"):
        database_from_url(url, base_dir=BASE)


# --------------------------------------------------------------------------- settings at start-up


def load_settings(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Import the settings in a fresh interpreter, the way `manage.py` or a worker would."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AML_", "DATABASE_URL"))}
    clean.update({"DJANGO_SETTINGS_MODULE": "console.settings", "AML_DATA_DIR": str(tmp_path)})
    clean.update(env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.STORAGES['default']['BACKEND'])"
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_stops_at_start_up_on_an_unknown_storage(tmp_path: Path) -> None:
    result = load_settings(tmp_path, AML_STORAGE="bogus")

    assert result.returncode != 0
    assert "ImproperSetting: AML_STORAGE='bogus': use 'local' or 's3'" in result.stderr


def test_it_stops_at_start_up_when_s3_storage_has_no_bucket(tmp_path: Path) -> None:
    result = load_settings(tmp_path, AML_STORAGE="s3", AML_S3_BUCKET="")

    assert result.returncode != 0
    assert "AML_STORAGE=s3 needs AML_S3_BUCKET" in result.stderr


def test_it_stops_at_start_up_on_a_bad_number(tmp_path: Path) -> None:
    result = load_settings(tmp_path, AML_STALE_JOB_SECONDS="soon")

    assert result.returncode != 0
    assert "AML_STALE_JOB_SECONDS='soon' is not a whole number" in result.stderr


def test_it_starts_with_the_embedded_defaults(tmp_path: Path) -> None:
    result = load_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django.core.files.storage.FileSystemStorage"
    assert (tmp_path / "secret_key").exists()


def test_it_switches_to_s3_storage_with_a_bucket(tmp_path: Path) -> None:
    result = load_settings(tmp_path, AML_STORAGE="s3", AML_S3_BUCKET="aml-files")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "storages.backends.s3.S3Storage"


def test_the_sweep_of_stale_jobs_runs_as_often_as_aml_sweep_interval_seconds_says() -> None:
    from django.conf import settings

    assert settings.CELERY_BEAT_SCHEDULE["sweep-stale-jobs"]["schedule"] == float(
        settings.AML_SWEEP_INTERVAL_SECONDS
    )


def test_it_stops_at_start_up_on_a_sweep_interval_below_a_second(tmp_path: Path) -> None:
    result = load_settings(tmp_path, AML_SWEEP_INTERVAL_SECONDS="0")

    assert result.returncode != 0
    assert "AML_SWEEP_INTERVAL_SECONDS=0 must be at least 1" in result.stderr

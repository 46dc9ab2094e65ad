"""Tiny helpers that read settings from the environment and fail loudly on a bad value."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse


class ImproperSetting(Exception):
    """An environment variable holds a value the console cannot use."""


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperSetting(f"{name}={raw!r} is not a boolean; use true or false")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperSetting(f"{name}={raw!r} is not a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperSetting(f"{name}={value} must be at least {minimum}")
    return value


def env_list(name: str, default: list[str], *, separator: str = ",") -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(separator) if item.strip()]


def env_paths(name: str, default: list[Path]) -> list[Path]:
    """Absolute folders, separated by the OS path separator (':' on Linux)."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    paths = [Path(p).expanduser() for p in raw.split(os.pathsep) if p.strip()]
    for path in paths:
        if not path.is_absolute():
            raise ImproperSetting(f"{name}: {str(path)!r} is not an absolute path")
    return paths


def database_from_url(url: str, *, base_dir: Path) -> dict[str, object]:
    """Turn `sqlite:///path` or `postgres://user:pass@host:port/name` into a DATABASES entry."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/or/absolute ; three slashes then the path.
        raw_path = unquote(url[len("sqlite://") :]).lstrip("/") if parsed.netloc == "" else ""
        path = Path("/" + raw_path) if url.startswith("sqlite:////") else base_dir / raw_path
        if not raw_path:
            raise ImproperSetting(f"DATABASE_URL={url!r} names no SQLite file")
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)}
    if parsed.scheme in {"postgres", "postgresql", "pgsql"}:
        if not parsed.path.strip("/"):
            raise ImproperSetting(f"DATABASE_URL={url!r} names no database")
        options = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parsed.path.lstrip("/")),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "OPTIONS": options,
            "CONN_MAX_AGE": 60,
            # A kept connection the server dropped (a restart, pg_terminate_backend, a failover)
            # is replaced before a request or task uses it, instead of failing that request.
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperSetting(
        f"DATABASE_URL={url!r}: unsupported scheme {parsed.scheme!r}; use sqlite:/// or postgres://"
    )

"""`manage.py check --deploy` under the production environment: no warning at all.

Production means DEBUG off, a real SECRET_KEY, the host names, and AML_HTTPS=true (browsers reach
the console over HTTPS, at a proxy or here): secure cookies, the redirect to https and HSTS follow.
The local run (`make run`, the tests: plain http://127.0.0.1 with DEBUG off) must keep none of them,
or the browser could not sign in; the check then warns about exactly those, which shows it looks.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks.registry import registry
from reliability_figures import record

pytestmark = [pytest.mark.reliability]

ROOT = Path(__file__).resolve().parents[2]
# Variables of the developer's or CI's shell that would change what is checked; the browser tests'
# conftest sets DJANGO_ALLOW_ASYNC_UNSAFE in this process (the check rightly refuses it in deployment).
OURS = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "AML_HTTPS",
    "AML_BEHIND_PROXY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)
HTTP_ONLY_WARNINGS = {"security.W004", "security.W008", "security.W012", "security.W016"}


def environment(data_dir: Path, **variables: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in OURS}
    env.update({"DJANGO_SETTINGS_MODULE": "console.settings", "AML_DATA_DIR": str(data_dir)})
    env.update(variables)
    return env


def production(data_dir: Path) -> dict[str, str]:
    return environment(
        data_dir,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="aml.example.com",
        CSRF_TRUSTED_ORIGINS="https://aml.example.com",
        AML_HTTPS="true",
    )


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def warnings_in(result: subprocess.CompletedProcess[str]) -> set[str]:
    return set(
        re.findall(r"\((security\.[WE]\d+|[a-z_]+\.[WE]\d+)\)", result.stdout + result.stderr)
    )


def settings_seen(env: dict[str, str], *names: str) -> list[str]:
    code = "from django.conf import settings; " + "; ".join(
        f"print(repr(settings.{name}))" for name in names
    )
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_the_production_environment_passes_the_deploy_check_without_a_warning(
    tmp_path: Path,
) -> None:
    result = deploy_check(production(tmp_path))
    found = warnings_in(result)
    record(
        "Security",
        "manage.py check --deploy",
        tried=len(registry.get_checks(include_deployment_checks=True)),
        bad=len(found),
        bad_means="deploy warnings",
        note="DEBUG off, AML_HTTPS=true",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert found == set()
    assert "no issues" in result.stdout


def test_the_local_http_run_keeps_cookies_and_urls_usable_over_plain_http(tmp_path: Path) -> None:
    local = environment(tmp_path, DEBUG="false")
    seen = settings_seen(
        local,
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
    )
    assert seen == ["False", "False", "False", "0"]
    # the deploy check sees exactly that: cookies not secure, no redirect, no HSTS
    assert warnings_in(deploy_check(local)) == HTTP_ONLY_WARNINGS


def test_each_https_setting_can_be_turned_back_by_its_own_variable(tmp_path: Path) -> None:
    """Behind a proxy that redirects itself, or while trying HSTS out with a short lifetime."""
    env = production(tmp_path) | {
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "300",
        "SECURE_HSTS_PRELOAD": "false",
        "AML_BEHIND_PROXY": "false",
    }
    seen = settings_seen(
        env,
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
    )
    assert seen == ["False", "300", "False", "None", "True"]

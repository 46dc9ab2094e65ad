"""The house style is checked with the tests, so a change that breaks it can't land."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if executable is None:
        pytest.fail(
            "ruff is not installed: it comes with the test extra (pip install -e '.[test]')"
        )
    return subprocess.run([executable, *args], cwd=ROOT, capture_output=True, text=True)


def test_the_code_passes_the_ruff_lint_rules() -> None:
    result = ruff("check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_ruff_formatted() -> None:
    result = ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr

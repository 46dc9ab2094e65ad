"""The house style is checked with the tests, so a change that breaks it can't land."""

from __future__ import annotations

import ast
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


def checks_something(test: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """An assert, pytest.raises/warns/fail, or a call of an assert_* helper in the test's own code
    (functions it defines inside, such as a Hypothesis check, included)."""
    for node in ast.walk(test):
        if isinstance(node, ast.Assert):
            return True
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = name or getattr(node.func, "id", "")
            if name in ("raises", "warns", "fail") or name.startswith("assert"):
                return True
    return False


def test_every_test_function_can_fail() -> None:
    silent = [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}"
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
        and not checks_something(node)
    ]
    assert silent == [], "test functions that check nothing:\n" + "\n".join(silent)

"""The examples in mlcore's docstrings run, so they stay true as the code changes."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import mlcore


def mlcore_modules() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.walk_packages(mlcore.__path__, prefix="mlcore.")
        if not info.name.endswith("__main__")
    )


@pytest.mark.parametrize("name", mlcore_modules())
def test_the_docstring_examples_of_each_mlcore_module_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"


def test_the_examples_are_found_at_all() -> None:
    attempted = sum(
        doctest.testmod(importlib.import_module(name)).attempted for name in mlcore_modules()
    )
    assert attempted > 50

"""Figures the reliability suites report, gathered into docs/reliability.md.

A suite calls ``record(...)`` for each check it makes. Nothing is kept unless the environment variable
``AML_RELIABILITY_FIGURES`` names a file: ``tests/reliability/report.py`` sets it, runs the suites and
renders the table, so an ordinary test run writes nothing. Records are appended as JSON lines, which
works from every process a suite starts; the report sums the figures of records with the same suite and
check (a parametrised test or a Hypothesis run records many times).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

FIGURES_ENV = "AML_RELIABILITY_FIGURES"


def record(suite: str, check: str, *, tried: int, bad: int, bad_means: str, note: str = "") -> None:
    """Add ``tried`` inputs (or requests, jobs, faults) of which ``bad`` went wrong to ``suite``/``check``.

    ``bad_means`` names what counts as going wrong ("HTTP 500s", "jobs stuck In progress",
    "cross-user leaks"...), so the table says what its zeros are zeros of.
    """
    target = os.environ.get(FIGURES_ENV)
    if not target:
        return
    line = {
        "suite": suite,
        "check": check,
        "tried": int(tried),
        "bad": int(bad),
        "bad_means": bad_means,
        "note": note,
    }
    with Path(target).open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")

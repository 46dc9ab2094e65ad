"""Run the reliability and security suites and write their figures to docs/reliability.md.

    make reliability        (or: .venv/bin/python tests/reliability/reliability_report.py)

Every test marked ``reliability`` runs once with ``AML_RELIABILITY_FIGURES`` pointing at a scratch
file; each check appends what it tried and what went wrong (tests/reliability_figures.py). The table
sums them per suite and check. A failing suite still gets its figures written, and the page says
how many tests failed, so a red run cannot pass for a green one.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from reliability_figures import FIGURES_ENV  # noqa: E402

DOC = ROOT / "docs" / "reliability.md"

INTRO = """\
# Reliability and security: the figures

What the reliability and security suites tried against the console, and how often it went wrong.
Every zero below is a count the suites made in their last run, not a claim: regenerate this page
with `make reliability` (about as long as those suites take), which runs every test marked
`reliability` and rewrites it. The suites also run in the ordinary `make test`.

- **Bad input**: generated input (Hypothesis) for every web form field, upload and JSON document,
  every API operation's input shapes derived from botocore's service model, the command line's
  options; and the hand-written corpus of broken files through the wizard and the API. Wrong means an
  HTTP 500, a traceback or an object left In progress.
- **Faults**: the production shape (PostgreSQL, Redis, two Celery workers and a separate beat,
  gunicorn, an S3 server) and the embedded console, with processes killed, stopped and cut off.
  Wrong means a job left In progress or ended without a message a person understands.
- **Security**: another user's objects through every page, download, fragment and API operation;
  login and CSRF on every form; login rate limiting; SigV4 replay and clock skew; the
  Content-Security-Policy in a real browser; `manage.py check --deploy`; secrets in logs.
"""


@dataclass
class Row:
    tried: int = 0
    bad: int = 0
    bad_means: str = ""
    notes: list[str] = field(default_factory=list)


def gather(lines: list[str]) -> dict[tuple[str, str], Row]:
    rows: dict[tuple[str, str], Row] = defaultdict(Row)
    for line in lines:
        if not line.strip():
            continue
        item = json.loads(line)
        row = rows[(item["suite"], item["check"])]
        row.tried += item["tried"]
        row.bad += item["bad"]
        row.bad_means = item["bad_means"]
        if item.get("note") and item["note"] not in row.notes:
            row.notes.append(item["note"])
    return dict(rows)


def render(rows: dict[tuple[str, str], Row], outcome: dict[str, int], seconds: float) -> str:
    commit = _git("rev-parse", "--short", "HEAD")
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    tests = ", ".join(f"{n:,} {what}" for what, n in outcome.items() if n) or "no tests ran"
    out = [INTRO, f"Last run: {when}, commit `{commit}`, {tests}, {seconds:.0f} s.\n"]
    out.append(_summary(rows))
    for suite in sorted({s for s, _ in rows}):
        out.append(f"\n## {suite}\n")
        out.append("| Check | Tried | Went wrong | What counts as wrong | Notes |")
        out.append("|---|---:|---:|---|---|")
        for (s, check), row in sorted(rows.items()):
            if s == suite:
                notes = "; ".join(row.notes).replace("|", "\\|")
                out.append(f"| {check} | {row.tried:,} | {row.bad:,} | {row.bad_means} | {notes} |")
    return "\n".join(out) + "\n"


def _summary(rows: dict[tuple[str, str], Row]) -> str:
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for (suite, _), row in rows.items():
        totals[suite][0] += 1
        totals[suite][1] += row.tried
        totals[suite][2] += row.bad
    lines = ["| Suite | Checks | Tried | Went wrong |", "|---|---:|---:|---:|"]
    for suite, (checks, tried, bad) in sorted(totals.items()):
        lines.append(f"| {suite} | {checks} | {tried:,} | {bad:,} |")
    return "\n".join(lines) + "\n"


def run_suites(figures: Path, junit: Path, extra: list[str]) -> int:
    env = {**os.environ, FIGURES_ENV: str(figures)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-m",
        "reliability",
        "-q",
        f"--junitxml={junit}",
        *extra,
    ]
    return subprocess.call(command, cwd=ROOT, env=env)


def outcome_of(junit: Path) -> dict[str, int]:
    if not junit.exists():
        return {}
    suites = ET.parse(junit).getroot().iter("testsuite")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    passed = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return {
        "tests passed": passed,
        "failed": counts["failures"],
        "errors": counts["errors"],
        "skipped": counts["skipped"],
    }


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DOC, help="where to write the page")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aml-reliability-") as scratch:
        figures, junit = Path(scratch) / "figures.jsonl", Path(scratch) / "junit.xml"
        figures.touch()
        started = time.monotonic()
        code = run_suites(figures, junit, args.pytest_args)
        seconds = time.monotonic() - started
        rows = gather(figures.read_text(encoding="utf-8").splitlines())
        args.out.write_text(render(rows, outcome_of(junit), seconds), encoding="utf-8")
    print(f"wrote {args.out} ({len(rows)} checks); pytest exit status {code}")
    return code


if __name__ == "__main__":
    sys.exit(main())

"""The report that turns the suites' recorded figures into docs/reliability.md."""

from __future__ import annotations

import json

import reliability_figures
from reliability_report import gather, render


def _line(suite: str, check: str, tried: int, bad: int, note: str = "") -> str:
    return json.dumps(
        {
            "suite": suite,
            "check": check,
            "tried": tried,
            "bad": bad,
            "bad_means": "HTTP 500s",
            "note": note,
        }
    )


def test_it_sums_the_figures_of_one_check_recorded_many_times() -> None:
    rows = gather([_line("Bad input", "login", 10, 0), _line("Bad input", "login", 5, 1), ""])
    assert (rows[("Bad input", "login")].tried, rows[("Bad input", "login")].bad) == (15, 1)


def test_it_writes_a_summary_line_per_suite_and_a_table_row_per_check() -> None:
    rows = gather(
        [_line("Security", "csrf", 25, 0), _line("Security", "login", 40, 2, note="a | b")]
    )
    page = render(rows, {"tests passed": 3, "failed": 1}, 12.0)
    assert "| Security | 2 | 65 | 2 |" in page
    assert "| login | 40 | 2 | HTTP 500s | a \\| b |" in page
    assert "3 tests passed, 1 failed" in page


def test_record_appends_nothing_unless_a_figures_file_is_named(tmp_path, monkeypatch) -> None:
    target = tmp_path / "figures.jsonl"
    monkeypatch.delenv(reliability_figures.FIGURES_ENV, raising=False)
    reliability_figures.record("S", "c", tried=1, bad=0, bad_means="x")
    assert not target.exists()
    monkeypatch.setenv(reliability_figures.FIGURES_ENV, str(target))
    reliability_figures.record("S", "c", tried=2, bad=1, bad_means="x")
    assert gather(target.read_text().splitlines())[("S", "c")].tried == 2

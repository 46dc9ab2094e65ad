"""console.spreadsheet_csv: CSV made for people, whose cells a spreadsheet must never run."""

from __future__ import annotations

import csv
import io

import pytest

from console.model_charts import confusion_csv
from console.spreadsheet_csv import spreadsheet_cell, spreadsheet_csv

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1+1)", '@HYPERLINK("http://x")', "-2+3", "\tx", "\rx"]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_gets_a_leading_quote(text: str) -> None:
    assert spreadsheet_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["setosa", "a=b", "1+1", "'quoted", "", "x-2"])
def test_ordinary_text_is_written_as_it_is(text: str) -> None:
    assert spreadsheet_cell(text) == text


@pytest.mark.parametrize("number", [-2, -0.5, 0, 17, 3.25])
def test_numbers_the_console_formats_stay_numbers_even_negative(number: float) -> None:
    assert spreadsheet_cell(number) is number
    assert spreadsheet_csv([[number]]).strip() == str(number)


def test_a_negative_number_given_as_text_is_user_text_and_quoted() -> None:
    assert spreadsheet_cell("-1") == "'-1"


def test_the_confusion_matrix_quotes_formula_class_names_and_keeps_its_counts() -> None:
    full = {"labels": ["=cmd|' /C calc'!A0", "+SUM(1+1)", "plain"], "counts": [[3, 0, 1]] * 3}

    rows = list(csv.reader(io.StringIO(confusion_csv(full))))

    assert rows[0] == ["true \\ predicted", "'=cmd|' /C calc'!A0", "'+SUM(1+1)", "plain"]
    assert [row[0] for row in rows[1:]] == ["'=cmd|' /C calc'!A0", "'+SUM(1+1)", "plain"]
    assert all(row[1:] == ["3", "0", "1"] for row in rows[1:])

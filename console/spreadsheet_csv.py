"""CSV files the console makes for people to open in a spreadsheet, safe from formula injection.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (``=cmd|' /C
calc'!A0``, ``=HYPERLINK(...)``), and some also after a leading tab or carriage return. Text from
users (class names, object names) goes into these files, so such a cell is written with a single
quote in front, as OWASP advises: the spreadsheet shows the text and runs nothing. Numbers the
console formats itself (ints and floats, negative ones included) are not user text and stay numbers.

Only files made for people go through here. Files that are data for programs stay byte for byte in
their documented format: the batch prediction results (the .gz files, their "Download as CSV" and
the manifest) are AML's format, and a SQL query's staged result is the datasource's input.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: Any) -> Any:
    """The value as a safe cell: user text that a spreadsheet would run gets a leading quote."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        text = "" if value is None else str(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


def spreadsheet_csv(rows: Iterable[Iterable[Any]]) -> str:
    """The rows as CSV text, every cell made safe by `spreadsheet_cell`."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_cell(value) for value in row])
    return out.getvalue()

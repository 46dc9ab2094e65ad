"""The datasource wizard's "SQL query" source in headless Chromium, against the live server.

A person picks the configured connection, types a query, previews its first rows, walks the
usual steps and creates the datasource; its statistics run on a real Celery worker.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect
from realservices import wait_for

from console.models import DataSource, Status

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
QUERY = "SELECT age, colour, label FROM people ORDER BY age"


@pytest.fixture
def warehouse(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (age INTEGER, colour TEXT, label INTEGER)")
        db.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            [(20 + i, "red" if i % 2 else "blue", i % 2) for i in range(30)],
        )
    settings.AML_SQL_CONNECTIONS = {"warehouse": f"sqlite:///{path}"}
    return path


def test_an_analyst_previews_a_sql_query_and_creates_a_datasource_from_it(
    browser_session: BrowserSession, owner: Any, warehouse: Path, celery_worker: Any
) -> None:
    session, page = browser_session, browser_session.page
    worker = celery_worker()
    session.details.append(lambda: f"worker log (tail):\n{worker.log()[-4000:]}")

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("input: the SQL query source, previewed"):
        page.goto(session.url("/datasources/new/"))
        page.get_by_role("radio", name="SQL query").check()
        expect(page.locator('section[data-source="upload"]')).to_be_hidden()
        expect(page.get_by_label("Database connection")).to_have_value("warehouse")
        page.get_by_role("textbox", name="SELECT query").fill(QUERY)
        page.locator("#sql-preview").click()
        preview = page.locator("#sql-preview-ok")
        expect(preview).to_contain_text("The query ran")
        expect(preview.locator("thead th")).to_have_text(["age", "colour", "label"])
        expect(preview.locator("tbody tr")).to_have_count(10)
        session.screenshot("input: SQL query previewed")
        page.get_by_label("Datasource name").fill("People from SQL")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/schema/$"))

    with session.step("schema, target, row id"):
        expect(page.locator("#sql-header-note")).to_be_visible()
        page.locator('tr[data-name="label"] select').select_option("BINARY")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/target/$"))
        page.locator('input[name="target"][value="label"]').check()
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/row-id/$"))
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/review/$"))

    with session.step("review and create"):
        expect(page.locator("dl.review").first).to_contain_text(QUERY)
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/datasources/ds-[A-Za-z0-9]+/$"))

    ds = wait_for(
        lambda: DataSource.objects.filter(status=Status.COMPLETED).first(),
        timeout=60,
        what="the SQL datasource's statistics",
    )
    assert ds.source_kind == DataSource.SourceKind.RDS
    assert ds.records_count == 30
    assert session.js_errors == []
    assert session.foreign_requests() == []

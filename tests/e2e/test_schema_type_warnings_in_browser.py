"""The schema step warns, per attribute, when the sampled values do not fit the chosen type.

adult.data with adult-train.csv.schema: its target is BINARY but holds "<=50K" and ">50K". The
warning must be on screen before anything is created, and follow the type chosen in the table.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PASSWORD = "correct horse 1"  # the `owner` fixture's


def test_the_type_warning_follows_the_type_chosen_in_the_schema_table(
    browser_session: BrowserSession, owner: Any
) -> None:
    session, page = browser_session, browser_session.page
    with session.step("sign in and read adult.data with its schema"):
        session.sign_in(owner.username, PASSWORD)
        page.goto(session.url("/datasources/new/"))
        page.get_by_role("radio", name="A file or folder on this server").check()
        page.locator("#id_server_path").fill(str(SHARED / "adult.data"))
        page.locator("#continue").click()
        page.locator("#replace-form input[type=file]").set_input_files(
            SHARED / "adult-train.csv.schema"
        )
        page.get_by_role("button", name="Use this schema").click()

    target = page.locator('tr[data-name="income-greater-50k"]')
    workclass = page.locator('tr[data-name="workclass"]')
    summary = page.locator("#type-warnings")
    with session.step("the binary target holding <=50K and >50K is warned about"):
        expect(target.locator("[data-type-warning]")).to_be_visible()
        expect(target.locator("[data-type-warning]")).to_contain_text(
            '20 of 20 sampled values would be invalid as Binary, e.g. "<=50K", ">50K"'
        )
        expect(summary).to_contain_text("income-greater-50k")
        expect(workclass.locator("[data-type-warning]")).to_be_hidden()

    with session.step("the warnings follow the types chosen"):
        target.locator("select").select_option("CATEGORICAL")
        workclass.locator("select").select_option("NUMERIC")
        expect(target.locator("[data-type-warning]")).to_be_hidden()
        expect(workclass.locator("[data-type-warning]")).to_contain_text(
            'would be invalid as Numeric, e.g. "State-gov"'
        )
        expect(summary).to_have_text(
            "Sampled values do not fit the chosen type of: workclass. See the warning on each."
        )

    assert session.js_errors == []

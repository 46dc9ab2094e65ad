"""The dashboard in headless Chromium at 1366 and 1024 px: sorting by a heading is kept across a
filter and the pager, a row's expander shows its facts and stays open while the table refreshes,
and an object created meanwhile (by a program, here the test) appears without a reload.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from console.models import DataSource, MLModel, Status

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's


def make_datasource(owner: Any, name: str, n: int) -> DataSource:
    return DataSource.objects.create(
        owner=owner,
        entity_id=f"ds-Browser{n:05d}",
        name=name,
        source_kind="path",
        data_location_s3="/data/x.csv",
        status=Status.COMPLETED,
        data_schema={"targetAttributeName": "y"},
    )


def first_names(page: Any, count: int) -> list[str]:
    return [
        page.locator("#object-table tr.object-row td:nth-child(3) a").nth(i).inner_text()
        for i in range(count)
    ]


@pytest.mark.parametrize("width", [1366, 1024])
def test_the_dashboard_sorts_expands_and_shows_new_objects_by_itself(
    browser_session: BrowserSession, owner: Any, width: int
) -> None:
    session, page = browser_session, browser_session.page
    page.set_viewport_size({"width": width, "height": 900})
    sources = [make_datasource(owner, f"Bank {n:02d}", n) for n in range(12)]
    MLModel.objects.create(
        owner=owner,
        entity_id="ml-Browser0001",
        name="Bank model",
        training_data_source=sources[0],
        ml_model_type="BINARY",
        status=Status.COMPLETED,
    )

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("sort by name, A to Z"):
        page.locator('th[data-sort-key="name"] a').click()
        expect(page.locator('th[data-sort-key="name"]')).to_have_attribute("aria-sort", "ascending")
        expect(page).to_have_url(re.compile(r"sort=name"))
        assert first_names(page, 3) == ["Bank 00", "Bank 01", "Bank 02"]

    with session.step("a row opens to its facts and links"):
        page.evaluate("window.notReloaded = true")
        page.get_by_label("Show the details of Bank 01").click()
        facts = page.locator("#object-table tr.facts-row:visible")
        expect(facts).to_have_count(1)
        expect(facts).to_contain_text("ds-Browser00001")
        expect(facts.get_by_role("link", name="Create (train) an ML model")).to_be_visible()
        box, table = facts.bounding_box(), page.locator("table.objects").bounding_box()
        assert box and table and box["x"] + box["width"] <= table["x"] + table["width"] + 1

    with session.step("an object created meanwhile appears, the row stays open, no reload"):
        make_datasource(owner, "Aardvark data", 99)
        expect(page.locator("#object-table tr.object-row").first).to_contain_text(
            "Aardvark data", timeout=8_000
        )
        expect(page.locator("#object-table tr.facts-row:visible")).to_contain_text(
            "ds-Browser00001"
        )
        assert page.evaluate("window.notReloaded") is True
        expect(page.locator("#object-table")).to_contain_text("1 - 10 of 14 Objects")

    with session.step("a filter keeps the sort"):
        page.get_by_label("Type").select_option("datasource")
        expect(page.locator("#object-table")).to_contain_text("1 - 10 of 13 Objects")
        expect(page).to_have_url(
            re.compile(r"type=datasource.*sort=name|sort=name.*type=datasource")
        )
        expect(page.locator('th[data-sort-key="name"]')).to_have_attribute("aria-sort", "ascending")
        assert first_names(page, 2) == ["Aardvark data", "Bank 00"]

    with session.step("the next page keeps the sort, reversed by a second click"):
        page.get_by_label("Next page").click()
        expect(page.locator("#object-table")).to_contain_text("11 - 13 of 13 Objects")
        assert first_names(page, 3) == ["Bank 09", "Bank 10", "Bank 11"]
        page.locator('th[data-sort-key="name"] a').click()
        expect(page.locator('th[data-sort-key="name"]')).to_have_attribute(
            "aria-sort", "descending"
        )
        assert first_names(page, 2) == ["Bank 11", "Bank 10"]
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"the page is {overflow}px wide at {width}px"
        assert page.evaluate("window.notReloaded") is True
        assert session.js_errors == []
        assert session.foreign_requests() == []

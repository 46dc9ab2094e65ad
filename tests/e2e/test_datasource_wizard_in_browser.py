"""The datasource wizard in headless Chromium, against the live server and a real Celery worker.

A person signs in, uploads banking.csv, walks Input → Schema → Target → Row ID → Review, creates
the datasource, watches its page update itself until the statistics are in, reads the insights
and finds the datasource on the dashboard. Nothing may be fetched from outside the live server.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from console.models import DataSource, Status

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BANKING = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "banking.csv"
PASSWORD = "correct horse 1"  # the `owner` fixture's
STATISTICS_TIMEOUT_MS = 90_000


def open_the_datasource_wizard(session: BrowserSession) -> None:
    page = session.page
    page.locator("details.create-menu summary").click()
    page.locator("details.create-menu").get_by_role("link", name="Datasource", exact=True).click()
    expect(page).to_have_url(session.url("/datasources/new/"))
    expect(page.get_by_role("heading", name="Input data")).to_be_visible()


def upload(session: BrowserSession, path: Path) -> None:
    page = session.page
    page.get_by_role("radio", name="Upload a file").check()
    page.locator("#upload-file").set_input_files(path)


def test_an_analyst_creates_a_datasource_from_banking_csv_and_reads_its_insights(
    browser_session: BrowserSession, owner: Any, celery_worker: Any
) -> None:
    if not BANKING.exists():
        pytest.fail(f"the shared data set is missing: {BANKING}")
    session, page = browser_session, browser_session.page
    # An older datasource of a similar name: the dashboard search must tell them apart by id.
    DataSource.objects.create(
        owner=owner,
        entity_id="ds-OlderCopy0001",
        name="Banking e2e (older copy)",
        source_kind="path",
        data_location_s3=str(BANKING),
        status=Status.COMPLETED,
    )

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("input: upload banking.csv"):
        open_the_datasource_wizard(session)
        upload(session, BANKING)
        expect(page.locator("#upload-progress")).to_be_visible()
        expect(page.locator("#upload-progress > div")).to_have_attribute(
            "style", re.compile(r"width:\s*100%")
        )
        expect(page.locator("#upload-message")).to_have_text(
            re.compile(r"^Uploaded banking\.csv \(\d+(\.\d)? MB\)\.$")
        )
        verified = page.locator("#verify-ok")
        expect(verified).to_contain_text("The validation is successful")
        expect(verified).to_contain_text("21 columns")
        expect(verified).to_contain_text("first line holds the column names")
        expect(page.locator("#continue")).to_be_enabled()
        page.get_by_label("Datasource name").fill("Banking e2e")
        session.screenshot("input: uploaded and verified")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/schema/$"))

    with session.step("schema: filter and change a type"):
        rows = page.locator("table.schema-table tbody tr")
        shown = page.locator("table.schema-table tbody tr:not(.hidden-row)")
        expect(rows).to_have_count(21)
        expect(shown).to_have_count(21)
        expect(page.locator('tr[data-name="age"] select')).to_have_value("NUMERIC")
        expect(page.locator('tr[data-name="y"] select')).to_have_value("BINARY")
        expect(page.locator('tr[data-name="age"] td.name')).to_have_text("age")

        page.locator("#attr-filter").fill("pdays")
        expect(shown).to_have_count(1)
        expect(shown.locator("td.name")).to_have_text("pdays")
        expect(page.locator("#schema-form [data-pager-info]")).to_have_text(
            "1 of 21 attributes match"
        )
        session.screenshot("schema filtered to pdays")
        page.locator("#attr-filter").fill("")
        expect(shown).to_have_count(21)

        campaign = page.locator('tr[data-name="campaign"] select')
        expect(campaign).to_have_value("NUMERIC")
        campaign.select_option("CATEGORICAL")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/target/$"))

    with session.step("target: y, binary classification"):
        expect(page.locator('input[name="target"][value="y"]')).to_be_checked()
        expect(page.locator("[data-implied-label]")).to_have_text("Binary classification")
        # The type chosen on the previous step is the one offered here.
        expect(page.locator('tr[data-name="campaign"]')).to_contain_text(
            "Multiclass classification"
        )
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/row-id/$"))

    with session.step("row id: no"):
        expect(page.locator('input[name="has_row_id"][value="no"]')).to_be_checked()
        expect(page.locator("#row-id-panel")).to_be_hidden()
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/review/$"))

    with session.step("review"):
        expect(page.locator("#review-target")).to_have_text(
            re.compile(r"^\s*y\s+Binary classification\s*$")
        )
        expect(page.locator("#review-row-id")).to_have_text("None")
        expect(page.locator("dl.review").first).to_contain_text("Banking e2e")
        schema = json.loads(page.locator(".schema-json pre").text_content() or "{}")
        types = {a["attributeName"]: a["attributeType"] for a in schema["attributes"]}
        assert types["campaign"] == "CATEGORICAL"
        assert types["age"] == "NUMERIC"
        assert schema["targetAttributeName"] == "y"
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/datasources/ds-[A-Za-z0-9]+/$"))

    entity_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    with session.step("datasource page: pending"):
        expect(page.locator(".messages")).to_contain_text(f"Created datasource {entity_id}")
        expect(page.locator("#ds-name")).to_have_text("Banking e2e")
        # No worker runs yet, so the job waits in Redis and the page must say so.
        expect(page.locator("#summary .status")).to_have_text("Pending")
        expect(page.locator("#ds-progress h2")).to_have_text("Pending")

    worker = celery_worker()
    session.details.append(lambda: f"worker log (tail):\n{worker.log()[-4000:]}")

    with session.step("datasource page: completed, by itself"):
        # htmx polls the progress panel and reloads the page once the job is over: no reload here.
        expect(page.locator("#summary .status")).to_have_text(
            "Completed", timeout=STATISTICS_TIMEOUT_MS
        )
        navigation = page.evaluate("performance.getEntriesByType('navigation')[0].type")
        assert navigation == "reload", "the page should have reloaded itself when the job ended"
        expect(page.locator("#ds-progress")).to_have_count(0)
        expect(page.locator("#failure")).to_have_count(0)

    with session.step("insights"):
        expect(page.locator("#target-distribution .js-plotly-plot .main-svg").first).to_be_visible()
        expect(page.locator("#target-distribution h3")).to_have_text("Target distribution: y")
        expect(page.locator("#data-summary")).to_contain_text("41,188")
        expect(page.locator("#insights")).to_contain_text("11.27%")
        numeric = page.locator(
            ".attribute-table", has=page.get_by_role("heading", name="Numeric attributes")
        )
        expect(numeric.get_by_role("cell", name="age", exact=True)).to_be_visible()

    with session.step("preview of age, 20 bins"):
        page.locator('button[data-preview="age"]').click()
        dialog = page.locator("#preview-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#preview-title")).to_have_text("Distribution of age")
        expect(page.locator("#preview-chart .main-svg").first).to_be_visible()
        bars = "document.getElementById('preview-chart').data[0].y"
        before = page.evaluate(f"{bars}.length")
        page.locator("#preview-bins").select_option("20")
        page.wait_for_function(f"{bars}.length === 20")
        assert before != 20, "the preview should open with another bin count than 20"
        assert page.evaluate(f"{bars}.reduce((a, b) => a + b, 0)") == 41188
        session.screenshot("preview of age with 20 bins")
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()

    with session.step("dashboard"):
        page.locator("nav.mainnav").get_by_role("link", name="Dashboard").click()
        expect(page).to_have_url(session.url("/"))
        # each object's row; its hidden row expander ("facts-row") follows it
        table = page.locator("#object-table tbody tr.object-row")
        expect(table).to_have_count(2)
        row = table.filter(has_text=entity_id)
        cells = row.locator("td")  # the checkbox, the expander, then AML's columns
        expect(cells.nth(2)).to_have_text("Banking e2e")
        expect(cells.nth(3)).to_have_text("Datasource")
        expect(cells.nth(4)).to_have_text(entity_id)
        expect(cells.nth(5)).to_have_text("Completed")

        page.locator("#object-search").fill(entity_id)
        expect(table).to_have_count(1)
        expect(table.first).to_contain_text("Banking e2e")
        expect(table.first).not_to_contain_text("older copy")
        expect(page).to_have_url(re.compile(rf"[?&]q={entity_id}(&|$)"))

    assert session.foreign_requests() == [], "the pages fetched something from another host"
    assert any(url.endswith("/static/vendor/plotly.min.js") for url in session.requested)
    assert session.js_errors == [], "the pages logged JavaScript errors"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"age,job,y\n34,services,0\n59,entrepr\xe9neur,1\n", "line 3: the file is not UTF-8"),
        (b"age,job,y\n", "contains a header but no records"),
    ],
    ids=["not-utf-8-on-line-3", "header-only"],
)
def test_a_malformed_upload_is_refused_on_the_input_step_with_a_clear_message(
    browser_session: BrowserSession, owner: Any, tmp_path: Path, content: bytes, message: str
) -> None:
    session, page = browser_session, browser_session.page
    broken = tmp_path / "broken.csv"
    broken.write_bytes(content)

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("upload the broken file"):
        open_the_datasource_wizard(session)
        upload(session, broken)
        expect(page.locator("#upload-message")).to_contain_text("Uploaded broken.csv")
        failed = page.locator("#verify-failed")
        expect(failed).to_contain_text("The validation failed.")
        expect(failed).to_contain_text(f"broken.csv{', ' if 'line' in message else ': '}{message}")

    with session.step("continue anyway"):
        page.locator("#continue").click()
        expect(page).to_have_url(session.url("/datasources/new/"))
        expect(page.locator("#input-form")).to_contain_text(message)

    assert not DataSource.objects.exists()
    assert session.foreign_requests() == []

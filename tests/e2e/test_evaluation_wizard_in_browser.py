"""The evaluation wizard in headless Chromium at 1366 and 1024 px: from a datasource's "Use this
datasource to → Evaluate an ML model", choose a model still training, see the datasource chosen
and why the others are not offered, name it, review, Create: the evaluation's page opens.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from console import dependencies
from console.models import DataSource, Evaluation, MLModel, Status

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's


def make_source(owner: Any, schema: dict[str, Any], entity_id: str, name: str) -> DataSource:
    return DataSource.objects.create(
        owner=owner,
        entity_id=entity_id,
        name=name,
        source_kind="path",
        data_location_s3="/data/banking.csv",
        status=Status.COMPLETED,
        data_schema=schema,
    )


@pytest.mark.parametrize("width", [1366, 1024])
def test_a_model_is_evaluated_on_a_new_datasource_through_the_wizard(
    browser_session: BrowserSession,
    owner: Any,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    width: int,
) -> None:
    monkeypatch.setattr(dependencies, "enqueue", lambda obj: None)  # no worker: it stays pending
    session, page = browser_session, browser_session.page
    page.set_viewport_size({"width": width, "height": 900})
    schema = json.loads((shared_data / "banking.csv.schema").read_text())
    training = make_source(owner, schema, "ds-Training0001", "banking 70%")
    make_source(owner, schema, "ds-NewMonth001", "banking, a new month")
    make_source(owner, {**schema, "targetAttributeName": "housing"}, "ds-Housing0001", "housing")
    MLModel.objects.create(
        owner=owner,
        entity_id="ml-Banking0001",
        name="Banking model",
        training_data_source=training,
        ml_model_type="BINARY",
        status=Status.INPROGRESS,
    )

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("Use this datasource to → Evaluate an ML model"):
        page.goto(session.url("/datasources/ds-NewMonth001/"))
        page.get_by_text("Use this datasource to").click()
        page.get_by_role("link", name="Evaluate an ML model").click()
        expect(page.locator("h1")).to_have_text("ML model to evaluate")
        page.get_by_label("Banking model").check()
        page.locator("#continue").click()

    with session.step("the datasource step: only the compatible one, the others with why"):
        expect(page.locator("h1")).to_have_text("Evaluation data")
        expect(page.locator('input[name="data_source"]')).to_have_count(1)
        expect(page.get_by_label("banking, a new month")).to_be_checked()
        page.locator("#not-offered summary").click()
        expect(page.locator("#not-offered")).to_contain_text("Its target is 'housing'")
        expect(page.locator("#not-offered")).to_contain_text("The ML model learned from it")
        width_now = page.evaluate("document.documentElement.scrollWidth")
        assert width_now <= width, f"the page is {width_now}px wide at {width}px"
        page.locator("#continue").click()

    with session.step("name, review, Create"):
        page.get_by_label("Evaluation name").fill("Banking, new month")
        page.locator("#continue").click()
        expect(page.locator("#review-datasource")).to_contain_text("ds-NewMonth001")
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/evaluations/ev-[^/]+/$"))
        ev = Evaluation.objects.get()
        assert ev.name == "Banking, new month" and ev.ml_model.entity_id == "ml-Banking0001"
        assert session.js_errors == []
        assert session.foreign_requests() == []

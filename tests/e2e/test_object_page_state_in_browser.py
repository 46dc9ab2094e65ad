"""Every part of an object's page shows the same state: when training starts while the page is
open, the summary stops saying Pending as the progress card starts counting passes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from console.models import DataSource, MLModel, Status

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "y",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "y", "attributeType": "BINARY"},
    ],
}


def test_the_summary_and_the_recipe_follow_the_progress_card_when_training_starts(
    browser_session: BrowserSession, owner: Any
) -> None:
    session, page = browser_session, browser_session.page
    ds = DataSource.objects.create(
        owner=owner,
        entity_id="ds-Ready0000001",
        name="ready",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3="/data/x.csv",
        data_schema=SCHEMA,
        status=Status.COMPLETED,
    )
    ml = MLModel.objects.create(
        owner=owner,
        entity_id="ml-Waiting00001",
        name="waiting",
        training_data_source=ds,
        ml_model_type="BINARY",
        status=Status.PENDING,
    )
    summary_status = page.locator("#summary .status")

    with session.step("a pending model's page"):
        session.sign_in(owner.username, PASSWORD)
        page.goto(session.url(f"/models/{ml.entity_id}/"))
        expect(summary_status).to_have_text("Pending")
        expect(page.locator("#recipe-pending")).to_contain_text("chosen when training starts")

    progress = {"phase": "training", "pass": 5, "passes": 10, "records": 900, "loss": [0.5]}
    MLModel.objects.filter(pk=ml.pk).update(
        status=Status.INPROGRESS, progress=progress, started_at=timezone.now()
    )
    with session.step("training starts while the page is open"):
        expect(page.locator("#ml-progress")).to_contain_text("pass 5 of 10", timeout=10_000)
        expect(summary_status).to_have_text("In progress")
        expect(page.locator("#recipe-pending")).not_to_contain_text("chosen when training starts")

    assert session.js_errors == []

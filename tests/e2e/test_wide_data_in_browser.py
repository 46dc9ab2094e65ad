"""Wide data and a many-class target in headless Chromium, against the live server and a real worker.

An MNIST-like file (300 pixel columns, a `label` of 12 unequal classes) goes through the datasource
wizard from a server path: the schema step changes the type of every attribute a filter matches,
on every page, in one go. Its insights page stays light (one page of each attribute table, with
only that page's previews) and draws its charts. A model trained by the Default path opens its
insights on the most frequent class, and its evaluation shows AML's confusion matrix: the top 9
classes and "others", with the full matrix to download. No page may log a JavaScript error.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from django.conf import settings
from playwright.sync_api import expect

from console.models import DataSource, Evaluation, MLModel

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
JOB_TIMEOUT_MS = 90_000
PIXELS = 300  # at least 300 rows: the schema table is posted packed in one field
CLASSES = 12  # more than 10: the confusion matrix collapses the rarest into "others"
RECORDS = 1_200


def write_wide_file(folder: Path) -> Path:
    """Pixels 0-255 where every 12th pixel lights up for its class; class c is rarer as c grows."""
    rng = np.random.default_rng(7)
    shares = np.arange(CLASSES, 0, -1, dtype=float)
    labels = rng.choice(CLASSES, size=RECORDS, p=shares / shares.sum())
    pixels = rng.integers(0, 60, size=(RECORDS, PIXELS))
    for column in range(PIXELS):
        pixels[labels == column % CLASSES, column] += 190
    path = folder / "wide-digits.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["label"] + [f"pixel{i}" for i in range(PIXELS)])
        writer.writerows(
            [int(label), *row] for label, row in zip(labels, pixels.tolist(), strict=True)
        )
    return path


def test_a_wide_many_class_file_goes_from_the_wizard_to_a_confusion_matrix_with_others(
    browser_session: BrowserSession,
    owner: Any,
    celery_worker: Any,
    wait: Callable[..., Any],
) -> None:
    session, page = browser_session, browser_session.page
    data = write_wide_file(Path(settings.AML_DATA_ROOTS[0]))
    worker = celery_worker()
    session.details.append(lambda: f"worker log (tail):\n{worker.log()[-4000:]}")

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("input: a server path"):
        page.goto(session.url("/datasources/new/"))
        page.locator('input[name="source"][value="path"]').check()
        page.locator("#id_server_path").fill(str(data))
        page.locator('section[data-source="path"] button.verify').click()
        expect(page.locator("#verify-ok")).to_contain_text(f"{PIXELS + 1} columns")
        page.get_by_label("Datasource name").fill("Wide digits")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/schema/$"))

    selects = "table.schema-table tbody select"
    categorical = f"Array.from(document.querySelectorAll('{selects}')).filter(s => s.value === 'CATEGORICAL').map(s => s.closest('tr').dataset.name)"
    with session.step("schema: change every matching attribute at once, on every page"):
        expect(page.locator("table.schema-table tbody tr:not(.hidden-row)")).to_have_count(25)
        page.locator("#attr-filter").fill("pixel2")  # pixel2, pixel20-29, pixel200-299
        expect(page.locator("[data-select-matching]")).to_have_text("Select all 111 matching")
        page.locator("[data-select-matching]").click()
        expect(page.locator("[data-selected-count]")).to_have_text("111 selected")
        page.locator("[data-bulk-type]").select_option("CATEGORICAL")
        page.locator("[data-bulk-apply]").click()
        changed = page.evaluate(categorical)
        assert len(changed) == 111 and "pixel299" in changed and "pixel3" not in changed
        session.screenshot("schema: 111 pixels made categorical")
        # Changed back the same way: pixels stay numeric, only the label is categorical.
        page.locator("[data-bulk-type]").select_option("NUMERIC")
        page.locator("[data-bulk-apply]").click()
        page.locator("[data-select-none]").click()
        expect(page.locator("[data-selected-count]")).to_have_text("0 selected")
        page.locator("#attr-filter").fill("label")
        page.locator('tr[data-name="label"] select').select_option("CATEGORICAL")
        assert page.evaluate(categorical) == ["label"]
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/datasources/new/[^/]+/target/$"))

    with session.step("target, row id, review, create"):
        page.locator('input[name="target"][value="label"]').check()
        expect(page.locator("[data-implied-label]")).to_have_text("Multiclass classification")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/row-id/$"))
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/review/$"))
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/datasources/ds-[A-Za-z0-9]+/$"))
        expect(page.locator("#summary .status")).to_have_text("Completed", timeout=JOB_TIMEOUT_MS)

    ds = DataSource.objects.get(owner=owner, name="Wide digits")
    with session.step("insights: light, drawn, one page of each table"):
        response = page.reload()
        assert response is not None
        html = response.text()
        assert len(html) < 400_000, f"the insights page weighs {len(html):,} bytes"
        for chart in ("#target-distribution", "#correlations"):
            expect(page.locator(f"{chart} .js-plotly-plot .main-svg").first).to_be_visible()
        bars = page.evaluate(
            "document.querySelector('#target-distribution .js-plotly-plot').data[0].x.length"
        )
        assert bars == CLASSES
        numeric = page.locator("#table-numeric")
        expect(numeric.locator("tbody tr")).to_have_count(25)
        expect(numeric.locator(".pager")).to_contain_text(f"1 - 25 of {PIXELS}")
        previews = json.loads(
            page.locator("#table-numeric script[type='application/json']").text_content() or "{}"
        )
        assert len(previews) == 25, "only the shown page's previews belong in the page"

    with session.step("model: default path"):
        page.goto(session.url(f"/models/new/?datasource={ds.entity_id}"))
        page.locator("#continue").click()
        expect(page.locator("#model-type")).to_have_text("Multiclass classification")
        page.get_by_label("ML model name").fill("ML model: Wide digits")
        page.get_by_label("Name this evaluation").fill("Evaluation: Wide digits")
        page.locator("#continue").click()
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/models/ml-[A-Za-z0-9]+/$"))
        expect(page.locator("#summary .status")).to_have_text("Completed", timeout=JOB_TIMEOUT_MS)

    with session.step("model insights: the most frequent class first"):
        options = page.locator("#output-select option")
        expect(options).to_have_count(CLASSES)
        expect(options.first).to_have_text(re.compile(r"^0 \(\d+ training records, \d+\.\d %\)$"))
        expect(page.locator("#weights h3")).to_have_text("Strongest features for class 0")
        expect(page.locator("#weights .js-plotly-plot .main-svg").first).to_be_visible()
        row = page.locator("#evaluations tbody tr")
        expect(row).to_contain_text("Completed", timeout=JOB_TIMEOUT_MS)

    ml = MLModel.objects.get(owner=owner)
    ev = Evaluation.objects.get(ml_model=ml)
    with session.step("evaluation: top 9 and others, the full matrix to download"):
        page.goto(session.url(f"/evaluations/{ev.entity_id}/"))
        expect(page.locator("#verdict")).to_contain_text("Average F1 score")
        headers = page.locator("#confusion-matrix thead th.predicted")
        expect(headers).to_have_count(10)
        expect(headers.last).to_have_text("others")
        expect(page.locator("#confusion-matrix tbody tr")).to_have_count(10)
        expect(page.locator("#per-class tbody tr")).to_have_count(CLASSES)
        link = page.get_by_role("link", name="Download the full matrix (CSV)")
        download = page.request.get(session.url(link.get_attribute("href") or ""))
        lines = download.text().strip().splitlines()
        assert download.ok and len(lines) == CLASSES + 1, lines[:3]

    assert session.js_errors == [], "the pages logged JavaScript errors"
    assert session.foreign_requests() == [], "the pages fetched something from another host"

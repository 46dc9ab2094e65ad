"""The ML model wizard in headless Chromium, against the live server and a real Celery worker.

A person with a completed banking datasource opens "Use this datasource to → Create (train) an ML
model", walks Input data → ML model settings (Default) → Review, creates the model, watches its
page until training is over, reads the loss curve and the evaluation's row, then opens the
evaluation: the AUC against its baseline and the score histograms and ROC curve drawn by Plotly.
Nothing may be fetched from outside the live server, and no page may log a JavaScript error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from playwright.sync_api import expect

from console.models import DataSource, Evaluation, MLModel, Status
from console.services.datasources import create_data_source_from_s3

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
JOB_TIMEOUT_MS = 90_000


def completed_banking_datasource(
    owner: Any, shared_data: Path, worker: Any, wait: Callable[..., Any]
) -> DataSource:
    """banking.csv with its schema, through the service, its statistics computed by the worker."""
    ds = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": str(shared_data / "banking.csv"),
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        data_source_name="Banking",
    )

    def finished() -> DataSource | None:
        if worker.process.poll() is not None:
            pytest.fail(f"the worker died:\n{worker.log()}")
        ds.refresh_from_db()
        return ds if ds.status in (Status.COMPLETED, Status.FAILED) else None

    wait(finished, timeout=JOB_TIMEOUT_MS / 1000, what="the datasource's statistics", step=0.2)
    assert ds.status == Status.COMPLETED, f"{ds.message}\n{worker.log()}"
    return ds


def test_an_analyst_trains_a_model_on_banking_by_the_default_path_and_reads_its_evaluation(
    browser_session: BrowserSession,
    owner: Any,
    shared_data: Path,
    celery_worker: Any,
    wait: Callable[..., Any],
) -> None:
    session, page = browser_session, browser_session.page
    worker = celery_worker()
    session.details.append(lambda: f"worker log (tail):\n{worker.log()[-4000:]}")
    ds = completed_banking_datasource(owner, shared_data, worker, wait)

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("datasource page: use it to create an ML model"):
        page.goto(session.url(f"/datasources/{ds.entity_id}/"))
        page.locator("details.use-menu summary").click()
        page.locator("details.use-menu").get_by_role(
            "link", name="Create (train) an ML model"
        ).click()
        expect(page).to_have_url(session.url(f"/models/new/?datasource={ds.entity_id}"))
        expect(page.get_by_role("heading", name="Input data")).to_be_visible()
        chosen = page.locator(f'input[name="data_source"][value="{ds.entity_id}"]')
        expect(chosen).to_be_checked()
        row = page.locator("table.ds-table tbody tr", has=chosen)
        expect(row).to_contain_text("Completed")
        expect(row).to_contain_text("Binary classification")
        page.locator("#continue").click()
        expect(page).to_have_url(re.compile(r"/models/new/[^/]+/settings/$"))

    with session.step("settings: default"):
        expect(page.locator("#model-type")).to_have_text("Binary classification")
        expect(page.get_by_label("Default (recommended)")).to_be_checked()
        page.get_by_label("ML model name").fill("ML model: Banking e2e")
        page.get_by_label("Name this evaluation").fill("Evaluation: Banking e2e")
        page.locator("#continue").click()
        # Default skips the recipe, advanced settings and evaluation steps.
        expect(page).to_have_url(re.compile(r"/models/new/[^/]+/review/$"))

    with session.step("review"):
        expect(page.locator("#review-name")).to_have_text("ML model: Banking e2e")
        expect(page.locator("#review-mode")).to_have_text("Default")
        expect(page.locator("#review-evaluation")).to_have_text(
            "Split the datasource sequentially: 70% for training, 30% for evaluation"
        )
        created = page.locator("#created-objects li")
        expect(created).to_have_count(4)
        expect(created.nth(0)).to_contain_text(
            "Banking_[percentBegin=0, percentEnd=70, strategy=sequential]"
        )
        page.locator("#create").click()
        expect(page).to_have_url(re.compile(r"/models/ml-[A-Za-z0-9]+/$"))

    ml = MLModel.objects.get(owner=owner)
    with session.step("model page: completed, by itself"):
        expect(page.locator("#ml-name")).to_have_text("ML model: Banking e2e")
        # htmx polls the progress panel and reloads the page when training is over.
        expect(page.locator("#summary .status")).to_have_text("Completed", timeout=JOB_TIMEOUT_MS)
        expect(page.locator("#ml-progress")).to_have_count(0)
        expect(page.locator("#summary")).to_contain_text("Binary")
        expect(page.locator("#loss-curve .js-plotly-plot .main-svg").first).to_be_visible()
        expect(page.locator("#weights")).to_contain_text("Largest positive weights")

    with session.step("model page: the evaluation's row fills in by itself"):
        evaluation_row = page.locator("#evaluations tbody tr")
        expect(evaluation_row).to_have_count(1)
        expect(evaluation_row).to_contain_text("Completed", timeout=JOB_TIMEOUT_MS)
        expect(evaluation_row).to_contain_text(re.compile(r"AUC: 0\.9\d\d \(baseline 0\.500\)"))

    ev = Evaluation.objects.get(ml_model=ml)
    with session.step("evaluation page"):
        evaluation_row.get_by_role("link", name="Evaluation: Banking e2e").click()
        expect(page).to_have_url(session.url(f"/evaluations/{ev.entity_id}/"))
        verdict = page.locator("#verdict")
        expect(verdict).to_contain_text(re.compile(r"AUC: 0\.9\d\d"))
        expect(verdict).to_contain_text("Baseline AUC: 0.500")
        expect(verdict.locator("strong").first).to_have_text(re.compile(r"good"))
        alerts = page.locator(".eval-alert")
        expect(alerts).to_have_count(5)  # AML's five, each ok or warning
        expect(alerts.first).to_contain_text("done on held-out data")
        expect(alerts.first).to_have_class(re.compile(r"\bok\b"))
        for chart in ("#score-histograms", "#roc"):
            expect(page.locator(f"{chart} .js-plotly-plot .main-svg").first).to_be_visible()
        drawn = page.evaluate("document.querySelector('#roc .js-plotly-plot').data.length")
        assert drawn >= 2, "the ROC chart should draw the model's curve and the random guess"
        expect(page.locator("#threshold-figures")).to_contain_text("True positives")

    ev.refresh_from_db()
    assert float(ev.performance_metrics["Properties"]["BinaryAUC"]) > 0.9
    assert session.js_errors == [], "the pages logged JavaScript errors"
    assert session.foreign_requests() == [], "the pages fetched something from another host"

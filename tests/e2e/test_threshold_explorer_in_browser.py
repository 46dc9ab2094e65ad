"""The binary threshold explorer in headless Chromium: every figure the page recomputes on a move
agrees with the engine (`threshold_metrics_from_counts`, `threshold_search`), with no request to
the server; Save and Reset persist through `update_ml_model`; no JavaScript error.

The evaluation is stored directly (the real metrics of 3,000 synthetic scores): what the page does
with it does not depend on how the job made it, and no worker is needed.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from console.models import DataSource, Evaluation, MLModel, Status
from mlcore.metrics.binary import binary_details, threshold_metrics_from_counts
from mlcore.metrics.threshold_search import (
    Costs,
    best_cost_threshold,
    find_cutoff,
    threshold_for_top_percent,
)

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
CUTOFFS = (0.0, 0.137, 0.5, 0.631, 0.77, 0.999, 1.0)


def stored_binary_evaluation(owner: Any) -> Evaluation:
    rng = np.random.default_rng(11)
    labels = rng.random(3000) < 0.25
    scores = np.clip(rng.normal(np.where(labels, 0.68, 0.32), 0.17), 0, 1)
    details = binary_details(scores, labels, 0.5)
    ds = DataSource.objects.create(
        owner=owner,
        entity_id="ds-ExplorerData1",
        name="Explorer data",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3="/data/explorer.csv",
        status=Status.COMPLETED,
    )
    ml = MLModel.objects.create(
        owner=owner,
        entity_id="ml-ExplorerModel",
        name="Explorer model",
        training_data_source=ds,
        ml_model_type="BINARY",
        status=Status.COMPLETED,
    )
    now = timezone.now()
    return Evaluation.objects.create(
        owner=owner,
        entity_id="ev-ExplorerEval1",
        name="Explorer evaluation",
        ml_model=ml,
        evaluation_data_source=ds,
        status=Status.COMPLETED,
        performance_metrics={"Properties": {"BinaryAUC": repr(details["auc"])}},
        details={
            "Baseline": {"Properties": {"BinaryAUC": "0.5"}},
            "Alerts": [],
            "Details": details,
            "RecordCount": 3000,
            "InvalidRecordCount": 0,
        },
        started_at=now - timedelta(seconds=5),
        finished_at=now,
    )


def shown(page: Any) -> dict[str, Any]:
    """Every figure the page shows at its cut-off, read from the DOM as a person reads it."""
    figures: dict[str, Any] = {}
    for name in ("tp", "fn", "fp", "tn"):
        figures[name] = int(page.locator(f"#m-{name} strong").inner_text().replace(",", ""))
    for name in ("accuracy", "precision", "recall", "false_positive_rate", "f1"):
        figures[name] = page.locator(f'dt[data-metric="{name}"] + dd').inner_text()
    figures["percent"] = page.locator("#m-percent").inner_text()
    figures["sentence"] = page.locator("#m-sentence").inner_text()
    return figures


def assert_page_agrees_with_engine(page: Any, counts: dict[str, Any], threshold: float) -> None:
    expected = threshold_metrics_from_counts(counts, threshold)
    figures = shown(page)
    for name in ("tp", "fn", "fp", "tn"):
        assert figures[name] == expected[name], (threshold, name)
    undefined = {
        "precision": ("tp", "fp"),
        "recall": ("tp", "fn"),
        "false_positive_rate": ("fp", "tn"),
    }
    for name in ("accuracy", "precision", "recall", "false_positive_rate", "f1"):
        pair = undefined.get(name)
        if pair and expected[pair[0]] + expected[pair[1]] == 0:
            assert figures[name].startswith("—"), (threshold, name, figures[name])
        else:
            assert abs(float(figures[name]) - expected[name]) <= 0.0005, (threshold, name)
    assert figures["percent"].startswith(f"{expected['percent_predicted_positive']:.1f}%")
    n = expected["tp"] + expected["tn"] + expected["fp"] + expected["fn"]
    correct = math.floor(100 * (expected["tp"] + expected["tn"]) / n + 0.5)
    assert figures["sentence"].startswith(f"{correct} % correct, {100 - correct} % incorrect, ")
    assert f"{expected['fp']:,} false positive" in figures["sentence"]
    assert f"{expected['fn']:,} false negative" in figures["sentence"]


def open_explorer(session: BrowserSession, owner: Any, ev: Evaluation, query: str = "") -> Any:
    session.sign_in(owner.username, PASSWORD)
    page = session.page
    page.goto(session.url(f"/evaluations/{ev.entity_id}/{query}"))
    page.wait_for_function("() => window.thresholdExplorer !== undefined")
    return page


def set_slider(page: Any, value: float) -> None:
    """As a dragged slider does: set the value, fire `input`."""
    page.locator("#threshold-slider").evaluate(
        "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
        f"{value:.3f}",
    )


def test_every_figure_follows_the_slider_and_agrees_with_the_engine_without_a_request(
    browser_session: BrowserSession, owner: Any
) -> None:
    session = browser_session
    ev = stored_binary_evaluation(owner)
    counts = ev.details["Details"]["score_counts"]
    with session.step("open the evaluation"):
        page = open_explorer(session, owner, ev)
        assert_page_agrees_with_engine(page, counts, 0.5)
        for chart in ("scores", "roc", "pr", "cost", "calibration", "gains"):
            expect(page.locator(f"#explorer-{chart} .main-svg").first).to_be_attached()
    requests_before = len(session.requested)
    with session.step("move the slider to several cut-offs"):
        for cutoff in CUTOFFS:
            set_slider(page, cutoff)
            assert page.locator("#threshold-number").input_value() == f"{cutoff:.3f}"
            assert_page_agrees_with_engine(page, counts, cutoff)
            label = f"{cutoff:.3f}".rstrip("0").rstrip(".") or "0"
            expect(page.locator("#save-threshold")).to_have_text(f"Save score threshold at {label}")
    with session.step("type in the number box"):
        page.locator("#threshold-number").fill("0.42")
        assert float(page.locator("#threshold-slider").input_value()) == 0.42
        assert_page_agrees_with_engine(page, counts, 0.42)
    with session.step("a number box outside 0 to 1 says so and moves nothing"):
        page.locator("#threshold-number").fill("1.5")
        expect(page.locator("#threshold-problem")).to_have_text("Give a cut-off between 0 and 1.")
        assert_page_agrees_with_engine(page, counts, 0.42)
        page.locator("#threshold-number").fill("0.42")
        expect(page.locator("#threshold-problem")).to_be_hidden()
    with session.step("arrow keys move the slider by 0.001"):
        page.locator("#threshold-slider").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        assert page.locator("#threshold-number").input_value() == "0.422"
        assert_page_agrees_with_engine(page, counts, 0.422)
    with session.step("the cut-off line sits on the histogram's axis at the cut-off"):
        for cutoff in (0.2, 0.8):
            set_slider(page, cutoff)
            line = page.locator("#explorer-scores .explorer-overlay line").bounding_box()
            tick = page.locator("#explorer-scores .xtick text", has_text=f"{cutoff}")
            box = tick.bounding_box()
            assert line and box
            assert abs(line["x"] + line["width"] / 2 - (box["x"] + box["width"] / 2)) < 2
        dot = page.locator("#explorer-roc .explorer-overlay circle")
        expect(dot).to_be_visible()
    with session.step("the page says when the cut-off is not the saved one"):
        expect(page.locator("#unsaved-note")).to_be_visible()
        set_slider(page, 0.5)
        expect(page.locator("#unsaved-note")).to_be_hidden()
        set_slider(page, 0.422)
    assert session.requested[requests_before:] == [], "a move asked the server for something"
    with session.step("the address follows the cut-off, to share the view"):
        expect(page).to_have_url(re.compile(r"\?threshold=0\.422$"))
    assert session.js_errors == []


def test_top_percent_find_a_cutoff_and_the_cost_optimum_land_where_the_engine_says(
    browser_session: BrowserSession, owner: Any
) -> None:
    session = browser_session
    ev = stored_binary_evaluation(owner)
    counts = ev.details["Details"]["score_counts"]
    page = open_explorer(session, owner, ev)

    def cutoff() -> float:
        return float(page.locator("#threshold-number").input_value())

    with session.step("predict the top X % as 1"):
        for percent in (10, 25, 33.3):
            page.locator("#top-percent").fill(str(percent))
            page.locator("#top-apply").click()
            assert cutoff() == pytest.approx(threshold_for_top_percent(counts, percent), abs=1e-9)
            assert_page_agrees_with_engine(page, counts, cutoff())
    with session.step("find a cut-off for a goal"):
        for metric, target in (("precision", 0.9), ("recall", 0.8), ("false_positive_rate", 0.05)):
            page.locator("#goal-metric").select_option(metric)
            page.locator("#goal-value").fill(str(target))
            page.locator("#goal-find").click()
            engine = find_cutoff(counts, metric, target)
            assert engine.found
            assert cutoff() == pytest.approx(engine.threshold, abs=1e-9), metric
            expect(page.locator("#goal-result")).to_contain_text("Cut-off")
    with session.step("a goal no cut-off reaches says so"):
        page.locator("#goal-metric").select_option("precision")
        page.locator("#goal-value").fill("1.5")
        page.locator("#goal-find").click()
        expect(page.locator("#goal-result")).to_have_text("No cut-off reaches precision ≥ 1.5.")
    with session.step("costs: the best cut-off is the engine's, and 'use this cut-off' sets it"):
        page.locator("#cost-fp").fill("1")
        page.locator("#cost-fn").fill("6")
        page.locator("#gain-tp").fill("0.5")
        best, cost = best_cost_threshold(counts, Costs(1, 6, 0.5, 0))
        label = f"{best:.3f}".rstrip("0").rstrip(".")
        expect(page.locator("#cost-best")).to_contain_text(f"Best cut-off: {label},")
        expect(page.locator("#cost-best")).to_contain_text(f"{abs(cost):.4f} per record")
        page.locator("#cost-use").click()
        assert cutoff() == pytest.approx(best, abs=1e-9)
    assert session.js_errors == []


def test_save_persists_the_threshold_the_model_page_shows_and_reset_restores_half(
    browser_session: BrowserSession, owner: Any
) -> None:
    session = browser_session
    ev = stored_binary_evaluation(owner)
    page = open_explorer(session, owner, ev)
    with session.step("save a cut-off of 0.77"):
        set_slider(page, 0.77)
        page.locator("#save-threshold").click()
        expect(page.locator(".messages")).to_contain_text("Saved score threshold 0.77")
        expect(page.locator("#saved-threshold strong")).to_have_text("0.77")
    ml = MLModel.objects.get(entity_id="ml-ExplorerModel")
    assert ml.score_threshold == pytest.approx(0.77)
    assert ml.score_threshold_last_updated_at is not None
    with session.step("the model page shows the saved threshold"):
        page.goto(session.url(f"/models/{ml.entity_id}/"))
        expect(page.locator("dt", has_text="Score threshold").locator("+ dd")).to_contain_text(
            "0.77"
        )
    with session.step("reset to 0.5"):
        page.goto(session.url(f"/evaluations/{ev.entity_id}/?threshold=0.3"))
        page.locator("#reset-threshold").click()
        expect(page.locator("#saved-threshold strong")).to_have_text("0.5")
    ml.refresh_from_db()
    assert ml.score_threshold == pytest.approx(0.5)
    assert session.js_errors == []


def test_the_explorer_fits_a_1024_pixel_window(browser_session: BrowserSession, owner: Any) -> None:
    session = browser_session
    ev = stored_binary_evaluation(owner)
    session.page.set_viewport_size({"width": 1024, "height": 900})
    page = open_explorer(session, owner, ev)
    with session.step("nothing is wider than the window"):
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 1024
        for chart in ("scores", "roc", "pr", "cost", "calibration", "gains"):
            box = page.locator(f"#explorer-{chart}").bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 1024, chart
    assert session.js_errors == []

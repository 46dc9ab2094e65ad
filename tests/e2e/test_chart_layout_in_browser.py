"""Every Plotly chart the console draws, in headless Chromium at 1366 and 1024 px: no legend box
overlaps its plot area, and the score histogram gives each class its own scale.

The objects are made by the real services and jobs, run in the test's process (no worker), and
two stored evaluations feed the comparison page.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from evaluation_factories import completed_evaluation
from prediction_factories import banking_model, run_all, wine_model

from console import dependencies
from console.services.evaluations import create_evaluation

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's
WIDTHS = (1366, 1024)

# For every drawn chart: its id or figure name, its legend's box and its plot areas' boxes.
CHART_BOXES_JS = """() => [...document.querySelectorAll('.js-plotly-plot')].map((gd) => {
  const box = (el) => { const r = el.getBoundingClientRect();
    return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const legend = gd.querySelector('.legend');
  return {
    name: gd.id || gd.dataset.figure || '?',
    legend: legend && legend.getBoundingClientRect().width > 0 ? box(legend) : null,
    plots: [...gd.querySelectorAll('.nsewdrag')].map(box),
  };
})"""

# Plotly draws after the deferred scripts run: wait until every chart container holds a plot.
CHARTS_DRAWN_JS = """() => {
  const charts = [...document.querySelectorAll('.chart')].filter((c) => c.offsetParent !== null);
  return charts.length > 0 && charts.every((c) => c.querySelector('.main-svg'));
}"""


def overlap(a: dict[str, float], b: dict[str, float]) -> float:
    """The area two boxes share (0 when they only touch)."""
    width = min(a["right"], b["right"]) - max(a["left"], b["left"])
    height = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return max(width, 0) * max(height, 0)


def legends_over_plots(page: Any) -> list[str]:
    found = []
    for chart in page.evaluate(CHART_BOXES_JS):
        for plot in chart["plots"]:
            if chart["legend"] and overlap(chart["legend"], plot) > 1:
                found.append(f"{chart['name']}: legend {chart['legend']} over plot {plot}")
    return found


@pytest.fixture
def pages(owner: Any, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The pages that draw charts: a datasource, two models, a binary evaluation, a comparison."""
    sent: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", sent.append)
    banking = banking_model(owner, shared_data, records=3000)
    ev = create_evaluation(
        owner,
        ml_model_id=banking.entity_id,
        evaluation_data_source_id=banking.training_data_source.entity_id,
    )
    wine = wine_model(owner, shared_data, "REGRESSION")
    run_all(sent)
    compared = [completed_evaluation(owner, "BINARY", n) for n in (1, 2)]
    return {
        "datasource": f"/datasources/{banking.training_data_source.entity_id}/",
        "binary model": f"/models/{banking.entity_id}/",
        "regression model": f"/models/{wine.entity_id}/",
        "binary evaluation": f"/evaluations/{ev.entity_id}/",
        "comparison": "/evaluations/compare/?ids=" + ",".join(e.entity_id for e in compared),
    }


def test_no_legend_overlaps_its_plot_at_1366_and_1024_px(
    browser_session: BrowserSession, owner: Any, pages: dict[str, str]
) -> None:
    session, page = browser_session, browser_session.page
    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)
    seen: set[str] = set()
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for name, path in pages.items():
            with session.step(f"{name} at {width} px"):
                page.goto(session.url(path))
                page.wait_for_function(CHARTS_DRAWN_JS)
                assert legends_over_plots(page) == []
                seen.update(c["name"] for c in page.evaluate(CHART_BOXES_JS) if c["legend"])
    # the charts with a legend were all drawn and checked
    assert {"explorer-scores", "explorer-roc", "explorer-gains"} <= seen, seen
    assert {"fig-compare", "fig-missing"} & seen, seen
    assert session.js_errors == []


def test_each_class_of_the_score_histogram_reaches_the_top_of_its_own_scale(
    browser_session: BrowserSession, owner: Any, pages: dict[str, str]
) -> None:
    session, page = browser_session, browser_session.page
    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)
    page.set_viewport_size({"width": 1024, "height": 900})
    with session.step("binary evaluation's score histogram"):
        page.goto(session.url(pages["binary evaluation"]))
        page.wait_for_function(CHARTS_DRAWN_JS)
        tallest = page.evaluate(
            """() => {
              const gd = document.querySelector('#explorer-scores, [data-figure="fig-scores"]');
              const plot = gd.querySelector('.nsewdrag').getBoundingClientRect();
              return [...gd.querySelectorAll('.trace.bars')].map((trace) => {
                const tops = [...trace.querySelectorAll('path')]
                  .map((p) => p.getBoundingClientRect()).filter((r) => r.height > 0)
                  .map((r) => r.top);
                return (plot.bottom - Math.min(...tops)) / plot.height;
              });
            }"""
        )
        # both classes' tallest bars fill most of the plot's height, each on its own axis
        assert len(tallest) == 2 and min(tallest) > 0.85, tallest


# Elements that must stay on one line: ids, and the confusion matrix's "False positives 284".
# An element's line count is the number of distinct tops among its text's boxes.
LINES_JS = """(selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.offsetParent !== null)
  .map((el) => {
    const range = document.createRange();
    range.selectNodeContents(el);
    const tops = [...range.getClientRects()].filter((r) => r.width > 0).map((r) => r.top);
    const lines = tops.filter((t, i) => tops.every((u, j) => j >= i || Math.abs(t - u) > 6));
    return {text: el.textContent.trim(), lines: lines.length};
  })"""


def wrapped(page: Any, selector: str) -> tuple[int, list[str]]:
    found = page.evaluate(LINES_JS, selector)
    return len(found), [f"{e['text']!r} on {e['lines']} lines" for e in found if e["lines"] > 1]


def test_ids_metric_labels_and_recipes_stay_in_their_boxes_at_1366_and_1024_px(
    browser_session: BrowserSession, owner: Any, pages: dict[str, str]
) -> None:
    session, page = browser_session, browser_session.page
    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        with session.step(f"binary evaluation at {width} px: ids and the four counts"):
            page.goto(session.url(pages["binary evaluation"]))
            ids, wrapped_ids = wrapped(page, "code.id")
            counts, wrapped_counts = wrapped(page, "table.counts td")
            assert ids >= 3 and wrapped_ids == []
            assert counts == 4 and wrapped_counts == []
            beside = page.evaluate(
                """() => { const table = document.querySelector('table.counts');
                  const a = table.getBoundingClientRect();
                  return [...table.parentElement.children].filter((el) => el !== table)
                    .map((el) => el.getBoundingClientRect())
                    .filter((b) => a.left < b.right && b.left < a.right
                                   && a.top < b.bottom && b.top < a.bottom).length; }"""
            )
            assert beside == 0  # the one-line counts push their neighbour over, never under it
        with session.step(f"binary model at {width} px: ids and its recipe"):
            page.goto(session.url(pages["binary model"]))
            ids, wrapped_ids = wrapped(page, "code.id")
            assert ids >= 2 and wrapped_ids == []
            # the Training card's values break between words at most, never inside one
            values = page.evaluate(LINES_JS, "#training-summary dd")
            assert values and all(v["lines"] <= len(v["text"].split()) for v in values), values
            recipe = page.evaluate(
                """() => { const pre = document.querySelector('pre.recipe');
                  const card = pre.closest('.card').getBoundingClientRect();
                  return {scroll: pre.scrollWidth, client: pre.clientWidth,
                          right: pre.getBoundingClientRect().right, card: card.right}; }"""
            )
            assert recipe["scroll"] <= recipe["client"] + 1, recipe  # no line runs out of it
            assert recipe["right"] <= recipe["card"] + 1, recipe


def test_the_categorical_preview_lists_its_counts_and_every_preview_titles_its_axes(
    browser_session: BrowserSession, owner: Any, pages: dict[str, str]
) -> None:
    session, page = browser_session, browser_session.page
    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)
    page.set_viewport_size({"width": 1024, "height": 900})
    page.goto(session.url(pages["datasource"]))
    with session.step("preview of job (categorical): chart, axis titles, counts table"):
        page.locator('button[data-preview="job"]').click()
        page.wait_for_selector("#preview-chart .main-svg")
        assert page.locator("#preview-chart .xtitle").text_content() == "job"
        assert page.locator("#preview-chart .ytitle").text_content() == "Records"
        table = page.locator("#preview-counts")
        assert table.is_visible()
        rows = table.locator("tbody tr").all_inner_texts()
        assert len(rows) == 11 and rows[-1].startswith("other"), rows  # 10 values, then other
        shares = [float(r.split("\t")[-1].rstrip(" %")) for r in rows]
        assert abs(sum(shares) - 100) < 1
        samples = page.locator("#preview-samples tbody tr")
        samples.first.wait_for()
        assert page.locator("#preview-samples thead").inner_text().strip().split("\t") == [
            "Line",
            "job",
            "y",
        ]
        assert samples.count() == 10
        assert samples.first.inner_text().split("\t")[0] == "2"  # line 1 is the header
        page.keyboard.press("Escape")
    with session.step("preview of age (numeric): axis titles, no counts table"):
        page.locator('button[data-preview="age"]').click()
        page.wait_for_selector("#preview-chart .xtitle")
        assert page.locator("#preview-chart .xtitle").text_content() == "age"
        assert page.locator("#preview-chart .ytitle").text_content() == "Records"
        assert not page.locator("#preview-counts").is_visible()
        assert not page.locator("#preview-samples").is_visible()
    assert session.js_errors == []

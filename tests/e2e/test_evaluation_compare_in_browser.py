"""Comparing evaluations and the multiclass and regression explorers in headless Chromium.

Three binary models' evaluations are selected on the dashboard and compared: the table names all
three and Plotly draws their three ROC curves over the random-guess line. On a multiclass
evaluation a click on a confusion-matrix cell lists that cell's stored records, the matrix
switches to counts and column percentages, and the per-class table sorts. A regression page
draws its two scatter plots; an old evaluation says what it lacks. At 1024 px wide, with no
JavaScript error and nothing fetched from outside the live server.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from evaluation_factories import completed_evaluation
from playwright.sync_api import expect

if TYPE_CHECKING:  # the fixture's type, from this folder's conftest.py
    from conftest import BrowserSession

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse 1"  # the `owner` fixture's


def test_three_models_evaluations_are_selected_on_the_dashboard_and_compared(
    browser_session: BrowserSession, owner: Any
) -> None:
    session, page = browser_session, browser_session.page
    page.set_viewport_size({"width": 1024, "height": 900})
    evaluations = [
        completed_evaluation(owner, "BINARY", n, training_parameters={"sgd.maxPasses": str(n)})
        for n in (1, 2, 3)
    ]
    other = completed_evaluation(owner, "REGRESSION", 4)

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("dashboard: a mixed selection is refused in the page"):
        page.goto(session.url("/?type=evaluation"))
        page.get_by_label(f"Select {evaluations[0].display_name}").check()
        page.get_by_label(f"Select {other.display_name}").check()
        page.locator("#compare-selected").click()
        # both are evaluations, so the page itself says why (mixed types)
        expect(page.locator("#compare-error")).to_contain_text("one model type")
        # the refusal is a 400 page, which Chromium logs as a failed load: expected, no script error
        assert [e for e in session.js_errors if "status of 400" not in e] == []
        session.js_errors.clear()

    with session.step("dashboard: select the three binary evaluations and compare"):
        page.goto(session.url("/?type=evaluation"))
        page.locator("#compare-selected").click()
        expect(page.locator("#compare-message")).to_contain_text("Select 2 to 6 evaluations")
        for ev in evaluations:
            page.get_by_label(f"Select {ev.display_name}").check()
        page.locator("#compare-selected").click()
        ids = sorted(ev.entity_id for ev in evaluations)
        expect(page).to_have_url(re.compile(r"/evaluations/compare/\?ids="))
        assert sorted(page.url.split("ids=")[1].split(",")) == ids

    with session.step("the comparison: table and three overlaid ROC curves"):
        table = page.locator("#compare-table")
        for ev in evaluations:
            expect(table).to_contain_text(ev.entity_id)
            expect(table).to_contain_text(ev.ml_model.entity_id)
        expect(table.locator("tr.differs", has_text="sgd.maxPasses")).to_have_count(1)
        chart = page.locator("#compare-figure .js-plotly-plot")
        expect(chart).to_have_count(1)
        expect(chart.locator(".scatterlayer .trace")).to_have_count(4)  # 3 models + diagonal
        expect(page.locator("#compare-figure .legendtext")).to_have_count(4)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1024, f"the page is {width}px wide at a 1024px window"

    with session.step("one evaluation selected: pick a second one on the comparison page"):
        page.goto(session.url("/?type=evaluation"))
        page.get_by_label(f"Select {evaluations[0].display_name}").check()
        page.locator("#compare-selected").click()
        choices = page.locator("#compare-choices input[name=ids]")
        expect(choices).to_have_count(3)  # the binary ones: the regression one is not offered
        expect(page.locator(f"#choose-{evaluations[0].entity_id}")).to_be_checked()
        page.locator(f"#choose-{evaluations[1].entity_id}").check()
        page.locator("#compare-chosen").click()
        expect(page.locator("#compare-figure .js-plotly-plot .scatterlayer .trace")).to_have_count(
            3
        )

    assert session.js_errors == [], "the pages logged JavaScript errors"
    assert session.foreign_requests() == []


def test_a_multiclass_cell_click_shows_its_examples_and_the_matrix_switches_modes(
    browser_session: BrowserSession, owner: Any
) -> None:
    session, page = browser_session, browser_session.page
    page.set_viewport_size({"width": 1024, "height": 900})
    ev = completed_evaluation(owner, "MULTICLASS", 5)
    stored = ev.details["Details"]
    labels = stored["confusion_matrix"]["labels"]
    counts = stored["confusion_matrix"]["counts"]
    cells = stored["cell_examples"]["cells"]
    # an error cell with more than 20 records would show 20; pick the busiest off-diagonal cell
    i, j = max(
        ((r, c) for r in range(len(labels)) for c in range(len(labels)) if r != c),
        key=lambda rc: counts[rc[0]][rc[1]],
    )

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("click an error cell: its records, true and predicted, with scores"):
        page.goto(session.url(f"/evaluations/{ev.entity_id}/"))
        page.locator(f'td.cell[data-cell="{i},{j}"]').click()
        panel = page.locator("#cell-examples-panel")
        expect(panel.locator("h3")).to_have_text(f"True {labels[i]}, predicted {labels[j]}")
        rows = panel.locator("tbody tr")
        expect(rows).to_have_count(min(20, counts[i][j]))
        first = cells[f"{i},{j}"][0]
        expect(rows.first.locator("td").nth(0)).to_have_text(f"{first['line']} (eval.csv)")
        expect(rows.first.locator("td").nth(1)).to_have_text(first["row_id"])
        expect(rows.first.locator("td").nth(2)).to_have_text(labels[i])
        expect(rows.first.locator("td").nth(3)).to_have_text(labels[j])
        expect(rows.first.locator("td").last).to_have_text(f"{first['score_predicted']:.3f}")

    with session.step("the keyboard opens a diagonal cell"):
        page.locator('td.cell[data-cell="0,0"]').focus()
        page.keyboard.press("Enter")
        expect(panel.locator("h3")).to_have_text(f"True {labels[0]}, predicted {labels[0]}")
        expect(panel.locator("tbody tr")).to_have_count(min(20, counts[0][0]))

    with session.step("counts, then column percentages"):
        cell = page.locator(f'td.cell[data-cell="{i},{j}"]')
        page.get_by_role("button", name="Counts").click()
        expect(cell).to_have_text(re.compile(rf"^{counts[i][j]}"))
        page.get_by_role("button", name="% of the predicted class (column)").click()
        column_total = sum(row[j] for row in counts)
        expect(cell).to_have_text(re.compile(rf"^{round(100 * counts[i][j] / column_total)}%"))

    with session.step("the per-class table sorts by F1"):
        page.locator("#per-class-table th", has_text="F1 score").click()
        shown = page.locator("#per-class-table tbody tr td:nth-child(2)").all_inner_texts()
        values = [float(v) for v in shown]
        assert values == sorted(values, reverse=True)
        page.locator("#per-class-table th", has_text="F1 score").click()
        shown = page.locator("#per-class-table tbody tr td:nth-child(2)").all_inner_texts()
        assert [float(v) for v in shown] == sorted(values)

    assert session.js_errors == [], "the pages logged JavaScript errors"
    assert session.foreign_requests() == []


def test_regression_old_evaluation_and_other_comparison_pages_draw_without_errors(
    browser_session: BrowserSession, owner: Any
) -> None:
    session, page = browser_session, browser_session.page
    page.set_viewport_size({"width": 1024, "height": 900})
    fresh = completed_evaluation(owner, "REGRESSION", 6)
    old = completed_evaluation(owner, "REGRESSION", 7, old=True)
    old_multiclass = completed_evaluation(owner, "MULTICLASS", 8, old=True)

    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)

    with session.step("regression: residuals and both scatter plots"):
        page.goto(session.url(f"/evaluations/{fresh.entity_id}/"))
        expect(page.locator("#scatter-plots .js-plotly-plot")).to_have_count(2)
        expect(page.locator("#residuals .js-plotly-plot")).to_have_count(1)
        points = page.locator("#scatter-plots .js-plotly-plot").first.locator(".point")
        expect(points).to_have_count(len(fresh.details["Details"]["sample"]["actual"]))

    with session.step("old regression evaluation: the notice, the histogram still drawn"):
        page.goto(session.url(f"/evaluations/{old.entity_id}/"))
        expect(page.locator("#rerun-notice")).to_contain_text("evaluate the ML model again")
        expect(page.locator("#residuals .js-plotly-plot")).to_have_count(1)

    with session.step("old multiclass evaluation: the matrix works, cells are not clickable"):
        page.goto(session.url(f"/evaluations/{old_multiclass.entity_id}/"))
        expect(page.locator("#rerun-notice")).to_contain_text("example records")
        expect(page.locator("td.cell.clickable")).to_have_count(0)
        page.get_by_role("button", name="Counts").click()
        expect(page.locator('td.cell[data-cell="0,0"]')).to_have_text(re.compile(r"^\d+$"))

    with session.step("a new and an old regression evaluation compared: residual histograms"):
        page.goto(session.url(f"/evaluations/compare/?ids={fresh.entity_id},{old.entity_id}"))
        lines = page.locator("#compare-figure .js-plotly-plot .scatterlayer .trace")
        expect(lines).to_have_count(2)
        r_squared = page.locator("#compare-table tr", has_text="R²").locator("td")
        expect(r_squared.nth(1)).to_have_text("not stored")
        expect(r_squared.nth(0)).to_have_text(re.compile(r"^0\.\d{4}$"))

    with session.step("two multiclass evaluations compared: per-class F1 bars"):
        other = completed_evaluation(owner, "MULTICLASS", 9)
        page.goto(
            session.url(f"/evaluations/compare/?ids={old_multiclass.entity_id},{other.entity_id}")
        )
        expect(page.locator("#compare-figure .js-plotly-plot .barlayer .trace")).to_have_count(2)

    assert session.js_errors == [], "the pages logged JavaScript errors"

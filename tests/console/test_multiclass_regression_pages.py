"""The multiclass and regression evaluation pages: cell examples and matrix modes, the sortable
per-class table, MAE and R² beside the RMSE, scatter plots from the stored sample, and the notice
an evaluation made before these existed shows instead."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from evaluation_factories import completed_evaluation

from console.models import Evaluation

pytestmark = pytest.mark.django_db


def page(client: Client, ev: Evaluation) -> str:
    response = client.get(reverse("console:evaluation-detail", args=[ev.entity_id]))
    assert response.status_code == 200
    return response.content.decode()


def json_script(html: str, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no <script id={element_id}>"
    return json.loads(match.group(1))


def test_the_multiclass_page_carries_each_cells_examples_for_the_click(
    owner_client: Client, owner: Any
) -> None:
    ev = completed_evaluation(owner, "MULTICLASS", 1)
    html = page(owner_client, ev)

    labels = json_script(html, "matrix-labels")
    examples = json_script(html, "cell-examples")
    assert labels == ev.details["Details"]["confusion_matrix"]["labels"]
    assert examples["row_id"] == "flower" and examples["inputs"] == ["petal", "guess"]
    counts = ev.details["Details"]["confusion_matrix"]["counts"]
    for key, records in examples["cells"].items():
        i, j = map(int, key.split(","))
        assert 0 < len(records) <= min(20, counts[i][j])
        assert all((r["true"], r["predicted"]) == (labels[i], labels[j]) for r in records)
    # every cell of the matrix says which pair it is, for the script to open
    assert len(re.findall(r'data-cell="\d+,\d+" data-count="\d+"', html)) == len(labels) ** 2
    assert "evaluation_explorer.js" in html
    assert 'id="rerun-notice"' not in html


def test_the_per_class_table_sorts_by_numbers_not_by_their_text(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, completed_evaluation(owner, "MULTICLASS", 2))
    table = html.split('id="per-class-table"')[1].split("</table>")[0]
    assert table.count('data-sort="number"') == 5
    # the full-precision value the script sorts by, beside the 3-digit figure shown
    first_f1 = re.search(r'<td class="right" data-value="([0-9.e-]+)">([0-9.]+)</td>', table)
    assert first_f1 and float(first_f1.group(1)) == pytest.approx(
        float(first_f1.group(2)), abs=5e-4
    )


def test_an_old_multiclass_evaluation_still_shows_its_matrix_and_says_to_run_it_again(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, completed_evaluation(owner, "MULTICLASS", 3, old=True))
    assert 'id="confusion-matrix"' in html and 'id="per-class"' in html
    assert 'id="rerun-notice"' in html
    assert "the example records behind each confusion-matrix cell" in html
    assert 'id="cell-examples"' not in html
    assert "Example records per cell are not stored for this evaluation" in html


def test_the_regression_page_shows_mae_and_r_squared_beside_the_rmse_and_its_baseline(
    owner_client: Client, owner: Any
) -> None:
    ev = completed_evaluation(owner, "REGRESSION", 4)
    html = page(owner_client, ev)
    stored = ev.details["Details"]
    card = html.split('id="regression-metrics"')[1].split('id="residuals"')[0]
    assert f"{stored['rmse']:.4f}"[:5] in card
    assert "baseline" in card and "Mean absolute error" in card
    assert re.search(r'<dd id="r-squared">0\.\d+</dd>', card)


def test_the_regression_page_draws_both_scatter_plots_from_the_stored_sample(
    owner_client: Client, owner: Any
) -> None:
    ev = completed_evaluation(owner, "REGRESSION", 5)
    html = page(owner_client, ev)
    sample = ev.details["Details"]["sample"]

    versus = json_script(html, "fig-actual-vs-predicted")
    assert versus["data"][0]["x"] == sample["actual"]
    assert versus["data"][0]["y"] == sample["predicted"]
    residual = json_script(html, "fig-residual-vs-predicted")
    assert residual["data"][0]["x"] == sample["predicted"]
    expected = [a - p for a, p in zip(sample["actual"], sample["predicted"], strict=True)]
    assert residual["data"][0]["y"] == pytest.approx(expected)
    assert "All 400 records" in html


def test_an_old_regression_evaluation_keeps_its_histogram_and_names_what_it_lacks(
    owner_client: Client, owner: Any
) -> None:
    html = page(owner_client, completed_evaluation(owner, "REGRESSION", 6, old=True))
    assert 'id="fig-residuals"' in html
    notice = html.split('id="rerun-notice"')[1].split("</div>")[0]
    assert "predicted-against-actual and residual-against-predicted plots" in notice
    assert "R²" in notice
    assert 'id="fig-actual-vs-predicted"' not in html
    assert "stored no sample of its predictions" in html


def test_a_binary_evaluation_shows_no_rerun_notice(owner_client: Client, owner: Any) -> None:
    html = page(owner_client, completed_evaluation(owner, "BINARY", 7))
    assert 'id="rerun-notice"' not in html


def test_a_stranger_gets_404_on_the_explorer_pages(
    client: Client, owner: Any, stranger: Any
) -> None:
    evaluations = [
        completed_evaluation(owner, kind, n)
        for n, kind in enumerate(("MULTICLASS", "REGRESSION"), start=8)
    ]
    client.force_login(stranger)
    for ev in evaluations:
        response = client.get(reverse("console:evaluation-detail", args=[ev.entity_id]))
        assert response.status_code == 404
        assert "cell-examples" not in response.content.decode()

"""The multiclass and regression explorers: cell examples, scatter plots from the stored sample,
and which of these an evaluation made before they existed lacks.

Evaluations stored before the explorer lack `Details.cell_examples` (MULTICLASS) or
`Details.sample` and `Details.r2` (REGRESSION); their pages still show everything else and name
the missing parts with `missing_pieces`, so the user knows to run the evaluation again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.charts import BLUE, GREY, LEGEND_ABOVE, _layout

Figure = dict[str, Any]

CELL_EXAMPLES = "the example records behind each confusion-matrix cell"
SCATTER_PLOTS = "the predicted-against-actual and residual-against-predicted plots"
R_SQUARED = "R²"


def missing_pieces(model_type: str, details: Mapping[str, Any] | None) -> list[str]:
    """The explorer's parts this evaluation's stored details cannot show ([] when complete).

    >>> missing_pieces("REGRESSION", {"rmse": 0.7})
    ['the predicted-against-actual and residual-against-predicted plots', 'R²']
    >>> missing_pieces("MULTICLASS", {"cell_examples": {"cells": {}}})
    []
    """
    stored = details or {}
    if model_type == "MULTICLASS":
        return [] if "cell_examples" in stored else [CELL_EXAMPLES]
    if model_type == "REGRESSION":
        wanted = (("sample", SCATTER_PLOTS), ("r2", R_SQUARED))
        return [label for key, label in wanted if key not in stored]
    return []


def regression_scatter_figures(sample: Mapping[str, Any] | None) -> dict[str, Figure]:
    """Predicted against actual (with the line of perfect predictions) and residual against
    predicted (with the zero line), from the stored sample; {} without one."""
    actual = [float(v) for v in (sample or {}).get("actual") or []]
    predicted = [float(v) for v in (sample or {}).get("predicted") or []]
    if not actual or len(actual) != len(predicted):
        return {}
    residual = [a - p for a, p in zip(actual, predicted, strict=True)]
    low, high = min(*actual, *predicted), max(*actual, *predicted)
    return {
        "actual_vs_predicted": _scatter(
            actual,
            predicted,
            "Actual value",
            "Predicted value",
            line=([low, high], [low, high], "Perfect prediction"),
        ),
        "residual_vs_predicted": _scatter(
            predicted,
            residual,
            "Predicted value",
            "Residual (true − predicted)",
            line=([min(predicted), max(predicted)], [0.0, 0.0], "Zero residual"),
        ),
    }


def _scatter(
    x: list[float],
    y: list[float],
    x_title: str,
    y_title: str,
    *,
    line: tuple[list[float], list[float], str],
) -> Figure:
    # "scatter", not "scattergl": WebGL is often off in headless and remote browsers, and 5,000
    # SVG points draw in well under a second
    points = {
        "type": "scatter",
        "mode": "markers",
        "name": "Records",
        "x": x,
        "y": y,
        "marker": {"color": BLUE, "size": 4, "opacity": 0.45},
        "hovertemplate": f"{x_title} %{{x:.4g}}<br>{y_title} %{{y:.4g}}<extra></extra>",
    }
    reference = {
        "type": "scatter",
        "mode": "lines",
        "name": line[2],
        "x": line[0],
        "y": line[1],
        "line": {"color": GREY, "dash": "dash"},
        "hoverinfo": "skip",
    }
    layout = _layout(height=340, showlegend=True, legend=LEGEND_ABOVE)
    layout["xaxis"] = {"title": {"text": x_title}, "automargin": True, "zeroline": False}
    layout["yaxis"] = {
        "title": {"text": y_title},
        "automargin": True,
        "gridcolor": "#eaeded",
        "zeroline": False,
    }
    return {"data": [points, reference], "layout": layout}


def cell_examples_for_page(examples: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The stored examples as the page's script reads them (None for an old evaluation)."""
    if examples is None:
        return None
    return {
        "limit": int(examples.get("limit") or 0),
        "inputs": [str(name) for name in examples.get("inputs") or []],
        "row_id": examples.get("row_id"),
        "incomplete": bool(examples.get("incomplete")),
        "cells": dict(examples.get("cells") or {}),
    }

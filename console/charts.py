"""Data insights for the datasource page: chart specs and paged attribute tables from statistics.

Charts are plain Plotly figure dicts (`{"data": [...], "layout": {...}}`) that the page hands to
`Plotly.newPlot` through `json_script`; nothing here knows about requests or templates. The input
is the statistics JSON described in docs/statistics-format.md.

A datasource can have ~1,000 attributes (MNIST has 785), so the tables are paged and filtered here
and histogram data is only embedded for the rows on the visible page.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from mlcore.stats import invalid_reasons_text, rebin

PREVIEW_BINS = (20, 50, 100, 200, 500)
DEFAULT_PREVIEW_BINS = 50
TABLE_PAGE_SIZE = 25
CORRELATION_TOP = 25
MISSING_TOP = 30
ATTRIBUTE_TYPES = ("NUMERIC", "BINARY", "CATEGORICAL", "TEXT")
TYPE_LABELS = {
    "NUMERIC": "Numeric",
    "BINARY": "Binary",
    "CATEGORICAL": "Categorical",
    "TEXT": "Text",
}

BLUE = "#0073bb"
ORANGE = "#ec7211"
GREY = "#879596"
RED = "#d13212"

Figure = dict[str, Any]

# A legend in the top margin, anchored by its bottom edge: when it wraps onto more rows (at
# 1024 px) it grows upwards and Plotly widens the margin, so it never covers the plot.
LEGEND_ABOVE: dict[str, Any] = {
    "orientation": "h",
    "x": 0,
    "xanchor": "left",
    "y": 1.02,
    "yanchor": "bottom",
}


# --- Figures ----------------------------------------------------------------------------------


def _layout(**overrides: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "height": 320,
        "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
        "font": {"family": "Helvetica Neue, Roboto, Arial, sans-serif", "size": 12},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "bargap": 0.1,
        "showlegend": False,
        "xaxis": {"automargin": True},
        "yaxis": {"automargin": True, "gridcolor": "#eaeded", "rangemode": "tozero"},
    }
    layout.update(overrides)
    return layout


def histogram_figure(
    histogram: Mapping[str, Any],
    bins: int = DEFAULT_PREVIEW_BINS,
    *,
    title: str = "",
    axis_title: str = "",
) -> Figure:
    """Bars at bin centres; the hover text gives each bin's range. `axis_title` names the x axis."""
    folded = rebin(histogram, bins)
    edges, counts = folded["edges"], folded["counts"]
    width = (edges[1] - edges[0]) if len(edges) > 1 and edges[1] > edges[0] else 1.0
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    if edges and edges[0] == edges[-1]:
        centres = [edges[0]] * len(counts)  # a constant column: one visible bar
    trace = {
        "type": "bar",
        "x": centres,
        "y": counts,
        "width": width,
        "marker": {"color": BLUE},
        "customdata": [[a, b] for a, b in zip(edges, edges[1:], strict=False)],
        "hovertemplate": "%{customdata[0]:.4g} to %{customdata[1]:.4g}<br>%{y:,} records<extra></extra>",
    }
    layout = _layout(title=_title(title), bargap=0.02)
    return {"data": [trace], "layout": _with_axis_titles(layout, axis_title)}


def distribution_figure(
    distribution: list[Mapping[str, Any]], *, title: str = "", axis_title: str = ""
) -> Figure:
    """Bar per target value (binary or categorical target), each labelled with its count and share."""
    values = [str(d["value"]) for d in distribution]
    counts = [int(d["count"]) for d in distribution]
    total = sum(counts) or 1
    trace = {
        "type": "bar",
        "x": values,
        "y": counts,
        "text": [f"{count:,} ({100 * count / total:.1f} %)" for count in counts],
        "textposition": "auto",
        "marker": {"color": BLUE},
        "hovertemplate": "%{x}: %{y:,} records<extra></extra>",
    }
    layout = _layout(title=_title(title), xaxis={"type": "category", "automargin": True})
    layout["yaxis"] = {**layout["yaxis"], "title": {"text": "Records"}}
    if axis_title:
        layout["xaxis"]["title"] = {"text": axis_title}
    return {"data": [trace], "layout": layout}


def target_figure(target: Mapping[str, Any] | None) -> Figure | None:
    if not target:
        return None
    if target.get("histogram"):
        return histogram_figure(
            target["histogram"], DEFAULT_PREVIEW_BINS, axis_title=str(target.get("name") or "")
        )
    if target.get("distribution"):
        return distribution_figure(target["distribution"], axis_title=str(target.get("name") or ""))
    return None


def missing_invalid_figure(
    attributes: list[Mapping[str, Any]], *, top: int = MISSING_TOP
) -> Figure | None:
    """Grouped bars for the attributes that have any missing or invalid values, worst first."""
    flawed = [a for a in attributes if (a.get("missing") or 0) + (a.get("invalid") or 0) > 0]
    if not flawed:
        return None
    flawed.sort(key=lambda a: -((a.get("missing") or 0) + (a.get("invalid") or 0)))
    flawed = flawed[:top]
    names = [a["name"] for a in flawed]
    traces = [
        _bar("Missing", names, [a.get("missing") or 0 for a in flawed], GREY),
        _bar("Invalid", names, [a.get("invalid") or 0 for a in flawed], RED),
    ]
    layout = _layout(barmode="group", showlegend=True, legend=LEGEND_ABOVE)
    layout["xaxis"] = {"type": "category", "automargin": True}
    return {"data": traces, "layout": layout}


def correlation_figure(
    ranked: list[Mapping[str, Any]], *, top: int = CORRELATION_TOP
) -> Figure | None:
    """Horizontal bars, strongest at the top, one trace per attribute type so the legend names them."""
    shown = [a for a in ranked if a.get("correlation") is not None][:top]
    if not shown:
        return None
    traces = []
    for attribute_type in ATTRIBUTE_TYPES:
        of_type = [a for a in shown if a.get("type") == attribute_type]
        if of_type:
            traces.append(
                {
                    "type": "bar",
                    "orientation": "h",
                    "name": TYPE_LABELS[attribute_type],
                    "x": [a["correlation"] for a in of_type],
                    "y": [a["name"] for a in of_type],
                    "marker": {"color": _type_colour(attribute_type)},
                    "hovertemplate": "%{y}: %{x:.3f}<extra>"
                    + TYPE_LABELS[attribute_type]
                    + "</extra>",
                }
            )
    layout = _layout(
        # Sized to the bars: a datasource with three attributes gets a short chart, not a blank one.
        height=max(150, 24 * len(shown) + 80),
        # The legend sits in the top margin, above the strongest bar rather than on it.
        margin={"l": 140, "r": 20, "t": 40 if len(traces) > 1 else 20, "b": 40},
        showlegend=len(traces) > 1,
        legend=LEGEND_ABOVE,
        barmode="overlay",
    )
    layout["xaxis"] = {
        "range": [0, 1],
        "title": {"text": "Correlation to target"},
        "gridcolor": "#eaeded",
    }
    # One category per attribute, listed bottom-up so the strongest sits at the top.
    order = [a["name"] for a in reversed(shown)]
    layout["yaxis"] = {
        "type": "category",
        "categoryorder": "array",
        "categoryarray": order,
        "automargin": True,
        "ticksuffix": "  ",  # keeps the attribute names off the bars
    }
    return {"data": traces, "layout": layout}


def categorical_figure(attribute: Mapping[str, Any]) -> Figure:
    """AML's categorical preview: the 10 most frequent values, then everything else as "other"."""
    top = list(attribute.get("top") or [])[:10]
    labels = [str(t["value"]) for t in top]
    counts = [t["count"] for t in top]
    colours = [BLUE] * len(top)
    if attribute.get("otherCount"):
        labels.append("other")
        counts.append(attribute["otherCount"])
        colours.append(GREY)
    trace = {
        "type": "bar",
        "x": labels,
        "y": counts,
        "marker": {"color": colours},
        "hovertemplate": "%{x}: %{y:,} records<extra></extra>",
    }
    layout = _layout(xaxis={"type": "category", "automargin": True})
    return {"data": [trace], "layout": _with_axis_titles(layout, str(attribute.get("name") or ""))}


def categorical_counts(attribute: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The preview's counts table, as AML showed it: each frequent value, then "other"."""
    rows = [(str(t["value"]), int(t["count"])) for t in list(attribute.get("top") or [])[:10]]
    if attribute.get("otherCount"):
        rows.append(("other", int(attribute["otherCount"])))
    total = sum(count for _, count in rows) or 1
    return [
        {"value": value, "count": count, "share": round(100 * count / total, 1)}
        for value, count in rows
    ]


def _with_axis_titles(layout: dict[str, Any], x_title: str) -> dict[str, Any]:
    """A preview's axes say what they count: the attribute's values across, records up."""
    layout["xaxis"] = {**layout["xaxis"], "title": {"text": x_title}}
    layout["yaxis"] = {**layout["yaxis"], "title": {"text": "Records"}}
    return layout


def _bar(name: str, x: list[str], y: list[int], colour: str) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": y, "marker": {"color": colour}}


def _title(text: str) -> dict[str, Any] | None:
    return {"text": text, "font": {"size": 14}} if text else None


def _type_colour(attribute_type: str) -> str:
    return {"NUMERIC": BLUE, "BINARY": ORANGE, "CATEGORICAL": "#1d8102", "TEXT": "#8d6605"}.get(
        attribute_type, GREY
    )


# --- Tables -----------------------------------------------------------------------------------


@dataclass
class AttributeTable:
    """One type's attributes after the name filter, and the page of them the user is looking at."""

    attribute_type: str
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int
    previous_query: str = ""
    next_query: str = ""
    # Only for the visible rows: {name: {...}} that the Preview buttons read.
    previews: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return TYPE_LABELS[self.attribute_type]

    @property
    def key(self) -> str:
        return self.attribute_type.lower()

    @property
    def preview_id(self) -> str:
        return f"previews-{self.key}"

    @property
    def first_index(self) -> int:
        return (self.page - 1) * TABLE_PAGE_SIZE + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * TABLE_PAGE_SIZE, self.total)


@dataclass
class Insights:
    records_read: int
    record_count: int
    invalid_count: int
    invalid_why: str
    target: dict[str, Any] | None
    type_counts: dict[str, int]
    figures: dict[str, Figure]
    ranked: list[dict[str, Any]]
    tables: list[AttributeTable]
    flawed_count: int
    attribute_filter: str

    @property
    def attribute_count(self) -> int:
        return sum(self.type_counts.values())

    @property
    def type_count_rows(self) -> list[tuple[str, int]]:
        return [(TYPE_LABELS[t], self.type_counts.get(t, 0)) for t in ATTRIBUTE_TYPES]


def build_insights(
    statistics: Mapping[str, Any], params: Mapping[str, str] | None = None
) -> Insights:
    """Everything the Data insights section shows; `params` is the page's query string."""
    # A QueryDict maps keys to lists under dict(); indexing gives the last value, as a form would.
    params = {key: str(params[key]) for key in params or {}}
    attributes = [dict(a) for a in statistics.get("attributes") or []]
    target_name = statistics.get("targetAttributeName")
    for a in attributes:
        a["is_target"] = a.get("name") == target_name
    ranked = rank_by_correlation(a for a in attributes if not a["is_target"])
    figures = {
        name: fig
        for name, fig in (
            ("target", target_figure(statistics.get("target"))),
            ("missing", missing_invalid_figure(attributes)),
            ("correlation", correlation_figure(ranked)),
        )
        if fig is not None
    }
    query = params.get("attr_q", "").strip()[:200]
    present = {a.get("type") for a in attributes}
    return Insights(
        records_read=int(statistics.get("recordsRead") or 0),
        record_count=int(statistics.get("recordCount") or 0),
        invalid_count=int(statistics.get("invalidRecordCount") or 0),
        invalid_why=invalid_reasons_text(statistics.get("invalidRecordReasons")),
        target=statistics.get("target"),
        type_counts=dict(Counter(a.get("type", "") for a in attributes)),
        figures=figures,
        ranked=ranked,
        tables=[_table(t, attributes, query, params) for t in ATTRIBUTE_TYPES if t in present],
        flawed_count=sum(
            1 for a in attributes if (a.get("missing") or 0) + (a.get("invalid") or 0)
        ),
        attribute_filter=query,
    )


def rank_by_correlation(attributes: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Strongest first; attributes without a correlation keep their file order at the end."""

    def strength(a: Mapping[str, Any]) -> float:
        value = a.get("correlation")
        return -1.0 if value is None else float(value)

    return sorted(attributes, key=strength, reverse=True)


def _table(
    attribute_type: str, attributes: list[dict[str, Any]], query: str, params: dict[str, str]
) -> AttributeTable:
    matching = [a for a in attributes if a.get("type") == attribute_type]
    if query:
        matching = [a for a in matching if query.lower() in str(a.get("name", "")).lower()]
    matching = rank_by_correlation(matching)
    page_key = f"{attribute_type.lower()}_page"
    pages = max(1, math.ceil(len(matching) / TABLE_PAGE_SIZE))
    page = min(_positive_int(params.get(page_key)), pages)
    visible = matching[(page - 1) * TABLE_PAGE_SIZE : page * TABLE_PAGE_SIZE]
    return AttributeTable(
        attribute_type=attribute_type,
        rows=[_row(a) for a in visible],
        total=len(matching),
        page=page,
        pages=pages,
        previous_query=urlencode({**params, page_key: page - 1}),
        next_query=urlencode({**params, page_key: page + 1}),
        previews=_previews(attribute_type, visible),
    )


def _row(attribute: dict[str, Any]) -> dict[str, Any]:
    row = dict(attribute)
    row.pop("histogram", None)  # the 1,000 counts only travel inside `previews`
    seen = (row.get("count") or 0) + (row.get("missing") or 0) + (row.get("invalid") or 0)
    row["invalid_percent"] = 100.0 * (row.get("invalid") or 0) / seen if seen else None
    row["missing_percent"] = 100.0 * (row.get("missing") or 0) / seen if seen else None
    row["has_preview"] = bool(attribute.get("histogram") or attribute.get("top"))
    least = min(row.get("leastFrequent") or [{}], key=lambda v: v.get("count", 0))
    row["least_frequent_value"] = least.get("value")
    return row


def _previews(attribute_type: str, attributes: list[dict[str, Any]]) -> dict[str, Any]:
    previews: dict[str, Any] = {}
    for a in attributes:
        if attribute_type == "NUMERIC" and a.get("histogram"):
            previews[a["name"]] = _numeric_preview(a)
        elif attribute_type == "CATEGORICAL" and a.get("top"):
            previews[a["name"]] = {
                "kind": "categorical",
                "figure": categorical_figure(a),
                "counts": categorical_counts(a),
            }
    return previews


def _numeric_preview(attribute: Mapping[str, Any]) -> dict[str, Any]:
    histogram = attribute["histogram"]
    return {
        "kind": "numeric",
        "bins": DEFAULT_PREVIEW_BINS,
        "histogram": {
            "min": histogram["min"],
            "max": histogram["max"],
            "counts": histogram["counts"],
        },
        "summary": {k: attribute.get(k) for k in ("min", "mean", "median", "max")},
        "figure": histogram_figure(
            histogram, DEFAULT_PREVIEW_BINS, axis_title=str(attribute.get("name") or "")
        ),
    }


def _positive_int(raw: Any) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1

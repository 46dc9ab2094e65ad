"""console.charts (figures and attribute tables from statistics) and the aml_format filters."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from console import charts
from console.model_charts import score_histogram_figure
from console.templatetags import aml_format
from mlcore.stats import rebin


def numeric(name: str, correlation: float | None = 0.5, **extra: Any) -> dict[str, Any]:
    counts = [i % 7 for i in range(1000)]
    return {
        "name": name,
        "type": "NUMERIC",
        "count": sum(counts),
        "missing": 0,
        "invalid": 0,
        "min": 0.0,
        "max": 10.0,
        "mean": 5.0,
        "median": 5.0,
        "stddev": 2.0,
        "histogram": {"min": 0.0, "max": 10.0, "counts": counts},
        "correlation": correlation,
        **extra,
    }


def statistics(
    attributes: list[dict[str, Any]], target: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "version": 1,
        "recordsRead": 100,
        "recordCount": 98,
        "invalidRecordCount": 2,
        "targetAttributeName": target["name"] if target else None,
        "target": target,
        "attributes": attributes,
    }


# --- Folding histograms -----------------------------------------------------------------------


@pytest.mark.parametrize("bins", charts.PREVIEW_BINS)
def test_folding_keeps_the_total_and_spans_min_to_max(bins: int) -> None:
    histogram = numeric("x")["histogram"]
    folded = rebin(histogram, bins)
    assert len(folded["counts"]) == bins and len(folded["edges"]) == bins + 1
    assert sum(folded["counts"]) == sum(histogram["counts"])
    assert folded["edges"][0] == 0.0 and folded["edges"][-1] == pytest.approx(10.0)


def test_folding_refuses_a_bin_count_aml_did_not_offer() -> None:
    with pytest.raises(ValueError):
        rebin(numeric("x")["histogram"], 30)


def test_a_histogram_figure_puts_bars_at_bin_centres() -> None:
    fig = charts.histogram_figure({"min": 0.0, "max": 100.0, "counts": [1] * 1000}, 20)
    trace = fig["data"][0]
    assert trace["x"][0] == pytest.approx(2.5) and trace["width"] == pytest.approx(5.0)
    assert trace["y"] == [50] * 20


def test_a_constant_column_draws_one_visible_bar() -> None:
    fig = charts.histogram_figure({"min": 3.0, "max": 3.0, "counts": [0] * 999 + [7]}, 20)
    assert set(fig["data"][0]["x"]) == {3.0} and fig["data"][0]["width"] == 1.0


# --- Figures ---------------------------------------------------------------------------------


def test_a_binary_target_draws_a_bar_per_value() -> None:
    fig = charts.target_figure(
        {
            "name": "y",
            "type": "BINARY",
            "histogram": None,
            "distribution": [{"value": "0", "count": 9}, {"value": "1", "count": 1}],
        }
    )
    assert fig is not None
    assert fig["data"][0]["x"] == ["0", "1"] and fig["data"][0]["y"] == [9, 1]
    assert fig["data"][0]["text"] == ["9 (90.0 %)", "1 (10.0 %)"]
    assert fig["layout"]["xaxis"]["title"]["text"] == "y"
    assert fig["layout"]["yaxis"]["title"]["text"] == "Records"


def test_a_numeric_target_draws_a_histogram() -> None:
    fig = charts.target_figure(
        {
            "name": "price",
            "type": "NUMERIC",
            "distribution": [],
            "histogram": {"min": 0, "max": 1, "counts": [2] * 1000},
        }
    )
    assert fig is not None and len(fig["data"][0]["y"]) == charts.DEFAULT_PREVIEW_BINS


def test_no_target_means_no_target_figure() -> None:
    assert charts.target_figure(None) is None


def test_missing_values_are_drawn_only_for_attributes_that_have_some() -> None:
    fig = charts.missing_invalid_figure(
        [numeric("a"), numeric("b", missing=3), numeric("c", invalid=5)]
    )
    assert fig is not None
    assert fig["data"][0]["x"] == ["c", "b"]  # worst first
    assert fig["data"][0]["y"] == [0, 3] and fig["data"][1]["y"] == [5, 0]
    assert charts.missing_invalid_figure([numeric("a")]) is None


def test_correlations_are_ranked_strongest_on_top_and_capped() -> None:
    ranked = charts.rank_by_correlation(numeric(f"x{i}", correlation=i / 100) for i in range(40))
    fig = charts.correlation_figure(ranked)
    assert fig is not None
    labels = fig["layout"]["yaxis"]["categoryarray"]
    assert len(labels) == charts.CORRELATION_TOP and labels[-1] == "x39"


def test_the_correlation_chart_has_a_trace_per_attribute_type() -> None:
    fig = charts.correlation_figure(
        [numeric("n", 0.9), {"name": "b", "type": "BINARY", "correlation": 0.5}, numeric("m", 0.1)]
    )
    assert fig is not None
    assert [t["name"] for t in fig["data"]] == ["Numeric", "Binary"]
    assert fig["data"][0]["y"] == ["n", "m"] and fig["layout"]["showlegend"]


def test_the_correlation_chart_is_as_tall_as_its_bars_need() -> None:
    few = charts.correlation_figure([numeric("a", 0.5), numeric("b", 0.2)])
    many = charts.correlation_figure([numeric(f"x{i}", 0.5) for i in range(20)])
    assert few is not None and many is not None
    assert few["layout"]["height"] < 200 < many["layout"]["height"]


def test_attributes_without_correlation_rank_last() -> None:
    ranked = charts.rank_by_correlation(
        [numeric("none", None), numeric("zero", 0.0), numeric("high", 0.9)]
    )
    assert [a["name"] for a in ranked] == ["high", "zero", "none"]
    assert charts.correlation_figure([numeric("none", None)]) is None


def test_the_categorical_preview_is_top_ten_plus_other() -> None:
    attribute = {
        "name": "job",
        "type": "CATEGORICAL",
        "top": [{"value": f"v{i}", "count": 20 - i} for i in range(12)],
        "otherCount": 42,
    }
    fig = charts.categorical_figure(attribute)
    assert fig["data"][0]["x"] == [f"v{i}" for i in range(10)] + ["other"]
    assert fig["data"][0]["y"][-1] == 42


def test_figures_are_plain_json() -> None:
    stats = statistics(
        [numeric("x")],
        target={
            "name": "x",
            "type": "NUMERIC",
            "distribution": [],
            "histogram": numeric("x")["histogram"],
        },
    )
    insights = charts.build_insights(stats)
    assert insights.figures
    assert json.loads(json.dumps(insights.figures)) == insights.figures  # plain JSON round trip


def test_plotly_accepts_the_figures() -> None:
    go = pytest.importorskip("plotly.graph_objects")
    stats = statistics(
        [numeric("x"), numeric("z", missing=2)],
        target={
            "name": "y",
            "type": "BINARY",
            "histogram": None,
            "distribution": [{"value": "0", "count": 1}, {"value": "1", "count": 2}],
        },
    )
    figures = charts.build_insights(stats).figures
    assert figures
    for fig in figures.values():
        validated = go.Figure(fig)  # raises on any unknown property name or bad value
        assert len(validated.data) == len(fig["data"])


# --- Insights and tables ------------------------------------------------------------------------


def test_insights_summarise_records_and_attribute_types() -> None:
    stats = statistics(
        [numeric("a"), {"name": "b", "type": "BINARY", "count": 1, "missing": 0, "invalid": 0}]
    )
    insights = charts.build_insights(stats)
    assert (insights.records_read, insights.record_count, insights.invalid_count) == (100, 98, 2)
    assert dict(insights.type_count_rows) == {
        "Numeric": 1,
        "Binary": 1,
        "Categorical": 0,
        "Text": 0,
    }
    assert [t.attribute_type for t in insights.tables] == ["NUMERIC", "BINARY"]


def test_tables_page_and_embed_histograms_only_for_the_visible_rows() -> None:
    stats = statistics([numeric(f"p{i}", correlation=i / 1000) for i in range(60)])
    table = charts.build_insights(stats, {"numeric_page": "3"}).tables[0]
    assert (table.page, table.pages, table.total) == (3, 3, 60)
    assert [r["name"] for r in table.rows] == [f"p{i}" for i in range(9, -1, -1)]
    assert set(table.previews) == {r["name"] for r in table.rows}
    assert all("histogram" not in r for r in table.rows)
    assert "numeric_page=2" in table.previous_query


def test_an_out_of_range_page_shows_the_last_one() -> None:
    stats = statistics([numeric(f"p{i}") for i in range(30)])
    assert charts.build_insights(stats, {"numeric_page": "99"}).tables[0].page == 2
    assert charts.build_insights(stats, {"numeric_page": "x"}).tables[0].page == 1


def test_the_attribute_filter_matches_names_case_insensitively() -> None:
    stats = statistics([numeric("Age"), numeric("balance"), numeric("AGE_GROUP")])
    table = charts.build_insights(stats, {"attr_q": "age"}).tables[0]
    assert sorted(r["name"] for r in table.rows) == ["AGE_GROUP", "Age"]


def test_the_target_is_marked_and_left_out_of_the_ranking() -> None:
    stats = statistics(
        [numeric("x", 0.3), numeric("y", None)],
        target={
            "name": "y",
            "type": "NUMERIC",
            "distribution": [],
            "histogram": numeric("y")["histogram"],
        },
    )
    insights = charts.build_insights(stats)
    assert [a["name"] for a in insights.ranked] == ["x"]
    assert {r["name"]: r["is_target"] for r in insights.tables[0].rows} == {"x": False, "y": True}


def test_binary_rows_carry_the_invalid_percentage() -> None:
    attribute = {
        "name": "b",
        "type": "BINARY",
        "count": 75,
        "missing": 0,
        "invalid": 25,
        "percentTrue": 40.0,
    }
    row = charts.build_insights(statistics([attribute])).tables[0].rows[0]
    assert row["invalid_percent"] == pytest.approx(25.0)


# --- aml_format filters -----------------------------------------------------------------------


def test_dates_read_like_aml(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    assert (
        aml_format.aml_date(datetime(2018, 3, 5, 14, 34, 7, tzinfo=UTC)) == "Mar 5, 2018 2:34:07 PM"
    )
    assert aml_format.aml_date(None) == "Not available"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 secs."),
        (1, "1 sec."),
        (42, "42 secs."),
        (60, "1 min."),
        (190, "3 mins."),
        (3600 * 2, "2 hrs."),
        (86400 * 3, "3 days"),
    ],
)
def test_durations_read_like_aml(seconds: int, text: str) -> None:
    assert aml_format.aml_duration(timedelta(seconds=seconds)) == text


def test_compute_time_is_milliseconds() -> None:
    assert aml_format.compute_time(180_000) == "3 mins."
    assert aml_format.compute_time(12) == "Less than 1 sec."
    assert aml_format.compute_time(None) == "Not available"


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 bytes"),
        (1, "1 byte"),
        (1023, "1,023 bytes"),
        (3_460_000, "3.3 MB"),
        (5 * 1024**3, "5.0 GB"),
    ],
)
def test_sizes_read_like_aml(size: int, text: str) -> None:
    assert aml_format.aml_bytes(size) == text


def test_status_labels_are_the_consoles() -> None:
    assert aml_format.status_label("INPROGRESS") == "In progress"
    assert aml_format.status_label("odd") == "odd"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (41188, "41,188"),
        (40.0234, "40.02"),
        (12345.678, "12,345.7"),
        (None, "—"),
        (0.00012345, "0.0001234"),
    ],
)
def test_statistics_numbers_are_readable(value: Any, text: str) -> None:
    assert aml_format.number(value) == text


def test_long_names_are_cut_in_the_middle() -> None:
    name = "banking.csv_[percentBegin=0, percentEnd=70, strategy=sequential]"
    cut = aml_format.truncate_middle(name, 40)
    assert len(cut) == 40 and "..." in cut and cut.endswith("sequential]")


def test_the_score_histogram_puts_each_class_on_its_own_scale() -> None:
    # banking-like: 42 % of the 0s in one bin, the 1s spread thinly
    histograms = {
        "edges": [i / 10 for i in range(11)],
        "negative": [4200, 2500, 1500, 900, 500, 250, 100, 40, 10, 0],
        "positive": [40, 60, 80, 100, 110, 120, 130, 140, 120, 100],
    }
    figure = score_histogram_figure(histograms, 0.5)
    assert figure is not None
    positive, negative = figure["data"]
    layout = figure["layout"]
    assert positive.get("yaxis", "y") == "y" and negative["yaxis"] == "y2"
    assert layout["yaxis2"]["overlaying"] == "y" and layout["yaxis2"]["side"] == "right"
    for trace, axis in ((positive, layout["yaxis"]), (negative, layout["yaxis2"])):
        # the tallest bar of each class reaches near the top of its own axis
        assert max(trace["y"]) / axis["range"][1] > 0.9

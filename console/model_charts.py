"""What the ML model and evaluation pages show: Plotly figure dicts and small report records.

Like `console.charts`, nothing here knows about requests or templates: the input is the JSON the
training and evaluation jobs store (`MLModel.insights`, `MLModel.progress`,
`Evaluation.performance_metrics`, `Evaluation.details`, shaped by `mlcore.predict.insights` and
`mlcore.evaluate`), the output is plain data the templates lay out.

Quality verdicts. AML only ever published one phrase ("extremely good" for a binary model with an
AUC of 0.936) and no cut points, so the scale below is ours, and the page says what it means:

* BINARY, on the AUC itself: >= 0.9 extremely good, >= 0.8 good, >= 0.7 fair, else poor.
* MULTICLASS, on the share of the possible improvement over the baseline the macro F1 achieves,
  ``(F1 - baseline) / (1 - baseline)``: >= 0.8 extremely good, >= 0.6 good, >= 0.4 fair, else
  poor. (MNIST: 0.914 against 0.020 is 0.91, extremely good.)
* REGRESSION, on how much smaller the RMSE is than the baseline's, ``1 - RMSE / baseline``:
  >= 0.5 extremely good, >= 0.25 good, >= 0.05 fair, else poor. An RMSE without a baseline
  cannot be judged, since its size depends on the target's unit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.charts import BLUE, GREY, LEGEND_ABOVE, ORANGE, _layout
from console.evaluation_reports.explorer import (
    cell_examples_for_page,
    missing_pieces,
    regression_scatter_figures,
)
from console.spreadsheet_csv import spreadsheet_csv
from mlcore.metrics.binary import threshold_metrics_from_counts
from mlcore.stats import invalid_reasons_text

Figure = dict[str, Any]

# (lowest value of the measure, word), best first; the last word is for everything below.
AUC_SCALE = ((0.9, "extremely good"), (0.8, "good"), (0.7, "fair"))
F1_GAIN_SCALE = ((0.8, "extremely good"), (0.6, "good"), (0.4, "fair"))
RMSE_GAIN_SCALE = ((0.5, "extremely good"), (0.25, "good"), (0.05, "fair"))
LOWEST_WORD = "poor"

METRIC_LABELS = {
    "BinaryAUC": ("AUC", "Baseline AUC"),
    "MulticlassAvgFScore": ("Average F1 score", "Baseline F1 score"),
    "RegressionRMSE": ("RMSE", "Baseline RMSE"),
}
SCALE_NOTES = {
    "BinaryAUC": "AUC of 0.9 or more: extremely good; 0.8: good; 0.7: fair; below: poor.",
    "MulticlassAvgFScore": (
        "Share of the possible gain over the baseline F1 the model achieves, "
        "(F1 − baseline) / (1 − baseline): 80% or more: extremely good; 60%: good; "
        "40%: fair; below: poor."
    ),
    "RegressionRMSE": (
        "How much smaller the RMSE is than the baseline's, 1 − RMSE / baseline: 50% or more: "
        "extremely good; 25%: good; 5%: fair; below: poor."
    ),
}
CONFUSION_BLUE = (0, 115, 187)
CONFUSION_ORANGE = (236, 114, 17)


# --- ML model: progress and insights ------------------------------------------------------------


def loss_figure(losses: Sequence[float | None], passes: int | None = None) -> Figure | None:
    """The training loss after each pass; the x axis spans every requested pass while training."""
    points = [(k + 1, v) for k, v in enumerate(losses) if v is not None and math.isfinite(v)]
    if not points:
        return None
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "x": [k for k, _ in points],
        "y": [v for _, v in points],
        "line": {"color": BLUE},
        "hovertemplate": "Pass %{x}: loss %{y:.5g}<extra></extra>",
    }
    xaxis: dict[str, Any] = {"title": {"text": "Pass"}, "dtick": 1, "automargin": True}
    if passes:
        xaxis["range"] = [0.5, max(passes, len(points)) + 0.5]
    layout = _layout(height=260, xaxis=xaxis)
    layout["yaxis"] = {
        "title": {"text": "Training loss"},
        "automargin": True,
        "gridcolor": "#eaeded",
    }
    return {"data": [trace], "layout": layout}


def weights_figure(top: Mapping[str, Any]) -> Figure | None:
    """Horizontal bars: largest positive weights (blue) above largest negative ones (orange)."""
    positive = list(top.get("positive") or [])
    negative = list(top.get("negative") or [])
    if not positive and not negative:
        return None
    # Plotly draws the first y category at the bottom, so list bottom-up: most negative first.
    rows = sorted(negative, key=lambda r: -(r["weight"] or 0)) + sorted(
        positive, key=lambda r: r["weight"] or 0
    )
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": [r["weight"] for r in rows],
        "y": [r["feature"] for r in rows],
        "marker": {"color": [BLUE if (r["weight"] or 0) > 0 else ORANGE for r in rows]},
        "hovertemplate": "%{y}: %{x:.4g}<extra></extra>",
    }
    layout = _layout(height=max(260, 18 * len(rows) + 80), bargap=0.2)
    layout["yaxis"] = {"type": "category", "automargin": True}
    layout["xaxis"] = {"title": {"text": "Weight"}, "automargin": True, "zeroline": True}
    return {"data": [trace], "layout": layout}


@dataclass
class ModelInsights:
    """The insights section: which output is shown, its top weights and the figures."""

    features: int | None
    dropped_features: int | None
    passes: int | None
    converged: bool | None
    outputs: list[str]
    selected: str
    positive: list[dict[str, Any]]
    negative: list[dict[str, Any]]
    figures: dict[str, Figure] = field(default_factory=dict)
    # (class, label) for the class selector: most frequent training class first, with its share.
    output_choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def per_class(self) -> bool:
        return self.outputs != ["score"]


def build_model_insights(
    insights: Mapping[str, Any] | None,
    selected: str = "",
    class_counts: Mapping[str, int] | None = None,
) -> ModelInsights | None:
    """The insights of a trained model, showing `selected` (a class) when it is one of its outputs.

    With the training data's `class_counts` (a multiclass model), classes are offered most
    frequent first, each with its share of the training records, and the most frequent one is
    shown by default: a model's rarest class (wine's quality 3: 5 records) is a poor first view.
    """
    if not insights or not insights.get("top"):
        return None
    top: Mapping[str, Any] = insights["top"]
    outputs = [str(k) for k in top]
    counts = {str(k): int(v) for k, v in (class_counts or {}).items()}
    if len(outputs) > 1 and counts:
        order = {name: position for position, name in enumerate(outputs)}
        outputs.sort(key=lambda name: (-counts.get(name, -1), order[name]))
    total = sum(counts.get(name, 0) for name in outputs)
    choices = [(name, _class_label(name, counts.get(name), total)) for name in outputs]
    chosen = selected if selected in top else outputs[0]
    figures = {
        name: figure
        for name, figure in (
            ("weights", weights_figure(top[chosen])),
            ("loss", loss_figure(insights.get("history") or [])),
        )
        if figure is not None
    }
    return ModelInsights(
        features=insights.get("features"),
        dropped_features=insights.get("dropped_features"),
        passes=insights.get("passes"),
        converged=insights.get("converged"),
        outputs=outputs,
        selected=chosen,
        positive=list(top[chosen].get("positive") or []),
        negative=list(top[chosen].get("negative") or []),
        figures=figures,
        output_choices=choices,
    )


def _class_label(name: str, count: int | None, total: int) -> str:
    if count is None or total <= 0:
        return name
    records = "record" if count == 1 else "records"
    return f"{name} ({count:,} training {records}, {100 * count / total:.1f} %)"


def class_counts_of(statistics: Mapping[str, Any] | None) -> dict[str, int]:
    """The target's class counts in a datasource's statistics ({} when it has none)."""
    target = (statistics or {}).get("target") or {}
    if target.get("type") != "CATEGORICAL":
        return {}
    return {str(row["value"]): int(row["count"]) for row in target.get("distribution") or []}


@dataclass
class TrainingProgress:
    """The live panel's figures from `MLModel.progress`."""

    phase: str
    pass_number: int
    passes: int | None
    records: int
    losses: list[float]
    figure: Figure | None

    @property
    def percent(self) -> int:
        if self.phase != "training" or not self.passes:
            return 0
        return min(100, round(100 * self.pass_number / self.passes))


def training_progress(progress: Mapping[str, Any] | None) -> TrainingProgress:
    figure = dict(progress or {})
    losses = [float(v) for v in figure.get("loss") or [] if v is not None]
    passes = figure.get("passes")
    return TrainingProgress(
        phase=str(figure.get("phase") or "reading"),
        pass_number=int(figure.get("pass") or 0),
        passes=int(passes) if passes else None,
        records=int(figure.get("records") or 0),
        losses=losses,
        figure=loss_figure(losses, int(passes) if passes else None),
    )


# --- Evaluation ---------------------------------------------------------------------------------


@dataclass
class Verdict:
    metric_key: str
    label: str
    baseline_label: str
    value: float
    baseline: float | None
    word: str | None
    scale_note: str

    @property
    def difference(self) -> float | None:
        return None if self.baseline is None else self.value - self.baseline

    @property
    def better_than_baseline(self) -> bool | None:
        if self.baseline is None:
            return None
        if self.metric_key == "RegressionRMSE":
            return self.value < self.baseline
        return self.value > self.baseline


def _word(measure: float, scale: Sequence[tuple[float, str]]) -> str:
    for lowest, word in scale:
        if measure >= lowest:
            return word
    return LOWEST_WORD


def quality_word(metric_key: str, value: float, baseline: float | None) -> str | None:
    """The documented scale of the module docstring; None when the metric cannot be judged."""
    if metric_key == "BinaryAUC":
        return _word(value, AUC_SCALE)
    if metric_key == "MulticlassAvgFScore":
        floor = baseline or 0.0
        gain = (value - floor) / (1 - floor) if floor < 1 else 0.0
        return _word(gain, F1_GAIN_SCALE)
    if metric_key == "RegressionRMSE" and baseline:
        return _word(1 - value / baseline, RMSE_GAIN_SCALE)
    return None


def verdict_of(
    performance_metrics: Mapping[str, Any] | None, details: Mapping[str, Any] | None
) -> Verdict | None:
    """The headline metric with its baseline and word, from the stored (string) properties."""
    properties = dict((performance_metrics or {}).get("Properties") or {})
    baselines = dict(((details or {}).get("Baseline") or {}).get("Properties") or {})
    for key, (label, baseline_label) in METRIC_LABELS.items():
        if key in properties:
            value = float(properties[key])
            baseline = float(baselines[key]) if key in baselines else None
            return Verdict(
                metric_key=key,
                label=label,
                baseline_label=baseline_label,
                value=value,
                baseline=baseline,
                word=quality_word(key, value, baseline),
                scale_note=SCALE_NOTES[key],
            )
    return None


def metrics_at_threshold(binary: Mapping[str, Any], threshold: float) -> dict[str, Any] | None:
    """Accuracy, precision, ... and the four counts at the model's current threshold.

    The job stored them at the threshold the model had then; if the threshold was saved again
    since, they are read from the stored score counts instead (exact at multiples of 1/1000).
    """
    stored = binary.get("threshold_metrics")
    if stored and math.isclose(float(stored.get("threshold", -1)), threshold, abs_tol=1e-12):
        return dict(stored)
    if binary.get("score_counts"):
        return threshold_metrics_from_counts(dict(binary["score_counts"]), threshold)
    return dict(stored) if stored else None


def score_histogram_figure(histograms: Mapping[str, Any], threshold: float) -> Figure | None:
    """AML's two overlaid histograms of scores, actual 1s and actual 0s, and the cut-off line."""
    edges = list(histograms.get("edges") or [])
    if len(edges) < 2:
        return None
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    width = edges[1] - edges[0]
    positive = _overlay_bar(
        "Actual 1 (positive)", centres, histograms.get("positive") or [], BLUE, width
    )
    negative = _overlay_bar(
        "Actual 0 (negative)", centres, histograms.get("negative") or [], ORANGE, width
    )
    # Each class on its own scale (1s on the left axis, 0s on the right): on banking a 42 % spike
    # of 0s in one bin would otherwise flatten the 1s, whose shares stay under 10 % a bin.
    negative["yaxis"] = "y2"
    layout = _layout(
        barmode="overlay",
        showlegend=True,
        legend=LEGEND_ABOVE,
        shapes=[_vertical_line(threshold)],
    )
    layout["xaxis"] = {"title": {"text": "Score"}, "range": [0, 1], "automargin": True}
    layout["yaxis"] = _class_axis("Actual 1s: share (%)", positive["y"], BLUE)
    layout["yaxis"]["gridcolor"] = "#eaeded"
    layout["yaxis2"] = {
        **_class_axis("Actual 0s: share (%)", negative["y"], ORANGE),
        "overlaying": "y",
        "side": "right",
        "showgrid": False,
    }
    return {"data": [positive, negative], "layout": layout}


def _class_axis(title: str, shares: list[float], colour: str) -> dict[str, Any]:
    """An axis reaching just above the class's tallest bar, titled and ticked in its colour."""
    top = max(shares, default=0.0) or 1.0
    return {
        "title": {"text": title, "font": {"color": colour}},
        "tickfont": {"color": colour},
        "range": [0, top * 1.05],
        "automargin": True,
    }


def _overlay_bar(
    name: str, x: list[float], y: list[int], colour: str, width: float
) -> dict[str, Any]:
    # Shares of each class, not counts: with 1 positive in 9, raw counts flatten the positives.
    total = sum(y) or 1
    return {
        "type": "bar",
        "name": name,
        "x": x,
        "y": [100.0 * count / total for count in y],
        "customdata": list(y),
        "width": width,
        "opacity": 0.6,
        "marker": {"color": colour},
        "hovertemplate": "Score %{x:.3f}: %{customdata:,} records (%{y:.1f}% of the class)<extra>"
        + name
        + "</extra>",
    }


def _vertical_line(x: float) -> dict[str, Any]:
    return {
        "type": "line",
        "x0": x,
        "x1": x,
        "yref": "paper",
        "y0": 0,
        "y1": 1,
        "line": {"color": "#16191f", "width": 2, "dash": "dash"},
    }


def roc_figure(roc: Mapping[str, Any], at: Mapping[str, Any] | None = None) -> Figure | None:
    """The ROC curve, the random-guess diagonal, and the point of the model's threshold."""
    if not roc.get("fpr"):
        return None
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Model",
            "x": roc["fpr"],
            "y": roc["tpr"],
            "line": {"color": BLUE},
            "customdata": roc.get("thresholds"),
            "hovertemplate": "FPR %{x:.3f}, TPR %{y:.3f}<br>threshold %{customdata:.3f}<extra></extra>",
        },
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Random guess (AUC 0.5)",
            "x": [0, 1],
            "y": [0, 1],
            "line": {"color": GREY, "dash": "dot"},
            "hoverinfo": "skip",
        },
    ]
    if at:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": f"Threshold {at['threshold']:.3g}",
                "x": [at["false_positive_rate"]],
                "y": [at["recall"]],
                "marker": {"color": ORANGE, "size": 11},
            }
        )
    layout = _layout(height=340, showlegend=True, legend=LEGEND_ABOVE)
    layout["xaxis"] = {
        "title": {"text": "False positive rate"},
        "range": [0, 1],
        "automargin": True,
    }
    layout["yaxis"] = {
        "title": {"text": "True positive rate (recall)"},
        "range": [0, 1.02],
        "automargin": True,
        "gridcolor": "#eaeded",
    }
    return {"data": traces, "layout": layout}


def residual_figure(histogram: Mapping[str, Any]) -> Figure | None:
    """Residuals (true − predicted) with the zero line: centred and bell-shaped is good."""
    edges = list(histogram.get("edges") or [])
    if len(edges) < 2:
        return None
    centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
    trace = {
        "type": "bar",
        "x": centres,
        "y": histogram.get("counts") or [],
        "width": edges[1] - edges[0],
        "marker": {"color": BLUE},
        "customdata": [[a, b] for a, b in zip(edges, edges[1:], strict=False)],
        "hovertemplate": "%{customdata[0]:.4g} to %{customdata[1]:.4g}: %{y:,} records<extra></extra>",
    }
    layout = _layout(bargap=0.02, shapes=[_vertical_line(0.0)])
    layout["xaxis"] = {"title": {"text": "Residual (true − predicted)"}, "automargin": True}
    return {"data": [trace], "layout": layout}


@dataclass
class MatrixCell:
    count: int
    percent: float
    colour: str
    dark: bool


@dataclass
class MatrixRow:
    label: str
    cells: list[MatrixCell]
    frequency: float
    f1: float


@dataclass
class ConfusionTable:
    """AML's matrix: rows true class, columns predicted, then true frequency and F1 columns,
    and a last row of predicted frequencies; diagonal cells blue, errors orange."""

    labels: list[str]
    rows: list[MatrixRow]
    predicted_frequency: list[float]
    collapsed: bool
    others_classes: list[str]
    class_count: int


def confusion_table(matrix: Mapping[str, Any]) -> ConfusionTable:
    labels = [str(label) for label in matrix["labels"]]
    rows = []
    for i, label in enumerate(labels):
        cells = [
            _cell(int(count), float(matrix["row_percent"][i][j]), diagonal=i == j)
            for j, count in enumerate(matrix["counts"][i])
        ]
        rows.append(
            MatrixRow(
                label, cells, float(matrix["true_class_frequency"][i]), float(matrix["f1"][i])
            )
        )
    return ConfusionTable(
        labels=labels,
        rows=rows,
        predicted_frequency=[float(f) for f in matrix["predicted_class_frequency"]],
        collapsed=bool(matrix.get("collapsed")),
        others_classes=[str(c) for c in matrix.get("others_classes") or []],
        class_count=int(matrix.get("class_count") or len(labels)),
    )


def _cell(count: int, percent: float, *, diagonal: bool) -> MatrixCell:
    """Darker for a larger share of the true class; an empty cell stays white."""
    base = CONFUSION_BLUE if diagonal else CONFUSION_ORANGE
    share = max(0.0, min(1.0, percent / 100))
    alpha = 0.08 + 0.85 * share if count else 0.0
    r, g, b = (round(255 - (255 - c) * alpha) for c in base)
    return MatrixCell(count, percent, f"rgb({r}, {g}, {b})", dark=alpha > 0.55)


def per_class_rows(per_class: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per class of the full matrix, most frequent true class first."""
    keys = ("precision", "recall", "f1", "true_count", "predicted_count")
    return [
        {"label": str(label), **{key: per_class[key][i] for key in keys}}
        for i, label in enumerate(per_class.get("labels") or [])
    ]


def confusion_csv(full: Mapping[str, Any]) -> str:
    """The full matrix (every class, no "others"): a header of predicted classes, then one row
    per true class; a class name a spreadsheet would run is quoted (console.spreadsheet_csv)."""
    labels = [str(label) for label in full.get("labels") or []]
    rows = [
        [label, *counts] for label, counts in zip(labels, full.get("counts") or [], strict=False)
    ]
    # Class names are the user's text: a spreadsheet must not run one as a formula.
    return spreadsheet_csv([["true \\ predicted", *labels], *rows])


@dataclass
class EvaluationReport:
    """Everything the page shows for a COMPLETED evaluation."""

    model_type: str
    verdict: Verdict | None
    alerts: list[dict[str, Any]]
    record_count: int | None
    invalid_record_count: int | None
    records_read: int | None = None
    invalid_why: str = ""
    at_threshold: dict[str, Any] | None = None
    confusion: ConfusionTable | None = None
    per_class: list[dict[str, Any]] = field(default_factory=list)
    regression: dict[str, Any] | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    cell_examples: dict[str, Any] | None = None  # MULTICLASS, see evaluation_reports.explorer
    missing_pieces: list[str] = field(default_factory=list)  # what an older evaluation lacks


def build_evaluation_report(
    model_type: str,
    performance_metrics: Mapping[str, Any] | None,
    details: Mapping[str, Any] | None,
    score_threshold: float = 0.5,
) -> EvaluationReport:
    stored = dict(details or {})
    specific = dict(stored.get("Details") or {})
    report = EvaluationReport(
        model_type=model_type,
        verdict=verdict_of(performance_metrics, stored),
        alerts=list(stored.get("Alerts") or []),
        record_count=stored.get("RecordCount"),
        invalid_record_count=stored.get("InvalidRecordCount"),
        records_read=stored.get("TotalRecordCount"),
        invalid_why=invalid_reasons_text(stored.get("InvalidRecordReasons")),
    )
    if model_type == "BINARY":
        _add_binary(report, specific, score_threshold)
    elif model_type == "MULTICLASS" and specific.get("confusion_matrix"):
        report.confusion = confusion_table(specific["confusion_matrix"])
        report.per_class = per_class_rows(specific.get("per_class") or {})
        report.cell_examples = cell_examples_for_page(specific.get("cell_examples"))
    elif model_type == "REGRESSION":
        report.regression = specific
        figure = residual_figure(specific.get("residual_histogram") or {})
        if figure:
            report.figures["residuals"] = figure
        report.figures.update(regression_scatter_figures(specific.get("sample")))
    report.missing_pieces = missing_pieces(model_type, specific)
    return report


def _add_binary(report: EvaluationReport, binary: Mapping[str, Any], threshold: float) -> None:
    report.at_threshold = metrics_at_threshold(binary, threshold)
    for name, figure in (
        ("scores", score_histogram_figure(binary.get("histograms") or {}, threshold)),
        ("roc", roc_figure(binary.get("roc") or {}, report.at_threshold)),
    ):
        if figure is not None:
            report.figures[name] = figure

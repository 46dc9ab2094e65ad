"""The page comparing 2 to 6 evaluations of one model type: a metric table (metric, baseline,
records, training parameters, recipe differences) and one overlaid figure per type: ROC curves
(BINARY), per-class F1 bars (MULTICLASS), residual histograms (REGRESSION).

Everything is read from what the evaluation and training jobs stored; nothing is recomputed
from the data. `build_comparison` raises `NotComparable` with a sentence for the user when the
evaluations cannot be compared (too few or too many, mixed model types, not completed).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.charts import GREY, _layout
from console.model_charts import Verdict, verdict_of
from console.models import Evaluation, Status
from mlcore import safejson

Figure = dict[str, Any]

MIN_COMPARED, MAX_COMPARED = 2, 6
CHOICES_SHOWN = 100  # the picker lists the newest this many
MAX_F1_CLASSES = 30  # beyond this many classes the grouped bars stop being readable
# one colour per evaluation, distinguishable for the common colour-vision deficiencies
PALETTE = ("#0073bb", "#ec7211", "#1d8102", "#8c4fff", "#d13212", "#16191f")
TYPE_WORDS = {"BINARY": "binary", "MULTICLASS": "multiclass", "REGRESSION": "regression"}


class NotComparable(Exception):
    """The evaluations asked for cannot be compared; `message` says why, for the page."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_ids(values: Iterable[str]) -> list[str]:
    """`?ids=a,b,c` (or `?ids=a&ids=b`): the ids in order, without blanks or repeats.

    >>> parse_ids(["ev-a, ev-b", "ev-a", ""])
    ['ev-a', 'ev-b']
    """
    seen: list[str] = []
    for value in values:
        for piece in value.split(","):
            entity_id = piece.strip()
            if entity_id and entity_id not in seen:
                seen.append(entity_id)
    return seen


def check_count(ids: Sequence[str], least: int = MIN_COMPARED) -> None:
    if not least <= len(ids) <= MAX_COMPARED:
        raise NotComparable(
            f"Choose {MIN_COMPARED} to {MAX_COMPARED} evaluations to compare; "
            f"{len(ids)} {'was' if len(ids) == 1 else 'were'} given."
        )


def comparable_ids(evaluations: Iterable[Evaluation]) -> list[str]:
    """A model page's "compare" link: its completed evaluations, the latest six (with only one,
    the comparison page offers the others to pick from)."""
    done = [ev for ev in evaluations if ev.status == Status.COMPLETED and ev.details]
    done.sort(key=lambda ev: ev.created_at, reverse=True)
    return [ev.entity_id for ev in done[:MAX_COMPARED]]


@dataclass
class Choice:
    ev: Evaluation
    verdict: Verdict | None
    chosen: bool


def choices(owner: Any, chosen: Sequence[Evaluation], limit: int = CHOICES_SHOWN) -> list[Choice]:
    """What the picker offers: the owner's completed evaluations, newest first, of the chosen
    evaluations' model type (of any type when none is chosen yet); the chosen ones first."""
    query = (
        Evaluation.objects.filter(owner=owner, status=Status.COMPLETED)
        .exclude(details=None)
        .select_related("ml_model")
        .order_by("-created_at")
    )
    if chosen:
        query = query.filter(ml_model__ml_model_type=chosen[0].ml_model.ml_model_type)
    chosen_ids = [ev.entity_id for ev in chosen]
    others = [ev for ev in query[:limit] if ev.entity_id not in chosen_ids]
    return [
        Choice(ev, verdict_of(ev.performance_metrics, ev.details), ev.entity_id in chosen_ids)
        for ev in [*chosen, *others]
    ]


@dataclass
class Column:
    """One compared evaluation, with its model."""

    ev: Evaluation
    colour: str
    verdict: Verdict | None

    @property
    def details(self) -> dict[str, Any]:
        return dict((self.ev.details or {}).get("Details") or {})

    @property
    def legend(self) -> str:
        value = f" ({self.verdict.label} {self.verdict.value:.3f})" if self.verdict else ""
        return f"{self.ev.entity_id} · {self.ev.ml_model.name or self.ev.ml_model.entity_id}{value}"


@dataclass
class Row:
    """A line of the table: its label, one shown value per evaluation, whether they differ."""

    label: str
    values: list[str]
    group: str = "metrics"

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass
class RecipeDiff:
    column: Column
    same_as_first: bool
    lines: list[str] = field(default_factory=list)  # a unified diff against the first recipe


@dataclass
class Comparison:
    model_type: str
    columns: list[Column]
    rows: list[Row]
    recipes: list[RecipeDiff]
    figure: Figure | None
    figure_title: str
    figure_note: str = ""

    @property
    def ids(self) -> str:
        return ",".join(column.ev.entity_id for column in self.columns)

    @property
    def recipes_all_same(self) -> bool:
        return all(diff.same_as_first for diff in self.recipes)


def build_comparison(evaluations: Sequence[Evaluation]) -> Comparison:
    check_count([ev.entity_id for ev in evaluations])
    types = {ev.ml_model.ml_model_type for ev in evaluations}
    if len(types) > 1:
        named = ", ".join(
            f"{ev.entity_id} ({ev.ml_model.ml_model_type.lower()})" for ev in evaluations
        )
        raise NotComparable(
            f"Only evaluations of one model type can be compared; these mix {named}."
        )
    unfinished = [ev for ev in evaluations if ev.status != Status.COMPLETED or not ev.details]
    if unfinished:
        names = ", ".join(
            f"{ev.entity_id} ({ev.get_status_display().lower()})" for ev in unfinished
        )
        raise NotComparable(f"Only completed evaluations can be compared; not completed: {names}.")
    model_type = types.pop()
    columns = [
        Column(ev, PALETTE[i], verdict_of(ev.performance_metrics, ev.details))
        for i, ev in enumerate(evaluations)
    ]
    figure, title, note = _figure(model_type, columns)
    return Comparison(
        model_type=model_type,
        columns=columns,
        rows=_metric_rows(model_type, columns) + _parameter_rows(columns),
        recipes=_recipe_diffs(columns),
        figure=figure,
        figure_title=title,
        figure_note=note,
    )


# --- the table -----------------------------------------------------------------------------------


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):.{digits}f}"


def _metric_rows(model_type: str, columns: list[Column]) -> list[Row]:
    verdicts = [column.verdict for column in columns]
    stored = [dict(column.ev.details or {}) for column in columns]
    label = verdicts[0].label if verdicts[0] else "Metric"
    rows = [
        Row(label, [_number(v.value) if v else "—" for v in verdicts]),
        Row("Baseline", [_number(v.baseline) if v else "—" for v in verdicts]),
        Row("Difference", [_number(v.difference) if v else "—" for v in verdicts]),
        Row("Quality", [(v.word or "—") if v else "—" for v in verdicts]),
    ]
    details = [column.details for column in columns]
    if model_type == "REGRESSION":
        rows.append(
            Row("Mean absolute error", [_number(d.get("mean_absolute_error")) for d in details])
        )
        rows.append(
            Row("R²", [_number(d.get("r2")) if "r2" in d else "not stored" for d in details])
        )
    if model_type == "MULTICLASS":
        rows.append(
            Row(
                "Classes",
                [_number(len((d.get("per_class") or {}).get("labels") or [])) for d in details],
            )
        )
    if model_type == "BINARY":
        rows.append(
            Row(
                "Saved score threshold",
                [_number(c.ev.ml_model.score_threshold, 3) for c in columns],
            )
        )
    rows += [
        Row("Records evaluated", [_number(s.get("RecordCount")) for s in stored]),
        Row("Records left out", [_number(s.get("InvalidRecordCount")) for s in stored]),
        Row("Evaluation datasource", [c.ev.evaluation_data_source.entity_id for c in columns]),
        Row("Training datasource", [_training_source(c) for c in columns]),
    ]
    return rows


def _training_source(column: Column) -> str:
    ds = column.ev.ml_model.training_data_source
    return ds.entity_id if ds is not None else "—"


def _parameter_rows(columns: list[Column]) -> list[Row]:
    parameters = [dict(column.ev.ml_model.training_parameters or {}) for column in columns]
    keys = sorted({key for p in parameters for key in p})
    return [
        Row(key, [str(p[key]) if key in p else "(default)" for p in parameters], group="parameters")
        for key in keys
    ]


def _recipe_text(recipe: str) -> list[str]:
    """The recipe in one canonical layout, so that spacing alone is no difference."""
    if not recipe.strip():
        return ["(the suggested recipe)"]
    try:
        return json.dumps(safejson.loads(recipe), indent=2, sort_keys=True).splitlines()
    except ValueError:
        return recipe.strip().splitlines()


def _recipe_diffs(columns: list[Column]) -> list[RecipeDiff]:
    first = _recipe_text(columns[0].ev.ml_model.recipe or "")
    diffs = []
    for column in columns[1:]:
        text = _recipe_text(column.ev.ml_model.recipe or "")
        lines = list(
            difflib.unified_diff(
                first,
                text,
                columns[0].ev.ml_model.entity_id,
                column.ev.ml_model.entity_id,
                lineterm="",
                n=1,
            )
        )
        diffs.append(RecipeDiff(column, same_as_first=not lines, lines=lines))
    return diffs


# --- the figures ---------------------------------------------------------------------------------


def _figure(model_type: str, columns: list[Column]) -> tuple[Figure | None, str, str]:
    if model_type == "BINARY":
        return _roc_overlay(columns), "ROC curves", ""
    if model_type == "MULTICLASS":
        return _f1_bars(columns)
    return (
        _residual_overlay(columns),
        "Residual histograms",
        (
            "Each evaluation's share of records per residual bin; narrower and centred at 0 is better."
        ),
    )


def _roc_overlay(columns: list[Column]) -> Figure | None:
    traces: list[dict[str, Any]] = []
    for column in columns:
        roc = column.details.get("roc") or {}
        if roc.get("fpr"):
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "name": column.legend,
                    "x": roc["fpr"],
                    "y": roc["tpr"],
                    "line": {"color": column.colour},
                    "hovertemplate": "FPR %{x:.3f}, TPR %{y:.3f}<extra>"
                    + column.ev.entity_id
                    + "</extra>",
                }
            )
    if not traces:
        return None
    traces.append(
        {
            "type": "scatter",
            "mode": "lines",
            "name": "Random guess (AUC 0.5)",
            "x": [0, 1],
            "y": [0, 1],
            "line": {"color": GREY, "dash": "dot"},
            "hoverinfo": "skip",
        }
    )
    layout = _layout(height=420, showlegend=True, legend={"orientation": "h", "y": -0.25})
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


def _class_order(columns: list[Column]) -> list[str]:
    """The first evaluation's classes (most frequent first), then any the others add."""
    order: list[str] = []
    for column in columns:
        for label in (column.details.get("per_class") or {}).get("labels") or []:
            if str(label) not in order:
                order.append(str(label))
    return order


def _f1_bars(columns: list[Column]) -> tuple[Figure | None, str, str]:
    classes = _class_order(columns)
    if not classes:
        return None, "F1 score per class", ""
    shown = classes[:MAX_F1_CLASSES]
    note = (
        f"The {len(shown)} most frequent of {len(classes)} classes."
        if len(classes) > len(shown)
        else ""
    )
    traces = []
    for column in columns:
        per_class = column.details.get("per_class") or {}
        f1 = dict(
            zip(
                (str(c) for c in per_class.get("labels") or []),
                per_class.get("f1") or [],
                strict=False,
            )
        )
        traces.append(
            {
                "type": "bar",
                "name": column.legend,
                "x": shown,
                "y": [f1.get(label) for label in shown],
                "marker": {"color": column.colour},
                "hovertemplate": "Class %{x}: F1 %{y:.3f}<extra>"
                + column.ev.entity_id
                + "</extra>",
            }
        )
    layout = _layout(
        height=420, barmode="group", showlegend=True, legend={"orientation": "h", "y": -0.3}
    )
    layout["xaxis"] = {"title": {"text": "Class"}, "type": "category", "automargin": True}
    layout["yaxis"] = {
        "title": {"text": "F1 score"},
        "range": [0, 1],
        "automargin": True,
        "gridcolor": "#eaeded",
    }
    return {"data": traces, "layout": layout}, "F1 score per class", note


def _residual_overlay(columns: list[Column]) -> Figure | None:
    traces = []
    for column in columns:
        histogram: Mapping[str, Any] = column.details.get("residual_histogram") or {}
        edges = list(histogram.get("edges") or [])
        counts = list(histogram.get("counts") or [])
        if len(edges) < 2:
            continue
        total = sum(counts) or 1
        centres = [(a + b) / 2 for a, b in zip(edges, edges[1:], strict=False)]
        # each evaluation has its own bins: drawn as steps so that they overlay legibly
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "line": {"shape": "hvh", "color": column.colour, "width": 2},
                "name": column.legend,
                "x": centres,
                "y": [100.0 * c / total for c in counts],
                "hovertemplate": "Residual %{x:.4g}: %{y:.1f}% of records<extra>"
                + column.ev.entity_id
                + "</extra>",
            }
        )
    if not traces:
        return None
    layout = _layout(height=420, showlegend=True, legend={"orientation": "h", "y": -0.3})
    layout["shapes"] = [
        {
            "type": "line",
            "x0": 0,
            "x1": 0,
            "yref": "paper",
            "y0": 0,
            "y1": 1,
            "line": {"color": "#16191f", "dash": "dash"},
        }
    ]
    layout["xaxis"] = {"title": {"text": "Residual (true − predicted)"}, "automargin": True}
    layout["yaxis"] = {
        "title": {"text": "Share of records (%)"},
        "automargin": True,
        "gridcolor": "#eaeded",
    }
    return {"data": traces, "layout": layout}

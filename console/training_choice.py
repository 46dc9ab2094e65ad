"""What the model page shows of the trainer's automatic choice: the amounts tried, their held-out
loss after each pass, and the amount and pass kept (`mlcore.train.regularization`)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from console.charts import LEGEND_ABOVE, _layout

Figure = dict[str, Any]
KEY_L2 = "sgd.l2RegularizationAmount"
# one colour per amount, weakest to strongest (light to dark), the kept one drawn thicker
_PALETTE = ("#9ecae1", "#6baed6", "#4292c6", "#2171b5", "#08519c", "#08306b", "#041f4a")


@dataclass
class ChoiceRow:
    amount: float
    best_loss: float | None
    best_pass: int | None
    passes: int
    chosen: bool
    macro_f1: float | None = None

    @property
    def amount_text(self) -> str:
        return f"{self.amount:g}"


@dataclass
class TrainingChoice:
    """The choice as the page's table and chart."""

    l2: float
    passes: int
    passes_run: int
    held_out_records: int
    training_records: int
    seconds: float
    reason: str
    solver: str = "sgd"
    folds: int = 0
    search_records: int = 0
    rows: list[ChoiceRow] = field(default_factory=list)
    figure: Figure | None = None

    @property
    def l2_text(self) -> str:
        return f"{self.l2:g}"

    @property
    def solved(self) -> bool:
        """Small data: each amount solved to convergence and cross-validated (no passes)."""
        return self.solver == "lbfgs"

    @property
    def sampled(self) -> bool:
        """Large data: the amounts were compared on a sample of the training records."""
        return not self.solved and 0 < self.search_records < self.training_records

    @property
    def search_text(self) -> str:
        return f"{self.search_records:,}"

    @property
    def training_text(self) -> str:
        return f"{self.training_records:,}"

    @property
    def held_out_text(self) -> str:
        return f"{self.held_out_records:,}"

    @property
    def records_text(self) -> str:
        if self.solved:  # every record was scored once, in its fold
            return f"{self.held_out_records:,}"
        return f"{self.held_out_records + self.training_records:,}"


def effective_parameters(
    parameters: Mapping[str, str] | None, choice: Mapping[str, Any] | None
) -> dict[str, str]:
    """The parameters as trained: an amount left to the trainer ("auto") reads as its choice.

    >>> effective_parameters({KEY_L2: "auto"}, {"l2": 0.001})[KEY_L2]
    '0.001'
    >>> effective_parameters({KEY_L2: "auto"}, {})[KEY_L2]
    'auto'
    """
    result = dict(parameters or {})
    chosen = (choice or {}).get("l2")
    if chosen is not None and result.get(KEY_L2) == "auto":
        result[KEY_L2] = repr(float(chosen))
    return result


def training_choice(choice: Mapping[str, Any] | None) -> TrainingChoice | None:
    """The page's view of a stored choice; None when the trainer made none."""
    if not choice or "l2" not in choice:
        return None
    amounts = [float(a) for a in choice.get("amounts") or []]
    losses: Sequence[Sequence[float]] = choice.get("heldOutLoss") or []
    f1: Sequence[Sequence[float]] = choice.get("heldOutMacroF1") or []
    chosen = float(choice["l2"])
    rows = [
        _row(amount, losses[i] if i < len(losses) else [], f1[i] if i < len(f1) else [], chosen)
        for i, amount in enumerate(amounts)
    ]
    return TrainingChoice(
        l2=chosen,
        passes=int(choice.get("passes", 0)),
        passes_run=int(choice.get("passesRun", 0)),
        held_out_records=int(choice.get("heldOutRecords", 0)),
        training_records=int(choice.get("trainingRecords", 0)),
        seconds=float(choice.get("seconds", 0.0)),
        reason=str(choice.get("reason", "")),
        solver=str(choice.get("solver", "sgd")),
        folds=int(choice.get("folds", 0)),
        search_records=int(choice.get("searchRecords", 0)),
        rows=rows,
        figure=(
            cross_validation_figure(amounts, losses, chosen)
            if choice.get("solver") == "lbfgs"
            else held_out_figure(amounts, losses, chosen, int(choice.get("passes", 0)))
        ),
    )


def _row(amount: float, curve: Sequence[float], f1: Sequence[float], chosen: float) -> ChoiceRow:
    finite = [(value, k + 1) for k, value in enumerate(curve) if math.isfinite(value)]
    best_loss, best_pass = min(finite) if finite else (None, None)
    macro_f1 = None
    if best_pass is not None and len(f1) >= best_pass and math.isfinite(f1[best_pass - 1]):
        macro_f1 = float(f1[best_pass - 1])
    return ChoiceRow(amount, best_loss, best_pass, len(curve), amount == chosen, macro_f1)


def cross_validation_figure(
    amounts: Sequence[float], losses: Sequence[Sequence[float]], chosen: float
) -> Figure | None:
    """Cross-validated loss against the L2 amount (log scale); the kept amount marked."""
    points = [
        (amount, curve[0])
        for amount, curve in zip(amounts, losses, strict=False)
        if curve and math.isfinite(curve[0])
    ]
    if not points:
        return None
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": "cross-validated loss",
            "x": [a for a, _ in points],
            "y": [v for _, v in points],
            "line": {"color": _PALETTE[3]},
            "hovertemplate": "L2 %{x:.3g}: loss %{y:.5g}<extra></extra>",
        }
    ]
    kept = [(a, v) for a, v in points if a == chosen]
    if kept:
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "kept",
                "x": [kept[0][0]],
                "y": [kept[0][1]],
                "marker": {"symbol": "star", "size": 14, "color": "#ff9900"},
                "hovertemplate": "kept: L2 %{x:.3g}, loss %{y:.5g}<extra></extra>",
            }
        )
    layout = _layout(
        height=280,
        xaxis={"title": {"text": "L2 amount"}, "type": "log", "automargin": True},
    )
    layout["yaxis"] = {
        "title": {"text": "Cross-validated loss"},
        "automargin": True,
        "gridcolor": "#eaeded",
    }
    return {"data": traces, "layout": layout}


def held_out_figure(
    amounts: Sequence[float], losses: Sequence[Sequence[float]], chosen: float, chosen_pass: int
) -> Figure | None:
    """Held-out loss after each pass, one line per amount; the kept (amount, pass) marked."""
    traces: list[dict[str, Any]] = []
    for i, (amount, curve) in enumerate(zip(amounts, losses, strict=False)):
        if not curve:
            continue
        kept = amount == chosen
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": f"L2 {amount:g}" + (" (kept)" if kept else ""),
                "x": list(range(1, len(curve) + 1)),
                "y": [v if math.isfinite(v) else None for v in curve],
                "line": {"color": _PALETTE[i % len(_PALETTE)], "width": 3 if kept else 1.5},
                "hovertemplate": f"L2 {amount:g}, pass %{{x}}: held-out loss %{{y:.5g}}<extra></extra>",
            }
        )
    if not traces:
        return None
    if chosen in amounts and 0 < chosen_pass <= len(losses[amounts.index(chosen)]):
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "kept",
                "x": [chosen_pass],
                "y": [losses[amounts.index(chosen)][chosen_pass - 1]],
                "marker": {"symbol": "star", "size": 14, "color": "#ff9900"},
                "hovertemplate": "kept: pass %{x}, held-out loss %{y:.5g}<extra></extra>",
            }
        )
    layout = _layout(height=300, xaxis={"title": {"text": "Pass"}, "dtick": 1, "automargin": True})
    layout["yaxis"] = {
        "title": {"text": "Held-out loss"},
        "automargin": True,
        "gridcolor": "#eaeded",
    }
    layout["showlegend"] = True
    layout["legend"] = LEGEND_ABOVE
    return {"data": traces, "layout": layout}

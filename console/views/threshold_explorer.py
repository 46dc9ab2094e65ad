"""The binary evaluation's threshold explorer (AML's "Adjust score threshold", reference 7.3).

The page itself is the evaluation page: `explorer_for` adds what its binary partial needs (the
cut-off the address asks for, `?threshold=0.63`, the figures there as the server renders them
for a browser without JavaScript, and the stored counts the page's script recomputes from on
every slider move). `evaluation_score_threshold` saves or resets the model's threshold through
`update_ml_model`, AML's UpdateMLModel.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from console.models import Evaluation, MLModel
from console.services.errors import ServiceError
from console.services.ml_models import update_ml_model
from mlcore.metrics.binary import threshold_metrics_from_counts
from mlcore.metrics.threshold_search import calibration, cumulative_gains, precision_recall_curve

from .objects import owned_or_404

DEFAULT_THRESHOLD = 0.5
GRID = 1000  # the stored score counts' bins: thresholds on a 0.001 grid are exact


@dataclass
class ThresholdExplorer:
    """What the binary partial shows: the saved threshold, the one in view, and the data."""

    saved: float
    saved_at: datetime | None
    threshold: float
    metrics: dict[str, Any] | None
    error: str = ""
    data: dict[str, Any] | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def is_saved(self) -> bool:
        return math.isclose(self.threshold, self.saved, abs_tol=1e-9)

    @property
    def sentence(self) -> str:
        return plain_sentence(self.metrics) if self.metrics else ""


def threshold_label(value: float) -> str:
    """0.77, 0.5, 1: three decimals at most, no trailing zeros (the page's script does the same)."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def parse_threshold(raw: str | None) -> tuple[float | None, str]:
    """(threshold on the 0.001 grid, "") or (None, a message a person understands)."""
    if raw is None or raw.strip() == "":
        return None, ""
    try:
        value = float(raw)
    except ValueError:
        return None, f"The score threshold {raw!r} is not a number: give one between 0 and 1."
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        return None, f"The score threshold {raw!r} is outside 0 to 1: give one between 0 and 1."
    return round(value * GRID) / GRID, ""


def plain_sentence(metrics: dict[str, Any]) -> str:
    """AML's summary: "83 % correct, 17 % incorrect, 55 false positives, 25 false negatives"."""
    n = metrics["tp"] + metrics["tn"] + metrics["fp"] + metrics["fn"]
    if not n:
        return "No evaluation record to count."
    # halves round up, as the page's Math.round does (Python's round would go to even)
    correct = math.floor(100 * (metrics["tp"] + metrics["tn"]) / n + 0.5)
    fp, fn = metrics["fp"], metrics["fn"]
    return (
        f"{correct} % correct, {100 - correct} % incorrect, "
        f"{fp:,} false positive{'' if fp == 1 else 's'}, "
        f"{fn:,} false negative{'' if fn == 1 else 's'}"
    )


def explorer_for(request: HttpRequest, ml: MLModel, binary: dict[str, Any]) -> ThresholdExplorer:
    """The explorer at `?threshold=` (or the saved threshold), from the evaluation's Details."""
    saved = float(ml.score_threshold if ml.score_threshold is not None else DEFAULT_THRESHOLD)
    asked, error = parse_threshold(request.GET.get("threshold"))
    threshold = asked if asked is not None else saved
    counts = binary.get("score_counts")
    stored = binary.get("threshold_metrics")
    if counts:
        metrics: dict[str, Any] | None = threshold_metrics_from_counts(counts, threshold)
    elif stored and math.isclose(float(stored.get("threshold", -1)), threshold, abs_tol=1e-9):
        metrics = dict(stored)
    else:
        metrics = None
    missing = [] if counts else ["the score counts (the live cut-off and every chart but ROC)"]
    if not binary.get("roc"):
        missing.append("the ROC curve")
    data = None
    if counts:
        roc = binary.get("roc") or {}
        data = {
            "counts": counts,
            "roc": {"fpr": roc.get("fpr") or [], "tpr": roc.get("tpr") or []},
            "auc": binary.get("auc"),
            # static curves, computed once by the engine from the same counts
            "pr": precision_recall_curve(counts),
            "calibration": calibration(counts),
            "gains": cumulative_gains(counts),
            "saved": saved,
            "threshold": threshold,
        }
    return ThresholdExplorer(
        saved=saved,
        saved_at=ml.score_threshold_last_updated_at,
        threshold=threshold,
        metrics=metrics,
        error=error,
        data=data,
        missing=missing,
    )


@require_POST
def evaluation_score_threshold(request: HttpRequest, entity_id: str) -> HttpResponse:
    """Save the posted cut-off as the model's score threshold ("reset": 0.5), then show it."""
    ev = owned_or_404(Evaluation, request, entity_id)
    ml = ev.ml_model
    if ml.ml_model_type != "BINARY":
        raise Http404("Only a binary model has a score threshold.")
    reset = request.POST.get("action") == "reset"
    raw = str(DEFAULT_THRESHOLD) if reset else request.POST.get("threshold", "")
    threshold, error = parse_threshold(raw)
    if threshold is None:
        messages.error(request, error or "Give the score threshold to save, between 0 and 1.")
        return HttpResponseRedirect(reverse("console:evaluation-detail", args=[ev.entity_id]))
    try:
        update_ml_model(request.user, ml.entity_id, score_threshold=threshold)
    except ServiceError as exc:
        messages.error(request, f"The score threshold was not saved: {exc.message}")
    else:
        messages.success(
            request,
            f"Saved score threshold {threshold_label(threshold)} on {ml.entity_id}: "
            "batch and real-time predictions of this model will use it.",
        )
    url = reverse("console:evaluation-detail", args=[ev.entity_id])
    return HttpResponseRedirect(f"{url}?threshold={threshold_label(threshold)}#threshold-explorer")

"""An evaluation's pages: summary, live progress, the metric against its baseline with a verdict,
the alerts and the charts of its model type; log, confusion matrix CSV, rename, tags, delete."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from console.model_charts import build_evaluation_report, confusion_csv
from console.models import Evaluation, Status
from console.services.evaluations import delete_evaluation

from .objects import (
    change_tags_and_return,
    delete_and_return,
    invalid_records,
    log_download,
    log_tail,
    owned_or_404,
    progress_panel,
    rename_and_return,
)
from .page_state import refresh_if_status_changed
from .threshold_explorer import explorer_for

DETAIL_TEMPLATE = "console/evaluations/detail.html"


@require_GET
def evaluation_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, owned_or_404(Evaluation, request, entity_id))


@require_GET
def evaluation_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    ev = owned_or_404(Evaluation, request, entity_id)
    refresh = refresh_if_status_changed(request, ev)
    return refresh or progress_panel(
        request, ev, "console/evaluations/partials/progress.html", _progress_context
    )


@require_GET
def evaluation_log(request: HttpRequest, entity_id: str) -> HttpResponse:
    return log_download(owned_or_404(Evaluation, request, entity_id))


@require_GET
def evaluation_matrix_csv(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The full multiclass confusion matrix, every class, as CSV (the page shows at most 10)."""
    ev = owned_or_404(Evaluation, request, entity_id)
    full = ((ev.details or {}).get("Details") or {}).get("full_confusion_matrix")
    if not full:
        raise Http404("This evaluation has no confusion matrix.")
    response = HttpResponse(confusion_csv(full), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ev.entity_id}-confusion-matrix.csv"'
    return response


@require_POST
def evaluation_rename(request: HttpRequest, entity_id: str) -> HttpResponse:
    return rename_and_return(request, owned_or_404(Evaluation, request, entity_id))


@require_POST
def evaluation_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    ev = owned_or_404(Evaluation, request, entity_id)
    return change_tags_and_return(request, ev, _render_detail)


@require_POST
def evaluation_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    return delete_and_return(
        request, owned_or_404(Evaluation, request, entity_id), delete_evaluation
    )


def _progress_context(ev: Evaluation) -> dict[str, Any]:
    """While PENDING, what the evaluation still waits for: its model and/or its datasource."""
    waiting_for = [
        obj for obj in (ev.ml_model, ev.evaluation_data_source) if obj.status != Status.COMPLETED
    ]
    records = (ev.progress or {}).get("records")
    return {"ev": ev, "waiting_for": waiting_for, "records": records}


def _render_detail(
    request: HttpRequest, ev: Evaluation, *, status: int = 200, **extra: Any
) -> HttpResponse:
    ml = ev.ml_model
    completed = ev.status == Status.COMPLETED and ev.details
    report = (
        build_evaluation_report(
            ml.ml_model_type, ev.performance_metrics, ev.details, ml.score_threshold
        )
        if completed
        else None
    )
    # The binary explorer: the cut-off asked for in the address (?threshold=), or a 400 saying why not.
    explorer = None
    if report and report.model_type == "BINARY":
        explorer = explorer_for(request, ml, dict(ev.details.get("Details") or {}))
        status = 400 if explorer.error and status == 200 else status
    context = {
        **_progress_context(ev),
        "ml": ml,
        "report": report,
        "explorer": explorer,
        "log_tail": log_tail(ev),
        "invalid_records": invalid_records(ev) if report and report.invalid_record_count else [],
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)

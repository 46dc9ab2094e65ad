"""An evaluation's pages: summary, live progress, the metric against its baseline with a verdict,
the alerts and the charts of its model type; log, confusion matrix CSV, rename, tags, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from console.model_charts import build_evaluation_report, confusion_csv
from console.models import Evaluation, Status
from console.services.evaluations import delete_evaluation

from .objects import change_tags_from_post, log_download, log_tail, owned_or_404, rename_from_post

DETAIL_TEMPLATE = "console/evaluations/detail.html"


@require_GET
def evaluation_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, owned_or_404(Evaluation, request, entity_id))


@require_GET
def evaluation_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The progress panel htmx polls; once the evaluation is over the whole page reloads."""
    ev = owned_or_404(Evaluation, request, entity_id)
    if request.htmx and not ev.is_active:
        return HttpResponseClientRefresh()
    return render(request, "console/evaluations/partials/progress.html", _progress_context(ev))


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
    rename_from_post(request, owned_or_404(Evaluation, request, entity_id))
    return redirect("console:evaluation-detail", entity_id=entity_id)


@require_POST
def evaluation_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    ev = owned_or_404(Evaluation, request, entity_id)
    error = change_tags_from_post(request, ev)
    if error:
        ev.refresh_from_db()
        return _render_detail(request, ev, status=400, tags_error=error, tag_form=request.POST)
    return HttpResponseRedirect(reverse("console:evaluation-detail", args=[entity_id]) + "#tags")


@require_POST
def evaluation_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    ev = owned_or_404(Evaluation, request, entity_id)
    delete_evaluation(request.user, entity_id)
    messages.success(request, f"Deleted evaluation {ev.display_name}.")
    return redirect("console:dashboard")


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
    context = {
        **_progress_context(ev),
        "ml": ml,
        "report": report,
        "log_tail": log_tail(ev),
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)

"""An ML model's pages: summary, live training progress, insights, evaluations, log, rename,
tags, delete."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from console.model_charts import build_model_insights, training_progress, verdict_of
from console.models import DataSource, MLModel, Status
from console.services.ml_models import delete_ml_model

from .objects import change_tags_from_post, log_download, log_tail, owned_or_404, rename_from_post

DETAIL_TEMPLATE = "console/models/detail.html"


@require_GET
def ml_model_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, owned_or_404(MLModel, request, entity_id))


@require_GET
def ml_model_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The progress panel htmx polls; once training is over the whole page reloads to show it."""
    ml = owned_or_404(MLModel, request, entity_id)
    if request.htmx and not ml.is_active:
        return HttpResponseClientRefresh()
    return render(request, "console/models/partials/progress.html", _progress_context(ml))


@require_GET
def ml_model_log(request: HttpRequest, entity_id: str) -> HttpResponse:
    return log_download(owned_or_404(MLModel, request, entity_id))


@require_POST
def ml_model_rename(request: HttpRequest, entity_id: str) -> HttpResponse:
    rename_from_post(request, owned_or_404(MLModel, request, entity_id))
    return redirect("console:mlmodel-detail", entity_id=entity_id)


@require_POST
def ml_model_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    ml = owned_or_404(MLModel, request, entity_id)
    error = change_tags_from_post(request, ml)
    if error:
        ml.refresh_from_db()
        return _render_detail(request, ml, status=400, tags_error=error, tag_form=request.POST)
    return HttpResponseRedirect(reverse("console:mlmodel-detail", args=[entity_id]) + "#tags")


@require_POST
def ml_model_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    ml = owned_or_404(MLModel, request, entity_id)
    delete_ml_model(request.user, entity_id)
    messages.success(request, f"Deleted ML model {ml.display_name}.")
    return redirect("console:dashboard")


def _progress_context(ml: MLModel) -> dict[str, Any]:
    ds = ml.training_data_source
    waiting = ds is not None and ds.status != Status.COMPLETED
    return {
        "ml": ml,
        "progress": training_progress(ml.progress),
        "waiting_for": ds if waiting else None,
    }


def _evaluation_rows(ml: MLModel) -> list[dict[str, Any]]:
    evaluations = ml.evaluations.exclude(status=Status.DELETED).select_related(
        "evaluation_data_source"
    )
    return [
        {"ev": ev, "verdict": verdict_of(ev.performance_metrics, ev.details)} for ev in evaluations
    ]


def _render_detail(
    request: HttpRequest, ml: MLModel, *, status: int = 200, **extra: Any
) -> HttpResponse:
    ds: DataSource | None = ml.training_data_source
    completed = ml.status == Status.COMPLETED
    context = {
        **_progress_context(ml),
        "ds": ds,
        "parameters": sorted((ml.training_parameters or {}).items()),
        "evaluations": _evaluation_rows(ml),
        "insights": build_model_insights(ml.insights, request.GET.get("output", ""))
        if completed
        else None,
        "log_tail": log_tail(ml),
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)

"""An ML model's pages: summary, live training progress, insights, evaluations, log, rename,
tags, delete."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from console.evaluation_reports.compare import comparable_ids
from console.model_charts import (
    build_model_insights,
    class_counts_of,
    training_progress,
    verdict_of,
)
from console.models import DataSource, MLModel, Status
from console.public_url import public_base_url
from console.services.ml_models import delete_ml_model
from console.services.realtime import endpoint_info
from console.training_choice import KEY_L2, effective_parameters, training_choice

from .objects import (
    change_tags_and_return,
    delete_and_return,
    log_download,
    log_tail,
    owned_or_404,
    progress_panel,
    rename_and_return,
)
from .page_state import refresh_if_status_changed

DETAIL_TEMPLATE = "console/models/detail.html"


@require_GET
def ml_model_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, owned_or_404(MLModel, request, entity_id))


@require_GET
def ml_model_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    ml = owned_or_404(MLModel, request, entity_id)
    refresh = refresh_if_status_changed(request, ml)
    return refresh or progress_panel(
        request, ml, "console/models/partials/progress.html", _progress_context
    )


@require_GET
def ml_model_evaluations(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The Evaluations card, which htmx polls while one of them is pending or in progress."""
    ml = owned_or_404(MLModel, request, entity_id)
    context = {"ml": ml, **_evaluations_context(ml)}
    return render(request, "console/models/partials/evaluations.html", context)


@require_GET
def ml_model_log(request: HttpRequest, entity_id: str) -> HttpResponse:
    return log_download(owned_or_404(MLModel, request, entity_id))


@require_POST
def ml_model_rename(request: HttpRequest, entity_id: str) -> HttpResponse:
    return rename_and_return(request, owned_or_404(MLModel, request, entity_id))


@require_POST
def ml_model_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    ml = owned_or_404(MLModel, request, entity_id)
    return change_tags_and_return(request, ml, _render_detail)


@require_POST
def ml_model_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    return delete_and_return(request, owned_or_404(MLModel, request, entity_id), delete_ml_model)


def _progress_context(ml: MLModel) -> dict[str, Any]:
    ds = ml.training_data_source
    waiting = ds is not None and ds.status != Status.COMPLETED
    return {
        "ml": ml,
        "progress": training_progress(ml.progress),
        "waiting_for": ds if waiting else None,
    }


def _evaluations_context(ml: MLModel) -> dict[str, Any]:
    """The model's evaluations with their verdicts, and whether one of them still runs."""
    evaluations = ml.evaluations.exclude(status=Status.DELETED).select_related(
        "evaluation_data_source"
    )
    rows = [
        {"ev": ev, "verdict": verdict_of(ev.performance_metrics, ev.details)} for ev in evaluations
    ]
    return {
        "evaluations": rows,
        "evaluations_active": any(row["ev"].is_active for row in rows),
        "compare_ids": ",".join(comparable_ids(row["ev"] for row in rows)),
    }


def _render_detail(
    request: HttpRequest, ml: MLModel, *, status: int = 200, **extra: Any
) -> HttpResponse:
    ds: DataSource | None = ml.training_data_source
    completed = ml.status == Status.COMPLETED
    context = {
        **_progress_context(ml),
        "ds": ds,
        "parameters": sorted(
            effective_parameters(ml.training_parameters, ml.training_choice).items()
        ),
        "choice": training_choice(ml.training_choice),
        "automatic_l2": (ml.training_parameters or {}).get(KEY_L2) == "auto",
        **_evaluations_context(ml),
        "insights": build_model_insights(
            ml.insights,
            request.GET.get("output", ""),
            class_counts_of(ds.statistics if ds else None),
        )
        if completed
        else None,
        "log_tail": log_tail(ml),
        "endpoint": endpoint_info(ml, base_url=public_base_url(request)),
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)

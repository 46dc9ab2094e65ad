"""An ML model's real-time predictions: "Try real-time predictions" (no endpoint needed, as in
AML) and Create / Delete endpoint."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from console.models import MLModel, Status
from console.predictions import tryit
from console.services import realtime
from console.services.errors import ServiceError
from mlcore.train.model import TrainedModel

from .objects import owned_or_404

TEMPLATE = "console/models/predict.html"


@require_http_methods(["GET", "POST"])
def ml_model_predict(request: HttpRequest, entity_id: str) -> HttpResponse:
    """GET: the empty form. POST `action=paste`: fill the form from a CSV row; otherwise
    Create prediction from the form's values."""
    ml = owned_or_404(MLModel, request, entity_id)
    if ml.status != Status.COMPLETED:
        return _render(request, ml, None, status=409, error=_not_ready(ml))
    try:
        model = realtime.loaded_model(ml)
    except ServiceError as exc:
        return _render(request, ml, None, status=409, error=exc.message)
    if request.method == "GET":
        return _render(request, ml, model)
    if request.POST.get("action") == "paste":
        return _paste(request, ml, model)
    return _predict(request, ml, model)


@require_POST
def ml_model_endpoint(request: HttpRequest, entity_id: str) -> HttpResponse:
    """Create endpoint / Delete endpoint, then back to the model's page."""
    ml = owned_or_404(MLModel, request, entity_id)
    try:
        if request.POST.get("action") == "delete":
            realtime.delete_realtime_endpoint(request.user, ml.entity_id)
            messages.success(request, "The real-time endpoint was deleted.")
        else:
            realtime.create_realtime_endpoint(request.user, ml.entity_id)
            messages.success(request, "The real-time endpoint is being created.")
    except ServiceError as exc:
        messages.error(request, exc.message)
    return redirect("console:mlmodel-detail", entity_id=ml.entity_id)


def _paste(request: HttpRequest, ml: MLModel, model: TrainedModel) -> HttpResponse:
    pasted = request.POST.get("record", "")
    try:
        record = tryit.record_from_csv_row(model, pasted)
    except tryit.PasteError as exc:
        return _render(request, ml, model, status=400, paste_error=str(exc), pasted=pasted)
    return _render(request, ml, model, values=record, pasted=pasted)


def _predict(request: HttpRequest, ml: MLModel, model: TrainedModel) -> HttpResponse:
    record = tryit.record_from_form(model, request.POST)
    try:
        answer = realtime.predict(request.user, ml.entity_id, record)
    except ServiceError as exc:
        return _render(request, ml, model, status=400, values=record, error=exc.message)
    prediction = answer["Prediction"]
    result = {
        "json": json.dumps(answer, indent=2),
        "prediction": prediction,
        "bars": tryit.score_bars(prediction, ml.ml_model_type),
        "contributions": realtime.contributions(request.user, ml.entity_id, record),
    }
    return _render(request, ml, model, values=record, result=result)


def _render(
    request: HttpRequest,
    ml: MLModel,
    model: TrainedModel | None,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    **extra: Any,
) -> HttpResponse:
    ds = ml.training_data_source
    fields = (
        tryit.attribute_fields(model, ds.statistics if ds else None, values or {})
        if model is not None
        else []
    )
    context = {
        "ml": ml,
        "fields": fields,
        "target": model.schema.target if model is not None else None,
        "columns": tryit.training_columns(model) if model is not None else [],
        **extra,
    }
    return render(request, TEMPLATE, context, status=status)


def _not_ready(ml: MLModel) -> str:
    return (
        f"ML model {ml.entity_id} is {ml.get_status_display().lower()}: only a completed "
        "ML model can predict."
    )

"""Summary pages for ML models, evaluations and batch predictions (fuller pages come later).

Like every page, a lookup is per owner: another user's id is a 404, never a 403.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.models import AMLObject, BatchPrediction, Evaluation, MLModel
from console.services import common
from console.services.errors import ResourceNotFound

LOG_TAIL_LINES = 30


@require_GET
def ml_model_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _summary(request, MLModel, entity_id, "console/objects/mlmodel_detail.html")


@require_GET
def evaluation_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _summary(request, Evaluation, entity_id, "console/objects/evaluation_detail.html")


@require_GET
def batch_prediction_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _summary(
        request, BatchPrediction, entity_id, "console/objects/batchprediction_detail.html"
    )


def _summary(
    request: HttpRequest, model: type[AMLObject], entity_id: str, template: str
) -> HttpResponse:
    try:
        obj = common.get_owned(model, request.user, entity_id)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc
    log_tail = "\n".join(obj.log.splitlines()[-LOG_TAIL_LINES:])
    return render(request, template, {"obj": obj, "log_tail": log_tail})

"""Summary pages for ML models, evaluations and batch predictions (full pages come later)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


ml_model_detail = evaluation_detail = batch_prediction_detail = _todo

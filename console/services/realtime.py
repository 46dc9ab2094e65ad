"""Real-time predictions (reference section 9): CreateRealtimeEndpoint, DeleteRealtimeEndpoint,
and Predict, which the console's "Try real-time predictions" calls without an endpoint, as AML's
console did.

An endpoint goes NONE → UPDATING (the create) → READY (a worker has loaded the model file, see
`mount_realtime_endpoint`). Its URL is the server's own base address (AML_PUBLIC_BASE_URL), because
boto3 sends Predict to whatever EndpointUrl says.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from console import lifecycle
from console.models import MLModel, Status
from mlcore.artifacts import load_model
from mlcore.errors import MLCoreError
from mlcore.predict.explain import explain_record
from mlcore.predict.scoring import score_record
from mlcore.train.model import TrainedModel

from . import common
from .errors import InvalidInput, PredictorNotMounted, ServiceError

PEAK_REQUESTS_PER_SECOND = 200  # AML's limit per endpoint [DG: System Limits]
MODEL_CACHE_SIZE = 8  # model files kept loaded in this process (Predict must answer quickly)

Endpoint = MLModel.EndpointStatus
# what `predict` reads of the model's row: loading its other columns too was a third of the
# cost of the lookup, the largest part of a Predict after the model is loaded (issue 10)
PREDICT_FIELDS = ("entity_id", "status", "endpoint_status", "artifact_key", "score_threshold")


def endpoint_info(ml: MLModel, *, base_url: str | None = None) -> dict[str, Any]:
    """AML's RealtimeEndpointInfo for the model; its URL is `base_url` (the address the request
    came to, for the API) or else AML_PUBLIC_BASE_URL."""
    if ml.endpoint_status == Endpoint.NONE:
        return {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}
    info: dict[str, Any] = {
        "EndpointStatus": ml.endpoint_status,
        "EndpointUrl": (base_url or settings.AML_PUBLIC_BASE_URL).rstrip("/"),
        "PeakRequestsPerSecond": PEAK_REQUESTS_PER_SECOND,
    }
    if ml.endpoint_created_at is not None:
        info["CreatedAt"] = ml.endpoint_created_at.timestamp()
    return info


def create_realtime_endpoint(owner: Any, ml_model_id: str) -> MLModel:
    """CreateRealtimeEndpoint: a completed model's endpoint becomes UPDATING, then READY once a
    worker has loaded its model file. Asking again for a model that has one changes nothing."""
    ml = common.get_owned(MLModel, owner, ml_model_id)
    if ml.status != Status.COMPLETED:
        raise InvalidInput(
            f"ML model {ml.entity_id} is {ml.get_status_display().lower()}: only a completed "
            "ML model can have a real-time endpoint."
        )
    if ml.endpoint_status in (Endpoint.READY, Endpoint.UPDATING):
        return ml
    with transaction.atomic():
        MLModel.objects.filter(pk=ml.pk).update(
            endpoint_status=Endpoint.UPDATING,
            endpoint_created_at=timezone.now(),
            updated_at=timezone.now(),
        )
        lifecycle.append_log(ml, "Real-time endpoint requested.")
        _enqueue_mount(ml.pk)
    ml.refresh_from_db()
    return ml


def delete_realtime_endpoint(owner: Any, ml_model_id: str) -> MLModel:
    """DeleteRealtimeEndpoint: back to NONE (Predict is refused from then on)."""
    ml = common.get_owned(MLModel, owner, ml_model_id)
    if ml.endpoint_status != Endpoint.NONE:
        MLModel.objects.filter(pk=ml.pk).update(
            endpoint_status=Endpoint.NONE, endpoint_created_at=None, updated_at=timezone.now()
        )
        lifecycle.append_log(ml, "Real-time endpoint deleted.")
        ml.refresh_from_db()
    return ml


def mount_realtime_endpoint(pk: int) -> str:
    """The worker's half of CreateRealtimeEndpoint: load the model file, then READY (or FAILED).

    Conditional on UPDATING, so a delete while it loads is not undone.
    """
    ml = MLModel.objects.filter(pk=pk).first()
    if ml is None or ml.endpoint_status != Endpoint.UPDATING:
        return "skipped"
    try:
        loaded_model(ml)
    except ServiceError as exc:
        _fail_endpoint(pk, exc.message)
        return "failed"
    ready = MLModel.objects.filter(pk=pk, endpoint_status=Endpoint.UPDATING).update(
        endpoint_status=Endpoint.READY, updated_at=timezone.now()
    )
    if ready:
        lifecycle.append_log(ml, "Real-time endpoint ready.")
    return "ready" if ready else "skipped"


def predict(
    owner: Any, ml_model_id: str, record: dict[str, str], *, require_endpoint: bool = False
) -> dict[str, Any]:
    """Predict: `{"Prediction": …}` exactly as AML returned it, for one record of strings.

    The console's "Try real-time predictions" needs no endpoint (`require_endpoint=False`); the
    API's Predict does. The target and unknown keys are ignored; missing values are scored.
    """
    ml = _model_to_predict(owner, ml_model_id)
    if ml.status != Status.COMPLETED:
        raise InvalidInput(f"ML model {ml.entity_id} is not completed: it cannot predict yet.")
    if require_endpoint and ml.endpoint_status != Endpoint.READY:
        raise PredictorNotMounted(f"ML model {ml.entity_id} has no ready real-time endpoint.")
    model = with_threshold(loaded_model(ml), ml.score_threshold)
    return {"Prediction": score_record(model, _strings(record))}


def _model_to_predict(owner: Any, ml_model_id: str) -> MLModel:
    """`common.get_owned(MLModel, owner, ml_model_id, include_deleted=False)`, reading only the
    columns `predict` needs."""
    ml = (
        MLModel.objects.only(*PREDICT_FIELDS)
        .filter(owner=owner, entity_id=ml_model_id)
        .exclude(status=Status.DELETED)
        .first()
    )
    if ml is None:  # get_owned's refusal, word for word
        return common.get_owned(MLModel, owner, ml_model_id, include_deleted=False)
    return ml


def contributions(owner: Any, ml_model_id: str, record: dict[str, str]) -> dict[str, Any]:
    """Every input attribute's share of the record's score (our addition to AML's Predict):
    weight × transformed value summed per attribute, largest magnitude first, and what they
    add up to with the intercept (the log-odds of "1", the predicted class's logit, or the
    predicted value)."""
    ml = common.get_owned(MLModel, owner, ml_model_id, include_deleted=False)
    model = with_threshold(loaded_model(ml), ml.score_threshold)
    record = _strings(record)
    items = explain_record(model, record, top=None)
    for item in items:
        item["value"] = record.get(item["attribute"], "")
    output = {
        "BINARY": 'the log-odds of "1"',
        "MULTICLASS": "the predicted class's logit",
        "REGRESSION": "the predicted value",
    }[ml.ml_model_type]
    return {"items": items, "output": output}


def with_threshold(model: TrainedModel, threshold: float) -> TrainedModel:
    """The model with the console's saved cut-off (the file keeps the one it was trained with)."""
    if model.score_threshold == threshold:
        return model
    return dataclasses.replace(model, score_threshold=float(threshold))


_cache: OrderedDict[str, TrainedModel] = OrderedDict()
_cache_lock = threading.Lock()


def loaded_model(ml: MLModel) -> TrainedModel:
    """The model's file, loaded once per process (a model file never changes once written)."""
    key = ml.artifact_key
    if not key:
        raise InvalidInput(f"ML model {ml.entity_id} has no model file.")
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    try:
        with default_storage.open(key, "rb") as stream:
            model = load_model(stream)
    except (OSError, MLCoreError) as exc:
        raise InvalidInput(
            f"The model file of ML model {ml.entity_id} cannot be read: {exc}"
        ) from exc
    with _cache_lock:
        _cache[key] = model
        while len(_cache) > MODEL_CACHE_SIZE:
            _cache.popitem(last=False)
    return model


def _strings(record: dict[str, Any]) -> dict[str, str]:
    if not isinstance(record, dict):
        raise InvalidInput("Record must be a map of attribute names to string values.")
    return {str(k): "" if v is None else str(v) for k, v in record.items()}


def _enqueue_mount(pk: int) -> None:
    transaction.on_commit(lambda: _send_mount(pk))


def _send_mount(pk: int) -> None:
    """Publish the mount; an endpoint whose message the broker cannot take is FAILED, not left
    UPDATING with no worker ever coming (and the caller answered with a server error)."""
    from console import dependencies, tasks

    dependencies.publish(
        tasks.mount_realtime_endpoint,
        pk,
        when_refused=lambda exc: _fail_endpoint(pk, dependencies.unqueued_message(exc)),
    )


def _fail_endpoint(pk: int, reason: str) -> None:
    """UPDATING → FAILED (conditional, so a delete meanwhile is not undone), saying why in the log."""
    failed = MLModel.objects.filter(pk=pk, endpoint_status=Endpoint.UPDATING).update(
        endpoint_status=Endpoint.FAILED, updated_at=timezone.now()
    )
    ml = MLModel.objects.filter(pk=pk).first()
    if failed and ml is not None:
        lifecycle.append_log(ml, f"Real-time endpoint failed: {reason}")

"""What every object page shares (owner lookup, log download, rename, tags, delete), and the
batch prediction's summary page until it gets its own.

Like every page, a lookup is per owner: another user's id is a 404, never a 403.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.models import AMLObject, BatchPrediction, Status
from console.services import common
from console.services.errors import ResourceNotFound, ServiceError

LOG_TAIL_LINES = 30

T = TypeVar("T", bound=AMLObject)


def owned_or_404(model: type[T], request: HttpRequest, entity_id: str) -> T:
    """The user's object; anyone else's id is a 404, never a 403 that confirms it exists."""
    try:
        return common.get_owned(model, request.user, entity_id)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc


def log_tail(obj: AMLObject) -> str:
    return "\n".join(obj.log.splitlines()[-LOG_TAIL_LINES:])


def log_download(obj: AMLObject) -> HttpResponse:
    response = HttpResponse(obj.log, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{obj.entity_id}.log"'
    return response


def rename_from_post(request: HttpRequest, obj: AMLObject) -> None:
    """Rename from the form's `name`; a refusal becomes a message on the page it returns to."""
    if obj.status == Status.DELETED:
        messages.error(request, f"A deleted {obj.TYPE_LABEL.lower()} cannot be renamed.")
        return
    try:
        common.rename(type(obj), request.user, obj.entity_id, request.POST.get("name", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)


def change_tags_from_post(request: HttpRequest, obj: AMLObject) -> str | None:
    """Add (or overwrite) one tag, or remove the listed keys; returns the refusal, if any."""
    try:
        if request.POST.get("action") == "remove":
            common.delete_tags(type(obj), request.user, obj.entity_id, request.POST.getlist("key"))
        else:
            tag = {request.POST.get("key", "").strip(): request.POST.get("value", "").strip()}
            common.add_tags(type(obj), request.user, obj.entity_id, tag)
    except ServiceError as exc:
        return exc.message
    return None


@require_GET
def batch_prediction_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    obj = owned_or_404(BatchPrediction, request, entity_id)
    context = {"obj": obj, "log_tail": log_tail(obj)}
    return render(request, "console/objects/batchprediction_detail.html", context)

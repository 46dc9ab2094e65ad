"""A datasource's pages: summary, live progress, data insights, log, schema, rename, tags, delete."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from console.charts import build_insights
from console.models import DataSource, Status
from console.services import common
from console.services.errors import ResourceNotFound, ServiceError
from console.services.listing import progress_of

LOG_TAIL_LINES = 30
DETAIL_TEMPLATE = "console/datasources/detail.html"


@require_GET
def datasource_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, _owned(request, entity_id))


@require_GET
def datasource_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The progress panel htmx polls; once the job is over the whole page reloads to show it."""
    ds = _owned(request, entity_id)
    if request.htmx and not ds.is_active:
        return HttpResponseClientRefresh()
    context = {"ds": ds, "progress": progress_of(ds)}
    return render(request, "console/datasources/partials/progress.html", context)


@require_GET
def datasource_log(request: HttpRequest, entity_id: str) -> HttpResponse:
    ds = _owned(request, entity_id)
    response = HttpResponse(ds.log, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ds.entity_id}.log"'
    return response


@require_GET
def datasource_schema(request: HttpRequest, entity_id: str) -> HttpResponse:
    ds = _owned(request, entity_id)
    return HttpResponse(json.dumps(ds.data_schema or {}, indent=2), content_type="application/json")


@require_POST
def datasource_rename(request: HttpRequest, entity_id: str) -> HttpResponse:
    ds = _owned(request, entity_id)
    if ds.status == Status.DELETED:
        messages.error(request, "A deleted datasource cannot be renamed.")
    else:
        _attempt(
            request,
            common.rename,
            DataSource,
            request.user,
            entity_id,
            request.POST.get("name", ""),
        )
    return redirect("console:datasource-detail", entity_id=entity_id)


@require_POST
def datasource_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    """Add (or overwrite) one tag, or remove the listed keys; a refused tag re-shows the page."""
    ds = _owned(request, entity_id)
    try:
        if request.POST.get("action") == "remove":
            common.delete_tags(DataSource, request.user, entity_id, request.POST.getlist("key"))
        else:
            tag = {request.POST.get("key", "").strip(): request.POST.get("value", "").strip()}
            common.add_tags(DataSource, request.user, entity_id, tag)
    except ServiceError as exc:
        return _render_detail(
            request, ds, status=400, tags_error=exc.message, tag_form=request.POST
        )
    return HttpResponseRedirect(reverse("console:datasource-detail", args=[entity_id]) + "#tags")


@require_POST
def datasource_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    ds = _owned(request, entity_id)
    common.delete(DataSource, request.user, entity_id)
    messages.success(request, f"Deleted datasource {ds.display_name}.")
    return redirect("console:dashboard")


@require_GET
def datasource_copy(request: HttpRequest, entity_id: str) -> HttpResponse:
    """ "Copy settings to create a new datasource": the wizard, prefilled from this one."""
    ds = _owned(request, entity_id)
    location = (
        f"upload://{ds.data_location_s3}" if ds.source_kind == "upload" else ds.data_location_s3
    )
    query = urlencode({"location": location, "name": ds.name, "copy_from": ds.entity_id})
    return HttpResponseRedirect(f"{reverse('console:datasource-create')}?{query}")


def _owned(request: HttpRequest, entity_id: str) -> DataSource:
    """The user's datasource; anyone else's id is a 404, never a 403 that confirms it exists."""
    try:
        return common.get_owned(DataSource, request.user, entity_id)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc


def _attempt(request: HttpRequest, operation: Any, *args: Any) -> None:
    try:
        operation(*args)
    except ServiceError as exc:
        messages.error(request, exc.message)


def _render_detail(
    request: HttpRequest, ds: DataSource, *, status: int = 200, **extra: Any
) -> HttpResponse:
    completed = ds.status == Status.COMPLETED and ds.statistics
    context = {
        "ds": ds,
        "progress": progress_of(ds),
        "target_type": _target_type(ds.data_schema or {}),
        "log_tail": "\n".join(ds.log.splitlines()[-LOG_TAIL_LINES:]),
        "insights": build_insights(ds.statistics, request.GET) if completed else None,
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)


def _target_type(schema: dict[str, Any]) -> str | None:
    target = schema.get("targetAttributeName")
    for attribute in schema.get("attributes") or []:
        if attribute.get("attributeName") == target:
            return str(attribute.get("attributeType"))
    return None

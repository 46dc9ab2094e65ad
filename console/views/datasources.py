"""A datasource's pages: summary, live progress, data insights, log, schema, rename, tags, delete."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.charts import build_insights
from console.models import DataSource, Status
from console.services.datasources import data_location_of, delete_data_source, sample_rows
from console.services.errors import ServiceError
from console.services.listing import progress_of
from mlcore.errors import MLCoreError
from mlcore.stats import invalid_reasons_text

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

DETAIL_TEMPLATE = "console/datasources/detail.html"


@require_GET
def datasource_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, _owned(request, entity_id))


@require_GET
def datasource_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    ds = _owned(request, entity_id)
    refresh = refresh_if_status_changed(request, ds)
    return refresh or progress_panel(
        request, ds, "console/datasources/partials/progress.html", _progress_context
    )


@require_GET
def datasource_log(request: HttpRequest, entity_id: str) -> HttpResponse:
    return log_download(_owned(request, entity_id))


@require_GET
def datasource_schema(request: HttpRequest, entity_id: str) -> HttpResponse:
    ds = _owned(request, entity_id)
    return HttpResponse(json.dumps(ds.data_schema or {}, indent=2), content_type="application/json")


@require_GET
def datasource_sample_rows(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The Preview's sample rows of `?attribute=`: its first values, beside the target's."""
    ds = _owned(request, entity_id)
    if ds.status != Status.COMPLETED:
        return JsonResponse({"error": "The datasource is not ready."}, status=400)
    try:
        return JsonResponse(sample_rows(ds, request.GET.get("attribute", "")))
    except ServiceError as exc:
        return JsonResponse({"error": exc.message}, status=400)
    except MLCoreError as exc:  # the file moved or cannot be read any more
        return JsonResponse({"error": str(exc)}, status=400)


@require_POST
def datasource_rename(request: HttpRequest, entity_id: str) -> HttpResponse:
    return rename_and_return(request, _owned(request, entity_id))


@require_POST
def datasource_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    """Add (or overwrite) one tag, or remove the listed keys; a refused tag re-shows the page."""
    return change_tags_and_return(request, _owned(request, entity_id), _render_detail)


@require_POST
def datasource_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    return delete_and_return(request, _owned(request, entity_id), delete_data_source)


@require_GET
def datasource_copy(request: HttpRequest, entity_id: str) -> HttpResponse:
    """ "Copy settings to create a new datasource": the wizard, prefilled from this one."""
    ds = _owned(request, entity_id)
    location = data_location_of(ds)
    query = urlencode({"location": location, "name": ds.name, "copy_from": ds.entity_id})
    return HttpResponseRedirect(f"{reverse('console:datasource-create')}?{query}")


def _owned(request: HttpRequest, entity_id: str) -> DataSource:
    return owned_or_404(DataSource, request, entity_id)


def _progress_context(ds: DataSource) -> dict[str, Any]:
    return {"ds": ds, "progress": progress_of(ds)}


def _render_detail(
    request: HttpRequest, ds: DataSource, *, status: int = 200, **extra: Any
) -> HttpResponse:
    completed = ds.status == Status.COMPLETED and ds.statistics
    context = {
        **_progress_context(ds),
        "target_type": _target_type(ds.data_schema or {}),
        "log_tail": log_tail(ds),
        "invalid_records": invalid_records(ds) if ds.invalid_records_count else [],
        "records": _record_counts(ds),
        "insights": build_insights(ds.statistics, request.GET) if completed else None,
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)


def _record_counts(ds: DataSource) -> dict[str, Any] | None:
    """Records read, valid and invalid (and why): the same numbers the log and the insights
    give, since read = valid + invalid."""
    if ds.records_count is None or ds.invalid_records_count is None:
        return None
    reasons = (ds.statistics or {}).get("invalidRecordReasons")
    return {
        "read": ds.records_count + ds.invalid_records_count,
        "valid": ds.records_count,
        "invalid": ds.invalid_records_count,
        "why": invalid_reasons_text(reasons),
    }


def _target_type(schema: dict[str, Any]) -> str | None:
    target = schema.get("targetAttributeName")
    for attribute in schema.get("attributes") or []:
        if attribute.get("attributeName") == target:
            return str(attribute.get("attributeType"))
    return None

"""The dashboard ("Objects"): every object of the user's, filtered, searched, paged, deletable."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from console.object_facts import object_facts
from console.services.errors import ResourceNotFound
from console.services.listing import (
    FILTER_STATUSES,
    OBJECT_TYPES,
    ListingQuery,
    delete_objects,
    list_objects,
)

TYPE_CHOICES = [(key, model.TYPE_LABEL) for key, model in OBJECT_TYPES.items()]
STATUS_CHOICES = [(s.value, s.label) for s in FILTER_STATUSES]


@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """The full page, or only the table when htmx asks (filters, pager, refresh)."""
    if request.htmx and not request.htmx.history_restore_request:
        return dashboard_rows(request)
    listing = list_objects(request.user, ListingQuery.from_params(request.GET))
    context = {
        "listing": listing,
        "type_choices": TYPE_CHOICES,
        "status_choices": STATUS_CHOICES,
    }
    return render(request, "console/dashboard.html", context)


@require_GET
def dashboard_rows(request: HttpRequest) -> HttpResponse:
    listing = list_objects(request.user, ListingQuery.from_params(request.GET))
    return render(request, "console/partials/object_table.html", {"listing": listing})


@require_GET
def dashboard_facts(request: HttpRequest, type_key: str, entity_id: str) -> HttpResponse:
    """A row's expander: the object's key facts and links (another user's id is a 404)."""
    try:
        facts = object_facts(request.user, type_key, entity_id)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc
    return render(request, "console/partials/object_facts.html", {"f": facts})


@require_POST
def objects_delete(request: HttpRequest) -> HttpResponse:
    refused: list[str] = []
    deleted, missing = delete_objects(request.user, request.POST.getlist("ids"), refused)
    for reason in refused:
        messages.error(request, reason)
    if deleted:
        messages.success(request, f"Deleted {deleted} object{'s' if deleted != 1 else ''}.")
    if missing:
        messages.error(request, f"{missing} selected object(s) were not found.")
    if not deleted and not missing and not refused:
        messages.info(request, "Select the objects to delete first.")
    return HttpResponseRedirect(_back_to_dashboard(request))


def _back_to_dashboard(request: HttpRequest) -> str:
    """Return to the listing the user was looking at, but only ever on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return target
    return reverse("console:dashboard")

"""What every object page shares (owner lookup, log download, rename, tags, stop, delete).

Like every page, a lookup is per owner: another user's id is a 404, never a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from console.models import AMLObject, Status
from console.services import common
from console.services.errors import ResourceNotFound, ServiceError
from console.services.listing import TYPE_KEY_OF

LOG_TAIL_LINES = 30
INVALID_RECORDS_SHOWN = 20
# How console.jobs logs a skipped record: "<time> Invalid record: <file>, line <n>[, column 'c']: <why>".
_INVALID_RECORD_MARK = "Invalid record: "

T = TypeVar("T", bound=AMLObject)


def owned_or_404(model: type[T], request: HttpRequest, entity_id: str) -> T:
    """The user's object; anyone else's id is a 404, never a 403 that confirms it exists."""
    try:
        return common.get_owned(model, request.user, entity_id)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc


def log_tail(obj: AMLObject) -> str:
    return "\n".join(obj.log.splitlines()[-LOG_TAIL_LINES:])


def invalid_records(obj: AMLObject, limit: int = INVALID_RECORDS_SHOWN) -> list[str]:
    """Where the job skipped records, from its log: "<file>, line <n>: <why>", the first `limit`."""
    found: list[str] = []
    for line in obj.log.splitlines():
        _, mark, where = line.partition(_INVALID_RECORD_MARK)
        if mark:
            found.append(where)
            if len(found) == limit:
                break
    return found


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


def detail_url(obj: AMLObject) -> str:
    return reverse(f"console:{TYPE_KEY_OF[type(obj)]}-detail", args=[obj.entity_id])


def progress_panel(
    request: HttpRequest, obj: T, template: str, context_of: Callable[[T], dict[str, Any]]
) -> HttpResponse:
    """The progress panel htmx polls; once the job is over the whole page reloads to show it."""
    if request.htmx and not obj.is_active:
        return HttpResponseClientRefresh()
    return render(request, template, context_of(obj))


def rename_and_return(request: HttpRequest, obj: AMLObject) -> HttpResponse:
    """The Edit form of a summary's Name: rename, then back to the object's page."""
    rename_from_post(request, obj)
    return redirect(detail_url(obj))


def change_tags_and_return(
    request: HttpRequest, obj: AMLObject, render_detail: Callable[..., HttpResponse]
) -> HttpResponse:
    """The tags card's forms: back to its card, or the page again (400) with the refusal."""
    error = change_tags_from_post(request, obj)
    if error:
        obj.refresh_from_db()
        return render_detail(request, obj, status=400, tags_error=error, tag_form=request.POST)
    return HttpResponseRedirect(detail_url(obj) + "#tags")


def delete_and_return(
    request: HttpRequest, obj: AMLObject, delete: Callable[[Any, str], object]
) -> HttpResponse:
    """ "Delete this …": the service's delete, then the dashboard with a message naming it
    (or back to the page with the refusal, e.g. a model whose endpoint must go first)."""
    try:
        delete(request.user, obj.entity_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(detail_url(obj))
    messages.success(request, f"Deleted {obj.TYPE_LABEL.lower()} {obj.display_name}.")
    return redirect("console:dashboard")


@require_POST
def object_stop(request: HttpRequest, entity_id: str, model: type[AMLObject]) -> HttpResponse:
    """ "Stop": the job ends FAILED ("Stopped by <user> at <time>"), then back to its page.

    One view for the four object types; the URL names the type (`model`)."""
    obj = owned_or_404(model, request, entity_id)
    try:
        common.stop_job(model, request.user, entity_id)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Stopped {obj.TYPE_LABEL.lower()} {obj.display_name}.")
    return redirect(detail_url(obj))

"""One state for a whole object page.

An object's page is rendered from one read of its row, but only its progress card polls. When
the job moves on (Pending → In progress), the summary, the training card and the rest would
keep the old state while the card shows the new one ("Status Pending" beside "pass 5 of 10").
The card therefore says which status the page was drawn for (`?shown=PENDING`); the poll that
finds another status reloads the whole page, so every part shows the same state again.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django_htmx.http import HttpResponseClientRefresh

from console.models.base import AMLObject

SHOWN_PARAMETER = "shown"


def refresh_if_status_changed(request: HttpRequest, obj: AMLObject) -> HttpResponse | None:
    """A full-page refresh when the page was drawn for another status than the row's now."""
    shown = request.GET.get(SHOWN_PARAMETER)
    if request.htmx and shown is not None and shown != obj.status:
        return HttpResponseClientRefresh()
    return None

"""The datasource wizard. (Being built.)"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


wizard_input = wizard_upload = wizard_verify = wizard_schema = wizard_schema_download = _todo
wizard_target = wizard_row_id = wizard_review = _todo

"""A datasource's pages. (Being built.)"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
    raise Http404


datasource_detail = datasource_status = datasource_log = datasource_schema = _todo
datasource_rename = datasource_tags = datasource_delete = datasource_copy = _todo

"""The dashboard: every object of the user's, filtered, searched, paged. (Being built.)"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "console/dashboard.html", {})


def dashboard_rows(request: HttpRequest) -> HttpResponse:
    return render(request, "console/dashboard.html", {})


def objects_delete(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=405)

"""What a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE): the sign-in page again,
HTTP 429, saying why and for how long, instead of axes' bare text."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

TOO_MANY_FAILURES = 429


def locked_out_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    messages.error(
        request,
        f"Too many failed sign-ins for this username from your address: signing in is locked for "
        f"{minutes} minutes. Try again later.",
    )
    context = {"form": AuthenticationForm(request), "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=TOO_MANY_FAILURES)

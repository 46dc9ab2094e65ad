"""django-axes' hooks: what a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE: the sign-in page
again, HTTP 429, saying why and for how long, instead of axes' bare text) and whose address a
failure counts against (AXES_CLIENT_IP_CALLABLE)."""

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


def client_address(request: HttpRequest) -> str | None:
    """The address a sign-in came from. Behind our proxy (AML_BEHIND_PROXY) every request comes
    from the proxy, so the client is the last address of X-Forwarded-For: the one our proxy
    added. The entries before it are whatever the client sent and prove nothing."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "") if settings.AML_BEHIND_PROXY else ""
    added_by_our_proxy = forwarded.rsplit(",", 1)[-1].strip()
    return added_by_our_proxy or request.META.get("REMOTE_ADDR")

"""The user's API access keys: list, create (the secret shown once, on that response only), revoke."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from console.api import keys
from console.public_url import public_base_url
from console.services.errors import InvalidInput, ResourceNotFound

TEMPLATE = "console/access_keys.html"
# AML ran in us-east-1 and eu-west-1; the server accepts any region, the snippets name one.
SNIPPET_REGION = "us-east-1"


@require_GET
def access_keys(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
def access_key_create(request: HttpRequest) -> HttpResponse:
    """Create a key and show its secret on this response, the only time it is ever shown."""
    description = request.POST.get("description", "").strip()
    try:
        key, secret = keys.create_access_key(request.user, description)
    except InvalidInput as refused:
        return _render(
            request, status=400, description_error=refused.message, description=description
        )
    response = _render(
        request,
        created=key,
        secret=secret,
        endpoint_url=_endpoint_url(request),
        region=SNIPPET_REGION,
    )
    # Neither the browser's cache nor a proxy's may keep the one page holding the secret.
    add_never_cache_headers(response)
    return response


@require_POST
def access_key_revoke(request: HttpRequest, access_key_id: str) -> HttpResponse:
    try:
        keys.revoke_access_key(request.user, access_key_id)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, f"Access key {access_key_id} was revoked; it can no longer sign.")
    return redirect("console:access-keys")


def _render(request: HttpRequest, *, status: int = 200, **extra: Any) -> HttpResponse:
    context = {
        "keys": keys.keys_of(request.user),
        "max_length": keys.DESCRIPTION_MAX_LENGTH,
        **extra,
    }
    return render(request, TEMPLATE, context, status=status)


def _endpoint_url(request: HttpRequest) -> str:
    """This server's address as clients reach it: AML_PUBLIC_URL when set, else this request's."""
    return public_base_url(request)

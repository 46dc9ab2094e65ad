"""This server's own address, which a real-time endpoint's EndpointUrl reports.

botocore sends Predict to the scheme and host of `PredictEndpoint`, so the URL must reach this
server. AML_PUBLIC_URL says it when a proxy stands in front; otherwise it is the address the
request came to.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def public_base_url(request: HttpRequest) -> str:
    configured = getattr(settings, "AML_PUBLIC_BASE_URL", "")
    return configured or request.build_absolute_uri("/").rstrip("/")

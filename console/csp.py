"""The Content-Security-Policy header on every response.

Everything the console serves is its own (no CDN, no inline script, handler or style attribute),
so the policy is strict: scripts and styles only from our own origin. A tiny middleware instead of
django-csp: the policy is one fixed string, with no nonces to thread through templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"
REPORT_ONLY_HEADER = "Content-Security-Policy-Report-Only"


def policy_header(directives: Mapping[str, Sequence[str]]) -> str:
    """{"script-src": ["'self'"], "upgrade-insecure-requests": []} -> "script-src 'self'; upgrade-insecure-requests"."""
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.value = policy_header(settings.AML_CONTENT_SECURITY_POLICY)
        # Report-only lets an operator try a changed policy without breaking a page.
        self.header = REPORT_ONLY_HEADER if settings.AML_CSP_REPORT_ONLY else HEADER

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.value:
            response.headers.setdefault(self.header, self.value)
        return response

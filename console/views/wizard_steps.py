"""What both wizards' step views share: loading the user's draft and guarding step order."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, Protocol

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect


class StepDraft(Protocol):
    def missing_step(self, step: str) -> str | None: ...

    def url(self, step: str) -> str: ...


def draft_step_for(
    load_draft: Callable[[HttpRequest, str], Any],
) -> Callable[[str], Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]]:
    """A `@draft_step("name")` decorator for a wizard whose drafts `load_draft` finds."""

    def draft_step(
        step: str,
    ) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
        """Load the user's draft (404 if it is not theirs) and send them back to a skipped step."""

        def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            @wraps(view)
            def wrapper(request: HttpRequest, draft: str) -> HttpResponse:
                loaded: StepDraft = load_draft(request, draft)
                missing = loaded.missing_step(step)
                return redirect(loaded.url(missing)) if missing else view(request, loaded)

            return wrapper

        return decorate

    return draft_step


def posted(request: HttpRequest) -> Any:
    """The POST data to bind a form to, or None on GET (an unbound form)."""
    return request.POST if request.method == "POST" else None

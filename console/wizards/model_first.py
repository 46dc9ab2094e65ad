"""What the wizards that start from an ML model share (batch prediction, evaluation): step 1
picks the model (completed, or still training: the object then waits for it) and starting the
draft confirms it; the later steps are confirmed one by one, each invalidating the ones after it.

Each wizard's draft is a dataclass that mixes in `ModelFirstDraft` and names its `steps` and the
URL names of its first step and of the later ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any, ClassVar, Protocol, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from console.models import AMLObject, MLModel, Status
from console.services.errors import ServiceError

# AML used a completed model or one still training (what is created then waits for it).
USABLE_STATUSES = (Status.PENDING, Status.INPROGRESS, Status.COMPLETED)

Draft = TypeVar("Draft", bound="ModelFirstDraft")


class ModelFirstDraft:
    """Step navigation of a draft whose first step ("model") is confirmed by starting it."""

    steps: ClassVar[tuple[str, ...]]
    create_url_name: ClassVar[str]  # step 1, `?model=` preselects the draft's model
    step_url_name: ClassVar[str]  # the later steps: kwargs draft, step
    token: str
    ml_model_id: str
    confirmed: list[str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)  # type: ignore[call-overload]

    @classmethod
    def from_dict(cls: type[Draft], data: dict[str, Any]) -> Draft:
        return cls(**data)

    def url(self, step: str) -> str:
        if step == "model":
            return f"{reverse(self.create_url_name)}?model={self.ml_model_id}"
        return reverse(self.step_url_name, kwargs={"draft": self.token, "step": step})

    def missing_step(self, step: str) -> str | None:
        """The first earlier step not confirmed yet."""
        earlier = self.steps[: self.steps.index(step)]
        return next((s for s in earlier if s not in self.confirmed), None)

    def confirm(self, step: str) -> None:
        """Mark a step done; later steps must be confirmed again (their inputs may change)."""
        index = self.steps.index(step)
        self.confirmed = [s for s in self.steps[:index] if s in self.confirmed] + [step]

    def next_url(self, step: str) -> str:
        return self.url(self.steps[self.steps.index(step) + 1])

    def previous_url(self, step: str) -> str:
        index = self.steps.index(step)
        return self.url(self.steps[index - 1] if index else "model")


def model_rows(owner: Any) -> list[MLModel]:
    """The user's models a wizard can start from."""
    return list(
        MLModel.objects.owned_by(owner)
        .filter(status__in=USABLE_STATUSES)
        .select_related("training_data_source")
    )


def steps_bar(
    current: str, draft: ModelFirstDraft | None, labels: dict[str, str]
) -> list[dict[str, Any]]:
    """The numbered steps at the top of each page; a reachable step other than this one links."""
    bar = []
    for number, (step, label) in enumerate(labels.items(), start=1):
        done = draft is not None and (step == "model" or step in draft.confirmed)
        reachable = draft is not None and (step == "model" or draft.missing_step(step) is None)
        url = draft.url(step) if draft is not None and step != current and reachable else None
        state = "current" if step == current else "done" if done else ""
        bar.append({"number": number, "label": label, "state": state, "url": url})
    return bar


class _Saves(Protocol):
    def save_draft(self, request: HttpRequest, draft: Any) -> None: ...


class _Discards(Protocol):
    def discard_draft(self, request: HttpRequest, draft: Any) -> None: ...


def create_on_review(
    request: HttpRequest,
    drafts: _Discards,
    draft: Any,
    create: Callable[..., AMLObject],
    *,
    what: str,
    detail_url_name: str,
) -> tuple[HttpResponse | None, str | None]:
    """The review step's Create: the service called with the draft's input, then the draft
    dropped and the new object's page; or (None, the service's refusal) to show on the page."""
    if request.method != "POST":
        return None, None
    try:
        created = create(request.user, **draft.creation_kwargs())
    except ServiceError as exc:
        return None, exc.message
    drafts.discard_draft(request, draft)
    messages.success(
        request,
        f"Created {what} {created.entity_id}. It runs as soon as its ML model and "
        "datasource are ready.",
    )
    return redirect(detail_url_name, entity_id=created.entity_id), None


def render_step(
    request: HttpRequest,
    template: str,
    bar: list[dict[str, Any]],
    draft: ModelFirstDraft | None,
    step: str,
    context: dict[str, Any],
) -> HttpResponse:
    """A step's page: 400 when its form (or the step) has an error."""
    form = context.get("form")
    status = 400 if (form is not None and form.errors) or context.get("error") else 200
    context = {
        "draft": draft,
        "steps": bar,
        "previous_url": draft.previous_url(step) if draft and step != "model" else None,
        **context,
    }
    return render(request, template, context, status=status)


def advance(request: HttpRequest, drafts: _Saves, draft: ModelFirstDraft, step: str) -> Any:
    """Confirm the step, keep the draft, go to the next step."""
    draft.confirm(step)
    drafts.save_draft(request, draft)
    return redirect(draft.next_url(step))

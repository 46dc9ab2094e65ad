"""The evaluation wizard's draft (AML's "Create new… → Evaluation"): 1. ML model → 2. datasource
with the model's target → 3. name → 4. review, kept in the user's session like the other wizards'
drafts (console.session_drafts).

The draft holds form values only; `creation_kwargs` turns them into the arguments of
`create_evaluation`, the service the wizard's Create (and the API) calls.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from console.models import MLModel, Status
from console.session_drafts import SessionDrafts

SESSION_KEY = "evaluation_wizard_drafts"
# AML evaluated a completed model or one still training (the evaluation then waits for it).
USABLE_STATUSES = (Status.PENDING, Status.INPROGRESS, Status.COMPLETED)
STEPS = ("datasource", "name", "review")
STEP_LABELS = {
    "model": "ML model to evaluate",
    "datasource": "Evaluation data",
    "name": "Evaluation name",
    "review": "Review",
}


@dataclass
class EvaluationDraft:
    token: str
    user_id: int
    ml_model_id: str
    data_source_id: str = ""
    name: str = ""
    confirmed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationDraft:
        return cls(**data)

    def url(self, step: str) -> str:
        if step == "model":
            return f"{reverse('console:evaluation-create')}?model={self.ml_model_id}"
        return reverse("console:evaluation-wizard", kwargs={"draft": self.token, "step": step})

    def missing_step(self, step: str) -> str | None:
        """The first earlier step not confirmed yet (the model step is confirmed by starting)."""
        earlier = STEPS[: STEPS.index(step)]
        return next((s for s in earlier if s not in self.confirmed), None)

    def confirm(self, step: str) -> None:
        """Mark a step done; later steps must be confirmed again (their inputs may change)."""
        self.confirmed = [s for s in STEPS[: STEPS.index(step)] if s in self.confirmed] + [step]

    def next_url(self, step: str) -> str:
        return self.url(STEPS[STEPS.index(step) + 1])

    def previous_url(self, step: str) -> str:
        index = STEPS.index(step)
        return self.url(STEPS[index - 1] if index else "model")

    def creation_kwargs(self) -> dict[str, Any]:
        """The arguments of create_evaluation."""
        return {
            "ml_model_id": self.ml_model_id,
            "evaluation_data_source_id": self.data_source_id,
            "evaluation_name": self.name,
        }


def model_rows(owner: Any) -> list[MLModel]:
    """Models that can be evaluated: completed, or still training (the evaluation waits)."""
    return list(
        MLModel.objects.owned_by(owner)
        .filter(status__in=USABLE_STATUSES)
        .select_related("training_data_source")
    )


def default_name(ml: MLModel) -> str:
    return f"Evaluation: {ml.display_name}"


def steps_bar(current: str, draft: EvaluationDraft | None) -> list[dict[str, Any]]:
    bar = []
    for number, (step, label) in enumerate(STEP_LABELS.items(), start=1):
        done = draft is not None and (step == "model" or step in draft.confirmed)
        reachable = draft is not None and (step == "model" or draft.missing_step(step) is None)
        url = draft.url(step) if draft is not None and step != current and reachable else None
        state = "current" if step == current else "done" if done else ""
        bar.append({"number": number, "label": label, "state": state, "url": url})
    return bar


def start_draft(request: HttpRequest, ml: MLModel, data_source_id: str = "") -> EvaluationDraft:
    draft = EvaluationDraft(
        token=secrets.token_urlsafe(9),
        user_id=request.user.pk,
        ml_model_id=ml.entity_id,
        data_source_id=data_source_id,
        name=default_name(ml),
    )
    save_draft(request, draft)
    return draft


def load_draft(request: HttpRequest, token: str) -> EvaluationDraft:
    return _DRAFTS.load(request, token)


def save_draft(request: HttpRequest, draft: EvaluationDraft) -> None:
    _DRAFTS.save(request, draft)


def discard_draft(request: HttpRequest, draft: EvaluationDraft) -> None:
    _DRAFTS.discard(request, draft)


_DRAFTS: SessionDrafts[EvaluationDraft] = SessionDrafts(
    SESSION_KEY, "evaluation", EvaluationDraft.from_dict
)

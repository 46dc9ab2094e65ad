"""The evaluation wizard's draft (AML's "Create new… → Evaluation"): 1. ML model → 2. datasource
with the model's target → 3. name → 4. review, kept in the user's session like the other wizards'
drafts (console.session_drafts).

The draft holds form values only; `creation_kwargs` turns them into the arguments of
`create_evaluation`, the service the wizard's Create (and the API) calls.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest

from console.models import MLModel
from console.session_drafts import SessionDrafts
from console.wizards import model_first
from console.wizards.model_first import ModelFirstDraft

SESSION_KEY = "evaluation_wizard_drafts"
STEPS = ("datasource", "name", "review")
STEP_LABELS = {
    "model": "ML model to evaluate",
    "datasource": "Evaluation data",
    "name": "Evaluation name",
    "review": "Review",
}


@dataclass
class EvaluationDraft(ModelFirstDraft):
    steps = STEPS
    create_url_name = "console:evaluation-create"
    step_url_name = "console:evaluation-wizard"

    token: str
    user_id: int
    ml_model_id: str
    data_source_id: str = ""
    name: str = ""
    confirmed: list[str] = field(default_factory=list)

    def creation_kwargs(self) -> dict[str, Any]:
        """The arguments of create_evaluation."""
        return {
            "ml_model_id": self.ml_model_id,
            "evaluation_data_source_id": self.data_source_id,
            "evaluation_name": self.name,
        }


def default_name(ml: MLModel) -> str:
    return f"Evaluation: {ml.display_name}"


def steps_bar(current: str, draft: EvaluationDraft | None) -> list[dict[str, Any]]:
    return model_first.steps_bar(current, draft, STEP_LABELS)


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

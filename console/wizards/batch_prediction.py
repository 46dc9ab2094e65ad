"""The batch prediction wizard's draft (reference 11.2): 1. ML model → 2. data → 3. results →
4. review, kept in the user's session like the other wizards' drafts (console.session_drafts).

The draft holds form values only; `creation_kwargs` turns them into the arguments of
`create_batch_prediction`, the service the wizard's Create (and the API) calls.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest

from console.models import DataSource, MLModel
from console.session_drafts import SessionDrafts
from console.wizards import model_first
from console.wizards.model_first import USABLE_STATUSES, ModelFirstDraft

SESSION_KEY = "batch_prediction_wizard_drafts"
THEN_BATCH_KEY = "batch_prediction_wizard_after_datasource"
THEN_BATCH_SECONDS = 3 * 3600  # an abandoned detour stops counting after this
STEPS = ("data", "results", "review")
STEP_LABELS = {
    "model": "ML model for batch prediction",
    "data": "Data for batch prediction",
    "results": "Batch prediction results",
    "review": "Review",
}


@dataclass
class BatchPredictionDraft(ModelFirstDraft):
    steps = STEPS
    create_url_name = "console:batchprediction-create"
    step_url_name = "console:batchprediction-wizard"

    token: str
    user_id: int
    ml_model_id: str
    data_source_id: str = ""
    name: str = ""
    destination: str = "storage"  # storage | s3
    output_uri: str = ""
    pass_through: list[str] = field(default_factory=list)
    explain: bool = False
    confirmed: list[str] = field(default_factory=list)

    def creation_kwargs(self) -> dict[str, Any]:
        """The arguments of create_batch_prediction."""
        return {
            "ml_model_id": self.ml_model_id,
            "batch_prediction_data_source_id": self.data_source_id,
            "batch_prediction_name": self.name,
            "output_uri": self.output_uri if self.destination == "s3" else None,
            "pass_through": list(self.pass_through),
            "explain": self.explain,
        }


def data_source_rows(owner: Any, ml: MLModel | None) -> list[dict[str, Any]]:
    """Datasources to score, each saying whether it has the model's target (then the page
    also shows the metric)."""
    target = (
        ml.training_data_source.target_attribute_name if ml and ml.training_data_source else None
    )
    rows = []
    for ds in DataSource.objects.owned_by(owner).filter(status__in=USABLE_STATUSES):
        names = {a.get("attributeName") for a in (ds.data_schema or {}).get("attributes", [])}
        rows.append({"ds": ds, "has_target": bool(target and target in names)})
    return rows


def attribute_names(ds: DataSource | None) -> list[str]:
    if ds is None:
        return []
    return [a.get("attributeName", "") for a in (ds.data_schema or {}).get("attributes", [])]


def steps_bar(current: str, draft: BatchPredictionDraft | None) -> list[dict[str, Any]]:
    return model_first.steps_bar(current, draft, STEP_LABELS)


def start_draft(
    request: HttpRequest, ml: MLModel, data_source_id: str = ""
) -> BatchPredictionDraft:
    draft = BatchPredictionDraft(
        token=secrets.token_urlsafe(9),
        user_id=request.user.pk,
        ml_model_id=ml.entity_id,
        data_source_id=data_source_id,
        name=f"Batch prediction: {ml.display_name}",
    )
    save_draft(request, draft)
    return draft


def load_draft(request: HttpRequest, token: str) -> BatchPredictionDraft:
    return _DRAFTS.load(request, token)


def save_draft(request: HttpRequest, draft: BatchPredictionDraft) -> None:
    _DRAFTS.save(request, draft)


def discard_draft(request: HttpRequest, draft: BatchPredictionDraft) -> None:
    _DRAFTS.discard(request, draft)


def remember_then_batch(request: HttpRequest, draft: BatchPredictionDraft) -> None:
    """The user leaves step 2 to create a datasource: come back to this draft afterwards."""
    request.session[THEN_BATCH_KEY] = {"token": draft.token, "at": time.time()}


def schema_for_new_data_source(request: HttpRequest) -> dict[str, Any] | None:
    """While the user is away from step 2 creating a datasource: the model's training schema
    less its target, offered as the new datasource's schema (used only if it fits the file)."""
    asked = request.session.get(THEN_BATCH_KEY)
    if not isinstance(asked, dict) or time.time() - float(asked.get("at", 0)) > THEN_BATCH_SECONDS:
        return None
    try:
        draft = load_draft(request, str(asked.get("token", "")))
    except Http404:
        return None
    ml = MLModel.objects.filter(owner=request.user, entity_id=draft.ml_model_id).first()
    training = ml.training_data_source if ml is not None else None
    schema = dict(training.data_schema or {}) if training is not None else {}
    target = schema.get("targetAttributeName")
    if not schema.get("attributes"):
        return None
    schema["attributes"] = [a for a in schema["attributes"] if a.get("attributeName") != target]
    schema["targetAttributeName"] = None
    return schema


def url_after_data_source_created(request: HttpRequest, ds: DataSource) -> str | None:
    """Where the datasource wizard's Create continues when the user came from step 2: that step
    again, with the new datasource chosen. Used once, then forgotten."""
    asked = request.session.pop(THEN_BATCH_KEY, None)
    if not isinstance(asked, dict) or time.time() - float(asked.get("at", 0)) > THEN_BATCH_SECONDS:
        return None
    try:
        draft = load_draft(request, str(asked.get("token", "")))
    except Http404:
        return None
    draft.data_source_id = ds.entity_id
    draft.pass_through = []
    save_draft(request, draft)
    return draft.url("data")


_DRAFTS: SessionDrafts[BatchPredictionDraft] = SessionDrafts(
    SESSION_KEY, "batch prediction", BatchPredictionDraft.from_dict
)

"""The "Create ML model" wizard's draft: what the user chose so far, kept in their session.

Like the datasource wizard's drafts (console.wizard_drafts), a draft is keyed by a random token in
the wizard's URLs and records its user; anyone else asking for it gets a 404. The draft holds
form values only; `creation_kwargs` turns them into the arguments of
create_ml_model_with_evaluation, the service the wizard's Create calls.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from console.models import DataSource, Status
from console.services.ml_models import EvaluationPlan
from console.session_drafts import SessionDrafts
from console.wizard_drafts import MODEL_TYPE_LABELS
from mlcore.errors import MLCoreError
from mlcore.schema import Schema, parse_schema
from mlcore.schema.model import MODEL_TYPE_FOR_TARGET

SESSION_KEY = "model_wizard_drafts"
THEN_MODEL_KEY = "model_wizard_after_datasource"
THEN_MODEL_SECONDS = 3 * 3600  # an abandoned "Datasource and ML model" stops counting after this
MEBIBYTE = 1024 * 1024
USABLE_STATUSES = (Status.PENDING, Status.INPROGRESS, Status.COMPLETED)

STEP_URLS = {
    "settings": "console:mlmodel-wizard-settings",
    "recipe": "console:mlmodel-wizard-recipe",
    "advanced": "console:mlmodel-wizard-advanced",
    "evaluation": "console:mlmodel-wizard-evaluation",
    "review": "console:mlmodel-wizard-review",
}
CUSTOM_STEPS = ("recipe", "advanced", "evaluation")
STEP_LABELS = {
    "input": "Input data",
    "settings": "ML model settings",
    "recipe": "Recipe",
    "advanced": "Advanced settings",
    "evaluation": "Evaluation",
    "review": "Review",
}
REGULARIZATION_LABELS = {
    "auto": "Automatic (L2 chosen on held-out records)",
    "none": "None",
    "l1": "L1",
    "l2": "L2",
}
EVALUATION_LABELS = {
    "sequential": "Split the datasource sequentially",
    "random": "Split the datasource randomly",
    "stratified": "Split the datasource stratified by the target",
    "datasource": "Evaluate on another datasource",
    "none": "No evaluation",
}


def new_random_seed() -> str:
    """The console proposed a random seed string for random splits; so do we."""
    return secrets.token_hex(8)


@dataclass
class ModelDraft:
    token: str
    user_id: int
    data_source_id: str
    data_source_name: str
    ml_model_name: str = ""
    evaluation_name: str = ""
    mode: str = "default"  # default | custom
    recipe: str = ""  # empty: the suggested recipe, computed at training time
    max_size_mb: int = 100
    max_passes: int = 10
    shuffle_type: str = "auto"
    regularization_type: str = "auto"
    regularization_amount: str = ""
    evaluation: str = "sequential"  # a key of EVALUATION_LABELS
    train_percent: int = 70
    random_seed: str = field(default_factory=new_random_seed)
    evaluation_data_source_id: str = ""
    confirmed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelDraft:
        return cls(**data)

    # ----------------------------------------------------------------------- steps

    @property
    def custom(self) -> bool:
        return self.mode == "custom"

    def url(self, step: str) -> str:
        return reverse(STEP_URLS[step], kwargs={"draft": self.token})

    def prerequisites(self, step: str) -> tuple[str, ...]:
        order = list(STEP_URLS)
        earlier = order[: order.index(step)]
        return tuple(s for s in earlier if self.custom or s not in CUSTOM_STEPS)

    def missing_step(self, step: str) -> str | None:
        """The step to go back to: an unconfirmed earlier one, or Settings for a custom step
        when the user chose Default."""
        if step in CUSTOM_STEPS and not self.custom:
            return "settings"
        return next((s for s in self.prerequisites(step) if s not in self.confirmed), None)

    def confirm(self, step: str) -> None:
        """Mark a step done; later steps must be confirmed again (their inputs may have changed)."""
        order = list(STEP_URLS)
        self.confirmed = [s for s in order[: order.index(step)] if s in self.confirmed] + [step]

    def next_step(self, step: str) -> str:
        order = [s for s in STEP_URLS if self.custom or s not in CUSTOM_STEPS]
        return order[order.index(step) + 1]

    def previous_url(self, step: str) -> str:
        order = [s for s in STEP_URLS if self.custom or s not in CUSTOM_STEPS]
        index = order.index(step)
        if index:
            return self.url(order[index - 1])
        return f"{reverse('console:mlmodel-create')}?datasource={self.data_source_id}"

    # ----------------------------------------------------------------------- what it creates

    @property
    def parameters(self) -> dict[str, str]:
        """AML's parameter map for the advanced settings (both amounts, since they exclude;
        neither when the trainer is to choose)."""
        amount = self.regularization_amount
        parameters = {
            "sgd.maxMLModelSizeInBytes": str(self.max_size_mb * MEBIBYTE),
            "sgd.maxPasses": str(self.max_passes),
            "sgd.shuffleType": self.shuffle_type,
        }
        if self.regularization_type == "auto":
            return parameters
        return {
            **parameters,
            "sgd.l1RegularizationAmount": amount if self.regularization_type == "l1" else "0",
            "sgd.l2RegularizationAmount": amount if self.regularization_type == "l2" else "0",
        }

    @property
    def plan(self) -> EvaluationPlan:
        if not self.custom:
            return EvaluationPlan()
        if self.evaluation in ("none", "datasource"):
            return EvaluationPlan(
                kind=self.evaluation, data_source_id=self.evaluation_data_source_id
            )
        return EvaluationPlan(
            kind="split",
            strategy=self.evaluation,
            train_percent=self.train_percent,
            random_seed="" if self.evaluation == "sequential" else self.random_seed,
        )

    def creation_kwargs(self) -> dict[str, Any]:
        """The arguments of create_ml_model_with_evaluation."""
        return {
            "data_source_id": self.data_source_id,
            "ml_model_name": self.ml_model_name,
            "evaluation_name": self.evaluation_name,
            "parameters": self.parameters if self.custom else None,
            "recipe": (self.recipe or None) if self.custom else None,
            "plan": self.plan,
        }

    def split_names(self) -> tuple[str, str] | None:
        """The names the service gives the two split datasources (AML's naming)."""
        plan = self.plan
        if plan.kind != "split":
            return None
        base, p, s = self.data_source_name, plan.train_percent, plan.strategy
        return (
            f"{base}_[percentBegin=0, percentEnd={p}, strategy={s}]",
            f"{base}_[percentBegin={p}, percentEnd=100, strategy={s}]",
        )

    @property
    def evaluation_percent(self) -> int:
        return 100 - self.plan.train_percent

    @property
    def regularization_label(self) -> str:
        label = REGULARIZATION_LABELS[self.regularization_type]
        return (
            label
            if self.regularization_type in ("none", "auto")
            else f"{label}, amount {self.regularization_amount}"
        )

    @property
    def evaluation_label(self) -> str:
        return (
            EVALUATION_LABELS[self.evaluation] if self.custom else EVALUATION_LABELS["sequential"]
        )


# --------------------------------------------------------------------------- datasources


def schema_of(ds: DataSource) -> Schema | None:
    try:
        return parse_schema(ds.data_schema) if ds.data_schema else None
    except MLCoreError:
        return None


def model_type_of(ds: DataSource) -> str | None:
    schema = schema_of(ds)
    if schema is None or schema.target_attribute is None:
        return None
    model_type = MODEL_TYPE_FOR_TARGET.get(schema.target_attribute.type)
    return str(model_type.value) if model_type else None


def model_type_label(ds: DataSource) -> str:
    model_type = model_type_of(ds)
    return MODEL_TYPE_LABELS[model_type] if model_type else ""


def why_unusable(ds: DataSource) -> str:
    """Why a model cannot learn from this datasource; empty when it can."""
    if ds.status not in USABLE_STATUSES:
        return f"It is {ds.get_status_display().lower()}."
    schema = schema_of(ds)
    if schema is None:
        # The model type comes from the target, which a schema-less datasource cannot name yet.
        return "Its schema is not known yet: wait until the datasource has been read."
    if schema.target_attribute is None:
        return "It has no target attribute, so there is nothing to learn (it suits predictions)."
    if model_type_of(ds) is None:
        return f"Its target {schema.target!r} is text, which no ML model can predict."
    if (no_inputs := schema.why_no_inputs()) is not None:
        return no_inputs[0].upper() + no_inputs[1:] + "."
    return ""


def data_source_rows(owner: Any) -> list[dict[str, Any]]:
    """The owner's datasources a model could use, each with the reason it cannot, if any."""
    sources = DataSource.objects.owned_by(owner).filter(status__in=USABLE_STATUSES)
    return [
        {
            "ds": ds,
            "target": ds.target_attribute_name or "",
            "model_type": model_type_label(ds),
            "why_not": why_unusable(ds),
        }
        for ds in sources
    ]


# --------------------------------------------------------------------------- the session


def start_draft(request: HttpRequest, ds: DataSource) -> ModelDraft:
    name = f"ML model: {ds.display_name}"
    draft = ModelDraft(
        token=secrets.token_urlsafe(9),
        user_id=request.user.pk,
        data_source_id=ds.entity_id,
        data_source_name=ds.display_name,
        ml_model_name=name,
        evaluation_name=f"Evaluation: {name}",
    )
    save_draft(request, draft)
    return draft


def load_draft(request: HttpRequest, token: str) -> ModelDraft:
    return _DRAFTS.load(request, token)


def save_draft(request: HttpRequest, draft: ModelDraft) -> None:
    _DRAFTS.save(request, draft)


def discard_draft(request: HttpRequest, draft: ModelDraft) -> None:
    _DRAFTS.discard(request, draft)


# --------------------------------------------------------------------------- "Datasource and ML model"


def remember_then_model(request: HttpRequest) -> None:
    """The user wants a model right after the datasource they are about to create."""
    request.session[THEN_MODEL_KEY] = time.time()


def url_after_data_source_created(request: HttpRequest, ds: DataSource) -> str | None:
    """Where the datasource wizard's Create continues when the user asked for a model too:
    this wizard's settings step with the new datasource. Used once, then forgotten."""
    asked_at = request.session.pop(THEN_MODEL_KEY, None)
    if not isinstance(asked_at, (int, float)) or time.time() - asked_at > THEN_MODEL_SECONDS:
        return None
    return start_draft(request, ds).url("settings")


# --------------------------------------------------------------------------- the steps bar


def steps_bar(current: str, draft: ModelDraft | None = None) -> list[dict[str, Any]]:
    """The wizard's steps; open steps are links, custom steps are marked skipped on Default."""
    bar = []
    for index, (step, label) in enumerate(STEP_LABELS.items(), start=1):
        skipped = draft is not None and not draft.custom and step in CUSTOM_STEPS
        done = draft is not None and (step == "input" or step in draft.confirmed)
        state = "current" if step == current else "skipped" if skipped else "done" if done else ""
        url = None
        if draft is not None and step != current and not skipped:
            if step == "input":
                url = f"{reverse('console:mlmodel-create')}?datasource={draft.data_source_id}"
            elif draft.missing_step(step) is None:
                url = draft.url(step)
        bar.append({"number": index, "label": label, "state": state, "url": url})
    return bar


_DRAFTS: SessionDrafts[ModelDraft] = SessionDrafts(SESSION_KEY, "ML model", ModelDraft.from_dict)

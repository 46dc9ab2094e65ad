"""The "Create ML model" wizard (reference 11.2): Input data → ML model settings → (Custom only:
Recipe → Advanced settings → Evaluation) → Review.

Each step's form validates; the views move the draft (console.model_drafts) along, and Create
calls create_ml_model_with_evaluation, the service behind AML's default path.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from console import model_drafts as drafts
from console.evaluation_compat import evaluation_sources
from console.forms.model_wizard import (
    SUGGESTED_L1,
    AdvancedForm,
    EvaluationForm,
    InputForm,
    RecipeForm,
    SettingsForm,
    check_recipe,
    owned_data_source,
)
from console.model_drafts import ModelDraft
from console.models import DataSource
from console.services.errors import ServiceError
from console.services.ml_models import CreatedObjects, create_ml_model_with_evaluation
from console.views.wizard_steps import draft_step_for, posted
from mlcore.recipes import suggest_recipe

TEMPLATES = "console/models/wizard/"


draft_step = draft_step_for(drafts.load_draft)
_posted = posted


def _advance(request: HttpRequest, draft: ModelDraft, step: str) -> HttpResponse:
    draft.confirm(step)
    drafts.save_draft(request, draft)
    return redirect(draft.url(draft.next_step(step)))


def _render(
    request: HttpRequest, step: str, draft: ModelDraft | None, context: dict[str, Any]
) -> HttpResponse:
    form = context.get("form")
    status = 400 if (form is not None and form.errors) or context.get("error") else 200
    context = {
        "draft": draft,
        "steps": drafts.steps_bar(step, draft),
        "previous_url": draft.previous_url(step) if draft else None,
        **context,
    }
    return render(request, f"{TEMPLATES}{step}.html", context, status=status)


def _training_source(request: HttpRequest, draft: ModelDraft) -> DataSource | None:
    return owned_data_source(request.user, draft.data_source_id)


# --------------------------------------------------------------------------- step 1: input data


def wizard_input(request: HttpRequest) -> HttpResponse:
    initial = {"data_source": request.GET.get("datasource", "")}
    form = InputForm(_posted(request), owner=request.user, initial=initial)
    if form.is_bound and form.is_valid():
        if form.chosen is None:  # "I need to create a datasource"
            return redirect("console:mlmodel-create-datasource")
        draft = drafts.start_draft(request, form.chosen)
        return redirect(draft.url("settings"))
    rows = drafts.data_source_rows(request.user)
    return _render(request, "input", None, {"form": form, "rows": rows})


def wizard_new_datasource(request: HttpRequest) -> HttpResponse:
    """ "Datasource and ML model": the datasource wizard first, then back here (see
    model_drafts.url_after_data_source_created, called by its Create)."""
    drafts.remember_then_model(request)
    return redirect(f"{reverse('console:datasource-create')}?then=model")


# --------------------------------------------------------------------------- step 2: settings


@draft_step("settings")
def wizard_settings(request: HttpRequest, draft: ModelDraft) -> HttpResponse:
    initial = {
        "ml_model_name": draft.ml_model_name,
        "mode": draft.mode,
        "evaluation_name": draft.evaluation_name,
    }
    form = SettingsForm(_posted(request), initial=initial)
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "settings")
    ds = _training_source(request, draft)
    model_type = drafts.model_type_label(ds) if ds else ""
    return _render(request, "settings", draft, {"form": form, "ds": ds, "model_type": model_type})


# --------------------------------------------------------------------------- step 3: recipe


def _suggested_recipe(ds: DataSource | None) -> str:
    """AML shows the suggested recipe only once the datasource's statistics exist."""
    schema = drafts.schema_of(ds) if ds is not None else None
    if ds is None or schema is None or not ds.statistics:
        return ""
    return suggest_recipe(schema, ds.statistics)


@draft_step("recipe")
def wizard_recipe(request: HttpRequest, draft: ModelDraft) -> HttpResponse:
    ds = _training_source(request, draft)
    suggested = _suggested_recipe(ds)
    initial = {"recipe": draft.recipe if "recipe" in draft.confirmed else suggested}
    form = RecipeForm(_posted(request), data_source=ds, initial=initial)
    if form.is_bound and form.is_valid():
        draft.recipe = form.cleaned_data["recipe"]
        return _advance(request, draft, "recipe")
    context = {"form": form, "ds": ds, "suggested": suggested}
    return _render(request, "recipe", draft, context)


@require_POST
def recipe_validate(request: HttpRequest) -> HttpResponse:
    """The editor's check as you type: {ok, message, position, section, item}."""
    draft = drafts.load_draft(request, request.POST.get("draft", ""))
    error = check_recipe(request.POST.get("recipe", ""), _training_source(request, draft))
    if error is None:
        return JsonResponse({"ok": True, "message": "", "position": None})
    return JsonResponse(
        {
            "ok": False,
            "message": str(error),
            "position": error.position,
            "section": error.section,
            "item": error.item,
        }
    )


# --------------------------------------------------------------------------- step 4: advanced


@draft_step("advanced")
def wizard_advanced(request: HttpRequest, draft: ModelDraft) -> HttpResponse:
    form = AdvancedForm(_posted(request), initial=AdvancedForm.initial_for(draft))
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "advanced")
    return _render(request, "advanced", draft, {"form": form, "suggested_l1": SUGGESTED_L1})


# --------------------------------------------------------------------------- step 5: evaluation


@draft_step("evaluation")
def wizard_evaluation(request: HttpRequest, draft: ModelDraft) -> HttpResponse:
    initial = EvaluationForm.initial_for(draft)
    form = EvaluationForm(_posted(request), owner=request.user, draft=draft, initial=initial)
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "evaluation")
    training = _training_source(request, draft)
    sources = evaluation_sources(request.user, training, exclude=draft.data_source_id)
    return _render(request, "evaluation", draft, {"form": form, "sources": sources})


# --------------------------------------------------------------------------- step 6: review


@draft_step("review")
def wizard_review(request: HttpRequest, draft: ModelDraft) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            created = create_ml_model_with_evaluation(request.user, **draft.creation_kwargs())
        except ServiceError as exc:
            error = exc.message
        else:
            drafts.discard_draft(request, draft)
            messages.success(request, _created_message(created))
            return redirect("console:mlmodel-detail", entity_id=created.ml_model.entity_id)
    ds = _training_source(request, draft)
    if ds is None:
        raise Http404("The datasource of this draft no longer exists. Start the wizard again.")
    context = {
        "ds": ds,
        "model_type": drafts.model_type_label(ds),
        "split_names": draft.split_names(),
        "evaluation_ds": owned_data_source(request.user, draft.evaluation_data_source_id)
        if draft.custom and draft.evaluation == "datasource"
        else None,
        "error": error,
    }
    return _render(request, "review", draft, context)


def _created_message(created: CreatedObjects) -> str:
    parts = [f"ML model {created.ml_model.entity_id}"]
    if created.evaluation is not None:
        parts.append(f"evaluation {created.evaluation.entity_id}")
    return f"Created {' and '.join(parts)}. Each runs as soon as the data it needs is ready."

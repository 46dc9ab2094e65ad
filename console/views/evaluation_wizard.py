"""The evaluation wizard (AML's "Create new… → Evaluation"): 1. ML model → 2. datasource with its
target → 3. name → 4. review → Create, which calls create_evaluation, the service the JSON API
calls too.

An id the user does not own (in the address or posted) is a 404, like someone else's object page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from console.evaluation_compat import evaluation_sources
from console.forms.evaluation_wizard import DataSourceForm, ModelForm, NameForm
from console.models import AMLObject, DataSource, MLModel
from console.services.common import get_owned
from console.services.errors import ResourceNotFound
from console.services.evaluations import create_evaluation
from console.views.wizard_steps import posted
from console.wizards import evaluation as drafts
from console.wizards.evaluation import EvaluationDraft
from console.wizards.model_first import advance, create_on_review, model_rows, render_step

TEMPLATES = "console/evaluations/wizard/"


def _owned_or_404(model: type[AMLObject], request: HttpRequest, entity_id: str) -> Any:
    """The user's object with that id, None for no id, and a 404 for anyone else's."""
    if not entity_id:
        return None
    try:
        return get_owned(model, request.user, entity_id, include_deleted=False)
    except ResourceNotFound as exc:
        raise Http404(exc.message) from exc


def _render(
    request: HttpRequest, step: str, draft: EvaluationDraft | None, context: dict[str, Any]
) -> HttpResponse:
    bar = drafts.steps_bar(step, draft)
    return render_step(request, f"{TEMPLATES}{step}.html", bar, draft, step, context)


def _advance(request: HttpRequest, draft: EvaluationDraft, step: str) -> HttpResponse:
    return advance(request, drafts, draft, step)


def wizard_model(request: HttpRequest) -> HttpResponse:
    """Step 1. `?model=` preselects one ("Evaluate the ML model"), `?datasource=` is carried to
    step 2 ("Use this datasource to → Evaluate an ML model")."""
    source = request.POST if request.method == "POST" else request.GET
    model_id = source.get("ml_model" if request.method == "POST" else "model", "")
    data_source_id = source.get("data_source" if request.method == "POST" else "datasource", "")
    chosen = _owned_or_404(MLModel, request, model_id.strip())
    ds = _owned_or_404(DataSource, request, data_source_id.strip())
    initial = {"ml_model": model_id, "data_source": ds.entity_id if ds else ""}
    form = ModelForm(posted(request), chosen=chosen, initial=initial)
    if form.is_bound and form.is_valid() and chosen is not None:
        draft = drafts.start_draft(request, chosen, ds.entity_id if ds else "")
        return redirect(draft.url("datasource"))
    context = {"form": form, "models": model_rows(request.user)}
    return _render(request, "model", None, context)


def wizard_step(request: HttpRequest, draft: str, step: str) -> HttpResponse:
    """Steps 2 to 4: load the user's draft (404 if not theirs), back to a skipped step."""
    view = _STEP_VIEWS.get(step)
    if view is None:
        raise Http404("No such step.")
    loaded = drafts.load_draft(request, draft)
    missing = loaded.missing_step(step)
    if missing:
        return redirect(loaded.url(missing))
    return view(request, loaded)


def _model_of(request: HttpRequest, draft: EvaluationDraft) -> MLModel:
    ml = _owned_or_404(MLModel, request, draft.ml_model_id)
    if ml is None:
        raise Http404("The ML model of this draft no longer exists. Start the wizard again.")
    return ml


def _datasource_step(request: HttpRequest, draft: EvaluationDraft) -> HttpResponse:
    ml = _model_of(request, draft)
    wanted = request.POST.get("data_source", "") if request.method == "POST" else ""
    chosen = _owned_or_404(DataSource, request, wanted.strip())
    initial = {"data_source": draft.data_source_id}
    form = DataSourceForm(posted(request), ml=ml, chosen=chosen, initial=initial)
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "datasource")
    training = ml.training_data_source
    context = {
        "form": form,
        "ml": ml,
        "target": training.target_attribute_name if training else "",
        "sources": evaluation_sources(request.user, training),
        "chosen_id": form["data_source"].value() or "",
    }
    return _render(request, "datasource", draft, context)


def _name_step(request: HttpRequest, draft: EvaluationDraft) -> HttpResponse:
    form = NameForm(posted(request), initial={"name": draft.name})
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "name")
    return _render(request, "name", draft, {"form": form})


def _review_step(request: HttpRequest, draft: EvaluationDraft) -> HttpResponse:
    created, error = create_on_review(
        request,
        drafts,
        draft,
        create_evaluation,
        what="evaluation",
        detail_url_name="console:evaluation-detail",
    )
    if created is not None:
        return created
    ml = _model_of(request, draft)
    ds = _owned_or_404(DataSource, request, draft.data_source_id)
    if ds is None:
        raise Http404("The datasource of this draft no longer exists. Start the wizard again.")
    context = {"ml": ml, "ds": ds, "error": error}
    return _render(request, "review", draft, context)


_STEP_VIEWS: dict[str, Callable[[HttpRequest, EvaluationDraft], HttpResponse]] = {
    "datasource": _datasource_step,
    "name": _name_step,
    "review": _review_step,
}

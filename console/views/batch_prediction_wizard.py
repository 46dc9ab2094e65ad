"""The batch prediction wizard (reference 11.2): 1. ML model → 2. data → 3. results → 4. review.

Each step's form validates; the views move the draft (console.wizards.batch_prediction) along, and
Create calls create_batch_prediction, the service the JSON API calls too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from console.forms.batch_prediction_wizard import DataForm, ModelForm, ResultsForm, owned
from console.models import DataSource, MLModel
from console.services.batch_predictions import create_batch_prediction
from console.views.wizard_steps import posted
from console.wizards import batch_prediction as drafts
from console.wizards.batch_prediction import BatchPredictionDraft
from console.wizards.model_first import advance, create_on_review, model_rows, render_step

TEMPLATES = "console/batch_predictions/wizard/"


def _render(
    request: HttpRequest, step: str, draft: BatchPredictionDraft | None, context: dict[str, Any]
) -> HttpResponse:
    bar = drafts.steps_bar(step, draft)
    return render_step(request, f"{TEMPLATES}{step}.html", bar, draft, step, context)


def _advance(request: HttpRequest, draft: BatchPredictionDraft, step: str) -> HttpResponse:
    return advance(request, drafts, draft, step)


def wizard_model(request: HttpRequest) -> HttpResponse:
    """Step 1. `?model=` preselects one ("Use this model to"), `?datasource=` is carried to
    step 2 ("Use this datasource to")."""
    initial = {
        "ml_model": request.GET.get("model", ""),
        "data_source": request.GET.get("datasource", ""),
    }
    form = ModelForm(posted(request), owner=request.user, initial=initial)
    if form.is_bound and form.is_valid() and form.chosen is not None:
        wanted = form.cleaned_data.get("data_source") or ""
        ds = owned(DataSource, request.user, wanted) if wanted else None
        draft = drafts.start_draft(request, form.chosen, ds.entity_id if ds else "")
        return redirect(draft.url("data"))
    context = {"form": form, "models": model_rows(request.user)}
    return _render(request, "model", None, context)


def wizard_step(request: HttpRequest, draft: str, step: str) -> HttpResponse:
    """Steps 2 to 4: load the user's draft (404 if not theirs), back to a skipped step."""
    view = _STEP_VIEWS.get(step)
    if view is None:
        raise Http404("No such step.")
    loaded = drafts.load_draft(request, draft)
    missing = loaded.missing_step(step if step in drafts.STEPS else "data")
    if missing:
        return redirect(loaded.url(missing))
    return view(request, loaded)


def _model_of(request: HttpRequest, draft: BatchPredictionDraft) -> MLModel:
    ml = owned(MLModel, request.user, draft.ml_model_id)
    if ml is None:
        raise Http404("The ML model of this draft no longer exists. Start the wizard again.")
    return ml


def _data_step(request: HttpRequest, draft: BatchPredictionDraft) -> HttpResponse:
    initial = {"data_source": draft.data_source_id}
    form = DataForm(posted(request), owner=request.user, initial=initial)
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "data")
    ml = _model_of(request, draft)
    rows = drafts.data_source_rows(request.user, ml)
    context = {
        "form": form,
        "rows": rows,
        "ml": ml,
        "new_datasource_url": draft.url("new-datasource"),
    }
    return _render(request, "data", draft, context)


def _results_step(request: HttpRequest, draft: BatchPredictionDraft) -> HttpResponse:
    ds = owned(DataSource, request.user, draft.data_source_id)
    initial = {
        "destination": draft.destination,
        "output_uri": draft.output_uri,
        "name": draft.name,
        "pass_through": draft.pass_through,
        "explain": draft.explain,
    }
    columns = drafts.attribute_names(ds)
    form = ResultsForm(posted(request), columns=columns, initial=initial)
    if form.is_bound and form.is_valid():
        form.save(draft)
        return _advance(request, draft, "results")
    return _render(request, "results", draft, {"form": form, "ds": ds, "columns": columns})


def _review_step(request: HttpRequest, draft: BatchPredictionDraft) -> HttpResponse:
    created, error = create_on_review(
        request,
        drafts,
        draft,
        create_batch_prediction,
        what="batch prediction",
        detail_url_name="console:batchprediction-detail",
    )
    if created is not None:
        return created
    ml = _model_of(request, draft)
    ds = owned(DataSource, request.user, draft.data_source_id)
    if ds is None:
        raise Http404("The datasource of this draft no longer exists. Start the wizard again.")
    records = (
        ds.records_count + (ds.invalid_records_count or 0) if ds.records_count is not None else None
    )
    context = {"ml": ml, "ds": ds, "records": records, "error": error}
    return _render(request, "review", draft, context)


def _new_data_source(request: HttpRequest, draft: BatchPredictionDraft) -> HttpResponse:
    """Step 2's "Create a datasource": the datasource wizard, then back to step 2 with it."""
    drafts.remember_then_batch(request, draft)
    return redirect("console:datasource-create")


_STEP_VIEWS: dict[str, Callable[[HttpRequest, BatchPredictionDraft], HttpResponse]] = {
    "data": _data_step,
    "new-datasource": _new_data_source,
    "results": _results_step,
    "review": _review_step,
}

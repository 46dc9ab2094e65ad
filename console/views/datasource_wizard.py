"""The "Create datasource" wizard: Input → Schema → Target → Row ID → Review (reference 11.2).

Each step's form validates; the views only move the draft (console.wizard_drafts) along and
the last step calls create_data_source_from_s3 (or, for the "SQL query" source,
create_data_source_from_rds), the same services the API uses.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.files.uploadhandler import StopUpload
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from console import model_drafts
from console import wizard_drafts as drafts
from console.forms.datasource_wizard import (
    TYPE_CHOICES,
    HeaderForm,
    InputForm,
    LocationForm,
    ReplaceSchemaForm,
    RowIdForm,
    SchemaEditForm,
    TargetForm,
    UploadForm,
    server_path_suggestions,
)
from console.models import DataSource
from console.services.datasources import (
    LocationSummary,
    allowed_roots,
    create_data_source_from_s3,
)
from console.services.errors import ServiceError
from console.services.sql_sources import (
    connection_names,
    create_data_source_from_rds,
    rds_data_for_connection,
)
from console.views.wizard_steps import draft_step_for, posted
from console.wizard_drafts import Draft
from console.wizards import batch_prediction as batch_prediction_drafts

TEMPLATES = "console/datasources/wizard/"


draft_step = draft_step_for(drafts.load_draft)
_posted = posted


# --------------------------------------------------------------------------- step 1: input


def wizard_input(request: HttpRequest) -> HttpResponse:
    initial = InputForm.initial_from_copy(request.user, request.GET)
    form = InputForm(_posted(request), owner=request.user, initial=initial)
    if form.is_bound and form.is_valid():
        draft = drafts.start_draft(
            request,
            location=form.location,
            name=form.datasource_name(),
            original_filename=form.original_filename,
            summary=form.summary,  # type: ignore[arg-type]  # set by a valid form
            # or, on the way from the batch prediction wizard, its model's training schema
            schema_to_copy=form.copied_schema()
            or batch_prediction_drafts.schema_for_new_data_source(request),
        )
        if form.cleaned_data["source"] == "sql":
            draft.sql = form.sql_request()
            drafts.save_draft(request, draft)
        return redirect(draft.url("schema"))
    context = {
        "form": form,
        "steps": drafts.steps_bar("input"),
        "allowed_roots": allowed_roots(),
        "suggested_paths": server_path_suggestions(),
        "upload_limit": settings.AML_UPLOAD_MAX_BYTES,
        "sql_connections": connection_names(),
    }
    return render(request, TEMPLATES + "input.html", context, status=400 if form.errors else 200)


@csrf_exempt  # checked in _store_upload: an oversized body must still get its 413 (see below)
@require_POST
def wizard_upload(request: HttpRequest) -> HttpResponse:
    # SizeLimitedUploadHandler stops a body announced as too large by raising StopUpload while
    # the request is parsed, which would otherwise escape from the CSRF check as a 500.
    try:
        return _store_upload(request)
    except StopUpload:
        return _upload_too_large()


@csrf_protect
def _store_upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST, request.FILES)
    if getattr(request, "upload_too_large", False):
        return _upload_too_large()
    if not form.is_valid():
        return JsonResponse({"error": form.refusal()}, status=400)
    location, filename, size = form.save(request.user)
    name = drafts.default_name(location, filename)
    return JsonResponse({"location": location, "filename": filename, "size": size, "name": name})


def _upload_too_large() -> JsonResponse:
    limit = settings.AML_UPLOAD_MAX_BYTES
    message = f"The file is larger than the upload limit of {limit:,} bytes. Nothing was stored."
    return JsonResponse({"error": message, "limit": limit}, status=413)


@require_POST
def wizard_verify(request: HttpRequest) -> HttpResponse:
    form = LocationForm(request.POST, owner=request.user)
    summary = form.summary if form.is_valid() else None
    delimiter = _delimiter_shown(summary)
    context = {"form": form, "summary": summary, "delimiter": delimiter}
    return render(request, TEMPLATES + "_verify_result.html", context)


def _delimiter_shown(summary: LocationSummary | None) -> str:
    # One column has no delimiter: "Comma" beside "Found a single column" contradicted itself.
    if summary is None:
        return ""
    if len(summary.columns) == 1:
        return "none (a single column)"
    return drafts.delimiter_label(summary.delimiter)


# --------------------------------------------------------------------------- step 2: schema


@draft_step("schema")
def wizard_schema(request: HttpRequest, draft: Draft) -> HttpResponse:
    if request.method != "POST":
        return _render_schema(request, draft)
    action = {"header": _apply_header, "replace": _replace_schema}.get(
        request.POST.get("action", ""), _save_schema
    )
    return action(request, draft)


def _save_schema(request: HttpRequest, draft: Draft) -> HttpResponse:
    form = SchemaEditForm(request.POST, draft=draft)
    if not form.is_valid():
        return _render_schema(request, draft, status=400, table_form=form)
    draft.schema = form.new_schema
    draft.confirm("schema")
    drafts.save_draft(request, draft)
    return redirect(draft.url("target"))


def _apply_header(request: HttpRequest, draft: Draft) -> HttpResponse:
    form = HeaderForm(request.POST, draft=draft, owner=request.user)
    if not form.is_valid():
        return _render_schema(request, draft, status=400, header_form=form)
    drafts.reinfer(draft, form.summary, form.cleaned_data["has_header"])  # type: ignore[arg-type]
    draft.confirmed = []  # names and types changed: every later choice is asked again
    drafts.save_draft(request, draft)
    messages.success(request, "Inferred the schema again with your answer about the first line.")
    return redirect(draft.url("schema"))


def _replace_schema(request: HttpRequest, draft: Draft) -> HttpResponse:
    form = ReplaceSchemaForm(request.POST, request.FILES, draft=draft)
    if not form.is_valid():
        return _render_schema(request, draft, status=400, replace_form=form)
    draft.schema = form.new_schema
    draft.confirmed = []
    drafts.save_draft(request, draft)
    messages.success(
        request,
        " ".join(filter(None, ["Replaced the schema with yours.", form.note]))
        + " Check the types and continue.",
    )
    return redirect(draft.url("schema"))


def _render_schema(
    request: HttpRequest, draft: Draft, *, status: int = 200, **forms: Any
) -> HttpResponse:
    context = {
        "draft": draft,
        "steps": drafts.steps_bar("schema", draft),
        "header_form": HeaderForm(draft=draft, owner=request.user),
        "table_form": SchemaEditForm(draft=draft),
        "replace_form": ReplaceSchemaForm(draft=draft),
        "schema_json": drafts.schema_json(draft.schema),
        "type_choices": TYPE_CHOICES,
        **forms,
    }
    return render(request, TEMPLATES + "schema.html", context, status=status)


@draft_step("schema")
def wizard_schema_download(request: HttpRequest, draft: Draft) -> HttpResponse:
    response = HttpResponse(drafts.schema_json(draft.schema), content_type="application/json")
    filename = f"{drafts.default_name(draft.location, draft.original_filename)}.schema"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --------------------------------------------------------------------------- steps 3 to 5


@draft_step("target")
def wizard_target(request: HttpRequest, draft: Draft) -> HttpResponse:
    form = TargetForm(_posted(request), draft=draft)
    if form.is_bound and form.is_valid():
        return _advance(request, draft, form.new_schema, "target", then="row_id")
    context = {
        "draft": draft,
        "form": form,
        "steps": drafts.steps_bar("target", draft),
        "choices": drafts.target_choices(draft),
    }
    return render(request, TEMPLATES + "target.html", context, status=400 if form.errors else 200)


@draft_step("row_id")
def wizard_row_id(request: HttpRequest, draft: Draft) -> HttpResponse:
    form = RowIdForm(_posted(request), draft=draft)
    if form.is_bound and form.is_valid():
        return _advance(request, draft, form.new_schema, "row_id", then="review")
    context = {"draft": draft, "form": form, "steps": drafts.steps_bar("row_id", draft)}
    return render(request, TEMPLATES + "row_id.html", context, status=400 if form.errors else 200)


def _advance(
    request: HttpRequest, draft: Draft, schema: dict[str, Any], step: str, *, then: str
) -> HttpResponse:
    draft.schema = schema
    draft.confirm(step)
    drafts.save_draft(request, draft)
    return redirect(draft.url(then))


@draft_step("review")
def wizard_review(request: HttpRequest, draft: Draft) -> HttpResponse:
    error = None
    if request.method == "POST":
        try:
            ds = _create_data_source(request.user, draft)
        except ServiceError as exc:
            error = exc.message
        else:
            drafts.discard_draft(request, draft)
            messages.success(
                request, f"Created datasource {ds.entity_id}; its statistics are on the way."
            )
            # "Datasource and ML model" continues in the ML model wizard with the new datasource,
            # and step 2 of the batch prediction wizard returns to its draft.
            then = model_drafts.url_after_data_source_created(
                request, ds
            ) or batch_prediction_drafts.url_after_data_source_created(request, ds)
            return redirect(then or reverse("console:datasource-detail", args=[ds.entity_id]))
    context = {
        "draft": draft,
        "error": error,
        "steps": drafts.steps_bar("review", draft),
        "schema_json": drafts.schema_json(draft.schema),
    }
    return render(request, TEMPLATES + "review.html", context, status=400 if error else 200)


def _create_data_source(owner: Any, draft: Draft) -> DataSource:
    """The datasource the draft describes, through the service its API operation calls."""
    if not draft.sql:
        return create_data_source_from_s3(owner, **draft.creation_kwargs())
    rds_data = rds_data_for_connection(
        draft.sql["sql_connection"],
        draft.sql["sql_query"],
        staging=draft.sql.get("sql_staging", ""),
        schema_json=drafts.schema_json(draft.schema),
    )
    return create_data_source_from_rds(
        owner,
        data_source_id="",
        rds_data=rds_data,
        role_arn="",  # the console's own user runs it: there is no IAM role to record
        data_source_name=draft.name,
        compute_statistics=True,
    )

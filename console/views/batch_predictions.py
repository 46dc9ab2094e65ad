"""A batch prediction's pages: AML's summary, live progress, and once completed the first rows
beside their input, the result files (.gz as written, or CSV decompressed while streaming), the
manifest and the records that could not be scored; log, rename, tags, delete.

Every URL looks the object up per owner (another user's id is a 404), and a file is only ever one
of the locations the job recorded, by its index: nothing from the address names a path.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from console.jobs.statistics import files_of
from console.models import BatchPrediction, Status
from console.predictions import results
from console.predictions.storage import output_label
from console.services.batch_predictions import delete_batch_prediction
from console.services.listing import progress_of
from mlcore.errors import MLCoreError
from mlcore.schema import parse_schema

from .objects import (
    change_tags_and_return,
    delete_and_return,
    invalid_records,
    log_download,
    log_tail,
    owned_or_404,
    progress_panel,
    rename_and_return,
)

DETAIL_TEMPLATE = "console/batch_predictions/detail.html"
METRIC_LABELS = {
    "accuracy": "Accuracy at the saved score threshold",
    "macroF1": "Average F1 score (macro)",
    "rmse": "Root mean square error (RMSE)",
}


@require_GET
def batch_prediction_detail(request: HttpRequest, entity_id: str) -> HttpResponse:
    return _render_detail(request, owned_or_404(BatchPrediction, request, entity_id))


@require_GET
def batch_prediction_status(request: HttpRequest, entity_id: str) -> HttpResponse:
    bp = owned_or_404(BatchPrediction, request, entity_id)
    return progress_panel(
        request, bp, "console/batch_predictions/partials/progress.html", _progress_context
    )


@require_GET
def batch_prediction_log(request: HttpRequest, entity_id: str) -> HttpResponse:
    return log_download(owned_or_404(BatchPrediction, request, entity_id))


@require_GET
def batch_prediction_download(request: HttpRequest, entity_id: str, index: int) -> HttpResponse:
    """Download results (.gz): the file as the job wrote it, streamed."""
    bp, result = _result_or_404(request, entity_id, index)
    response = StreamingHttpResponse(
        results.compressed_chunks(bp, result), content_type="application/gzip"
    )
    response["Content-Disposition"] = attachment(result.result_name)
    return response


@require_GET
def batch_prediction_download_csv(request: HttpRequest, entity_id: str, index: int) -> HttpResponse:
    """Download as CSV: decompressed while it streams, never held whole in memory."""
    bp, result = _result_or_404(request, entity_id, index)
    response = StreamingHttpResponse(
        results.decompressed_chunks(bp, result), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = attachment(result.csv_name)
    return response


@require_GET
def batch_prediction_manifest(request: HttpRequest, entity_id: str) -> HttpResponse:
    """The manifest's content: each input file's location mapped to its result's."""
    bp = owned_or_404(BatchPrediction, request, entity_id)
    if bp.status != Status.COMPLETED or not bp.outputs:
        raise Http404("This batch prediction has no manifest.")
    response = HttpResponse(json.dumps(bp.outputs), content_type="application/json")
    name = bp.manifest_location.rsplit("/", 1)[-1] or f"{bp.entity_id}.manifest"
    response["Content-Disposition"] = attachment(name)
    return response


@require_POST
def batch_prediction_rename(request: HttpRequest, entity_id: str) -> HttpResponse:
    return rename_and_return(request, owned_or_404(BatchPrediction, request, entity_id))


@require_POST
def batch_prediction_tags(request: HttpRequest, entity_id: str) -> HttpResponse:
    bp = owned_or_404(BatchPrediction, request, entity_id)
    return change_tags_and_return(request, bp, _render_detail)


@require_POST
def batch_prediction_delete(request: HttpRequest, entity_id: str) -> HttpResponse:
    bp = owned_or_404(BatchPrediction, request, entity_id)
    return delete_and_return(request, bp, delete_batch_prediction)


def attachment(filename: str) -> str:
    """The download's header: a result is named after its input file, which may hold a quote, a
    backslash or non-ASCII letters; Django's helper escapes them (RFC 6266) where an f-string
    would end the quoted name early."""
    return content_disposition_header(True, filename) or "attachment"


def _result_or_404(
    request: HttpRequest, entity_id: str, index: int
) -> tuple[BatchPrediction, results.ResultFile]:
    bp = owned_or_404(BatchPrediction, request, entity_id)
    result = results.result_file(bp, index) if bp.status == Status.COMPLETED else None
    if result is None:
        raise Http404("This batch prediction has no such result file.")
    return bp, result


def _progress_context(bp: BatchPrediction) -> dict[str, Any]:
    """While PENDING, what it still waits for; while INPROGRESS, records and percent of bytes."""
    waiting_for = [
        obj
        for obj in (bp.ml_model, bp.batch_prediction_data_source)
        if obj.status != Status.COMPLETED
    ]
    return {"bp": bp, "waiting_for": waiting_for, "progress": progress_of(bp)}


def _completed_context(bp: BatchPrediction) -> dict[str, Any]:
    ds = bp.batch_prediction_data_source
    try:
        schema = parse_schema(ds.data_schema)
        preview = results.preview(
            bp, files_of(ds), ds.csv_delimiter, schema.data_file_contains_header
        )
    except MLCoreError as exc:
        preview = results.Preview(error=f"The input data cannot be read: {exc}")
    metric = bp.metric or None
    return {
        "preview": preview,
        "result_files": results.result_files(bp),
        "metric": metric,
        "metric_label": METRIC_LABELS.get((metric or {}).get("name", ""), ""),
        "invalid_records": invalid_records(bp) if bp.invalid_record_count else [],
    }


def _render_detail(
    request: HttpRequest, bp: BatchPrediction, *, status: int = 200, **extra: Any
) -> HttpResponse:
    completed = bp.status == Status.COMPLETED
    context = {
        **_progress_context(bp),
        **(_completed_context(bp) if completed else {}),
        "output_label": output_label(bp),
        "log_tail": log_tail(bp),
        **extra,
    }
    return render(request, DETAIL_TEMPLATE, context, status=status)

"""The batch prediction job: score every record of the datasource with the model and write AML's
result files and manifest (mlcore.predict.batch) to the output location."""

from __future__ import annotations

from typing import Any

from console.jobs import JobContext
from console.jobs.statistics import files_of, format_of
from console.models import BatchPrediction
from console.predictions.storage import output_label, output_store_for_batch_prediction
from console.services.errors import ServiceError
from console.services.realtime import loaded_model, with_threshold
from mlcore.errors import MLCoreError
from mlcore.predict.batch import batch_predict
from mlcore.schema import parse_schema


def batch_prediction_job(bp: BatchPrediction, context: JobContext) -> dict[str, Any]:
    ml, ds = bp.ml_model, bp.batch_prediction_data_source
    threshold = bp.score_threshold if bp.score_threshold is not None else ml.score_threshold
    try:
        model = with_threshold(loaded_model(ml), threshold)
    except ServiceError as exc:  # the model file is gone or unreadable: say so plainly
        raise MLCoreError(exc.message) from exc
    schema = parse_schema(
        ds.data_schema
    )  # the engine reads the model's columns by name, typed as trained
    files = files_of(ds)
    total_bytes = sum(f.size for f in files)
    context.progress(force=True, phase="scoring", records=0, bytes=0, totalBytes=total_bytes)
    if ds.data_rearrangement:
        context.log("The datasource's data rearrangement is not applied: every record is scored.")
    context.log(f"Writing results to {output_label(bp)}.")
    result = batch_predict(
        model,
        files,
        schema,
        format_of(ds, schema),
        batch_prediction_id=bp.entity_id,
        store=output_store_for_batch_prediction(bp),
        pass_through=tuple(bp.pass_through or ()),
        explain=bp.explain,
        progress=lambda records, done: context.progress(
            phase="scoring", records=records, bytes=done, totalBytes=total_bytes
        ),
        log=context.log,
        on_invalid=context.invalid,  # file, line and reason of each, logged like every job's
    )
    context.log(
        f"Scored {result.total_records:,} records, {result.invalid_records:,} could not be "
        f"scored; manifest {result.manifest_location}."
    )
    return {
        "total_record_count": result.total_records,
        "invalid_record_count": result.invalid_records,
        "outputs": dict(result.outputs),
        "manifest_location": result.manifest_location,
        "metric": result.metric,
        "progress": {
            "phase": "done",
            "records": result.total_records,
            "bytes": total_bytes,
            "totalBytes": total_bytes,
        },
    }

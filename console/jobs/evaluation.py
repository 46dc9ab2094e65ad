"""The evaluation job: score the evaluation datasource with the model and compare with the truth."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage

from console.jobs import JobContext
from console.jobs.statistics import files_of, format_of
from console.models import Evaluation
from mlcore.artifacts import load_model
from mlcore.errors import DataError
from mlcore.evaluate import evaluate_model
from mlcore.io.rearrangement import parse_rearrangement
from mlcore.schema import Attribute, Schema, parse_schema
from mlcore.stats import records_read_text


def evaluate_job(ev: Evaluation, context: JobContext) -> dict[str, Any]:
    ml, ds = ev.ml_model, ev.evaluation_data_source
    with default_storage.open(ml.artifact_key, "rb") as stream:
        model = load_model(stream)
    schema = with_training_types(parse_schema(ds.data_schema), model.schema)
    if schema.target is None:
        raise DataError(f"datasource {ds.entity_id} has no target attribute to compare with")
    total_bytes = ds.data_size_in_bytes or 0
    result = evaluate_model(
        model,
        files_of(ds),
        schema,
        format_of(ds, schema),
        rearrangement=parse_rearrangement(ds.data_rearrangement or None),
        progress=lambda records, done: context.progress(
            phase="scoring", records=records, bytes=done, totalBytes=total_bytes
        ),
        on_invalid=context.invalid,
        training_info={
            "training_datasource_id": ml.training_data_source.entity_id,
            "evaluation_datasource_id": ds.entity_id,
            "training_records": model.records_used,
            "training_schema": model.schema,
        },
    )
    metric = next(iter(result["PerformanceMetrics"]["Properties"].items()))
    context.log(
        records_read_text(
            {
                "recordsRead": result["TotalRecordCount"],
                "recordCount": result["RecordCount"],
                "invalidRecordCount": result["InvalidRecordCount"],
                "invalidRecordReasons": result["InvalidRecordReasons"],
            }
        )
    )
    context.log(f"Scored the {result['RecordCount']:,} valid records: {metric[0]} = {metric[1]}.")
    kept = explorer_note(result["Details"])
    if kept:
        context.log(kept)
    return {
        "performance_metrics": result["PerformanceMetrics"],
        "details": {k: v for k, v in result.items() if k != "PerformanceMetrics"},
        "progress": {"phase": "done", "records": result["TotalRecordCount"]},
    }


def explorer_note(details: dict[str, Any]) -> str:
    """The log's line about the bounded pieces kept for the explorer pages ("" when none)."""
    if "cell_examples" in details:
        cells = details["cell_examples"]["cells"]
        stored = sum(len(records) for records in cells.values())
        return f"Kept {stored:,} example records for {len(cells):,} confusion-matrix cells."
    if "sample" in details:
        sample = details["sample"]
        return (
            f"Kept a sample of {len(sample['actual']):,} of {sample['records']:,} predictions "
            "for the scatter plots."
        )
    return ""


def with_training_types(evaluation: Schema, training: Schema) -> Schema:
    """AML: where the evaluation schema types an attribute differently, the training type wins."""
    trained = {a.name: a.type for a in training.attributes}
    evaluation.attributes = [
        Attribute(a.name, trained.get(a.name, a.type)) for a in evaluation.attributes
    ]
    return evaluation

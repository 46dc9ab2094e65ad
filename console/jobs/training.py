"""The model job: train on the training datasource, store the model file, keep its insights."""

from __future__ import annotations

import io
import math
import tempfile
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from console.jobs import JobContext
from console.jobs.statistics import files_of, format_of
from console.models import MLModel
from mlcore.artifacts import save_model
from mlcore.errors import DataError
from mlcore.io.rearrangement import parse_rearrangement
from mlcore.predict.insights import model_insights
from mlcore.recipes import suggest_recipe
from mlcore.schema import parse_schema
from mlcore.train.parameters import TrainingParameters
from mlcore.train.pipeline import train_model


def train_job(ml: MLModel, context: JobContext) -> dict[str, Any]:
    ds = ml.training_data_source
    schema = parse_schema(ds.data_schema)
    if schema.target is None:
        raise DataError(f"datasource {ds.entity_id} has no target attribute to learn")
    recipe = ml.recipe or suggest_recipe(schema, ds.statistics)
    if not ml.recipe:
        context.log("No recipe was given; using the suggested recipe.")
    parameters = TrainingParameters.from_aml(ml.training_parameters)
    losses: list[float] = []
    with tempfile.TemporaryDirectory(prefix="aml-train-") as work_dir:
        model = train_model(
            files_of(ds),
            schema,
            format_of(ds, schema),
            model_type=ml.ml_model_type,
            recipe_text=recipe,
            parameters=parameters,
            rearrangement=parse_rearrangement(ds.data_rearrangement or None),
            progress=_progress_reporter(context, losses),
            log=context.log,
            work_dir=work_dir,
        )
    key, size = _store_model_file(ml, model)
    context.log(f"Model file {key}: {size:,} bytes, {model.n_features:,} features.")
    return {
        "artifact_key": key,
        "size_in_bytes": model.size_in_bytes,
        "recipe": recipe,
        "training_choice": model.regularization or {},
        "insights": model_insights(model),
        "progress": {
            "phase": "done",
            "pass": model.passes,
            "passes": parameters.max_passes,
            "records": model.records_used,
            "loss": [x for x in model.history if math.isfinite(x)],
        },
    }


def _progress_reporter(context: JobContext, losses: list[float]) -> Any:
    def report(pass_k: int, n_passes: int, records: int, loss: float) -> None:
        finished_a_pass = pass_k > 0 and math.isfinite(loss)
        if finished_a_pass:
            losses.append(float(loss))
        context.progress(
            force=finished_a_pass,
            phase="training" if pass_k > 0 else "reading",
            records=records,
            passes=n_passes,
            loss=list(losses),
            **{"pass": pass_k},
        )

    return report


def _store_model_file(ml: MLModel, model: Any) -> tuple[str, int]:
    buffer = io.BytesIO()
    save_model(model, buffer)
    name = f"models/{ml.owner_id}/{ml.entity_id}.amlmodel"
    if default_storage.exists(name):
        default_storage.delete(name)
    key = default_storage.save(name, ContentFile(buffer.getvalue()))
    return key, buffer.tell()

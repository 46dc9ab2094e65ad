"""Our objects as AML's Get*/Describe* outputs, exactly as botocore's service model shapes them.

Pure functions of the object (no query of their own when the Describe query has joined what they
read: the owner and the related objects' ids). What the JSON protocol needs:

* timestamps are epoch seconds (floats), `ComputeTime` milliseconds (as `compute_time` is);
* a member we have no value for is left out, never null;
* `*_output` is the Get* output (with `LogUri`, and the verbose extras when asked), `*_summary`
  the element of Describe*'s `Results` (the service model gives the two different members:
  only the Describe element of a model carries `Algorithm`, only Get* carries `LogUri`).

Where the console differs from AML (for docs/api.md):

* `LogUri` is the object's log page on this server (`<base>/datasources/<id>/log/` …): a download
  for a browser logged in as the owner, not a presigned S3 URL.
* `DataLocationS3` / `InputDataLocationS3` of a datasource read from a server path is that path,
  and of an uploaded file `upload://<storage key>` (what CreateDataSourceFromS3 accepts back).
* `OutputUri` of a batch prediction written to the console's own storage (no OutputUri given):
  with S3 storage (`AML_STORAGE=s3`) the `s3://bucket/<prefix>/batch-predictions/<owner>/<id>/`
  folder that holds AML's layout (`batch-prediction/<id>.manifest`, `batch-prediction/result/…`),
  which a client with access to the bucket reads as it read AML's; with local storage the batch
  prediction's page on this server (`<base>/batch-predictions/<id>/`), where the results are
  downloaded.
* `ScoreThreshold` is given for BINARY models only (the only ones that have one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.urls import reverse

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel
from console.predictions.storage import storage_prefix
from console.services.datasources import data_location_of, schema_json_for
from console.services.realtime import endpoint_info
from console.training_choice import effective_parameters
from mlcore.errors import MLCoreError
from mlcore.train.parameters import TrainingParameters

Output = dict[str, Any]

MAX_MESSAGE = 10_240  # the service model's Message shape
_ELLIPSIS = "…"
# The console's URL name prefix of each type's pages ("<key>-log", "<key>-detail").
_URL_KEY: dict[type[AMLObject], str] = {
    DataSource: "datasource",
    MLModel: "mlmodel",
    Evaluation: "evaluation",
    BatchPrediction: "batchprediction",
}
# The keys the SQL source kinds keep in `sql_metadata`, copied as they are.
_SQL_METADATA_KEYS = ("RedshiftMetadata", "RDSMetadata", "RoleARN")


# --- DataSource ------------------------------------------------------------------------------


def data_source_summary(ds: DataSource, *, base_url: str) -> Output:
    """The `DataSource` element of DescribeDataSources' `Results`."""
    out: Output = {"DataSourceId": ds.entity_id, "DataLocationS3": data_location_of(ds)}
    _put(out, "DataRearrangement", ds.data_rearrangement or None)
    out["CreatedByIamUser"] = iam_user_arn(ds.owner)
    out.update(_timestamps(ds))
    _put(out, "DataSizeInBytes", ds.data_size_in_bytes)
    _put(out, "NumberOfFiles", ds.number_of_files)
    _put(out, "Name", ds.name or None)
    out["Status"] = str(ds.status)
    _put(out, "Message", _message(ds))
    for key in _SQL_METADATA_KEYS:
        _put(out, key, (ds.sql_metadata or {}).get(key) or None)
    out["ComputeStatistics"] = bool(ds.compute_statistics)
    out.update(_timings(ds))
    return out


def data_source_output(ds: DataSource, *, verbose: bool, base_url: str) -> Output:
    """GetDataSource's output; `verbose` adds `DataSourceSchema` (the schema JSON string)."""
    out = data_source_summary(ds, base_url=base_url)
    out["LogUri"] = log_uri(ds, base_url)
    if verbose and ds.data_schema:
        out["DataSourceSchema"] = schema_json_for(ds)
    return out


# --- MLModel ---------------------------------------------------------------------------------


def ml_model_summary(ml: MLModel, *, base_url: str) -> Output:
    """The `MLModel` element of DescribeMLModels' `Results`."""
    out = _ml_model_common(ml, base_url)
    out["Algorithm"] = ml.algorithm or "sgd"
    return out


def ml_model_output(ml: MLModel, *, verbose: bool, base_url: str) -> Output:
    """GetMLModel's output; `verbose` adds `Recipe` (once known: given, or the suggested one
    stored at training) and `Schema` (the training datasource's schema JSON string)."""
    out = _ml_model_common(ml, base_url)
    out["LogUri"] = log_uri(ml, base_url)
    if verbose:
        _put(out, "Recipe", ml.recipe or None)
        training = ml.training_data_source if ml.training_data_source_id else None
        if training is not None and training.data_schema:
            out["Schema"] = schema_json_for(training)
    return out


def _ml_model_common(ml: MLModel, base_url: str) -> Output:
    training = ml.training_data_source if ml.training_data_source_id else None
    out: Output = {"MLModelId": ml.entity_id}
    _put(out, "TrainingDataSourceId", training.entity_id if training else None)
    out["CreatedByIamUser"] = iam_user_arn(ml.owner)
    out.update(_timestamps(ml))
    _put(out, "Name", ml.name or None)
    out["Status"] = str(ml.status)
    _put(out, "SizeInBytes", ml.size_in_bytes)
    out["EndpointInfo"] = endpoint_info(ml, base_url=base_url)
    out["TrainingParameters"] = training_parameters_of(ml)
    _put(out, "InputDataLocationS3", data_location_of(training) if training else None)
    out["MLModelType"] = str(ml.ml_model_type)
    if ml.ml_model_type == MLModel.ModelType.BINARY:
        out["ScoreThreshold"] = float(ml.score_threshold)
        _put(out, "ScoreThresholdLastUpdatedAt", _epoch(ml.score_threshold_last_updated_at))
    _put(out, "Message", _message(ml))
    out.update(_timings(ml))
    return out


def training_parameters_of(ml: MLModel) -> dict[str, str]:
    """The parameters as trained, every one a string, that CreateMLModel accepts back unchanged
    as `Parameters`: the stored ones completed with the defaults, and an L2 amount left to the
    trainer ("auto") replaced by the amount it chose once it has."""
    stored = {str(k): str(v) for k, v in (ml.training_parameters or {}).items()}
    try:
        # read as the trainer reads them (console/jobs/training.py), so the defaults are its own
        complete = dict(TrainingParameters.from_aml(stored).to_aml())
    except MLCoreError:
        complete = stored  # made before the parameters were validated: shown as they are
    return effective_parameters(complete, ml.training_choice)


# --- Evaluation ------------------------------------------------------------------------------


def evaluation_summary(ev: Evaluation, *, base_url: str) -> Output:
    """The `Evaluation` element of DescribeEvaluations' `Results`."""
    source = ev.evaluation_data_source
    out: Output = {
        "EvaluationId": ev.entity_id,
        "MLModelId": ev.ml_model.entity_id,
        "EvaluationDataSourceId": source.entity_id,
        "InputDataLocationS3": data_location_of(source),
        "CreatedByIamUser": iam_user_arn(ev.owner),
    }
    out.update(_timestamps(ev))
    _put(out, "Name", ev.name or None)
    out["Status"] = str(ev.status)
    _put(out, "PerformanceMetrics", performance_metrics_of(ev))
    _put(out, "Message", _message(ev))
    out.update(_timings(ev))
    return out


def evaluation_output(ev: Evaluation, *, base_url: str) -> Output:
    """GetEvaluation's output."""
    out = evaluation_summary(ev, base_url=base_url)
    out["LogUri"] = log_uri(ev, base_url)
    return out


def performance_metrics_of(ev: Evaluation) -> dict[str, Any] | None:
    """`{"Properties": {"BinaryAUC": "0.93…"}}`: AML gave the values as strings, and clients
    call float() on them."""
    properties = ((ev.performance_metrics or {}).get("Properties")) or {}
    if not properties:
        return None
    return {"Properties": {str(k): _metric_text(v) for k, v in properties.items()}}


def _metric_text(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


# --- BatchPrediction -------------------------------------------------------------------------


def batch_prediction_summary(bp: BatchPrediction, *, base_url: str) -> Output:
    """The `BatchPrediction` element of DescribeBatchPredictions' `Results`."""
    source = bp.batch_prediction_data_source
    out: Output = {
        "BatchPredictionId": bp.entity_id,
        "MLModelId": bp.ml_model.entity_id,
        "BatchPredictionDataSourceId": source.entity_id,
        "InputDataLocationS3": data_location_of(source),
        "CreatedByIamUser": iam_user_arn(bp.owner),
    }
    out.update(_timestamps(bp))
    _put(out, "Name", bp.name or None)
    out["Status"] = str(bp.status)
    out["OutputUri"] = output_uri_of(bp, base_url)
    _put(out, "Message", _message(bp))
    out.update(_timings(bp))
    _put(out, "TotalRecordCount", bp.total_record_count)
    _put(out, "InvalidRecordCount", bp.invalid_record_count)
    return out


def batch_prediction_output(bp: BatchPrediction, *, base_url: str) -> Output:
    """GetBatchPrediction's output."""
    out = batch_prediction_summary(bp, base_url=base_url)
    out["LogUri"] = log_uri(bp, base_url)
    return out


def output_uri_of(bp: BatchPrediction, base_url: str) -> str:
    """The OutputUri given, or where the console's own storage keeps the results: the s3://
    folder when that storage is a bucket, else the batch prediction's page on this server."""
    if not bp.in_console_storage:
        return bp.output_uri
    bucket = getattr(default_storage, "bucket_name", None)
    if bucket:
        location = str(getattr(default_storage, "location", "") or "").strip("/")
        key = f"{location}/{storage_prefix(bp)}" if location else storage_prefix(bp)
        return f"s3://{bucket}/{key}"
    return _page_url(bp, "detail", base_url)


# --- What every type shares ------------------------------------------------------------------


def iam_user_arn(user: Any) -> str:
    """`CreatedByIamUser`: the console user as an IAM user of the configured account."""
    return f"arn:aws:iam::{settings.AML_ACCOUNT_ID}:user/{user.get_username()}"


def log_uri(obj: AMLObject, base_url: str) -> str:
    """The object's log on this server (a download for the owner's logged-in browser)."""
    return _page_url(obj, "log", base_url)


def _page_url(obj: AMLObject, page: str, base_url: str) -> str:
    path = reverse(f"console:{_URL_KEY[type(obj)]}-{page}", kwargs={"entity_id": obj.entity_id})
    return base_url.rstrip("/") + path


def _timestamps(obj: AMLObject) -> Output:
    return {"CreatedAt": _epoch(obj.created_at), "LastUpdatedAt": _epoch(obj.updated_at)}


def _timings(obj: AMLObject) -> Output:
    """ComputeTime, FinishedAt, StartedAt: each only once there is one."""
    out: Output = {}
    _put(out, "ComputeTime", obj.compute_time)
    _put(out, "FinishedAt", _epoch(obj.finished_at))
    _put(out, "StartedAt", _epoch(obj.started_at))
    return out


def _message(obj: AMLObject) -> str | None:
    message = obj.message or ""
    if not message:
        return None
    if len(message) <= MAX_MESSAGE:
        return message
    return message[: MAX_MESSAGE - len(_ELLIPSIS)] + _ELLIPSIS


def _epoch(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _put(out: Output, key: str, value: Any) -> None:
    if value is not None:
        out[key] = value

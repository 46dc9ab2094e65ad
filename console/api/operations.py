"""The 28 operations of the AML API, each a thin call of the service the wizards call.

A handler takes the caller (`Call`: the user, the checked input, this server's address) and
returns the operation's output document. Services raise `ServiceError`s named after AML's
exceptions; the view turns them into AWS JSON errors.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel
from console.services import (
    batch_predictions,
    common,
    datasources,
    evaluations,
    ml_models,
    realtime,
)
from console.services.errors import InvalidInput, InvalidTag, LimitExceeded

from . import describe, outputs


@dataclass(frozen=True)
class Call:
    """One API request: who makes it, its checked input, and this server's own address."""

    owner: Any
    params: dict[str, Any]
    base_url: str

    def get(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name)
        return default if value is None else value


Handler = Callable[[Call], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}

RESOURCE_TYPES: dict[str, type[AMLObject]] = {
    "DataSource": DataSource,
    "MLModel": MLModel,
    "Evaluation": Evaluation,
    "BatchPrediction": BatchPrediction,
}


def operation(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[name] = handler
        return handler

    return register


# ------------------------------------------------------------------------------ DataSources


@operation("CreateDataSourceFromS3")
def create_data_source_from_s3(call: Call) -> dict[str, Any]:
    ds = datasources.create_data_source_from_s3(
        call.owner,
        data_spec=call.params["DataSpec"],
        data_source_id=call.params["DataSourceId"],
        data_source_name=call.get("DataSourceName", ""),
        compute_statistics=call.get("ComputeStatistics", False),
    )
    return {"DataSourceId": ds.entity_id}


@operation("CreateDataSourceFromRDS")
def create_data_source_from_rds(call: Call) -> dict[str, Any]:
    from console.services import sql_sources

    ds = sql_sources.create_data_source_from_rds(
        call.owner,
        data_source_id=call.params["DataSourceId"],
        rds_data=call.params["RDSData"],
        role_arn=call.params["RoleARN"],
        data_source_name=call.get("DataSourceName", ""),
        compute_statistics=call.get("ComputeStatistics", False),
    )
    return {"DataSourceId": ds.entity_id}


@operation("CreateDataSourceFromRedshift")
def create_data_source_from_redshift(call: Call) -> dict[str, Any]:
    from console.services import sql_sources

    ds = sql_sources.create_data_source_from_redshift(
        call.owner,
        data_source_id=call.params["DataSourceId"],
        data_spec=call.params["DataSpec"],
        role_arn=call.params["RoleARN"],
        data_source_name=call.get("DataSourceName", ""),
        compute_statistics=call.get("ComputeStatistics", False),
    )
    return {"DataSourceId": ds.entity_id}


@operation("GetDataSource")
def get_data_source(call: Call) -> dict[str, Any]:
    ds = datasources.get_data_source(call.owner, call.params["DataSourceId"])
    return outputs.data_source_output(
        ds, verbose=call.get("Verbose", False), base_url=call.base_url
    )


@operation("UpdateDataSource")
def update_data_source(call: Call) -> dict[str, Any]:
    ds = datasources.update_data_source(
        call.owner, call.params["DataSourceId"], call.params["DataSourceName"]
    )
    return {"DataSourceId": ds.entity_id}


@operation("DeleteDataSource")
def delete_data_source(call: Call) -> dict[str, Any]:
    ds = datasources.delete_data_source(call.owner, call.params["DataSourceId"])
    return {"DataSourceId": ds.entity_id}


@operation("DescribeDataSources")
def describe_data_sources(call: Call) -> dict[str, Any]:
    return describe.describe(DataSource, call.owner, call.params, base_url=call.base_url)


# ------------------------------------------------------------------------------ ML models


@operation("CreateMLModel")
def create_ml_model(call: Call) -> dict[str, Any]:
    ml = ml_models.create_ml_model(
        call.owner,
        ml_model_id=call.params["MLModelId"],
        ml_model_type=call.params["MLModelType"],
        training_data_source_id=call.params["TrainingDataSourceId"],
        ml_model_name=call.get("MLModelName", ""),
        parameters=call.get("Parameters"),
        recipe=call.get("Recipe"),
        recipe_uri=call.get("RecipeUri"),
    )
    return {"MLModelId": ml.entity_id}


@operation("GetMLModel")
def get_ml_model(call: Call) -> dict[str, Any]:
    ml = ml_models.get_ml_model(call.owner, call.params["MLModelId"])
    return outputs.ml_model_output(ml, verbose=call.get("Verbose", False), base_url=call.base_url)


@operation("UpdateMLModel")
def update_ml_model(call: Call) -> dict[str, Any]:
    ml = ml_models.update_ml_model(
        call.owner,
        call.params["MLModelId"],
        ml_model_name=call.get("MLModelName"),
        score_threshold=call.get("ScoreThreshold"),
    )
    return {"MLModelId": ml.entity_id}


@operation("DeleteMLModel")
def delete_ml_model(call: Call) -> dict[str, Any]:
    ml = ml_models.delete_ml_model(call.owner, call.params["MLModelId"])
    return {"MLModelId": ml.entity_id}


@operation("DescribeMLModels")
def describe_ml_models(call: Call) -> dict[str, Any]:
    return describe.describe(MLModel, call.owner, call.params, base_url=call.base_url)


# ------------------------------------------------------------------------------ Evaluations


@operation("CreateEvaluation")
def create_evaluation(call: Call) -> dict[str, Any]:
    ev = evaluations.create_evaluation(
        call.owner,
        evaluation_id=call.params["EvaluationId"],
        ml_model_id=call.params["MLModelId"],
        evaluation_data_source_id=call.params["EvaluationDataSourceId"],
        evaluation_name=call.get("EvaluationName", ""),
    )
    return {"EvaluationId": ev.entity_id}


@operation("GetEvaluation")
def get_evaluation(call: Call) -> dict[str, Any]:
    ev = evaluations.get_evaluation(call.owner, call.params["EvaluationId"])
    return outputs.evaluation_output(ev, base_url=call.base_url)


@operation("UpdateEvaluation")
def update_evaluation(call: Call) -> dict[str, Any]:
    ev = evaluations.update_evaluation(
        call.owner, call.params["EvaluationId"], call.params["EvaluationName"]
    )
    return {"EvaluationId": ev.entity_id}


@operation("DeleteEvaluation")
def delete_evaluation(call: Call) -> dict[str, Any]:
    ev = evaluations.delete_evaluation(call.owner, call.params["EvaluationId"])
    return {"EvaluationId": ev.entity_id}


@operation("DescribeEvaluations")
def describe_evaluations(call: Call) -> dict[str, Any]:
    return describe.describe(Evaluation, call.owner, call.params, base_url=call.base_url)


# ------------------------------------------------------------------------------ Batch predictions


@operation("CreateBatchPrediction")
def create_batch_prediction(call: Call) -> dict[str, Any]:
    bp = batch_predictions.create_batch_prediction(
        call.owner,
        batch_prediction_id=call.params["BatchPredictionId"],
        ml_model_id=call.params["MLModelId"],
        batch_prediction_data_source_id=call.params["BatchPredictionDataSourceId"],
        batch_prediction_name=call.get("BatchPredictionName", ""),
        output_uri=call.params["OutputUri"],
    )
    return {"BatchPredictionId": bp.entity_id}


@operation("GetBatchPrediction")
def get_batch_prediction(call: Call) -> dict[str, Any]:
    bp = batch_predictions.get_batch_prediction(call.owner, call.params["BatchPredictionId"])
    return outputs.batch_prediction_output(bp, base_url=call.base_url)


@operation("UpdateBatchPrediction")
def update_batch_prediction(call: Call) -> dict[str, Any]:
    bp = batch_predictions.update_batch_prediction(
        call.owner, call.params["BatchPredictionId"], call.params["BatchPredictionName"]
    )
    return {"BatchPredictionId": bp.entity_id}


@operation("DeleteBatchPrediction")
def delete_batch_prediction(call: Call) -> dict[str, Any]:
    bp = batch_predictions.delete_batch_prediction(call.owner, call.params["BatchPredictionId"])
    return {"BatchPredictionId": bp.entity_id}


@operation("DescribeBatchPredictions")
def describe_batch_predictions(call: Call) -> dict[str, Any]:
    return describe.describe(BatchPrediction, call.owner, call.params, base_url=call.base_url)


# ------------------------------------------------------------------------------ Tags


@operation("AddTags")
def add_tags(call: Call) -> dict[str, Any]:
    model, entity_id = _resource(call)
    tags: dict[str, str] = {}
    for index, tag in enumerate(call.params["Tags"]):
        if not tag.get("Key"):
            # the service model leaves Tag.Key optional; a tag without one is still no tag
            raise InvalidTag(f"Tags[{index}].Key is required.")
        tags[tag["Key"]] = tag.get("Value") or ""
    common.add_tags(model, call.owner, entity_id, tags)
    return _resource_output(call)


@operation("DeleteTags")
def delete_tags(call: Call) -> dict[str, Any]:
    model, entity_id = _resource(call)
    common.delete_tags(model, call.owner, entity_id, list(call.params["TagKeys"]))
    return _resource_output(call)


@operation("DescribeTags")
def describe_tags(call: Call) -> dict[str, Any]:
    model, entity_id = _resource(call)
    obj = common.get_owned(model, call.owner, entity_id)
    tags = [{"Key": key, "Value": value} for key, value in sorted(obj.tags.items())]
    return {**_resource_output(call), "Tags": tags}


def _resource(call: Call) -> tuple[type[AMLObject], str]:
    return RESOURCE_TYPES[call.params["ResourceType"]], call.params["ResourceId"]


def _resource_output(call: Call) -> dict[str, Any]:
    return {"ResourceId": call.params["ResourceId"], "ResourceType": call.params["ResourceType"]}


# ------------------------------------------------------------------------------ Real time


@operation("CreateRealtimeEndpoint")
def create_realtime_endpoint(call: Call) -> dict[str, Any]:
    ml = realtime.create_realtime_endpoint(call.owner, call.params["MLModelId"])
    return _endpoint_output(ml, call)


@operation("DeleteRealtimeEndpoint")
def delete_realtime_endpoint(call: Call) -> dict[str, Any]:
    ml = realtime.delete_realtime_endpoint(call.owner, call.params["MLModelId"])
    return _endpoint_output(ml, call)


def _endpoint_output(ml: MLModel, call: Call) -> dict[str, Any]:
    return {
        "MLModelId": ml.entity_id,
        "RealtimeEndpointInfo": realtime.endpoint_info(ml, base_url=call.base_url),
    }


@operation("Predict")
def predict(call: Call) -> dict[str, Any]:
    ml_model_id = call.params["MLModelId"]
    record = call.params["Record"]
    if not isinstance(record, dict):
        raise InvalidInput("Record must be a map of attribute names to string values.")
    _rate_limiter.admit((call.owner.pk, ml_model_id))
    return realtime.predict(call.owner, ml_model_id, record, require_endpoint=True)


class RateLimiter:
    """At most `limit` requests per second per endpoint, in this process (a sliding second).

    AML refused Predict calls above an endpoint's peak requests per second with
    LimitExceededException. Each server process counts its own requests, so N processes admit
    up to N times the limit; docs/api.md says so.
    """

    def __init__(self, limit: int, window: float = 1.0) -> None:
        self.limit = limit
        self.window = window
        self._seen: dict[Any, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: Any, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                raise LimitExceeded(
                    f"The endpoint's limit of {self.limit} requests per second was exceeded; "
                    "retry later."
                )
            times.append(now)


_rate_limiter = RateLimiter(realtime.PEAK_REQUESTS_PER_SECOND)

"""The 28 operations of the AML API, each a thin call of the service the wizards call.

A handler takes the caller (`Call`: the user, the checked input, this server's address) and
returns the operation's output document. Services raise `ServiceError`s named after AML's
exceptions; the view turns them into AWS JSON errors.
"""

from __future__ import annotations

import threading
import time
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


@operation("UpdateMLModel")
def update_ml_model(call: Call) -> dict[str, Any]:
    ml = ml_models.update_ml_model(
        call.owner,
        call.params["MLModelId"],
        ml_model_name=call.get("MLModelName"),
        score_threshold=call.get("ScoreThreshold"),
    )
    return {"MLModelId": ml.entity_id}


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


# ------------------------------------------------------------------------------ Get, Update, Delete, Describe


@dataclass(frozen=True)
class Resource:
    """What the four object types' Get*, Update*, Delete* and Describe* differ by."""

    name: str  # as in the operations' names: "DataSource" (GetDataSource, DescribeDataSources)
    model: type[AMLObject]
    get: Callable[[Any, str], Any]
    delete: Callable[[Any, str], Any]
    rename: Callable[[Any, str, str], Any] | None  # None: UpdateMLModel has its own handler
    output: Callable[..., dict[str, Any]]
    verbose: bool  # whether Get* takes Verbose

    @property
    def id_member(self) -> str:
        return f"{self.name}Id"


RESOURCES = (
    Resource(
        "DataSource",
        DataSource,
        datasources.get_data_source,
        datasources.delete_data_source,
        datasources.update_data_source,
        outputs.data_source_output,
        verbose=True,
    ),
    Resource(
        "MLModel",
        MLModel,
        ml_models.get_ml_model,
        ml_models.delete_ml_model,
        None,
        outputs.ml_model_output,
        verbose=True,
    ),
    Resource(
        "Evaluation",
        Evaluation,
        evaluations.get_evaluation,
        evaluations.delete_evaluation,
        evaluations.update_evaluation,
        outputs.evaluation_output,
        verbose=False,
    ),
    Resource(
        "BatchPrediction",
        BatchPrediction,
        batch_predictions.get_batch_prediction,
        batch_predictions.delete_batch_prediction,
        batch_predictions.update_batch_prediction,
        outputs.batch_prediction_output,
        verbose=False,
    ),
)


def _register_reads_and_changes(resource: Resource) -> None:
    def get(call: Call) -> dict[str, Any]:
        obj = resource.get(call.owner, call.params[resource.id_member])
        extra = {"verbose": call.get("Verbose", False)} if resource.verbose else {}
        return resource.output(obj, base_url=call.base_url, **extra)

    def delete(call: Call) -> dict[str, Any]:
        obj = resource.delete(call.owner, call.params[resource.id_member])
        return {resource.id_member: obj.entity_id}

    def describe_all(call: Call) -> dict[str, Any]:
        return describe.describe(resource.model, call.owner, call.params, base_url=call.base_url)

    HANDLERS[f"Get{resource.name}"] = get
    HANDLERS[f"Delete{resource.name}"] = delete
    HANDLERS[f"Describe{resource.name}s"] = describe_all
    if resource.rename is not None:
        rename = resource.rename

        def update(call: Call) -> dict[str, Any]:
            name = call.params[f"{resource.name}Name"]
            obj = rename(call.owner, call.params[resource.id_member], name)
            return {resource.id_member: obj.entity_id}

        HANDLERS[f"Update{resource.name}"] = update


for _resource in RESOURCES:
    _register_reads_and_changes(_resource)


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


_MODEL_OF_RESOURCE_TYPE = {resource.name: resource.model for resource in RESOURCES}


def _resource(call: Call) -> tuple[type[AMLObject], str]:
    return _MODEL_OF_RESOURCE_TYPE[call.params["ResourceType"]], call.params["ResourceId"]


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
    """At most `limit` requests per second per endpoint, in this process: a token bucket that
    holds a second's worth of requests and refills at `limit` a second.

    AML refused Predict calls above an endpoint's peak requests per second with
    LimitExceededException. A bucket rather than a strict sliding second, so that a client
    sending exactly at the peak is not refused for the jitter of its own timing. Each server
    process counts its own requests, so N processes admit up to N times the limit; docs/api.md
    says so.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buckets: dict[Any, tuple[float, float]] = {}  # key -> (tokens, when)
        self._lock = threading.Lock()

    def admit(self, key: Any, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.limit), now))
            tokens = min(float(self.limit), tokens + (now - then) * self.limit)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                raise LimitExceeded(
                    f"The endpoint's limit of {self.limit} requests per second was exceeded; "
                    "retry later."
                )
            self._buckets[key] = (tokens - 1.0, now)


_rate_limiter = RateLimiter(realtime.PEAK_REQUESTS_PER_SECOND)

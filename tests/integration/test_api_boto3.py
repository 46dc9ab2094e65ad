"""The AML JSON API through boto3's `machinelearning` client, against a live server (issue 10).

One banking pipeline per module, created back to back on PENDING objects with free-form ids
(datasources 70/30, model, evaluation, batch prediction), waited for with botocore's waiters;
then every one of the 28 operations, their errors, Describe's filters, sort and paging with the
paginators, tags, a second user's key, and SigV4's refusals.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from api_server import (
    FAST_WAITER,
    SHARED_DATA_ROOT,
    SQL_BANKING_ROWS,
    ApiServer,
    ApiUser,
    banking_bucket,
    error_code,
    error_message,
    raw_call,
    read_batch_results,
    send,
    signed_request,
    utc_now,
    wait_for_endpoint,
)
from botocore.exceptions import ClientError, WaiterError

pytestmark = [pytest.mark.integration]

TRAIN_SPLIT = '{"splitting":{"percentBegin":0,"percentEnd":70}}'
EVAL_SPLIT = '{"splitting":{"percentBegin":70,"percentEnd":100}}'
# Free-form client ids, as real programs sent them: nothing is inferred from a prefix.
TRAIN_DS = "trainingID.JMVH7NRS"
EVAL_DS = "ds-banking-eval"
BATCH_DS = "batch-input.banking"
MODEL = "ml-banking"
EVALUATION = "ev_banking"
BATCH = "batch2adultincomev1"
COPY_MODEL = "ml-banking.copy"
# Every datasource name in this module sorts before "sorting-" but for the five below.
SORTING_NAMES = ["sorting-a", "sorting-b", "sorting-c", "sorting-c2", "sorting-d"]
IAM_USER_ARN = re.compile(r"arn:aws:iam::[0-9]{12}:user/(?P<name>.+)")


@dataclass
class Pipeline:
    """The module's banking objects: the bucket and each Create call's exact input."""

    bucket: str
    client: Any
    requests: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def output_uri(self) -> str:
        return str(self.requests["batch"]["OutputUri"])


def banking_schema(name: str = "banking.csv") -> str:
    return (SHARED_DATA_ROOT / f"{name}.schema").read_text()


def first_batch_record() -> dict[str, str]:
    with (SHARED_DATA_ROOT / "banking-batch.csv").open(newline="") as stream:
        return dict(next(csv.DictReader(stream)))


def wait(client: Any, waiter: str, server: ApiServer, **describe: Any) -> None:
    """One of botocore's four waiters, polling every second; the server's logs if it fails."""
    try:
        client.get_waiter(waiter).wait(**describe, WaiterConfig=FAST_WAITER)
    except WaiterError as exc:
        pytest.fail(f"{waiter} {describe}: {exc}\n{exc.last_response}\n{server.logs()}")


def code_of(call: Callable[[], Any]) -> str:
    """The error code a call is refused with (the test fails if it succeeds)."""
    with pytest.raises(ClientError) as refused:
        call()
    return error_code(refused.value)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def owner(api_users: tuple[ApiUser, ApiUser]) -> ApiUser:
    return api_users[0]


@pytest.fixture(scope="module")
def other(api_users: tuple[ApiUser, ApiUser]) -> ApiUser:
    return api_users[1]


@pytest.fixture(scope="module")
def ml(ml_client: Callable[..., Any], owner: ApiUser) -> Any:
    return ml_client(owner)


@pytest.fixture(scope="module")
def pipeline(ml: Any, s3_client: Any) -> Pipeline:
    """The banking objects, each created right after the one it uses (still PENDING)."""
    bucket = banking_bucket(s3_client)
    data = f"s3://{bucket}/data"
    schemas = f"s3://{bucket}/schemas"
    run = Pipeline(bucket, ml)
    run.requests["train"] = {
        "DataSourceId": TRAIN_DS,
        "DataSourceName": "bank: training 70%",
        "DataSpec": {
            "DataLocationS3": f"{data}/banking.csv",
            "DataSchemaLocationS3": f"{schemas}/banking.csv.schema",
            "DataRearrangement": TRAIN_SPLIT,
        },
        "ComputeStatistics": True,
    }
    run.requests["eval"] = {
        "DataSourceId": EVAL_DS,
        "DataSourceName": "bank: evaluation 30%",
        "DataSpec": {
            "DataLocationS3": f"{data}/banking.csv",
            "DataSchema": banking_schema(),
            "DataRearrangement": EVAL_SPLIT,
        },
        "ComputeStatistics": True,
    }
    run.requests["batch_ds"] = {
        "DataSourceId": BATCH_DS,
        "DataSourceName": "bank: batch input",
        "DataSpec": {
            "DataLocationS3": f"{data}/banking-batch.csv",
            "DataSchema": banking_schema("banking-batch.csv"),
        },
    }
    run.requests["model"] = {
        "MLModelId": MODEL,
        "MLModelName": "banking model",
        "MLModelType": "BINARY",
        "TrainingDataSourceId": TRAIN_DS,
        "Parameters": {"sgd.maxPasses": "10", "sgd.shuffleType": "auto"},
        "Recipe": (SHARED_DATA_ROOT / "banking-recipe.json").read_text(),
    }
    run.requests["evaluation"] = {
        "EvaluationId": EVALUATION,
        "EvaluationName": "banking evaluation",
        "MLModelId": MODEL,
        "EvaluationDataSourceId": EVAL_DS,
    }
    run.requests["batch"] = {
        "BatchPredictionId": BATCH,
        "BatchPredictionName": "banking batch",
        "MLModelId": MODEL,
        "BatchPredictionDataSourceId": BATCH_DS,
        "OutputUri": f"s3://{bucket}/out/",
    }
    assert ml.create_data_source_from_s3(**run.requests["train"])["DataSourceId"] == TRAIN_DS
    ml.add_tags(
        ResourceId=TRAIN_DS,
        ResourceType="DataSource",
        Tags=[{"Key": "project", "Value": "banking"}, {"Key": "team", "Value": "marketing"}],
    )
    assert ml.create_data_source_from_s3(**run.requests["eval"])["DataSourceId"] == EVAL_DS
    ml.add_tags(
        ResourceId=EVAL_DS, ResourceType="DataSource", Tags=[{"Key": "split", "Value": "thirty"}]
    )
    assert ml.create_ml_model(**run.requests["model"])["MLModelId"] == MODEL
    assert ml.create_evaluation(**run.requests["evaluation"])["EvaluationId"] == EVALUATION
    assert ml.create_data_source_from_s3(**run.requests["batch_ds"])["DataSourceId"] == BATCH_DS
    assert ml.create_batch_prediction(**run.requests["batch"])["BatchPredictionId"] == BATCH
    return run


@pytest.fixture(scope="module")
def completed(pipeline: Pipeline, api_server: ApiServer) -> Pipeline:
    """The pipeline once the four waiters say every object of it is COMPLETED."""
    ml = pipeline.client
    wait(ml, "data_source_available", api_server, FilterVariable="Name", Prefix="bank: ")
    wait(ml, "ml_model_available", api_server, FilterVariable="Name", EQ="banking model")
    wait(ml, "evaluation_available", api_server, FilterVariable="Name", EQ="banking evaluation")
    wait(ml, "batch_prediction_available", api_server, FilterVariable="Name", EQ="banking batch")
    return pipeline


@pytest.fixture(scope="module")
def copy_model(completed: Pipeline, api_server: ApiServer) -> dict[str, Any]:
    """A second model trained with the first's verbose Recipe and TrainingParameters, as given
    back by GetMLModel(Verbose=True); it never gets an endpoint."""
    ml = completed.client
    verbose = ml.get_ml_model(MLModelId=MODEL, Verbose=True)
    ml.create_ml_model(
        MLModelId=COPY_MODEL,
        MLModelName="banking model copy",
        MLModelType=verbose["MLModelType"],
        TrainingDataSourceId=verbose["TrainingDataSourceId"],
        Parameters=verbose["TrainingParameters"],
        Recipe=verbose["Recipe"],
    )
    wait(ml, "ml_model_available", api_server, FilterVariable="Name", EQ="banking model copy")
    return dict(verbose)


@pytest.fixture(scope="module")
def endpoint(completed: Pipeline) -> dict[str, Any]:
    """The banking model's real-time endpoint, READY."""
    ml = completed.client
    created = ml.create_realtime_endpoint(MLModelId=MODEL)
    assert created["MLModelId"] == MODEL
    assert created["RealtimeEndpointInfo"]["EndpointStatus"] in ("UPDATING", "READY")
    return wait_for_endpoint(ml, MODEL)


@pytest.fixture(scope="module")
def sorting_datasources(pipeline: Pipeline, api_server: ApiServer) -> list[str]:
    """Five small datasources named for the filter and sort tests, COMPLETED."""
    ml = pipeline.client
    ids = []
    for name in SORTING_NAMES:
        ids.append(f"ds.{name}")
        ml.create_data_source_from_s3(
            DataSourceId=f"ds.{name}",
            DataSourceName=name,
            DataSpec={
                "DataLocationS3": f"s3://{pipeline.bucket}/data/banking-batch.csv",
                "DataSchema": banking_schema("banking-batch.csv"),
            },
            ComputeStatistics=False,
        )
    wait(ml, "data_source_available", api_server, FilterVariable="Name", Prefix="sorting-")
    return ids


def predict(ml: Any, url: str, record: dict[str, str], model: str = MODEL) -> dict[str, Any]:
    return dict(ml.predict(MLModelId=model, Record=record, PredictEndpoint=url)["Prediction"])


# --------------------------------------------------------------------------- Create*, waiters, Get*


def test_create_calls_back_to_back_on_pending_objects_all_complete_with_their_free_form_ids(
    completed: Pipeline,
) -> None:
    ml = completed.client
    assert ml.get_data_source(DataSourceId=TRAIN_DS)["Status"] == "COMPLETED"
    assert ml.get_data_source(DataSourceId=EVAL_DS)["Status"] == "COMPLETED"
    assert ml.get_data_source(DataSourceId=BATCH_DS)["Status"] == "COMPLETED"
    assert ml.get_ml_model(MLModelId=MODEL)["Status"] == "COMPLETED"
    assert ml.get_evaluation(EvaluationId=EVALUATION)["Status"] == "COMPLETED"
    batch = ml.get_batch_prediction(BatchPredictionId=BATCH)
    assert batch["Status"] == "COMPLETED"
    assert batch["BatchPredictionId"] == "batch2adultincomev1"


def test_get_data_source_carries_amls_fields(completed: Pipeline, owner: ApiUser) -> None:
    ds = completed.client.get_data_source(DataSourceId=TRAIN_DS)
    assert ds["DataSourceId"] == TRAIN_DS
    assert ds["Name"] == "bank: training 70%"
    assert ds["DataLocationS3"] == f"s3://{completed.bucket}/data/banking.csv"
    assert json.loads(ds["DataRearrangement"]) == json.loads(TRAIN_SPLIT)
    assert IAM_USER_ARN.fullmatch(ds["CreatedByIamUser"])
    assert IAM_USER_ARN.fullmatch(ds["CreatedByIamUser"])["name"] == owner.username
    assert ds["CreatedAt"] <= ds["StartedAt"] <= ds["FinishedAt"]
    assert isinstance(ds["LastUpdatedAt"], datetime)
    assert isinstance(ds["ComputeTime"], int)
    assert ds["ComputeStatistics"] is True
    assert ds["NumberOfFiles"] == 1
    assert ds["DataSizeInBytes"] > 0
    assert "DataSourceSchema" not in ds


def test_get_data_source_verbose_returns_the_schema(completed: Pipeline) -> None:
    ds = completed.client.get_data_source(DataSourceId=EVAL_DS, Verbose=True)
    schema = json.loads(ds["DataSourceSchema"])
    assert schema["targetAttributeName"] == "y"
    assert len(schema["attributes"]) == 21


def test_get_ml_model_carries_amls_fields_and_the_endpoint_info_none(
    copy_model: dict[str, Any], completed: Pipeline, owner: ApiUser
) -> None:
    model = completed.client.get_ml_model(MLModelId=COPY_MODEL)
    assert model["MLModelId"] == COPY_MODEL
    assert model["MLModelType"] == "BINARY"
    assert model["TrainingDataSourceId"] == TRAIN_DS
    assert model["InputDataLocationS3"] == f"s3://{completed.bucket}/data/banking.csv"
    assert IAM_USER_ARN.fullmatch(model["CreatedByIamUser"])["name"] == owner.username
    assert model["SizeInBytes"] > 0
    assert isinstance(model["ScoreThreshold"], float)
    assert isinstance(model["ComputeTime"], int)
    assert model["CreatedAt"] <= model["StartedAt"] <= model["FinishedAt"]
    assert model["EndpointInfo"] == {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}
    assert "Recipe" not in model
    assert "Schema" not in model


def test_describe_ml_models_results_carry_the_endpoint_info_none(
    copy_model: dict[str, Any], completed: Pipeline
) -> None:
    results = completed.client.describe_ml_models(FilterVariable="Name", EQ="banking model copy")[
        "Results"
    ]
    assert [r["MLModelId"] for r in results] == [COPY_MODEL]
    assert results[0]["EndpointInfo"]["EndpointStatus"] == "NONE"
    assert "EndpointUrl" not in results[0]["EndpointInfo"]


def test_get_ml_model_verbose_training_parameters_are_accepted_back_as_parameters(
    copy_model: dict[str, Any], completed: Pipeline
) -> None:
    assert json.loads(copy_model["Recipe"])["outputs"]
    assert json.loads(copy_model["Schema"])["targetAttributeName"] == "y"
    parameters = copy_model["TrainingParameters"]
    assert parameters["sgd.maxPasses"] == "10"
    assert all(isinstance(value, str) for value in parameters.values())
    copy = completed.client.get_ml_model(MLModelId=COPY_MODEL, Verbose=True)
    assert copy["Status"] == "COMPLETED"
    assert copy["TrainingParameters"] == parameters
    assert json.loads(copy["Recipe"]) == json.loads(copy_model["Recipe"])


def test_create_ml_model_takes_a_recipe_uri_or_no_recipe(
    completed: Pipeline, api_server: ApiServer
) -> None:
    ml = completed.client
    ml.create_ml_model(
        MLModelId="ml.recipe-uri",
        MLModelName="recipe-test: uri",
        MLModelType="BINARY",
        TrainingDataSourceId=TRAIN_DS,
        RecipeUri=f"s3://{completed.bucket}/recipes/banking.json",
    )
    ml.create_ml_model(
        MLModelId="ml.suggested-recipe",
        MLModelName="recipe-test: suggested",
        MLModelType="BINARY",
        TrainingDataSourceId=TRAIN_DS,
    )
    wait(ml, "ml_model_available", api_server, FilterVariable="Name", Prefix="recipe-test: ")
    from_uri = ml.get_ml_model(MLModelId="ml.recipe-uri", Verbose=True)
    recipe_file = json.loads((SHARED_DATA_ROOT / "banking-recipe.json").read_text())
    assert json.loads(from_uri["Recipe"])["outputs"] == recipe_file["outputs"]
    suggested = ml.get_ml_model(MLModelId="ml.suggested-recipe", Verbose=True)
    assert json.loads(suggested["Recipe"])["outputs"]


def test_get_evaluation_gives_the_binary_auc_as_a_string(completed: Pipeline) -> None:
    evaluation = completed.client.get_evaluation(EvaluationId=EVALUATION)
    assert evaluation["MLModelId"] == MODEL
    assert evaluation["EvaluationDataSourceId"] == EVAL_DS
    assert evaluation["InputDataLocationS3"] == f"s3://{completed.bucket}/data/banking.csv"
    auc = evaluation["PerformanceMetrics"]["Properties"]["BinaryAUC"]
    assert isinstance(auc, str)
    assert 0.8 < float(auc) <= 1.0
    assert isinstance(evaluation["ComputeTime"], int)


def test_get_batch_prediction_counts_the_records(completed: Pipeline) -> None:
    batch = completed.client.get_batch_prediction(BatchPredictionId=BATCH)
    assert batch["MLModelId"] == MODEL
    assert batch["BatchPredictionDataSourceId"] == BATCH_DS
    assert batch["InputDataLocationS3"] == f"s3://{completed.bucket}/data/banking-batch.csv"
    assert batch["OutputUri"].rstrip("/") == completed.output_uri.rstrip("/")
    assert batch["TotalRecordCount"] == 4119
    # The tutorial's schema types `previous` BINARY: the records where it is above 1 are invalid.
    assert 0 < batch["InvalidRecordCount"] < 4119


def test_a_prefix_location_reads_every_object_under_it(
    pipeline: Pipeline, api_server: ApiServer, s3_client: Any
) -> None:
    lines = (SHARED_DATA_ROOT / "banking-batch.csv").read_text().splitlines(keepends=True)
    header, records = lines[0], lines[1:]
    for part, chunk in enumerate((records[:1000], records[1000:2500], records[2500:])):
        body = (header + "".join(chunk)).encode()
        s3_client.put_object(Bucket=pipeline.bucket, Key=f"parts/part-{part}.csv", Body=body)
    ml = pipeline.client
    ml.create_data_source_from_s3(
        DataSourceId="ds.prefix",
        DataSourceName="banking in parts",
        DataSpec={
            "DataLocationS3": f"s3://{pipeline.bucket}/parts/",
            "DataSchema": banking_schema("banking-batch.csv"),
        },
    )
    wait(ml, "data_source_available", api_server, FilterVariable="Name", EQ="banking in parts")
    ds = ml.get_data_source(DataSourceId="ds.prefix")
    assert ds["NumberOfFiles"] == 3
    assert ds["DataLocationS3"] == f"s3://{pipeline.bucket}/parts/"


def test_outputs_are_epoch_seconds_and_leave_absent_members_out(
    pipeline: Pipeline, api_server: ApiServer, owner: ApiUser
) -> None:
    pipeline.client.create_data_source_from_s3(
        DataSourceId="ds.raw-json",
        DataSourceName="banking raw json",
        DataSpec={
            "DataLocationS3": f"s3://{pipeline.bucket}/data/banking-batch.csv",
            "DataSchema": banking_schema("banking-batch.csv"),
        },
    )
    answer = raw_call(api_server, owner, "GetDataSource", {"DataSourceId": "ds.raw-json"})
    assert answer.status == 200, answer.text
    assert not [key for key, value in answer.body.items() if value is None], answer.text
    assert isinstance(answer.body["CreatedAt"], int | float)
    if answer.body["Status"] == "PENDING":
        assert "StartedAt" not in answer.body
    if answer.body["Status"] != "COMPLETED":
        assert "FinishedAt" not in answer.body
        assert "ComputeTime" not in answer.body


# --------------------------------------------------------------------------- idempotent Create*


def other_split(run: Pipeline) -> dict[str, Any]:
    spec = run.requests["train"]["DataSpec"]
    return {"DataSpec": {**spec, "DataRearrangement": EVAL_SPLIT}}


@pytest.mark.parametrize(
    ("operation", "request_name", "change"),
    [
        ("create_data_source_from_s3", "train", other_split),
        ("create_ml_model", "model", lambda run: {"TrainingDataSourceId": EVAL_DS}),
        ("create_evaluation", "evaluation", lambda run: {"EvaluationDataSourceId": TRAIN_DS}),
        (
            "create_batch_prediction",
            "batch",
            lambda run: {"OutputUri": f"s3://{run.bucket}/elsewhere/"},
        ),
    ],
)
def test_a_create_repeated_gives_the_same_answer_and_with_other_input_a_mismatch(
    pipeline: Pipeline,
    operation: str,
    request_name: str,
    change: Callable[[Pipeline], dict[str, Any]],
) -> None:
    call = getattr(pipeline.client, operation)
    request = pipeline.requests[request_name]
    first_key = next(iter(request))
    again = call(**request)
    assert again[first_key] == request[first_key]
    changed = {**request, **change(pipeline)}
    assert code_of(lambda: call(**changed)) == "IdempotentParameterMismatchException"


# --------------------------------------------------------------------------- Update*, Delete*


def test_update_renames_each_of_the_four_types(completed: Pipeline) -> None:
    ml = completed.client
    renames = [
        (ml.update_data_source, ml.get_data_source, "DataSourceId", BATCH_DS, "DataSourceName"),
        (ml.update_ml_model, ml.get_ml_model, "MLModelId", MODEL, "MLModelName"),
        (ml.update_evaluation, ml.get_evaluation, "EvaluationId", EVALUATION, "EvaluationName"),
        (
            ml.update_batch_prediction,
            ml.get_batch_prediction,
            "BatchPredictionId",
            BATCH,
            "BatchPredictionName",
        ),
    ]
    for update, get, id_member, entity_id, name_member in renames:
        before = get(**{id_member: entity_id})["Name"]
        answer = update(**{id_member: entity_id, name_member: f"{before} renamed"})
        assert answer == {id_member: entity_id, "ResponseMetadata": answer["ResponseMetadata"]}
        assert get(**{id_member: entity_id})["Name"] == f"{before} renamed"
        update(**{id_member: entity_id, name_member: before})


def test_delete_marks_each_of_the_four_types_deleted(completed: Pipeline) -> None:
    ml = completed.client
    ml.create_data_source_from_s3(
        DataSourceId="ds.to-delete",
        DataSourceName="banking to delete",
        DataSpec={
            "DataLocationS3": f"s3://{completed.bucket}/data/banking-batch.csv",
            "DataSchema": banking_schema("banking-batch.csv"),
        },
    )
    ml.create_ml_model(
        MLModelId="ml.to-delete",
        MLModelName="banking model to delete",
        MLModelType="BINARY",
        TrainingDataSourceId=TRAIN_DS,
    )
    ml.create_evaluation(
        EvaluationId="ev.to-delete", MLModelId=MODEL, EvaluationDataSourceId=EVAL_DS
    )
    ml.create_batch_prediction(
        BatchPredictionId="bp.to-delete",
        MLModelId=MODEL,
        BatchPredictionDataSourceId=BATCH_DS,
        OutputUri=f"s3://{completed.bucket}/deleted/",
    )
    deletions = [
        (ml.delete_data_source, ml.get_data_source, "DataSourceId", "ds.to-delete"),
        (ml.delete_ml_model, ml.get_ml_model, "MLModelId", "ml.to-delete"),
        (ml.delete_evaluation, ml.get_evaluation, "EvaluationId", "ev.to-delete"),
        (ml.delete_batch_prediction, ml.get_batch_prediction, "BatchPredictionId", "bp.to-delete"),
    ]
    for delete, get, id_member, entity_id in deletions:
        assert delete(**{id_member: entity_id})[id_member] == entity_id
        assert get(**{id_member: entity_id})["Status"] == "DELETED"


# --------------------------------------------------------------------------- real-time, threshold


def test_predict_answers_amls_shape_through_the_endpoint_url(
    endpoint: dict[str, Any], completed: Pipeline, api_server: ApiServer
) -> None:
    assert endpoint["EndpointUrl"].rstrip("/") == api_server.url
    assert endpoint["PeakRequestsPerSecond"] == 200
    assert isinstance(endpoint["CreatedAt"], datetime)
    prediction = predict(completed.client, endpoint["EndpointUrl"], first_batch_record())
    assert isinstance(prediction["predictedLabel"], str)
    assert prediction["predictedLabel"] in ("0", "1")
    assert list(prediction["predictedScores"]) == [prediction["predictedLabel"]]
    assert 0.0 <= prediction["predictedScores"][prediction["predictedLabel"]] <= 1.0
    assert prediction["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}
    described = completed.client.describe_ml_models(FilterVariable="Name", EQ="banking model")
    assert described["Results"][0]["EndpointInfo"]["EndpointStatus"] == "READY"


def test_predict_ignores_unknown_keys_and_treats_empty_values_as_missing(
    endpoint: dict[str, Any], completed: Pipeline
) -> None:
    ml, url = completed.client, endpoint["EndpointUrl"]
    record = first_batch_record()
    plain = predict(ml, url, record)
    noisy = predict(ml, url, {**record, "favourite colour": "blue", " age ": "99", "y": "1"})
    assert noisy == plain
    without_job = {key: value for key, value in record.items() if key != "job"}
    assert predict(ml, url, {**without_job, "job": ""}) == predict(ml, url, without_job)


def test_update_ml_model_score_threshold_drives_the_predicted_label(
    endpoint: dict[str, Any], completed: Pipeline
) -> None:
    ml, url = completed.client, endpoint["EndpointUrl"]
    record = first_batch_record()
    score = next(iter(predict(ml, url, record)["predictedScores"].values()))
    for threshold, label in [(score + (1 - score) / 2, "0"), (score / 2, "1")]:
        assert ml.update_ml_model(MLModelId=MODEL, ScoreThreshold=threshold)["MLModelId"] == MODEL
        model = ml.get_ml_model(MLModelId=MODEL)
        assert model["ScoreThreshold"] == pytest.approx(threshold)
        assert isinstance(model["ScoreThresholdLastUpdatedAt"], datetime)
        prediction = predict(ml, url, record)
        assert prediction["predictedLabel"] == label
        assert prediction["predictedScores"] == {label: pytest.approx(score)}


def test_update_ml_model_score_threshold_drives_the_batch_best_answer(
    completed: Pipeline, api_server: ApiServer, s3_client: Any
) -> None:
    ml = completed.client
    ml.update_ml_model(MLModelId=MODEL, ScoreThreshold=0.3)
    output_uri = f"s3://{completed.bucket}/out-at-0.3/"
    ml.create_batch_prediction(
        BatchPredictionId="bp.threshold-0.3",
        BatchPredictionName="banking batch at 0.3",
        MLModelId=MODEL,
        BatchPredictionDataSourceId=BATCH_DS,
        OutputUri=output_uri,
    )
    wait(
        ml,
        "batch_prediction_available",
        api_server,
        FilterVariable="Name",
        EQ="banking batch at 0.3",
    )
    (lines,) = read_batch_results(s3_client, output_uri, "bp.threshold-0.3").values()
    assert lines[0] == "bestAnswer,score"
    assert len(lines) == 1 + 4119  # an invalid record's line is empty
    invalid = ml.get_batch_prediction(BatchPredictionId="bp.threshold-0.3")["InvalidRecordCount"]
    assert lines.count("") == invalid
    rows = [line.split(",") for line in lines[1:] if line]
    assert all(answer == ("1" if float(score) >= 0.3 else "0") for answer, score in rows)
    assert any(0.3 <= float(score) < 0.5 for _, score in rows), "0.3 must change some answers"


def test_delete_realtime_endpoint_then_predict_is_predictor_not_mounted(
    endpoint: dict[str, Any], completed: Pipeline
) -> None:
    ml, url = completed.client, endpoint["EndpointUrl"]
    deleted = ml.delete_realtime_endpoint(MLModelId=MODEL)
    assert deleted["MLModelId"] == MODEL
    assert deleted["RealtimeEndpointInfo"]["EndpointStatus"] == "NONE"
    try:
        code = code_of(lambda: predict(ml, url, first_batch_record()))
        assert code == "PredictorNotMountedException"
    finally:
        ml.create_realtime_endpoint(MLModelId=MODEL)  # the other tests' endpoint, back
        wait_for_endpoint(ml, MODEL)


# --------------------------------------------------------------------------- tags


RESOURCES = [
    ("DataSource", BATCH_DS),
    ("MLModel", MODEL),
    ("Evaluation", EVALUATION),
    ("BatchPrediction", BATCH),
]


@pytest.mark.parametrize(("resource_type", "resource_id"), RESOURCES)
def test_tags_are_added_described_and_deleted_on_each_resource_type(
    pipeline: Pipeline, resource_type: str, resource_id: str
) -> None:
    ml = pipeline.client
    target = {"ResourceId": resource_id, "ResourceType": resource_type}
    added = ml.add_tags(
        **target, Tags=[{"Key": "stage", "Value": "test"}, {"Key": "empty", "Value": ""}]
    )
    assert (added["ResourceId"], added["ResourceType"]) == (resource_id, resource_type)
    ml.add_tags(**target, Tags=[{"Key": "stage", "Value": "production"}])  # same key: replaced
    tags = {tag["Key"]: tag.get("Value", "") for tag in ml.describe_tags(**target)["Tags"]}
    assert tags["stage"] == "production"
    assert tags["empty"] == ""
    ml.delete_tags(**target, TagKeys=["stage", "empty"])
    described = ml.describe_tags(**target)
    assert (described["ResourceId"], described["ResourceType"]) == (resource_id, resource_type)
    assert not {"stage", "empty"} & {tag["Key"] for tag in described["Tags"]}


def test_datasource_tags_are_copied_to_the_models_and_evaluations_made_from_it(
    pipeline: Pipeline,
) -> None:
    ml = pipeline.client

    def tags(resource_type: str, resource_id: str) -> dict[str, str]:
        answer = ml.describe_tags(ResourceId=resource_id, ResourceType=resource_type)
        return {tag["Key"]: tag.get("Value", "") for tag in answer["Tags"]}

    model_tags = tags("MLModel", MODEL)
    assert model_tags["project"] == "banking"
    assert model_tags["team"] == "marketing"
    assert tags("Evaluation", EVALUATION)["split"] == "thirty"


def test_a_resource_type_that_is_not_the_objects_is_not_found(pipeline: Pipeline) -> None:
    ml = pipeline.client
    assert (
        code_of(lambda: ml.describe_tags(ResourceId=TRAIN_DS, ResourceType="MLModel"))
        == "ResourceNotFoundException"
    )


def test_a_reserved_tag_key_is_an_invalid_tag(pipeline: Pipeline) -> None:
    ml = pipeline.client
    refused = code_of(
        lambda: ml.add_tags(
            ResourceId=BATCH_DS,
            ResourceType="DataSource",
            Tags=[{"Key": "aws:owner", "Value": "x"}],
        )
    )
    assert refused == "InvalidTagException"


def test_more_tags_than_the_limit_is_tag_limit_exceeded(pipeline: Pipeline) -> None:
    ml = pipeline.client
    too_many = [{"Key": f"key-{n}", "Value": str(n)} for n in range(51)]
    refused = code_of(
        lambda: ml.add_tags(ResourceId=EVAL_DS, ResourceType="DataSource", Tags=too_many)
    )
    assert refused == "TagLimitExceededException"
    keys = {
        tag["Key"]
        for tag in ml.describe_tags(ResourceId=EVAL_DS, ResourceType="DataSource")["Tags"]
    }
    assert "key-0" not in keys, "a refused AddTags adds nothing"


# --------------------------------------------------------------------------- Describe*


def names(results: list[dict[str, Any]]) -> list[str]:
    return [str(result["Name"]) for result in results]


def test_describe_filters_on_name_with_each_comparator(
    sorting_datasources: list[str], pipeline: Pipeline
) -> None:
    ml = pipeline.client

    def matching(**filter_: str) -> set[str]:
        pages = ml.get_paginator("describe_data_sources").paginate(FilterVariable="Name", **filter_)
        return {result["Name"] for page in pages for result in page["Results"]}

    assert matching(Prefix="sorting-") == set(SORTING_NAMES)
    assert matching(EQ="sorting-c") == {"sorting-c"}
    assert matching(GT="sorting-b") == {"sorting-c", "sorting-c2", "sorting-d"}
    assert matching(GE="sorting-b") == {"sorting-b", "sorting-c", "sorting-c2", "sorting-d"}
    below = matching(LT="sorting-b")
    assert "sorting-a" in below and "bank: training 70%" in below
    assert not below & {"sorting-b", "sorting-c", "sorting-c2", "sorting-d"}
    assert matching(LE="sorting-b") == below | {"sorting-b"}
    not_c = matching(NE="sorting-c")
    assert "sorting-c" not in not_c and "sorting-c2" in not_c


def test_describe_sorts_by_the_filter_variable_both_ways(
    sorting_datasources: list[str], pipeline: Pipeline
) -> None:
    ml = pipeline.client
    asc = ml.describe_data_sources(FilterVariable="Name", Prefix="sorting-", SortOrder="asc")
    dsc = ml.describe_data_sources(FilterVariable="Name", Prefix="sorting-", SortOrder="dsc")
    assert names(asc["Results"]) == SORTING_NAMES
    assert names(dsc["Results"]) == SORTING_NAMES[::-1]


def test_describe_pages_with_limit_and_next_token_through_the_paginator(
    sorting_datasources: list[str], pipeline: Pipeline
) -> None:
    ml = pipeline.client
    pages = list(
        ml.get_paginator("describe_data_sources").paginate(
            FilterVariable="Name",
            Prefix="sorting-",
            SortOrder="asc",
            PaginationConfig={"PageSize": 2},
        )
    )
    assert all(len(page["Results"]) <= 2 for page in pages)
    assert [name for page in pages for name in names(page["Results"])] == SORTING_NAMES
    first = ml.describe_data_sources(FilterVariable="Name", Prefix="sorting-", Limit=2)
    assert len(first["Results"]) == 2 and first["NextToken"]


def test_describe_without_a_filter_lists_every_object_of_the_users(
    sorting_datasources: list[str], completed: Pipeline
) -> None:
    ml = completed.client
    ds_ids = {
        result["DataSourceId"]
        for page in ml.get_paginator("describe_data_sources").paginate(
            PaginationConfig={"PageSize": 3}
        )
        for result in page["Results"]
    }
    assert {TRAIN_DS, EVAL_DS, BATCH_DS, *sorting_datasources} <= ds_ids
    assert MODEL in {r["MLModelId"] for r in ml.describe_ml_models()["Results"]}
    assert EVALUATION in {r["EvaluationId"] for r in ml.describe_evaluations()["Results"]}
    assert BATCH in {r["BatchPredictionId"] for r in ml.describe_batch_predictions()["Results"]}


@pytest.mark.parametrize(
    ("paginator", "filter_", "id_member", "expected"),
    [
        (
            "describe_data_sources",
            {"FilterVariable": "Status", "EQ": "COMPLETED"},
            "DataSourceId",
            TRAIN_DS,
        ),
        (
            "describe_ml_models",
            {"FilterVariable": "TrainingDataSourceId", "EQ": TRAIN_DS},
            "MLModelId",
            MODEL,
        ),
        (
            "describe_ml_models",
            {"FilterVariable": "MLModelType", "EQ": "BINARY"},
            "MLModelId",
            MODEL,
        ),
        (
            "describe_evaluations",
            {"FilterVariable": "MLModelId", "EQ": MODEL},
            "EvaluationId",
            EVALUATION,
        ),
        (
            "describe_evaluations",
            {"FilterVariable": "DataSourceId", "EQ": EVAL_DS},
            "EvaluationId",
            EVALUATION,
        ),
        (
            "describe_batch_predictions",
            {"FilterVariable": "MLModelId", "EQ": MODEL},
            "BatchPredictionId",
            BATCH,
        ),
        (
            "describe_batch_predictions",
            {"FilterVariable": "DataSourceId", "EQ": BATCH_DS},
            "BatchPredictionId",
            BATCH,
        ),
    ],
)
def test_each_describe_filters_on_its_own_variables_through_its_paginator(
    completed: Pipeline, paginator: str, filter_: dict[str, str], id_member: str, expected: str
) -> None:
    pages = completed.client.get_paginator(paginator).paginate(
        **filter_, PaginationConfig={"PageSize": 1}
    )
    results = [result for page in pages for result in page["Results"]]
    assert expected in {result[id_member] for result in results}
    variable, value = filter_["FilterVariable"], filter_["EQ"]
    if variable in ("Status", "MLModelType", "MLModelId", "TrainingDataSourceId"):
        assert all(result[variable] == value for result in results)


def test_describe_filters_on_the_iam_user(completed: Pipeline, owner: ApiUser) -> None:
    ml = completed.client
    arn = ml.get_data_source(DataSourceId=TRAIN_DS)["CreatedByIamUser"]
    results = ml.describe_data_sources(FilterVariable="IAMUser", EQ=arn)["Results"]
    assert TRAIN_DS in {result["DataSourceId"] for result in results}
    assert all(result["CreatedByIamUser"] == arn for result in results)


def test_the_four_waiters_without_a_filter_wait_for_every_object_of_the_users(
    ml_client: Callable[..., Any], other: ApiUser, pipeline: Pipeline, api_server: ApiServer
) -> None:
    ml = ml_client(other)  # this user has nothing else, so every object of theirs is these
    data = f"s3://{pipeline.bucket}/data/banking-batch.csv"
    for part, split in (("train", TRAIN_SPLIT), ("eval", EVAL_SPLIT)):
        ml.create_data_source_from_s3(
            DataSourceId=f"ds.other-users.{part}",
            DataSourceName=f"banking of the other user, {part}",
            DataSpec={
                "DataLocationS3": data,
                "DataSchema": schema_with_target("age"),
                "DataRearrangement": split,
            },
        )
    ml.create_ml_model(
        MLModelId="ml.other-users",
        MLModelType="REGRESSION",
        TrainingDataSourceId="ds.other-users.train",
    )
    ml.create_evaluation(
        EvaluationId="ev.other-users",
        MLModelId="ml.other-users",
        EvaluationDataSourceId="ds.other-users.eval",
    )
    ml.create_batch_prediction(
        BatchPredictionId="bp.other-users",
        MLModelId="ml.other-users",
        BatchPredictionDataSourceId="ds.other-users.eval",
        OutputUri=f"s3://{pipeline.bucket}/other-users/",
    )
    wait(ml, "data_source_available", api_server)
    wait(ml, "ml_model_available", api_server)
    wait(ml, "evaluation_available", api_server)
    wait(ml, "batch_prediction_available", api_server)
    assert ml.get_data_source(DataSourceId="ds.other-users.train")["Status"] == "COMPLETED"
    assert ml.get_ml_model(MLModelId="ml.other-users")["Status"] == "COMPLETED"
    assert ml.get_evaluation(EvaluationId="ev.other-users")["Status"] == "COMPLETED"
    assert ml.get_batch_prediction(BatchPredictionId="bp.other-users")["Status"] == "COMPLETED"


def test_a_waiter_stops_on_a_failed_object_and_what_was_made_on_it_fails_with_the_cause(
    pipeline: Pipeline, s3_client: Any
) -> None:
    ml = pipeline.client
    # More than 10,000 invalid records (an age that is not a number) fail a datasource.
    broken = b"age,job,y\r\n" + b"old,admin.,1\r\n" * 10_001
    s3_client.put_object(Bucket=pipeline.bucket, Key="broken/not-numbers.csv", Body=broken)
    ml.create_data_source_from_s3(
        DataSourceId="ds.broken",
        DataSourceName="banking broken",
        DataSpec={
            "DataLocationS3": f"s3://{pipeline.bucket}/broken/not-numbers.csv",
            "DataSchema": json.dumps(
                {
                    "version": "1.0",
                    "targetAttributeName": "y",
                    "dataFormat": "CSV",
                    "dataFileContainsHeader": True,
                    "attributes": [
                        {"attributeName": "age", "attributeType": "NUMERIC"},
                        {"attributeName": "job", "attributeType": "CATEGORICAL"},
                        {"attributeName": "y", "attributeType": "BINARY"},
                    ],
                }
            ),
        },
    )
    ml.create_ml_model(
        MLModelId="ml.on-broken", MLModelType="BINARY", TrainingDataSourceId="ds.broken"
    )
    ml.create_evaluation(
        EvaluationId="ev.on-broken", MLModelId="ml.on-broken", EvaluationDataSourceId=EVAL_DS
    )
    ml.create_batch_prediction(
        BatchPredictionId="bp.on-broken",
        MLModelId=MODEL,
        BatchPredictionDataSourceId="ds.broken",
        OutputUri=f"s3://{pipeline.bucket}/out-broken/",
    )
    with pytest.raises(WaiterError):
        ml.get_waiter("data_source_available").wait(
            FilterVariable="Name", EQ="banking broken", WaiterConfig=FAST_WAITER
        )
    assert ml.get_data_source(DataSourceId="ds.broken")["Status"] == "FAILED"
    with pytest.raises(WaiterError):
        ml.get_waiter("ml_model_available").wait(
            FilterVariable="TrainingDataSourceId", EQ="ds.broken", WaiterConfig=FAST_WAITER
        )
    model = ml.get_ml_model(MLModelId="ml.on-broken")
    assert model["Status"] == "FAILED"
    assert "ds.broken" in model["Message"]
    evaluation = ml.get_evaluation(EvaluationId="ev.on-broken")
    assert evaluation["Status"] == "FAILED"
    assert "ml.on-broken" in evaluation["Message"] or "ds.broken" in evaluation["Message"]
    batch = ml.get_batch_prediction(BatchPredictionId="bp.on-broken")
    assert batch["Status"] == "FAILED"
    assert "ds.broken" in batch["Message"]


# --------------------------------------------------------------------------- SQL sources


RDS_DATA = {
    "DatabaseInformation": {"InstanceIdentifier": "not-configured", "DatabaseName": "banking"},
    "SelectSqlQuery": "SELECT * FROM banking",
    "DatabaseCredentials": {"Username": "aml", "Password": "password1"},
    "S3StagingLocation": "s3://staging/banking/",
    "ResourceRole": "DataPipelineDefaultResourceRole",
    "ServiceRole": "DataPipelineDefaultRole",
    "SubnetId": "subnet-00000000",
    "SecurityGroupIds": ["sg-00000000"],
}


def test_an_unconfigured_rds_or_redshift_connection_is_invalid_input(pipeline: Pipeline) -> None:
    ml = pipeline.client
    with pytest.raises(ClientError) as rds:
        ml.create_data_source_from_rds(
            DataSourceId="ds.rds", RDSData=RDS_DATA, RoleARN="arn:aws:iam::000000000000:role/aml"
        )
    assert error_code(rds.value) == "InvalidInputException"
    assert "not-configured" in error_message(rds.value)
    with pytest.raises(ClientError) as redshift:
        ml.create_data_source_from_redshift(
            DataSourceId="ds.redshift",
            DataSpec={
                "DatabaseInformation": {"ClusterIdentifier": "no-cluster", "DatabaseName": "dev"},
                "SelectSqlQuery": "SELECT 1",
                "DatabaseCredentials": {"Username": "aml", "Password": "password1"},
                "S3StagingLocation": "s3://staging/banking/",
            },
            RoleARN="arn:aws:iam::000000000000:role/aml",
        )
    assert error_code(redshift.value) == "InvalidInputException"
    assert "no-cluster" in error_message(redshift.value)


# --------------------------------------------------------------------------- input validation


INVALID_INPUTS: list[tuple[str, dict[str, Any], str]] = [
    (
        "create_data_source_from_s3",
        {"DataSourceId": "bad id!", "DataSpec": {"DataLocationS3": "s3://b/banking.csv"}},
        "DataSourceId",
    ),
    (
        "create_data_source_from_s3",
        {"DataSourceId": "ds.no-spec", "DataSpec": {}},
        "DataLocationS3",
    ),
    (
        "create_data_source_from_s3",
        {
            "DataSourceId": "ds.bad-schema",
            "DataSpec": {"DataLocationS3": "s3://b/banking.csv", "DataSchema": "{not json"},
        },
        "DataSchema",
    ),
    (
        "create_ml_model",
        {"MLModelId": "ml.banana", "MLModelType": "BANANA", "TrainingDataSourceId": TRAIN_DS},
        "MLModelType",
    ),
    (
        "create_ml_model",
        {"MLModelId": "ml.no-type", "TrainingDataSourceId": TRAIN_DS},
        "MLModelType",
    ),
    ("get_ml_model", {"MLModelId": "m" * 65}, "MLModelId"),
    (
        "update_data_source",
        {"DataSourceId": TRAIN_DS, "DataSourceName": "n" * 1025},
        "DataSourceName",
    ),
    ("describe_data_sources", {"Limit": 101}, "Limit"),
    ("describe_data_sources", {"Limit": 0}, "Limit"),
    ("describe_ml_models", {"SortOrder": "up"}, "SortOrder"),
    ("describe_evaluations", {"FilterVariable": "Colour", "EQ": "red"}, "FilterVariable"),
    ("add_tags", {"ResourceId": TRAIN_DS, "ResourceType": "Bucket", "Tags": []}, "ResourceType"),
]


@pytest.mark.parametrize(
    ("operation", "params", "member"),
    INVALID_INPUTS,
    ids=[f"{op}-{member}" for op, _, member in INVALID_INPUTS],
)
def test_invalid_input_is_refused_naming_the_member(
    pipeline: Pipeline,
    ml_client: Callable[..., Any],
    owner: ApiUser,
    operation: str,
    params: dict[str, Any],
    member: str,
) -> None:
    unchecked = ml_client(owner, validate=False)  # botocore would refuse some of them itself
    with pytest.raises(ClientError) as refused:
        getattr(unchecked, operation)(**params)
    assert error_code(refused.value) == "InvalidInputException"
    assert member in error_message(refused.value)


def test_invalid_training_parameters_are_refused(pipeline: Pipeline) -> None:
    ml = pipeline.client
    with pytest.raises(ClientError) as refused:
        ml.create_ml_model(
            MLModelId="ml.bad-parameters",
            MLModelType="BINARY",
            TrainingDataSourceId=TRAIN_DS,
            Parameters={"sgd.maxPasses": "many"},
        )
    assert error_code(refused.value) == "InvalidInputException"
    assert "sgd.maxPasses" in error_message(refused.value)


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("get_data_source", {"DataSourceId": "ds-none"}),
        ("get_ml_model", {"MLModelId": "ml-none"}),
        ("get_evaluation", {"EvaluationId": "ev-none"}),
        ("get_batch_prediction", {"BatchPredictionId": "bp-none"}),
        (
            "create_ml_model",
            {"MLModelId": "ml.x", "MLModelType": "BINARY", "TrainingDataSourceId": "ds-none"},
        ),
    ],
)
def test_an_unknown_id_is_resource_not_found(
    pipeline: Pipeline, operation: str, params: dict[str, Any]
) -> None:
    code = code_of(lambda: getattr(pipeline.client, operation)(**params))
    assert code == "ResourceNotFoundException"


def test_a_refusal_is_http_400_with_its_type_and_message(
    api_server: ApiServer, owner: ApiUser
) -> None:
    answer = raw_call(api_server, owner, "GetDataSource", {"DataSourceId": "ds-none"})
    assert answer.status == 400
    assert answer.body["__type"].split("#")[-1] == "ResourceNotFoundException"
    assert answer.body["message"]


# --------------------------------------------------------------------------- another user's key


def other_users_calls(pipeline: Pipeline, url: str) -> list[tuple[str, dict[str, Any]]]:
    """Every operation that takes an id, aimed at the owner's objects."""
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_data_source", {"DataSourceId": TRAIN_DS}),
        ("get_ml_model", {"MLModelId": MODEL}),
        ("get_evaluation", {"EvaluationId": EVALUATION}),
        ("get_batch_prediction", {"BatchPredictionId": BATCH}),
        ("update_data_source", {"DataSourceId": TRAIN_DS, "DataSourceName": "stolen"}),
        ("update_ml_model", {"MLModelId": MODEL, "MLModelName": "stolen"}),
        ("update_ml_model", {"MLModelId": MODEL, "ScoreThreshold": 0.9}),
        ("update_evaluation", {"EvaluationId": EVALUATION, "EvaluationName": "stolen"}),
        ("update_batch_prediction", {"BatchPredictionId": BATCH, "BatchPredictionName": "stolen"}),
        ("delete_data_source", {"DataSourceId": TRAIN_DS}),
        ("delete_ml_model", {"MLModelId": MODEL}),
        ("delete_evaluation", {"EvaluationId": EVALUATION}),
        ("delete_batch_prediction", {"BatchPredictionId": BATCH}),
        ("create_realtime_endpoint", {"MLModelId": MODEL}),
        ("delete_realtime_endpoint", {"MLModelId": MODEL}),
        ("predict", {"MLModelId": MODEL, "Record": first_batch_record(), "PredictEndpoint": url}),
        (
            "create_ml_model",
            {"MLModelId": "ml.stolen", "MLModelType": "BINARY", "TrainingDataSourceId": TRAIN_DS},
        ),
        (
            "create_evaluation",
            {"EvaluationId": "ev.stolen", "MLModelId": MODEL, "EvaluationDataSourceId": EVAL_DS},
        ),
        (
            "create_batch_prediction",
            {
                "BatchPredictionId": "bp.stolen",
                "MLModelId": MODEL,
                "BatchPredictionDataSourceId": BATCH_DS,
                "OutputUri": f"s3://{pipeline.bucket}/stolen/",
            },
        ),
    ]
    for resource_type, resource_id in [("DataSource", TRAIN_DS), *RESOURCES[1:]]:
        target = {"ResourceId": resource_id, "ResourceType": resource_type}
        calls += [
            ("add_tags", {**target, "Tags": [{"Key": "stolen", "Value": "yes"}]}),
            ("describe_tags", target),
            ("delete_tags", {**target, "TagKeys": ["project"]}),
        ]
    return calls


def test_a_second_users_key_gets_resource_not_found_on_every_operation_that_takes_an_id(
    completed: Pipeline, ml_client: Callable[..., Any], other: ApiUser, api_server: ApiServer
) -> None:
    stranger = ml_client(other)
    answered = {}
    for operation, params in other_users_calls(completed, api_server.url):
        try:
            getattr(stranger, operation)(**params)
            answered[operation] = "succeeded"
        except ClientError as exc:
            if error_code(exc) != "ResourceNotFoundException":
                answered[operation] = error_code(exc)
    assert answered == {}, f"not ResourceNotFoundException: {answered}"
    listed = {r["DataSourceId"] for r in stranger.describe_data_sources()["Results"]}
    assert TRAIN_DS not in listed
    owners = completed.client
    assert owners.get_data_source(DataSourceId=TRAIN_DS)["Name"] == "bank: training 70%"
    assert owners.get_ml_model(MLModelId=MODEL)["Status"] == "COMPLETED"
    tags = owners.describe_tags(ResourceId=TRAIN_DS, ResourceType="DataSource")["Tags"]
    assert {"Key": "project", "Value": "banking"} in tags


# --------------------------------------------------------------------------- SigV4


def test_a_wrong_secret_is_an_invalid_signature(
    ml_client: Callable[..., Any], owner: ApiUser
) -> None:
    forger = ml_client(owner, secret="w" * 40)
    assert code_of(forger.describe_data_sources) == "InvalidSignatureException"


def test_an_unknown_access_key_is_an_unrecognized_client(
    ml_client: Callable[..., Any], owner: ApiUser
) -> None:
    stranger = ml_client(owner, access_key_id="AKIAUNKNOWNKEY000000")
    assert code_of(stranger.describe_data_sources) == "UnrecognizedClientException"


def test_a_request_signed_twenty_minutes_ago_has_an_expired_signature(
    api_server: ApiServer, owner: ApiUser
) -> None:
    request = signed_request(
        api_server.url,
        "DescribeDataSources",
        {"Limit": 1},
        access_key_id=owner.access_key_id,
        secret=owner.secret_access_key,
        signed_at=utc_now() - timedelta(minutes=20),
    )
    answer = send(request)
    assert answer.status == 400, answer.text
    assert answer.body["__type"].split("#")[-1] == "InvalidSignatureException"
    assert answer.body["message"].startswith("Signature expired"), answer.body


def test_a_request_signed_twenty_minutes_ahead_is_not_yet_current(
    api_server: ApiServer, owner: ApiUser
) -> None:
    request = signed_request(
        api_server.url,
        "DescribeDataSources",
        {"Limit": 1},
        access_key_id=owner.access_key_id,
        secret=owner.secret_access_key,
        signed_at=utc_now() + timedelta(minutes=20),
    )
    answer = send(request)
    assert answer.status == 400, answer.text
    assert answer.body["__type"].split("#")[-1] == "InvalidSignatureException"
    assert answer.body["message"].startswith("Signature not yet current"), answer.body


def test_a_revoked_key_is_an_unrecognized_client(
    ml_client: Callable[..., Any], owner: ApiUser, django_db_blocker: Any
) -> None:
    from django.contrib.auth import get_user_model

    from console.api.keys import create_access_key, revoke_access_key

    with django_db_blocker.unblock():
        user = get_user_model().objects.get(username=owner.username)
        key, secret = create_access_key(user, description="to revoke")
    revocable = ml_client(owner, access_key_id=key.access_key_id, secret=secret)
    assert "Results" in revocable.describe_data_sources(Limit=1)
    with django_db_blocker.unblock():
        revoke_access_key(user, key.access_key_id)
    assert (
        code_of(lambda: revocable.describe_data_sources(Limit=1)) == "UnrecognizedClientException"
    )


def test_a_tampered_body_is_an_invalid_signature(api_server: ApiServer, owner: ApiUser) -> None:
    request = signed_request(
        api_server.url,
        "DescribeDataSources",
        {"Limit": 1},
        access_key_id=owner.access_key_id,
        secret=owner.secret_access_key,
    )
    answer = send(request, body=b'{"Limit": 2}')
    assert answer.status == 400, answer.text
    assert answer.body["__type"].split("#")[-1] == "InvalidSignatureException"


def test_the_signed_request_itself_is_accepted(api_server: ApiServer, owner: ApiUser) -> None:
    request = signed_request(
        api_server.url,
        "DescribeDataSources",
        {"Limit": 1},
        access_key_id=owner.access_key_id,
        secret=owner.secret_access_key,
    )
    answer = send(request)
    assert answer.status == 200, answer.text
    assert "Results" in answer.body


def test_an_rds_query_on_a_configured_connection_becomes_a_datasource_staged_on_s3(
    pipeline: Pipeline, api_server: ApiServer, s3_client: Any
) -> None:
    ml = pipeline.client
    staging = f"s3://{pipeline.bucket}/staging/"
    ml.create_data_source_from_rds(
        DataSourceId="ds.from-rds",
        DataSourceName="banking from rds",
        RDSData={
            **RDS_DATA,
            "DatabaseInformation": {"InstanceIdentifier": "aml-banking", "DatabaseName": "banking"},
            "SelectSqlQuery": "SELECT * FROM banking",
            "S3StagingLocation": staging,
            "DataSchema": banking_schema(),
        },
        RoleARN="arn:aws:iam::000000000000:role/aml",
        ComputeStatistics=True,
    )
    ml.create_data_source_from_redshift(
        DataSourceId="ds.from-redshift",
        DataSourceName="banking from redshift",
        DataSpec={
            "DatabaseInformation": {"ClusterIdentifier": "aml-warehouse", "DatabaseName": "dev"},
            "SelectSqlQuery": "SELECT * FROM banking WHERE y = '1'",
            "DatabaseCredentials": {"Username": "aml", "Password": "password1"},
            "S3StagingLocation": staging,
            "DataSchema": banking_schema(),
        },
        RoleARN="arn:aws:iam::000000000000:role/aml",
    )
    wait(ml, "data_source_available", api_server, FilterVariable="Name", Prefix="banking from ")
    rds = ml.get_data_source(DataSourceId="ds.from-rds")
    assert rds["RDSMetadata"]["Database"] == {
        "InstanceIdentifier": "aml-banking",
        "DatabaseName": "banking",
    }
    assert rds["RDSMetadata"]["SelectSqlQuery"] == "SELECT * FROM banking"
    assert rds["RoleARN"] == "arn:aws:iam::000000000000:role/aml"
    redshift = ml.get_data_source(DataSourceId="ds.from-redshift")
    assert redshift["RedshiftMetadata"]["RedshiftDatabase"]["ClusterIdentifier"] == "aml-warehouse"
    staged = s3_client.get_object(Bucket=pipeline.bucket, Key="staging/ds.from-rds.csv")
    lines = staged["Body"].read().decode().splitlines()
    assert lines[0].split(",")[0] == "age"
    assert len(lines) == 1 + SQL_BANKING_ROWS


# --------------------------------------------------------------------------- other model types


def schema_with_target(target: str) -> str:
    schema = json.loads(banking_schema("banking-batch.csv"))
    schema["targetAttributeName"] = target
    return json.dumps(schema)


@pytest.fixture(scope="module")
def other_model_types(pipeline: Pipeline, api_server: ApiServer) -> dict[str, str]:
    """A REGRESSION model (target `age`) and a MULTICLASS one (`marital`) on banking-batch.csv,
    each evaluated on the last 30 %, created back to back; their ids by type."""
    ml = pipeline.client
    models = {"REGRESSION": "age", "MULTICLASS": "marital"}
    for model_type, target in models.items():
        for part, split in (("train", TRAIN_SPLIT), ("eval", EVAL_SPLIT)):
            ml.create_data_source_from_s3(
                DataSourceId=f"ds.{target}.{part}",
                DataSourceName=f"kinds: {target} {part}",
                DataSpec={
                    "DataLocationS3": f"s3://{pipeline.bucket}/data/banking-batch.csv",
                    "DataSchema": schema_with_target(target),
                    "DataRearrangement": split,
                },
            )
        ml.create_ml_model(
            MLModelId=f"ml.{target}",
            MLModelName=f"kinds: {target}",
            MLModelType=model_type,
            TrainingDataSourceId=f"ds.{target}.train",
        )
        ml.create_evaluation(
            EvaluationId=f"ev.{target}",
            EvaluationName=f"kinds: {target}",
            MLModelId=f"ml.{target}",
            EvaluationDataSourceId=f"ds.{target}.eval",
        )
    wait(ml, "ml_model_available", api_server, FilterVariable="Name", Prefix="kinds: ")
    wait(ml, "evaluation_available", api_server, FilterVariable="Name", Prefix="kinds: ")
    for target in models.values():
        ml.create_realtime_endpoint(MLModelId=f"ml.{target}")
    return {model_type: f"ml.{target}" for model_type, target in models.items()}


def test_a_regression_model_reports_its_rmse_as_a_string_and_predicts_a_value(
    other_model_types: dict[str, str], pipeline: Pipeline
) -> None:
    ml, model_id = pipeline.client, other_model_types["REGRESSION"]
    evaluation = ml.get_evaluation(EvaluationId="ev.age")
    rmse = evaluation["PerformanceMetrics"]["Properties"]["RegressionRMSE"]
    assert isinstance(rmse, str)
    assert 0 < float(rmse) < 20  # ages 17 to 98 in the data
    info = wait_for_endpoint(ml, model_id)
    prediction = predict(ml, info["EndpointUrl"], first_batch_record(), model=model_id)
    assert isinstance(prediction["predictedValue"], float)
    assert 17 <= prediction["predictedValue"] <= 98
    assert "predictedLabel" not in prediction
    assert prediction["details"]["PredictiveModelType"] == "REGRESSION"


def test_a_multiclass_model_reports_its_f_score_as_a_string_and_scores_every_class(
    other_model_types: dict[str, str], pipeline: Pipeline
) -> None:
    ml, model_id = pipeline.client, other_model_types["MULTICLASS"]
    evaluation = ml.get_evaluation(EvaluationId="ev.marital")
    f_score = evaluation["PerformanceMetrics"]["Properties"]["MulticlassAvgFScore"]
    assert isinstance(f_score, str)
    assert 0 < float(f_score) <= 1
    info = wait_for_endpoint(ml, model_id)
    prediction = predict(ml, info["EndpointUrl"], first_batch_record(), model=model_id)
    scores = prediction["predictedScores"]
    assert {"married", "single", "divorced"} <= set(scores)
    assert prediction["predictedLabel"] == max(scores, key=scores.__getitem__)
    assert sum(scores.values()) == pytest.approx(1, abs=1e-3)
    assert prediction["details"]["PredictiveModelType"] == "MULTICLASS"

"""The AML API's dispatch, input checks and operations, driven by boto3's own client in-process
(tests/console/api_client.py): errors as botocore raises them, members named, owners kept
apart, and the operations calling the same services as the wizards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_client import ml_client
from botocore.exceptions import ClientError
from django.test import Client
from prediction_factories import banking_batch_source, banking_model, run_all

from console import tasks
from console.api.keys import create_access_key
from console.api.operations import RateLimiter
from console.models import Evaluation, MLModel, Status
from console.services.errors import LimitExceeded

pytestmark = pytest.mark.django_db

BANKING_RECORD = {
    "age": "56",
    "job": "housemaid",
    "marital": "married",
    "education": "basic.4y",
    "default": "no",
    "housing": "no",
    "loan": "no",
    "contact": "telephone",
    "month": "may",
    "day_of_week": "mon",
    "duration": "261",
    "campaign": "1",
    "pdays": "999",
    "previous": "0",
    "poutcome": "nonexistent",
    "emp_var_rate": "1.1",
    "cons_price_idx": "93.994",
    "cons_conf_idx": "-36.4",
    "euribor3m": "4.857",
    "nr_employed": "5191",
}


@pytest.fixture
def aml(owner: Any) -> Any:
    key, secret = create_access_key(owner)
    return ml_client(key.access_key_id, secret)


@pytest.fixture
def stranger_aml(stranger: Any) -> Any:
    key, secret = create_access_key(stranger)
    return ml_client(key.access_key_id, secret)


@pytest.fixture
def model(owner: Any, shared_data: Path, enqueued: list[Any]) -> MLModel:
    ml = banking_model(owner, shared_data, records=3000)
    run_all(enqueued)
    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED, ml.message
    return ml


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return {
        **caught.value.response["Error"],
        "status": caught.value.response["ResponseMetadata"]["HTTPStatusCode"],
    }


def raw_call(target: str, body: bytes, **headers: str) -> Any:
    return Client().generic(
        "POST",
        "/",
        data=body,
        content_type="application/x-amz-json-1.1",
        HTTP_X_AMZ_TARGET=target,
        HTTP_HOST="testserver",
        **headers,
    )


# ----------------------------------------------------------------------------- protocol


def test_an_unsigned_call_is_refused_with_missing_authentication_token() -> None:
    response = raw_call("AmazonML_20141212.DescribeDataSources", b"{}")
    assert response.status_code in (400, 403)
    assert json.loads(response.content)["__type"] == "MissingAuthenticationTokenException"


def test_an_unknown_operation_is_refused_without_a_500() -> None:
    response = raw_call("AmazonML_20141212.DropEverything", b"{}")
    assert response.status_code == 400
    assert json.loads(response.content)["__type"] == "UnknownOperationException"


def test_a_get_of_the_dashboard_is_not_an_api_call(owner_client: Client) -> None:
    assert owner_client.get("/").status_code == 200


def test_a_missing_required_member_is_named(owner: Any) -> None:
    key, secret = create_access_key(owner)
    careless = ml_client(key.access_key_id, secret, validate=False)
    error = error_of(careless.create_ml_model, MLModelId="m1", TrainingDataSourceId="ds")
    assert error["Code"] == "InvalidInputException"
    assert error["Message"] == "MLModelType is required."


def test_a_nested_member_breaking_its_shape_is_named_by_its_path(owner: Any) -> None:
    key, secret = create_access_key(owner)
    careless = ml_client(key.access_key_id, secret, validate=False)
    error = error_of(
        careless.create_data_source_from_s3,
        DataSourceId="ds1",
        DataSpec={"DataLocationS3": "http://not-s3/x.csv"},
    )
    assert error["Code"] == "InvalidInputException"
    assert error["Message"].startswith("DataSpec.DataLocationS3 'http://not-s3/x.csv' does not")


def test_an_id_outside_the_pattern_is_refused_naming_the_member(aml: Any) -> None:
    error = error_of(aml.get_ml_model, MLModelId="no spaces allowed")
    assert error["Code"] == "InvalidInputException"
    assert error["Message"].startswith("MLModelId 'no spaces allowed' does not match")


def test_an_enum_member_outside_its_values_is_refused(aml: Any) -> None:
    error = error_of(aml.describe_data_sources, FilterVariable="Colour", EQ="x")
    assert error["Code"] == "InvalidInputException"
    assert "FilterVariable must be one of CreatedAt" in error["Message"]


def test_a_limit_above_100_is_refused(aml: Any) -> None:
    error = error_of(aml.describe_ml_models, Limit=101)
    assert error["Code"] == "InvalidInputException"
    assert "Limit must be between 1 and 100" in error["Message"]


def test_a_nested_document_a_thousand_levels_deep_is_a_400(owner: Any) -> None:
    key, secret = create_access_key(owner)
    body = b'{"DataSourceId": "x", "Deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = _signed(key.access_key_id, secret, "GetDataSource", body)
    assert response.status_code == 400
    assert json.loads(response.content)["__type"] == "SerializationException"


def test_a_body_that_is_not_json_is_a_serialization_error_naming_where(owner: Any) -> None:
    key, secret = create_access_key(owner)
    response = _signed(key.access_key_id, secret, "GetDataSource", b'{"DataSourceId": ')
    body = json.loads(response.content)
    assert response.status_code == 400
    assert body["__type"] == "SerializationException"
    assert "line 1, column" in body["message"]


def test_a_member_of_the_wrong_json_type_is_named(owner: Any) -> None:
    key, secret = create_access_key(owner)
    response = _signed(key.access_key_id, secret, "GetDataSource", b'{"DataSourceId": 42}')
    body = json.loads(response.content)
    assert body == {
        "__type": "InvalidInputException",
        "message": "DataSourceId must be a string, not a number.",
    }


def _signed(key_id: str, secret: str, operation: str, body: bytes) -> Any:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(
        method="POST",
        url="http://testserver/",
        data=body,
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": f"AmazonML_20141212.{operation}",
        },
    )
    SigV4Auth(Credentials(key_id, secret), "machinelearning", "us-east-1").add_auth(request)
    return raw_call(
        f"AmazonML_20141212.{operation}",
        body,
        HTTP_X_AMZ_DATE=request.headers["X-Amz-Date"],
        HTTP_AUTHORIZATION=request.headers["Authorization"],
    )


# ----------------------------------------------------------------------------- operations


def test_get_ml_model_answers_in_the_service_models_shape(aml: Any, model: MLModel) -> None:
    got = aml.get_ml_model(MLModelId=model.entity_id, Verbose=True)
    assert got["MLModelId"] == model.entity_id
    assert got["Status"] == "COMPLETED"
    assert got["MLModelType"] == "BINARY"
    assert got["EndpointInfo"]["EndpointStatus"] == "NONE"
    assert "Recipe" in got and "Schema" in got


def test_training_parameters_are_accepted_back_as_parameters(
    aml: Any, model: MLModel, enqueued: list[Any]
) -> None:
    got = aml.get_ml_model(MLModelId=model.entity_id, Verbose=True)
    again = aml.create_ml_model(
        MLModelId="again.v2",
        MLModelType="BINARY",
        TrainingDataSourceId=got["TrainingDataSourceId"],
        Parameters=got["TrainingParameters"],
        Recipe=got["Recipe"],
    )
    assert again["MLModelId"] == "again.v2"
    assert MLModel.objects.get(entity_id="again.v2").status == Status.PENDING


def test_a_second_users_key_gets_resource_not_found(stranger_aml: Any, model: MLModel) -> None:
    for call, kwargs in [
        (stranger_aml.get_ml_model, {"MLModelId": model.entity_id}),
        (stranger_aml.update_ml_model, {"MLModelId": model.entity_id, "ScoreThreshold": 0.2}),
        (stranger_aml.delete_ml_model, {"MLModelId": model.entity_id}),
        (stranger_aml.create_realtime_endpoint, {"MLModelId": model.entity_id}),
        (
            stranger_aml.describe_tags,
            {"ResourceId": model.entity_id, "ResourceType": "MLModel"},
        ),
        (
            stranger_aml.predict,
            {
                "MLModelId": model.entity_id,
                "Record": BANKING_RECORD,
                "PredictEndpoint": "http://testserver",
            },
        ),
    ]:
        assert error_of(call, **kwargs)["Code"] == "ResourceNotFoundException"
    assert stranger_aml.describe_ml_models()["Results"] == []


def test_predict_needs_a_ready_endpoint_then_answers_amls_shape(
    aml: Any, model: MLModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ask = {
        "MLModelId": model.entity_id,
        "Record": BANKING_RECORD,
        "PredictEndpoint": "http://testserver",
    }
    assert error_of(aml.predict, **ask)["Code"] == "PredictorNotMountedException"
    monkeypatch.setattr(
        "console.services.realtime._enqueue_mount",
        lambda pk: tasks.mount_realtime_endpoint.run(pk),
    )
    created = aml.create_realtime_endpoint(MLModelId=model.entity_id)
    assert created["RealtimeEndpointInfo"]["EndpointStatus"] in ("UPDATING", "READY")
    info = aml.get_ml_model(MLModelId=model.entity_id)["EndpointInfo"]
    assert info["EndpointStatus"] == "READY"
    assert info["EndpointUrl"].startswith("http")
    assert info["PeakRequestsPerSecond"] == 200
    prediction = aml.predict(**ask)["Prediction"]
    assert prediction["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}
    assert list(prediction["predictedScores"]) == [prediction["predictedLabel"]]


def test_the_saved_threshold_drives_predicts_label(
    aml: Any, model: MLModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "console.services.realtime._enqueue_mount",
        lambda pk: tasks.mount_realtime_endpoint.run(pk),
    )
    aml.create_realtime_endpoint(MLModelId=model.entity_id)
    ask = {
        "MLModelId": model.entity_id,
        "Record": {**BANKING_RECORD, " stray key ": "x", "job": ""},
        "PredictEndpoint": "http://testserver",
    }
    score = next(iter(aml.predict(**ask)["Prediction"]["predictedScores"].values()))
    aml.update_ml_model(MLModelId=model.entity_id, ScoreThreshold=max(score - 1e-6, 0.0))
    assert aml.predict(**ask)["Prediction"]["predictedLabel"] == "1"
    aml.update_ml_model(MLModelId=model.entity_id, ScoreThreshold=min(score + 1e-6, 1.0))
    assert aml.predict(**ask)["Prediction"]["predictedLabel"] == "0"
    got = aml.get_ml_model(MLModelId=model.entity_id)
    assert got["ScoreThreshold"] == pytest.approx(min(score + 1e-6, 1.0))
    assert "ScoreThresholdLastUpdatedAt" in got


def test_the_rate_limiter_refuses_above_the_peak_within_a_second() -> None:
    limiter = RateLimiter(limit=4)
    for _ in range(4):
        limiter.admit("m", now=10.0)  # a second's worth at once
    with pytest.raises(LimitExceeded):
        limiter.admit("m", now=10.0)
    limiter.admit("other", now=10.0)
    limiter.admit("m", now=10.25)  # a quarter second refills one
    with pytest.raises(LimitExceeded):
        limiter.admit("m", now=10.3)


def test_the_rate_limiter_admits_a_client_sending_exactly_at_the_peak_with_jitter() -> None:
    limiter = RateLimiter(limit=200)
    refused = 0
    for i in range(2000):
        jitter = 0.004 if i % 2 else -0.004
        try:
            limiter.admit("m", now=100.0 + i / 200 + jitter)
        except LimitExceeded:
            refused += 1
    assert refused == 0


def test_create_evaluation_is_idempotent_and_refuses_other_input(
    aml: Any, owner: Any, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> None:
    other = banking_batch_source(owner, shared_data)
    source = model.training_data_source.entity_id
    ask = {"EvaluationId": "ev.1", "MLModelId": model.entity_id, "EvaluationDataSourceId": source}
    assert aml.create_evaluation(**ask)["EvaluationId"] == "ev.1"
    assert aml.create_evaluation(**ask)["EvaluationId"] == "ev.1"
    assert Evaluation.objects.filter(entity_id="ev.1").count() == 1
    error = error_of(aml.create_evaluation, **{**ask, "EvaluationDataSourceId": other.entity_id})
    assert error["Code"] == "IdempotentParameterMismatchException"


def test_tags_are_added_described_and_deleted_with_amls_errors(aml: Any, model: MLModel) -> None:
    where = {"ResourceId": model.entity_id, "ResourceType": "MLModel"}
    aml.add_tags(Tags=[{"Key": "team", "Value": "growth"}, {"Key": "flag"}], **where)
    tags = aml.describe_tags(**where)["Tags"]
    assert {"Key": "team", "Value": "growth"} in tags
    aml.delete_tags(TagKeys=["team"], **where)
    assert [t["Key"] for t in aml.describe_tags(**where)["Tags"]] == sorted(
        k for k in model.tags if k != "team"
    ) + (["flag"] if "flag" not in model.tags else [])
    assert error_of(aml.add_tags, Tags=[{"Key": "bad#key"}], **where)["Code"] == (
        "InvalidTagException"
    )
    many = [{"Key": f"k{i}", "Value": "v"} for i in range(101)]
    assert error_of(aml.add_tags, Tags=many, **where)["Code"] == "TagLimitExceededException"
    fifty_one = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    assert error_of(aml.add_tags, Tags=fifty_one, **where)["Code"] == ("TagLimitExceededException")


def test_create_batch_prediction_checks_the_output_uri(
    aml: Any, owner: Any, model: MLModel, shared_data: Path, enqueued: list[Any]
) -> None:
    source = banking_batch_source(owner, shared_data)
    ask = {
        "BatchPredictionId": "batch2adultincomev1",
        "MLModelId": model.entity_id,
        "BatchPredictionDataSourceId": source.entity_id,
    }
    error = error_of(aml.create_batch_prediction, OutputUri="s3://bucket/a/../b/", **ask)
    assert error["Code"] == "InvalidInputException"
    created = aml.create_batch_prediction(OutputUri="s3://bucket/out/", **ask)
    assert created["BatchPredictionId"] == "batch2adultincomev1"
    got = aml.get_batch_prediction(BatchPredictionId="batch2adultincomev1")
    assert got["OutputUri"] == "s3://bucket/out/"
    assert got["Status"] in ("PENDING", "INPROGRESS")


def test_update_and_delete_answer_the_id(aml: Any, model: MLModel) -> None:
    updated = aml.update_ml_model(MLModelId=model.entity_id, MLModelName="renamed")
    assert updated["MLModelId"] == model.entity_id
    assert aml.get_ml_model(MLModelId=model.entity_id)["Name"] == "renamed"
    assert aml.delete_ml_model(MLModelId=model.entity_id)["MLModelId"] == model.entity_id
    assert aml.get_ml_model(MLModelId=model.entity_id)["Status"] == "DELETED"


def test_a_model_trains_on_a_datasource_made_without_statistics(
    aml: Any, owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    from prediction_factories import banking_slice

    from console.services.datasources import create_data_source_from_s3

    ds = create_data_source_from_s3(
        owner,
        data_source_id="no-stats",
        data_spec={
            "DataLocationS3": str(banking_slice(shared_data, 800)),
            "DataSchema": (shared_data / "banking.csv.schema").read_text(),
        },
        compute_statistics=False,
    )
    aml.create_ml_model(
        MLModelId="on-no-stats", MLModelType="BINARY", TrainingDataSourceId=ds.entity_id
    )
    run_all(enqueued)
    got = aml.get_ml_model(MLModelId="on-no-stats", Verbose=True)
    assert got["Status"] == "COMPLETED", got.get("Message")
    assert "ComputeStatistics" in aml.get_data_source(DataSourceId="no-stats")


def test_every_operation_of_the_service_model_has_a_handler() -> None:
    from console.api.operations import HANDLERS
    from console.api.shapes import service_model

    assert set(HANDLERS) == set(service_model().operation_names)
    assert len(HANDLERS) == 28


def test_a_datasource_create_repeated_after_its_schema_was_inferred_answers_the_same_id(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    from prediction_factories import banking_slice

    from console.services.datasources import create_data_source_from_s3
    from console.services.errors import IdempotentParameterMismatch

    location = str(banking_slice(shared_data, 600))

    def create_source(**spec: str) -> Any:
        return create_data_source_from_s3(
            owner, data_source_id="inferred", data_spec={"DataLocationS3": location, **spec}
        )

    create_source()
    run_all(enqueued)
    assert create_source().data_schema, "the job stored the schema it inferred"
    with pytest.raises(IdempotentParameterMismatch):
        create_source(DataRearrangement='{"splitting":{"percentBegin":0,"percentEnd":50}}')


def test_a_model_create_repeated_after_training_stored_its_recipe_answers_the_same_id(
    aml: Any, model: MLModel, enqueued: list[Any]
) -> None:
    source = model.training_data_source.entity_id
    ask = {
        "MLModelId": "repeat.me",
        "MLModelType": "BINARY",
        "TrainingDataSourceId": source,
        "Parameters": {"sgd.maxPasses": "3"},
    }
    aml.create_ml_model(**ask)
    run_all(enqueued)
    trained = MLModel.objects.get(entity_id="repeat.me")
    assert trained.status == Status.COMPLETED and trained.recipe, "training stored the recipe"
    assert aml.create_ml_model(**ask)["MLModelId"] == "repeat.me"
    other = {**ask, "Parameters": {"sgd.maxPasses": "4"}}
    assert error_of(aml.create_ml_model, **other)["Code"] == "IdempotentParameterMismatchException"

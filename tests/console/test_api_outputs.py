"""The Get*/Describe* output shapes (console/api/outputs.py) against botocore's service model."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore_shapes import parsed_by_botocore, shape_problems
from django.test import Client
from django.urls import resolve
from evaluation_factories import completed_evaluation

from console.api import outputs
from console.models import BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.ml_models import _validated_parameters

pytestmark = pytest.mark.django_db

BASE = "http://aml.example:8000"
# Deliberate differences (docs/api.md): server paths and uploads are not s3:// URLs, and the
# endpoint URL is this server's own http address rather than an amazonaws.com one.
LENIENT = frozenset({"S3Url", "VipURL", "PresignedS3Url"})
SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "y",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "x", "attributeType": "NUMERIC"},
        {"attributeName": "y", "attributeType": "BINARY"},
    ],
    "excludedAttributeNames": [],
}
T0 = datetime(2025, 3, 1, 12, 30, 15, 125000, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _quick_passwords(settings: Any) -> None:
    """The personas' passwords hashed cheaply: every test here makes a user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_data_source(owner: Any, entity_id: str = "ds-Banking0001", **fields: Any) -> DataSource:
    values: dict[str, Any] = {
        "source_kind": DataSource.SourceKind.S3,
        "data_location_s3": "s3://aml-data/banking.csv",
        "status": Status.COMPLETED,
        "name": "Banking",
        "data_schema": SCHEMA,
        "data_rearrangement": '{"splitting":{"percentBegin":0,"percentEnd":70}}',
        "data_size_in_bytes": 4_882_918,
        "number_of_files": 1,
        "compute_time": 12_000,
        "started_at": T0 + timedelta(seconds=5),
        "finished_at": T0 + timedelta(seconds=65),
        "log": "Datasource created.\n",
        **fields,
    }
    return DataSource.objects.create(owner=owner, entity_id=entity_id, **values)


def make_model(
    owner: Any, ds: DataSource, entity_id: str = "ml-Banking0001", **fields: Any
) -> MLModel:
    values: dict[str, Any] = {
        "name": "ML model: Banking",
        "training_data_source": ds,
        "ml_model_type": "BINARY",
        "status": Status.COMPLETED,
        "training_parameters": _validated_parameters({"sgd.maxMLModelSizeInBytes": "104857600"}),
        "training_choice": {"l2": 0.001},
        "recipe": '{"groups": {}, "assignments": {}, "outputs": ["ALL_INPUTS"]}',
        "score_threshold": 0.62,
        "score_threshold_last_updated_at": T0 + timedelta(hours=2),
        "size_in_bytes": 123_456,
        "compute_time": 90_000,
        "started_at": T0 + timedelta(minutes=1),
        "finished_at": T0 + timedelta(minutes=4),
        **fields,
    }
    return MLModel.objects.create(owner=owner, entity_id=entity_id, **values)


def make_batch_prediction(owner: Any, **fields: Any) -> BatchPrediction:
    ds = make_data_source(owner, "ds-Batch0001", name="Banking batch")
    ml = make_model(owner, make_data_source(owner, "ds-Train0001"))
    values: dict[str, Any] = {
        "name": "Batch prediction: Banking",
        "ml_model": ml,
        "batch_prediction_data_source": ds,
        "output_uri": "s3://aml-out/banking/",
        "status": Status.COMPLETED,
        "total_record_count": 4119,
        "invalid_record_count": 121,
        "compute_time": 3_000,
        "started_at": T0,
        "finished_at": T0 + timedelta(seconds=30),
        **fields,
    }
    return BatchPrediction.objects.create(owner=owner, entity_id="bp-Banking0001", **values)


def fits(value: dict[str, Any], shape_name: str, lenient: frozenset[str] = frozenset()) -> None:
    problems = shape_problems(value, shape_name, lenient_patterns=lenient)
    assert not problems, "\n".join(problems)


# --- DataSource ------------------------------------------------------------------------------


def test_a_completed_s3_datasource_fits_get_data_source_output_exactly(owner: Any) -> None:
    ds = make_data_source(owner)
    out = outputs.data_source_output(ds, verbose=True, base_url=BASE)
    fits(out, "GetDataSourceOutput")
    assert out["DataSourceId"] == "ds-Banking0001"
    assert out["DataLocationS3"] == "s3://aml-data/banking.csv"
    assert out["DataRearrangement"] == ds.data_rearrangement
    assert out["DataSizeInBytes"] == 4_882_918
    assert out["NumberOfFiles"] == 1
    assert out["ComputeStatistics"] is True
    assert out["ComputeTime"] == 12_000
    assert out["Status"] == "COMPLETED"
    assert out["CreatedAt"] == ds.created_at.timestamp()
    assert out["StartedAt"] == (T0 + timedelta(seconds=5)).timestamp()
    assert out["FinishedAt"] == (T0 + timedelta(seconds=65)).timestamp()


def test_the_describe_element_of_a_datasource_has_neither_log_nor_schema(owner: Any) -> None:
    out = outputs.data_source_summary(make_data_source(owner), base_url=BASE)
    fits(out, "DataSource")
    assert "LogUri" not in out and "DataSourceSchema" not in out


def test_the_datasource_schema_is_given_only_when_verbose_as_aml_s_json_string(owner: Any) -> None:
    ds = make_data_source(owner)
    assert "DataSourceSchema" not in outputs.data_source_output(ds, verbose=False, base_url=BASE)
    verbose = outputs.data_source_output(ds, verbose=True, base_url=BASE)
    assert json.loads(verbose["DataSourceSchema"]) == SCHEMA


def test_a_pending_datasource_leaves_out_what_it_does_not_have_yet(owner: Any) -> None:
    ds = make_data_source(
        owner,
        status=Status.PENDING,
        name="",
        data_rearrangement="",
        data_size_in_bytes=None,
        number_of_files=None,
        compute_time=None,
        started_at=None,
        finished_at=None,
        data_schema={},
    )
    out = outputs.data_source_output(ds, verbose=True, base_url=BASE)
    fits(out, "GetDataSourceOutput")
    for absent in (
        "Name",
        "DataRearrangement",
        "DataSizeInBytes",
        "NumberOfFiles",
        "ComputeTime",
        "StartedAt",
        "FinishedAt",
        "Message",
        "DataSourceSchema",
        "RDSMetadata",
        "RedshiftMetadata",
        "RoleARN",
    ):
        assert absent not in out
    assert out["Status"] == "PENDING"


def test_an_uploaded_file_and_a_server_path_show_the_location_that_reads_them_again(
    owner: Any,
) -> None:
    upload = make_data_source(
        owner, "ds-Upload0001", source_kind="upload", data_location_s3="uploads/1/abc/bank.csv"
    )
    path = make_data_source(
        owner, "ds-Path00001", source_kind="path", data_location_s3="/srv/data/bank.csv"
    )
    up = outputs.data_source_output(upload, verbose=False, base_url=BASE)
    fits(up, "GetDataSourceOutput", LENIENT)
    assert up["DataLocationS3"] == "upload://uploads/1/abc/bank.csv"
    assert (
        outputs.data_source_summary(path, base_url=BASE)["DataLocationS3"] == "/srv/data/bank.csv"
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {
            "RDSMetadata": {
                "Database": {"InstanceIdentifier": "bank-db", "DatabaseName": "bank"},
                "DatabaseUserName": "reader",
                "SelectSqlQuery": "SELECT * FROM customers",
                "ResourceRole": "DataPipelineDefaultResourceRole",
                "ServiceRole": "DataPipelineDefaultRole",
                "DataPipelineId": "df-0123456789",
            },
            "RoleARN": "arn:aws:iam::000000000000:role/aml",
        },
        {
            "RedshiftMetadata": {
                "RedshiftDatabase": {"DatabaseName": "dev", "ClusterIdentifier": "bank"},
                "DatabaseUserName": "reader",
                "SelectSqlQuery": "SELECT * FROM customers",
            },
            "RoleARN": "arn:aws:iam::000000000000:role/aml",
        },
    ],
    ids=["rds", "redshift"],
)
def test_a_sql_datasource_carries_its_metadata_and_role_as_stored(
    owner: Any, metadata: dict[str, Any]
) -> None:
    ds = make_data_source(owner, source_kind="rds", sql_metadata=metadata)
    out = outputs.data_source_output(ds, verbose=True, base_url=BASE)
    fits(out, "GetDataSourceOutput")
    for key, value in metadata.items():
        assert out[key] == value
    fits(outputs.data_source_summary(ds, base_url=BASE), "DataSource")


def test_created_by_is_the_owner_as_an_iam_user_of_the_configured_account(
    owner: Any, settings: Any
) -> None:
    settings.AML_ACCOUNT_ID = "123456789012"
    out = outputs.data_source_output(make_data_source(owner), verbose=False, base_url=BASE)
    assert out["CreatedByIamUser"] == "arn:aws:iam::123456789012:user/alice"


def test_the_default_account_is_twelve_zeros(owner: Any) -> None:
    out = outputs.data_source_summary(make_data_source(owner), base_url=BASE)
    assert out["CreatedByIamUser"] == "arn:aws:iam::000000000000:user/alice"


def test_a_long_message_is_cut_to_the_model_s_10240_characters(owner: Any) -> None:
    ds = make_data_source(owner, status=Status.FAILED, message="x" * 20_000)
    out = outputs.data_source_output(ds, verbose=False, base_url=BASE)
    fits(out, "GetDataSourceOutput")
    assert len(out["Message"]) == 10_240
    assert out["Message"].startswith("xxx") and out["Message"].endswith("…")


def test_a_short_message_is_given_whole(owner: Any) -> None:
    ds = make_data_source(owner, status=Status.FAILED, message="The file has no records.")
    assert outputs.data_source_summary(ds, base_url=BASE)["Message"] == "The file has no records."


def test_a_deleted_datasource_says_deleted(owner: Any) -> None:
    out = outputs.data_source_output(
        make_data_source(owner, status=Status.DELETED), verbose=False, base_url=BASE
    )
    assert out["Status"] == "DELETED"


def test_boto3_reads_the_timestamps_back_as_the_same_instants(owner: Any) -> None:
    ds = make_data_source(owner)
    parsed = parsed_by_botocore(
        "GetDataSource", outputs.data_source_output(ds, verbose=False, base_url=BASE)
    )
    assert parsed["CreatedAt"] == ds.created_at
    assert parsed["StartedAt"] == T0 + timedelta(seconds=5)
    assert parsed["ComputeStatistics"] is True


@pytest.mark.parametrize(
    ("make", "page"),
    [("datasource", "/datasources/"), ("model", "/models/"), ("batch", "/batch-predictions/")],
)
def test_the_log_uri_is_this_server_s_log_page_and_it_serves_the_log(
    owner: Any, owner_client: Client, make: str, page: str
) -> None:
    if make == "datasource":
        obj: Any = make_data_source(owner)
        out = outputs.data_source_output(obj, verbose=False, base_url=BASE + "/")
    elif make == "model":
        obj = make_model(owner, make_data_source(owner), log="Model trained.\n")
        out = outputs.ml_model_output(obj, verbose=False, base_url=BASE)
    else:
        obj = make_batch_prediction(owner, log="Scored.\n")
        out = outputs.batch_prediction_output(obj, base_url=BASE)
    assert out["LogUri"] == f"{BASE}{page}{obj.entity_id}/log/"
    response = owner_client.get(out["LogUri"].removeprefix(BASE))
    assert response.status_code == 200
    assert response.content.decode() == obj.log


# --- MLModel ---------------------------------------------------------------------------------


def test_a_completed_model_fits_get_ml_model_output_and_its_describe_element(owner: Any) -> None:
    ml = make_model(owner, make_data_source(owner))
    out = outputs.ml_model_output(ml, verbose=True, base_url=BASE)
    fits(out, "GetMLModelOutput")
    summary = outputs.ml_model_summary(ml, base_url=BASE)
    fits(summary, "MLModel")
    assert summary["Algorithm"] == "sgd"
    assert "Algorithm" not in out  # not a member of GetMLModelOutput
    assert out["TrainingDataSourceId"] == "ds-Banking0001"
    assert out["InputDataLocationS3"] == "s3://aml-data/banking.csv"
    assert out["MLModelType"] == "BINARY"
    assert out["SizeInBytes"] == 123_456
    assert out["ComputeTime"] == 90_000
    assert out["ScoreThreshold"] == 0.62
    assert out["ScoreThresholdLastUpdatedAt"] == (T0 + timedelta(hours=2)).timestamp()


def test_a_model_without_endpoint_says_none_with_no_url_even_in_describe(owner: Any) -> None:
    ml = make_model(owner, make_data_source(owner))
    expected = {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}
    assert outputs.ml_model_output(ml, verbose=False, base_url=BASE)["EndpointInfo"] == expected
    assert outputs.ml_model_summary(ml, base_url=BASE)["EndpointInfo"] == expected


def test_a_ready_endpoint_s_url_is_this_server_s_base_address(owner: Any) -> None:
    created = T0 + timedelta(days=1)
    ml = make_model(
        owner, make_data_source(owner), endpoint_status="READY", endpoint_created_at=created
    )
    out = outputs.ml_model_output(ml, verbose=False, base_url=BASE + "/")
    fits(out, "GetMLModelOutput", LENIENT)
    assert out["EndpointInfo"] == {
        "EndpointStatus": "READY",
        "EndpointUrl": BASE,
        "PeakRequestsPerSecond": 200,
        "CreatedAt": created.timestamp(),
    }


def test_verbose_adds_the_recipe_and_the_training_schema(owner: Any) -> None:
    ml = make_model(owner, make_data_source(owner))
    plain = outputs.ml_model_output(ml, verbose=False, base_url=BASE)
    assert "Recipe" not in plain and "Schema" not in plain
    verbose = outputs.ml_model_output(ml, verbose=True, base_url=BASE)
    assert verbose["Recipe"] == ml.recipe
    assert json.loads(verbose["Schema"]) == SCHEMA


def test_a_pending_model_has_no_recipe_yet_and_no_timings(owner: Any) -> None:
    ml = make_model(
        owner,
        make_data_source(owner),
        status=Status.PENDING,
        recipe="",
        size_in_bytes=None,
        compute_time=None,
        started_at=None,
        finished_at=None,
        training_choice={},
        score_threshold_last_updated_at=None,
    )
    out = outputs.ml_model_output(ml, verbose=True, base_url=BASE)
    fits(out, "GetMLModelOutput")
    for absent in ("Recipe", "SizeInBytes", "ComputeTime", "StartedAt", "FinishedAt"):
        assert absent not in out
    assert "ScoreThresholdLastUpdatedAt" not in out
    assert out["TrainingParameters"]["sgd.l2RegularizationAmount"] == "auto"


def test_training_parameters_are_strings_as_trained_with_the_chosen_l2(owner: Any) -> None:
    ml = make_model(owner, make_data_source(owner))
    params = outputs.ml_model_output(ml, verbose=True, base_url=BASE)["TrainingParameters"]
    assert params == {
        "algorithm": "sgd",
        "sgd.l1RegularizationAmount": "0.0",
        "sgd.l2RegularizationAmount": "0.001",
        "sgd.maxMLModelSizeInBytes": "104857600",
        "sgd.maxPasses": "10",
        "sgd.shuffleType": "auto",
    }


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"sgd.maxPasses": "20", "sgd.shuffleType": "none"},
        {"sgd.l1RegularizationAmount": "1e-4"},
        {"sgd.l2RegularizationAmount": "1e-6", "sgd.maxMLModelSizeInBytes": "33554432"},
    ],
)
def test_training_parameters_are_accepted_back_unchanged_as_parameters(
    owner: Any, given: dict[str, str]
) -> None:
    ml = make_model(
        owner, make_data_source(owner), training_parameters=_validated_parameters(given)
    )
    echoed = outputs.ml_model_output(ml, verbose=True, base_url=BASE)["TrainingParameters"]
    assert _validated_parameters(echoed) == echoed


def test_parameters_stored_before_validation_are_completed_as_the_trainer_read_them(
    owner: Any,
) -> None:
    ml = make_model(
        owner,
        make_data_source(owner),
        training_parameters={"sgd.maxPasses": "5"},
        training_choice={},
    )
    params = outputs.ml_model_summary(ml, base_url=BASE)["TrainingParameters"]
    assert params["sgd.maxPasses"] == "5"
    assert params["sgd.maxMLModelSizeInBytes"] == "33554432"
    assert _validated_parameters(params) == params


@pytest.mark.parametrize("model_type", ["MULTICLASS", "REGRESSION"])
def test_only_a_binary_model_has_a_score_threshold(owner: Any, model_type: str) -> None:
    ml = make_model(owner, make_data_source(owner), ml_model_type=model_type)
    out = outputs.ml_model_output(ml, verbose=False, base_url=BASE)
    fits(out, "GetMLModelOutput")
    assert "ScoreThreshold" not in out and "ScoreThresholdLastUpdatedAt" not in out


def test_a_model_whose_datasource_is_gone_leaves_out_its_id_and_location(owner: Any) -> None:
    ml = make_model(owner, make_data_source(owner), training_data_source=None)
    out = outputs.ml_model_output(ml, verbose=True, base_url=BASE)
    fits(out, "GetMLModelOutput")
    assert "TrainingDataSourceId" not in out and "InputDataLocationS3" not in out
    assert "Schema" not in out


# --- Evaluation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_type", "metric"),
    [
        ("BINARY", "BinaryAUC"),
        ("MULTICLASS", "MulticlassAvgFScore"),
        ("REGRESSION", "RegressionRMSE"),
    ],
)
def test_an_evaluation_s_metric_is_a_string_under_performance_metrics(
    owner: Any, model_type: str, metric: str
) -> None:
    ev = completed_evaluation(owner, model_type, 1)
    out = outputs.evaluation_output(ev, base_url=BASE)
    fits(out, "GetEvaluationOutput", LENIENT)
    fits(outputs.evaluation_summary(ev, base_url=BASE), "Evaluation", LENIENT)
    properties = out["PerformanceMetrics"]["Properties"]
    assert list(properties) == [metric]
    assert isinstance(properties[metric], str)
    assert float(properties[metric]) == float(ev.performance_metrics["Properties"][metric])
    assert out["MLModelId"] == ev.ml_model.entity_id
    assert out["EvaluationDataSourceId"] == ev.evaluation_data_source.entity_id
    assert out["InputDataLocationS3"] == "/data/eval.csv"
    assert out["LogUri"] == f"{BASE}/evaluations/{ev.entity_id}/log/"


def test_a_metric_stored_as_a_number_is_still_given_as_a_string(owner: Any) -> None:
    ev = completed_evaluation(owner, "BINARY", 2)
    ev.performance_metrics = {"Properties": {"BinaryAUC": 0.9361}}
    out = outputs.evaluation_summary(ev, base_url=BASE)
    assert out["PerformanceMetrics"] == {"Properties": {"BinaryAUC": "0.9361"}}


def test_a_pending_evaluation_has_no_performance_metrics(owner: Any) -> None:
    ev = completed_evaluation(owner, "BINARY", 3)
    Evaluation.objects.filter(pk=ev.pk).update(
        status=Status.PENDING, performance_metrics=None, finished_at=None, compute_time=None
    )
    ev.refresh_from_db()
    out = outputs.evaluation_output(ev, base_url=BASE)
    fits(out, "GetEvaluationOutput", LENIENT)
    assert "PerformanceMetrics" not in out and "FinishedAt" not in out


# --- BatchPrediction -------------------------------------------------------------------------


def test_a_batch_prediction_to_s3_fits_and_gives_its_counts_and_output_uri(owner: Any) -> None:
    bp = make_batch_prediction(owner)
    out = outputs.batch_prediction_output(bp, base_url=BASE)
    fits(out, "GetBatchPredictionOutput")
    fits(outputs.batch_prediction_summary(bp, base_url=BASE), "BatchPrediction")
    assert out["OutputUri"] == "s3://aml-out/banking/"
    assert out["TotalRecordCount"] == 4119
    assert out["InvalidRecordCount"] == 121
    assert out["MLModelId"] == "ml-Banking0001"
    assert out["BatchPredictionDataSourceId"] == "ds-Batch0001"
    assert out["InputDataLocationS3"] == "s3://aml-data/banking.csv"


def test_a_pending_batch_prediction_has_no_counts(owner: Any) -> None:
    bp = make_batch_prediction(
        owner, status=Status.PENDING, total_record_count=None, invalid_record_count=None
    )
    out = outputs.batch_prediction_summary(bp, base_url=BASE)
    assert "TotalRecordCount" not in out and "InvalidRecordCount" not in out


def test_results_in_local_console_storage_point_at_the_batch_prediction_s_page(
    owner: Any,
) -> None:
    bp = make_batch_prediction(owner, output_uri="")
    out = outputs.batch_prediction_output(bp, base_url=BASE)
    assert out["OutputUri"] == f"{BASE}/batch-predictions/bp-Banking0001/"
    match = resolve(out["OutputUri"].removeprefix(BASE))
    assert match.view_name == "console:batchprediction-detail"


def test_results_in_an_s3_console_storage_are_its_bucket_folder_in_aml_s_layout(
    owner: Any, settings: Any
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "console-files", "location": "console"},
        },
    }
    bp = make_batch_prediction(owner, output_uri="")
    out = outputs.batch_prediction_output(bp, base_url=BASE)
    fits(out, "GetBatchPredictionOutput")
    assert (
        out["OutputUri"]
        == f"s3://console-files/console/batch-predictions/{owner.pk}/bp-Banking0001/"
    )


@pytest.mark.parametrize("status", [s.value for s in Status])
def test_every_status_is_aml_s_name(owner: Any, status: str) -> None:
    bp = make_batch_prediction(owner, status=status)
    out = outputs.batch_prediction_summary(bp, base_url=BASE)
    assert out["Status"] == status
    fits(out, "BatchPrediction")

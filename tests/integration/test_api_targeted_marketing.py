"""AWS's targeted-marketing tutorial, end to end through boto3, against the live server and S3.

The tutorial's own steps, as a program wrote them: upload banking.csv and banking-batch.csv to a
bucket; two datasources splitting banking.csv 70/30 (DataRearrangement), the model and its
evaluation created back to back while the datasources are still PENDING; the waiters; the score
threshold moved to 0.77; a batch prediction of banking-batch.csv to s3://bucket/out/, read back
from the bucket through its manifest; a real-time endpoint and Predict; the endpoint deleted.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from api_server import (
    FAST_WAITER,
    SHARED_DATA_ROOT,
    ApiServer,
    ApiUser,
    banking_bucket,
    error_code,
    read_batch_results,
    wait_for_endpoint,
)
from botocore.exceptions import ClientError, WaiterError

pytestmark = [pytest.mark.integration]

THRESHOLD = 0.77  # the tutorial's choice on its "Adjust score threshold" page
BATCH_RECORDS = 4119


@dataclass(frozen=True)
class Tutorial:
    ml: Any
    bucket: str
    train_id: str = "ds-banking-train"
    eval_id: str = "ds-banking-eval"
    batch_input_id: str = "ds-banking-batch"
    model_id: str = "ml-banking-tutorial"
    evaluation_id: str = "ev-banking-tutorial"
    batch_id: str = "bp-banking-tutorial"

    @property
    def output_uri(self) -> str:
        return f"s3://{self.bucket}/out/"


def wait(tutorial: Tutorial, server: ApiServer, waiter: str, **describe: Any) -> None:
    try:
        tutorial.ml.get_waiter(waiter).wait(**describe, WaiterConfig=FAST_WAITER)
    except WaiterError as exc:
        pytest.fail(f"{waiter} {describe}: {exc}\n{exc.last_response}\n{server.logs()}")


def split(begin: int, end: int) -> str:
    return f'{{"splitting":{{"percentBegin":{begin},"percentEnd":{end}}}}}'


def create_datasource(tutorial: Tutorial, data_source_id: str, name: str, **spec: str) -> None:
    tutorial.ml.create_data_source_from_s3(
        DataSourceId=data_source_id,
        DataSourceName=name,
        DataSpec=spec,
        ComputeStatistics=True,
    )


def batch_records() -> list[dict[str, str]]:
    with (SHARED_DATA_ROOT / "banking-batch.csv").open(newline="") as stream:
        return [dict(row) for row in csv.DictReader(stream)]


@pytest.fixture(scope="module")
def tutorial(
    ml_client: Callable[..., Any],
    api_users: tuple[ApiUser, ApiUser],
    s3_client: Any,
    api_server: ApiServer,
) -> Tutorial:
    """Everything up to a completed model and evaluation, created back to back."""
    bucket = banking_bucket(s3_client)
    run = Tutorial(ml_client(api_users[0]), bucket)
    data, schemas = f"s3://{bucket}/data", f"s3://{bucket}/schemas"
    create_datasource(
        run,
        run.train_id,
        "Banking Data 1_[percentBegin=0, percentEnd=70, strategy=sequential]",
        DataLocationS3=f"{data}/banking.csv",
        DataSchemaLocationS3=f"{schemas}/banking.csv.schema",
        DataRearrangement=split(0, 70),
    )
    create_datasource(
        run,
        run.eval_id,
        "Banking Data 1_[percentBegin=70, percentEnd=100, strategy=sequential]",
        DataLocationS3=f"{data}/banking.csv",
        DataSchemaLocationS3=f"{schemas}/banking.csv.schema",
        DataRearrangement=split(70, 100),
    )
    run.ml.create_ml_model(
        MLModelId=run.model_id,
        MLModelName="ML model: Banking Data 1",
        MLModelType="BINARY",
        TrainingDataSourceId=run.train_id,
    )
    run.ml.create_evaluation(
        EvaluationId=run.evaluation_id,
        EvaluationName="Evaluation: ML model: Banking Data 1",
        MLModelId=run.model_id,
        EvaluationDataSourceId=run.eval_id,
    )
    create_datasource(
        run,
        run.batch_input_id,
        "Banking Data batch",
        DataLocationS3=f"{data}/banking-batch.csv",
        DataSchemaLocationS3=f"{schemas}/banking-batch.csv.schema",
    )
    wait(run, api_server, "data_source_available", FilterVariable="Name", Prefix="Banking Data")
    wait(
        run, api_server, "ml_model_available", FilterVariable="Name", EQ="ML model: Banking Data 1"
    )
    wait(run, api_server, "evaluation_available", FilterVariable="MLModelId", EQ=run.model_id)
    return run


@pytest.fixture(scope="module")
def thresholded(tutorial: Tutorial) -> Tutorial:
    updated = tutorial.ml.update_ml_model(MLModelId=tutorial.model_id, ScoreThreshold=THRESHOLD)
    assert updated["MLModelId"] == tutorial.model_id
    return tutorial


def test_the_split_datasources_model_and_evaluation_complete(tutorial: Tutorial) -> None:
    ml = tutorial.ml
    train = ml.get_data_source(DataSourceId=tutorial.train_id)
    evaluation_data = ml.get_data_source(DataSourceId=tutorial.eval_id)
    assert train["DataRearrangement"].replace(" ", "") == split(0, 70)
    assert evaluation_data["DataRearrangement"].replace(" ", "") == split(70, 100)
    model = ml.get_ml_model(MLModelId=tutorial.model_id)
    assert model["Status"] == "COMPLETED"
    assert model["TrainingDataSourceId"] == tutorial.train_id
    evaluation = ml.get_evaluation(EvaluationId=tutorial.evaluation_id)
    assert evaluation["Status"] == "COMPLETED"
    assert evaluation["EvaluationDataSourceId"] == tutorial.eval_id
    auc = evaluation["PerformanceMetrics"]["Properties"]["BinaryAUC"]
    assert isinstance(auc, str)
    assert 0.85 < float(auc) <= 1.0  # the tutorial reports an AUC of about 0.94


def test_the_batch_prediction_is_read_back_from_the_bucket_through_its_manifest(
    thresholded: Tutorial, api_server: ApiServer, s3_client: Any
) -> None:
    run = thresholded
    run.ml.create_batch_prediction(
        BatchPredictionId=run.batch_id,
        BatchPredictionName="Batch prediction: ML model: Banking Data 1",
        MLModelId=run.model_id,
        BatchPredictionDataSourceId=run.batch_input_id,
        OutputUri=run.output_uri,
    )
    wait(run, api_server, "batch_prediction_available", FilterVariable="MLModelId", EQ=run.model_id)
    batch = run.ml.get_batch_prediction(BatchPredictionId=run.batch_id)
    assert batch["TotalRecordCount"] == BATCH_RECORDS

    results = read_batch_results(s3_client, run.output_uri, run.batch_id)
    expected = f"{run.output_uri}batch-prediction/result/{run.batch_id}-banking-batch.csv.gz"
    assert list(results) == [expected]
    lines = results[expected]
    assert lines[0] == "bestAnswer,score"
    assert len(lines) == 1 + BATCH_RECORDS
    assert lines.count("") == batch["InvalidRecordCount"]
    rows = [line.split(",") for line in lines[1:] if line]
    assert all(answer == ("1" if float(score) >= THRESHOLD else "0") for answer, score in rows)
    assert {answer for answer, _ in rows} == {"0", "1"}


def test_a_real_time_endpoint_predicts_until_it_is_deleted(
    thresholded: Tutorial, api_server: ApiServer
) -> None:
    ml, model_id = thresholded.ml, thresholded.model_id
    created = ml.create_realtime_endpoint(MLModelId=model_id)
    assert created["RealtimeEndpointInfo"]["EndpointStatus"] in ("UPDATING", "READY")
    info = wait_for_endpoint(ml, model_id)
    assert info["EndpointUrl"].rstrip("/") == api_server.url
    assert info["PeakRequestsPerSecond"] == 200

    for record in batch_records()[:5]:
        answer = ml.predict(MLModelId=model_id, Record=record, PredictEndpoint=info["EndpointUrl"])
        prediction = answer["Prediction"]
        label = prediction["predictedLabel"]
        assert isinstance(label, str)
        assert list(prediction["predictedScores"]) == [label]
        score = prediction["predictedScores"][label]
        assert label == ("1" if score >= THRESHOLD else "0")
        assert prediction["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}

    deleted = ml.delete_realtime_endpoint(MLModelId=model_id)
    assert deleted["RealtimeEndpointInfo"]["EndpointStatus"] == "NONE"
    with pytest.raises(ClientError) as refused:
        ml.predict(
            MLModelId=model_id, Record=batch_records()[0], PredictEndpoint=info["EndpointUrl"]
        )
    assert error_code(refused.value) == "PredictorNotMountedException"

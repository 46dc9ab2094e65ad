"""Faults in the production shape (issue 11): PostgreSQL, Redis, two workers and beat, gunicorn,
S3 storage, all real (tests/reliability/production_shape.py), driven through the AML API.

Each check breaks one part while the console works and then asks the one question that matters:
did every object end COMPLETED, or FAILED with a message a person understands, and none stay
In progress? One shape serves the whole module; a check that breaks a part puts it back.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError
from production_shape import (
    SHARED_DATA_ROOT,
    ProductionShape,
    WebSession,
    WebUser,
    fill_disk,
    is_running,
    production_shape,
)
from realservices import wait_for
from reliability_figures import record

pytestmark = [pytest.mark.reliability, pytest.mark.integration]

SUITE = "Faults: production shape"
BAD_MEANS = "jobs stuck or ended without a clear message"
SMALL_ROWS = 1500
FINISHED = ("COMPLETED", "FAILED")
# Words of a message that says nothing a person can act on (compared in lower case).
UNHELPFUL = ("traceback", "internal error", "nonetype", "object has no attribute", "errno")
TRAIN_SPLIT = '{"splitting":{"percentBegin":0,"percentEnd":70}}'
EVAL_SPLIT = '{"splitting":{"percentBegin":70,"percentEnd":100}}'
JOB_TIMEOUT = 180
# MULTICLASS over 1,000 MNIST digits: several seconds a run, longer than a stop's grace here
LONG_TRAINING = {"sgd.maxPasses": "100", "sgd.l2RegularizationAmount": "1e-6"}


@dataclass(frozen=True)
class Ref:
    """One AML object the test created: its kind ("DataSource", "MLModel"...) and id."""

    kind: str
    id: str


def describe(ml: Any, ref: Ref) -> dict[str, Any]:
    getter = {
        "DataSource": ml.get_data_source,
        "MLModel": ml.get_ml_model,
        "Evaluation": ml.get_evaluation,
        "BatchPrediction": ml.get_batch_prediction,
    }[ref.kind]
    return dict(getter(**{f"{ref.kind}Id": ref.id}))


def status_or_none(ml: Any, ref: Ref) -> dict[str, Any] | None:
    """The object, or None while the console cannot answer (a fault being recovered from)."""
    try:
        return describe(ml, ref)
    except (ClientError, BotoCoreError):
        return None


def wait_until_finished(
    shape: ProductionShape, ml: Any, refs: list[Ref], timeout: float = JOB_TIMEOUT
) -> dict[Ref, dict[str, Any]]:
    """Poll until every object is COMPLETED or FAILED; fail with their states and the logs."""
    seen: dict[Ref, dict[str, Any]] = {}

    def finished() -> bool:
        for ref in refs:
            if ref in seen and seen[ref].get("Status") in FINISHED:
                continue
            answer = status_or_none(ml, ref)
            if answer is not None:
                seen[ref] = answer
        return all(seen.get(ref, {}).get("Status") in FINISHED for ref in refs)

    try:
        wait_for(finished, timeout=timeout, what=f"{len(refs)} object(s) to finish", step=0.5)
    except pytest.fail.Exception:
        states = {ref.id: seen.get(ref, {}).get("Status") for ref in refs}
        pytest.fail(f"not finished after {timeout} s: {states}\n{shape.logs()}")
    return seen


def unclear(answer: dict[str, Any]) -> bool:
    """FAILED without a message a person understands."""
    if answer.get("Status") != "FAILED":
        return False
    return says_nothing(str(answer.get("Message", "")))


def failed_saying_the_worker_stopped(answer: dict[str, Any]) -> bool:
    return (
        answer.get("Status") == "FAILED"
        and "worker" in str(answer.get("Message", ""))
        and not unclear(answer)
    )


def says_nothing(message: str) -> bool:
    return len(message) < 15 or any(word in message.lower() for word in UNHELPFUL)


def badly_ended(answers: dict[Ref, dict[str, Any]]) -> list[str]:
    """The objects not COMPLETED or FAILED, or FAILED without a clear message."""
    return [
        f"{ref.id}: {answer.get('Status')} {answer.get('Message', '')!r}"
        for ref, answer in answers.items()
        if answer.get("Status") not in FINISHED or unclear(answer)
    ]


def outcomes(answers: dict[Ref, dict[str, Any]]) -> str:
    """A record's note: how many objects ended how, and the messages of the failed ones."""
    counts = Counter(answer.get("Status") for answer in answers.values())
    failed = {str(a.get("Message")) for a in answers.values() if a.get("Status") == "FAILED"}
    text = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return text + (f" ({'; '.join(sorted(failed))})" if failed else "")


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_s3_datasource(
    ml: Any, location: str, *, schema: str, rearrangement: str = "", statistics: bool = True
) -> Ref:
    spec = {"DataLocationS3": location, "DataSchema": schema}
    if rearrangement:
        spec["DataRearrangement"] = rearrangement
    ref = Ref("DataSource", new_id("ds"))
    ml.create_data_source_from_s3(
        DataSourceId=ref.id,
        DataSourceName=f"faults {location.rsplit('/', 1)[-1]}",
        DataSpec=spec,
        ComputeStatistics=statistics,
    )
    return ref


def create_model(ml: Any, source: Ref, *, passes: int = 5) -> Ref:
    ref = Ref("MLModel", new_id("ml"))
    ml.create_ml_model(
        MLModelId=ref.id,
        MLModelName=f"faults model {ref.id}",
        MLModelType="BINARY",
        TrainingDataSourceId=source.id,
        Parameters={"sgd.maxPasses": str(passes)},
    )
    return ref


def create_batch_prediction(ml: Any, model: Ref, source: Ref, output_uri: str) -> Ref:
    ref = Ref("BatchPrediction", new_id("bp"))
    ml.create_batch_prediction(
        BatchPredictionId=ref.id,
        BatchPredictionName=f"faults batch {ref.id}",
        MLModelId=model.id,
        BatchPredictionDataSourceId=source.id,
        OutputUri=output_uri,
    )
    return ref


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def shape() -> Iterator[ProductionShape]:
    yield from production_shape(SMALL_ROWS)


@pytest.fixture(scope="module")
def user(shape: ProductionShape) -> WebUser:
    return shape.new_user()


@pytest.fixture(scope="module")
def ml(shape: ProductionShape, user: WebUser) -> Any:
    return shape.ml_client(user)


@pytest.fixture(scope="module")
def web(shape: ProductionShape, user: WebUser) -> WebSession:
    return shape.signed_in(user)


@pytest.fixture(scope="module")
def schemas() -> dict[str, str]:
    """The banking schemas from the shared data sets (the same files the shape put in S3)."""
    if not SHARED_DATA_ROOT.exists():
        pytest.fail(f"the shared data sets are missing: expected them in {SHARED_DATA_ROOT}")
    return {
        name: (SHARED_DATA_ROOT / f"{name}.schema").read_text()
        for name in ("banking.csv", "banking-batch.csv")
    }


@pytest.fixture(scope="module")
def mnist_source(shape: ProductionShape, ml: Any) -> Ref:
    """A completed datasource of 1,000 MNIST digits, for a training that takes a while."""
    schema = (SHARED_DATA_ROOT / "mnist-train.csv.schema").read_text()
    ref = create_s3_datasource(ml, f"s3://{shape.data_bucket}/data/mnist-1k.csv", schema=schema)
    answer = wait_until_finished(shape, ml, [ref])[ref]
    assert answer["Status"] == "COMPLETED", answer
    return ref


@dataclass
class DefaultPath:
    """The Default path's objects, created back to back, and how each ended."""

    refs: dict[str, Ref]
    answers: dict[Ref, dict[str, Any]]
    output_uri: str


@pytest.fixture(scope="module")
def default_path(shape: ProductionShape, ml: Any, schemas: dict[str, str]) -> DefaultPath:
    """AML's Default path over S3: banking.csv split 70/30, a model, its evaluation, and a batch
    prediction of banking-batch.csv written back to S3."""
    data = f"s3://{shape.data_bucket}/data"
    refs = {
        "train": create_s3_datasource(
            ml, f"{data}/banking.csv", schema=schemas["banking.csv"], rearrangement=TRAIN_SPLIT
        ),
        "eval": create_s3_datasource(
            ml, f"{data}/banking.csv", schema=schemas["banking.csv"], rearrangement=EVAL_SPLIT
        ),
        "batch_source": create_s3_datasource(
            ml,
            f"{data}/banking-batch.csv",
            schema=schemas["banking-batch.csv"],
            statistics=False,
        ),
    }
    refs["model"] = create_model(ml, refs["train"])
    refs["evaluation"] = Ref("Evaluation", new_id("ev"))
    ml.create_evaluation(
        EvaluationId=refs["evaluation"].id,
        MLModelId=refs["model"].id,
        EvaluationDataSourceId=refs["eval"].id,
    )
    output_uri = f"s3://{shape.data_bucket}/out/{uuid.uuid4().hex[:8]}/"
    refs["batch"] = create_batch_prediction(ml, refs["model"], refs["batch_source"], output_uri)
    answers = wait_until_finished(shape, ml, list(refs.values()))
    return DefaultPath(refs, answers, output_uri)


@pytest.fixture(scope="module")
def small_source(shape: ProductionShape, ml: Any, schemas: dict[str, str]) -> Ref:
    """A completed datasource of the first SMALL_ROWS banking records, for quick trainings."""
    ref = create_s3_datasource(
        ml, f"s3://{shape.data_bucket}/data/banking-small.csv", schema=schemas["banking.csv"]
    )
    answer = wait_until_finished(shape, ml, [ref])[ref]
    assert answer["Status"] == "COMPLETED", answer
    return ref


# --------------------------------------------------------------------------- checks


def test_the_default_path_runs_from_an_s3_datasource_to_a_batch_prediction(
    shape: ProductionShape, ml: Any, default_path: DefaultPath
) -> None:
    answers = default_path.answers
    bad = [ref.id for ref, answer in answers.items() if answer["Status"] != "COMPLETED"]
    record(SUITE, "Default path end to end", tried=len(answers), bad=len(bad), bad_means=BAD_MEANS)

    assert not bad, f"{badly_ended(answers)}\n{shape.logs()}"
    evaluation = answers[default_path.refs["evaluation"]]
    assert float(evaluation["PerformanceMetrics"]["Properties"]["BinaryAUC"]) > 0.9
    listed = shape.s3_client().list_objects_v2(
        Bucket=shape.data_bucket, Prefix=default_path.output_uri.split("/", 3)[3]
    )
    names = [item["Key"] for item in listed.get("Contents", [])]
    assert any(name.endswith(".manifest") for name in names), names
    assert any(name.endswith(".gz") for name in names), names


def test_twenty_trainings_submitted_at_once_all_complete(
    shape: ProductionShape, ml: Any, small_source: Ref
) -> None:
    models = [create_model(ml, small_source, passes=3) for _ in range(20)]

    answers = wait_until_finished(shape, ml, models)
    bad = [ref.id for ref, answer in answers.items() if answer["Status"] != "COMPLETED"]
    record(SUITE, "20 trainings at once", tried=len(models), bad=len(bad), bad_means=BAD_MEANS)
    assert not bad, f"{badly_ended(answers)}\n{shape.logs()}"


def create_long_training(ml: Any, mnist_source: Ref) -> Ref:
    model = Ref("MLModel", new_id("ml"))
    ml.create_ml_model(
        MLModelId=model.id,
        MLModelType="MULTICLASS",
        TrainingDataSourceId=mnist_source.id,
        Parameters=LONG_TRAINING,
    )
    return model


def test_a_training_whose_worker_is_killed_fails_within_a_minute_saying_why(
    shape: ProductionShape, ml: Any, mnist_source: Ref, small_source: Ref
) -> None:
    model = create_long_training(ml, mnist_source)
    wait_for(
        lambda: (status_or_none(ml, model) or {}).get("Status") == "INPROGRESS",
        timeout=JOB_TIMEOUT,
        what="the training to start",
        step=0.2,
    )
    victim = shape.busiest_pool_child()
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()

    answer = wait_until_finished(shape, ml, [model], timeout=60)[model]
    left_in_progress_for = time.monotonic() - killed_at
    bad = not failed_saying_the_worker_stopped(answer)
    record(
        SUITE,
        "kill -9 of a worker mid-training",
        tried=1,
        bad=int(bad),
        bad_means=BAD_MEANS,
        note=f"{answer['Status']} {left_in_progress_for:.0f} s after the kill: {answer.get('Message')}",
    )
    assert failed_saying_the_worker_stopped(answer), answer
    assert not is_running(victim)
    # the worker replaced its pool process: the next job runs
    follow_up = create_model(ml, small_source, passes=1)
    assert wait_until_finished(shape, ml, [follow_up])[follow_up]["Status"] == "COMPLETED"


def refusal_of(call: Callable[[], Any]) -> str:
    """ "" when the call was accepted, else "<code>: <message>" of its refusal."""
    try:
        call()
    except ClientError as exc:
        return f"{exc.response['Error'].get('Code')}: {exc.response['Error']['Message']}"
    return ""


def clear_refusal(refusal: str) -> bool:
    return not says_nothing(refusal) and "InternalServerException" not in refusal


def endpoint_status_once_settled(ml: Any, model: Ref) -> str:
    """The real-time endpoint's status once it left UPDATING (READY, or FAILED)."""

    def settled() -> str | None:
        status = str(
            (status_or_none(ml, model) or {}).get("EndpointInfo", {}).get("EndpointStatus")
        )
        return None if status in ("UPDATING", "None") else status

    return str(wait_for(settled, timeout=60, what="the endpoint to leave UPDATING", step=0.5))


def test_submissions_while_redis_is_down_are_refused_clearly_or_end_clearly_once_it_returns(
    shape: ProductionShape, ml: Any, small_source: Ref, default_path: DefaultPath
) -> None:
    model = Ref("MLModel", new_id("ml"))
    trained = default_path.refs["model"]
    shape.stop_redis()
    try:
        model_refusal = refusal_of(
            lambda: ml.create_ml_model(
                MLModelId=model.id, MLModelType="BINARY", TrainingDataSourceId=small_source.id
            )
        )
        endpoint_refusal = refusal_of(lambda: ml.create_realtime_endpoint(MLModelId=trained.id))
    finally:
        shape.start_redis()

    if model_refusal:
        model_end, model_bad = f"refused: {model_refusal}", not clear_refusal(model_refusal)
    else:
        answer = wait_until_finished(shape, ml, [model])[model]
        model_end = f"{answer['Status']}: {answer.get('Message', '')}"
        model_bad = answer["Status"] not in FINISHED or unclear(answer)
    if endpoint_refusal:
        endpoint_end = f"refused: {endpoint_refusal}"
        endpoint_bad = not clear_refusal(endpoint_refusal)
    else:
        endpoint_end = f"endpoint {endpoint_status_once_settled(ml, trained)}"
        endpoint_bad = False
    record(
        SUITE,
        "Redis stopped during a submission",
        tried=2,
        bad=int(model_bad) + int(endpoint_bad),
        bad_means=BAD_MEANS,
        note=f"CreateMLModel: {model_end} | CreateRealtimeEndpoint: {endpoint_end}",
    )
    assert not model_bad, model_end
    assert not endpoint_bad, endpoint_end
    # the broker works again for what comes next
    after = create_model(ml, small_source, passes=1)
    assert wait_until_finished(shape, ml, [after])[after]["Status"] == "COMPLETED"


def drop_connections(shape: ProductionShape, fault: str) -> str:
    """Break every connection to the database: terminate its backends, or restart PostgreSQL
    (returns once it accepts connections again)."""
    if fault == "terminate":
        return f"{shape.postgres.terminate_backends()} connections terminated"
    shape.postgres.restart()
    return "PostgreSQL restarted"


@pytest.mark.parametrize("fault", ["terminate", "restart"])
def test_dropped_database_connections_leave_no_lasting_errors_and_no_stuck_job(
    shape: ProductionShape, ml: Any, small_source: Ref, fault: str
) -> None:
    models = [create_model(ml, small_source, passes=30) for _ in range(4)]
    wait_for(
        lambda: any((status_or_none(ml, m) or {}).get("Status") == "INPROGRESS" for m in models),
        timeout=JOB_TIMEOUT,
        what="a training to start",
        step=0.2,
    )
    done = drop_connections(shape, fault)

    failures = []
    for _ in range(30):  # every web thread's first request after the drop, and more
        try:
            ml.describe_ml_models(Limit=5)
        except ClientError as exc:
            failures.append(f"{exc.response['Error'].get('Code')}: {exc}")
    answers = wait_until_finished(shape, ml, models)
    # a job the drop cut short says so, rather than blaming its worker
    bad = badly_ended(answers) + [
        f"{ref.id}: {answer['Message']}"
        for ref, answer in answers.items()
        if answer["Status"] == "FAILED" and "database" not in answer["Message"]
    ]
    record(
        SUITE,
        f"database connections dropped ({'pg_terminate_backend' if fault == 'terminate' else 'PostgreSQL restarted'})",
        tried=len(models) + 30,
        bad=len(bad) + len(failures),
        bad_means="jobs stuck or ended without a clear message, or API calls refused",
        note=f"{done}; jobs: {outcomes(answers)}",
    )
    assert not failures, failures
    assert not bad, f"{bad}\n{shape.logs()}"
    # the workers' next job finds the database again
    after = create_model(ml, small_source, passes=1)
    assert wait_until_finished(shape, ml, [after])[after]["Status"] == "COMPLETED"


def created_or_refused(shape: ProductionShape, ml: Any, create: Callable[[], Ref]) -> str:
    """How a Create ended: "FAILED: <message>" (or COMPLETED...) once its job finished, or
    "refused: <message>" when the API refused it at once (as good, if it says why)."""
    try:
        ref = create()
    except ClientError as exc:
        return f"refused: {exc.response['Error']['Message']}"
    answer = wait_until_finished(shape, ml, [ref])[ref]
    return f"{answer['Status']}: {answer.get('Message', '')}"


def test_jobs_reading_s3_while_it_is_unreachable_fail_naming_the_location(
    shape: ProductionShape, ml: Any, schemas: dict[str, str], small_source: Ref
) -> None:
    location = f"s3://{shape.data_bucket}/data/banking-small.csv"
    shape.s3.stop()
    try:
        ends = [
            # a new datasource over S3, and a training whose job reads a datasource's S3 data
            created_or_refused(
                shape, ml, lambda: create_s3_datasource(ml, location, schema=schemas["banking.csv"])
            ),
            created_or_refused(shape, ml, lambda: create_model(ml, small_source, passes=1)),
        ]
    finally:
        shape.s3.start()

    bad = [
        end
        for end in ends
        if not end.startswith(("FAILED", "refused")) or location not in end or says_nothing(end)
    ]
    record(
        SUITE,
        "S3 unreachable",
        tried=len(ends),
        bad=len(bad),
        bad_means=BAD_MEANS,
        note=" | ".join(ends),
    )
    assert not bad, ends


def test_a_datasource_the_console_may_not_read_fails_saying_access_is_denied(
    shape: ProductionShape, ml: Any, schemas: dict[str, str]
) -> None:
    location = f"s3://{shape.data_bucket}/private/banking.csv"

    end = created_or_refused(
        shape, ml, lambda: create_s3_datasource(ml, location, schema=schemas["banking.csv"])
    )

    ended_well = end.startswith(("FAILED", "refused")) and "denied" in end.lower()
    bad = not ended_well or location not in end
    record(SUITE, "S3 access denied", tried=1, bad=int(bad), bad_means=BAD_MEANS, note=end)
    assert ended_well and location in end, end


def test_batch_predictions_on_a_full_disk_fail_saying_the_disk_is_full(
    shape: ProductionShape, ml: Any, web: WebSession, default_path: DefaultPath
) -> None:
    if not shape.tmp_is_tmpfs:
        pytest.skip("this machine cannot mount a small tmpfs for the workers' temporary files")
    model, source = default_path.refs["model"], default_path.refs["batch_source"]
    filler = fill_disk(shape.tmp)
    try:
        batches = [
            # results for an S3 location (the API), and kept in the console's storage (the wizard)
            create_batch_prediction(
                ml, model, source, f"s3://{shape.data_bucket}/out/{uuid.uuid4().hex[:8]}/"
            ),
            Ref("BatchPrediction", web.batch_prediction_into_console_storage(model.id, source.id)),
        ]
        answers = wait_until_finished(shape, ml, batches)
    finally:
        filler.unlink()

    bad = [
        f"{ref.id}: {answer['Status']} {answer.get('Message')}"
        for ref, answer in answers.items()
        if answer["Status"] != "FAILED"
        or unclear(answer)
        or "disk is full" not in answer["Message"]
    ]
    record(
        SUITE,
        "output store full (ENOSPC)",
        tried=len(batches),
        bad=len(bad),
        bad_means=BAD_MEANS,
        note=" | ".join(str(answer.get("Message")) for answer in answers.values()),
    )
    assert not bad, f"{bad}\n{shape.logs()}"


def test_a_job_cut_off_by_a_stop_that_ran_out_of_patience_fails_when_the_workers_return(
    shape: ProductionShape, ml: Any, mnist_source: Ref
) -> None:
    shape.ensure_running()
    model = create_long_training(ml, mnist_source)
    wait_for(
        lambda: (status_or_none(ml, model) or {}).get("Status") == "INPROGRESS",
        timeout=JOB_TIMEOUT,
        what="the training to start",
        step=0.2,
    )

    # SIGTERM, and SIGKILL for what still runs after a grace period (docker stop, systemd)
    survivors = shape.stop_gracefully(timeout=3)
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(is_running(pid) for pid in survivors), timeout=30, what="the kill")
    cut_off = shape.row("mlmodel", model.id)[0] == "INPROGRESS"
    shape.ensure_running()  # and the supervisor starts the console again
    answer = wait_until_finished(shape, ml, [model], timeout=60)[model]

    bad = not failed_saying_the_worker_stopped(answer)
    record(
        SUITE,
        "stop past its grace period (SIGTERM, SIGKILL after 3 s, restart)",
        tried=1,
        bad=int(bad),
        bad_means=BAD_MEANS,
        note=f"{answer['Status']}: {answer.get('Message')}",
    )
    assert survivors and cut_off, "the training ended within the grace period: nothing was cut off"
    assert failed_saying_the_worker_stopped(answer), answer


def test_a_graceful_stop_leaves_no_process_and_no_job_in_progress(
    shape: ProductionShape, ml: Any, default_path: DefaultPath
) -> None:
    model = create_model(ml, default_path.refs["train"], passes=20)
    wait_for(
        lambda: (status_or_none(ml, model) or {}).get("Status") == "INPROGRESS",
        timeout=JOB_TIMEOUT,
        what="the training to start",
        step=0.2,
    )

    left = shape.stop_gracefully()
    in_progress = shape.jobs_in_progress()
    status, message = shape.row("mlmodel", model.id)
    ended_badly = status not in FINISHED or unclear({"Status": status, "Message": message})
    record(
        SUITE,
        "graceful stop (SIGTERM to gunicorn, workers, beat)",
        tried=1,
        bad=len(left) + len(in_progress) + int(ended_badly),
        bad_means="processes left, jobs left In progress or ended without a clear message",
        note=f"the training under way: {status} {message}",
    )
    assert not left, f"still running: {left}\n{shape.logs()}"
    assert not in_progress, in_progress
    # a warm shutdown lets the running job finish; one cut off would be FAILED, saying why
    assert not ended_badly, (status, message)

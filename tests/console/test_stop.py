"""Stop on a running object's page: the job quits at its next progress report, the object ends
FAILED "Stopped by <user> at <time>", and whatever waits on it fails with that cause."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
import pytest
from django.core.management import call_command
from django.utils import timezone
from prediction_factories import banking_batch_source, banking_model, run_all

from console import lifecycle, tasks
from console.celery import fail_jobs_of_dead_workers_on_this_host
from console.claimants import Claimant, process_start, this_host
from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.batch_predictions import create_batch_prediction
from console.services.evaluations import create_evaluation

pytestmark = pytest.mark.django_db

STOPPED = re.compile(r"^Stopped by alice at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\.$")
URL_PREFIX = {
    DataSource: "datasources",
    MLModel: "models",
    Evaluation: "evaluations",
    BatchPrediction: "batch-predictions",
}


def a_chain(owner: Any, shared_data: Path) -> dict[str, AMLObject]:
    """A training datasource, its model, and an evaluation and a batch prediction waiting on it."""
    ml = banking_model(owner, shared_data, records=3000)
    ds = ml.training_data_source
    ev = create_evaluation(owner, ml_model_id=ml.entity_id, evaluation_data_source_id=ds.entity_id)
    bp = create_batch_prediction(
        owner,
        ml_model_id=ml.entity_id,
        batch_prediction_data_source_id=banking_batch_source(owner, shared_data).entity_id,
    )
    return {"datasource": ds, "model": ml, "evaluation": ev, "batch prediction": bp}


def press_stop_while_it_runs(
    monkeypatch: pytest.MonkeyPatch, client: Any, target: AMLObject
) -> list[int]:
    """At the target's first progress report, its owner presses Stop (a POST to its page)."""
    real_report = lifecycle.report_progress
    posted: list[int] = []

    def report(obj: AMLObject, **progress: Any) -> bool:
        if type(obj) is type(target) and obj.pk == target.pk and not posted:
            url = f"/{URL_PREFIX[type(obj)]}/{obj.entity_id}/stop/"
            posted.append(client.post(url).status_code)
        return real_report(obj, **progress)

    monkeypatch.setattr(lifecycle, "report_progress", report)
    return posted


@pytest.mark.parametrize(
    ("stopped", "waiting"),
    [
        ("datasource", ["model", "evaluation", "batch prediction"]),
        ("model", ["evaluation", "batch prediction"]),
        ("evaluation", []),
        ("batch prediction", []),
    ],
)
def test_it_stops_a_running_job_and_fails_what_waits_on_it_with_that_cause(
    owner: Any,
    owner_client: Any,
    shared_data: Path,
    enqueued: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    stopped: str,
    waiting: list[str],
) -> None:
    chain = a_chain(owner, shared_data)
    target = chain[stopped]
    posted = press_stop_while_it_runs(monkeypatch, owner_client, target)

    outcomes = run_all(enqueued)

    assert posted == [302]
    assert "cancelled" in outcomes  # the worker quit at its next report, saving nothing
    target.refresh_from_db()
    assert target.status == Status.FAILED
    assert STOPPED.match(target.message), target.message
    assert "FAILED: Stopped by alice at" in target.log
    for name in waiting:
        obj = chain[name]
        obj.refresh_from_db()
        assert obj.status == Status.FAILED, name
        assert "Stopped by alice at" in obj.message, obj.message
    if isinstance(target, MLModel):
        assert not target.artifact_key  # a stopped model keeps no model file


def test_its_page_offers_stop_only_while_the_job_is_running_or_waiting(
    owner: Any, owner_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    page = owner_client.get(f"/models/{ml.entity_id}/").content.decode()
    assert f'action="/models/{ml.entity_id}/stop/"' in page and 'id="stop-job"' in page

    run_all(enqueued)

    page = owner_client.get(f"/models/{ml.entity_id}/").content.decode()
    assert 'id="stop-job"' not in page


def test_it_refuses_to_stop_a_finished_job_and_says_why(
    owner: Any, owner_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    run_all(enqueued)

    response = owner_client.post(f"/models/{ml.entity_id}/stop/", follow=True)

    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED
    assert f"ML model {ml.entity_id} is not running (its status is COMPLETED)." in (
        response.content.decode()
    )


def test_a_stranger_gets_404_and_the_job_goes_on(
    owner: Any, stranger_client: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    ds = ml.training_data_source

    assert stranger_client.post(f"/models/{ml.entity_id}/stop/").status_code == 404
    assert stranger_client.post(f"/datasources/{ds.entity_id}/stop/").status_code == 404

    ml.refresh_from_db()
    assert ml.status == Status.PENDING


def test_stop_is_a_post_with_csrf(owner: Any, shared_data: Path, enqueued: list[Any]) -> None:
    from django.test import Client

    ml = banking_model(owner, shared_data, records=500)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.get(f"/models/{ml.entity_id}/stop/").status_code == 405
    assert client.post(f"/models/{ml.entity_id}/stop/").status_code == 403

    ml.refresh_from_db()
    assert ml.status == Status.PENDING


# --------------------------------------------------------------------------- a worker that stopped
# No person pressed Stop: the process running the job died. The job fails at once with a message
# saying so, as soon as the death is known on the job's host (tests/reliability/
# test_worker_recovery.py kills real workers; these check the judgement itself).

WORKER_STOPPED = (
    "The worker processing this job stopped before finishing. Create it again to retry."
)
A_PID_THAT_NEVER_RAN = 2**22 + 1  # Linux pids never exceed 2**22 (pid_max's ceiling)


def claimed_model(
    owner: Any, shared_data: Path, enqueued: list[Any], by: Claimant
) -> dict[str, AMLObject]:
    """A model claimed by `by`, with an evaluation waiting on it."""
    chain = a_chain(owner, shared_data)
    run_all([chain["datasource"]])
    enqueued.clear()
    assert lifecycle.claim(MLModel, chain["model"].pk, by=by) is not None
    return chain


def test_a_claim_records_the_process_that_runs_the_job_and_it_is_alive(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = banking_model(owner, shared_data, records=500)
    run_all([ml.training_data_source])

    claimed = lifecycle.claim(MLModel, ml.pk)

    assert claimed is not None
    assert lifecycle.claimant_of(claimed) == Claimant.this_process()
    assert claimed.claimed_by_pid == os.getpid() and claimed.claimed_by_host == this_host()
    assert not lifecycle.claimant_is_dead(claimed)
    assert lifecycle.fail_jobs_of_dead_workers() == 0


def test_a_job_whose_pid_now_belongs_to_another_process_is_failed_saying_its_worker_stopped(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    # This very pid, but started at another time: the claimant died and its pid was reused.
    reused = Claimant(host=this_host(), pid=os.getpid(), start="another-boot:12345")
    chain = claimed_model(owner, shared_data, enqueued, reused)

    assert lifecycle.fail_jobs_of_dead_workers() == 1

    ml, ev = chain["model"], chain["evaluation"]
    ml.refresh_from_db()
    ev.refresh_from_db()
    assert ml.status == Status.FAILED
    assert ml.message == WORKER_STOPPED
    assert f"The job's worker (process {os.getpid()} on {this_host()}) is gone." in ml.log
    assert ev.status == Status.FAILED  # what waits on it fails with that cause
    assert WORKER_STOPPED in ev.message


def test_a_job_claimed_on_another_host_is_left_to_the_sweep(
    owner: Any, shared_data: Path, enqueued: list[Any], settings: Any
) -> None:
    settings.AML_STALE_JOB_SECONDS = 60
    elsewhere = Claimant(host=f"not-{this_host()}", pid=A_PID_THAT_NEVER_RAN, start="x")
    chain = claimed_model(owner, shared_data, enqueued, elsewhere)
    ml = chain["model"]

    assert lifecycle.fail_jobs_of_dead_workers() == 0
    assert lifecycle.sweep_stale_jobs(now=timezone.now() + timedelta(seconds=61)) == 1

    ml.refresh_from_db()
    assert ml.status == Status.FAILED
    assert "stopped responding (no progress for over 60 s)" in ml.message


def test_a_process_that_exited_but_was_not_reaped_counts_as_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_until_a_zombie(child.pid)
        assert process_start(child.pid) is None
        assert Claimant(host=this_host(), pid=child.pid, start="any").is_known_dead()
    finally:
        child.wait()
    assert process_start(os.getpid()) == Claimant.this_process().start


def wait_until_a_zombie(pid: int) -> None:
    deadline = time.monotonic() + 30
    while psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
        if time.monotonic() > deadline:
            pytest.fail(f"process {pid} did not exit")
        time.sleep(0.02)


@pytest.mark.parametrize(
    "where", ["worker start", "lost pool process", "redelivery", "sweep task", "sweep command"]
)
def test_every_place_that_learns_of_a_dead_worker_fails_its_job(
    owner: Any, shared_data: Path, enqueued: list[Any], where: str
) -> None:
    dead = Claimant(host=this_host(), pid=A_PID_THAT_NEVER_RAN, start="x")
    ml = claimed_model(owner, shared_data, enqueued, dead)["model"]

    if where == "worker start":
        fail_jobs_of_dead_workers_on_this_host()
    elif where == "lost pool process":
        assert tasks.fail_job_if_its_process_died("console.train_ml_model", [ml.pk])
    elif where == "redelivery":
        assert tasks.train_ml_model(ml.pk) == "failed-redelivered"
    elif where == "sweep task":
        assert "and 1 of dead worker processes" in tasks.sweep_stale_jobs()
    else:
        out = io.StringIO()
        call_command("sweep_stale_jobs", stdout=out)
        assert "Failed 0 stale job(s) and 1 job(s) whose worker process" in out.getvalue()

    ml.refresh_from_db()
    assert ml.status == Status.FAILED
    assert ml.message == WORKER_STOPPED


def test_a_lost_task_that_is_no_job_or_whose_process_lives_fails_nothing(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    ml = claimed_model(owner, shared_data, enqueued, Claimant.this_process())["model"]

    assert not tasks.fail_job_if_its_process_died("console.train_ml_model", [ml.pk])
    assert not tasks.fail_job_if_its_process_died("console.mount_realtime_endpoint", [ml.pk])
    assert not tasks.fail_job_if_its_process_died("console.train_ml_model", [])

    ml.refresh_from_db()
    assert ml.status == Status.INPROGRESS

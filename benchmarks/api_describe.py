"""Benchmark Describe* and the dashboard with 10,000 objects of one user (issue 10).

Goal: <= 100 ms of server time per page.

A throw-away console (its own data folder and SQLite database) gets one real datasource (the
first 70 % of banking.csv with its statistics) and one real model trained on it, computed
inline; then `--objects` copies of each (same schema, statistics, log, recipe, parameters and
insights, so rows are as large as real ones), all owned by one user, in one bulk insert. The
production server (gunicorn, `console.wsgi`, `--workers 3`) serves them on loopback.

Measured, one request at a time, from send to last byte on loopback (the server's time plus
well under a millisecond of loopback):

* DescribeDataSources and DescribeMLModels, `Limit` 100, no filter: the first page, the middle
  one and the last (reached through the NextTokens of one walk over every page); and a filtered,
  sorted page (`FilterVariable=Name, Prefix=..., SortOrder=dsc`);
* the dashboard (`/`, signed in) at its default 10 rows, its first, middle and last page (it
  lists the newest 1,000 objects, as AML's did), and the table partial the page polls
  (`/objects/rows/`) at 100 rows, first and last page.

    .venv/bin/python benchmarks/api_describe.py
    .venv/bin/python benchmarks/api_describe.py --objects 10000 --repeats 20
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from _api_console import (
    SHARED,
    Key,
    call,
    free_port,
    machine_load,
    percentile,
    setup_django,
    start_gunicorn,
    stop,
    user_with_key,
)

PASSWORD = "benchmark horse 1"
TRAIN_SPLIT = '{"splitting":{"percentBegin":0,"percentEnd":70}}'


def make_objects(count: int) -> Key:
    """One real datasource and model, then `count` copies of each, all of one user's."""
    from django.db import transaction
    from django.forms.models import model_to_dict

    from console.models import DataSource, MLModel, Status
    from console.services.datasources import create_data_source_from_s3
    from console.services.ml_models import create_ml_model

    owner, key = user_with_key("bench", PASSWORD)
    real_ds = create_data_source_from_s3(
        owner,
        data_source_id="ds-real",
        data_spec={
            "DataLocationS3": str(SHARED / "banking.csv"),
            "DataSchema": (SHARED / "banking.csv.schema").read_text(),
            "DataRearrangement": TRAIN_SPLIT,
        },
        data_source_name="Banking real",
    )
    create_ml_model(
        owner, ml_model_id="ml-real", ml_model_type="BINARY", training_data_source_id="ds-real"
    )
    real_ds.refresh_from_db()
    real_ml = MLModel.objects.get(entity_id="ml-real")
    if real_ds.status != Status.COMPLETED or real_ml.status != Status.COMPLETED:
        raise SystemExit(f"the real objects did not complete: {real_ds.message} {real_ml.message}")
    skip = {"id", "owner", "entity_id", "name", "training_data_source"}
    ds_fields = {k: v for k, v in model_to_dict(real_ds).items() if k not in skip}
    ml_fields = {k: v for k, v in model_to_dict(real_ml).items() if k not in skip}
    for fields, row in ((ds_fields, real_ds), (ml_fields, real_ml)):
        fields.update(started_at=row.started_at, finished_at=row.finished_at)
    with transaction.atomic():
        datasources = DataSource.objects.bulk_create(
            DataSource(
                owner=owner, entity_id=f"ds-bench{n:05d}", name=f"Bench data {n:05d}", **ds_fields
            )
            for n in range(count)
        )
        MLModel.objects.bulk_create(
            MLModel(
                owner=owner,
                entity_id=f"ml-bench{n:05d}",
                name=f"Bench model {n:05d}",
                training_data_source=datasources[n],
                **ml_fields,
            )
            for n in range(count)
        )
    return key


def timed(function: Callable[[], Any], repeats: int) -> dict[str, float]:
    function()  # the first call of a kind may warm a cache; it is not counted
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return {"median": statistics.median(times), "p95": percentile(times, 0.95)}


def describe_pages(port: int, key: Key, operation: str) -> list[str | None]:
    """The NextToken of every page of Limit 100 (None for the first page)."""
    tokens: list[str | None] = [None]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while True:
        payload: dict[str, Any] = {"Limit": 100}
        if tokens[-1]:
            payload["NextToken"] = tokens[-1]
        status, answer = call(connection, key, operation, payload)
        if status != 200:
            raise SystemExit(f"{operation}: {status} {answer}")
        if not answer.get("NextToken"):
            return tokens
        tokens.append(answer["NextToken"])


def describe_timings(port: int, key: Key, repeats: int) -> list[tuple[str, dict[str, float]]]:
    rows = []
    for operation, prefix in (
        ("DescribeDataSources", "Bench data 05"),
        ("DescribeMLModels", "Bench model 05"),
    ):
        tokens = describe_pages(port, key, operation)
        pages = {"first": tokens[0], "middle": tokens[len(tokens) // 2], "last": tokens[-1]}
        for label, token in pages.items():
            payload: dict[str, Any] = {"Limit": 100}
            if token:
                payload["NextToken"] = token
            rows.append(
                (
                    f"{operation}, Limit 100, {label} page ({len(tokens)} pages)",
                    timed(partial(signed_ok, port, key, operation, payload), repeats),
                )
            )
        filtered = {"FilterVariable": "Name", "Prefix": prefix, "SortOrder": "dsc", "Limit": 100}
        rows.append(
            (
                f"{operation}, Name Prefix {prefix!r}, dsc, Limit 100",
                timed(partial(signed_ok, port, key, operation, filtered), repeats),
            )
        )
    return rows


def signed_ok(port: int, key: Key, operation: str, payload: dict[str, Any]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    status, answer = call(connection, key, operation, payload)
    connection.close()
    if status != 200:
        raise SystemExit(f"{operation}: {status} {answer}")


def dashboard_timings(port: int, objects: int, repeats: int) -> list[tuple[str, dict[str, float]]]:
    import requests

    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.get(f"{base}/accounts/login/")
    answer = session.post(
        f"{base}/accounts/login/",
        data={
            "username": "bench",
            "password": PASSWORD,
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/accounts/login/"},
    )
    if "sessionid" not in session.cookies:
        raise SystemExit(f"could not sign in: {answer.status_code}")
    from console.services.listing import LISTING_LIMIT

    listed = min(2 * objects + 2, LISTING_LIMIT)  # the dashboard lists the newest 1,000, as AML's
    last10, last100 = (listed + 9) // 10, (listed + 99) // 100

    def page(path: str) -> Callable[[], None]:
        def get() -> None:
            response = session.get(base + path)
            if response.status_code != 200:
                raise SystemExit(f"{path}: {response.status_code}")

        return get

    return [
        (f"dashboard `{path}`", timed(page(path), repeats))
        for path in (
            "/",
            f"/?page={last10 // 2}",
            f"/?page={last10}",
            "/objects/rows/?per_page=100",
            f"/objects/rows/?per_page=100&page={last100}",
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000, help="datasources and models each")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aml-api-describe-") as folder:
        workdir = Path(folder)
        setup_django(workdir)
        started = time.perf_counter()
        key = make_objects(args.objects)
        print(
            f"{args.objects} datasources and models made in {time.perf_counter() - started:.1f} s"
        )
        port = free_port()
        server = start_gunicorn(workdir, port, args.workers)
        try:
            print(f"Before: {machine_load()}")
            rows = describe_timings(port, key, args.repeats)
            rows += dashboard_timings(port, args.objects, args.repeats)
            print(f"After: {machine_load()}")
        finally:
            stop(server)
    print(f"\n{args.objects:,} datasources + {args.objects:,} ML models of one user (+ 2 real)\n")
    print("| request | median (ms) | p95 (ms) |")
    print("|---|---:|---:|")
    for label, timing in rows:
        print(f"| {label} | {timing['median']:.1f} | {timing['p95']:.1f} |")


if __name__ == "__main__":
    main()

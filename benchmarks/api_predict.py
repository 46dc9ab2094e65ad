"""Benchmark the API's Predict over HTTP on loopback under the production server (issue 10).

Goal: p99 latency <= 20 ms at 200 requests per second for a banking model.

A throw-away console (its own data folder and SQLite database) gets a user with an access key,
a BINARY model trained on the first 70 % of banking.csv (the tutorial's schema, the suggested
recipe) and a READY real-time endpoint; then gunicorn serves `console.wsgi` as the Dockerfile
runs it (gunicorn.conf.py: one gthread worker per core, 4 threads each, keep-alive; until
issue 10's Predict work it was `--workers 3` sync workers, `--gunicorn="--worker-class sync"
--workers 3` measures that shape).

The load is open-loop: request i is due at t0 + i / rate whatever happened to the others, spread
over several client processes and threads (each thread sends the requests due in its slot),
each request a record of banking-batch.csv signed once with botocore's SigV4Auth and sent with
http.client. Latency runs from the moment a request was *due* to its last byte (so a late send
counts against the server, no coordinated omission); "service" runs from the actual send.
A warm-up loads the model in every server process first.

    .venv/bin/python benchmarks/api_predict.py
    .venv/bin/python benchmarks/api_predict.py --rates 50 200 500 --seconds 10 --workers 2
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import multiprocessing
import os
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
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
    signed_headers,
    start_gunicorn,
    stop,
    user_with_key,
)

MODEL_ID = "ml-bench-banking"
TRAIN_SPLIT = '{"splitting":{"percentBegin":0,"percentEnd":70}}'


@dataclass(frozen=True)
class Load:
    """One client process's share of an open-loop run."""

    port: int
    key: Key
    endpoint_url: str
    rate: float
    seconds: float
    start_at: float  # time.time() of request 0, the same in every process
    give_up: float  # a request not sent this many seconds after it was due is not sent
    process_index: int
    processes: int
    threads: int


def prepare_model(workdir: Path) -> tuple[Key, str]:
    """The user, their key and a READY endpoint on a banking model (jobs run inline)."""
    setup_django(workdir)
    from console.models import MLModel, Status
    from console.services.datasources import create_data_source_from_s3
    from console.services.ml_models import create_ml_model
    from console.services.realtime import create_realtime_endpoint

    owner, key = user_with_key("bench", "benchmark horse 1")
    create_data_source_from_s3(
        owner,
        data_source_id="ds-bench-banking",
        data_spec={
            "DataLocationS3": str(SHARED / "banking.csv"),
            "DataSchema": (SHARED / "banking.csv.schema").read_text(),
            "DataRearrangement": TRAIN_SPLIT,
        },
    )
    create_ml_model(
        owner,
        ml_model_id=MODEL_ID,
        ml_model_type="BINARY",
        training_data_source_id="ds-bench-banking",
    )
    create_realtime_endpoint(owner, MODEL_ID)
    ml = MLModel.objects.get(entity_id=MODEL_ID)
    if ml.status != Status.COMPLETED or ml.endpoint_status != MLModel.EndpointStatus.READY:
        raise SystemExit(f"the model is {ml.status}, its endpoint {ml.endpoint_status}")
    return key, MODEL_ID


def batch_records() -> list[dict[str, str]]:
    with (SHARED / "banking-batch.csv").open(newline="") as stream:
        return [dict(row) for row in csv.DictReader(stream)]


def run_share(load: Load) -> list[tuple[float, float, float, int, str]]:
    """Send this process's requests on schedule; (due, sent, done, status, error) each."""
    records = batch_records()
    total = int(load.rate * load.seconds)
    slots = load.processes * load.threads
    results: list[tuple[float, float, float, int, str]] = []
    lock = threading.Lock()

    def thread_main(thread_index: int) -> None:
        slot = load.process_index * load.threads + thread_index
        connection = http.client.HTTPConnection("127.0.0.1", load.port, timeout=30)
        host = f"127.0.0.1:{load.port}"
        mine = []
        for i in range(slot, total, slots):
            due = load.start_at + i / load.rate
            record = records[i % len(records)]
            body = json.dumps(
                {"MLModelId": MODEL_ID, "Record": record, "PredictEndpoint": load.endpoint_url}
            ).encode()
            pause = due - time.time()
            if pause > 0:
                time.sleep(pause)
            elif -pause > load.give_up:
                mine.append((due, time.time(), time.time(), 0, "not sent (client too late)"))
                continue
            sent = time.time()
            headers = signed_headers(host, "Predict", body, load.key.access_key_id, load.key.secret)
            try:
                connection.request("POST", "/", body, headers)
                response = connection.getresponse()
                data = response.read()
                status = response.status
                error = "" if status == 200 else json.loads(data or b"{}").get("__type", "?")
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                status, error = 0, type(exc).__name__
            mine.append((due, sent, time.time(), status, error))
        connection.close()
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=thread_main, args=(n,)) for n in range(load.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def open_loop(
    port: int,
    key: Key,
    rate: float,
    seconds: float,
    processes: int,
    threads: int,
    give_up: float,
) -> dict[str, Any]:
    endpoint_url = f"http://127.0.0.1:{port}"
    start_at = time.time() + 1.5  # time for the client processes to start
    loads = [
        Load(port, key, endpoint_url, rate, seconds, start_at, give_up, index, processes, threads)
        for index in range(processes)
    ]
    context = multiprocessing.get_context("spawn")
    with context.Pool(processes) as pool:
        shares = pool.map(run_share, loads)
    results = [result for share in shares for result in share]
    ok = [r for r in results if r[3] == 200]
    latencies = [(done - due) * 1000 for due, _, done, _, _ in ok]
    service = [(done - sent) * 1000 for _, sent, done, _, _ in ok]
    span = max(r[2] for r in results) - min(r[0] for r in results)
    return {
        "rate": rate,
        "requests": len(results),
        "achieved": len(ok) / span,
        "ok": len(ok),
        "errors": Counter(r[4] for r in results if r[3] != 200),
        "p50": percentile(latencies, 0.5),
        "p99": percentile(latencies, 0.99),
        "max": max(latencies, default=float("nan")),
        "service_p50": percentile(service, 0.5),
        "service_p99": percentile(service, 0.99),
    }


def warm_up(port: int, key: Key, workers: int) -> None:
    """Every server process loads the model (each keeps its own copy) before the clock runs."""
    records = batch_records()
    for n in range(workers * 20):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        status, answer = call(
            connection,
            key,
            "Predict",
            {
                "MLModelId": MODEL_ID,
                "Record": records[n],
                "PredictEndpoint": f"http://127.0.0.1:{port}",
            },
        )
        connection.close()
        if status != 200:
            raise SystemExit(f"warm-up Predict failed: {status} {answer}")
        time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=float, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--workers", type=int, default=None, help="gunicorn worker processes (gunicorn.conf.py's)"
    )
    parser.add_argument(
        "--gunicorn",
        default="",
        help="more gunicorn options, e.g. '--worker-class sync' for the previous shape",
    )
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--client-threads", type=int, default=16)
    parser.add_argument(
        "--give-up-ms",
        type=float,
        default=1000,
        help="a request its client thread could not send within this long after it was due is "
        "counted as an error, not sent (keeps an overloaded run finite)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aml-api-predict-") as folder:
        workdir = Path(folder)
        key, _ = prepare_model(workdir)
        port = free_port()
        server = start_gunicorn(workdir, port, args.workers, args.gunicorn.split())
        try:
            warm_up(port, key, args.workers or os.cpu_count() or 1)
            print(f"Before: {machine_load()}")
            rows = []
            for rate in args.rates:
                rows.append(
                    open_loop(
                        port,
                        key,
                        rate,
                        args.seconds,
                        args.client_processes,
                        args.client_threads,
                        args.give_up_ms / 1000,
                    )
                )
                time.sleep(1)
            print(f"After: {machine_load()}")
        finally:
            stop(server)
    print(
        f"\ngunicorn (gunicorn.conf.py) --workers {args.workers or 'default'} {args.gunicorn}; "
        f"{args.client_processes} client processes x "
        f"{args.client_threads} threads; {args.seconds:g} s per rate\n"
    )
    print(
        "| rate (req/s) | due | answered 200/s | p50 (ms) | p99 (ms) | max (ms) "
        "| service p50 / p99 (ms) | errors |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        errors = ", ".join(f"{code} {count}" for code, count in row["errors"].items()) or "none"
        print(
            f"| {row['rate']:g} | {row['requests']} | {row['achieved']:.0f} | {row['p50']:.1f} "
            f"| {row['p99']:.1f} | {row['max']:.1f} "
            f"| {row['service_p50']:.1f} / {row['service_p99']:.1f} | {errors} |"
        )


if __name__ == "__main__":
    main()

"""gunicorn's settings for the console (read from the working directory: `gunicorn console.wsgi`).

Threaded workers with keep-alive, one process per core: the Predict API answers in ~3 ms of CPU,
and a client keeps its connection open between calls as boto3 does. The previous command line
(3 sync workers: one request per process, a new connection per request) saturated at about
190 Predict calls/s on 2 cores with p99 ~0.8 s at 200/s; 2 gthread workers x 4 threads answered
200/s with p99 45 ms on the same busy machine (docs/benchmarks.md, "The AML API"). Fewer
processes also mean fewer copies of each loaded model and a per-process rate limit closer to
the endpoint's (each process counts its own requests).

WEB_CONCURRENCY (processes) and GUNICORN_THREADS override the defaults; command-line options
override this file.
"""

from __future__ import annotations

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# the cores this process may run on, at most 8: every process keeps its own loaded models
_CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
workers = int(os.environ.get("WEB_CONCURRENCY", "") or min(max(_CORES or 1, 1), 8))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "") or 4)
keepalive = 5  # seconds an idle client connection is kept (gunicorn's default is 2)
timeout = 600  # uploads of large datasources through the console take minutes
backlog = 2048

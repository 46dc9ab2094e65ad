"""Server time of the dashboard for every sort, in process, with 10,000 datasources and 10,000
ML models of one user (issue 10); optionally against `list_objects` of an older commit.

The objects are made as `api_describe.py` makes them (copies of one real datasource and model)
in a data folder that is kept, so a second run starts at once. Django's test client, no HTTP:
the time of the view, its queries and its template.

    .venv/bin/python benchmarks/dashboard_sorts.py
    .venv/bin/python benchmarks/dashboard_sorts.py --compare-with 3c7bc34 --repeats 10
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _api_console import REPO, machine_load, percentile, setup_django

SORTS = ("name", "-name", "type", "-type", "id", "-id", "status", "-status", "created")
SORTS += ("-created", "completed", "-completed")
OTHER_PATHS = (
    "/objects/rows/?per_page=100",
    "/objects/rows/?per_page=100&page=10",
    "/objects/rows/?status=COMPLETED&per_page=100&page=5",
    "/?type=mlmodel&sort=name&page=50",
    "/?q=bench+data+05",
)


def paths() -> list[str]:
    every_sort = [f"/?sort={sort}{page}" for sort in SORTS for page in ("", "&page=100")]
    return ["/", "/?page=50", "/?page=100", *every_sort, *OTHER_PATHS]


def list_objects_of(commit: str) -> Callable[..., Any]:
    """`list_objects` as it was at `commit`, loaded beside today's."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{commit}:console/services/listing.py"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("listing_at_commit", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "console.services"
    sys.modules[spec.name] = module  # dataclasses look their module up
    exec(compile(source, f"listing.py@{commit}", "exec"), module.__dict__)
    return module.list_objects  # type: ignore[no-any-return]


def timed(client: Any, path: str, repeats: int) -> tuple[float, float]:
    client.get(path)  # the first request of a kind may warm a cache; it is not counted
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code}")
    return statistics.median(times), percentile(times, 0.95)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000, help="datasources and models each")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--compare-with", metavar="COMMIT", help="also time list_objects of it")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "aml-dashboard-sorts"
    )
    args = parser.parse_args()
    fresh = not (args.workdir / "data").exists()
    setup_django(args.workdir)
    from api_describe import make_objects
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    import console.views.dashboard as view

    if fresh:
        make_objects(args.objects)
    setup_test_environment()
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    versions = {"now": view.list_objects}
    if args.compare_with:
        versions = {args.compare_with: list_objects_of(args.compare_with), **versions}
    print(f"Before: {machine_load()}")
    print("| request | " + " | ".join(f"{v} median / p95 (ms)" for v in versions) + " |")
    print("|---|" + "---:|" * len(versions))
    for path in paths():
        cells = []
        for list_objects in versions.values():
            view.list_objects = list_objects
            median, p95 = timed(client, path, args.repeats)
            cells.append(f"{median:.1f} / {p95:.1f}")
        print(f"| `{path}` | " + " | ".join(cells) + " |", flush=True)
    print(f"After: {machine_load()}")


if __name__ == "__main__":
    main()

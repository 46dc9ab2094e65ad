"""Benchmark the evaluation page's threshold slider in headless Chromium (issue 7: within 16 ms).

Two binary evaluations are stored in a throw-away console (its own data folder, database and
user, served by Django's live-server thread with static files):

* **banking**: the default path on the command line, `mlcore train` on the first 70 % of
  banking.csv and `mlcore evaluate` on the last 30 % (12,031 records); the stored result is what
  the evaluation job stores.
* **1,000,000 records**: scores and labels generated here (25 % positives, two overlapping
  normal distributions of scores) and passed through `binary_details`, the function the job
  calls for a binary evaluation's `Details`; scoring a million real records would time the
  trainer, not the page.

For each, Debian's Chromium (via Playwright) opens the evaluation page at 1400 x 1000, waits
for the explorer, then makes `--moves` programmatic slider moves (value set, `input` event
dispatched, as a drag does), each at the start of an animation frame. The clock
(`performance.now()`) runs from before the event to after a forced style and layout
(`getBoundingClientRect`), so it holds the script (every number, Plotly's shape redraws) and
the layout it causes, not the paint and composite that follow. Median, 95th percentile and
maximum are printed as a markdown table, with the page's bytes and the explorer's start-up time.

    .venv/bin/python benchmarks/threshold_slider.py
    .venv/bin/python benchmarks/threshold_slider.py --moves 500 --records 2000000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "benchmark horse 1"
SPLIT_TRAIN = '{"splitting":{"percentBegin":0,"percentEnd":70}}'
SPLIT_EVAL = '{"splitting":{"percentBegin":70,"percentEnd":100}}'

MEASURE_JS = """
async (moves) => {
  const slider = document.getElementById("threshold-slider");
  const times = [];
  for (let i = 0; i < moves; i++) {
    // spread over the whole range, never twice the same cut-off in a row
    const t = ((i * 389) % 1001) / 1000;
    await new Promise((resolve) => requestAnimationFrame(resolve));
    performance.mark("move-start");
    slider.value = t.toFixed(3);
    slider.dispatchEvent(new Event("input", { bubbles: true }));
    document.body.getBoundingClientRect();
    performance.mark("move-end");
    times.push(performance.measure("move", "move-start", "move-end").duration);
  }
  return times;
}
"""


def banking_result(workdir: Path) -> dict[str, Any]:
    """Train on banking's first 70 % and evaluate on the rest, through the command line."""
    model = workdir / "banking.amlmodel"
    schema = str(SHARED / "banking.csv.schema")
    data = str(SHARED / "banking.csv")
    python = [sys.executable, "-m", "mlcore"]
    common = ["--schema", schema, "--rearrangement"]
    subprocess.run(
        [*python, "train", data, *common, SPLIT_TRAIN, "--model-type", "BINARY", "--out", model],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    done = subprocess.run(
        [*python, "evaluate", str(model), data, *common, SPLIT_EVAL],
        check=True,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(done.stdout))


def generated_result(records: int) -> dict[str, Any]:
    import numpy as np

    from mlcore.metrics.binary import binary_details

    rng = np.random.default_rng(7)
    labels = rng.random(records) < 0.25
    scores = np.clip(rng.normal(np.where(labels, 0.66, 0.34), 0.16), 0.0, 1.0)
    details = binary_details(scores, labels, 0.5)
    return {
        "PerformanceMetrics": {"Properties": {"BinaryAUC": repr(details["auc"])}},
        "Baseline": {"Properties": {"BinaryAUC": "0.5"}},
        "RecordCount": records,
        "InvalidRecordCount": 0,
        "Alerts": [],
        "Details": details,
    }


def store_evaluation(owner: Any, key: str, result: dict[str, Any]) -> str:
    from django.utils import timezone

    from console.models import DataSource, Evaluation, MLModel, Status

    ds = DataSource.objects.create(
        owner=owner,
        entity_id=f"ds-Bench{key}",
        name=key,
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3=str(SHARED / "banking.csv"),
        status=Status.COMPLETED,
    )
    ml = MLModel.objects.create(
        owner=owner,
        entity_id=f"ml-Bench{key}",
        training_data_source=ds,
        ml_model_type="BINARY",
        status=Status.COMPLETED,
    )
    now = timezone.now()
    ev = Evaluation.objects.create(
        owner=owner,
        entity_id=f"ev-Bench{key}",
        name=f"Benchmark: {key}",
        ml_model=ml,
        evaluation_data_source=ds,
        status=Status.COMPLETED,
        performance_metrics=result["PerformanceMetrics"],
        details={k: v for k, v in result.items() if k != "PerformanceMetrics"},
        started_at=now - timedelta(seconds=1),
        finished_at=now,
    )
    return ev.entity_id


def start_console(workdir: Path) -> tuple[Any, Any]:
    """A migrated console in `workdir` with one user, served on a free port."""
    os.environ["AML_DATA_DIR"] = str(workdir / "data")
    os.environ.pop("DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "console.settings"
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, this thread
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.management import call_command
    from django.test.testcases import LiveServerThread

    call_command("migrate", verbosity=0)
    owner = get_user_model().objects.create_user(username="bench", password=PASSWORD)
    server = LiveServerThread("localhost", StaticFilesHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    return owner, server


def measure(base_url: str, evaluations: dict[str, str], moves: int) -> dict[str, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, dict[str, Any]] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Username").fill("bench")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base_url}/")
        for key, entity_id in evaluations.items():
            response = page.goto(f"{base_url}/evaluations/{entity_id}/")
            assert response is not None
            page.wait_for_function("() => window.thresholdExplorer !== undefined")
            times = page.evaluate(MEASURE_JS, moves)
            results[key] = {
                "times": times,
                "page_bytes": len(response.body()),
                "start_ms": page.evaluate(
                    "() => performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd"
                ),
            }
        browser.close()
    if errors:
        raise SystemExit(f"JavaScript errors: {errors}")
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--records", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="aml-slider-") as folder:
        workdir = Path(folder)
        banking = banking_result(workdir)
        generated = generated_result(args.records)
        owner, server = start_console(workdir)
        try:
            evaluations = {
                f"banking ({banking['RecordCount']:,} records)": store_evaluation(
                    owner, "Banking", banking
                ),
                f"generated ({args.records:,} records)": store_evaluation(
                    owner, "Million", generated
                ),
            }
            results = measure(f"http://localhost:{server.port}", evaluations, args.moves)
        finally:
            server.terminate()
    print("| evaluation | moves | median ms | p95 ms | max ms | page KB | DOMContentLoaded ms |")
    print("|---|---|---|---|---|---|---|")
    for key, result in results.items():
        times = result["times"]
        print(
            f"| {key} | {len(times)} | {statistics.median(times):.2f} | "
            f"{percentile(times, 0.95):.2f} | {max(times):.2f} | "
            f"{result['page_bytes'] / 1024:.0f} | {result['start_ms']:.0f} |"
        )


if __name__ == "__main__":
    main()

"""Benchmark the statistics pass: time and peak memory of `compute_statistics` vs pandas.

Each measurement runs in a fresh Python process so peaks do not leak between runs:

* wall time and `ru_maxrss` (resident set peak, interpreter and libraries included) from a run
  without tracing, best time of `--repeat` runs;
* the `tracemalloc` peak (memory allocated by Python and numpy during the work itself) from one
  separate traced run, since tracing slows the work down.

Contenders: `mlcore` = compute_statistics (one streaming pass, every statistic and correlation,
invalid records reported and skipped with no limit on their number);
`pandas` = pandas.read_csv of the whole file; `pandas+describe` = read_csv then
DataFrame.describe(include="all") (fewer figures than mlcore, but the usual one-liner);
`imports` = the processes' baseline (numpy, pandas and mlcore imported, nothing read).

Files: banking.csv (41,188 rows, 4.9 MB) and a generated banking-like CSV of about `--big-mb`
megabytes written to /tmp (never committed): rows sampled from banking.csv with `duration`,
`campaign` and `euribor3m` redrawn so they have many distinct values (euribor3m gets millions,
which forces the bounded median/histogram map into its approximate mode).

    .venv/bin/python benchmarks/stats_banking.py              # both files, markdown table
    .venv/bin/python benchmarks/stats_banking.py --big-mb 0   # banking.csv only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BANKING = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "banking.csv"
SCHEMA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "banking.csv.schema"
BIG = Path("/tmp/aml-bench-banking-big.csv")
MODES = ("imports", "mlcore", "pandas", "pandas+describe")
MB = 1024 * 1024
UNLIMITED = sys.maxsize


# ----------------------------------------------------------------------------- worker side


def run_mode(mode: str, path: Path) -> None:
    """The measured work (imports happen before the clock starts)."""
    import pandas as pd

    from mlcore.io.csvreader import CsvFormat
    from mlcore.io.locations import resolve_local
    from mlcore.schema import parse_schema
    from mlcore.stats import compute_statistics

    if mode == "mlcore":
        schema = parse_schema(SCHEMA.read_text())
        # banking.csv has 1,064 invalid records (`previous` > 1 under a BINARY schema), 2.6%;
        # the generated file keeps that share, ~46,000, past the default limit of 10,000
        files = resolve_local(path)
        compute_statistics(files, schema, CsvFormat(",", True), max_invalid=UNLIMITED)
    elif mode == "pandas":
        pd.read_csv(path)
    elif mode == "pandas+describe":
        pd.read_csv(path).describe(include="all")


def worker(mode: str, path: Path, trace: bool) -> dict[str, Any]:
    import pandas  # noqa: F401  (imports outside the measured region for every mode)

    import mlcore.stats  # noqa: F401

    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    run_mode(mode, path)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    return {"seconds": seconds, "tracemalloc_peak": peak, "max_rss": max_rss}


# ----------------------------------------------------------------------------- driver side


def measure(mode: str, path: Path, trace: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--worker", mode, str(path)]
    if trace:
        command.append("--trace")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env, cwd=REPO)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def benchmark(path: Path, repeat: int) -> dict[str, dict[str, float]]:
    results: dict[str, dict[str, float]] = {}
    for mode in MODES:
        runs = [measure(mode, path, trace=False) for _ in range(repeat)]
        traced = measure(mode, path, trace=True)
        results[mode] = {
            "seconds": min(r["seconds"] for r in runs),
            "max_rss_mb": max(r["max_rss"] for r in runs) / MB,
            "tracemalloc_mb": traced["tracemalloc_peak"] / MB,
        }
        print(f"  {path.name} {mode}: {results[mode]}", file=sys.stderr)
    return results


def generate_big_csv(target_mb: int, path: Path = BIG, seed: int = 0) -> Path:
    """Write a banking-like CSV of about `target_mb` MB, block by block (bounded memory)."""
    import numpy as np
    import pandas as pd

    if path.exists() and abs(path.stat().st_size / MB - target_mb) < 0.05 * target_mb:
        return path
    base = pd.read_csv(BANKING)
    rng = np.random.default_rng(seed)
    bytes_per_row = BANKING.stat().st_size / len(base)
    rows_wanted = int(target_mb * MB / bytes_per_row)
    with path.open("w", newline="") as out:
        written = 0
        while written < rows_wanted:
            block = base.sample(
                n=min(200_000, rows_wanted - written), replace=True, random_state=rng
            )
            block["duration"] = rng.integers(0, 5000, len(block))
            block["campaign"] = rng.integers(1, 60, len(block))
            block["euribor3m"] = np.round(rng.uniform(0.5, 5.1, len(block)), 6)
            block.to_csv(out, index=False, header=written == 0)
            written += len(block)
    return path


def generate_in_subprocess(target_mb: int) -> Path:
    """Generate the big CSV in another process: Linux carries a parent's peak RSS over fork and
    exec into `ru_maxrss` of the children, so the driver must stay small (stdlib only)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, __file__, "--generate", str(target_mb)]
    subprocess.run(command, check=True, env=env, cwd=REPO)
    return BIG


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "n/a"


def markdown(title: str, results: dict[str, dict[str, float]]) -> str:
    ml = results["mlcore"]
    lines = [
        f"**{title}**",
        "",
        "| run | time (s) | peak RSS (MB) | tracemalloc peak (MB) | time vs mlcore | tracemalloc vs mlcore |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        r = results[mode]
        lines.append(
            f"| {mode} | {r['seconds']:.2f} | {r['max_rss_mb']:.0f} | {r['tracemalloc_mb']:.1f} | "
            f"{ratio(r['seconds'], ml['seconds'])} | {ratio(r['tracemalloc_mb'], ml['tracemalloc_mb'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--generate", type=int, metavar="MB", help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (best kept)")
    parser.add_argument(
        "--big-mb", type=int, default=200, help="size of the generated CSV; 0 skips it"
    )
    args = parser.parse_args()
    if args.generate:
        generate_big_csv(args.generate)
        return
    if args.worker:
        mode, path = args.worker
        print(json.dumps(worker(mode, Path(path), args.trace)))
        return
    sections = [
        markdown(
            f"banking.csv ({BANKING.stat().st_size / MB:.1f} MB)", benchmark(BANKING, args.repeat)
        )
    ]
    if args.big_mb:
        big = generate_in_subprocess(args.big_mb)
        title = f"generated banking-like CSV ({big.stat().st_size / MB:.0f} MB)"
        sections.append(markdown(title, benchmark(big, max(1, args.repeat - 2))))
    print("\n\n".join(sections))


if __name__ == "__main__":
    main()

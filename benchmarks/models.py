"""Benchmark the models: quality against AML and scikit-learn, speed, and memory on 5 GB.

Three parts, each printed as a markdown table:

1. **Quality** — every target of `benchmarks/_datasets.py` on AML's default path (wizard schema,
   sequential 70/30 split, the suggested recipe from the training split's statistics, the
   console's default parameters), evaluated with `evaluate_model` on the 30 %; next to AML's
   published figure and a scikit-learn reference fitted in the same run on the same rows:

   * banking: one-hot categoricals + `KBinsDiscretizer(50, "quantile")` numerics,
     `LogisticRegression(max_iter=1000)`;
   * wine: the standardised numerics, `LinearRegression` / `LogisticRegression`;
   * mnist: pixels / 255, `LogisticRegression(max_iter=1000)`.

2. **Speed** — banking.csv from CSV to a trained model, each in a fresh process, best of
   `--repeat`: `train_model` (read + fit recipe + encode + SGD; the schema and the suggested
   recipe text exist beforehand, as the console has them from the datasource and its
   statistics) against pandas `read_csv` + one-hot + `KBinsDiscretizer(50, "quantile")` +
   `LogisticRegression`. Imports are outside the clock for both; the whole-process wall time
   (interpreter start, imports, schema) is reported too. `--blas-threads N` caps both workers'
   BLAS/OpenMP threads (a fairer ratio on a busy machine); mlcore's training log is printed.

3. **Memory** (`--big-gb`, decimal GB, 0 to skip) — a generated CSV of that size in /tmp:
   banking.csv's header once, then its data lines repeated, with `age`, `duration`, `campaign`
   and `euribor3m` perturbed per repetition (buffered binary writes). `train_model` runs on it
   in a subprocess with banking's suggested recipe and `--big-passes` passes; its peak RSS is
   the child's own `ru_maxrss` and, independently, the maximum of psutil samples of its RSS
   every 0.1 s. The file and the feature cache (about 2x the CSV) are deleted afterwards.

Speed and memory run first, while the driver is small (Linux carries a parent's resident peak
into a child's `ru_maxrss`); quality runs last, in the driver.

    .venv/bin/python benchmarks/models.py                       # speed + quality
    .venv/bin/python benchmarks/models.py --only speed --repeat 5 --blas-threads 1
    .venv/bin/python benchmarks/models.py --big-gb 5.4          # + memory on 5.4 GB (5 GiB)
    .venv/bin/python benchmarks/models.py --only memory --big-gb 5.4 --big-passes 3
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _datasets import DATA, EVAL_SPLIT, TARGETS, TRAIN_SPLIT, Prepared, Target  # noqa: E402

BANKING = DATA / "banking.csv"
BIG = Path("/tmp/aml-bench-models-big.csv")
MB = 1024 * 1024


# ----------------------------------------------------------------------------- quality


def split_lines(prepared: Prepared, split: dict[str, Any]) -> list[int]:
    """The physical line numbers mlcore's reader selects for a split (so sklearn sees the same)."""
    from mlcore.io.dataset import TypedReader
    from mlcore.io.rearrangement import parse_rearrangement

    reader = TypedReader(
        prepared.files, prepared.schema, prepared.fmt, rearrangement=parse_rearrangement(split)
    )
    return [int(line) for chunk in reader for line in chunk.line_numbers.tolist()]


def sklearn_reference(prepared: Prepared) -> tuple[float, float]:
    """(metric, seconds) of the scikit-learn reference on the same training/evaluation rows."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.metrics import f1_score, mean_squared_error, roc_auc_score
    from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder, StandardScaler

    target = prepared.target
    frame = pd.read_csv(prepared.path, sep=prepared.fmt.delimiter)
    train_rows = np.array(split_lines(prepared, TRAIN_SPLIT)) - 2  # line 1 is the header
    eval_rows = np.array(split_lines(prepared, EVAL_SPLIT)) - 2
    y = frame.pop(target.target)
    started = time.perf_counter()
    if target.key == "banking":
        categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        numeric = [c for c in frame.columns if c not in categorical]
        onehot = OneHotEncoder(handle_unknown="ignore").fit(frame.iloc[train_rows][categorical])
        bins = KBinsDiscretizer(50, encode="onehot", strategy="quantile", quantile_method="linear")
        bins.fit(frame.iloc[train_rows][numeric])

        def encode(rows: np.ndarray) -> Any:
            from scipy.sparse import hstack

            part = frame.iloc[rows]
            return hstack([onehot.transform(part[categorical]), bins.transform(part[numeric])])

        x_train, x_eval = encode(train_rows), encode(eval_rows)
    else:
        values = frame.to_numpy(dtype=np.float64)
        if target.key == "mnist":
            x_train, x_eval = values[train_rows] / 255.0, values[eval_rows] / 255.0
        else:
            scaler = StandardScaler().fit(values[train_rows])
            x_train, x_eval = (
                scaler.transform(values[train_rows]),
                scaler.transform(values[eval_rows]),
            )
    y_train, y_eval = y.iloc[train_rows].to_numpy(), y.iloc[eval_rows].to_numpy()
    if target.model_type == "REGRESSION":
        model = LinearRegression().fit(x_train, y_train)
        value = float(mean_squared_error(y_eval, model.predict(x_eval)) ** 0.5)
    elif target.model_type == "BINARY":
        model = LogisticRegression(max_iter=1000).fit(x_train, y_train.astype(int))
        value = float(roc_auc_score(y_eval.astype(int), model.predict_proba(x_eval)[:, 1]))
    else:
        model = LogisticRegression(max_iter=1000).fit(x_train, y_train.astype(str))
        value = float(f1_score(y_eval.astype(str), model.predict(x_eval), average="macro"))
    return value, time.perf_counter() - started


def quality(keys: list[str]) -> list[dict[str, Any]]:
    from _datasets import prepare, train_and_evaluate

    rows = []
    with tempfile.TemporaryDirectory(prefix="aml-bench-models-") as work:
        for key in keys:
            target = TARGETS[key]
            prepared = prepare(target, Path(work))
            ours = train_and_evaluate(prepared, work_dir=work)
            sk_value, sk_seconds = sklearn_reference(prepared)
            rows.append(
                {
                    "target": target,
                    "ours": ours["value"],
                    "baseline": ours["baseline"],
                    "seconds": ours["train_seconds"],
                    "passes": ours["passes"],
                    "features": ours["n_features"],
                    "records": ours["records"],
                    "sklearn": sk_value,
                    "sklearn_seconds": sk_seconds,
                }
            )
            print(f"  {key}: ours {ours['value']:.4f}, sklearn {sk_value:.4f}", file=sys.stderr)
    return rows


def quality_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| target | metric | ours | AML | scikit-learn | baseline | ours vs AML | ours vs sklearn "
        "| goal | met | features | passes | train (s) | sklearn fit (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|",
    ]
    for row in rows:
        target: Target = row["target"]
        aml, ours, baseline = target.aml, row["ours"], row["baseline"]
        relation = ">=" if target.higher_is_better else "<"
        lines.append(
            f"| {target.title} | {target.metric} | {ours:.4f} | "
            f"{'–' if aml is None else f'{aml:.3f}'} | {row['sklearn']:.4f} | "
            f"{'–' if baseline is None else f'{baseline:.3f}'} | "
            f"{'–' if aml is None else f'{ours / aml:.3f}×'} | "
            f"{ours / row['sklearn']:.3f}× | {relation} {target.goal:g} | "
            f"{'yes' if target.met(row['ours']) else '**no**'} | {row['features']:,} | "
            f"{row['passes']} | {row['seconds']:.2f} | {row['sklearn_seconds']:.2f} |"
        )
    return "\n".join(lines)


SKLEARN_MODELS = {
    "banking": "one-hot + KBinsDiscretizer(50, quantile), LogisticRegression",
    "mnist": "pixels / 255, LogisticRegression",
}


def target_tables(rows: list[dict[str, Any]]) -> str:
    """One small table per target: ours, AML, scikit-learn and the baseline side by side."""
    blocks = []
    for row in rows:
        target: Target = row["target"]
        aml, ours, sk = target.aml, row["ours"], row["sklearn"]
        better = "higher" if target.higher_is_better else "lower"
        relation = ">=" if target.higher_is_better else "<"
        met = "met" if target.met(ours) else "**not met**"
        reference = SKLEARN_MODELS.get(
            target.key,
            "standardised numerics, "
            + ("LinearRegression" if target.model_type == "REGRESSION" else "LogisticRegression"),
        )
        baseline = row["baseline"]
        blocks.append(
            "\n".join(
                [
                    f"**{target.title}** — {target.metric} ({better} is better), "
                    f"{row['records']:,} training records; goal {relation} {target.goal:g}: {met}",
                    "",
                    f"| model | {target.metric} | vs AML | vs scikit-learn | fit time (s) |",
                    "|---|---:|---:|---:|---:|",
                    f"| mlcore: suggested recipe ({row['features']:,} features), "
                    f"{row['passes']} passes | {ours:.4f} | "
                    f"{'–' if aml is None else f'{ours / aml:.3f}×'} | {ours / sk:.3f}× | "
                    f"{row['seconds']:.2f} |",
                    f"| AML (published) | {'–' if aml is None else f'{aml:.3f}'} | "
                    f"{'–' if aml is None else '1.000×'} | "
                    f"{'–' if aml is None else f'{aml / sk:.3f}×'} | – |",
                    f"| scikit-learn: {reference} | {sk:.4f} | "
                    f"{'–' if aml is None else f'{sk / aml:.3f}×'} | 1.000× | "
                    f"{row['sklearn_seconds']:.2f} |",
                    f"| AML's baseline | {'–' if baseline is None else f'{baseline:.3f}'} | | | |",
                ]
            )
        )
    return "\n\n".join(blocks)


# ----------------------------------------------------------------------------- speed


def banking_recipe() -> str:
    """banking.csv's suggested recipe (wizard schema, statistics of the 70 % split)."""
    from _datasets import prepare

    with tempfile.TemporaryDirectory() as work:
        return prepare(TARGETS["banking"], Path(work)).recipe


def write_banking_recipe(path: Path) -> None:
    """Compute the recipe in a child process, so this driver stays small (see `main`)."""
    subprocess.run([sys.executable, __file__, "--recipe", str(path)], check=True)


def speed_worker(mode: str, path: str, recipe_file: str, passes: int) -> dict[str, Any]:
    """One measured run in this (fresh) process; imports stay outside the clock."""
    import numpy as np
    import pandas as pd

    if mode == "mlcore":
        from mlcore.io.csvreader import CsvFormat, sniff
        from mlcore.io.locations import resolve_local
        from mlcore.schema import infer_schema
        from mlcore.train.parameters import TrainingParameters
        from mlcore.train.pipeline import train_model

        # the schema exists before training (the datasource wizard made it): not timed
        files = resolve_local(path)
        sniffed = sniff(files)
        schema = infer_schema(sniffed.columns, sniffed.sample_rows, sniffed.has_header)
        schema.target = "y"
        started = time.perf_counter()
        params = {"sgd.maxPasses": str(passes)}
        if os.environ.get("AML_BENCH_L2"):  # an explicit amount: no automatic choice
            params["sgd.l2RegularizationAmount"] = os.environ["AML_BENCH_L2"]
        logs: list[str] = []
        model = train_model(
            files,
            schema,
            CsvFormat(sniffed.delimiter, sniffed.has_header),
            model_type="BINARY",
            recipe_text=Path(recipe_file).read_text(),
            parameters=TrainingParameters.from_aml(params, console=True),
            log=logs.append,
            work_dir=os.environ.get("AML_BENCH_WORK_DIR") or None,
        )
        seconds = time.perf_counter() - started
        extra = {"passes": model.passes, "records": model.records_used, "log": logs}
    else:
        from scipy.sparse import hstack
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import KBinsDiscretizer, OneHotEncoder

        started = time.perf_counter()
        frame = pd.read_csv(path)
        y = frame.pop("y").to_numpy()
        categorical = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
        numeric = [c for c in frame.columns if c not in categorical]
        x = hstack(
            [
                OneHotEncoder(handle_unknown="ignore").fit_transform(frame[categorical]),
                KBinsDiscretizer(
                    50, encode="onehot", strategy="quantile", quantile_method="linear"
                ).fit_transform(frame[numeric]),
            ]
        ).tocsr()
        model = LogisticRegression(max_iter=1000).fit(x, y)
        seconds = time.perf_counter() - started
        extra = {"iterations": int(np.max(model.n_iter_))}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": seconds, "max_rss": rss, **extra}


def run_worker(
    mode: str, path: Path, recipe_file: Path, passes: int, blas_threads: int = 0
) -> dict[str, Any]:
    """Run one worker process; also sample its resident set with psutil every 0.1 s.

    The sampled peak does not depend on what Linux carries into `ru_maxrss` from the parent.
    `blas_threads` > 0 caps the BLAS/OpenMP threads of the worker (0: the libraries' defaults).
    """
    import psutil

    started = time.perf_counter()
    command = [sys.executable, __file__, "--worker", mode, str(path), str(recipe_file), str(passes)]
    env = dict(os.environ)
    if blas_threads > 0:
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(blas_threads)
    with tempfile.TemporaryFile("w+") as stdout:
        process = subprocess.Popen(
            command, stdout=stdout, stderr=subprocess.PIPE, text=True, env=env
        )
        watched, sampled = psutil.Process(process.pid), 0
        while process.poll() is None:
            with contextlib.suppress(psutil.Error):  # the process may end between the calls
                sampled = max(sampled, watched.memory_info().rss)
            time.sleep(0.1)
        errors = process.stderr.read() if process.stderr else ""
        if process.returncode:
            raise RuntimeError(f"{mode} worker failed:\n{errors}")
        stdout.seek(0)
        result: dict[str, Any] = json.loads(stdout.read().strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    result["sampled_rss"] = sampled
    return result


def speed(repeat: int, recipe_file: Path, blas_threads: int = 0) -> dict[str, dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    for _ in range(repeat):
        for mode in ("mlcore", "sklearn"):
            result = run_worker(mode, BANKING, recipe_file, 10, blas_threads)
            if mode not in best or result["seconds"] < best[mode]["seconds"]:
                best[mode] = result
    return best


def speed_table(best: dict[str, dict[str, Any]]) -> str:
    ours, theirs = best["mlcore"], best["sklearn"]
    lines = [
        "| run | work (s) | whole process (s) | peak RSS (MB) | work vs sklearn "
        "| whole process vs sklearn |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, row in (("mlcore train_model", ours), ("scikit-learn pipeline", theirs)):
        lines.append(
            f"| {name} | {row['seconds']:.2f} | {row['process_seconds']:.2f} | "
            f"{row['max_rss'] / MB:.0f} | {row['seconds'] / theirs['seconds']:.2f}× | "
            f"{row['process_seconds'] / theirs['process_seconds']:.2f}× |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- memory


def write_big_csv(path: Path, gigabytes: float) -> tuple[int, int]:
    """banking.csv's header, then its data lines repeated with a few numeric fields perturbed.

    Returns (bytes, data rows). Buffered binary writes; each repetition perturbs `age` (+-2),
    `duration` (x 0.8-1.2), `campaign` (+0..2) and `euribor3m` (+- 0.05) with a seeded RNG.
    """
    lines = BANKING.read_bytes().splitlines()
    header, data = lines[0], [line.split(b",") for line in lines[1:] if line]
    names = header.decode().split(",")
    age, duration, campaign, euribor = (
        names.index(n) for n in ("age", "duration", "campaign", "euribor3m")
    )
    rng = random.Random(20141212)
    goal = int(gigabytes * 1e9)
    written, rows = 0, 0
    with path.open("wb", buffering=16 * MB) as out:
        out.write(header + b"\r\n")
        written += len(header) + 2
        while written < goal:
            shift_age, scale, shift_campaign = (
                rng.randint(-2, 2),
                rng.uniform(0.8, 1.2),
                rng.randint(0, 2),
            )
            shift_euribor = rng.uniform(-0.05, 0.05)
            block = []
            for fields in data:
                row = list(fields)
                row[age] = str(int(row[age]) + shift_age).encode()
                row[duration] = str(int(int(row[duration]) * scale)).encode()
                row[campaign] = str(int(row[campaign]) + shift_campaign).encode()
                row[euribor] = f"{float(row[euribor]) + shift_euribor:.3f}".encode()
                block.append(b",".join(row))
            chunk = b"\r\n".join(block) + b"\r\n"
            out.write(chunk)
            written += len(chunk)
            rows += len(block)
    return written, rows


def memory(gigabytes: float, passes: int, recipe_file: Path) -> dict[str, Any]:
    free = os.statvfs("/tmp")
    free_gb = free.f_bavail * free.f_frsize / 1e9
    if free_gb < gigabytes * 3.5:
        raise SystemExit(f"/tmp has {free_gb:.0f} GB free; the CSV and its feature cache need more")
    started = time.perf_counter()
    size, rows = write_big_csv(BIG, gigabytes)
    write_seconds = time.perf_counter() - started
    print(f"  wrote {size / 1e9:.2f} GB, {rows:,} rows in {write_seconds:.0f} s", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="aml-bench-cache-", dir="/tmp") as cache:
            os.environ["AML_BENCH_WORK_DIR"] = cache
            result = run_worker("mlcore", BIG, recipe_file, passes)
    finally:
        BIG.unlink(missing_ok=True)
    result.update(size=size, rows=rows, write_seconds=write_seconds, passes_asked=passes)
    return result


def memory_table(result: dict[str, Any]) -> str:
    return "\n".join(
        [
            "| file | rows | passes (asked/run) | train_model (s) | peak RSS, ru_maxrss (MB) "
            "| peak RSS, sampled (MB) | under 1.5 GB |",
            "|---|---:|---:|---:|---:|---:|---|",
            f"| generated banking-like CSV, {result['size'] / 1e9:.2f} GB | {result['rows']:,} | "
            f"{result['passes_asked']}/{result['passes']} | {result['seconds']:.0f} | "
            f"{result['max_rss'] / MB:.0f} | {result['sampled_rss'] / MB:.0f} | "
            f"{'yes' if max(result['max_rss'], result['sampled_rss']) < 1536 * MB else '**no**'} |",
        ]
    )


# ----------------------------------------------------------------------------- driver


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--only", choices=("quality", "speed", "memory"), action="append")
    parser.add_argument("--repeat", type=int, default=3, help="speed runs per contender")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        help="cap BLAS/OpenMP threads in the speed workers (0: library defaults). On a shared "
        "machine, scikit-learn's multi-threaded BLAS slows down a lot when the cores are busy",
    )
    parser.add_argument("--big-gb", type=float, default=0.0, help="size of the memory run's CSV")
    parser.add_argument("--big-passes", type=int, default=10)
    parser.add_argument(
        "--l2",
        default="",
        help="train mlcore with this L2 amount instead of choosing it (the choice's cost)",
    )
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--recipe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="sklearn")  # "bins too small" on constant columns
    if args.l2:  # the speed workers inherit it
        os.environ["AML_BENCH_L2"] = args.l2
    if args.worker:
        mode, path, recipe_file, passes = args.worker
        print(json.dumps(speed_worker(mode, path, recipe_file, int(passes))))
        return
    if args.recipe:
        Path(args.recipe).write_text(banking_recipe())
        return
    parts = args.only or ["quality", "speed", "memory"]
    # Speed and memory first, while this driver has imported nothing big: Linux carries the
    # parent's resident peak into the ru_maxrss of a child it starts (fork/vfork + exec).
    if "speed" in parts or ("memory" in parts and args.big_gb > 0):
        with tempfile.NamedTemporaryFile("w", suffix=".recipe.json", delete=False) as handle:
            recipe_file = Path(handle.name)
        write_banking_recipe(recipe_file)
        try:
            if "speed" in parts:
                threads = f", BLAS threads {args.blas_threads}" if args.blas_threads else ""
                print(
                    f"**Speed** (banking.csv, CSV to trained model, best of {args.repeat}"
                    f"{threads})\n"
                )
                best = speed(args.repeat, recipe_file, args.blas_threads)
                print(speed_table(best) + "\n", flush=True)
                print("\n".join(f"    {line}" for line in best["mlcore"]["log"]) + "\n")
            if "memory" in parts and args.big_gb > 0:
                print(f"**Memory** (train_model on {args.big_gb:g} GB)\n")
                result = memory(args.big_gb, args.big_passes, recipe_file)
                print(memory_table(result) + "\n")
                print("\n".join(f"    {line}" for line in result["log"]))
        finally:
            recipe_file.unlink(missing_ok=True)
    if "quality" in parts:
        print("**Quality** (70/30 sequential split, suggested recipe, console defaults)\n")
        rows = quality(args.targets.split(","))
        print(quality_table(rows) + "\n\n" + target_tables(rows) + "\n", flush=True)


if __name__ == "__main__":
    main()

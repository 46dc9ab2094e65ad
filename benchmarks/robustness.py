"""Robustness of the engine's DEFAULT path on many public data sets, through the command line.

For every data set below, each step is a fresh `python -m mlcore` process, as a user would run
it:

1. the data is written as a CSV into a temporary directory;
2. `infer-schema DATA`, then the target is set in the schema JSON (its type set to what the model
   type needs: BINARY, CATEGORICAL or NUMERIC); every other attribute keeps its inferred type and
   no row id is set;
3. `train DATA --schema SCHEMA --model-type TYPE --rearrangement TRAIN --out MODEL`, with no
   `--parameters` and no `--recipe` (the suggested recipe and the default parameters);
4. `evaluate MODEL DATA --rearrangement EVAL`, EVAL being TRAIN's complement; the metric is read
   from `PerformanceMetrics.Properties` (`BinaryAUC`, `MulticlassAvgFScore`, `RegressionRMSE`).

The split is AML's random 70/30 one, `{"strategy": "random", "randomSeed": "aml-robustness"}`,
because most statsmodels sets are sorted (by firm, by year...). The five seed targets of
`_datasets.py` keep their sequential 70/30 split instead: AML's published figures were measured
on it, so only that split makes the "AML" column comparable.

The reference is fitted in this process on the same rows: mlcore's own reader
(`mlcore.io.dataset.TypedReader` with the parsed rearrangement) says which CSV lines each split
keeps, and the row counts are checked against what `train` and `evaluate` report. The values are
read independently with pandas; the preprocessing follows the schema types: NUMERIC and BINARY
columns median-imputed (with missing-value indicators) and standardised, CATEGORICAL one-hot, TEXT
word counts. The model is `LogisticRegressionCV` (L2, 10 Cs, stratified 5-fold (fewer when a class
is rarer), scored by ROC AUC for BINARY and log loss for MULTICLASS, which is multinomial with
lbfgs) or `RidgeCV` (17 alphas, leave-one-out). Baselines: AUC 0.5; the macro-F1 of always
predicting the most frequent training class; the RMSE of always predicting the training mean.
Macro-F1 averages over the classes present in the evaluation rows, as AML's `MulticlassAvgFScore`
does.

Goal per data set: within 0.01 AUC, 0.02 macro-F1 or 5 % RMSE of the scikit-learn model, and never
worse than the baseline. For the seed targets the AML column also says whether AML's published
figure (`Target.goal`) was reached.

Data sets: 23 targets on 19 of `statsmodels.datasets` (shipped inside the package, nothing is
downloaded; 16 to 20,190 rows; targets derived from a column where noted, `--list` shows how), then
the five seed targets on `shared/data` (up to banking's 41,188 rows). Float columns whose values
are all whole numbers are written as integers, as the original files have them (AML's BINARY
vocabulary has "0"/"1", not "0.0"/"1.0"). A set above `MAX_ROWS` rows would be subsampled (none is
today). When infer-schema misses a header line (fertility: its year columns are named 1960...), it
is re-run with `--header`, as the wizard's user would answer, and the row says so.

One data set failing (a non-zero exit, a time-out) is reported in its row as "error: ..." with the
tail of mlcore's stderr, and the run goes on. The lines of `train`'s log (stderr) that mention
regularization or a held-out set are listed under the table. The whole run takes about 3 minutes on
2 cores (mnist is most of it).

    .venv/bin/python benchmarks/robustness.py
    .venv/bin/python benchmarks/robustness.py --list
    .venv/bin/python benchmarks/robustness.py --only fair-affair,banking --markdown /tmp/r.md
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _datasets import DATA, EVAL_SPLIT, TARGETS, TRAIN_SPLIT, Target, derive_csv  # noqa: E402

MAX_ROWS = 100_000
#: extra arguments for every `train` (`--train-args`), to try a setting against the default path
TRAIN_ARGS: list[str] = []
COMMAND_TIMEOUT = 300  # seconds per mlcore command: a hung run must not eat the whole budget
RANDOM_SEED = "aml-robustness"
RANDOM_TRAIN: dict[str, Any] = {
    "splitting": {
        "percentBegin": 0,
        "percentEnd": 70,
        "strategy": "random",
        "randomSeed": RANDOM_SEED,
    }
}
RANDOM_EVAL: dict[str, Any] = {"splitting": {**RANDOM_TRAIN["splitting"], "complement": "true"}}
METRIC_KEYS = {
    "BINARY": ("AUC", "BinaryAUC"),
    "MULTICLASS": ("macro-F1", "MulticlassAvgFScore"),
    "REGRESSION": ("RMSE", "RegressionRMSE"),
}
TARGET_TYPES = {"BINARY": "BINARY", "MULTICLASS": "CATEGORICAL", "REGRESSION": "NUMERIC"}
# AML's BINARY vocabulary (reference section 3), restated so the reference reads values itself.
BINARY_WORDS = {w: 1.0 for w in ("1", "y", "yes", "t", "true")} | {
    w: 0.0 for w in ("0", "n", "no", "f", "false")
}
LOG_WORDS = ("regulari", "held-out")


# ----------------------------------------------------------------------------- data sets


@dataclass(frozen=True)
class DataSet:
    """One benchmark row: where the data comes from, which column to learn, which model type."""

    key: str
    source: str
    target: str
    model_type: str  # BINARY | MULTICLASS | REGRESSION
    build: Callable[[], pd.DataFrame] | None = None  # statsmodels sets: the frame to write
    seed: Target | None = None  # seed targets: the definition in _datasets.py
    note: str = ""

    @property
    def split(self) -> tuple[dict[str, Any], dict[str, Any]]:
        return (TRAIN_SPLIT, EVAL_SPLIT) if self.seed is not None else (RANDOM_TRAIN, RANDOM_EVAL)


def statsmodels_frame(name: str) -> pd.DataFrame:
    module = importlib.import_module(f"statsmodels.datasets.{name}")
    return module.load_pandas().data.copy()


def as_is(name: str) -> Callable[[], pd.DataFrame]:
    return lambda: statsmodels_frame(name)


def fair_affair() -> pd.DataFrame:
    frame = statsmodels_frame("fair")
    frame["had_affair"] = (frame.pop("affairs") > 0).astype(int)
    return frame


def anes96_party() -> pd.DataFrame:
    frame = statsmodels_frame("anes96")
    pid = frame.pop("PID")
    frame["party"] = np.select(
        [pid <= 2, pid == 3], ["democrat", "independent"], default="republican"
    )
    return frame


def modechoice() -> pd.DataFrame:
    frame = statsmodels_frame("modechoice").drop(columns=["individual"])
    frame["mode"] = frame["mode"].map({1.0: "air", 2.0: "train", 3.0: "bus", 4.0: "car"})
    return frame


def randhie_visit() -> pd.DataFrame:
    frame = statsmodels_frame("randhie")
    frame["any_visit"] = (frame.pop("mdvis") > 0).astype(int)
    return frame


def randhie_health() -> pd.DataFrame:
    frame = statsmodels_frame("randhie")
    good, fair, poor = (frame.pop(c) == 1 for c in ("hlthg", "hlthf", "hlthp"))
    frame["health"] = np.select([good, fair, poor], ["good", "fair", "poor"], default="excellent")
    return frame


def star98_share() -> pd.DataFrame:
    frame = statsmodels_frame("star98")
    above, below = frame.pop("NABOVE"), frame.pop("NBELOW")
    frame["share_above"] = above / (above + below)
    return frame


def fertility() -> pd.DataFrame:
    frame = statsmodels_frame("fertility")
    # 2012 and 2013 are empty in the package; 2011 has 17 missing values (records without target)
    return frame.drop(columns=["2012", "2013"])


def co2() -> pd.DataFrame:
    series = statsmodels_frame("co2")["co2"]
    dates = series.index
    return pd.DataFrame(
        {
            "year": (dates.year + (dates.day_of_year - 1) / 365.25).to_numpy(),
            "month": dates.strftime("%b"),
            "co2": series.to_numpy(),
        }
    )


def sm(
    key: str,
    name: str,
    target: str,
    model_type: str,
    build: Callable[[], pd.DataFrame] | None = None,
    note: str = "",
) -> DataSet:
    """A statsmodels data set; `build` derives the target (default: the frame as it ships)."""
    return DataSet(key, f"statsmodels {name}", target, model_type, build or as_is(name), note=note)


STATSMODELS_SETS: tuple[DataSet, ...] = (
    sm("spector", "spector", "GRADE", "BINARY"),
    sm("anes96-vote", "anes96", "vote", "BINARY", note="vote: 1 Dole, 0 Clinton"),
    sm(
        "modechoice",
        "modechoice",
        "choice",
        "BINARY",
        modechoice,
        "a row per traveller and mode (names); id dropped",
    ),
    sm("fair-affair", "fair", "had_affair", "BINARY", fair_affair, "had_affair = affairs > 0"),
    sm("randhie-visit", "randhie", "any_visit", "BINARY", randhie_visit, "any_visit = mdvis > 0"),
    sm("grunfeld-firm", "grunfeld", "firm", "MULTICLASS", note="10 firms"),
    sm(
        "anes96-party",
        "anes96",
        "party",
        "MULTICLASS",
        anes96_party,
        "party = PID 0-2 democrat, 3 independent, 4-6 republican",
    ),
    sm("fair-rating", "fair", "rate_marriage", "MULTICLASS", note="rate_marriage 1-5 as classes"),
    sm(
        "randhie-health",
        "randhie",
        "health",
        "MULTICLASS",
        randhie_health,
        "health = the hlthg/hlthf/hlthp dummies as one class (none: excellent)",
    ),
    sm("longley", "longley", "TOTEMP", "REGRESSION"),
    sm("stackloss", "stackloss", "STACKLOSS", "REGRESSION"),
    sm("copper", "copper", "WORLDCONSUMPTION", "REGRESSION"),
    sm("scotland", "scotland", "YES", "REGRESSION"),
    sm("strikes", "strikes", "duration", "REGRESSION"),
    sm("ccard", "ccard", "AVGEXP", "REGRESSION"),
    sm("interest-inflation", "interest_inflation", "R", "REGRESSION"),
    sm("macrodata", "macrodata", "realinv", "REGRESSION"),
    sm("fertility", "fertility", "2011", "REGRESSION", fertility, "text columns; 17 no target"),
    sm("grunfeld-invest", "grunfeld", "invest", "REGRESSION", note="firm CATEGORICAL"),
    sm("engel", "engel", "foodexp", "REGRESSION"),
    sm(
        "star98",
        "star98",
        "share_above",
        "REGRESSION",
        star98_share,
        "share_above = NABOVE / (NABOVE + NBELOW)",
    ),
    sm("sunspots", "sunspots", "SUNACTIVITY", "REGRESSION", note="nonlinear in YEAR"),
    sm("co2", "co2", "co2", "REGRESSION", co2, "decimal year + month name; 59 no target"),
)

SEED_SETS: tuple[DataSet, ...] = tuple(
    DataSet(
        t.key, f"shared/data/{t.file}", t.target, t.model_type, seed=t, note=t.title.split(", ")[1]
    )
    for t in TARGETS.values()
)

DATA_SETS: dict[str, DataSet] = {d.key: d for d in (*STATSMODELS_SETS, *SEED_SETS)}


def write_frame(frame: pd.DataFrame, path: Path) -> str:
    """Write `frame` as a comma CSV; returns a note when it had to be subsampled."""
    note = ""
    if len(frame) > MAX_ROWS:
        note = f"subsampled from {len(frame):,} rows"
        frame = frame.sample(MAX_ROWS, random_state=0).sort_index()
    frame = frame.copy()
    for name in frame.columns:
        column = frame[name]
        whole = column.dropna()
        if pd.api.types.is_float_dtype(column) and len(whole) and (whole % 1 == 0).all():
            frame[name] = column.astype("Int64")
    frame.to_csv(path, index=False)
    return note


def write_data(dataset: DataSet, work: Path) -> tuple[Path, str]:
    """The data set's CSV inside `work` (and a note on what was done to it)."""
    if dataset.seed is None:
        assert dataset.build is not None
        path = work / f"{dataset.key}.csv"
        return path, write_frame(dataset.build(), path)
    source = DATA / dataset.seed.file
    if dataset.seed.rewrite is not None:
        return derive_csv(source, dataset.seed.target, dataset.seed.rewrite, work), ""
    return Path(shutil.copy(source, work / source.name)), ""


# ----------------------------------------------------------------------------- mlcore's CLI


class CommandFailed(Exception):
    """An mlcore command that exited non-zero or timed out; the message is its stderr tail."""


def run_mlcore(*args: str) -> tuple[dict[str, Any], str, float]:
    """(stdout JSON, stderr, wall seconds) of `python -m mlcore ARGS`."""
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "mlcore", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
    except subprocess.TimeoutExpired as err:
        raise CommandFailed(f"{args[0]} timed out after {COMMAND_TIMEOUT} s") from err
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise CommandFailed(f"{args[0]} exit {done.returncode}: {stderr_tail(done.stderr)}")
    return json.loads(done.stdout), done.stderr, seconds


def stderr_tail(stderr: str, lines: int = 3, limit: int = 400) -> str:
    tail = " / ".join(line.strip() for line in stderr.strip().splitlines()[-lines:])
    return tail if len(tail) <= limit else "..." + tail[-limit:]


def prepare_schema(data: Path, dataset: DataSet, out: Path, notes: list[str]) -> dict[str, Any]:
    """The inferred schema with the target set and typed for the model; written to `out`."""
    schema, _, _ = run_mlcore("infer-schema", str(data))
    if not schema["dataFileContainsHeader"]:
        # every CSV here has a header: answer the wizard's question as its user would
        notes.append("infer-schema found no header line; re-run with --header")
        schema, _, _ = run_mlcore("infer-schema", str(data), "--header")
    schema["targetAttributeName"] = dataset.target
    for attribute in schema["attributes"]:
        if attribute["attributeName"] == dataset.target:
            attribute["attributeType"] = TARGET_TYPES[dataset.model_type]
    out.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    return schema


@dataclass
class MlcoreRun:
    value: float
    train_records: int
    eval_records: int
    seconds: float
    log: list[str]


def train_and_evaluate(dataset: DataSet, data: Path, schema: Path, work: Path) -> MlcoreRun:
    train_split, eval_split = (json.dumps(s, separators=(",", ":")) for s in dataset.split)
    model = work / f"{dataset.key}.model"
    summary, stderr, seconds = run_mlcore(
        "train",
        str(data),
        "--schema",
        str(schema),
        "--model-type",
        dataset.model_type,
        "--rearrangement",
        train_split,
        "--out",
        str(model),
        *TRAIN_ARGS,
    )
    evaluation, _, _ = run_mlcore("evaluate", str(model), str(data), "--rearrangement", eval_split)
    key = METRIC_KEYS[dataset.model_type][1]
    log = [
        line.strip() for line in stderr.splitlines() if any(w in line.lower() for w in LOG_WORDS)
    ]
    return MlcoreRun(
        value=float(evaluation["PerformanceMetrics"]["Properties"][key]),
        train_records=int(summary["records"]),
        eval_records=int(evaluation["RecordCount"]),
        seconds=seconds,
        log=log,
    )


# ----------------------------------------------------------------------------- the reference


def split_rows(data: Path, schema_json: dict[str, Any], split: dict[str, Any]) -> np.ndarray:
    """0-based data-row indexes mlcore's reader keeps for `split` (the same rows train/evaluate see)."""
    from mlcore.io.csvreader import CsvFormat, sniff
    from mlcore.io.dataset import TypedReader
    from mlcore.io.locations import resolve_local
    from mlcore.io.rearrangement import parse_rearrangement
    from mlcore.schema import parse_schema

    files = resolve_local(data)
    schema = parse_schema(json.dumps(schema_json))
    fmt = CsvFormat(sniff(files).delimiter, schema.data_file_contains_header)
    reader = TypedReader(files, schema, fmt, rearrangement=parse_rearrangement(split))
    lines = np.concatenate([chunk.line_numbers for chunk in reader] or [np.zeros(0, np.int64)])
    # physical line numbers are 1-based; the header is line 1 (our CSVs have no quoted newlines)
    return lines.astype(np.int64) - (2 if schema.data_file_contains_header else 1)


def read_typed(data: Path, schema_json: dict[str, Any]) -> pd.DataFrame:
    """The CSV read by pandas, each column converted by its schema type (NaN / "" = missing)."""
    with data.open(encoding="utf-8") as handle:
        sample = handle.read(4096)
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    header = 0 if schema_json["dataFileContainsHeader"] else None
    raw = pd.read_csv(data, sep=delimiter, dtype=str, keep_default_na=False, header=header)
    raw.columns = [a["attributeName"] for a in schema_json["attributes"]]
    columns: dict[str, pd.Series] = {}
    for attribute in schema_json["attributes"]:
        name, kind = attribute["attributeName"], attribute["attributeType"]
        text = raw[name].str.strip()
        if kind == "NUMERIC":
            columns[name] = pd.to_numeric(text, errors="coerce")
        elif kind == "BINARY":
            columns[name] = text.str.lower().map(BINARY_WORDS).astype(float)
        else:
            columns[name] = text
    return pd.DataFrame(columns)


def feature_columns(schema_json: dict[str, Any], target: str) -> dict[str, list[str]]:
    excluded = set(schema_json.get("excludedAttributeNames") or []) | {target}
    excluded |= {schema_json.get("rowId"), schema_json.get("rowWeight")} - {None}
    groups: dict[str, list[str]] = {"numeric": [], "categorical": [], "text": []}
    for attribute in schema_json["attributes"]:
        name, kind = attribute["attributeName"], attribute["attributeType"]
        if name in excluded:
            continue
        group = {"NUMERIC": "numeric", "BINARY": "numeric", "CATEGORICAL": "categorical"}
        groups[group.get(kind, "text")].append(name)
    return groups


def preprocessor(groups: dict[str, list[str]], train: pd.DataFrame) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts: list[tuple[str, Any, Any]] = []
    if groups["numeric"]:
        numeric = make_pipeline(
            SimpleImputer(strategy="median", add_indicator=True), StandardScaler()
        )
        parts.append(("numeric", numeric, groups["numeric"]))
    if groups["categorical"]:
        parts.append(("categorical", OneHotEncoder(handle_unknown="ignore"), groups["categorical"]))
    for name in groups["text"]:
        # a column without a single word would make CountVectorizer fail: it adds nothing anyway
        if train[name].str.contains(r"\w", regex=True).any():
            words = CountVectorizer(binary=True, token_pattern=r"(?u)\b\w+\b")
            parts.append((f"text-{name}", words, name))
    return ColumnTransformer(parts)


def classifier(model_type: str, y_train: np.ndarray) -> Any:
    """LogisticRegressionCV with as many stratified folds (2-5) as the rarest class allows."""
    import inspect

    from sklearn.linear_model import LogisticRegression, LogisticRegressionCV
    from sklearn.model_selection import StratifiedKFold

    rarest = int(np.unique(y_train, return_counts=True)[1].min())
    if rarest < 2:
        return LogisticRegression(max_iter=5000)
    options: dict[str, Any] = {
        "Cs": 10,
        "cv": StratifiedKFold(min(5, rarest), shuffle=True, random_state=0),
        "scoring": "roc_auc" if model_type == "BINARY" else "neg_log_loss",
        "max_iter": 5000,
    }
    # scikit-learn 1.8 deprecates the implicit L2 / legacy attributes; older ones lack the keys
    parameters = inspect.signature(LogisticRegressionCV).parameters
    if "use_legacy_attributes" in parameters:
        options |= {"l1_ratios": (0.0,), "use_legacy_attributes": False}
    return LogisticRegressionCV(**options)


def metric(model_type: str, y_true: np.ndarray, scores: np.ndarray) -> float:
    """AUC of P(1), macro-F1 over the evaluation's own classes, or RMSE."""
    from sklearn.metrics import f1_score, roc_auc_score

    if model_type == "BINARY":
        return float(roc_auc_score(y_true, scores)) if len(np.unique(y_true)) == 2 else math.nan
    if model_type == "MULTICLASS":
        labels = np.unique(y_true)
        return float(f1_score(y_true, scores, labels=labels, average="macro", zero_division=0))
    return float(np.sqrt(np.mean((y_true - scores) ** 2)))


def baseline(model_type: str, y_train: np.ndarray, y_eval: np.ndarray) -> float:
    if model_type == "BINARY":
        return 0.5
    if model_type == "MULTICLASS":
        values, counts = np.unique(y_train, return_counts=True)
        return metric(model_type, y_eval, np.full(len(y_eval), values[counts.argmax()]))
    return metric(model_type, y_eval, np.full(len(y_eval), float(np.mean(y_train))))


@dataclass
class Reference:
    value: float
    baseline: float
    seconds: float
    train_records: int
    eval_records: int


def reference(dataset: DataSet, data: Path, schema_json: dict[str, Any]) -> Reference:
    """scikit-learn's CV model on the rows mlcore trains and evaluates on."""
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline

    frame = read_typed(data, schema_json)
    target = frame.pop(dataset.target)
    has_target = (target.notna() & (target != "")).to_numpy()
    train_rows, eval_rows = (split_rows(data, schema_json, s) for s in dataset.split)
    train_rows, eval_rows = train_rows[has_target[train_rows]], eval_rows[has_target[eval_rows]]
    y = target.to_numpy()  # typed by read_typed: BINARY 0/1 and NUMERIC as floats
    if dataset.model_type == "BINARY":
        y = np.nan_to_num(y.astype(float)).astype(int)  # rows without a target are left out
    x_train, x_eval = frame.iloc[train_rows], frame.iloc[eval_rows]
    y_train, y_eval = y[train_rows], y[eval_rows]
    if dataset.model_type == "REGRESSION":
        model: Any = RidgeCV(alphas=np.logspace(-4, 4, 17))
    else:
        model = classifier(dataset.model_type, y_train)
    pipeline = make_pipeline(
        preprocessor(feature_columns(schema_json, dataset.target), x_train), model
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        # convergence and rare-class notes on the tiny sets; the metric says what matters
        warnings.simplefilter("ignore")
        pipeline.fit(x_train, y_train)
        seconds = time.perf_counter() - started
        if dataset.model_type == "BINARY":
            scores = pipeline.predict_proba(x_eval)[:, 1]
        else:
            scores = pipeline.predict(x_eval)
    return Reference(
        value=metric(dataset.model_type, y_eval, scores),
        baseline=baseline(dataset.model_type, y_train, y_eval),
        seconds=seconds,
        train_records=len(train_rows),
        eval_records=len(eval_rows),
    )


# ----------------------------------------------------------------------------- one row


@dataclass
class Row:
    dataset: DataSet
    rows: int = 0
    ours: MlcoreRun | None = None
    ref: Reference | None = None
    error: str = ""
    ref_error: str = ""
    notes: list[str] = field(default_factory=list)


def run_one(dataset: DataSet, work: Path) -> Row:
    row = Row(dataset)
    work.mkdir()
    try:
        data, note = write_data(dataset, work)
        if note:
            row.notes.append(note)
        schema_path = work / "schema.json"
        schema_json = prepare_schema(data, dataset, schema_path, row.notes)
        row.rows = len(read_typed(data, schema_json))
    except Exception as err:  # one broken data set must not stop the others
        row.error = str(err) if isinstance(err, CommandFailed) else f"{type(err).__name__}: {err}"
        return row
    try:
        row.ref = reference(dataset, data, schema_json)
    except Exception as err:  # the reference failing must not hide mlcore's figure
        row.ref_error = f"{type(err).__name__}: {err}"
    try:
        row.ours = train_and_evaluate(dataset, data, schema_path, work)
    except CommandFailed as err:
        row.error = str(err)
    except (KeyError, TypeError, ValueError) as err:  # output not in the documented shape
        row.error = f"unexpected output: {type(err).__name__}: {err}"
    check_counts(row)
    return row


def check_counts(row: Row) -> None:
    if row.ours is None or row.ref is None:
        return
    ours = (row.ours.train_records, row.ours.eval_records)
    theirs = (row.ref.train_records, row.ref.eval_records)
    if ours != theirs:
        row.notes.append(
            f"rows differ: mlcore {ours[0]}/{ours[1]}, reference {theirs[0]}/{theirs[1]}"
        )


# ----------------------------------------------------------------------------- the table

TOLERANCE = {"BINARY": 0.01, "MULTICLASS": 0.02, "REGRESSION": 0.05}
HEADER = (
    "| data set | source | rows (train/eval) | type | metric | mlcore | scikit-learn CV | baseline "
    "| AML | gap | goal met | mlcore train (s) | sklearn fit (s) |"
)
ALIGN = "|---|---|---:|---|---|---:|---:|---:|---:|---:|---|---:|---:|"


def verdict(model_type: str, ours: float, ref: Reference) -> str:
    """'yes', or '**no**' with which half of the goal (the gap, the baseline) was missed."""
    if math.isnan(ours) or math.isnan(ref.value):
        return "–"
    if model_type == "REGRESSION":
        close = ours <= ref.value * (1 + TOLERANCE[model_type])
        beats_baseline = ours <= ref.baseline
    else:
        close = ours >= ref.value - TOLERANCE[model_type]
        beats_baseline = ours >= ref.baseline
    missed = [why for ok, why in ((close, "gap"), (beats_baseline, "baseline")) if not ok]
    return "yes" if not missed else f"**no** ({', '.join(missed)})"


def gap(model_type: str, ours: float, ref: float) -> str:
    if math.isnan(ours) or math.isnan(ref):
        return "–"
    if model_type == "REGRESSION":
        return f"{100 * (ours / ref - 1):+.1f} %" if ref else "–"
    return f"{ours - ref:+.4f}"


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def aml_cell(row: Row) -> str:
    target = row.dataset.seed
    if target is None or target.aml is None:
        return "–"
    if row.ours is None:
        return f"{target.aml:.3f}"
    return f"{target.aml:.3f} ({'met' if target.met(row.ours.value) else '**not met**'})"


def table_line(row: Row) -> str:
    dataset = row.dataset
    name = METRIC_KEYS[dataset.model_type][0]
    ref, ours = row.ref, row.ours
    counts = f"{row.rows:,}"
    if ours is not None:
        counts += f" ({ours.train_records:,}/{ours.eval_records:,})"
    ours_text = f"{ours.value:.4f}" if ours is not None else cell(f"error: {row.error}")
    ref_text = f"{ref.value:.4f}" if ref is not None else cell(f"error: {row.ref_error}"[:200])
    base = f"{ref.baseline:.4f}" if ref is not None else "–"
    both = ours is not None and ref is not None
    return (
        f"| {dataset.key} | {dataset.source} | {counts} | {dataset.model_type} | {name} "
        f"| {ours_text} | {ref_text} | {base} | {aml_cell(row)} "
        f"| {gap(dataset.model_type, ours.value, ref.value) if both else '–'} "
        f"| {verdict(dataset.model_type, ours.value, ref) if both else '**no**'} "
        f"| {f'{ours.seconds:.2f}' if ours else '–'} | {f'{ref.seconds:.2f}' if ref else '–'} |"
    )


def report(rows: list[Row], seconds: float) -> str:
    met = sum(
        1
        for r in rows
        if r.ours and r.ref and verdict(r.dataset.model_type, r.ours.value, r.ref) == "yes"
    )
    lines = [
        "## Robustness of the default path (python -m mlcore, no --parameters, no --recipe)",
        "",
        HEADER,
        ALIGN,
        *(table_line(row) for row in rows),
        "",
        f"Goal met on {met} of {len(rows)} data sets; {time.strftime('%Y-%m-%d')}, "
        f"{seconds:.0f} s in all. Gap: mlcore minus scikit-learn (RMSE: relative).",
    ]
    notes = [f"- {r.dataset.key}: {'; '.join(r.notes)}" for r in rows if r.notes]
    if notes:
        lines += ["", "Notes:", "", *notes]
    logs = [
        f"- {r.dataset.key}: {' | '.join(dict.fromkeys(r.ours.log))}"
        for r in rows
        if r.ours and r.ours.log
    ]
    if logs:
        lines += ["", "mlcore's training log on regularization:", "", *logs]
    return "\n".join(lines) + "\n"


def list_data_sets() -> str:
    lines = ["| data set | source | type | target | how |", "|---|---|---|---|---|"]
    for d in DATA_SETS.values():
        lines.append(f"| {d.key} | {d.source} | {d.model_type} | {d.target} | {d.note or '–'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", metavar="NAME[,NAME]", help="run these data sets only")
    parser.add_argument("--list", action="store_true", help="list the data sets and exit")
    parser.add_argument("--markdown", metavar="FILE", help="also write the report to FILE")
    parser.add_argument(
        "--train-args",
        default="",
        help="extra JSON list of arguments for every train, e.g. "
        """'["--parameters", "{\\"sgd.maxPasses\\": \\"50\\"}"]' (not the default path)""",
    )
    args = parser.parse_args(argv)
    TRAIN_ARGS[:] = json.loads(args.train_args) if args.train_args else []
    if args.list:
        print(list_data_sets())
        return 0
    keys = args.only.split(",") if args.only else list(DATA_SETS)
    unknown = [k for k in keys if k not in DATA_SETS]
    if unknown:
        parser.error(f"unknown data set(s): {', '.join(unknown)} (see --list)")
    started = time.perf_counter()
    rows = []
    with tempfile.TemporaryDirectory(prefix="aml-bench-robustness-") as work:
        for key in keys:
            row = run_one(DATA_SETS[key], Path(work) / key)
            rows.append(row)
            print(f"  {key}: {table_line(row)}", file=sys.stderr)
    text = report(rows, time.perf_counter() - started)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

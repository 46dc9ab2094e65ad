"""The model-quality targets: data, schema and AML's default path, shared by the benchmark and tests.

Every target follows the console's default path (reference sections 4-6):

* the schema the wizard infers (`sniff` + `infer_schema`), with the target set and, where the
  target needs it, its type overridden (`Target.target_type`);
* a sequential 70/30 split: `{"splitting": {"percentBegin": 0, "percentEnd": 70}}` to train and
  its complement to evaluate;
* the suggested recipe from the statistics of the 70 % training split;
* the console's default parameters, `TrainingParameters.from_aml({}, console=True)`.

The wine binary and three-class targets rewrite the `quality` column into a derived CSV in a
temporary directory (`derive_csv`), as a user would have prepared the file.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"

TRAIN_SPLIT: dict[str, Any] = {"splitting": {"percentBegin": 0, "percentEnd": 70}}
EVAL_SPLIT: dict[str, Any] = {
    "splitting": {"percentBegin": 0, "percentEnd": 70, "complement": "true"}
}


def wine_binary(quality: str) -> str:
    """quality >= 7 is a good wine."""
    return "1" if float(quality) >= 7 else "0"


def wine_three_classes(quality: str) -> str:
    """<= 4 low, 5-6 medium, >= 7 high."""
    value = float(quality)
    return "low" if value <= 4 else ("high" if value >= 7 else "medium")


@dataclass(frozen=True)
class Target:
    """One quality target: which data, which column, what model, what to beat."""

    key: str
    title: str
    file: str
    target: str
    model_type: str  # BINARY | REGRESSION | MULTICLASS
    metric: str  # AUC | RMSE | macro-F1
    aml: float | None  # AML's figure (None: no published figure)
    goal: float  # the figure to reach (>= for AUC/F1, < for RMSE)
    target_type: str | None = None  # override of the inferred target type
    rewrite: Callable[[str], str] | None = None  # target rewrite into a derived CSV
    note: str = ""

    @property
    def higher_is_better(self) -> bool:
        return self.metric != "RMSE"

    def met(self, value: float) -> bool:
        return value >= self.goal if self.higher_is_better else value < self.goal


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target(
            "banking",
            "banking.csv, BINARY on y",
            "banking.csv",
            "y",
            "BINARY",
            "AUC",
            0.936,
            0.936,
            note="`previous` as inferred (NUMERIC)",
        ),
        Target(
            "wine-regression",
            "winequality-red.csv, REGRESSION on quality",
            "winequality-red.csv",
            "quality",
            "REGRESSION",
            "RMSE",
            0.729,
            0.729,
            target_type="NUMERIC",
        ),
        Target(
            "wine-binary",
            "winequality-red.csv, BINARY on quality >= 7",
            "winequality-red.csv",
            "quality",
            "BINARY",
            "AUC",
            0.778,
            0.778,
            target_type="BINARY",
            rewrite=wine_binary,
        ),
        Target(
            "wine-multiclass",
            "winequality-red.csv, MULTICLASS on quality <=4 / 5-6 / >=7",
            "winequality-red.csv",
            "quality",
            "MULTICLASS",
            "macro-F1",
            0.421,
            0.421,
            target_type="CATEGORICAL",
            rewrite=wine_three_classes,
        ),
        Target(
            "mnist",
            "mnist-5k.csv, MULTICLASS on label",
            "mnist-5k.csv",
            "label",
            "MULTICLASS",
            "macro-F1",
            None,
            0.88,
            target_type="CATEGORICAL",
        ),
    )
}


def derive_csv(source: Path, column: str, rewrite: Callable[[str], str], out_dir: Path) -> Path:
    """A copy of `source` (same delimiter, header) with `column` rewritten; written as a comma CSV."""
    with source.open(newline="", encoding="utf-8") as handle:
        sample = handle.read(4096)
        handle.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        rows = list(csv.reader(handle, delimiter=delimiter))
    index = rows[0].index(column)
    out = out_dir / f"{source.stem}-{column}-{rewrite.__name__}.csv"
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(rows[0])
        for row in rows[1:]:
            if row:
                writer.writerow([*row[:index], rewrite(row[index]), *row[index + 1 :]])
    return out


@dataclass
class Prepared:
    """A target's datasource, ready for `train_model`."""

    target: Target
    path: Path
    files: Any
    schema: Any
    fmt: Any
    recipe: str
    statistics_seconds: float


def prepare(target: Target, work_dir: Path) -> Prepared:
    """The wizard's schema, the statistics of the training split and the suggested recipe."""
    from mlcore.io.csvreader import CsvFormat, sniff
    from mlcore.io.locations import resolve_local
    from mlcore.io.rearrangement import parse_rearrangement
    from mlcore.recipes import suggest_recipe
    from mlcore.schema import infer_schema
    from mlcore.schema.model import Attribute, AttributeType
    from mlcore.stats import compute_statistics

    path = DATA / target.file
    if target.rewrite is not None:
        path = derive_csv(path, target.target, target.rewrite, work_dir)
    files = resolve_local(path)
    sniffed = sniff(files)
    schema = infer_schema(sniffed.columns, sniffed.sample_rows, sniffed.has_header)
    if target.target_type is not None:
        schema.attributes = [
            Attribute(a.name, AttributeType(target.target_type)) if a.name == target.target else a
            for a in schema.attributes
        ]
    schema = replace(schema, target=target.target)
    fmt = CsvFormat(sniffed.delimiter, sniffed.has_header)
    started = time.perf_counter()
    statistics = compute_statistics(
        files, schema, fmt, rearrangement=parse_rearrangement(TRAIN_SPLIT)
    )
    seconds = time.perf_counter() - started
    recipe = suggest_recipe(schema, statistics)
    return Prepared(target, path, files, schema, fmt, recipe, seconds)


def train_and_evaluate(
    prepared: Prepared, parameters: dict[str, str] | None = None, **train_kwargs: Any
) -> dict[str, Any]:
    """Train on the 70 % split with the console's defaults and evaluate on the other 30 %."""
    from mlcore.evaluate import evaluate_model
    from mlcore.io.rearrangement import parse_rearrangement
    from mlcore.train.parameters import TrainingParameters
    from mlcore.train.pipeline import train_model

    started = time.perf_counter()
    model = train_model(
        prepared.files,
        prepared.schema,
        prepared.fmt,
        model_type=prepared.target.model_type,
        recipe_text=prepared.recipe,
        parameters=TrainingParameters.from_aml(parameters or {}, console=True),
        rearrangement=parse_rearrangement(TRAIN_SPLIT),
        **train_kwargs,
    )
    train_seconds = time.perf_counter() - started
    evaluation = evaluate_model(
        model,
        prepared.files,
        prepared.schema,
        prepared.fmt,
        rearrangement=parse_rearrangement(EVAL_SPLIT),
    )
    value = float(next(iter(evaluation["PerformanceMetrics"]["Properties"].values())))
    baseline_props = evaluation["Baseline"]["Properties"]
    baseline = float(next(iter(baseline_props.values()))) if baseline_props else None
    return {
        "value": value,
        "baseline": baseline,
        "train_seconds": train_seconds,
        "passes": model.passes,
        "n_features": model.fitted_recipe.n_features,
        "records": model.records_used,
        "model": model,
    }

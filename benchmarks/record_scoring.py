"""Benchmark `score_record` on one record at a time (issue 10): the frame path (a one-row
DataFrame through the fitted recipe's encoders, what `score_record` did before) against the
record path of `mlcore.predict.record`.

The model is a BINARY model trained on the first 70 % of banking.csv with the suggested recipe
(as `api_predict.py` makes it) and, for a recipe with every kind of transformation, the same
data with banking-recipe.json; the records are banking-batch.csv's. Each figure is the best of
`--repeats` timings of a pass over the records, in microseconds per record.

    .venv/bin/python benchmarks/record_scoring.py
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def banking_model(recipe_text: str | None) -> Any:
    from mlcore.io.csvreader import CsvFormat
    from mlcore.io.files import DataFile
    from mlcore.io.rearrangement import parse_rearrangement
    from mlcore.schema.jsonio import parse_schema
    from mlcore.train.pipeline import train_model

    data = (SHARED / "banking.csv").read_bytes()
    return train_model(
        [DataFile(name="banking.csv", size=len(data), opener=partial(io.BytesIO, data))],
        parse_schema((SHARED / "banking.csv.schema").read_text()),
        CsvFormat(",", True),
        model_type="BINARY",
        recipe_text=recipe_text,
        rearrangement=parse_rearrangement('{"splitting":{"percentBegin":0,"percentEnd":70}}'),
    )


def per_record(
    score: Callable[[dict[str, str]], Any], records: list[dict[str, str]], repeats: int
) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for record in records:
            score(record)
        best = min(best, time.perf_counter() - start)
    return best / len(records) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from mlcore.predict import scoring

    with (SHARED / "banking-batch.csv").open(newline="") as stream:
        records = [dict(row) for row in csv.DictReader(stream)][: args.records]
    print(f"load average {os.getloadavg()[0]:.2f}; {len(records)} banking-batch records")
    for name, recipe in (
        ("suggested recipe", None),
        ("banking-recipe.json", (SHARED / "banking-recipe.json").read_text()),
    ):
        model = banking_model(recipe)

        def frame_path(record: dict[str, str], model: Any = model) -> Any:
            return scoring.score_frame(model, scoring.record_frame(model, record))

        def record_path(record: dict[str, str], model: Any = model) -> Any:
            return scoring.score_record(model, record)

        scoring.score_record(model, records[0])  # compiles the recipe once
        old = per_record(frame_path, records[: max(len(records) // 10, 1)], args.repeats)
        new = per_record(record_path, records, args.repeats)
        outputs = len(model.fitted_recipe.outputs)
        print(
            f"{name} ({outputs} outputs, {model.n_features} features): frame path {old:,.0f} µs,"
            f" record path {new:,.1f} µs per score_record ({old / new:,.0f}x)"
        )


if __name__ == "__main__":
    main()

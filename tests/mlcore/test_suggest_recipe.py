"""suggest_recipe: AML-like suggestions that parse, and features good enough on banking."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mlcore.io.csvreader import CsvFormat
from mlcore.io.dataset import TypedReader
from mlcore.io.locations import resolve_local
from mlcore.recipes import fit_recipe, parse_recipe, suggest_recipe
from mlcore.schema import Attribute, AttributeType, Schema, parse_schema
from mlcore.stats import compute_statistics

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def mixed_schema() -> Schema:
    return Schema(
        [
            Attribute("age", AttributeType.NUMERIC),
            Attribute("kids", AttributeType.NUMERIC),
            Attribute("job", AttributeType.CATEGORICAL),
            Attribute("note", AttributeType.TEXT),
            Attribute("married", AttributeType.BINARY),
            Attribute("y", AttributeType.BINARY),
        ],
        target="y",
    )


def test_without_statistics_every_numeric_gets_50_bins() -> None:
    suggested = json.loads(suggest_recipe(mixed_schema()))
    assert suggested == {
        "groups": {"NUMERIC_VARS_QB_50": "group(age,kids)"},
        "assignments": {},
        "outputs": [
            "ALL_BINARY",
            "ALL_CATEGORICAL",
            "ALL_NUMERIC",
            "quantile_bin(NUMERIC_VARS_QB_50,50)",
            "lowercase(no_punct(ALL_TEXT))",
        ],
    }


def test_statistics_choose_fewer_bins_for_few_distinct_values_and_bigrams_for_text() -> None:
    statistics: dict[str, Any] = {
        "attributes": [
            {"name": "age", "type": "NUMERIC", "histogram": {"counts": [1] * 70 + [0] * 930}},
            {
                "name": "kids",
                "type": "NUMERIC",
                "histogram": {"counts": [5, 0, 0, 3, 1] + [0] * 995},
            },
            {"name": "note", "type": "TEXT", "totalWords": 120},
        ]
    }
    suggested = json.loads(suggest_recipe(mixed_schema(), statistics))
    assert suggested["groups"] == {
        "NUMERIC_VARS_QB_50": "group(age)",
        "NUMERIC_VARS_QB_3": "group(kids)",
    }
    assert "quantile_bin(NUMERIC_VARS_QB_3,3)" in suggested["outputs"]
    assert "ngram(lowercase(no_punct(ALL_TEXT)),2)" in suggested["outputs"]


def test_the_target_is_never_an_input_and_names_are_quoted_when_needed() -> None:
    schema = Schema(
        [Attribute("hours per week", AttributeType.NUMERIC), Attribute("y", AttributeType.NUMERIC)],
        target="y",
    )
    suggested = json.loads(suggest_recipe(schema))
    assert suggested["groups"] == {"NUMERIC_VARS_QB_50": "group('hours per week')"}
    recipe = parse_recipe(suggest_recipe(schema), schema)
    assert [o.label for o in recipe.outputs] == [
        "'hours per week'",
        "quantile_bin('hours per week',50)",
    ]


@pytest.mark.parametrize(
    "schema_file", ["adult-train.csv.schema", "banking.csv.schema", "mnist-train.csv.schema"]
)
def test_suggestions_for_the_real_schemas_parse(schema_file: str) -> None:
    schema = parse_schema((DATA / schema_file).read_text())
    assert parse_recipe(suggest_recipe(schema), schema).outputs


@pytest.fixture(scope="module")
def banking() -> tuple[Schema, dict[str, Any], pd.DataFrame]:
    schema = parse_schema((DATA / "banking.csv.schema").read_text())
    files = resolve_local(DATA / "banking.csv")
    statistics = compute_statistics(files, schema, CsvFormat(",", True))
    frame = pd.concat(
        [c.frame for c in TypedReader(files, schema, CsvFormat(",", True))], ignore_index=True
    )
    return schema, statistics, frame


def test_banking_suggestion_bins_each_numeric_by_its_distinct_values(
    banking: tuple[Schema, dict[str, Any], pd.DataFrame],
) -> None:
    schema, statistics, _ = banking
    groups = json.loads(suggest_recipe(schema, statistics))["groups"]
    assert groups["NUMERIC_VARS_QB_10"] == "group(emp_var_rate)"
    assert "duration" in groups["NUMERIC_VARS_QB_50"]


def test_banking_features_from_the_suggestion_reach_auc_093_with_logistic_regression(
    banking: tuple[Schema, dict[str, Any], pd.DataFrame],
) -> None:
    sparse = pytest.importorskip("scipy.sparse")
    linear_model = pytest.importorskip("sklearn.linear_model")
    metrics = pytest.importorskip("sklearn.metrics")
    schema, statistics, frame = banking
    recipe = parse_recipe(suggest_recipe(schema, statistics), schema)
    cut = int(len(frame) * 0.7)  # sequential 70/30, as AML's default evaluation split
    fitted = fit_recipe(recipe, schema, [frame.iloc[:cut]])
    batch = fitted.encode(frame, frame["y"].to_numpy())
    matrix = sparse.csr_matrix(
        (batch.values, batch.indices, batch.indptr), shape=(len(batch), batch.n_features)
    )
    model = linear_model.LogisticRegression(C=1.0, max_iter=3000).fit(matrix[:cut], batch.y[:cut])
    auc = metrics.roc_auc_score(batch.y[cut:], model.predict_proba(matrix[cut:])[:, 1])
    assert auc >= 0.93, auc
    assert np.isfinite(batch.values).all()

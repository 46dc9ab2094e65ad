"""compute_statistics on the real banking data, checked against independent csv-module figures."""

from __future__ import annotations

import csv
import math
import statistics
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mlcore.io.csvreader import CsvFormat, InvalidRecord
from mlcore.io.locations import resolve_local
from mlcore.io.rearrangement import parse_rearrangement
from mlcore.schema import Attribute, AttributeType, Schema, parse_schema
from mlcore.stats import compute_statistics, rebin

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "banking.csv"
SCHEMA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "banking.csv.schema"


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with DATA.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def reported() -> list[InvalidRecord]:
    return []


@pytest.fixture(scope="module")
def tutorial(reported: list[InvalidRecord]) -> dict[str, Any]:
    """The tutorial's schema, which types `previous` (counts 0..7) BINARY: a realistic mistake."""
    schema = parse_schema(SCHEMA.read_text())
    return compute_statistics(
        resolve_local(DATA), schema, CsvFormat(",", True), on_invalid=reported.append
    )


def wizard_schema() -> Schema:
    """The schema the wizard infers: the tutorial's, with `previous` NUMERIC."""
    schema = parse_schema(SCHEMA.read_text())
    schema.attributes = [
        Attribute(a.name, AttributeType.NUMERIC) if a.name == "previous" else a
        for a in schema.attributes
    ]
    return schema


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    return compute_statistics(resolve_local(DATA), wizard_schema(), CsvFormat(",", True))


def attribute(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(a for a in result["attributes"] if a["name"] == name)


def test_it_reads_all_41188_records(result: dict[str, Any], rows: list[dict[str, str]]) -> None:
    assert len(rows) == 41188
    assert result["recordsRead"] == result["recordCount"] == 41188
    assert result["invalidRecordCount"] == 0


def test_the_target_is_11_27_percent_true(
    result: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    ones = sum(row["y"] == "1" for row in rows)
    y = attribute(result, "y")
    assert y["trueCount"] == ones == 4640
    assert math.isclose(y["percentTrue"], 100 * ones / len(rows))
    assert round(y["percentTrue"], 2) == 11.27
    assert result["target"]["distribution"] == [
        {"value": "0", "count": len(rows) - ones},
        {"value": "1", "count": ones},
    ]


def test_age_figures_match_an_independent_computation(
    result: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    ages = [float(row["age"]) for row in rows]
    age = attribute(result, "age")
    assert (age["count"], age["missing"], age["invalid"]) == (len(ages), 0, 0)
    assert (age["min"], age["max"]) == (min(ages), max(ages))
    assert math.isclose(age["mean"], statistics.fmean(ages), rel_tol=1e-12)
    assert age["median"] == statistics.median(ages)
    assert math.isclose(age["stddev"], statistics.stdev(ages), rel_tol=1e-9)
    assert sum(age["histogram"]["counts"]) == len(ages)
    assert sum(rebin(age["histogram"], 50)["counts"]) == len(ages)


def test_job_lists_its_top_categories_with_their_counts(
    result: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    counts = Counter(row["job"] for row in rows)
    job = attribute(result, "job")
    assert job["mostFrequent"] == counts.most_common(1)[0][0] == "admin."
    assert job["uniqueCount"] == len(counts)
    assert job["top"] == [{"value": v, "count": c} for v, c in counts.most_common(10)]
    assert job["otherCount"] == sum(c for _, c in counts.most_common()[10:])
    assert job["leastFrequent"][0] == {"value": "unknown", "count": counts["unknown"]}


def test_a_binary_previous_makes_every_record_with_a_count_above_1_invalid(
    tutorial: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    not_binary = sum(row["previous"] not in ("0", "1") for row in rows)
    previous = attribute(tutorial, "previous")
    assert tutorial["invalidRecordCount"] == previous["invalid"] == not_binary == 1064
    assert tutorial["recordsRead"] == len(rows)
    assert tutorial["recordCount"] == previous["count"] == len(rows) - not_binary
    assert previous["trueCount"] == sum(row["previous"] == "1" for row in rows)
    kept_ones = sum(row["y"] == "1" for row in rows if row["previous"] in ("0", "1"))
    assert attribute(tutorial, "y")["trueCount"] == kept_ones


def test_the_invalid_records_are_reported_with_their_lines(
    tutorial: dict[str, Any], reported: list[InvalidRecord]
) -> None:
    assert len(reported) == tutorial["invalidRecordCount"]
    assert reported and all(r.column == "previous" for r in reported)
    with DATA.open(newline="", encoding="utf-8") as f:
        lines = f.read().splitlines()
    header = lines[0].split(",")
    first = reported[0]
    fields = lines[first.line - 1].split(",")
    assert fields[header.index("previous")] not in ("0", "1")


def test_duration_correlation_is_its_pearson_r_with_the_target(
    result: dict[str, Any], rows: list[dict[str, str]]
) -> None:
    duration = [float(row["duration"]) for row in rows]
    y = [float(row["y"]) for row in rows]
    expected = abs(statistics.correlation(duration, y))
    assert math.isclose(attribute(result, "duration")["correlation"], expected, rel_tol=1e-9)


def test_a_split_and_its_complement_add_up_to_the_whole() -> None:
    schema = wizard_schema()
    files = resolve_local(DATA)
    counts = []
    for complement in (False, True):
        rearrangement = parse_rearrangement(
            {"splitting": {"percentBegin": 0, "percentEnd": 70, "complement": complement}}
        )
        part = compute_statistics(files, schema, CsvFormat(), rearrangement=rearrangement)
        counts.append((part["recordCount"], attribute(part, "y")["trueCount"]))
    assert sum(c for c, _ in counts) == 41188
    assert sum(t for _, t in counts) == 4640
    assert abs(counts[0][0] - 0.7 * 41188) < 0.01 * 41188

"""GET /datasources/<id>/sample-rows/?attribute=: a categorical Preview's sample rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prediction_factories import banking_slice, data_source, run_all

from console import dependencies
from console.models import DataSource

pytestmark = pytest.mark.django_db


@pytest.fixture
def banking(owner: Any, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> DataSource:
    sent: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", sent.append)
    schema = (shared_data / "banking.csv.schema").read_text()
    ds = data_source(owner, banking_slice(shared_data, 200), schema, "Banking")
    run_all(sent)
    ds.refresh_from_db()
    return ds


def test_it_gives_the_first_records_values_beside_the_target(
    owner_client: Any, banking: DataSource, shared_data: Path
) -> None:
    answer = owner_client.get(f"/datasources/{banking.entity_id}/sample-rows/?attribute=job")

    assert answer.status_code == 200
    body = answer.json()
    header, *records = (shared_data / "banking.csv").read_text().splitlines()[:11]
    names = header.split(",")
    assert body["columns"] == ["job", "y"]
    assert [row["line"] for row in body["rows"]] == list(range(2, 12))
    expected = [[r.split(",")[names.index("job")], r.split(",")[names.index("y")]] for r in records]
    assert [row["values"] for row in body["rows"]] == expected


def test_it_refuses_an_attribute_the_datasource_does_not_have(
    owner_client: Any, banking: DataSource
) -> None:
    answer = owner_client.get(f"/datasources/{banking.entity_id}/sample-rows/?attribute=nope")

    assert answer.status_code == 400
    assert answer.json()["error"] == f"Datasource {banking.entity_id} has no attribute 'nope'."


def test_a_stranger_gets_404(stranger_client: Any, banking: DataSource) -> None:
    answer = stranger_client.get(f"/datasources/{banking.entity_id}/sample-rows/?attribute=job")

    assert answer.status_code == 404

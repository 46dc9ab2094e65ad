"""Regression tests for the defects the bad-input suites (tests/reliability/test_bad_input_*.py)
found in the console, one or more per fix:

- JSON nested 1,000 levels deep was an HTTP 500 (RecursionError) in the pasted and uploaded
  schema, the schema table's packed field, the recipe step and the recipe editor's live check,
  and inside the API's JSON-in-a-string members; an index of 1e400 in the packed field was an
  OverflowError; a number of 5,000 digits or bytes that are not UTF-8 in an API body were
  reported as "nested too deeply".
- A NUL character, which PostgreSQL refuses in text, reached the database from a name, an
  access key's description, an object id or an access key id in the address: a 500 there.
- Refusals the page did not show: a yes/no answer outside Yes and No, a batch prediction
  destination left out, an empty schema file; the SQL source's "not configured" and "choose a
  connection" checks ran before the source was known, so they never fired.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from postgres_text import postgres_like_text

from console import model_drafts, wizard_drafts
from console.api.keys import create_access_key
from console.models import AccessKey, DataSource, Status
from console.services.common import get_owned
from console.services.errors import ResourceNotFound

pytestmark = pytest.mark.django_db

CREATE = reverse("console:datasource-create")
DEEP = 100_000  # deeper than any recursion limit (Hypothesis raises it; production has 1,000)
COLUMNS = "id,age,plan,churn"
SCHEMA = {
    "version": "1.0",
    "dataFileContainsHeader": True,
    "targetAttributeName": "churn",
    "attributes": [
        {"attributeName": "id", "attributeType": "CATEGORICAL"},
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "plan", "attributeType": "CATEGORICAL"},
        {"attributeName": "churn", "attributeType": "BINARY"},
    ],
}


def nested(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def data_file(settings: Any) -> Path:
    path = Path(settings.AML_DATA_ROOTS[0]) / "churn.csv"
    rows = [f"c{i},{20 + i},{'abc'[i % 3]},{i % 2}" for i in range(40)]
    path.write_text("\n".join([COLUMNS, *rows]) + "\n")
    return path


def schema_step(client: Client, path: Path) -> str:
    response = client.post(CREATE, {"source": "path", "server_path": str(path)})
    token = re.search(r"/datasources/new/([^/]+)/schema/$", response["Location"])
    assert token
    return reverse("console:datasource-wizard-schema", args=[token.group(1)])


def draft_schema(client: Client, url: str) -> dict[str, Any]:
    token = url.rstrip("/").split("/")[-2]
    return client.session[wizard_drafts.SESSION_KEY][token]["schema"]


# --------------------------------------------------------------------------- deep JSON in the wizards


@pytest.mark.parametrize("how", ["pasted", "uploaded"])
def test_a_deep_schema_pasted_or_uploaded_is_refused_saying_where(
    owner_client: Client, data_file: Path, how: str
) -> None:
    url = schema_step(owner_client, data_file)
    before = draft_schema(owner_client, url)
    document = '{"attributes":\n ' + nested() + "}"
    if how == "pasted":
        posted: dict[str, Any] = {"action": "replace", "schema_text": document}
    else:
        posted = {
            "action": "replace",
            "schema_file": SimpleUploadedFile("x.schema", document.encode()),
        }
    response = owner_client.post(url, posted)
    assert response.status_code == 400
    assert (
        "The schema was not used: the schema is not valid JSON: nested more than 100 levels deep "
        "at line 2, column 101"
    ) in response.content.decode()
    assert draft_schema(owner_client, url) == before


@pytest.mark.parametrize(
    "packed", [nested(), '{"types": ' + nested() + "}", '{"types": [], "excluded": [1e400]}']
)
def test_a_packed_schema_table_that_is_deep_or_out_of_range_asks_again(
    owner_client: Client, data_file: Path, packed: str
) -> None:
    url = schema_step(owner_client, data_file)
    before = draft_schema(owner_client, url)
    response = owner_client.post(url, {"action": "save", "packed": packed})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()  # each type, next to it
    assert draft_schema(owner_client, url) == before


@pytest.fixture
def training(owner: Any, data_file: Path) -> DataSource:
    return DataSource.objects.create(
        owner=owner,
        entity_id="ds-churn",
        name="churn",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3=str(data_file),
        status=Status.COMPLETED,
        data_schema=SCHEMA,
    )


def test_a_deep_recipe_is_refused_by_the_recipe_step_and_the_live_check(
    owner_client: Client, training: DataSource
) -> None:
    response = owner_client.post(
        reverse("console:mlmodel-create"), {"source": "existing", "data_source": "ds-churn"}
    )
    token = response["Location"].split("/")[-3]
    owner_client.post(
        reverse("console:mlmodel-wizard-settings", args=[token]),
        {"mode": "custom", "ml_model_name": "m"},
    )
    before = owner_client.session[model_drafts.SESSION_KEY][token]
    recipe = '{"groups": ' + nested() + "}"

    step = owner_client.post(
        reverse("console:mlmodel-wizard-recipe", args=[token]), {"recipe": recipe}
    )
    check = owner_client.post(
        reverse("console:mlmodel-recipe-validate"), {"draft": token, "recipe": recipe}
    )

    assert step.status_code == 400
    assert "nested more than 100 levels deep (line 1, column 111)" in step.content.decode()
    assert owner_client.session[model_drafts.SESSION_KEY][token] == before
    assert check.status_code == 200
    answer = check.json()
    assert answer["ok"] is False and answer["position"] == 110
    assert "nested more than 100 levels deep" in answer["message"]


# --------------------------------------------------------------------------- the API


def _aml(owner: Any) -> Any:
    from api_client import ml_client

    key, secret = create_access_key(owner)
    return ml_client(key.access_key_id, secret)


def test_deep_json_in_a_string_member_is_invalid_input_naming_the_member(
    owner: Any, data_file: Path, settings: Any
) -> None:
    settings.AML_DATA_S3_ENDPOINT_URL = "http://127.0.0.1:9"
    aml = _aml(owner)
    deep = '{"a": ' + nested(5000) + "}"  # a member holds at most 131,071 characters
    calls = [
        (
            aml.create_data_source_from_s3,
            {
                "DataSourceId": "ds1",
                "DataSpec": {"DataLocationS3": "s3://b/k.csv", "DataSchema": deep},
            },
            "DataSchema is not valid: the schema is not valid JSON: nested more than 100 levels",
        ),
        (
            aml.create_data_source_from_s3,
            {
                "DataSourceId": "ds2",
                "DataSpec": {"DataLocationS3": "s3://b/k.csv", "DataRearrangement": deep},
            },
            "DataRearrangement is not valid: the data rearrangement is not valid JSON: nested",
        ),
    ]
    for call, params, message in calls:
        with pytest.raises(aml.exceptions.InvalidInputException) as caught:
            call(**params)
        assert message in caught.value.response["Error"]["Message"]


def test_a_deep_recipe_given_to_create_ml_model_is_invalid_input(
    owner: Any, training: DataSource
) -> None:
    aml = _aml(owner)
    with pytest.raises(aml.exceptions.InvalidInputException) as caught:
        aml.create_ml_model(
            MLModelId="ml1",
            MLModelType="BINARY",
            TrainingDataSourceId="ds-churn",
            Recipe='{"groups": ' + nested(5000) + "}",
        )
    assert "nested more than 100 levels deep" in caught.value.response["Error"]["Message"]


def test_a_deep_schema_in_a_sql_source_is_refused_not_a_crash(
    owner: Any, settings: Any, tmp_path: Path
) -> None:
    import sqlite3

    from console.services.errors import InvalidInput
    from console.services.sql_sources import create_data_source_from_rds

    database = tmp_path / "warehouse.db"
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        db.executemany("INSERT INTO t VALUES (?, ?)", [(i, "xy"[i % 2]) for i in range(20)])
    settings.AML_SQL_CONNECTIONS = {"warehouse": f"sqlite:///{database}"}
    spec = {
        "DatabaseInformation": {"InstanceIdentifier": "warehouse", "DatabaseName": "main"},
        "SelectSqlQuery": "SELECT a, b FROM t",
        "DatabaseCredentials": {"Username": "u", "Password": "p"},
        "DataSchema": '{"a": ' + nested(5000) + "}",
    }
    with pytest.raises(InvalidInput, match="nested more than 100 levels deep"):
        create_data_source_from_rds(owner, data_source_id="x", rds_data=spec, role_arn="")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'{"DataSourceId": "\xff"}',
            "The request body is not UTF-8 text (a bad byte at offset 18).",
        ),
        (
            b'{"DataSourceId": ' + b"9" * 5000 + b"}",
            "not valid JSON at line 1, column 18: a number has 5,000 digits",
        ),
    ],
)
def test_an_api_body_says_what_is_wrong_with_it(owner: Any, body: bytes, message: str) -> None:
    from test_api_operations import _signed

    key, secret = create_access_key(owner)
    response = _signed(key.access_key_id, secret, "GetDataSource", body)
    answer = json.loads(response.content)
    assert response.status_code == 400
    assert answer["__type"] == "SerializationException"
    assert message in answer["message"]


# --------------------------------------------------------------------------- NUL characters


def test_a_name_with_a_nul_character_is_refused_not_stored(
    owner_client: Client, training: DataSource
) -> None:
    with postgres_like_text():
        response = owner_client.post(
            reverse("console:datasource-rename", args=["ds-churn"]), {"name": "a\x00b"}
        )
    assert response.status_code == 302
    training.refresh_from_db()
    assert training.name == "churn"
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == ["A name cannot contain the NUL character (\\x00)."]


def test_an_access_key_description_with_a_nul_character_is_refused(
    owner_client: Client,
) -> None:
    with postgres_like_text():
        response = owner_client.post(reverse("console:access-key-create"), {"description": "a\x00"})
    assert response.status_code == 400
    assert "A description cannot contain the NUL character" in response.content.decode()
    assert not AccessKey.objects.exists()


def test_ids_no_object_can_have_are_not_found_without_asking_the_database(
    owner: Any, owner_client: Client, training: DataSource
) -> None:
    with postgres_like_text():
        for entity_id in ("ds-\x00", "ds-churn\n", "x" * 65):
            with pytest.raises(ResourceNotFound):
                get_owned(DataSource, owner, entity_id)
        revoke = owner_client.post(reverse("console:access-key-revoke", args=["AKIA\x00"]))
        page = owner_client.get(reverse("console:datasource-detail", args=["ds-\x00"]))
    assert (revoke.status_code, page.status_code) == (404, 404)
    assert get_owned(DataSource, owner, "ds-churn") == training


# --------------------------------------------------------------------------- refusals shown


def test_a_yes_no_answer_outside_yes_and_no_is_refused_next_to_its_question(
    owner_client: Client, data_file: Path
) -> None:
    url = schema_step(owner_client, data_file)
    types = {f"type-{i}": a["attributeType"] for i, a in enumerate(SCHEMA["attributes"])}
    owner_client.post(url, {"action": "save", **types})
    target = url.replace("/schema/", "/target/")
    response = owner_client.post(target, {"uses_target": "maybe", "target": "churn"})
    assert response.status_code == 400
    assert "Select a valid choice. maybe is not one of the available choices." in (
        response.content.decode()
    )


def test_an_empty_schema_file_is_refused_visibly(owner_client: Client, data_file: Path) -> None:
    url = schema_step(owner_client, data_file)
    empty = SimpleUploadedFile("empty.schema", b"")
    response = owner_client.post(url, {"action": "replace", "schema_file": empty})
    assert response.status_code == 400
    assert "The submitted file is empty." in response.content.decode()


def test_sql_source_checks_run_once_the_source_is_known(
    owner_client: Client, settings: Any
) -> None:
    posted = {"source": "sql", "sql_connection": "elsewhere", "sql_query": "SELECT 1"}

    settings.AML_SQL_CONNECTIONS = {}
    unconfigured = owner_client.post(CREATE, posted)
    settings.AML_SQL_CONNECTIONS = {"warehouse": "sqlite:////nonexistent.db"}
    unchosen = owner_client.post(CREATE, {**posted, "sql_connection": ""})

    assert unconfigured.status_code == 400
    assert unconfigured.context["form"].errors == {
        "sql_query": ["No database connection is configured: set AML_SQL_CONNECTIONS."]
    }
    assert "No database connection is configured: set AML_SQL_CONNECTIONS." in (
        unconfigured.content.decode()
    )
    assert unchosen.status_code == 400
    assert unchosen.context["form"].errors["sql_connection"] == ["Choose a database connection."]


def test_a_batch_prediction_destination_left_out_is_refused_visibly(
    owner: Any, owner_client: Client
) -> None:
    from evaluation_factories import completed_evaluation

    ev = completed_evaluation(owner, "BINARY", 1)
    start = owner_client.post(
        reverse("console:batchprediction-create"), {"ml_model": ev.ml_model.entity_id}
    )
    token = start["Location"].rstrip("/").split("/")[-2]
    data = reverse("console:batchprediction-wizard", args=[token, "data"])
    assert (
        owner_client.post(data, {"data_source": ev.evaluation_data_source.entity_id}).status_code
        == 302
    )

    response = owner_client.post(
        reverse("console:batchprediction-wizard", args=[token, "results"]), {"name": "b"}
    )

    assert response.status_code == 400
    assert response.context["form"].errors == {"destination": ["This field is required."]}
    assert "This field is required." in response.content.decode()


def test_the_comparison_shows_a_recipe_too_deep_to_load_as_its_text() -> None:
    from console.evaluation_reports.compare import _recipe_text

    text = nested(5000)
    assert _recipe_text(text) == [text]

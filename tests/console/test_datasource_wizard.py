"""The "Create datasource" wizard: Input → Schema → Target → Row ID → Review → a PENDING datasource."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from console.datafiles import upload_key_for
from console.models import DataSource, Status
from console.wizard_drafts import SESSION_KEY

pytestmark = pytest.mark.django_db

CREATE = reverse("console:datasource-create")
VERIFY = reverse("console:datasource-verify")
UPLOAD = reverse("console:datasource-upload")
BANKING_COLUMNS = 21


@pytest.fixture(autouse=True)
def _no_worker(settings: Any) -> None:
    # The datasource must stay PENDING: nothing runs its statistics in these tests.
    settings.CELERY_TASK_ALWAYS_EAGER = False


@pytest.fixture
def banking(shared_data: Path) -> Path:
    return shared_data / "banking.csv"


@pytest.fixture
def datasets(settings: Any) -> Path:
    return Path(settings.AML_DATA_ROOTS[0])


def step_url(name: str, token: str) -> str:
    return reverse(f"console:datasource-wizard-{name}", kwargs={"draft": token})


def token_of(response: Any) -> str:
    match = re.search(r"/datasources/new/([^/]+)/schema/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def start_with_path(client: Client, path: Path | str, name: str = "") -> str:
    response = client.post(CREATE, {"source": "path", "server_path": str(path), "name": name})
    assert response.status_code == 302, response.content.decode()[:2000]
    return token_of(response)


def start_with_upload(client: Client, path: Path) -> str:
    with path.open("rb") as handle:
        uploaded = client.post(UPLOAD, {"file": handle}).json()
    response = client.post(
        CREATE,
        {
            "source": "upload",
            "upload_location": uploaded["location"],
            "upload_filename": uploaded["filename"],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return token_of(response)


def draft_schema(client: Client, token: str) -> dict[str, Any]:
    return client.session[SESSION_KEY][token]["schema"]


def table_post(schema: dict[str, Any], **changes: Any) -> dict[str, str]:
    """The schema table as the browser posts it, with `type-N`/`exclude-N` overrides."""
    data = {"action": "save"}
    for index, attribute in enumerate(schema["attributes"]):
        data[f"type-{index}"] = attribute["attributeType"]
    for key, value in changes.items():
        data[key.replace("_", "-")] = value
    return data


def confirm_schema(client: Client, token: str, **changes: Any) -> None:
    response = client.post(
        step_url("schema", token), table_post(draft_schema(client, token), **changes)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == step_url("target", token)


def walk_to_review(
    client: Client, token: str, *, target: str = "y", row_id: str = "", **types: str
) -> None:
    confirm_schema(client, token, **types)
    response = client.post(step_url("target", token), {"uses_target": "yes", "target": target})
    assert response["Location"] == step_url("row-id", token)
    answer = {"has_row_id": "yes", "row_id": row_id} if row_id else {"has_row_id": "no"}
    response = client.post(step_url("row-id", token), answer)
    assert response["Location"] == step_url("review", token)


# --------------------------------------------------------------------------- the happy paths


def test_it_walks_every_step_with_a_server_path_and_creates_a_pending_datasource(
    owner_client: Client, owner: Any, banking: Path
) -> None:
    page = owner_client.get(CREATE)
    assert page.status_code == 200
    assert str(banking.parent.resolve()) in page.content.decode()  # the allowed folders are listed

    token = start_with_path(owner_client, banking)
    schema_page = owner_client.get(step_url("schema", token)).content.decode()
    assert "Does the first line in your CSV contain the column names?" in schema_page
    assert 'name="type-20"' in schema_page and "euribor3m" in schema_page
    assert "services, entrepreneur" in schema_page  # sample values of `job`

    confirm_schema(owner_client, token)
    target_page = owner_client.get(step_url("target", token)).content.decode()
    assert re.search(r'value="y"[^>]*checked', target_page)  # suggest_target preselected
    assert "Binary classification" in target_page

    response = owner_client.post(step_url("target", token), {"uses_target": "yes", "target": "y"})
    assert response["Location"] == step_url("row-id", token)
    row_page = owner_client.get(step_url("row-id", token)).content.decode()
    assert re.search(r'value="no"[^>]*checked', row_page)  # AML's default answer is No

    response = owner_client.post(step_url("row-id", token), {"has_row_id": "no"})
    review = owner_client.get(response["Location"]).content.decode()
    for shown in (
        "banking.csv",
        "4.7\xa0MB",
        "Comma (,)",
        "Column names (header)",
        "Numeric: 10",
        "Categorical: 10",
        "Binary: 1",
    ):
        assert shown in review, shown
    assert "Binary classification" in review

    response = owner_client.post(step_url("review", token))
    ds = DataSource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:datasource-detail", args=[ds.entity_id])
    assert (ds.owner, ds.status, ds.name) == (owner, Status.PENDING, "banking.csv")
    assert (ds.source_kind, ds.data_location_s3) == ("path", str(banking))
    assert ds.data_schema["targetAttributeName"] == "y"
    assert ds.data_schema["dataFileContainsHeader"] is True
    assert len(ds.data_schema["attributes"]) == BANKING_COLUMNS
    assert ds.compute_statistics and ds.csv_delimiter == ","
    assert token not in owner_client.session[SESSION_KEY]  # the draft is gone once used


def test_it_walks_every_step_with_an_uploaded_file(
    owner_client: Client, owner: Any, banking: Path
) -> None:
    token = start_with_upload(owner_client, banking)
    walk_to_review(owner_client, token)
    owner_client.post(step_url("review", token))

    ds = DataSource.objects.get()
    assert (ds.owner, ds.status, ds.source_kind) == (owner, Status.PENDING, "upload")
    assert ds.name == ds.original_filename == "banking.csv"
    assert ds.data_location_s3.startswith(f"uploads/{owner.pk}/")
    assert default_storage.size(ds.data_location_s3) == banking.stat().st_size
    assert ds.data_schema["targetAttributeName"] == "y"


def test_the_datasource_name_defaults_to_the_file_name_and_can_be_chosen(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking, name="Bank marketing")
    assert owner_client.session[SESSION_KEY][token]["name"] == "Bank marketing"
    token = start_with_path(owner_client, banking)
    assert owner_client.session[SESSION_KEY][token]["name"] == "banking.csv"


def test_verify_reports_the_files_sizes_and_delimiter(
    owner_client: Client, shared_data: Path
) -> None:
    path = shared_data / "winequality-red.csv"
    response = owner_client.post(VERIFY, {"source": "path", "server_path": str(path)})
    html = response.content.decode()
    assert "The validation is successful" in html
    assert "winequality-red.csv" in html and "82.2\xa0KB" in html
    assert "Semicolon (;)" in html and "not a comma" in html


def test_verify_reads_an_s3_location(owner_client: Client, banking: Path) -> None:
    from moto import mock_aws

    with mock_aws():
        import boto3

        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="aml-data")
        s3.put_object(Bucket="aml-data", Key="bank/banking.csv", Body=banking.read_bytes()[:20000])
        found = owner_client.post(VERIFY, {"source": "s3", "s3_location": "aml-data/bank/"})
        missing = owner_client.post(
            VERIFY, {"source": "s3", "s3_location": "s3://aml-data/nope.csv"}
        )
    assert "The validation is successful" in found.content.decode()
    assert "bank/banking.csv" in found.content.decode()
    assert "The validation failed" in missing.content.decode()
    assert "s3://aml-data/nope.csv" in missing.content.decode()


def test_verify_says_what_a_bucket_name_may_contain(owner_client: Client) -> None:
    from moto import mock_aws

    with mock_aws():
        response = owner_client.post(
            VERIFY, {"source": "s3", "s3_location": "s3://My_Bucket!/data.csv"}
        )

    html = response.content.decode()
    assert "The validation failed" in html
    assert "is not a valid bucket name: a bucket name has 3 to 63 characters" in html
    assert "regex" not in html


def test_copy_settings_prefills_the_input_step(owner_client: Client, banking: Path) -> None:
    query = f"?location={banking}&name=Copy+of+bank"
    html = owner_client.get(CREATE + query).content.decode()
    assert f'value="{banking}"' in html and 'value="Copy of bank"' in html
    assert re.search(r'value="path"[^>]*checked', html)


# --------------------------------------------------------------------------- refused locations


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "outside the allowed data directories"),
        ("{shared}/../../../etc/passwd", "may not contain &#x27;..&#x27;"),
        ("shared/data/banking.csv", "Enter an absolute path"),
        ("{shared}/no-such-file.csv", "no such file or directory"),
    ],
)
def test_a_path_outside_the_allowed_folders_is_refused_with_a_clear_message(
    owner_client: Client, shared_data: Path, path: str, message: str
) -> None:
    # The shared data folder is an allowed root wherever the checkout lives (CI puts it elsewhere).
    path = path.format(shared=shared_data)
    response = owner_client.post(CREATE, {"source": "path", "server_path": path})
    assert response.status_code == 400
    assert message in response.content.decode()
    verify = owner_client.post(VERIFY, {"source": "path", "server_path": path})
    assert "The validation failed" in verify.content.decode()
    assert message in verify.content.decode()
    assert not owner_client.session.get(SESSION_KEY)


def test_a_file_url_inside_the_allowed_folders_is_accepted_as_the_service_accepts_it(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, f"file://{banking}")

    draft = owner_client.session[SESSION_KEY][token]
    assert draft["location"] == str(banking)  # the same path the service stores


def test_a_file_url_outside_the_allowed_folders_is_refused_with_the_services_message(
    owner_client: Client, owner: Any
) -> None:
    from console.services.datasources import create_data_source_from_s3
    from console.services.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        create_data_source_from_s3(owner, data_spec={"DataLocationS3": "file:///etc/passwd"})
    response = owner_client.post(CREATE, {"source": "path", "server_path": "file:///etc/passwd"})

    assert response.status_code == 400
    assert refused.value.message in response.content.decode()


def test_verify_fails_on_a_file_that_is_not_a_table_with_one_reason(
    owner_client: Client, shared_data: Path
) -> None:
    names = shared_data / "winequality.names"
    verify = owner_client.post(VERIFY, {"source": "path", "server_path": str(names)})

    html = verify.content.decode()
    assert "The validation failed" in html
    assert "is not a table" in html
    assert "delimiter" not in html.lower().replace("csv data", "")
    assert "single column" not in html


def test_verify_of_a_one_column_file_names_no_delimiter(
    owner_client: Client, datasets: Path
) -> None:
    (datasets / "amounts.csv").write_text("amount\n1\n2\n3\n")

    html = owner_client.post(
        VERIFY, {"source": "path", "server_path": str(datasets / "amounts.csv")}
    ).content.decode()

    assert "The validation is successful" in html
    assert "delimiter: none (a single column)" in html and "Comma" not in html


def test_a_symlink_leading_out_of_the_allowed_folders_is_refused(
    owner_client: Client, datasets: Path
) -> None:
    (datasets / "escape.csv").symlink_to("/etc/passwd")
    response = owner_client.post(
        CREATE, {"source": "path", "server_path": str(datasets / "escape.csv")}
    )
    assert "outside the allowed data directories" in response.content.decode()


def test_someone_elses_upload_is_refused(owner_client: Client, stranger: Any) -> None:
    key = default_storage.save(
        upload_key_for(stranger.pk, "tok", "theirs.csv"), ContentFile(b"a,b\n1,2\n")
    )
    response = owner_client.post(
        CREATE,
        {"source": "upload", "upload_location": f"upload://{key}", "upload_filename": "x.csv"},
    )
    assert response.status_code == 400
    assert "That upload is not available" in response.content.decode()


# --------------------------------------------------------------------------- the schema step


def test_changed_types_and_exclusions_persist_into_the_created_datasource(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    inferred = draft_schema(owner_client, token)
    assert inferred["attributes"][12] == {"attributeName": "pdays", "attributeType": "NUMERIC"}
    confirm_schema(owner_client, token, type_12="CATEGORICAL", exclude_10="on", exclude_11="on")
    owner_client.post(step_url("target", token), {"uses_target": "yes", "target": "y"})
    owner_client.post(step_url("row-id", token), {"has_row_id": "no"})
    owner_client.post(step_url("review", token))

    schema = DataSource.objects.get().data_schema
    assert schema["attributes"][12] == {"attributeName": "pdays", "attributeType": "CATEGORICAL"}
    assert schema["excludedAttributeNames"] == ["duration", "campaign"]


def test_the_table_of_a_wide_file_may_arrive_packed_in_one_field(
    owner_client: Client, shared_data: Path
) -> None:
    token = start_with_path(owner_client, shared_data / "mnist-5k.csv")
    schema = draft_schema(owner_client, token)
    assert len(schema["attributes"]) == 785
    types = [a["attributeType"] for a in schema["attributes"]]
    types[1] = "CATEGORICAL"
    packed = json.dumps({"types": types, "excluded": [2, 3]})
    response = owner_client.post(step_url("schema", token), {"action": "save", "packed": packed})
    assert response["Location"] == step_url("target", token)
    saved = draft_schema(owner_client, token)
    assert saved["attributes"][1]["attributeType"] == "CATEGORICAL"
    assert saved["excludedAttributeNames"] == [
        schema["attributes"][2]["attributeName"],
        schema["attributes"][3]["attributeName"],
    ]


def test_excluding_every_attribute_is_refused(owner_client: Client, banking: Path) -> None:
    token = start_with_path(owner_client, banking)
    excludes = {f"exclude_{i}": "on" for i in range(BANKING_COLUMNS)}
    response = owner_client.post(
        step_url("schema", token), table_post(draft_schema(owner_client, token), **excludes)
    )
    assert response.status_code == 400
    assert "keep at least one" in response.content.decode()


def test_answering_no_header_names_the_columns_var_and_keeps_the_first_line_as_data(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    response = owner_client.post(
        step_url("schema", token), {"action": "header", "has_header": "no"}
    )
    assert response["Location"] == step_url("schema", token)
    schema = draft_schema(owner_client, token)
    assert schema["dataFileContainsHeader"] is False
    assert [a["attributeName"] for a in schema["attributes"][:2]] == ["Var01", "Var02"]
    page = owner_client.get(step_url("schema", token)).content.decode()
    assert "age, 34, 59" in page  # the header line is now shown as a record

    owner_client.post(step_url("schema", token), {"action": "header", "has_header": "yes"})
    assert draft_schema(owner_client, token)["attributes"][0]["attributeName"] == "age"


def test_the_schema_json_can_be_viewed_and_downloaded(owner_client: Client, banking: Path) -> None:
    token = start_with_path(owner_client, banking)
    response = owner_client.get(step_url("schema-json", token))
    assert response["Content-Disposition"] == 'attachment; filename="banking.csv.schema"'
    downloaded = json.loads(response.content)
    assert downloaded["attributes"][0] == {"attributeName": "age", "attributeType": "NUMERIC"}
    assert (
        "&quot;attributeName&quot;: &quot;age&quot;"
        in owner_client.get(step_url("schema", token)).content.decode()
    )


def test_an_uploaded_schema_file_replaces_the_inferred_one(
    owner_client: Client, banking: Path, shared_data: Path
) -> None:
    token = start_with_path(owner_client, banking)
    with (shared_data / "banking.csv.schema").open("rb") as schema_file:
        response = owner_client.post(
            step_url("schema", token), {"action": "replace", "schema_file": schema_file}
        )
    assert response["Location"] == step_url("schema", token)
    schema = draft_schema(owner_client, token)
    assert schema["attributes"][13] == {"attributeName": "previous", "attributeType": "BINARY"}
    assert schema["targetAttributeName"] == "y"


def test_a_schema_saying_header_fits_a_headerless_file_by_position_and_keeps_line_one_as_data(
    owner_client: Client, shared_data: Path
) -> None:
    # adult.data has no header line, adult-train.csv.schema says "dataFileContainsHeader": true.
    token = start_with_path(owner_client, shared_data / "adult.data")
    assert draft_schema(owner_client, token)["attributes"][0]["attributeName"] == "Var01"
    with (shared_data / "adult-train.csv.schema").open("rb") as schema_file:
        response = owner_client.post(
            step_url("schema", token),
            {"action": "replace", "schema_file": schema_file},
            follow=True,
        )
    schema = draft_schema(owner_client, token)
    assert schema["dataFileContainsHeader"] is False
    assert [a["attributeName"] for a in schema["attributes"][:2]] == ["age", "workclass"]
    assert schema["targetAttributeName"] == "income-greater-50k"
    html = response.content.decode()
    assert "the first line holds the column names, but here it is a record (39, State-gov" in html
    assert "39, 50, 38" in html  # the first record is still shown among the samples


def adult_with_its_schema(client: Client, shared_data: Path) -> str:
    token = start_with_path(client, shared_data / "adult.data")
    with (shared_data / "adult-train.csv.schema").open("rb") as schema_file:
        client.post(step_url("schema", token), {"action": "replace", "schema_file": schema_file})
    return token


BINARY_MISFIT = (
    "20 of 20 sampled values would be invalid as Binary, e.g. &quot;&lt;=50K&quot;, "
    "&quot;&gt;50K&quot;. Binary values are 1/0, yes/no, true/false, y/n or t/f"
)


def test_the_schema_step_warns_when_sampled_values_do_not_fit_the_chosen_type(
    owner_client: Client, shared_data: Path
) -> None:
    token = adult_with_its_schema(owner_client, shared_data)

    html = owner_client.get(step_url("schema", token)).content.decode()

    assert BINARY_MISFIT in html
    summary = re.search(r'id="type-warnings"[^>]*>(.*?)</p>', html, re.S)
    assert summary and "income-greater-50k" in summary.group(1)
    assert "hidden" not in re.search(r'<p class="type-warning" id="type-warnings"[^>]*>', html)[0]


def test_the_review_step_lists_every_attribute_whose_sampled_values_do_not_fit(
    owner_client: Client, shared_data: Path
) -> None:
    token = adult_with_its_schema(owner_client, shared_data)
    schema = draft_schema(owner_client, token)
    workclass = [a["attributeName"] for a in schema["attributes"]].index("workclass")
    walk_to_review(
        owner_client, token, target="income-greater-50k", **{f"type-{workclass}": "NUMERIC"}
    )

    html = owner_client.get(step_url("review", token)).content.decode()

    warnings = re.search(r'<section class="card type-warnings".*?</section>', html, re.S)
    assert warnings, html[:3000]
    assert "<strong>income-greater-50k</strong> (Binary): " + BINARY_MISFIT in warnings[0]
    assert (
        "<strong>workclass</strong> (Numeric): 20 of 20 sampled values would be invalid"
        in warnings[0]
    )
    assert "&quot;State-gov&quot;" in warnings[0]


def test_the_review_step_has_no_type_warning_when_every_sampled_value_fits(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    walk_to_review(owner_client, token)

    assert 'id="type-warnings"' not in owner_client.get(step_url("review", token)).content.decode()


def test_the_suggested_target_follows_an_uploaded_schema(
    owner_client: Client, shared_data: Path
) -> None:
    token = start_with_path(owner_client, shared_data / "adult.data")
    with (shared_data / "adult-train.csv.schema").open("rb") as schema_file:
        owner_client.post(
            step_url("schema", token), {"action": "replace", "schema_file": schema_file}
        )
    confirm_schema(owner_client, token)

    html = owner_client.get(step_url("target", token)).content.decode()

    assert "Suggested target: <strong>income-greater-50k</strong>" in html
    assert "Var15" not in html


def test_the_suggested_target_follows_the_schema_of_a_copied_datasource(
    owner_client: Client, owner: Any, shared_data: Path
) -> None:
    adult = shared_data / "adult.data"
    schema = json.loads((shared_data / "adult-train.csv.schema").read_text())
    schema["dataFileContainsHeader"] = False
    DataSource.objects.create(
        owner=owner,
        entity_id="ds-AdultCopied01",
        name="adult",
        source_kind=DataSource.SourceKind.PATH,
        data_location_s3=str(adult),
        data_schema=schema,
        status=Status.COMPLETED,
    )
    response = owner_client.post(
        CREATE, {"source": "path", "server_path": str(adult), "copy_from": "ds-AdultCopied01"}
    )
    token = token_of(response)
    confirm_schema(owner_client, token)

    html = owner_client.get(step_url("target", token)).content.decode()

    assert "Suggested target: <strong>income-greater-50k</strong>" in html
    assert "Var15" not in html


def test_a_schema_whose_names_differ_from_a_real_header_is_still_refused(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    schema = draft_schema(owner_client, token)
    renamed = {
        **schema,
        "attributes": [{**a, "attributeName": f"x{i}"} for i, a in enumerate(schema["attributes"])],
    }
    renamed.update(targetAttributeName=None, rowId=None)
    response = owner_client.post(
        step_url("schema", token), {"action": "replace", "schema_text": json.dumps(renamed)}
    )
    assert response.status_code == 400
    assert "not in the data: &#x27;x0&#x27;" in response.content.decode()


def test_a_malformed_schema_upload_shows_the_error_and_keeps_the_previous_schema(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    before = draft_schema(owner_client, token)
    bad = ContentFile(
        b'{"attributes": [{"attributeName": "age", "attributeType": "NUMBER"', "bad.schema"
    )
    response = owner_client.post(
        step_url("schema", token), {"action": "replace", "schema_file": bad}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "The schema was not used: the schema is not valid JSON" in html
    assert "line 1, column" in html
    assert 'name="type-20"' in html  # the table is still there
    assert draft_schema(owner_client, token) == before


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        (
            {"attributes": [{"attributeName": "age", "attributeType": "NUMBER"}]},
            "attributes[0].attributeType",
        ),
        (
            {"attributes": [{"attributeName": "age", "attributeType": "NUMERIC"}]},
            "the schema lists 1 attribute but the data has 21 columns",
        ),
        (
            {
                "targetAttributeName": "agee",
                "attributes": [{"attributeName": "age", "attributeType": "NUMERIC"}],
            },
            "did you mean &#x27;age&#x27;?",
        ),
    ],
)
def test_a_pasted_schema_that_does_not_fit_is_refused_precisely(
    owner_client: Client, banking: Path, pasted: dict[str, Any], message: str
) -> None:
    token = start_with_path(owner_client, banking)
    before = draft_schema(owner_client, token)
    response = owner_client.post(
        step_url("schema", token), {"action": "replace", "schema_text": json.dumps(pasted)}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert "&quot;attributeType&quot;" in response.content.decode()  # the paste is kept
    assert draft_schema(owner_client, token) == before


# --------------------------------------------------------------------------- target and row id


def test_the_target_and_row_id_land_in_the_schema(owner_client: Client, datasets: Path) -> None:
    path = datasets / "customers.csv"
    path.write_text(
        "customer_id,age,segment\n" + "".join(f"c{i},{20 + i},{'abc'[i % 3]}\n" for i in range(40))
    )
    token = start_with_path(owner_client, path)
    walk_to_review(owner_client, token, target="segment", row_id="customer_id")
    review = owner_client.get(step_url("review", token)).content.decode()
    assert "Multiclass classification" in review
    owner_client.post(step_url("review", token))

    schema = DataSource.objects.get().data_schema
    assert (schema["targetAttributeName"], schema["rowId"]) == ("segment", "customer_id")


def test_the_implied_model_type_follows_the_target_type(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    confirm_schema(owner_client, token)
    html = owner_client.get(step_url("target", token)).content.decode()
    row = lambda name: re.search(rf'value="{name}".*?</tr>', html, re.S).group(0)  # noqa: E731
    assert "Regression" in row("age")
    assert "Multiclass classification" in row("job")
    assert "Binary classification" in row("y")


def test_no_target_creates_a_datasource_without_one(owner_client: Client, banking: Path) -> None:
    token = start_with_path(owner_client, banking)
    confirm_schema(owner_client, token)
    owner_client.post(step_url("target", token), {"uses_target": "no", "target": "y"})
    owner_client.post(step_url("row-id", token), {"has_row_id": "no"})
    owner_client.post(step_url("review", token))
    assert DataSource.objects.get().data_schema["targetAttributeName"] is None


def test_a_text_target_or_a_missing_choice_is_refused(owner_client: Client, datasets: Path) -> None:
    path = datasets / "reviews.csv"
    path.write_text(
        "review,stars\n"
        + "".join(f"this product number {i} is fine really,{i % 5}\n" for i in range(30))
    )
    token = start_with_path(owner_client, path)
    assert draft_schema(owner_client, token)["attributes"][0]["attributeType"] == "TEXT"
    confirm_schema(owner_client, token)
    text = owner_client.post(step_url("target", token), {"uses_target": "yes", "target": "review"})
    assert text.status_code == 400
    assert "a target must be BINARY, CATEGORICAL or NUMERIC" in text.content.decode()
    nothing = owner_client.post(step_url("target", token), {"uses_target": "yes"})
    assert "Choose the target" in nothing.content.decode()


def test_the_row_id_cannot_be_the_target(owner_client: Client, banking: Path) -> None:
    token = start_with_path(owner_client, banking)
    confirm_schema(owner_client, token)
    owner_client.post(step_url("target", token), {"uses_target": "yes", "target": "y"})
    response = owner_client.post(step_url("row-id", token), {"has_row_id": "yes", "row_id": "y"})
    assert response.status_code == 400
    assert "y is not one of the available choices" in response.content.decode()


# --------------------------------------------------------------------------- order and errors


def test_a_step_whose_prerequisite_is_missing_redirects_back(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    for step in ("target", "row-id", "review"):
        response = owner_client.get(step_url(step, token))
        assert response["Location"] == step_url("schema", token)
    confirm_schema(owner_client, token)
    assert owner_client.get(step_url("review", token))["Location"] == step_url("target", token)
    response = owner_client.post(step_url("review", token))
    assert response["Location"] == step_url("target", token)
    assert not DataSource.objects.exists()


def test_changing_the_schema_again_asks_for_the_target_again(
    owner_client: Client, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    walk_to_review(owner_client, token)
    confirm_schema(owner_client, token, exclude_20="on")  # the target, y, is now excluded
    assert owner_client.get(step_url("review", token))["Location"] == step_url("target", token)
    assert draft_schema(owner_client, token)["targetAttributeName"] is None


def test_a_service_error_is_shown_on_the_review_page(owner_client: Client, banking: Path) -> None:
    token = start_with_upload(owner_client, banking)
    walk_to_review(owner_client, token)
    location = owner_client.session[SESSION_KEY][token]["location"]
    default_storage.delete(location.removeprefix("upload://"))

    response = owner_client.post(step_url("review", token))
    assert response.status_code == 400
    assert "The datasource was not created." in response.content.decode()
    assert "no longer in storage" in response.content.decode()
    assert not DataSource.objects.exists()


# --------------------------------------------------------------------------- who may do what


def test_a_stranger_gets_404_for_another_users_draft(
    owner_client: Client, stranger: Any, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    walk_to_review(owner_client, token)
    stranger_client = Client()
    stranger_client.force_login(stranger)
    for step in ("schema", "schema-json", "target", "row-id", "review"):
        assert stranger_client.get(step_url(step, token)).status_code == 404, step
    assert stranger_client.post(step_url("review", token)).status_code == 404
    assert not DataSource.objects.exists()


def test_a_draft_recorded_for_another_user_is_not_found(
    owner_client: Client, stranger: Any, banking: Path
) -> None:
    token = start_with_path(owner_client, banking)
    session = owner_client.session
    session[SESSION_KEY][token]["user_id"] = stranger.pk
    session.save()
    assert owner_client.get(step_url("schema", token)).status_code == 404


def test_an_unknown_draft_is_not_found(owner_client: Client) -> None:
    assert owner_client.get(step_url("schema", "no-such-draft")).status_code == 404


def test_anonymous_users_are_redirected_to_login(client: Client) -> None:
    urls = [CREATE, VERIFY, UPLOAD] + [
        step_url(step, "tok") for step in ("schema", "schema-json", "target", "row-id", "review")
    ]
    for url in urls:
        for response in (client.get(url), client.post(url)):
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login")), url


def test_every_wizard_form_requires_csrf(owner: Any, banking: Path) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    form = {"source": "path", "server_path": str(banking)}
    assert browser.post(CREATE, form).status_code == 403
    assert browser.post(VERIFY, form).status_code == 403

    browser.get(CREATE)  # sets the CSRF cookie, as a page visit does
    token_value = browser.cookies["csrftoken"].value
    response = browser.post(CREATE, {**form, "csrfmiddlewaretoken": token_value})
    token = token_of(response)
    for step in ("schema", "target", "row-id", "review"):
        assert browser.post(step_url(step, token), {"action": "save"}).status_code == 403, step
    assert not DataSource.objects.exists()

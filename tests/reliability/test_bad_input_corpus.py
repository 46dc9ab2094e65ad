"""The hand-written corpus of broken data files, each through the web wizard (upload → schema →
target → row id → review → Create, then the statistics job) and through the API
(CreateDataSourceFromS3 on a server path, then the same job), as regression tests in one place.

The outcome a person wants, whatever the file: the datasource COMPLETED with the bad records
skipped and listed by file and line, or FAILED (or refused before it is made) with a message
naming the file and, where there is one, the line or column. Never a 500, never a datasource
left In progress. Some of these are covered in scattered tests too; this is the corpus whole.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from bad_input import Browser, ml_client, postgres_like_text, quiet_s3
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from prediction_factories import run_all
from reliability_figures import record

from console import wizard_drafts
from console.api.keys import create_access_key
from console.models import DataSource, Status
from console.views.objects import invalid_records

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

SUITE = "Bad input: data file corpus"
BAD_MEANS = "HTTP 500s, datasources left In progress, or messages naming no file"
CREATE = reverse("console:datasource-create")
UPLOAD = reverse("console:datasource-upload")


def _rows(count: int, *, start: int = 0) -> list[str]:
    return [f"{i},{20 + i % 50},{'abc'[i % 3]},{i % 2}" for i in range(start, start + count)]


HEADER = "id,age,plan,churn"
SCHEMA = json.dumps(
    {
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
)


@dataclass(frozen=True)
class Case:
    """One broken file. `outcome` is what a person should get: "completed" (maybe with skipped
    records), "failed" (or refused) or "either"; `skipped` the records to be listed as skipped
    (by line) when it completes."""

    name: str
    filename: str
    content: bytes
    outcome: str = "either"
    skipped: tuple[int, ...] = ()
    target: str | None = "churn"
    check: Callable[[DataSource], None] | None = None
    schema: str | None = None  # pasted in the wizard, DataSchema through the API
    says: tuple[str, ...] = ()  # what a refusal or failure must say besides the file's name


def _lines(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _ragged() -> bytes:
    rows = _rows(40)
    rows[9] = "9,29,a"  # line 11: a value short
    rows[19] = "19,39,b,1,extra"  # line 21: a value too many
    return _lines(HEADER, *rows)


def _not_utf8() -> bytes:
    good = _lines(HEADER, *_rows(30))
    return good + "30,50,caf\xe9,1\n".encode("latin-1") + _lines(*_rows(5, start=31))


def _quoted_newlines() -> bytes:
    rows = [f'{i},{20 + i},"plan\nwith, a line break {i}",{i % 2}' for i in range(30)]
    return _lines(HEADER, *rows)


def _thirty_records(ds: DataSource) -> None:
    assert ds.records_count == 30, ds.records_count


def _renamed(ds: DataSource) -> None:
    names = [a["attributeName"] for a in ds.data_schema["attributes"]]
    assert names == ["id", "age", "age_2", "churn"], names


def _huge_field() -> bytes:
    rows = _rows(30)
    rows[4] = f"4,24,{'x' * 200_000},0"
    return _lines(HEADER, *rows)


def _many_invalid() -> bytes:
    good = _rows(50)
    bad = [f"{i},{20 + i % 50},a,maybe" for i in range(50, 11_050)]
    return _lines(HEADER, *good, *bad)


def _missing_target() -> bytes:
    rows = _rows(40)
    rows[5] = "5,25,c,"
    rows[6] = "6,26,a,"
    return _lines(HEADER, *rows)


def _maybe_in_binary() -> bytes:
    rows = _rows(40)
    rows[7] = "7,27,b,maybe"  # line 9
    return _lines(HEADER, *rows)


def _duplicate_names() -> bytes:
    return _lines("id,age,age,churn", *_rows(30))


def _wide() -> bytes:
    header = ",".join([f"f{i}" for i in range(999)] + ["churn"])
    rows = [",".join([str((r * 7 + i) % 13) for i in range(999)] + [str(r % 2)]) for r in range(30)]
    return _lines(header, *rows)


def _nul_values() -> bytes:
    rows = _rows(40)
    rows[3] = "3,23,a\x00b,1"
    rows[4] = "4\x00,24,\x00,0"
    return _lines(HEADER, *rows)


def _bom_names(ds: DataSource) -> None:
    names = [a["attributeName"] for a in ds.data_schema["attributes"]]
    assert names[0] == "id", names


CORPUS = [
    Case("ragged rows", "ragged.csv", _ragged(), "completed", skipped=(11, 21)),
    Case(
        "not UTF-8", "latin1.csv", _not_utf8(), "either", skipped=(32,), says=("line 32", "UTF-8")
    ),
    Case("empty file", "empty.csv", b"", "failed", target=None, says=("empty",)),
    Case(
        "header only",
        "header-only.csv",
        _lines(HEADER),
        "failed",
        target=None,
        says=("no records",),
    ),
    Case(
        "byte order mark",
        "bom.csv",
        b"\xef\xbb\xbf" + _lines(HEADER, *_rows(30)),
        "completed",
        check=_bom_names,
    ),
    Case("quoted newlines", "quoted.csv", _quoted_newlines(), "completed", check=_thirty_records),
    Case("a 200 KB field", "huge-field.csv", _huge_field(), "completed", check=_thirty_records),
    Case(
        "11,000 invalid rows",
        "many-invalid.csv",
        _many_invalid(),
        "failed",
        schema=SCHEMA,
        says=("invalid records", "lines: 52, 53"),
    ),
    Case(
        "missing target values", "missing-target.csv", _missing_target(), "completed", schema=SCHEMA
    ),
    Case(
        '"maybe" in a binary column',
        "maybe.csv",
        _maybe_in_binary(),
        "completed",
        skipped=(9,),
        schema=SCHEMA,
    ),
    Case(
        "duplicate column names", "duplicates.csv", _duplicate_names(), "completed", check=_renamed
    ),
    Case("1,000 columns", "wide.csv", _wide(), "completed"),
    Case("NUL bytes in values", "nul.csv", _nul_values(), "failed", says=("line 5", "NUL")),
    Case(
        "gzip content named .csv",
        "packed.csv",
        gzip.compress(_lines(HEADER, *_rows(30))),
        "failed",
        says=("line 1", "gzip-compressed"),
    ),
]


@pytest.fixture(autouse=True)
def _environment(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    quiet_s3(settings, monkeypatch)
    with postgres_like_text():
        yield


def names_the_file(message: str, case: Case) -> bool:
    """The message names the file, and says what `case.says` (the line, the reason)."""
    return case.filename in message and all(words in message for words in case.says)


# How a case may end, by the outcome a person should get ("refused ..." is a failure shown at once).
ENDINGS = {
    "completed": ("completed",),
    "failed": ("failed", "refused"),
    "either": ("completed", "failed", "refused"),
}


def assert_outcome(ds: DataSource, case: Case) -> str:
    """The datasource's end, judged as a person would; returns "completed" or "failed"."""
    ds.refresh_from_db()
    assert ds.status in (Status.COMPLETED, Status.FAILED), (case.name, ds.status, ds.message)
    if ds.status == Status.FAILED:
        assert case.outcome in ("failed", "either"), (case.name, ds.message)
        assert names_the_file(ds.message, case), (case.name, ds.message)
        return "failed"
    assert case.outcome in ("completed", "either"), (case.name, ds.log[-2000:])
    listed = invalid_records(ds, limit=100)
    assert len(listed) == min(ds.invalid_records_count or 0, 100), (case.name, listed)
    for where in listed:
        assert case.filename in where and re.search(r"line \d+", where), (case.name, where)
    lines = {int(m.group(1)) for w in listed if (m := re.search(r"line (\d+)", w))}
    assert set(case.skipped) <= lines, (case.name, sorted(lines), listed)
    if case.check:
        case.check(ds)
    return "completed"


# --------------------------------------------------------------------------- through the wizard


def _refused(response: Any, case: Case) -> str | None:
    """The refusal shown for a 400 (the page's form errors, or the upload's JSON)."""
    if response.status_code != 400:
        return None
    if response["Content-Type"].startswith("application/json"):
        return str(response.json()["error"])
    form = response.context.get("form") or response.context.get("table_form")
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _through_wizard(browser: Browser, case: Case, enqueued: list[Any]) -> str:
    upload = SimpleUploadedFile(case.filename, case.content, content_type="text/csv")
    response = browser.post(UPLOAD, {"file": upload})
    assert response.status_code in (200, 400), (case.name, response.status_code)
    if (refusal := _refused(response, case)) is not None:
        assert names_the_file(refusal, case), (case.name, refusal)
        assert case.outcome in ("failed", "either"), (case.name, refusal)
        return "refused at upload"
    body = response.json()
    response = browser.post(
        CREATE,
        {
            "source": "upload",
            "upload_location": body["location"],
            "upload_filename": body["filename"],
        },
    )
    assert response.status_code in (302, 400), (case.name, response.status_code)
    if (refusal := _refused(response, case)) is not None:
        assert names_the_file(refusal, case), (case.name, refusal)
        assert case.outcome in ("failed", "either"), (case.name, refusal)
        return "refused at the input step"
    token = response["Location"].split("/")[-3]

    def step(name: str) -> str:
        return reverse(f"console:datasource-wizard-{name}", kwargs={"draft": token})

    if case.schema:
        response = browser.post(step("schema"), {"action": "replace", "schema_text": case.schema})
        assert response.status_code == 302, (case.name, response.content.decode()[-3000:])
    schema = browser.client.session[wizard_drafts.SESSION_KEY][token]["schema"]
    types = [a["attributeType"] for a in schema["attributes"]]
    response = browser.post(
        step("schema"), {"action": "save", "packed": json.dumps({"types": types, "excluded": []})}
    )
    assert response.status_code in (302, 400), (case.name, response.status_code)
    if (refusal := _refused(response, case)) is not None:
        assert case.outcome in ("failed", "either"), (case.name, refusal)
        return "refused at the schema step"
    names = {a["attributeName"] for a in schema["attributes"]}
    target = case.target if case.target in names else None
    answer = {"uses_target": "yes", "target": target} if target else {"uses_target": "no"}
    assert browser.post(step("target"), answer).status_code == 302, case.name
    assert browser.post(step("row-id"), {"has_row_id": "no"}).status_code == 302, case.name
    response = browser.post(step("review"))
    assert response.status_code == 302, (case.name, response.content.decode()[-2000:])
    entity_id = response["Location"].rstrip("/").split("/")[-1]
    run_all(enqueued)
    return assert_outcome(DataSource.objects.get(entity_id=entity_id), case)


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_the_corpus_through_the_wizard(
    case: Case, owner_client: Any, enqueued: list[Any], settings: Any
) -> None:
    browser = Browser(owner_client, CREATE)
    browser.client.raise_request_exception = False
    outcome = ""
    try:
        outcome = _through_wizard(browser, case, enqueued)
    finally:
        note = f"wizard: {outcome or 'went wrong'}"
        record(SUITE, case.name, tried=1, bad=not outcome, bad_means=BAD_MEANS, note=note)
    assert outcome.startswith(ENDINGS[case.outcome]), (case.name, outcome)


# --------------------------------------------------------------------------- through the API


@pytest.fixture
def s3_bucket(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """moto's S3 in this process, holding the bucket `corpus`."""
    import boto3
    from moto import mock_aws

    settings.AML_DATA_S3_ENDPOINT_URL = ""
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="corpus")
        yield s3


@pytest.mark.parametrize("case", CORPUS, ids=[case.name for case in CORPUS])
def test_the_corpus_through_the_api(
    case: Case, owner: Any, enqueued: list[Any], s3_bucket: Any
) -> None:
    s3_bucket.put_object(Bucket="corpus", Key=f"in/{case.filename}", Body=case.content)
    key, secret = create_access_key(owner)
    aml = ml_client(key.access_key_id, secret)
    spec = {"DataLocationS3": f"s3://corpus/in/{case.filename}"}
    if case.schema:
        spec["DataSchema"] = case.schema
    outcome = ""
    try:
        try:
            aml.create_data_source_from_s3(
                DataSourceId="ds-corpus", DataSpec=spec, ComputeStatistics=True
            )
        except aml.exceptions.InvalidInputException as exc:
            message = exc.response["Error"]["Message"]
            assert names_the_file(message, case), (case.name, message)
            assert case.outcome in ("failed", "either"), (case.name, message)
            outcome = "refused"
        else:
            run_all(enqueued)
            described = aml.get_data_source(DataSourceId="ds-corpus")
            ended = assert_outcome(DataSource.objects.get(entity_id="ds-corpus"), case)
            assert described["Status"] == ended.upper()
            if ended == "failed":
                assert names_the_file(described["Message"], case), described["Message"]
            outcome = ended
    finally:
        note = f"API: {outcome or 'went wrong'}"
        record(SUITE, case.name, tried=1, bad=not outcome, bad_means=BAD_MEANS, note=note)

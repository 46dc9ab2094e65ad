"""The datasource pages: summary for each status, insights, log, schema, rename, tags, delete, copy."""

from __future__ import annotations

import json
import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.models import BatchPrediction, DataSource, Evaluation, MLModel, Status

pytestmark = pytest.mark.django_db

SCHEMA = {
    "version": "1.0",
    "rowId": None,
    "rowWeight": None,
    "targetAttributeName": "y",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "job", "attributeType": "CATEGORICAL"},
        {"attributeName": "housing", "attributeType": "BINARY"},
        {"attributeName": "comment", "attributeType": "TEXT"},
        {"attributeName": "y", "attributeType": "BINARY"},
    ],
    "excludedAttributeNames": [],
}


def banking_statistics() -> dict[str, Any]:
    """Statistics in the documented shape (docs/statistics-format.md) for a small banking file."""
    rng = random.Random(7)
    counts = [0] * 1000
    for _ in range(4000):
        counts[min(999, max(0, int(rng.gauss(300, 120))))] += 1
    return {
        "version": 1,
        "recordsRead": 4119,
        "recordCount": 4100,
        "invalidRecordCount": 19,
        "targetAttributeName": "y",
        "target": {
            "name": "y",
            "type": "BINARY",
            "distribution": [{"value": "0", "count": 3650}, {"value": "1", "count": 450}],
            "histogram": None,
        },
        "attributes": [
            {
                "name": "age",
                "type": "NUMERIC",
                "count": 4000,
                "missing": 100,
                "invalid": 0,
                "min": 17.0,
                "max": 98.0,
                "mean": 40.02,
                "median": 38.0,
                "stddev": 10.42,
                "histogram": {"min": 17.0, "max": 98.0, "counts": counts},
                "correlation": 0.031,
            },
            {
                "name": "job",
                "type": "CATEGORICAL",
                "count": 4100,
                "missing": 0,
                "uniqueCount": 12,
                "top": [{"value": f"job{i}", "count": 400 - 20 * i} for i in range(10)],
                "otherCount": 1000,
                "mostFrequent": "job0",
                "leastFrequent": [{"value": "unknown", "count": 39}],
                "correlation": 0.15,
            },
            {
                "name": "housing",
                "type": "BINARY",
                "count": 4000,
                "missing": 0,
                "invalid": 100,
                "trueCount": 2100,
                "percentTrue": 52.5,
                "correlation": 0.011,
            },
            {
                "name": "comment",
                "type": "TEXT",
                "count": 4000,
                "missing": 100,
                "totalWords": 12000,
                "uniqueWords": 830,
                "wordsPerRowMin": 0,
                "wordsPerRowMax": 6,
                "wordLengthMin": 2,
                "wordLengthMax": 11,
                "topWords": [{"word": "call", "count": 300, "percent": 7.5, "prominence": 0.4}],
                "correlation": 0.2,
            },
            {
                "name": "y",
                "type": "BINARY",
                "count": 4100,
                "missing": 0,
                "invalid": 0,
                "trueCount": 450,
                "percentTrue": 10.98,
                "correlation": None,
            },
        ],
    }


def make_datasource(owner: Any, **fields: Any) -> DataSource:
    defaults: dict[str, Any] = {
        "entity_id": "ds-TestData001",
        "name": "Banking data",
        "source_kind": DataSource.SourceKind.PATH,
        "data_location_s3": "/data/banking.csv",
        "data_schema": SCHEMA,
        "status": Status.COMPLETED,
        "log": "2024-01-01 10:00:00 Datasource created\n2024-01-01 10:01:00 Read 4,119 records.\n",
    }
    defaults.update(fields)
    return DataSource.objects.create(owner=owner, **defaults)


@pytest.fixture
def completed(owner: Any) -> DataSource:
    now = timezone.now()
    return make_datasource(
        owner,
        statistics=banking_statistics(),
        started_at=now - timedelta(minutes=3),
        finished_at=now,
        compute_time=95_000,
        data_size_in_bytes=3_460_000,
        number_of_files=1,
        records_count=4100,
        invalid_records_count=19,
        data_rearrangement='{"splitting":{"percentBegin":0,"percentEnd":70}}',
        tags={"team": "growth"},
    )


def url(name: str, ds: DataSource) -> str:
    return reverse(f"console:{name}", args=[ds.entity_id])


# --- The page in each status -------------------------------------------------------------------


def test_it_shows_the_summary_fields_of_a_completed_datasource(
    owner_client: Client, completed: DataSource
) -> None:
    html = owner_client.get(url("datasource-detail", completed)).content.decode()
    assert "Binary" in html and "BINARY" not in html
    for text in (
        "ds-TestData001",
        "Banking data",
        "Compute time (approximate)",
        "2 mins.",
        "Completed",
        "View input schema",
        "Download log",
        "3.3 MB",
        "4,100",
        "CSV",
        "percentBegin",
        "Use this datasource to",
        "Copy settings to create a new datasource",
        "growth",
    ):
        assert text in html, text
    # The menu trains an ML model from here, and evaluates one on it (the evaluation wizard).
    assert f'href="/models/new/?datasource={completed.entity_id}"' in html
    assert "Arrives with ML models" not in html
    assert f'href="/evaluations/new/?datasource={completed.entity_id}">Evaluate an ML model' in html


def test_a_completed_datasource_with_bad_records_says_which_lines_were_skipped(
    owner_client: Client, completed: DataSource
) -> None:
    lines = [
        "2026-11-30 05:37:32 Read 4,100 records: 4,081 valid, 19 invalid.",
        *(
            f"2026-11-30 05:37:32 Invalid record: /data/banking.csv, line {n}: expected 21 fields, found 2"
            for n in range(100, 125)
        ),
    ]
    DataSource.objects.filter(pk=completed.pk).update(log="\n".join(lines) + "\n")
    html = owner_client.get(url("datasource-detail", completed)).content.decode()
    card = html[html.index('id="bad-records"') :]
    card = card[: card.index("</div>")]
    assert "19 records could not be read and were skipped" in card
    assert "/data/banking.csv, line 100: expected 21 fields, found 2" in card
    assert "line 119:" in card and "line 120:" not in card, "the first 20 are listed"
    assert url("datasource-log", completed) in card
    assert '<a href="#bad-records">where</a>' in html  # from the summary's Bad records


def test_the_summary_and_the_insights_give_the_same_records_read_valid_and_invalid(
    owner_client: Client, completed: DataSource
) -> None:
    # As the statistics job leaves them for 200 records, 40 with the wrong number of fields.
    statistics = {
        **completed.statistics,
        "recordsRead": 200,
        "recordCount": 137,
        "invalidRecordCount": 63,
        "invalidRecordReasons": {"wrongFieldCount": 40, "invalidValue": 23},
    }
    DataSource.objects.filter(pk=completed.pk).update(
        statistics=statistics, records_count=137, invalid_records_count=63
    )

    html = owner_client.get(url("datasource-detail", completed)).content.decode()

    why = "40 with the wrong number of fields, 23 with a value that does not fit its attribute"
    summary = html[html.index('id="summary"') :]
    summary = summary[: summary.index("</dl>")]
    insights = html[html.index('id="data-summary"') :]
    insights = insights[: insights.index("</dl>")]
    for part in (summary, insights):
        assert re.search(r"<dt>Records read</dt><dd[^>]*>200</dd>", part), part
        assert re.search(r"<dt>Valid records</dt><dd[^>]*>137</dd>", part), part
        assert re.search(r"<dt>Invalid records</dt><dd[^>]*>63 \(" + why, part), part
    assert "Records processed" not in html


def test_a_datasource_without_bad_records_has_no_bad_records_card(
    owner_client: Client, completed: DataSource
) -> None:
    DataSource.objects.filter(pk=completed.pk).update(invalid_records_count=0)
    html = owner_client.get(url("datasource-detail", completed)).content.decode()
    assert 'id="bad-records"' not in html


def test_the_summary_breaks_long_values_between_words_not_inside_them() -> None:
    """A split's name ("…[percentBegin=70, percentEnd=100, …]") wrapped as "percen|tEnd"."""
    css = (Path(settings.BASE_DIR) / "static/console/css/console.css").read_text()
    rule = re.search(r"dl\.summary dd \{([^}]*)\}", css)
    assert rule is not None
    assert "break-all" not in rule.group(1) and "overflow-wrap: anywhere" in rule.group(1)


def test_it_embeds_the_insight_charts_as_json(owner_client: Client, completed: DataSource) -> None:
    html = owner_client.get(url("datasource-detail", completed)).content.decode()
    target = _json_script(html, "fig-target")
    assert target["data"][0]["y"] == [3650, 450]
    ranked = _json_script(html, "fig-correlation")["layout"]["yaxis"]["categoryarray"]
    assert ranked[-1] == "comment"  # strongest drawn at the top
    assert "y" not in ranked  # the target is not ranked against itself
    missing = _json_script(html, "fig-missing")
    assert set(missing["data"][0]["x"]) == {"age", "comment", "housing"}
    previews = _json_script(html, "previews-numeric")
    assert len(previews["age"]["histogram"]["counts"]) == 1000
    assert "job9" in _json_script(html, "previews-categorical")["job"]["figure"]["data"][0]["x"]
    for section in (
        "Numeric attributes",
        "Binary attributes",
        "Categorical attributes",
        "Text attributes",
    ):
        assert section in html


def test_it_loads_plotly_from_static_and_never_from_the_internet(
    owner_client: Client, completed: DataSource
) -> None:
    html = owner_client.get(url("datasource-detail", completed)).content.decode()
    sources = re.findall(r'<script[^>]*\ssrc="([^"]+)"', html)
    assert "/static/vendor/plotly.min.js" in sources
    assert not [s for s in sources if "http" in s]


def test_it_serves_plotly_min_js_from_the_plotly_package(owner_client: Client) -> None:
    response = owner_client.get("/static/vendor/plotly.min.js")
    assert response.status_code == 200
    assert b"plotly" in b"".join(response.streaming_content)[:5000].lower()


def test_it_shows_live_progress_while_in_progress(owner_client: Client, owner: Any) -> None:
    ds = make_datasource(
        owner,
        status=Status.INPROGRESS,
        progress={"records": 12345, "bytes": 500, "totalBytes": 1000, "phase": "reading"},
    )
    html = owner_client.get(url("datasource-detail", ds)).content.decode()
    assert "12,345" in html and "50%" in html
    assert f'hx-get="{url("datasource-status", ds)}?shown=INPROGRESS"' in html
    assert 'hx-trigger="every 2s"' in html
    assert "plotly.min.js" not in html


def test_it_shows_a_pending_datasource_waiting(owner_client: Client, owner: Any) -> None:
    ds = make_datasource(owner, status=Status.PENDING)
    html = owner_client.get(url("datasource-detail", ds)).content.decode()
    assert "Pending" in html and 'hx-trigger="every 2s"' in html


def test_the_status_fragment_reports_progress(owner_client: Client, owner: Any) -> None:
    ds = make_datasource(
        owner, status=Status.INPROGRESS, progress={"records": 777, "bytes": 1, "totalBytes": 4}
    )
    response = owner_client.get(url("datasource-status", ds), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "777" in response.content.decode() and "<html" not in response.content.decode()


def test_the_status_fragment_reloads_the_page_once_the_job_is_over(
    owner_client: Client, completed: DataSource
) -> None:
    response = owner_client.get(url("datasource-status", completed), HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"


def test_it_shows_the_failure_message_and_the_log_tail(owner_client: Client, owner: Any) -> None:
    ds = make_datasource(
        owner,
        status=Status.FAILED,
        message="banking.csv, line 12: 3 fields, expected 5",
        log="2024-01-01 10:00:00 created\n2024-01-01 10:00:01 FAILED: bad line\n",
    )
    html = owner_client.get(url("datasource-detail", ds)).content.decode()
    assert "The datasource failed" in html
    assert "banking.csv, line 12: 3 fields, expected 5" in html
    assert "FAILED: bad line" in html


def test_it_says_when_statistics_were_not_computed(owner_client: Client, owner: Any) -> None:
    ds = make_datasource(owner, statistics=None, compute_statistics=False)
    assert (
        "Statistics were not computed"
        in owner_client.get(url("datasource-detail", ds)).content.decode()
    )


def test_it_pages_and_filters_attribute_tables_for_wide_data(
    owner_client: Client, owner: Any
) -> None:
    stats = banking_statistics()
    pixel = dict(stats["attributes"][0], histogram={"min": 0, "max": 1, "counts": [1] * 1000})
    stats["attributes"] = [dict(pixel, name=f"pixel{i}", correlation=i / 1000) for i in range(784)]
    ds = make_datasource(owner, statistics=stats)
    html = owner_client.get(url("datasource-detail", ds)).content.decode()
    assert "1 - 25 of 784" in html
    assert len(_json_script(html, "previews-numeric")) == 25  # histograms only for the visible rows
    assert len(_json_script(html, "fig-correlation")["layout"]["yaxis"]["categoryarray"]) == 25
    page2 = owner_client.get(url("datasource-detail", ds) + "?numeric_page=2").content.decode()
    assert "26 - 50 of 784" in page2
    filtered = owner_client.get(url("datasource-detail", ds) + "?attr_q=pixel78").content.decode()
    assert "1 - 25 of 784" not in filtered and "pixel783" in filtered
    assert len(_json_script(filtered, "previews-numeric")) == 5  # pixel78, pixel780 … pixel783


# --- Log, schema, copy -------------------------------------------------------------------------


def test_the_log_downloads_as_a_text_attachment(
    owner_client: Client, completed: DataSource
) -> None:
    response = owner_client.get(url("datasource-log", completed))
    assert response["Content-Type"].startswith("text/plain")
    assert response["Content-Disposition"] == 'attachment; filename="ds-TestData001.log"'
    assert b"Read 4,119 records." in response.content


def test_the_schema_view_returns_the_schema_json(
    owner_client: Client, completed: DataSource
) -> None:
    response = owner_client.get(url("datasource-schema", completed))
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content)["targetAttributeName"] == "y"


def test_copy_settings_opens_the_wizard_prefilled(
    owner_client: Client, completed: DataSource
) -> None:
    response = owner_client.get(url("datasource-copy", completed))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:datasource-create") + "?")
    assert "location=%2Fdata%2Fbanking.csv" in response["Location"]
    assert "name=Banking+data" in response["Location"]


# --- Rename, tags, delete ----------------------------------------------------------------------


def test_it_renames_the_datasource(owner_client: Client, completed: DataSource) -> None:
    response = owner_client.post(url("datasource-rename", completed), {"name": "Banking, 2018"})
    assert response.status_code == 302
    completed.refresh_from_db()
    assert completed.name == "Banking, 2018"


def test_it_refuses_to_rename_a_deleted_datasource(owner_client: Client, owner: Any) -> None:
    ds = make_datasource(owner, status=Status.DELETED)
    response = owner_client.post(url("datasource-rename", ds), {"name": "new"}, follow=True)
    assert "cannot be renamed" in response.content.decode()
    ds.refresh_from_db()
    assert ds.name == "Banking data"


def test_it_adds_and_removes_tags(owner_client: Client, completed: DataSource) -> None:
    owner_client.post(
        url("datasource-tags", completed), {"action": "add", "key": "stage", "value": "prod"}
    )
    completed.refresh_from_db()
    assert completed.tags == {"team": "growth", "stage": "prod"}
    owner_client.post(url("datasource-tags", completed), {"action": "remove", "key": "team"})
    completed.refresh_from_db()
    assert completed.tags == {"stage": "prod"}


def test_it_shows_an_error_for_an_invalid_tag_key(
    owner_client: Client, completed: DataSource
) -> None:
    response = owner_client.post(
        url("datasource-tags", completed), {"action": "add", "key": "aws:owner", "value": "x"}
    )
    assert response.status_code == 400
    assert "is not allowed" in response.content.decode()
    completed.refresh_from_db()
    assert completed.tags == {"team": "growth"}


def test_it_deletes_the_datasource(owner_client: Client, completed: DataSource) -> None:
    response = owner_client.post(url("datasource-delete", completed))
    assert response["Location"] == reverse("console:dashboard")
    completed.refresh_from_db()
    assert completed.status == Status.DELETED
    assert (
        "This datasource was deleted"
        in owner_client.get(url("datasource-detail", completed)).content.decode()
    )


@pytest.mark.parametrize("name", ["datasource-rename", "datasource-tags", "datasource-delete"])
def test_posts_need_a_csrf_token(owner: Any, completed: DataSource, name: str) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(url(name, completed), {"name": "x", "key": "k", "value": "v"})
    assert response.status_code == 403
    completed.refresh_from_db()
    assert completed.status == Status.COMPLETED and completed.name == "Banking data"


def test_gets_are_refused_where_only_posts_make_sense(
    owner_client: Client, completed: DataSource
) -> None:
    assert owner_client.get(url("datasource-delete", completed)).status_code == 405


# --- Strangers and anonymous users -------------------------------------------------------------

DATASOURCE_URLS = [
    ("get", "datasource-detail"),
    ("get", "datasource-status"),
    ("get", "datasource-log"),
    ("get", "datasource-schema"),
    ("get", "datasource-copy"),
    ("post", "datasource-rename"),
    ("post", "datasource-tags"),
    ("post", "datasource-delete"),
]


@pytest.mark.parametrize(("method", "name"), DATASOURCE_URLS)
def test_a_stranger_gets_404_on_every_datasource_url(
    client: Client, owner: Any, stranger: Any, completed: DataSource, method: str, name: str
) -> None:
    client.force_login(stranger)
    response = getattr(client, method)(url(name, completed), {"name": "mine", "key": "k"})
    assert response.status_code == 404
    completed.refresh_from_db()
    assert completed.status == Status.COMPLETED and completed.name == "Banking data"
    assert completed.tags == {"team": "growth"}


@pytest.mark.parametrize(("method", "name"), DATASOURCE_URLS)
def test_an_anonymous_visitor_is_sent_to_log_in(
    client: Client, completed: DataSource, method: str, name: str
) -> None:
    response = getattr(client, method)(url(name, completed))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- The other objects' summary pages ----------------------------------------------------------


@pytest.fixture
def family(owner: Any, completed: DataSource) -> dict[str, Any]:
    model = MLModel.objects.create(
        owner=owner,
        entity_id="ml-TestModel01",
        name="ML model: Banking data",
        training_data_source=completed,
        ml_model_type="BINARY",
        status=Status.COMPLETED,
    )
    evaluation = Evaluation.objects.create(
        owner=owner,
        entity_id="ev-TestEval001",
        ml_model=model,
        evaluation_data_source=completed,
        status=Status.INPROGRESS,
    )
    prediction = BatchPrediction.objects.create(
        owner=owner,
        entity_id="bp-TestBatch01",
        ml_model=model,
        batch_prediction_data_source=completed,
        output_uri="s3://out/",
        total_record_count=1234,
        status=Status.FAILED,
        message="Output bucket missing",
    )
    return {"mlmodel": model, "evaluation": evaluation, "batchprediction": prediction}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("mlmodel", ["ml-TestModel01", "Binary", "ds-TestData001", "Score threshold"]),
        ("evaluation", ["ev-TestEval001", "In progress", "ml-TestModel01"]),
        ("batchprediction", ["bp-TestBatch01", "1,234", "Output bucket missing", "s3://out/"]),
    ],
)
def test_the_object_summary_pages_show_aml_fields(
    owner_client: Client, family: dict[str, Any], kind: str, expected: list[str]
) -> None:
    response = owner_client.get(reverse(f"console:{kind}-detail", args=[family[kind].entity_id]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in expected + ["Creation time", "Compute time (approximate)"]:
        assert text in html, text


@pytest.mark.parametrize("kind", ["mlmodel", "evaluation", "batchprediction"])
def test_a_stranger_gets_404_on_object_pages(
    client: Client, stranger: Any, family: dict[str, Any], kind: str
) -> None:
    client.force_login(stranger)
    response = client.get(reverse(f"console:{kind}-detail", args=[family[kind].entity_id]))
    assert response.status_code == 404


def _json_script(html: str, element_id: str) -> Any:
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no json_script {element_id}"
    return json.loads(match.group(1))

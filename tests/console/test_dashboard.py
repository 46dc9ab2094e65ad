"""The dashboard: the owner's objects only, filters, search, paging, polling, bulk delete."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from console.models import BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.listing import ListingQuery, list_objects

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("console:dashboard")
ROWS = reverse("console:dashboard-rows")
DELETE = reverse("console:objects-delete")


def datasource(owner: Any, n: int, **fields: Any) -> DataSource:
    defaults: dict[str, Any] = {
        "entity_id": f"ds-{n:011d}",
        "name": f"Datasource {n}",
        "source_kind": "path",
        "data_location_s3": "/data/x.csv",
        "status": Status.COMPLETED,
    }
    defaults.update(fields)
    return DataSource.objects.create(owner=owner, **defaults)


@pytest.fixture
def family(owner: Any) -> dict[str, Any]:
    """One object of each type, completed, with the datasource oldest."""
    ds = datasource(owner, 1, name="Banking data")
    model = MLModel.objects.create(
        owner=owner,
        entity_id="ml-BwZ5toyY935",
        name="ML model: Banking data",
        training_data_source=ds,
        ml_model_type="BINARY",
        status=Status.COMPLETED,
    )
    evaluation = Evaluation.objects.create(
        owner=owner,
        entity_id="ev-o5yt6SYasGi",
        name="Evaluation: ML model",
        ml_model=model,
        evaluation_data_source=ds,
        status=Status.FAILED,
    )
    prediction = BatchPrediction.objects.create(
        owner=owner,
        entity_id="bp-z56xPVjwpTi",
        name="Batch prediction",
        ml_model=model,
        batch_prediction_data_source=ds,
        output_uri="s3://b/out/",
        status=Status.COMPLETED,
    )
    return {
        "datasource": ds,
        "mlmodel": model,
        "evaluation": evaluation,
        "batchprediction": prediction,
    }


def ids_on(html: str) -> list[str]:
    return re.findall(r'name="ids" value="[a-z]+:([^"]+)"', html)


def test_it_lists_every_type_of_the_owners_objects(
    owner_client: Client, family: dict[str, Any]
) -> None:
    html = owner_client.get(DASHBOARD).content.decode()
    assert sorted(ids_on(html)) == sorted(o.entity_id for o in family.values())
    for label in (
        "Datasource",
        "ML model",
        "Evaluation",
        "Batch prediction",
        "Completed",
        "Failed",
    ):
        assert label in html
    assert "1 - 4 of 4 Objects" in html


def test_it_lists_only_the_owners_objects(owner_client: Client, owner: Any, stranger: Any) -> None:
    datasource(owner, 1)
    datasource(stranger, 2, name="Mallory's secret")
    html = owner_client.get(DASHBOARD).content.decode()
    assert ids_on(html) == ["ds-00000000001"]
    assert "Mallory" not in html


def test_it_hides_deleted_objects(owner_client: Client, owner: Any) -> None:
    datasource(owner, 1, status=Status.DELETED)
    html = owner_client.get(DASHBOARD).content.decode()
    assert ids_on(html) == []


def test_it_shows_the_aml_date_and_duration_formats(owner_client: Client, owner: Any) -> None:
    ds = datasource(owner, 1)
    created = timezone.now() - timedelta(minutes=10)
    DataSource.objects.filter(pk=ds.pk).update(
        created_at=created, finished_at=created + timedelta(minutes=3)
    )
    html = owner_client.get(DASHBOARD).content.decode()
    assert "3 mins." in html
    assert re.search(r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d{2}:\d{2} [AP]M", html)


def test_a_job_done_within_a_second_reads_less_than_1_sec_not_0_secs(
    owner_client: Client, owner: Any
) -> None:
    ds = datasource(owner, 1)
    DataSource.objects.filter(pk=ds.pk).update(
        finished_at=ds.created_at + timedelta(milliseconds=400)
    )
    html = owner_client.get(DASHBOARD).content.decode()
    assert "Less than 1 sec." in html
    assert "0 secs." not in html


@pytest.mark.parametrize("type_key", ["datasource", "mlmodel", "evaluation", "batchprediction"])
def test_it_filters_by_type(owner_client: Client, family: dict[str, Any], type_key: str) -> None:
    html = owner_client.get(DASHBOARD, {"type": type_key}).content.decode()
    assert ids_on(html) == [family[type_key].entity_id]


def test_it_filters_by_status(owner_client: Client, family: dict[str, Any]) -> None:
    html = owner_client.get(DASHBOARD, {"status": "FAILED"}).content.decode()
    assert ids_on(html) == ["ev-o5yt6SYasGi"]


def test_it_ignores_unknown_filter_values(owner_client: Client, family: dict[str, Any]) -> None:
    html = owner_client.get(
        DASHBOARD, {"type": "bogus", "status": "DELETED", "per_page": "7"}
    ).content.decode()
    assert len(ids_on(html)) == 4


def test_it_searches_by_name_or_id(owner_client: Client, family: dict[str, Any]) -> None:
    by_name = owner_client.get(DASHBOARD, {"q": "batch pred"}).content.decode()
    assert ids_on(by_name) == ["bp-z56xPVjwpTi"]
    by_id = owner_client.get(DASHBOARD, {"q": "ml-BwZ5"}).content.decode()
    assert ids_on(by_id) == ["ml-BwZ5toyY935"]
    nothing = owner_client.get(DASHBOARD, {"q": "zzz"}).content.decode()
    assert "No objects match these filters" in nothing


def test_an_empty_dashboard_links_to_creating_a_datasource(owner_client: Client) -> None:
    html = owner_client.get(DASHBOARD).content.decode()
    assert "You have no objects yet" in html
    assert reverse("console:datasource-create") in html


@pytest.mark.parametrize(
    ("per_page", "page", "shown", "label"),
    [
        (10, 1, 10, "1 - 10 of 42 Objects"),
        (10, 5, 2, "41 - 42 of 42 Objects"),
        (25, 2, 17, "26 - 42 of 42 Objects"),
        (50, 1, 42, "1 - 42 of 42 Objects"),
        (100, 1, 42, "1 - 42 of 42 Objects"),
        (10, 99, 2, "41 - 42 of 42 Objects"),
    ],
)
def test_it_pages_the_listing(
    owner_client: Client, owner: Any, per_page: int, page: int, shown: int, label: str
) -> None:
    for n in range(42):
        datasource(owner, n)
    html = owner_client.get(DASHBOARD, {"per_page": per_page, "page": page}).content.decode()
    assert len(ids_on(html)) == shown
    assert label in html


def test_the_pager_links_keep_the_filters(owner_client: Client, owner: Any) -> None:
    for n in range(12):
        datasource(owner, n)
    html = owner_client.get(DASHBOARD, {"type": "datasource", "q": "Data"}).content.decode()
    assert "?type=datasource&amp;q=Data&amp;page=2" in html
    assert 'aria-label="Previous page"' not in html  # no way back from the first page


def test_it_sorts_by_creation_time_both_ways(owner_client: Client, owner: Any) -> None:
    for n in range(3):
        ds = datasource(owner, n)
        DataSource.objects.filter(pk=ds.pk).update(created_at=timezone.now() - timedelta(days=n))
    newest_first = ids_on(owner_client.get(DASHBOARD).content.decode())
    oldest_first = ids_on(owner_client.get(DASHBOARD, {"sort": "created"}).content.decode())
    assert newest_first == ["ds-00000000000", "ds-00000000001", "ds-00000000002"]
    assert oldest_first == list(reversed(newest_first))


def test_it_polls_every_3s_while_something_visible_is_active(
    owner_client: Client, owner: Any
) -> None:
    ds = datasource(
        owner,
        1,
        status=Status.INPROGRESS,
        progress={"records": 41188, "bytes": 10, "totalBytes": 40, "phase": "reading"},
    )
    html = owner_client.get(DASHBOARD).content.decode()
    assert 'hx-trigger="every 3s"' in html
    assert "41,188 records read (25%)" in html
    DataSource.objects.filter(pk=ds.pk).update(status=Status.COMPLETED)
    fragment = owner_client.get(ROWS).content.decode()
    assert 'hx-trigger="every 5s"' in fragment  # slower, but still looking for new objects
    assert "<html" not in fragment


def test_a_pending_object_keeps_the_page_polling(owner_client: Client, owner: Any) -> None:
    datasource(owner, 1, status=Status.PENDING)
    assert 'hx-trigger="every 3s"' in owner_client.get(DASHBOARD).content.decode()


def test_nothing_active_still_polls_every_5s_for_new_objects(
    owner_client: Client, family: dict[str, Any]
) -> None:
    html = owner_client.get(DASHBOARD).content.decode()
    assert "every 3s" not in html and 'hx-trigger="every 5s"' in html
    assert "New objects appear automatically." in html


def test_an_htmx_request_gets_only_the_table(owner_client: Client, family: dict[str, Any]) -> None:
    response = owner_client.get(DASHBOARD, {"type": "mlmodel"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="object-table"')
    assert ids_on(html) == ["ml-BwZ5toyY935"]


def test_it_deletes_the_selected_objects(owner_client: Client, family: dict[str, Any]) -> None:
    response = owner_client.post(
        DELETE,
        {
            "ids": ["datasource:ds-00000000001", "mlmodel:ml-BwZ5toyY935"],
            "next": DASHBOARD + "?type=datasource",
        },
    )
    assert response.status_code == 302 and response["Location"] == DASHBOARD + "?type=datasource"
    for key in ("datasource", "mlmodel"):
        family[key].refresh_from_db()
        assert family[key].status == Status.DELETED
    family["evaluation"].refresh_from_db()
    assert family["evaluation"].status == Status.FAILED


def test_delete_returns_to_the_filters_the_table_shows_even_after_htmx_changed_them(
    owner_client: Client, family: dict[str, Any]
) -> None:
    """Filters swap only the table; its delete form's "next" must come with it, not stay "/"."""
    html = owner_client.get(
        DASHBOARD, {"type": "datasource", "q": "bank", "page": "1"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    field = re.search(r'<input type="hidden" name="next" value="([^"]+)" form="delete-form">', html)
    assert field is not None
    back = field.group(1).replace("&amp;", "&")
    assert back.startswith(DASHBOARD + "?") and "type=datasource" in back and "q=bank" in back
    response = owner_client.post(DELETE, {"ids": "datasource:ds-00000000001", "next": back})
    assert response["Location"] == back


def test_every_page_brings_its_own_icon_so_the_browser_asks_for_no_favicon(
    owner_client: Client,
) -> None:
    html = owner_client.get(DASHBOARD).content.decode()
    assert re.search(r'<link rel="icon" href="data:image/svg\+xml,', html)


def test_it_deletes_by_bare_id_too(owner_client: Client, family: dict[str, Any]) -> None:
    owner_client.post(DELETE, {"ids": "ev-o5yt6SYasGi"})
    family["evaluation"].refresh_from_db()
    assert family["evaluation"].status == Status.DELETED


def test_it_never_deletes_another_users_objects(
    owner_client: Client, owner: Any, stranger: Any
) -> None:
    theirs = datasource(stranger, 9)
    response = owner_client.post(
        DELETE, {"ids": [f"datasource:{theirs.entity_id}", theirs.entity_id]}, follow=True
    )
    theirs.refresh_from_db()
    assert theirs.status == Status.COMPLETED
    assert "were not found" in response.content.decode()


def test_it_refuses_an_offsite_next(owner_client: Client, family: dict[str, Any]) -> None:
    response = owner_client.post(DELETE, {"ids": "ds-00000000001", "next": "https://evil.example/"})
    assert response["Location"] == DASHBOARD


def test_delete_needs_a_csrf_token(owner: Any, family: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post(DELETE, {"ids": "datasource:ds-00000000001"}).status_code == 403
    family["datasource"].refresh_from_db()
    assert family["datasource"].status == Status.COMPLETED


def test_delete_is_post_only(owner_client: Client) -> None:
    assert owner_client.get(DELETE).status_code == 405


@pytest.mark.parametrize("path", [DASHBOARD, ROWS])
def test_an_anonymous_visitor_is_sent_to_log_in(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_dashboard_loads_no_external_script(
    owner_client: Client, family: dict[str, Any]
) -> None:
    html = owner_client.get(DASHBOARD).content.decode()
    assert not [s for s in re.findall(r'<script[^>]*\ssrc="([^"]+)"', html) if "http" in s]


def test_the_listing_never_loads_statistics(owner: Any, django_assert_max_num_queries: Any) -> None:
    datasource(owner, 1, statistics={"attributes": [{"name": "x" * 1000}]})
    with django_assert_max_num_queries(4):
        listing = list_objects(owner, ListingQuery())
    assert "statistics" in listing.rows[0].obj.get_deferred_fields()


# --------------------------------------------------------------------------- new objects (item 4)


def poll_url(html: str) -> str:
    """The address the table asks every few seconds."""
    match = re.search(r'<div id="object-table" hx-get="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1).replace("&amp;", "&")


def test_an_object_created_elsewhere_appears_at_the_next_poll(
    owner_client: Client, owner: Any, family: dict[str, Any]
) -> None:
    url = poll_url(owner_client.get(DASHBOARD).content.decode())
    datasource(owner, 77, name="Made by a program")
    fragment = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "ds-00000000077" in ids_on(fragment)
    assert "1 - 5 of 5 Objects" in fragment


def test_the_poll_keeps_the_filters_search_sort_and_page(owner_client: Client, owner: Any) -> None:
    for n in range(30):
        datasource(owner, n, name=f"Bank {n:02d}")
    datasource(owner, 99, name="Other")
    params = {"type": "datasource", "q": "bank", "sort": "-name", "page": "2", "per_page": "25"}
    html = owner_client.get(DASHBOARD, params).content.decode()
    url = poll_url(html)
    assert url.startswith(ROWS + "?")
    for key, value in params.items():
        assert f"{key}={value}" in url
    datasource(owner, 100, name="Bank 99")  # sorts first by name descending: page 2 gains one
    fragment = owner_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    names = re.findall(r'title="(Bank \d\d)"', fragment)
    assert names == [f"Bank {n:02d}" for n in range(5, -1, -1)]
    assert "26 - 31 of 31 Objects" in fragment


# --------------------------------------------------------------------------- sorting (item 9)


@pytest.fixture
def sortable(owner: Any) -> dict[str, Any]:
    """Three objects whose every column sorts differently."""
    now = timezone.now()
    ds = datasource(owner, 1, name="beta", status=Status.FAILED)
    DataSource.objects.filter(pk=ds.pk).update(
        created_at=now - timedelta(days=3), finished_at=now - timedelta(days=3) + timedelta(hours=2)
    )
    ml = MLModel.objects.create(
        owner=owner,
        entity_id="ml-0000000000a",
        name="Alpha",
        training_data_source=ds,
        ml_model_type="BINARY",
        status=Status.PENDING,
    )
    MLModel.objects.filter(pk=ml.pk).update(created_at=now - timedelta(days=2))
    ev = Evaluation.objects.create(
        owner=owner,
        entity_id="ev-zzzzzzzzzzz",
        name="gamma",
        ml_model=ml,
        evaluation_data_source=ds,
        status=Status.COMPLETED,
    )
    Evaluation.objects.filter(pk=ev.pk).update(
        created_at=now - timedelta(days=1),
        finished_at=now - timedelta(days=1) + timedelta(minutes=5),
    )
    return {"ds": ds.entity_id, "ml": ml.entity_id, "ev": ev.entity_id}


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["ml", "ds", "ev"]),  # Alpha, beta, gamma: case does not matter
        ("-name", ["ev", "ds", "ml"]),
        ("type", ["ds", "ev", "ml"]),  # Datasource, Evaluation, ML model
        ("-type", ["ml", "ev", "ds"]),
        ("id", ["ds", "ev", "ml"]),
        ("-id", ["ml", "ev", "ds"]),
        ("status", ["ml", "ev", "ds"]),  # lifecycle order: Pending, Completed, Failed
        ("-status", ["ds", "ev", "ml"]),
        ("created", ["ds", "ml", "ev"]),
        ("-created", ["ev", "ml", "ds"]),
        ("completed", ["ev", "ds", "ml"]),  # 5 minutes, 2 hours, then the unfinished model
        ("-completed", ["ds", "ev", "ml"]),
    ],
)
def test_it_sorts_by_every_column_both_ways(
    owner_client: Client, sortable: dict[str, str], sort: str, expected: list[str]
) -> None:
    html = owner_client.get(DASHBOARD, {"sort": sort}).content.decode()
    assert ids_on(html) == [sortable[k] for k in expected]


def test_an_unknown_sort_falls_back_to_newest_first(
    owner_client: Client, sortable: dict[str, str]
) -> None:
    html = owner_client.get(DASHBOARD, {"sort": "-password"}).content.decode()
    assert ids_on(html) == [sortable[k] for k in ("ev", "ml", "ds")]


def test_a_heading_sorts_by_its_column_and_a_second_click_reverses_it(
    owner_client: Client, sortable: dict[str, str]
) -> None:
    html = owner_client.get(DASHBOARD, {"type": "mlmodel"}).content.decode()
    name_link = re.search(r'data-sort-key="name"><a class="sort-link" href="([^"]+)"', html)
    assert (
        name_link
        and name_link.group(1).replace("&amp;", "&") == DASHBOARD + "?type=mlmodel&sort=name"
    )
    sorted_html = owner_client.get(DASHBOARD, {"type": "mlmodel", "sort": "name"}).content.decode()
    assert '<th aria-sort="ascending" data-sort-key="name">' in sorted_html
    again = re.search(r'data-sort-key="name"><a class="sort-link" href="([^"]+)"', sorted_html)
    assert again and "sort=-name" in again.group(1)


def test_the_sort_goes_with_the_filters_form_and_the_pager(
    owner_client: Client, owner: Any
) -> None:
    """The headings swap only the table; the filters form outside it reads the sort from it."""
    for n in range(12):
        datasource(owner, n)
    html = owner_client.get(
        ROWS, {"sort": "id", "q": "Data"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert '<input type="hidden" name="sort" value="id" form="filters"' in html
    assert "?q=Data&amp;sort=id&amp;page=2" in html
    per_page_25 = owner_client.get(DASHBOARD, {"sort": "id", "per_page": "25"}).content.decode()
    assert ids_on(per_page_25) == [f"ds-{n:011d}" for n in range(12)]


# --------------------------------------------------------------------------- the row expander (item 9)


def facts_url(type_key: str, entity_id: str) -> str:
    return reverse("console:dashboard-facts", args=[type_key, entity_id])


def test_every_row_has_an_expander_that_loads_its_facts(
    owner_client: Client, family: dict[str, Any]
) -> None:
    html = owner_client.get(DASHBOARD).content.decode()
    for key, obj in family.items():
        assert f'data-facts-url="{facts_url(key, obj.entity_id)}"' in html
    assert html.count('class="facts-row"') == 4


def test_a_models_facts_name_its_type_threshold_training_data_and_links(
    owner_client: Client, family: dict[str, Any]
) -> None:
    html = owner_client.get(facts_url("mlmodel", "ml-BwZ5toyY935")).content.decode()
    assert "<dt>Model type</dt><dd>Binary</dd>" in html
    assert "<dt>Score threshold</dt><dd>0.5</dd>" in html
    assert reverse("console:datasource-detail", args=["ds-00000000001"]) in html
    assert reverse("console:mlmodel-detail", args=["ml-BwZ5toyY935"]) in html
    assert "Generate batch predictions" in html


def test_an_evaluations_facts_show_its_metric_model_and_datasource(
    owner_client: Client, family: dict[str, Any]
) -> None:
    Evaluation.objects.filter(entity_id="ev-o5yt6SYasGi").update(
        status=Status.COMPLETED, performance_metrics={"Properties": {"BinaryAUC": "0.9312"}}
    )
    html = owner_client.get(facts_url("evaluation", "ev-o5yt6SYasGi")).content.decode()
    assert "<dt>BinaryAUC</dt><dd>0.9312</dd>" in html
    assert "ML model: Banking data (ml-BwZ5toyY935)" in html
    assert "Banking data (ds-00000000001)" in html


def test_a_failed_objects_facts_say_why(owner_client: Client, owner: Any) -> None:
    datasource(owner, 5, status=Status.FAILED, message="Line 7 has 3 fields, not 4.")
    html = owner_client.get(facts_url("datasource", "ds-00000000005")).content.decode()
    assert "<dt>Why it failed</dt><dd>Line 7 has 3 fields, not 4.</dd>" in html


def test_a_batch_predictions_facts_say_where_its_results_are(
    owner_client: Client, family: dict[str, Any]
) -> None:
    html = owner_client.get(facts_url("batchprediction", "bp-z56xPVjwpTi")).content.decode()
    assert "<dt>Results</dt><dd>s3://b/out/</dd>" in html


@pytest.mark.parametrize(
    ("type_key", "entity_id"),
    [("datasource", "ds-00000000009"), ("bogus", "ds-00000000001"), ("mlmodel", "ds-00000000001")],
)
def test_the_expander_is_a_404_for_another_users_object_or_a_wrong_type(
    owner_client: Client, owner: Any, stranger: Any, type_key: str, entity_id: str
) -> None:
    datasource(owner, 1)
    datasource(stranger, 9)
    assert owner_client.get(facts_url(type_key, entity_id)).status_code == 404

"""Describe* (console/api/describe.py): filters, sort orders, paging, tokens, and owners."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_client import ml_client
from botocore_shapes import parsed_by_botocore, shape_problems
from django.core import signing

from console.api.describe import LISTINGS, describe
from console.api.errors import ApiError
from console.api.keys import create_access_key
from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status

pytestmark = pytest.mark.django_db

BASE = "http://aml.example:8000"
DAY0 = datetime(2025, 3, 1, 9, 0, 0, 250000, tzinfo=UTC)
LENIENT = frozenset({"S3Url", "VipURL"})
ID_KEY = {
    DataSource: "DataSourceId",
    MLModel: "MLModelId",
    Evaluation: "EvaluationId",
    BatchPrediction: "BatchPredictionId",
}


@pytest.fixture(autouse=True)
def _quick_passwords(settings: Any) -> None:
    """The personas' passwords hashed cheaply: every test here makes two users."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- A small world: three of each type for the owner, one of each for a stranger -------------


@dataclass
class World:
    objects: dict[type[AMLObject], list[AMLObject]]


def _stamp(obj: AMLObject, created: datetime, updated: datetime) -> None:
    type(obj).objects.filter(pk=obj.pk).update(created_at=created, updated_at=updated)


def _data_source(
    owner: Any, entity_id: str, name: str, kind: str, where: str, status: str
) -> DataSource:
    return DataSource.objects.create(
        owner=owner,
        entity_id=entity_id,
        name=name,
        source_kind=kind,
        data_location_s3=where,
        status=status,
    )


def build_world(owner: Any, *, prefix: str = "") -> World:
    """Created a day apart from DAY0 (a stranger's with `prefix`, on the same days)."""
    ds = [
        _data_source(
            owner, f"{prefix}ds-A", "Alpha", "s3", "s3://aml-data/a.csv", Status.COMPLETED
        ),
        _data_source(owner, f"{prefix}ds-B", "beta", "upload", "uploads/1/x/b.csv", Status.PENDING),
        _data_source(owner, f"{prefix}ds-C", "Alpha two", "path", "/srv/c.csv", Status.DELETED),
    ]

    def model(
        entity_id: str, name: str, kind: str, source: DataSource | None, **kw: Any
    ) -> MLModel:
        return MLModel.objects.create(
            owner=owner,
            entity_id=f"{prefix}{entity_id}",
            name=name,
            ml_model_type=kind,
            training_data_source=source,
            **kw,
        )

    ml = [
        model("ml-A", "Model a", "BINARY", ds[0], status=Status.COMPLETED, endpoint_status="READY"),
        model("ml-B", "Model B", "REGRESSION", ds[1], status=Status.FAILED),
        model("ml-C", "", "MULTICLASS", None, status=Status.INPROGRESS),
    ]
    ev = [
        Evaluation.objects.create(
            owner=owner, entity_id=f"{prefix}{eid}", name=name, ml_model=m, evaluation_data_source=d
        )
        for eid, name, m, d in (
            ("ev-A", "Eval one", ml[0], ds[1]),
            ("ev-B", "Eval two", ml[1], ds[0]),
            ("ev-C", "eval three", ml[0], ds[2]),
        )
    ]
    bp = [
        BatchPrediction.objects.create(
            owner=owner,
            entity_id=f"{prefix}{bid}",
            name=name,
            ml_model=m,
            batch_prediction_data_source=d,
            output_uri="s3://out/",
        )
        for bid, name, m, d in (
            ("bp-A", "Batch 1", ml[0], ds[2]),
            ("bp-B", "Batch 2", ml[1], ds[0]),
            ("bp-C", "batch 3", ml[0], ds[1]),
        )
    ]
    objects: dict[type[AMLObject], list[AMLObject]] = {
        DataSource: list(ds),
        MLModel: list(ml),
        Evaluation: list(ev),
        BatchPrediction: list(bp),
    }
    for items in objects.values():
        for i, obj in enumerate(items):
            # updated in the reverse order of creation, so the two dates sort differently
            _stamp(obj, DAY0 + timedelta(days=i), DAY0 + timedelta(days=10 - i, hours=3))
            obj.refresh_from_db()
    return World(objects)


@pytest.fixture
def world(owner: Any, stranger: Any) -> World:
    build_world(stranger, prefix="x")  # same names, days and locations: never listed
    return build_world(owner)


def ids(result: dict[str, Any], model_cls: type[AMLObject]) -> list[str]:
    return [item[ID_KEY[model_cls]] for item in result["Results"]]


def run(model_cls: type[AMLObject], owner: Any, **params: Any) -> dict[str, Any]:
    return describe(model_cls, owner, params, base_url=BASE)


# --- What each FilterVariable reads in a result ------------------------------------------------

Reader = Callable[[dict[str, Any]], Any]
READERS: dict[str, Reader] = {
    "CreatedAt": lambda r: r["CreatedAt"],
    "LastUpdatedAt": lambda r: r["LastUpdatedAt"],
    "Status": lambda r: r["Status"],
    "Name": lambda r: r.get("Name", ""),
    "IAMUser": lambda r: r["CreatedByIamUser"],
    "DataLocationS3": lambda r: r["DataLocationS3"],
    "TrainingDataSourceId": lambda r: r.get("TrainingDataSourceId", ""),
    "RealtimeEndpointStatus": lambda r: r["EndpointInfo"]["EndpointStatus"],
    "MLModelType": lambda r: r["MLModelType"],
    "Algorithm": lambda r: r["Algorithm"],
    "TrainingDataURI": lambda r: r.get("InputDataLocationS3", ""),
    "MLModelId": lambda r: r["MLModelId"],
    "DataSourceId": lambda r: r.get("EvaluationDataSourceId") or r["BatchPredictionDataSourceId"],
    "DataURI": lambda r: r["InputDataLocationS3"],
}
DATES = ("CreatedAt", "LastUpdatedAt")
VARIABLES = [(m, v) for m, listing in LISTINGS.items() for v in listing.variables]


def _label(case: tuple[type[AMLObject], str]) -> str:
    return f"{case[0].__name__}-{case[1]}"


def _comparator(variable: str, value: Any) -> str:
    return repr(value) if variable in DATES else value


def _all_values(model_cls: type[AMLObject], owner: Any, variable: str) -> dict[str, Any]:
    everything = run(model_cls, owner)["Results"]
    return {item[ID_KEY[model_cls]]: READERS[variable](item) for item in everything}


def test_every_service_model_variable_is_listed_for_its_type() -> None:
    from botocore_shapes import shape

    for model_cls, name in (
        (DataSource, "DataSourceFilterVariable"),
        (MLModel, "MLModelFilterVariable"),
        (Evaluation, "EvaluationFilterVariable"),
        (BatchPrediction, "BatchPredictionFilterVariable"),
    ):
        assert sorted(LISTINGS[model_cls].variables) == sorted(shape(name).enum)


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "EQ": lambda v, pivot: v == pivot,
    "NE": lambda v, pivot: v != pivot,
    "GT": lambda v, pivot: v > pivot,
    "LT": lambda v, pivot: v < pivot,
    "GE": lambda v, pivot: v >= pivot,
    "LE": lambda v, pivot: v <= pivot,
}


@pytest.mark.parametrize(("model_cls", "variable"), VARIABLES, ids=map(_label, VARIABLES))
def test_each_variable_keeps_exactly_what_every_operator_matches_and_sorts_both_ways(
    world: World, owner: Any, model_cls: type[AMLObject], variable: str
) -> None:
    values = _all_values(model_cls, owner, variable)
    for pivot in sorted(set(values.values())):
        for op, holds in COMPARISONS.items():
            expected = {key for key, value in values.items() if holds(value, pivot)}
            params = {"FilterVariable": variable, op: _comparator(variable, pivot)}
            assert set(ids(run(model_cls, owner, **params), model_cls)) == expected, params
    if variable not in DATES:
        longest = max(values.values(), key=len)
        start = longest[: max(1, len(longest) - 2)]
        expected = {key for key, value in values.items() if value.startswith(start)}
        result = run(model_cls, owner, FilterVariable=variable, Prefix=start)
        assert set(ids(result, model_cls)) == expected and expected
    created = [obj.entity_id for obj in world.objects[model_cls]]  # in creation order
    for order in ("asc", "dsc"):
        result = run(model_cls, owner, FilterVariable=variable, SortOrder=order)
        keys = [
            (READERS[variable](item), created.index(item[ID_KEY[model_cls]]))
            for item in result["Results"]
        ]
        assert keys == sorted(keys, reverse=order == "dsc") and len(keys) == 3


def test_without_a_filter_every_object_is_listed_oldest_first_deleted_included(
    world: World, owner: Any
) -> None:
    result = run(DataSource, owner)
    assert ids(result, DataSource) == ["ds-A", "ds-B", "ds-C"]
    assert result["Results"][2]["Status"] == "DELETED"
    assert "NextToken" not in result


def test_dsc_without_a_filter_is_newest_first(world: World, owner: Any) -> None:
    assert ids(run(MLModel, owner, SortOrder="dsc"), MLModel) == ["ml-C", "ml-B", "ml-A"]


def test_ne_deleted_leaves_deleted_objects_out(world: World, owner: Any) -> None:
    result = run(DataSource, owner, FilterVariable="Status", NE="DELETED")
    assert ids(result, DataSource) == ["ds-A", "ds-B"]


def test_eq_on_name_is_exact_and_case_sensitive(world: World, owner: Any) -> None:
    assert ids(run(DataSource, owner, FilterVariable="Name", EQ="Alpha"), DataSource) == ["ds-A"]
    assert ids(run(DataSource, owner, FilterVariable="Name", EQ="alpha"), DataSource) == []
    assert ids(run(DataSource, owner, FilterVariable="Name", EQ="Alph"), DataSource) == []


def test_prefix_is_case_sensitive(world: World, owner: Any) -> None:
    result = run(Evaluation, owner, FilterVariable="Name", Prefix="Eval")
    assert ids(result, Evaluation) == ["ev-A", "ev-B"]
    assert ids(run(Evaluation, owner, FilterVariable="Name", Prefix="eval"), Evaluation) == ["ev-C"]


def test_operators_combine_into_a_range(world: World, owner: Any) -> None:
    result = run(
        DataSource,
        owner,
        FilterVariable="CreatedAt",
        GE="2025-03-02T00:00:00Z",
        LT="2025-03-03T09:00:00.250000+00:00",
    )
    assert ids(result, DataSource) == ["ds-B"]


def test_a_created_at_read_from_a_result_matches_itself_with_eq(world: World, owner: Any) -> None:
    second = run(BatchPrediction, owner)["Results"][1]
    result = run(BatchPrediction, owner, FilterVariable="CreatedAt", EQ=repr(second["CreatedAt"]))
    assert ids(result, BatchPrediction) == ["bp-B"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-03-02T09:00:00.25Z", ["ds-C"]),  # ISO with Z
        ("2025-03-02T10:00:00.25+01:00", ["ds-C"]),  # ISO with an offset
        ("2025-03-02 09:00:00.25", ["ds-C"]),  # ISO without offset: UTC
        ("2025-03-02", ["ds-B", "ds-C"]),  # a date alone: its midnight UTC
        (str(int((DAY0 + timedelta(days=1)).timestamp())), ["ds-B", "ds-C"]),  # whole seconds
    ],
)
def test_dates_accept_epoch_seconds_or_iso_8601(
    world: World, owner: Any, value: str, expected: list[str]
) -> None:
    assert ids(run(DataSource, owner, FilterVariable="CreatedAt", GT=value), DataSource) == expected


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("2025", ["ds-A", "ds-B", "ds-C"]),
        ("2025-03", ["ds-A", "ds-B", "ds-C"]),
        ("2025-03-02", ["ds-B"]),
        ("2025-03-03T09", ["ds-C"]),
        ("2025-03-03T09:00", ["ds-C"]),
        ("2025-03-03T09:00:00", ["ds-C"]),
        ("2025-03-03T08", []),
        ("2024", []),
    ],
)
def test_prefix_on_a_date_matches_the_period_it_names(
    world: World, owner: Any, prefix: str, expected: list[str]
) -> None:
    result = run(DataSource, owner, FilterVariable="CreatedAt", Prefix=prefix)
    assert ids(result, DataSource) == expected


def test_prefix_on_last_updated_at_reads_the_update_date(world: World, owner: Any) -> None:
    result = run(DataSource, owner, FilterVariable="LastUpdatedAt", Prefix="2025-03-11")
    assert ids(result, DataSource) == ["ds-A"]


@pytest.mark.parametrize("value", ["yesterday", "NaN", "2025-13-01", "1e400"])
def test_a_value_that_is_no_date_is_refused_naming_the_operator(
    world: World, owner: Any, value: str
) -> None:
    with pytest.raises(ApiError) as caught:
        run(DataSource, owner, FilterVariable="CreatedAt", LE=value)
    assert caught.value.code == "InvalidInputException"
    assert "LE" in caught.value.message


def test_a_date_prefix_that_is_no_date_start_is_refused(world: World, owner: Any) -> None:
    with pytest.raises(ApiError, match="Prefix") as caught:
        run(DataSource, owner, FilterVariable="CreatedAt", Prefix="March")
    assert caught.value.code == "InvalidInputException"


def test_upload_locations_filter_as_the_outputs_show_them(world: World, owner: Any) -> None:
    result = run(DataSource, owner, FilterVariable="DataLocationS3", Prefix="upload://")
    assert ids(result, DataSource) == ["ds-B"]
    result = run(MLModel, owner, FilterVariable="TrainingDataURI", EQ="s3://aml-data/a.csv")
    assert ids(result, MLModel) == ["ml-A"]


def test_iam_user_matches_the_created_by_arn(world: World, owner: Any) -> None:
    arn = "arn:aws:iam::000000000000:user/alice"
    assert len(run(Evaluation, owner, FilterVariable="IAMUser", EQ=arn)["Results"]) == 3
    assert (
        run(
            Evaluation, owner, FilterVariable="IAMUser", EQ="arn:aws:iam::000000000000:user/mallory"
        )["Results"]
        == []
    )


# --- Owners ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model_cls", list(LISTINGS), ids=lambda m: m.__name__)
def test_another_user_s_objects_are_never_listed(
    world: World, owner: Any, stranger: Any, model_cls: type[AMLObject]
) -> None:
    mine = ids(run(model_cls, owner), model_cls)
    theirs = ids(run(model_cls, stranger), model_cls)
    assert mine and all(not i.startswith("x") for i in mine)
    assert theirs and all(i.startswith("x") for i in theirs)
    matching_both = run(model_cls, owner, FilterVariable="CreatedAt", Prefix="2025")
    assert set(ids(matching_both, model_cls)) == set(mine)


# --- Output ----------------------------------------------------------------------------------


@pytest.mark.parametrize("model_cls", list(LISTINGS), ids=lambda m: m.__name__)
def test_results_are_the_summaries_of_the_objects_and_fit_the_service_model(
    world: World, owner: Any, model_cls: type[AMLObject]
) -> None:
    result = run(model_cls, owner)
    problems = shape_problems(result, _output_shape(model_cls), lenient_patterns=LENIENT)
    assert not problems, problems
    summary = LISTINGS[model_cls].summary
    fresh = [type(obj).objects.get(pk=obj.pk) for obj in world.objects[model_cls]]
    assert result["Results"] == [summary(obj, base_url=BASE) for obj in fresh]
    read = parsed_by_botocore(_output_shape(model_cls).removesuffix("Output"), result)
    assert [item["CreatedAt"] for item in read["Results"]] == [obj.created_at for obj in fresh]


def _output_shape(model_cls: type[AMLObject]) -> str:
    return {
        DataSource: "DescribeDataSourcesOutput",
        MLModel: "DescribeMLModelsOutput",
        Evaluation: "DescribeEvaluationsOutput",
        BatchPrediction: "DescribeBatchPredictionsOutput",
    }[model_cls]


def test_models_carry_their_endpoint_info_in_describe_too(world: World, owner: Any) -> None:
    endpoints = [r["EndpointInfo"] for r in run(MLModel, owner)["Results"]]
    assert endpoints[0]["EndpointStatus"] == "READY" and endpoints[0]["EndpointUrl"] == BASE
    assert endpoints[1] == {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}


# --- Paging ----------------------------------------------------------------------------------


def many_data_sources(owner: Any, count: int, *, start: int = 0) -> list[DataSource]:
    made = DataSource.objects.bulk_create(
        DataSource(
            owner=owner,
            entity_id=f"ds-{n:05d}",
            name=f"Data {n % 7}",  # many ties, broken by creation
            source_kind="s3",
            data_location_s3=f"s3://bucket/{n}.csv",
            status=Status.COMPLETED if n % 3 else Status.PENDING,
        )
        for n in range(start, start + count)
    )
    for n, ds in enumerate(made, start=start):
        ds.created_at = DAY0 + timedelta(minutes=n)
    DataSource.objects.bulk_update(made, ["created_at"])
    return made


def all_pages(model_cls: type[AMLObject], owner: Any, **params: Any) -> list[dict[str, Any]]:
    pages = [run(model_cls, owner, **params)]
    while "NextToken" in pages[-1]:
        pages.append(run(model_cls, owner, **params, NextToken=pages[-1]["NextToken"]))
    return pages


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"SortOrder": "dsc"},
        {"FilterVariable": "Name"},
        {"FilterVariable": "Status", "SortOrder": "dsc"},
    ],
    ids=["created-asc", "created-dsc", "name", "status-dsc"],
)
def test_paging_through_250_objects_by_100_yields_each_once(
    owner: Any, params: dict[str, Any]
) -> None:
    many_data_sources(owner, 250)
    pages = all_pages(DataSource, owner, Limit=100, **params)
    assert [len(p["Results"]) for p in pages] == [100, 100, 50]
    assert "NextToken" not in pages[-1]
    listed = [i for page in pages for i in ids(page, DataSource)]
    assert len(listed) == len(set(listed)) == 250
    assert listed == ids(run(DataSource, owner, **params, Limit=100), DataSource) + listed[100:]


def test_paging_keeps_the_filter(owner: Any) -> None:
    many_data_sources(owner, 250)
    pages = all_pages(DataSource, owner, Limit=30, FilterVariable="Name", EQ="Data 3")
    listed = [i for page in pages for i in ids(page, DataSource)]
    assert listed == [f"ds-{n:05d}" for n in range(250) if n % 7 == 3]


def test_the_default_limit_is_100(owner: Any) -> None:
    many_data_sources(owner, 101)
    first = run(DataSource, owner)
    assert len(first["Results"]) == 100 and "NextToken" in first


def test_a_page_exactly_full_at_the_end_has_no_next_token(owner: Any) -> None:
    many_data_sources(owner, 100)
    assert "NextToken" not in run(DataSource, owner, Limit=100)


def test_objects_created_while_paging_arrive_on_a_later_page_without_repeats(owner: Any) -> None:
    many_data_sources(owner, 150)
    first = run(DataSource, owner, Limit=100)
    many_data_sources(owner, 10, start=150)
    second = run(DataSource, owner, Limit=100, NextToken=first["NextToken"])
    assert ids(second, DataSource) == [f"ds-{n:05d}" for n in range(100, 160)]


def test_an_empty_result_costs_one_query(
    world: World, owner: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(1):
        assert run(DataSource, owner, FilterVariable="Name", EQ="nothing") == {"Results": []}


def test_the_limit_may_change_from_page_to_page(owner: Any) -> None:
    many_data_sources(owner, 30)
    first = run(DataSource, owner, Limit=10)
    second = run(DataSource, owner, Limit=25, NextToken=first["NextToken"])
    assert ids(second, DataSource) == [f"ds-{n:05d}" for n in range(10, 30)]


@pytest.mark.parametrize("model_cls", list(LISTINGS), ids=lambda m: m.__name__)
def test_a_page_costs_two_queries_whatever_its_size(
    world: World, owner: Any, model_cls: type[AMLObject], django_assert_num_queries: Any
) -> None:
    many_data_sources(owner, 120)
    if model_cls is not DataSource:  # 120 objects of this type on the world's objects
        template = world.objects[model_cls][0]
        clones = []
        for n in range(120):
            clone = type(template).objects.get(pk=template.pk)
            clone.pk = None
            clone.entity_id = f"{template.entity_id}-{n}"
            clones.append(clone)
        type(template).objects.bulk_create(clones)
    # the page's keys, then its rows with their owner and related objects joined
    with django_assert_num_queries(2):
        first = run(model_cls, owner, Limit=100)
    with django_assert_num_queries(2):
        run(model_cls, owner, Limit=100, NextToken=first["NextToken"])
    assert len(first["Results"]) == 100


# --- Refusals --------------------------------------------------------------------------------


def _refusal(model_cls: type[AMLObject], owner: Any, **params: Any) -> str:
    """The code, HTTP status and message of the refusal these parameters get."""
    with pytest.raises(ApiError) as caught:
        run(model_cls, owner, **params)
    return f"{caught.value.code} {caught.value.status}: {caught.value.message}"


def _names(refusal: str, member: str) -> bool:
    """An InvalidInputException, HTTP 400, whose message names the member."""
    return refusal.startswith("InvalidInputException 400: ") and member in refusal


def test_a_token_that_is_not_ours_is_refused_naming_next_token(world: World, owner: Any) -> None:
    assert _names(_refusal(DataSource, owner, NextToken="eyJub3QiOiAib3VycyJ9"), "NextToken")


def test_a_tampered_token_is_refused(owner: Any) -> None:
    many_data_sources(owner, 20)
    token = run(DataSource, owner, Limit=5)["NextToken"]
    payload, _, signature = token.rpartition(":")
    forged = signing.dumps({"q": "x", "v": "2020-01-01T00:00:00+00:00", "k": 0})
    for bad in (
        payload[:-1] + ("A" if payload[-1] != "A" else "B") + ":" + signature,
        forged,
        token[:-2],
    ):
        assert _names(_refusal(DataSource, owner, Limit=5, NextToken=bad), "NextToken")


def test_another_user_s_token_is_refused(owner: Any, stranger: Any) -> None:
    many_data_sources(owner, 20)
    token = run(DataSource, owner, Limit=5)["NextToken"]
    assert _names(_refusal(DataSource, stranger, Limit=5, NextToken=token), "NextToken")


def test_a_token_of_another_type_or_filter_is_refused(world: World, owner: Any) -> None:
    token = run(DataSource, owner, Limit=1)["NextToken"]
    assert _names(_refusal(MLModel, owner, Limit=1, NextToken=token), "NextToken")
    assert _names(
        _refusal(DataSource, owner, Limit=1, SortOrder="dsc", NextToken=token), "NextToken"
    )
    assert _names(
        _refusal(DataSource, owner, Limit=1, FilterVariable="Name", NextToken=token), "NextToken"
    )


@pytest.mark.parametrize("limit", [0, 101, -1, "10", 2.5, True])
def test_a_limit_outside_1_to_100_is_refused(world: World, owner: Any, limit: Any) -> None:
    assert _names(_refusal(DataSource, owner, Limit=limit), "Limit")


def test_a_variable_of_another_type_is_refused(world: World, owner: Any) -> None:
    assert _names(
        _refusal(DataSource, owner, FilterVariable="MLModelType", EQ="BINARY"), "FilterVariable"
    )
    assert _names(_refusal(Evaluation, owner, FilterVariable="DataLocationS3"), "FilterVariable")


def test_an_operator_without_a_variable_is_refused(world: World, owner: Any) -> None:
    assert _names(_refusal(DataSource, owner, EQ="Alpha"), "FilterVariable")


def test_a_sort_order_other_than_asc_or_dsc_is_refused(world: World, owner: Any) -> None:
    assert _names(_refusal(DataSource, owner, SortOrder="desc"), "SortOrder")


# --- Through boto3 (in process: tests/console/api_client.py) ---------------------------------


@pytest.fixture
def aml(owner: Any) -> Any:
    key, secret = create_access_key(owner)
    return ml_client(key.access_key_id, secret)


def test_boto3_s_paginator_walks_every_page_once(owner: Any, aml: Any) -> None:
    many_data_sources(owner, 250)
    pages = list(
        aml.get_paginator("describe_data_sources").paginate(
            FilterVariable="Name", SortOrder="dsc", PaginationConfig={"PageSize": 100}
        )
    )
    listed = [item["DataSourceId"] for page in pages for item in page["Results"]]
    assert [len(page["Results"]) for page in pages] == [100, 100, 50]
    assert len(set(listed)) == 250
    assert isinstance(pages[0]["Results"][0]["CreatedAt"], datetime)


def test_boto3_s_waiter_succeeds_once_every_filtered_object_is_completed(
    world: World, aml: Any
) -> None:
    waiter = aml.get_waiter("ml_model_available")
    waiter.wait(FilterVariable="Name", EQ="Model a", WaiterConfig={"Delay": 0, "MaxAttempts": 1})
    with pytest.raises(Exception, match="failure state"):
        waiter.wait(
            FilterVariable="Name", Prefix="Model", WaiterConfig={"Delay": 0, "MaxAttempts": 1}
        )

"""The dashboard's listing sorted and paged in the database (issue 10) lists exactly what the
in-Python listing it replaced listed: same rows, same order (ties included), same counts."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from typing import Any

import pytest
from django.db.models import Q
from django.utils import timezone

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services import listing
from console.services.listing import (
    FILTER_STATUSES,
    OBJECT_TYPES,
    SORT_COLUMNS,
    TYPE_KEY_OF,
    ListingQuery,
    list_objects,
)

pytestmark = pytest.mark.django_db

# Names that sort differently by case, by casefold() beyond ASCII ("Straße" is "strasse"), and
# empty ones, which sort by their id; several objects share each.
NAMES = ["alpha", "Alpha", "beta", "", "Zeta", "straße", "STRASSE", "Émile", "émile", "zz", "_x"]
STATUSES = [*FILTER_STATUSES, Status.DELETED]


# --------------------------------------------------------------------------- the old listing


def old_listing(owner: Any, query: ListingQuery, limit: int) -> tuple[list[str], int, int, bool]:
    """`list_objects` before issue 10: (rows, total, pages, truncated), a row being "type:id".

    Verbatim but for the rows and two fixes. Each type's newest objects were taken by creation
    time alone, so which of several created in the same microsecond made the limit was up to
    the database; the pk decides now, as it did everywhere else. And "Only the last 1,000
    objects are listed" was missing when a single type had more than 1,000 (each type's list
    was cut to 1,000 before the note's test); it now shows whenever more objects match.
    """
    models = [OBJECT_TYPES[query.type_key]] if query.type_key else list(OBJECT_TYPES.values())
    found: list[AMLObject] = []
    matching = 0
    for model in models:
        qs = model.objects.filter(owner=owner).exclude(status=Status.DELETED)
        if query.status:
            qs = qs.filter(status=query.status)
        if query.q:
            qs = qs.filter(Q(name__icontains=query.q) | Q(entity_id__icontains=query.q))
        found.extend(qs.order_by("-created_at", "-pk")[:limit])
        matching += qs.count()
    found.sort(key=lambda o: (o.created_at, o.pk), reverse=True)
    truncated = matching > limit
    found = old_sort(found[:limit], query.sort_key, descending=query.descending)
    pages = max(1, math.ceil(len(found) / query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    rows = [f"{TYPE_KEY_OF[type(o)]}:{o.entity_id}" for o in found[start : start + query.per_page]]
    return rows, len(found), pages, truncated


def old_sort(objs: list[AMLObject], key: str, *, descending: bool) -> list[AMLObject]:
    by_age = sorted(objs, key=lambda o: (o.created_at, o.pk), reverse=True)
    if key == "completed":
        done = [o for o in by_age if o.finished_at is not None]
        waiting = [o for o in by_age if o.finished_at is None]
        done.sort(key=lambda o: o.finished_at - o.created_at, reverse=descending)  # type: ignore[operator]
        return done + waiting
    values: dict[str, Any] = {
        "name": lambda o: o.display_name.casefold(),
        "type": lambda o: o.TYPE_LABEL,
        "id": lambda o: o.entity_id,
        "status": lambda o: [*FILTER_STATUSES, o.status].index(o.status),
        "created": lambda o: (o.created_at, o.pk),
    }
    return sorted(by_age, key=values[key], reverse=descending)


def new_listing(owner: Any, query: ListingQuery) -> tuple[list[str], int, int, bool]:
    found = list_objects(owner, query)
    return [r.selection_value for r in found.rows], found.total, found.pages, found.truncated


# --------------------------------------------------------------------------- generated objects


def generated_objects(owner: Any, count: int, *, seed: int, ascii_only: bool = False) -> None:
    """`count` objects of each type, mixed statuses and names; many created in the same
    microsecond (across types, where pks also coincide) and finished after equal durations."""
    rng = random.Random(seed)
    names = [n for n in NAMES if n.isascii()] if ascii_only else NAMES
    now = timezone.now().replace(microsecond=0)
    moments = [now - timedelta(minutes=rng.randrange(count)) for _ in range(count)]
    created_at: dict[str, Any] = {}

    def fields(prefix: str, n: int) -> dict[str, Any]:
        # The nth object of each type often shares its creation time and, its table's pks
        # counting from the same start, its pk: only the type can order those.
        created = moments[n] if rng.random() < 0.5 else rng.choice(moments)
        done = rng.random() < 0.6
        entity_id = f"{prefix}-{rng.choice('aAbB')}{seed:02d}{n:04d}"
        created_at[entity_id] = created
        return {
            "owner": owner,
            "entity_id": entity_id,
            "name": rng.choice(names),
            "status": rng.choice(STATUSES),
            "finished_at": created + timedelta(seconds=rng.choice([0, 1, 5, 90])) if done else None,
        }

    sources = DataSource.objects.bulk_create(
        DataSource(source_kind="path", data_location_s3="/d.csv", **fields("ds", n))
        for n in range(count)
    )
    models = MLModel.objects.bulk_create(
        MLModel(training_data_source=rng.choice(sources), ml_model_type="BINARY", **fields("ml", n))
        for n in range(count)
    )
    made = [
        *sources,
        *models,
        *Evaluation.objects.bulk_create(
            Evaluation(
                ml_model=rng.choice(models), evaluation_data_source=sources[0], **fields("ev", n)
            )
            for n in range(count)
        ),
        *BatchPrediction.objects.bulk_create(
            BatchPrediction(
                ml_model=rng.choice(models),
                batch_prediction_data_source=sources[0],
                output_uri="s3://b/o/",
                **fields("bp", n),
            )
            for n in range(count)
        ),
    ]
    # auto_now_add replaced the creation times on insert; put the generated ones back.
    for obj in made:
        obj.created_at = created_at[obj.entity_id]
    for model in OBJECT_TYPES.values():
        mine = [o for o in made if type(o) is model]
        model.objects.bulk_update(mine, ["created_at", "finished_at"])


def pages_that_differ(owner: Any, limit: int, **params: str) -> list[tuple[str, int]]:
    """The (sort, page) pairs where the new listing differs from the old, over every page of
    these filters and every sort."""
    differing: list[tuple[str, int]] = []
    for key in SORT_COLUMNS:
        for sort in (key, f"-{key}"):
            first = ListingQuery.from_params({**params, "sort": sort, "per_page": "25"})
            expected = old_listing(owner, first, limit)
            for page in range(1, expected[2] + 2):  # and one past the last, shown as the last
                query = ListingQuery.from_params({**params, "sort": sort, "per_page": "25"})
                query = ListingQuery(**{**query.__dict__, "page": page})
                if new_listing(owner, query) != old_listing(owner, query, limit):
                    differing.append((sort, page))
    return differing


FILTERS = [
    {},
    {"type": "mlmodel"},
    {"status": "COMPLETED"},
    {"q": "a"},
    {"q": "STRA", "type": "datasource"},
    {"q": "no such name"},
]


@pytest.mark.parametrize("params", FILTERS)
def test_every_page_of_every_sort_lists_what_the_python_listing_did(
    owner: Any, params: dict[str, str]
) -> None:
    generated_objects(owner, 60, seed=10)
    assert pages_that_differ(owner, listing.LISTING_LIMIT, **params) == []


@pytest.mark.parametrize("params", [{}, {"type": "evaluation"}, {"status": "FAILED"}])
def test_past_the_listing_limit_the_newest_are_listed_as_before(
    owner: Any, monkeypatch: pytest.MonkeyPatch, params: dict[str, str]
) -> None:
    """A limit of 40 on 240 objects: the newest 40 (ties across types at the cutoff included)."""
    monkeypatch.setattr(listing, "LISTING_LIMIT", 40)
    generated_objects(owner, 60, seed=11)
    assert pages_that_differ(owner, 40, **params) == []


def test_plain_ascii_names_sort_in_sql_as_python_sorted_them(owner: Any) -> None:
    generated_objects(owner, 60, seed=12, ascii_only=True)
    assert pages_that_differ(owner, listing.LISTING_LIMIT) == []


def test_another_users_objects_never_enter_the_listing(owner: Any, stranger: Any) -> None:
    generated_objects(stranger, 10, seed=13)
    generated_objects(owner, 10, seed=14)
    found = list_objects(owner, ListingQuery(per_page=100)).rows
    assert {r.obj.owner_id for r in found} == {owner.pk}
    assert len(found) == len(old_listing(owner, ListingQuery(per_page=100), 1000)[0])


# --------------------------------------------------------------------------- cost per page


# The count, the cutoff of the newest 1,000 (once there are more) and the page; sorting by names
# beyond ASCII also asks whether there are any, then reads the sort keys and the page's rows.
QUERIES_PER_PAGE = 4
QUERIES_PER_PAGE_BY_NAME_BEYOND_ASCII = 5


@pytest.mark.parametrize("sort", [*SORT_COLUMNS, "-name", "-completed"])
@pytest.mark.parametrize("page", ["1", "2", "99"])
def test_a_page_costs_the_same_few_queries_with_40_or_400_objects(
    owner: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Any,
    sort: str,
    page: str,
) -> None:
    monkeypatch.setattr(listing, "LISTING_LIMIT", 150)  # so that 400 objects are truncated
    most = QUERIES_PER_PAGE_BY_NAME_BEYOND_ASCII if "name" in sort else QUERIES_PER_PAGE
    query = ListingQuery.from_params({"sort": sort, "page": page, "per_page": "100"})
    generated_objects(owner, 10, seed=15)
    with django_assert_max_num_queries(most):
        assert list_objects(owner, query).rows
    generated_objects(owner, 90, seed=16)
    with django_assert_max_num_queries(most):
        assert list_objects(owner, query).truncated


def test_a_page_reads_only_its_own_rows_and_never_their_big_fields(owner: Any) -> None:
    generated_objects(owner, 50, seed=17)
    found = list_objects(owner, ListingQuery(per_page=10, page=3))
    assert len(found.rows) == 10
    assert all({"log", "tags"} <= r.obj.get_deferred_fields() for r in found.rows)


def test_the_only_the_newest_note_shows_even_when_one_type_alone_has_more(
    owner: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listing, "LISTING_LIMIT", 5)
    for n in range(6):
        DataSource.objects.create(
            owner=owner, entity_id=f"ds-{n}", source_kind="path", data_location_s3="/d.csv"
        )
    found = list_objects(owner, ListingQuery(type_key="datasource"))
    assert (found.total, found.truncated) == (5, True)
    assert [r.obj.entity_id for r in found.rows] == [f"ds-{n}" for n in range(5, 0, -1)]

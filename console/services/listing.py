"""The dashboard's listing: every object of one user's, across the four types, filtered and paged.

AML's console showed the last 1,000 objects of all types in one table. The four tables differ in
columns, so each type gives the same few columns (a type rank tells them apart) to one UNION ALL,
which the database filters, sorts and pages (issue 10: it used to be sorted in Python).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db import connections, router
from django.db.models import (
    Case,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Collate, Lower, NullIf

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.models.base import ACTIVE_STATUSES

from . import common
from .errors import ResourceNotFound, ServiceError

LISTING_LIMIT = 1000
PER_PAGE_CHOICES = (10, 25, 50, 100)
DEFAULT_PER_PAGE = 10

# URL-friendly type keys; the detail page of each is the URL named "<key>-detail".
OBJECT_TYPES: dict[str, type[AMLObject]] = {
    "datasource": DataSource,
    "mlmodel": MLModel,
    "evaluation": Evaluation,
    "batchprediction": BatchPrediction,
}
TYPE_KEY_OF: dict[type[AMLObject], str] = {model: key for key, model in OBJECT_TYPES.items()}
FILTER_STATUSES = (Status.PENDING, Status.INPROGRESS, Status.COMPLETED, Status.FAILED)

# The sortable columns (the `sort` parameter, "-" first for descending) and their headings.
SORT_COLUMNS: dict[str, str] = {
    "name": "Name",
    "type": "Type",
    "id": "ID",
    "status": "Status",
    "created": "Creation time",
    "completed": "Completion time",
}
DEFAULT_SORT = "-created"  # AML's console: newest first
# Status sorts in lifecycle order, not alphabetically, so "Pending" comes before "Completed".
_STATUS_ORDER = {status: i for i, status in enumerate(FILTER_STATUSES)}
# The table polls while a job runs (progress moves) and, more slowly, otherwise: objects created
# in another tab or by a program must appear without Refresh.
ACTIVE_POLL_SECONDS = 3
IDLE_POLL_SECONDS = 5


@dataclass(frozen=True)
class Progress:
    """A running job's progress figure: records read so far and, when known, the share of bytes."""

    records: int
    bytes: int | None
    total_bytes: int | None
    phase: str

    @property
    def percent(self) -> int | None:
        if not self.total_bytes or self.bytes is None:
            return None
        return max(0, min(100, round(100 * self.bytes / self.total_bytes)))


def progress_of(obj: AMLObject) -> Progress | None:
    """Only INPROGRESS jobs report progress; a PENDING job has not started reading."""
    figure = obj.progress or {}
    if obj.status != Status.INPROGRESS or "records" not in figure:
        return None
    return Progress(
        records=int(figure.get("records") or 0),
        bytes=figure.get("bytes"),
        total_bytes=figure.get("totalBytes"),
        phase=str(figure.get("phase") or "reading"),
    )


@dataclass(frozen=True)
class ListingQuery:
    """The dashboard's query string, parsed and clamped to allowed values."""

    type_key: str = ""
    status: str = ""
    q: str = ""
    sort_key: str = "created"
    descending: bool = True
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @classmethod
    def from_params(cls, params: Any) -> ListingQuery:
        type_key = params.get("type", "")
        status = params.get("status", "")
        return cls(
            type_key=type_key if type_key in OBJECT_TYPES else "",
            status=status if status in FILTER_STATUSES else "",
            q=params.get("q", "").strip()[:200],
            **_parse_sort(params.get("sort", "")),
            page=_positive_int(params.get("page"), 1),
            per_page=_choice(params.get("per_page"), PER_PAGE_CHOICES, DEFAULT_PER_PAGE),
        )

    def urlencode(self, **changes: Any) -> str:
        """The query string of this listing with some values changed; defaults are left out."""
        values: dict[str, Any] = {
            "type": self.type_key,
            "status": self.status,
            "q": self.q,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
        }
        values.update(changes)
        defaults = {"page": 1, "per_page": DEFAULT_PER_PAGE}
        kept = {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        return urlencode(kept)

    @property
    def sort(self) -> str:
        """The `sort` parameter: "" for the default, else the column, "-" first if descending."""
        value = f"{'-' if self.descending else ''}{self.sort_key}"
        return "" if value == DEFAULT_SORT else value

    @property
    def ascending(self) -> bool:
        return not self.descending


def _parse_sort(raw: Any) -> dict[str, Any]:
    """`sort=name` ascending, `sort=-name` descending; "created" alone is the old ascending link."""
    value = str(raw or DEFAULT_SORT)
    key = value.lstrip("-")
    if key not in SORT_COLUMNS:
        value, key = DEFAULT_SORT, DEFAULT_SORT.lstrip("-")
    return {"sort_key": key, "descending": value.startswith("-")}


@dataclass(frozen=True)
class SortHeader:
    """One heading of the table: a link that sorts by its column, the other way if already."""

    key: str
    label: str
    active: bool
    descending: bool
    query: str

    @property
    def arrow(self) -> str:
        return ("▼" if self.descending else "▲") if self.active else ""

    @property
    def aria_sort(self) -> str:
        if not self.active:
            return "none"
        return "descending" if self.descending else "ascending"


@dataclass
class ObjectRow:
    obj: AMLObject
    type_key: str

    @property
    def type_label(self) -> str:
        return self.obj.TYPE_LABEL

    @property
    def detail_url_name(self) -> str:
        return f"console:{self.type_key}-detail"

    @property
    def selection_value(self) -> str:
        """What the checkbox posts: the type keeps ids of different types apart."""
        return f"{self.type_key}:{self.obj.entity_id}"

    @property
    def progress(self) -> Progress | None:
        return progress_of(self.obj)


@dataclass
class Listing:
    query: ListingQuery
    rows: list[ObjectRow]
    total: int
    page: int
    pages: int
    truncated: bool = False
    per_page_choices: tuple[int, ...] = field(default=PER_PAGE_CHOICES)

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.query.per_page + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.page * self.query.per_page, self.total)

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def query_string(self) -> str:
        return self.query.urlencode(page=self.page)

    @property
    def previous_query(self) -> str:
        return self.query.urlencode(page=self.page - 1)

    @property
    def next_query(self) -> str:
        return self.query.urlencode(page=self.page + 1)

    @property
    def sort_headers(self) -> list[SortHeader]:
        """Each sortable heading; a click keeps the filters and search and goes to page 1."""
        headers = []
        for key, label in SORT_COLUMNS.items():
            active = key == self.query.sort_key
            # The first click sorts names A→Z but times newest first, as AML's console did.
            first_descending = key in ("created", "completed")
            descending = not self.query.descending if active else first_descending
            value = f"{'-' if descending else ''}{key}"
            query = self.query.urlencode(sort="" if value == DEFAULT_SORT else value, page=1)
            headers.append(SortHeader(key, label, active, self.query.descending, query))
        return headers

    @property
    def any_active(self) -> bool:
        """True while a visible row may still change, which is when the page polls faster."""
        return any(row.obj.status in ACTIVE_STATUSES for row in self.rows)

    @property
    def poll_seconds(self) -> int:
        return ACTIVE_POLL_SECONDS if self.any_active else IDLE_POLL_SECONDS


def list_objects(owner: Any, query: ListingQuery) -> Listing:
    """The owner's non-deleted objects matching the query, newest first unless asked otherwise.

    Filtered, sorted and paged in the database: a UNION ALL of the four types' rows, read newest
    first down an (owner, creation time) index, so a page costs the same few queries and reads
    at most the newest 1,000 rows' keys and its own rows, however many objects there are.
    """
    models = [OBJECT_TYPES[query.type_key]] if query.type_key else list(OBJECT_TYPES.values())
    # Counted up to one past the limit, where the database stops reading: 20,000 objects cost
    # what 1,001 do.
    matching = _union([_keys(m, _matching(m, owner, query)) for m in models])
    found = matching[: LISTING_LIMIT + 1].count()
    total = min(found, LISTING_LIMIT)
    cutoff = _Cutoff(*matching.order_by(*_BY_AGE)[LISTING_LIMIT - 1]) if found > total else None
    pages = max(1, math.ceil(total / query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    wanted = _page_keys(models, owner, query, cutoff, start, query.per_page) if total else []
    rows = [ObjectRow(o, TYPE_KEY_OF[type(o)]) for o in _objects(wanted)]
    return Listing(query, rows, total=total, page=page, pages=pages, truncated=found > total)


# A type's place in the old in-Python listing (datasources first): the last tie-break of every
# sort, for objects of different types created in the same microsecond with the same pk.
_TYPE_RANK: dict[type[AMLObject], int] = {model: i for i, model in enumerate(OBJECT_TYPES.values())}
_TYPE_OF_RANK: dict[int, type[AMLObject]] = {i: model for model, i in _TYPE_RANK.items()}
# The Type column sorts by its label, alphabetically.
_LABEL_RANK: dict[type[AMLObject], int] = {
    model: i for i, model in enumerate(sorted(OBJECT_TYPES.values(), key=lambda m: m.TYPE_LABEL))
}
# Newest first: the order that picks the newest 1,000 and breaks every other sort's ties.
_BY_AGE = ("-created_at", "-id", "type_rank")
_KEY_COLUMNS = ("created_at", "id", "type_rank")
# Only what a row shows (a datasource's statistics can weigh megabytes and must never be loaded
# here), in the order the UNION's branches must all share.
_ROW_COLUMNS = (
    "id",
    "owner_id",
    "entity_id",
    "name",
    "status",
    "created_at",
    "started_at",
    "finished_at",
    "progress",
)
# Characters outside printable ASCII, where SQL's LOWER and Python's casefold() may disagree.
_NOT_PLAIN_ASCII = r"[^ -~]"

_PageKey = tuple[int, int]  # (type rank, pk)


@dataclass(frozen=True)
class _Cutoff:
    """The 1,000th newest matching object: nothing that sorts after it by age is listed."""

    created_at: Any
    pk: int
    type_rank: int


def _matching(model: type[AMLObject], owner: Any, query: ListingQuery) -> QuerySet[Any]:
    qs = model.objects.filter(owner=owner).exclude(status=Status.DELETED)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.q:
        qs = qs.filter(Q(name__icontains=query.q) | Q(entity_id__icontains=query.q))
    return qs.order_by()


def _listed(
    model: type[AMLObject], owner: Any, query: ListingQuery, cutoff: _Cutoff | None
) -> QuerySet[Any]:
    """The model's objects the listing shows: matching, and not older than the cutoff."""
    qs = _matching(model, owner, query)
    if cutoff is None:
        return qs
    newer = Q(created_at__gt=cutoff.created_at) | Q(created_at=cutoff.created_at, pk__gt=cutoff.pk)
    if _TYPE_RANK[model] <= cutoff.type_rank:
        newer |= Q(created_at=cutoff.created_at, pk=cutoff.pk)
    # The first condition says nothing new but is a plain range: the planner then reads the
    # (owner, creation time) index from the cutoff on, not every object of the owner's.
    return qs.filter(Q(created_at__gte=cutoff.created_at) & newer)


def _union(branches: list[QuerySet[Any]]) -> QuerySet[Any]:
    first, *others = branches
    return first.union(*others, all=True) if others else first


def _keys(model: type[AMLObject], qs: QuerySet[Any], **sort_columns: Any) -> QuerySet[Any]:
    """Creation time, pk and type rank of each object, then the sort columns asked for."""
    return qs.annotate(type_rank=Value(_TYPE_RANK[model]), **sort_columns).values_list(
        *_KEY_COLUMNS, *sort_columns
    )


def _page_keys(
    models: list[type[AMLObject]],
    owner: Any,
    query: ListingQuery,
    cutoff: _Cutoff | None,
    start: int,
    count: int,
) -> list[_PageKey]:
    """The page's objects, in order: sorted by the database but for names beyond ASCII."""
    if query.sort_key == "name" and _has_non_ascii_name(models, owner, query, cutoff):
        return _page_keys_by_casefolded_name(models, owner, query, cutoff, start, count)
    branches = [
        _keys(m, _listed(m, owner, query, cutoff), **_sort_columns(m, query.sort_key))
        for m in models
    ]
    ordered = _union(branches).order_by(*_sql_order(query))
    return [(values[2], values[1]) for values in ordered[start : start + count]]


def _sort_columns(model: type[AMLObject], sort_key: str) -> dict[str, Any]:
    """The columns the sort orders by, the same for every type (creation time is a key)."""
    # Code-point order, as Python compares strings: PostgreSQL's default collation would not.
    vendor = connections[router.db_for_read(model)].vendor
    binary = "C" if vendor == "postgresql" else "BINARY"
    if sort_key == "name":
        display_name = Coalesce(NullIf("name", Value("")), "entity_id")
        return {"name_key": Collate(Lower(display_name), binary)}
    if sort_key == "type":
        return {"label_key": Value(_LABEL_RANK[model])}
    if sort_key == "id":
        return {"id_key": Collate("entity_id", binary)}
    if sort_key == "status":
        return {"status_key": _status_rank()}
    if sort_key == "completed":
        duration = F("finished_at") - F("created_at")
        return {
            "waiting_key": Case(When(finished_at__isnull=True, then=Value(1)), default=Value(0)),
            "duration_key": ExpressionWrapper(duration, output_field=DurationField()),
        }
    return {}


def _status_rank() -> Case:
    """Lifecycle order, as in _STATUS_ORDER."""
    whens = [When(status=status, then=Value(rank)) for status, rank in _STATUS_ORDER.items()]
    return Case(*whens, default=Value(len(_STATUS_ORDER)), output_field=IntegerField())


def _sql_order(query: ListingQuery) -> tuple[str, ...]:
    """The column's order, then newest first for ties; unfinished jobs last either way."""
    way = "-" if query.descending else ""
    if query.sort_key == "created":
        return (f"{way}created_at", f"{way}id", "type_rank")
    if query.sort_key == "completed":
        return ("waiting_key", f"{way}duration_key", *_BY_AGE)
    column = {"name": "name_key", "type": "label_key", "id": "id_key", "status": "status_key"}
    return (f"{way}{column[query.sort_key]}", *_BY_AGE)


def _objects(wanted: list[_PageKey]) -> list[AMLObject]:
    """The page's objects, in its order, with only the columns a row shows (one query)."""
    if not wanted:
        return []
    pks: dict[int, list[int]] = {}
    for type_rank, pk in wanted:
        pks.setdefault(type_rank, []).append(pk)
    branches = [_row_values(_TYPE_OF_RANK[rank], pk_list) for rank, pk_list in pks.items()]
    union = _union(branches)
    found = {(v["type_rank"], v["id"]): _object_of(v, union.db) for v in union}
    # An object deleted since its key was read is simply not shown.
    return [found[key] for key in wanted if key in found]


def _row_values(model: type[AMLObject], pks: list[int]) -> QuerySet[Any]:
    endpoint = F("endpoint_status") if model is MLModel else Value("NONE")
    return (
        model.objects.filter(pk__in=pks)
        .order_by()
        .values(*_ROW_COLUMNS, type_rank=Value(_TYPE_RANK[model]), endpoint=endpoint)
    )


def _object_of(values: dict[str, Any], db: str) -> AMLObject:
    """A model instance of the row's values; every other field stays deferred (never loaded)."""
    model = _TYPE_OF_RANK[values["type_rank"]]
    loaded = {name: values[name] for name in _ROW_COLUMNS}
    if model is MLModel:
        loaded["endpoint_status"] = values["endpoint"]
    # from_db() wants the values in the order of the model's fields.
    names = [f.attname for f in model._meta.concrete_fields if f.attname in loaded]
    return model.from_db(db, names, [loaded[name] for name in names])


def _has_non_ascii_name(
    models: list[type[AMLObject]], owner: Any, query: ListingQuery, cutoff: _Cutoff | None
) -> bool:
    branches = [
        _listed(m, owner, query, cutoff)
        .filter(Q(name__regex=_NOT_PLAIN_ASCII) | Q(entity_id__regex=_NOT_PLAIN_ASCII))
        .values_list("id")
        for m in models
    ]
    return _union(branches)[:1].exists()


def _page_keys_by_casefolded_name(
    models: list[type[AMLObject]],
    owner: Any,
    query: ListingQuery,
    cutoff: _Cutoff | None,
    start: int,
    count: int,
) -> list[_PageKey]:
    """The one sort SQL cannot do exactly: str.casefold() of names beyond ASCII ("Straße" is
    "strasse"). Sorts the listed objects' names (at most 1,000 short rows) in Python."""
    branches = [
        _listed(m, owner, query, cutoff)
        .annotate(type_rank=Value(_TYPE_RANK[m]))
        .values_list("name", "entity_id", "created_at", "id", "type_rank")
        for m in models
    ]
    keys = sorted(_union(branches), key=lambda k: k[4])
    keys.sort(key=lambda k: (k[2], k[3]), reverse=True)
    keys.sort(key=lambda k: (k[0] or k[1]).casefold(), reverse=query.descending)
    return [(k[4], k[3]) for k in keys[start : start + count]]


def delete_objects(
    owner: Any, selections: list[str], refused: list[str] | None = None
) -> tuple[int, int]:
    """Delete each selected object of the owner's; returns (deleted, not found).

    A selection is "type:entity_id" (what the dashboard posts) or a bare id, looked up in every
    type. Another user's id is simply not found, never an error that reveals it exists. Why an
    object could not be deleted (a model with a real-time endpoint) is added to `refused`.
    """
    deleted = missing = 0
    for selection in dict.fromkeys(s.strip() for s in selections if s.strip()):
        targets = _resolve_selection(owner, selection)
        if not targets:
            missing += 1
        for model, entity_id in targets:
            try:
                common.delete(model, owner, entity_id)
            except ServiceError as exc:
                if refused is not None:
                    refused.append(exc.message)
                continue
            deleted += 1
    return deleted, missing


def _resolve_selection(owner: Any, selection: str) -> list[tuple[type[AMLObject], str]]:
    type_key, _, entity_id = selection.rpartition(":")
    models = [OBJECT_TYPES[type_key]] if type_key in OBJECT_TYPES else OBJECT_TYPES.values()
    targets = []
    for model in models:
        try:
            obj = common.get_owned(model, owner, entity_id, include_deleted=False)
        except ResourceNotFound:
            continue
        targets.append((model, obj.entity_id))
    return targets


def _positive_int(raw: Any, default: int) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError):
        return default
    return value if value >= 1 else default


def _choice(raw: Any, choices: tuple[int, ...], default: int) -> int:
    value = _positive_int(raw, default)
    return value if value in choices else default

"""The dashboard's listing: every object of one user's, across the four types, filtered and paged.

AML's console showed the last 1,000 objects of all types in one table; we union four small queries
in Python (each capped at that limit) rather than a SQL UNION, because the tables differ in columns.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet

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

# Only what a row shows: a datasource's statistics can weigh megabytes and must never be loaded here.
_ROW_FIELDS = (
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
    ascending: bool = False
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
            ascending=params.get("sort", "") == "created",
            page=_positive_int(params.get("page"), 1),
            per_page=_choice(params.get("per_page"), PER_PAGE_CHOICES, DEFAULT_PER_PAGE),
        )

    def urlencode(self, **changes: Any) -> str:
        """The query string of this listing with some values changed; defaults are left out."""
        values: dict[str, Any] = {
            "type": self.type_key,
            "status": self.status,
            "q": self.q,
            "sort": "created" if self.ascending else "",
            "page": self.page,
            "per_page": self.per_page,
        }
        values.update(changes)
        defaults = {"page": 1, "per_page": DEFAULT_PER_PAGE}
        kept = {k: v for k, v in values.items() if v not in ("", None) and defaults.get(k) != v}
        return urlencode(kept)


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
    def sort_toggle_query(self) -> str:
        return self.query.urlencode(sort="" if self.query.ascending else "created", page=1)

    @property
    def any_active(self) -> bool:
        """True while a visible row may still change, which is when the page keeps polling."""
        return any(row.obj.status in ACTIVE_STATUSES for row in self.rows)


def list_objects(owner: Any, query: ListingQuery) -> Listing:
    """The owner's non-deleted objects matching the query, newest first unless asked otherwise."""
    models = [OBJECT_TYPES[query.type_key]] if query.type_key else list(OBJECT_TYPES.values())
    found: list[AMLObject] = []
    for model in models:
        found.extend(_matching(model, owner, query)[:LISTING_LIMIT])
    found.sort(key=lambda o: (o.created_at, o.pk), reverse=not query.ascending)
    truncated = len(found) > LISTING_LIMIT
    found = found[:LISTING_LIMIT]
    pages = max(1, math.ceil(len(found) / query.per_page))
    page = min(query.page, pages)
    start = (page - 1) * query.per_page
    rows = [ObjectRow(o, TYPE_KEY_OF[type(o)]) for o in found[start : start + query.per_page]]
    return Listing(query, rows, total=len(found), page=page, pages=pages, truncated=truncated)


def _matching(model: type[AMLObject], owner: Any, query: ListingQuery) -> QuerySet[Any]:
    # A model's row also shows its real-time endpoint's status.
    fields = (*_ROW_FIELDS, "endpoint_status") if model is MLModel else _ROW_FIELDS
    qs = model.objects.filter(owner=owner).exclude(status=Status.DELETED).only(*fields)
    if query.status:
        qs = qs.filter(status=query.status)
    if query.q:
        qs = qs.filter(Q(name__icontains=query.q) | Q(entity_id__icontains=query.q))
    return qs.order_by("created_at" if query.ascending else "-created_at")


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

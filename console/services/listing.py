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
    """The owner's non-deleted objects matching the query, newest first unless asked otherwise."""
    models = [OBJECT_TYPES[query.type_key]] if query.type_key else list(OBJECT_TYPES.values())
    found: list[AMLObject] = []
    for model in models:
        found.extend(_matching(model, owner, query)[:LISTING_LIMIT])
    # The listing is the newest 1,000 objects (as AML's), whatever order they are shown in.
    found.sort(key=lambda o: (o.created_at, o.pk), reverse=True)
    truncated = len(found) > LISTING_LIMIT
    found = sort_objects(found[:LISTING_LIMIT], query.sort_key, descending=query.descending)
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
    return qs.order_by("-created_at")


def sort_objects(objs: list[AMLObject], key: str, *, descending: bool) -> list[AMLObject]:
    """Sort by one column; ties keep the newest first, and a job not finished yet (no
    completion time) comes last either way."""
    by_age = sorted(objs, key=lambda o: (o.created_at, o.pk), reverse=True)
    if key == "completed":
        done = [o for o in by_age if o.finished_at is not None]
        waiting = [o for o in by_age if o.finished_at is None]
        done.sort(key=lambda o: o.finished_at - o.created_at, reverse=descending)  # type: ignore[operator]
        return done + waiting
    return sorted(by_age, key=_SORT_VALUES[key], reverse=descending)


_SORT_VALUES: dict[str, Any] = {
    "name": lambda o: o.display_name.casefold(),
    "type": lambda o: o.TYPE_LABEL,
    "id": lambda o: o.entity_id,
    "status": lambda o: _STATUS_ORDER.get(o.status, len(_STATUS_ORDER)),
    "created": lambda o: (o.created_at, o.pk),
}


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

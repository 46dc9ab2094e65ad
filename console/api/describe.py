"""Describe{DataSources,MLModels,Evaluations,BatchPredictions}: one user's objects filtered,
sorted and paged in the database, shaped by `console.api.outputs`.

Parameters (the service model's Describe*Input; the dispatcher has checked their types):

* `FilterVariable` names what the operators compare and what the results are sorted by
  (default `CreatedAt`). The operators `EQ`, `GT`, `LT`, `GE`, `LE`, `NE` and `Prefix` may be
  combined (e.g. `GE` and `LT` for a range); every one given must hold. An operator without a
  `FilterVariable` is refused rather than guessed.
* Text variables compare as the strings the outputs show, case-sensitively (`EQ` on `Name` is
  exact; `Prefix` is a case-sensitive start); `GT`/`LT` and the sort follow the database's
  collation (SQLite: code points; PostgreSQL: the database's locale), and `Status` sorts
  alphabetically like any text. `IAMUser` is the `CreatedByIamUser` ARN. The
  location variables (`DataLocationS3`, `TrainingDataURI`, `DataURI`) compare the
  `DataLocationS3` the datasource shows (an upload's reads `upload://…`).
* Dates (`CreatedAt`, `LastUpdatedAt`) compare as instants. A value is either epoch seconds,
  as the outputs give them (`"1422475435.595"`, exact to the microsecond, so a `CreatedAt` read
  from a result matches itself with `EQ`), or an ISO 8601 date-time (`2014-09-09T12:30:00Z`,
  with an offset, or without one for UTC; a date alone is its midnight UTC). `Prefix` on a date
  takes the start of an ISO 8601 UTC date-time and matches the whole period it names:
  `2014`, `2014-09`, `2014-09-09`, `2014-09-09T12`, `2014-09-09T12:30`, `2014-09-09T12:30:05`.
  (The reference does not record how AML read date comparators; this is our choice.)
* `SortOrder` `asc` (the default: oldest first by CreatedAt, so objects made while a client
  pages arrive on its last page) or `dsc`; ties are broken by creation order.
* `Limit` 1 to 100 (default 100). `NextToken` is opaque: a signed keyset (the last result's sort
  value and row), bound to the user, the type and the filter, so a token tampered with, of
  another user's, another type's or another filter's is `InvalidInputException` naming
  NextToken. A page is full unless it is the last; `NextToken` is absent on the last page.

Every object of the user's is listed, DELETED ones included: AML kept a deleted object (Get*
still returns it with Status DELETED) and listed it; `FilterVariable=Status, NE=DELETED` leaves
them out. Note that a waiter (`*_available`) whose filter matches a deleted object waits until
it times out, since DELETED is neither COMPLETED nor FAILED. Another user's objects are never
listed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.core import signing
from django.db.models import (
    Case,
    CharField,
    Expression,
    F,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, Substr

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel
from console.services.datasources import UPLOAD_SCHEME

from . import outputs
from .errors import ApiError

DEFAULT_LIMIT = 100
MAX_LIMIT = 100
OPERATORS = ("EQ", "GT", "LT", "GE", "LE", "NE", "Prefix")
SORT_ORDERS = ("asc", "dsc")
DEFAULT_VARIABLE = "CreatedAt"
_TOKEN_SALT = "console.api.describe.NextToken"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = Decimal(1_000_000)
_VALUE = "_aml_value"  # the annotation the filter and the order read
_PREFIX = "_aml_prefix"

Summary = Callable[..., dict[str, Any]]


@dataclass(frozen=True)
class Variable:
    """A FilterVariable: the SQL expression of its value (never NULL) and whether it is a date."""

    expression: Callable[[Any], Expression]  # given the owner
    is_date: bool = False


def _field(name: str) -> Callable[[Any], Expression]:
    return lambda _owner: Coalesce(F(name), Value(""), output_field=CharField())


def _date(name: str) -> Variable:
    return Variable(lambda _owner: F(name), is_date=True)


def _location(relation: str = "") -> Callable[[Any], Expression]:
    """The DataLocationS3 a datasource shows (`data_location_of`), in SQL."""
    kind, where = f"{relation}source_kind", f"{relation}data_location_s3"

    def expression(_owner: Any) -> Expression:
        shown = Case(
            When(
                **{kind: DataSource.SourceKind.UPLOAD},
                then=Concat(Value(UPLOAD_SCHEME), F(where), output_field=CharField()),
            ),
            default=F(where),
            output_field=CharField(),
        )
        return Coalesce(shown, Value(""), output_field=CharField())

    return expression


def _iam_user(owner: Any) -> Expression:
    # Only the owner's objects are listed, so the creator is the same for all of them.
    return Value(outputs.iam_user_arn(owner), output_field=CharField())


_COMMON: dict[str, Variable] = {
    "CreatedAt": _date("created_at"),
    "LastUpdatedAt": _date("updated_at"),
    "Status": Variable(_field("status")),
    "Name": Variable(_field("name")),
    "IAMUser": Variable(_iam_user),
}


@dataclass(frozen=True)
class Listing:
    """What one Describe* lists: its variables, the joins its summaries read, what they skip."""

    variables: dict[str, Variable]
    summary: Summary
    related: tuple[str, ...]
    deferred: tuple[str, ...]


# Never loaded for a page: logs, statistics, insights and evaluation details can weigh megabytes.
_HEAVY = ("log", "progress", "tags")
_HEAVY_DATASOURCE = (*_HEAVY, "statistics", "data_schema")
_HEAVY_MODEL = (*_HEAVY, "insights", "recipe")


def _heavy_of(relation: str, fields: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{relation}__{name}" for name in fields)


LISTINGS: dict[type[AMLObject], Listing] = {
    DataSource: Listing(
        variables={**_COMMON, "DataLocationS3": Variable(_location())},
        summary=outputs.data_source_summary,
        related=("owner",),
        deferred=_HEAVY_DATASOURCE,
    ),
    MLModel: Listing(
        variables={
            **_COMMON,
            "TrainingDataSourceId": Variable(_field("training_data_source__entity_id")),
            "RealtimeEndpointStatus": Variable(_field("endpoint_status")),
            "MLModelType": Variable(_field("ml_model_type")),
            "Algorithm": Variable(_field("algorithm")),
            "TrainingDataURI": Variable(_location("training_data_source__")),
        },
        summary=outputs.ml_model_summary,
        related=("owner", "training_data_source"),
        deferred=(*_HEAVY_MODEL, *_heavy_of("training_data_source", _HEAVY_DATASOURCE)),
    ),
    Evaluation: Listing(
        variables={
            **_COMMON,
            "MLModelId": Variable(_field("ml_model__entity_id")),
            "DataSourceId": Variable(_field("evaluation_data_source__entity_id")),
            "DataURI": Variable(_location("evaluation_data_source__")),
        },
        summary=outputs.evaluation_summary,
        related=("owner", "ml_model", "evaluation_data_source"),
        deferred=(
            *_HEAVY,
            "details",
            *_heavy_of("ml_model", (*_HEAVY_MODEL, "training_parameters", "training_choice")),
            *_heavy_of("evaluation_data_source", _HEAVY_DATASOURCE),
        ),
    ),
    BatchPrediction: Listing(
        variables={
            **_COMMON,
            "MLModelId": Variable(_field("ml_model__entity_id")),
            "DataSourceId": Variable(_field("batch_prediction_data_source__entity_id")),
            "DataURI": Variable(_location("batch_prediction_data_source__")),
        },
        summary=outputs.batch_prediction_summary,
        related=("owner", "ml_model", "batch_prediction_data_source"),
        deferred=(
            *_HEAVY,
            "outputs",
            "pass_through",
            *_heavy_of("ml_model", (*_HEAVY_MODEL, "training_parameters", "training_choice")),
            *_heavy_of("batch_prediction_data_source", _HEAVY_DATASOURCE),
        ),
    ),
}


def describe(
    model_cls: type[AMLObject], owner: Any, params: dict[str, Any], *, base_url: str
) -> dict[str, Any]:
    """One page of Describe*: `{"Results": [...], "NextToken": "..."}` (no NextToken on the
    last page). Raises `ApiError("InvalidInputException", ...)` naming the member at fault."""
    listing = LISTINGS[model_cls]
    name, variable = _variable_of(listing, params)
    descending = _sort_order(params) == "dsc"
    limit = _limit(params)
    query_key = _query_key(model_cls, owner, params)

    # Two queries: the page's keys, sorted on (value, pk) alone, then its rows with their joins.
    # Sorting whole joined rows made SQLite copy every one of the user's rows into its sorter.
    keys = model_cls.objects.filter(owner=owner).annotate(**{_VALUE: variable.expression(owner)})
    keys = _filtered(keys, name, variable, params)
    token = params.get("NextToken")
    if token:
        keys = keys.filter(_after(_read_token(token, query_key), variable, descending))
    direction = "-" if descending else ""
    ordered = keys.order_by(f"{direction}{_VALUE}", f"{direction}pk")
    page_keys = list(ordered.values_list("pk", _VALUE)[: limit + 1])

    more = len(page_keys) > limit
    page_keys = page_keys[:limit]
    rows = _rows(model_cls, owner, listing, [pk for pk, _ in page_keys])
    result: dict[str, Any] = {
        "Results": [listing.summary(rows[pk], base_url=base_url) for pk, _ in page_keys]
    }
    if more:
        result["NextToken"] = _make_token(query_key, *page_keys[-1])
    return result


def _rows(
    model_cls: type[AMLObject], owner: Any, listing: Listing, pks: list[int]
) -> dict[int, Any]:
    if not pks:
        return {}
    rows = (
        model_cls.objects.filter(owner=owner, pk__in=pks)  # the owner again: never another's
        .select_related(*listing.related)
        .defer(*listing.deferred)
    )
    return {row.pk: row for row in rows}


# --- Parameters ------------------------------------------------------------------------------


def _variable_of(listing: Listing, params: dict[str, Any]) -> tuple[str, Variable]:
    name = params.get("FilterVariable")
    if name in (None, ""):
        given = [op for op in OPERATORS if params.get(op) is not None]
        if given:
            raise _invalid(f"FilterVariable is required with {given[0]}: name what to compare.")
        name = DEFAULT_VARIABLE
    if name not in listing.variables:
        raise _invalid(
            f"FilterVariable {name!r} is not one of {', '.join(listing.variables)}.",
        )
    return str(name), listing.variables[name]


def _sort_order(params: dict[str, Any]) -> str:
    order = params.get("SortOrder") or "asc"
    if order not in SORT_ORDERS:
        raise _invalid(f"SortOrder must be 'asc' or 'dsc', not {order!r}.")
    return str(order)


def _limit(params: dict[str, Any]) -> int:
    limit = params.get("Limit")
    if limit is None:
        return DEFAULT_LIMIT
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise _invalid(f"Limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}.")
    return limit


def _invalid(message: str) -> ApiError:
    return ApiError("InvalidInputException", message)


# --- The filter ------------------------------------------------------------------------------


def _filtered(
    qs: QuerySet[Any], name: str, variable: Variable, params: dict[str, Any]
) -> QuerySet[Any]:
    for op in OPERATORS:
        value = params.get(op)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _invalid(f"{op} must be a string, not {value!r}.")
        if variable.is_date:
            qs = _date_condition(qs, op, value, name)
        else:
            qs = _text_condition(qs, op, value)
    return qs


_LOOKUPS = {"EQ": "exact", "GT": "gt", "LT": "lt", "GE": "gte", "LE": "lte"}


def _text_condition(qs: QuerySet[Any], op: str, value: str) -> QuerySet[Any]:
    if op == "NE":
        return qs.exclude(**{_VALUE: value})
    if op == "Prefix":
        # Not LIKE: SQLite's is case-insensitive, and a prefix must match exactly.
        return qs.annotate(**{_PREFIX: Substr(_VALUE, 1, len(value))}).filter(**{_PREFIX: value})
    return qs.filter(**{f"{_VALUE}__{_LOOKUPS[op]}": value})


def _date_condition(qs: QuerySet[Any], op: str, value: str, name: str) -> QuerySet[Any]:
    if op == "Prefix":
        start, end = period_of(value, f"Prefix ({name})")
        return qs.filter(**{f"{_VALUE}__gte": start, f"{_VALUE}__lt": end})
    moment = instant_of(value, f"{op} ({name})")
    if op == "NE":
        return qs.exclude(**{_VALUE: moment})
    return qs.filter(**{f"{_VALUE}__{_LOOKUPS[op]}": moment})


def instant_of(value: str, member: str) -> datetime:
    """A comparator value as an aware datetime: epoch seconds or ISO 8601 (UTC if no offset).

    >>> instant_of("1422475435.595", "EQ").isoformat()
    '2015-01-28T20:03:55.595000+00:00'
    >>> instant_of("2015-01-28T21:03:55+01:00", "EQ").isoformat()
    '2015-01-28T20:03:55+00:00'
    """
    text = value.strip()
    try:
        seconds = Decimal(text)
    except InvalidOperation:
        return _iso_instant(text, member)
    if not seconds.is_finite():
        raise _invalid(f"{member}: {value!r} is not a date.")
    micros = int((seconds * _MICRO).to_integral_value(rounding=ROUND_HALF_EVEN))
    try:
        return _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        raise _invalid(f"{member}: {value!r} is out of range for a date.") from None


def _iso_instant(text: str, member: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise _invalid(
            f"{member}: {text!r} is not a date: give epoch seconds (1422475435.595) "
            "or ISO 8601 (2015-01-28T20:03:55Z)."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_DATE_PREFIX = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2}))?)?)?)?)?Z?"
)


def period_of(value: str, member: str) -> tuple[datetime, datetime]:
    """The UTC period the start of an ISO 8601 date-time names, as [start, end).

    >>> [d.isoformat() for d in period_of("2014-12", "Prefix")]
    ['2014-12-01T00:00:00+00:00', '2015-01-01T00:00:00+00:00']
    """
    match = _DATE_PREFIX.fullmatch(value.strip())
    if match is None:
        raise _invalid(
            f"{member}: {value!r} is not the start of an ISO 8601 date "
            "(2014, 2014-09, 2014-09-09, 2014-09-09T12, 2014-09-09T12:30, …)."
        )
    parts = [int(p) for p in match.groups() if p is not None]
    try:
        fields = parts + [1, 1, 0, 0, 0][len(parts) - 1 :]
        start = datetime(*fields[:6], tzinfo=UTC)  # type: ignore[misc]
    except ValueError:
        raise _invalid(f"{member}: {value!r} is not a date.") from None
    return start, _period_end(start, len(parts))


def _period_end(start: datetime, precision: int) -> datetime:
    if precision == 1:
        return start.replace(year=start.year + 1)
    if precision == 2:
        return (start + timedelta(days=32)).replace(day=1)
    unit = {3: timedelta(days=1), 4: timedelta(hours=1), 5: timedelta(minutes=1)}
    return start + unit.get(precision, timedelta(seconds=1))


# --- NextToken -------------------------------------------------------------------------------


def _query_key(model_cls: type[AMLObject], owner: Any, params: dict[str, Any]) -> str:
    """What a token is bound to: the user, the type, the filter and the order (not the Limit,
    which a client may change from page to page)."""
    query = {key: params.get(key) for key in ("FilterVariable", *OPERATORS, "SortOrder")}
    text = json.dumps([model_cls.RESOURCE_TYPE, owner.pk, query], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _make_token(query_key: str, last_pk: int, last_value: Any) -> str:
    if isinstance(last_value, datetime):
        last_value = last_value.astimezone(UTC).isoformat()
    return signing.dumps({"q": query_key, "v": last_value, "k": last_pk}, salt=_TOKEN_SALT)


def _read_token(token: Any, query_key: str) -> tuple[Any, int]:
    if not isinstance(token, str):
        raise _invalid("NextToken is not valid: it must be the string a previous page returned.")
    try:
        payload = signing.loads(token, salt=_TOKEN_SALT)
    except signing.BadSignature:
        raise _invalid(
            "NextToken is not valid: use the token a previous page of this query returned."
        ) from None
    if not isinstance(payload, dict) or payload.get("q") != query_key:
        raise _invalid(
            "NextToken belongs to another query: send the same filter and order with it."
        )
    return payload.get("v"), int(payload.get("k", 0))


def _after(last: tuple[Any, int], variable: Variable, descending: bool) -> Q:
    """The rows after the last one returned, in the page order (sort value, then pk)."""
    value, pk = last
    if variable.is_date:
        value = datetime.fromisoformat(str(value))
    beyond = "lt" if descending else "gt"
    return Q(**{f"{_VALUE}__{beyond}": value}) | Q(**{_VALUE: value, f"pk__{beyond}": pk})


__all__ = ["LISTINGS", "describe", "instant_of", "period_of"]

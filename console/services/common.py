"""Helpers every service shares: finding a user's object, ids, names, tags."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from django.db import transaction

from console import lifecycle
from console.models import AMLObject, Status, new_entity_id
from console.models.base import ENTITY_ID_PATTERN

from .errors import (
    IdempotentParameterMismatch,
    InvalidInput,
    InvalidTag,
    ResourceNotFound,
    TagLimitExceeded,
)

T = TypeVar("T", bound=AMLObject)

MAX_TAGS = 50
TAG_KEY_RE = re.compile(r"^[\w\s.:/=+\-@]{1,128}$")
TAG_VALUE_RE = re.compile(r"^[\w\s.:/=+\-@]{0,256}$")


def get_owned(model: type[T], owner: object, entity_id: str, *, include_deleted: bool = True) -> T:
    """The owner's object with that id; another user's id is simply not found.

    So is an id no object can have (a NUL character in it, say, which PostgreSQL would refuse to
    even look up): it is not asked of the database.
    """
    if not isinstance(entity_id, str) or not re.fullmatch(ENTITY_ID_PATTERN, entity_id):
        shown = entity_id[:80] if isinstance(entity_id, str) else entity_id
        raise ResourceNotFound(f"No {model.TYPE_LABEL} with id {shown!r} exists.")
    qs = model.objects.filter(owner=owner, entity_id=entity_id)
    if not include_deleted:
        qs = qs.exclude(status=Status.DELETED)
    obj = qs.first()
    if obj is None:
        raise ResourceNotFound(f"No {model.TYPE_LABEL} with id {entity_id!r} exists.")
    return obj


def choose_entity_id(model: type[AMLObject], requested: str | None) -> str:
    if not requested:
        return new_entity_id(model.ENTITY_PREFIX)
    if not re.fullmatch(ENTITY_ID_PATTERN, requested):
        raise InvalidInput(
            f"{requested!r} is not a valid id: use 1 to 64 letters, digits, '_', '.' or '-'."
        )
    return requested


def clean_name(name: str | None) -> str:
    name = (name or "").strip()
    if len(name) > 1024:
        raise InvalidInput("A name is at most 1,024 characters.")
    if "\x00" in name:  # no database keeps it (PostgreSQL refuses NUL in text)
        raise InvalidInput("A name cannot contain the NUL character (\\x00).")
    return name


def rename(model: type[T], owner: object, entity_id: str, name: str) -> T:
    obj = get_owned(model, owner, entity_id, include_deleted=False)
    obj.name = clean_name(name)
    obj.save(update_fields=["name", "updated_at"])
    return obj


def delete(model: type[T], owner: object, entity_id: str) -> T:
    obj = get_owned(model, owner, entity_id)
    if (
        getattr(obj, "endpoint_status", "") in ("READY", "UPDATING")
        and obj.status != Status.DELETED
    ):
        # AML: a model's real-time endpoint must be deleted before the model.
        raise InvalidInput(
            f"{obj.TYPE_LABEL} {obj.entity_id} has a real-time endpoint: delete the endpoint first."
        )
    if obj.status != Status.DELETED:
        lifecycle.mark_deleted(obj)
        lifecycle.append_log(obj, "Deleted by its owner.")
    return obj


def stop_job(model: type[T], owner: object, entity_id: str) -> T:
    """Stop the object's job (running or waiting): it ends FAILED, "Stopped by <user> at <time>"."""
    obj = get_owned(model, owner, entity_id)
    if not obj.is_active or not lifecycle.stop(obj, by=str(owner)):
        obj.refresh_from_db()
        raise InvalidInput(
            f"{obj.TYPE_LABEL} {obj.entity_id} is not running (its status is {obj.status})."
        )
    return obj


def validate_tags(tags: dict[str, str]) -> None:
    for key, value in tags.items():
        if not TAG_KEY_RE.match(key) or key.lower().startswith("aws:"):
            raise InvalidTag(
                f"Tag key {key!r} is not allowed (1–128 letters, digits, spaces, _.:/=+-@; no 'aws:')."
            )
        if not TAG_VALUE_RE.match(value or ""):
            raise InvalidTag(
                f"Tag value {value!r} for {key!r} is not allowed (up to 256 characters)."
            )


@transaction.atomic
def add_tags(model: type[T], owner: object, entity_id: str, tags: dict[str, str]) -> T:
    obj = get_owned(model, owner, entity_id)
    if obj.status == Status.DELETED:
        raise InvalidInput("Tags of a deleted object cannot be changed.")
    validate_tags(tags)
    merged = {**obj.tags, **tags}
    if len(merged) > MAX_TAGS:
        raise TagLimitExceeded(f"An object has at most {MAX_TAGS} tags.")
    obj.tags = merged
    obj.save(update_fields=["tags", "updated_at"])
    return obj


@transaction.atomic
def delete_tags(model: type[T], owner: object, entity_id: str, keys: list[str]) -> T:
    obj = get_owned(model, owner, entity_id)
    if obj.status == Status.DELETED:
        raise InvalidInput("Tags of a deleted object cannot be changed.")
    obj.tags = {k: v for k, v in obj.tags.items() if k not in set(keys)}
    obj.save(update_fields=["tags", "updated_at"])
    return obj


def log_created(obj: AMLObject, text: str) -> None:
    lifecycle.append_log(obj, f"Created: {text}.")


def request_of(fields: dict[str, Any]) -> dict[str, Any]:
    """A Create* call's input as JSON, the name aside (a repeat may name the object anew):
    related objects by their row, the rest as given."""
    asked = {key: getattr(value, "pk", value) for key, value in fields.items() if key != "name"}
    return json.loads(json.dumps(asked, sort_keys=True, default=str))


def same_request_or_mismatch(existing: T, fields: dict[str, Any]) -> T:
    """AML's idempotent Create*: the same id with the same input answers the object it made;
    with other input, IdempotentParameterMismatchException. `fields` may be a part of the input
    (what a caller can know without redoing the work, e.g. a SQL source's query)."""
    recorded = existing.create_request or request_of(
        {key: getattr(existing, key) for key in fields}  # made before create_request was kept
    )
    asked = request_of(fields)
    if existing.status == Status.DELETED or any(recorded.get(k) != v for k, v in asked.items()):
        raise IdempotentParameterMismatch(
            f"{existing.TYPE_LABEL} {existing.entity_id!r} already exists with other parameters."
        )
    return existing

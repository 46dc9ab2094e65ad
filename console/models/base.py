"""What every AML object shares: id, name, owner, status and timings, log, tags, progress."""

from __future__ import annotations

import secrets
import string
from typing import ClassVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

BASE62 = string.ascii_letters + string.digits
ENTITY_ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
entity_id_validator = RegexValidator(
    ENTITY_ID_PATTERN, "An id is 1 to 64 letters, digits, '_', '.' or '-'."
)


def new_entity_id(prefix: str) -> str:
    """A console-made id the way AML made them: `ds-` + 11 base-62 characters."""
    return f"{prefix}-" + "".join(secrets.choice(BASE62) for _ in range(11))


class Status(models.TextChoices):
    PENDING = "PENDING", "Pending"
    INPROGRESS = "INPROGRESS", "In progress"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    DELETED = "DELETED", "Deleted"


ACTIVE_STATUSES = (Status.PENDING, Status.INPROGRESS)


class VisibleQuerySet(models.QuerySet):
    def owned_by(self, user: object) -> VisibleQuerySet:
        return self.filter(owner=user)

    def visible(self) -> VisibleQuerySet:
        return self.exclude(status=Status.DELETED)


class AMLObject(models.Model):
    """Fields of AML's Get* outputs that all four object types share (reference section 1)."""

    ENTITY_PREFIX: ClassVar[str] = ""
    TYPE_LABEL: ClassVar[str] = ""
    RESOURCE_TYPE: ClassVar[str] = ""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    entity_id = models.CharField(max_length=64, validators=[entity_id_validator])
    name = models.CharField(max_length=1024, blank=True)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The process that claimed the job (console.claimants): when it is known dead (it ran on
    # this host and is gone), its job is failed at once instead of waiting for the sweep.
    claimed_by_host = models.CharField(max_length=255, blank=True)
    claimed_by_pid = models.IntegerField(null=True, blank=True)
    claimed_by_start = models.CharField(max_length=80, blank=True)
    compute_time = models.BigIntegerField(null=True, blank=True, help_text="CPU milliseconds")
    message = models.TextField(blank=True)
    log = models.TextField(blank=True)
    tags = models.JSONField(default=dict, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    # What the Create* call asked for (its input, the name aside): a repeat of the same id is
    # answered by comparing with this, since jobs later fill in fields such as an inferred schema
    create_request = models.JSONField(default=dict, blank=True)

    objects = VisibleQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        indexes = [
            # The dashboard reads one owner's objects newest first and stops after 1,000; by
            # the owner alone, SQLite read and sorted every one of them (issue 10).
            models.Index(fields=["owner", "created_at"], name="%(class)s_owner_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.entity_id} ({self.name})" if self.name else self.entity_id

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def display_name(self) -> str:
        return self.name or self.entity_id

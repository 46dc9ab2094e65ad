"""Uploads the wizard stored but no datasource ever used: removed after a grace period."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.files.storage import default_storage
from django.utils import timezone

from console.datafiles import UPLOAD_PREFIX
from console.models import DataSource

ABANDONED_AFTER = timedelta(days=1)


def delete_abandoned_uploads(*, now: datetime | None = None) -> int:
    """Delete uploads older than a day that no datasource refers to. Returns how many."""
    cutoff = (now or timezone.now()) - ABANDONED_AFTER
    # A SQL query's result staged in storage is kept under uploads/ too (console.services.sql_sources).
    kinds = [
        DataSource.SourceKind.UPLOAD,
        DataSource.SourceKind.RDS,
        DataSource.SourceKind.REDSHIFT,
    ]
    used = set(
        DataSource.objects.filter(source_kind__in=kinds).values_list("data_location_s3", flat=True)
    )
    deleted = 0
    for key in _upload_keys():
        if key not in used and default_storage.get_modified_time(key) < cutoff:
            default_storage.delete(key)
            deleted += 1
    return deleted


def _upload_keys() -> list[str]:
    """Every stored upload: uploads/<user>/<token>/<file name>."""
    if not default_storage.exists(UPLOAD_PREFIX):
        return []
    keys = []
    users, _ = default_storage.listdir(UPLOAD_PREFIX)
    for user in users:
        tokens, _ = default_storage.listdir(f"{UPLOAD_PREFIX}/{user}")
        for token in tokens:
            _, names = default_storage.listdir(f"{UPLOAD_PREFIX}/{user}/{token}")
            keys += [f"{UPLOAD_PREFIX}/{user}/{token}/{name}" for name in names]
    return keys

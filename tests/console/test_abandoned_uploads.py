"""Uploads nobody turned into a datasource are removed after a day; used ones never are."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from console.datafiles import upload_key_for
from console.models import DataSource
from console.services.uploads import delete_abandoned_uploads

pytestmark = pytest.mark.django_db


def store(key: str, *, age_hours: float, settings: Any) -> str:
    saved = default_storage.save(key, ContentFile(b"a,b\n1,2\n"))
    old = time.time() - age_hours * 3600
    os.utime(Path(settings.MEDIA_ROOT) / saved, (old, old))
    return saved


def test_it_deletes_an_old_upload_no_datasource_uses(owner: Any, settings: Any) -> None:
    old = store(upload_key_for(owner.pk, "t1", "old.csv"), age_hours=30, settings=settings)
    assert delete_abandoned_uploads() == 1
    assert not default_storage.exists(old)


def test_it_keeps_a_fresh_upload_the_wizard_may_still_use(owner: Any, settings: Any) -> None:
    fresh = store(upload_key_for(owner.pk, "t2", "fresh.csv"), age_hours=1, settings=settings)
    assert delete_abandoned_uploads() == 0
    assert default_storage.exists(fresh)


def test_it_keeps_an_old_upload_a_datasource_reads(owner: Any, settings: Any) -> None:
    used = store(upload_key_for(owner.pk, "t3", "used.csv"), age_hours=48, settings=settings)
    DataSource.objects.create(
        owner=owner, entity_id="ds-used", source_kind="upload", data_location_s3=used
    )
    assert delete_abandoned_uploads() == 0
    assert default_storage.exists(used)

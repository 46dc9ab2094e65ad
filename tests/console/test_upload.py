"""The wizard's upload endpoint: streamed to disk, stored intact, refused past the size limit."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.test import Client
from django.urls import reverse

from console.forms.datasource_wizard import UploadForm

pytestmark = pytest.mark.django_db

UPLOAD = reverse("console:datasource-upload")


def make_csv(path: Path, size: int) -> Path:
    """A CSV of about `size` bytes (written line by line: the test must not need the memory)."""
    with path.open("w") as handle:
        handle.write("id,amount,label\n")
        row = 0
        while handle.tell() < size:
            handle.write(f"{row},{row * 7 % 1000}.{row % 100:02d},{row % 2}\n")
            row += 1
    return path


def sha256(stream: Any) -> str:
    digest = hashlib.sha256()
    for block in iter(lambda: stream.read(1 << 20), b""):
        digest.update(block)
    return digest.hexdigest()


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def test_a_large_upload_lands_in_storage_intact_through_a_temporary_file(
    owner_client: Client, owner: Any, settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = make_csv(tmp_path / "big.csv", 6 * 1024 * 1024)
    assert source.stat().st_size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    received: list[type] = []
    original_save = UploadForm.save

    def spy(form: UploadForm, uploader: Any) -> Any:
        received.append(type(form.cleaned_data["file"]))
        return original_save(form, uploader)

    monkeypatch.setattr(UploadForm, "save", spy)

    with source.open("rb") as handle:
        response = owner_client.post(UPLOAD, {"file": handle})

    assert response.status_code == 200
    body = response.json()
    assert received == [TemporaryUploadedFile]  # streamed to disk, never held in memory
    assert body["filename"] == "big.csv" and body["name"] == "big.csv"
    assert body["size"] == source.stat().st_size
    key = body["location"].removeprefix("upload://")
    assert key.startswith(f"uploads/{owner.pk}/") and key.endswith("/big.csv")
    with default_storage.open(key, "rb") as stored, source.open("rb") as original:
        assert sha256(stored) == sha256(original)


def test_an_upload_over_the_limit_is_refused_with_413_and_leaves_nothing_in_storage(
    owner_client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.AML_UPLOAD_MAX_BYTES = 100_000
    source = make_csv(tmp_path / "too-big.csv", 1024 * 1024)

    with source.open("rb") as handle:
        response = owner_client.post(UPLOAD, {"file": handle})

    assert response.status_code == 413
    assert "larger than the upload limit of 100,000 bytes" in response.json()["error"]
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_an_upload_just_over_the_limit_is_stopped_while_it_streams(
    owner_client: Client, settings: Any, tmp_path: Path
) -> None:
    # Close enough to the limit that the announced length passes; the byte count catches it.
    settings.AML_UPLOAD_MAX_BYTES = 100_000
    source = make_csv(tmp_path / "slightly-big.csv", 120_000)

    with source.open("rb") as handle:
        response = owner_client.post(UPLOAD, {"file": handle})

    assert response.status_code == 413
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_an_upload_within_the_limit_is_accepted(
    owner_client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.AML_UPLOAD_MAX_BYTES = 100_000
    source = make_csv(tmp_path / "small.csv", 50_000)
    with source.open("rb") as handle:
        assert owner_client.post(UPLOAD, {"file": handle}).status_code == 200


def test_an_unsafe_file_name_is_made_safe(owner_client: Client) -> None:
    upload = SimpleUploadedFile("my data (1);rm -rf.csv", b"a,b\n1,2\n")
    body = owner_client.post(UPLOAD, {"file": upload}).json()
    assert body["filename"] == "my data (1);rm -rf.csv"  # shown to the user as they named it
    assert body["location"].endswith("/my_data_1rm_-rf.csv")  # stored under a safe name


def test_a_request_without_a_file_is_refused(owner_client: Client) -> None:
    response = owner_client.post(UPLOAD, {})
    assert response.status_code == 400
    assert "No file was received" in response.json()["error"]


def test_an_empty_file_is_refused_as_empty_not_as_missing(owner_client: Client) -> None:
    response = owner_client.post(UPLOAD, {"file": SimpleUploadedFile("empty.csv", b"")})

    assert response.status_code == 400
    assert response.json()["error"] == "empty.csv is empty (0 bytes): choose a file with data."


def test_the_upload_needs_the_csrf_token_from_the_cookie(owner: Any, tmp_path: Path) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    source = make_csv(tmp_path / "data.csv", 1000)
    with source.open("rb") as handle:
        assert browser.post(UPLOAD, {"file": handle}).status_code == 403

    browser.get(reverse("console:datasource-create"))
    token = browser.cookies["csrftoken"].value
    with source.open("rb") as handle:
        response = browser.post(UPLOAD, {"file": handle}, headers={"X-CSRFToken": token})
    assert response.status_code == 200


def test_an_oversized_upload_from_a_browser_gets_413_before_the_csrf_check_reads_it(
    owner: Any, settings: Any, tmp_path: Path
) -> None:
    # With CSRF enforced, reading the token parses the body, which is where the size limit
    # stops it: the answer must still be a clear 413, not a server error.
    settings.AML_UPLOAD_MAX_BYTES = 100_000
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    browser.get(reverse("console:datasource-create"))
    token = browser.cookies["csrftoken"].value
    source = make_csv(tmp_path / "too-big.csv", 1024 * 1024)
    with source.open("rb") as handle:
        response = browser.post(UPLOAD, {"file": handle}, headers={"X-CSRFToken": token})
    assert response.status_code == 413
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_anonymous_uploads_are_sent_to_login(client: Client, tmp_path: Path, settings: Any) -> None:
    source = make_csv(tmp_path / "data.csv", 1000)
    with source.open("rb") as handle:
        response = client.post(UPLOAD, {"file": handle})
    assert response.status_code == 302
    assert stored_files(Path(settings.MEDIA_ROOT)) == []


def test_the_upload_only_accepts_post(owner_client: Client) -> None:
    assert owner_client.get(UPLOAD).status_code == 405


def test_uploads_of_different_users_get_different_folders(
    owner_client: Client, owner: Any, tmp_path: Path
) -> None:
    source = make_csv(tmp_path / "data.csv", 1000)
    locations = set()
    for _ in range(2):
        with source.open("rb") as handle:
            locations.add(owner_client.post(UPLOAD, {"file": handle}).json()["location"])
    assert len(locations) == 2  # each upload gets its own token, so none overwrites another
    assert all(os.path.dirname(loc).count("/") >= 3 for loc in locations)

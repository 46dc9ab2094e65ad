"""Turn a datasource's location into the engine's DataFile list, within the allowed places."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from mlcore.errors import LocationError
from mlcore.io.files import DataFile
from mlcore.io.locations import resolve_local, resolve_s3

UPLOAD_PREFIX = "uploads"


def s3_client() -> Any:
    """A boto3 S3 client for reading s3:// datasources, honouring the configured endpoint."""
    import boto3

    endpoint = settings.AML_DATA_S3_ENDPOINT_URL or None
    return boto3.client("s3", endpoint_url=endpoint)


def upload_key_for(user_id: int, token: str, filename: str) -> str:
    return f"{UPLOAD_PREFIX}/{user_id}/{token}/{filename}"


def upload_belongs_to(key: str, user_id: int) -> bool:
    parts = key.split("/")
    return (
        len(parts) == 4
        and parts[0] == UPLOAD_PREFIX
        and parts[1] == str(user_id)
        and ".." not in parts
    )


def upload_data_file(key: str, display_name: str | None = None) -> DataFile:
    if not default_storage.exists(key):
        raise LocationError("the uploaded file is no longer in storage", file=display_name or key)
    return DataFile(
        name=display_name or key.rsplit("/", 1)[-1],
        size=default_storage.size(key),
        opener=lambda: default_storage.open(key, "rb"),
    )


def data_files_for(kind: str, location: str, *, display_name: str | None = None) -> list[DataFile]:
    """The files behind a location of the given kind (`s3`, `path` or `upload`).

    A SQL query's result (`rds`, `redshift`) was staged either on S3 or in the console's storage.
    """
    if kind in ("rds", "redshift"):
        kind = "s3" if location.startswith("s3://") else "upload"
    if kind == "s3":
        return resolve_s3(location, client=s3_client())
    if kind == "path":
        return resolve_local(location, allowed_roots=[str(r) for r in settings.AML_DATA_ROOTS])
    if kind == "upload":
        return [upload_data_file(location, display_name)]
    raise LocationError(f"unknown location kind {kind!r}")


def read_s3_text(uri: str, *, max_bytes: int, what: str) -> str:
    """The UTF-8 text of one small S3 object (a schema or a recipe that AML took by location)."""
    files = resolve_s3(uri, client=s3_client())
    if len(files) != 1 or files[0].name != uri:
        raise LocationError(f"{what} must name one object, not a prefix", file=uri)
    if files[0].size > max_bytes:
        raise LocationError(f"{what} is larger than {max_bytes:,} bytes", file=uri)
    with files[0].open() as stream:
        data = stream.read(max_bytes + 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LocationError(f"{what} is not UTF-8 text ({exc.reason})", file=uri) from None

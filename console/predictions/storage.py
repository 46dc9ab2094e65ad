"""Where a batch prediction's files live: the console's own storage (Django's default storage:
local files or S3 through django-storages), or the `s3://` location the user gave.

`ConsoleStorageOutput` is the engine's `OutputStore` over the default storage, under
`batch-predictions/<owner>/<id>/`; `open_location` reads back a location the job wrote.
"""

from __future__ import annotations

from typing import IO, Any

from django.core.files import File
from django.core.files.storage import default_storage

from console import datafiles
from console.models import BatchPrediction
from mlcore.errors import LocationError
from mlcore.predict.outputs import SpooledUpload

STORAGE_PREFIX = "batch-predictions"


def storage_prefix(bp: BatchPrediction) -> str:
    return f"{STORAGE_PREFIX}/{bp.owner_id}/{bp.entity_id}/"


class _SaveOnClose(SpooledUpload):
    """Saves the spooled file to the default storage under its name on close."""

    def upload(self, spool: IO[bytes]) -> None:
        name = self.location
        if default_storage.exists(name):
            default_storage.delete(name)
        try:
            saved = default_storage.save(name, File(spool, name=name))
        except Exception as exc:  # storage backends raise OSError, botocore errors, ...
            raise LocationError(
                f"the results cannot be written to the console's storage: {exc}", file=name
            ) from exc
        if saved != name:
            raise LocationError(f"the storage saved the results as {saved}", file=name)


class ConsoleStorageOutput:
    """The engine's OutputStore over the console's storage (keys are storage names)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def open_write(self, key: str) -> IO[bytes]:
        return _SaveOnClose(self.location(key))  # type: ignore[return-value]

    def location(self, key: str) -> str:
        return self.prefix + key.lstrip("/")


def open_location(bp: BatchPrediction, location: str) -> IO[bytes]:
    """A binary stream of a file this batch prediction wrote (a storage name, or an s3:// URI
    under its OutputUri). Anything else is refused: a location never comes from the browser."""
    if bp.in_console_storage:
        if not location.startswith(storage_prefix(bp)) or ".." in location.split("/"):
            raise PermissionError(f"{location} is not one of this batch prediction's files")
        return default_storage.open(location, "rb")
    if not location.startswith(bp.output_uri):
        raise PermissionError(f"{location} is not under {bp.output_uri}")
    bucket, _, key = location.removeprefix("s3://").partition("/")
    body = datafiles.s3_client().get_object(Bucket=bucket, Key=key)["Body"]
    return body  # a streaming body: read() in chunks, never the whole object at once


def output_store_for_batch_prediction(bp: BatchPrediction) -> Any:
    """The engine's OutputStore for this batch prediction's OutputUri."""
    if bp.in_console_storage:
        return ConsoleStorageOutput(storage_prefix(bp))
    from mlcore.predict.outputs import output_store_for

    return output_store_for(bp.output_uri, s3_client=datafiles.s3_client())


def output_label(bp: BatchPrediction) -> str:
    """The output location as the summary shows it."""
    if bp.in_console_storage:
        return f"The console's storage ({storage_prefix(bp)})"
    return bp.output_uri

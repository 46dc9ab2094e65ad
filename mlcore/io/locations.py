"""Turn a data location (a local path or an `s3://` URI) into the `DataFile`s it names.

A location is one file, or a directory / S3 prefix whose files together form the datasource
(sorted by name, hidden files and `.schema` files left out). Every problem is a `LocationError`
that names the path or URI.

>>> [f.name for f in resolve_location("../shared/data/banking.csv")]  # doctest: +SKIP
['../shared/data/banking.csv']
>>> resolve_location("s3://bucket/data/", s3_client=client)             # doctest: +SKIP
[DataFile(name='s3://bucket/data/part-0.csv', ...), ...]
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO

from mlcore.errors import LocationError
from mlcore.io.files import DataFile

# A boto3 S3 client; boto3 itself is imported lazily, so local-only users never pay for it.
S3Client = Any

SCHEMA_SUFFIX = ".schema"
S3_SCHEME = "s3://"
_S3_READ_BUFFER = 1 << 20
LIST_PAGE_SIZE = 1000  # S3's maximum; tests lower it to exercise paging

PathLike = str | os.PathLike[str]

# S3's rule for bucket names, checked before botocore sees them (its own error is a regex).
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
BUCKET_NAME_RULE = (
    "a bucket name has 3 to 63 characters: lowercase letters, digits, dots (.) and "
    "hyphens (-), and begins and ends with a letter or a digit"
)


# --------------------------------------------------------------------------------------------
# Local files
# --------------------------------------------------------------------------------------------


def resolve_local(
    path: PathLike, allowed_roots: Sequence[PathLike] | None = None
) -> list[DataFile]:
    """The files a local path names: the file itself, or every visible file under a directory.

    With `allowed_roots`, the real path (symlinks and `..` resolved) of the location and of every
    file in it must lie inside one of the roots.

    >>> resolve_local("/etc/passwd", allowed_roots=["/srv/data"])  # doctest: +SKIP
    Traceback (most recent call last):
    mlcore.errors.LocationError: /etc/passwd: the path is outside the allowed data directories
    """
    shown = os.fspath(path)
    real = Path(os.path.realpath(path))
    roots = _real_roots(allowed_roots)
    _check_inside_roots(real, roots, shown)
    if not os.path.lexists(path) or not real.exists():
        raise LocationError("no such file or directory", file=shown)
    if real.is_dir():
        files = [
            _local_file(file_path, os.path.join(shown, relative), roots)
            for relative, file_path in _visible_files_under(real)
        ]
        if not files:
            raise LocationError("the directory contains no data files", file=shown)
        return files
    return [_local_file(real, shown, roots)]


def _real_roots(allowed_roots: Sequence[PathLike] | None) -> list[Path] | None:
    if allowed_roots is None:
        return None
    return [Path(os.path.realpath(root)) for root in allowed_roots]


def _check_inside_roots(real: Path, roots: list[Path] | None, shown: str) -> None:
    if roots is not None and not any(real.is_relative_to(root) for root in roots):
        raise LocationError("the path is outside the allowed data directories", file=shown)


def _visible_files_under(directory: Path) -> list[tuple[str, Path]]:
    """(relative name, path) of every non-hidden, non-schema entry under a directory, sorted."""
    found: list[tuple[str, Path]] = []
    for current, subdirs, names in os.walk(directory, followlinks=False):
        subdirs[:] = [d for d in subdirs if not d.startswith(".")]
        for name in names:
            if name.startswith(".") or name.endswith(SCHEMA_SUFFIX):
                continue
            file_path = Path(current, name)
            found.append((str(file_path.relative_to(directory)), file_path))
    return sorted(found)


def _local_file(path: Path, shown: str, roots: list[Path] | None) -> DataFile:
    real = Path(os.path.realpath(path))
    _check_inside_roots(real, roots, shown)
    try:
        info = real.stat()
    except OSError as err:
        raise LocationError(f"cannot read the file: {err.strerror}", file=shown) from None
    if not stat.S_ISREG(info.st_mode):
        raise LocationError("not a regular file", file=shown)
    if not os.access(real, os.R_OK):
        raise LocationError("permission denied", file=shown)
    return DataFile(name=shown, size=info.st_size, opener=partial(_open_local, real))


def _open_local(path: Path) -> BinaryIO:
    return open(path, "rb")  # noqa: SIM115 - the caller owns and closes the stream


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split `s3://bucket/key` into (bucket, key); the key may be empty or end with `/`.

    >>> parse_s3_uri("s3://bucket/data/part-0.csv")
    ('bucket', 'data/part-0.csv')
    """
    if not uri.startswith(S3_SCHEME):
        raise LocationError("not an s3:// URI", file=uri)
    bucket, _, key = uri[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise LocationError("the S3 URI names no bucket", file=uri)
    return bucket, key


def check_bucket_name(bucket: str, uri: str) -> None:
    """Refuse a bucket name S3 would refuse, saying what a bucket name may contain.

    >>> check_bucket_name("My_Bucket", "s3://My_Bucket/x.csv")
    Traceback (most recent call last):
    mlcore.errors.LocationError: s3://My_Bucket/x.csv: 'My_Bucket' is not a valid bucket name: \
a bucket name has 3 to 63 characters: lowercase letters, digits, dots (.) and hyphens (-), \
and begins and ends with a letter or a digit
    """
    if not _BUCKET_NAME.fullmatch(bucket):
        raise LocationError(f"{bucket!r} is not a valid bucket name: {BUCKET_NAME_RULE}", file=uri)


def resolve_s3(uri: str, client: S3Client | None = None) -> list[DataFile]:
    """The objects an S3 URI names: one key, or every object under a prefix (sorted by key).

    A URI ending in `/` (or naming only a bucket) is a prefix; a key that does not exist but has
    objects under `key/` is treated as that prefix. Folder markers and `.schema` keys are skipped.

    >>> resolve_s3("s3://bucket/data/", client=boto3.client("s3"))  # doctest: +SKIP
    [DataFile(name='s3://bucket/data/a.csv', size=120, opener=...), ...]
    """
    if client is None:
        import boto3

        client = boto3.client("s3")
    bucket, key = parse_s3_uri(uri)
    check_bucket_name(bucket, uri)
    if key and not key.endswith("/"):
        single = _head_object(client, bucket, key, uri)
        if single is not None:
            return [single]
        files = _objects_under(client, bucket, key + "/", uri)
        if not files:
            raise LocationError("no such key", file=uri)
        return files
    files = _objects_under(client, bucket, key, uri)
    if not files:
        raise LocationError("there are no objects under this prefix", file=uri)
    return files


def _error_code(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _location_error(err: Exception, uri: str) -> LocationError:
    """A LocationError for a botocore ClientError, in words a person understands."""
    code = _error_code(err)
    if code in ("NoSuchBucket",):
        return LocationError("no such bucket", file=uri)
    if code in ("NoSuchKey", "404", "NotFound"):
        return LocationError("no such key", file=uri)
    if code in ("AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId"):
        return LocationError("access denied", file=uri)
    return LocationError(f"cannot read from S3: {err}", file=uri)


def _s3_errors() -> tuple[type[Exception], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _head_object(client: S3Client, bucket: str, key: str, uri: str) -> DataFile | None:
    """The object at `key`, or None when there is no such key (the bucket may be missing too)."""
    try:
        head = client.head_object(Bucket=bucket, Key=key)
    except _s3_errors() as err:
        if _error_code(err) in ("404", "NoSuchKey", "NotFound"):
            return None
        raise _location_error(err, uri) from None
    return _s3_file(client, bucket, key, int(head["ContentLength"]))


def _objects_under(client: S3Client, bucket: str, prefix: str, uri: str) -> list[DataFile]:
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=bucket, Prefix=prefix, PaginationConfig={"PageSize": LIST_PAGE_SIZE}
        )
        objects = [obj for page in pages for obj in page.get("Contents", [])]
    except _s3_errors() as err:
        raise _location_error(err, uri) from None
    return [
        _s3_file(client, bucket, obj["Key"], int(obj["Size"]))
        for obj in sorted(_data_objects(objects), key=lambda o: o["Key"])
    ]


def _data_objects(objects: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    """Leave out "folder" markers and schema files, which are not data."""
    for obj in objects:
        key = obj["Key"]
        if key.endswith("/") or key.endswith(SCHEMA_SUFFIX):
            continue
        yield obj


def _s3_file(client: S3Client, bucket: str, key: str, size: int) -> DataFile:
    uri = f"{S3_SCHEME}{bucket}/{key}"
    return DataFile(name=uri, size=size, opener=partial(_open_s3, client, bucket, key, uri))


class _StreamingBodyReader(io.RawIOBase):
    """A raw binary stream over a botocore StreamingBody, so it can be buffered and closed."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._body.read(len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _open_s3(client: S3Client, bucket: str, key: str, uri: str) -> BinaryIO:
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    except _s3_errors() as err:
        raise _location_error(err, uri) from None
    return io.BufferedReader(_StreamingBodyReader(body), buffer_size=_S3_READ_BUFFER)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Either
# --------------------------------------------------------------------------------------------


def resolve_location(
    location: PathLike,
    *,
    allowed_roots: Sequence[PathLike] | None = None,
    s3_client: S3Client | None = None,
) -> list[DataFile]:
    """The files of a location: `s3://...` goes to S3, anything else is a local path.

    >>> resolve_location("s3://bucket/data.csv", s3_client=client)  # doctest: +SKIP
    [DataFile(name='s3://bucket/data.csv', size=..., opener=...)]
    """
    text = os.fspath(location)
    if text.startswith(S3_SCHEME):
        return resolve_s3(text, client=s3_client)
    return resolve_local(text, allowed_roots=allowed_roots)

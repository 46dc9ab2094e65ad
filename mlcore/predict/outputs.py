"""Where batch prediction files go: a local directory or an S3 prefix (reference section 8).

`output_store_for(output_uri)` checks the location as AML checked an `OutputUri` (the key part
of an `s3://` URI may not contain `:`, `//`, `/./` or `/../`; a missing trailing `/` is added)
and returns an `OutputStore`: `open_write(key)` gives a binary stream for a key under the root
(e.g. `batch-prediction/result/bp-1-banking.csv.gz`), `location(key)` the full location the
manifest names. A stream is only published when closed: a local file is written beside its
final name and renamed, an S3 object is uploaded from a temporary file (boto3 switches to a
multipart upload for large ones). `discard()` drops a stream's bytes instead, so a failed batch
prediction leaves no half-written result behind. Every problem is a `LocationError` naming the
location.

>>> normalized_output_uri("s3://bucket/predictions")
's3://bucket/predictions/'
>>> normalized_output_uri("s3://bucket/a//b/")
Traceback (most recent call last):
mlcore.errors.LocationError: s3://bucket/a//b/: the S3 key of an output location may not contain '//'
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import tempfile
from pathlib import Path
from typing import IO, Any, BinaryIO, Protocol

from mlcore.errors import LocationError
from mlcore.io.locations import S3_SCHEME, parse_s3_uri

S3Client = Any
#: what AML refused in the key part of an OutputUri
FORBIDDEN_IN_S3_KEY = (":", "//", "/./", "/../")
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")
_PARTIAL_SUFFIX = ".partial"


class OutputStore(Protocol):
    """A place batch prediction files are written to."""

    def open_write(self, key: str) -> BinaryIO:
        """A binary stream for `key` (relative to the root); the file appears when closed."""
        ...

    def location(self, key: str) -> str:
        """The full location of `key`, as the manifest names it."""
        ...


def normalized_output_uri(output_uri: str) -> str:
    """The output location with its trailing `/`, checked as AML checked an OutputUri.

    A local path becomes absolute.

    >>> normalized_output_uri("s3://bucket/x/../y/")
    Traceback (most recent call last):
    mlcore.errors.LocationError: s3://bucket/x/../y/: the S3 key of an output location may not contain '/../'
    """
    text = output_uri.strip()
    if not text:
        raise LocationError("the output location is empty")
    if not text.endswith("/"):
        text += "/"
    if not text.startswith(S3_SCHEME):
        return os.path.abspath(text) + "/"
    bucket, key = parse_s3_uri(text)
    if not _BUCKET_NAME.fullmatch(bucket):
        raise LocationError(f"{bucket!r} is not a valid S3 bucket name", file=output_uri)
    # the leading "/" catches a key that starts with "./" or "../"
    for forbidden in FORBIDDEN_IN_S3_KEY:
        if forbidden in "/" + key:
            raise LocationError(
                f"the S3 key of an output location may not contain {forbidden!r}",
                file=output_uri,
            )
    return text


def output_store_for(output_uri: str, *, s3_client: S3Client | None = None) -> OutputStore:
    """The store for a local directory or an `s3://bucket/prefix/` location.

    The S3 client defaults to boto3's, with the endpoint of `AML_DATA_S3_ENDPOINT_URL` (or
    `AML_S3_ENDPOINT_URL`) when set; boto3 itself honours `AWS_ENDPOINT_URL(_S3)`.

    >>> output_store_for("/tmp/out").location("batch-prediction/bp-1.manifest")
    '/tmp/out/batch-prediction/bp-1.manifest'
    """
    root = normalized_output_uri(output_uri)
    if not root.startswith(S3_SCHEME):
        return LocalOutputStore(root)
    bucket, prefix = parse_s3_uri(root)
    return S3OutputStore(bucket, prefix, s3_client if s3_client is not None else _s3_client())


def _s3_client() -> S3Client:
    import boto3

    endpoint = (
        os.environ.get("AML_DATA_S3_ENDPOINT_URL") or os.environ.get("AML_S3_ENDPOINT_URL") or None
    )
    return boto3.client("s3", endpoint_url=endpoint)


# --------------------------------------------------------------------------------------------
# Local directory
# --------------------------------------------------------------------------------------------


class LocalOutputStore:
    """Files under a local directory (created as needed)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(root))

    def location(self, key: str) -> str:
        return os.path.join(self.root, *key.split("/"))

    def open_write(self, key: str) -> BinaryIO:
        path = Path(self.location(key))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + _PARTIAL_SUFFIX)
            stream = open(partial, "wb")  # noqa: SIM115 - the writer owns and closes it
        except OSError as err:
            raise LocationError(_os_reason(err), file=str(path)) from None
        return _LocalWriter(stream, partial, path)  # type: ignore[return-value]


class _LocalWriter:
    """Writes `partial`, renamed to `final` on close; `discard()` removes it."""

    def __init__(self, stream: BinaryIO, partial: Path, final: Path) -> None:
        self._stream = stream
        self._partial = partial
        self._final = final
        self.closed = False

    def write(self, data: bytes) -> int:
        try:
            return self._stream.write(data)
        except OSError as err:
            raise LocationError(_os_reason(err), file=str(self._final)) from None

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._stream.close()
            os.replace(self._partial, self._final)
        except OSError as err:
            raise LocationError(_os_reason(err), file=str(self._final)) from None

    def discard(self) -> None:
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(OSError):  # a full disk refuses the buffer's last bytes: dropped
            self._stream.close()
        self._partial.unlink(missing_ok=True)

    def __enter__(self) -> _LocalWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.discard()


#: what a full disk (or an exceeded quota) says
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


def _os_reason(err: OSError) -> str:
    if err.errno in _NO_SPACE:
        return "cannot write the output: the disk is full (no space left on device)"
    return f"cannot write the output: {err.strerror or err}"


def _spool_reason(err: OSError) -> str:
    if err.errno in _NO_SPACE:
        return (
            "the disk is full: no space left on this machine's temporary folder for the results "
            "before they are uploaded"
        )
    return f"cannot spool the output before uploading it: {err.strerror or err}"


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------


class S3OutputStore:
    """Objects under `s3://bucket/prefix`; the bucket is checked before the first write."""

    def __init__(self, bucket: str, prefix: str, client: S3Client) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.client = client
        self._bucket_checked = False

    @property
    def root(self) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix}"

    def location(self, key: str) -> str:
        return self.root + key

    def open_write(self, key: str) -> BinaryIO:
        self._check_bucket()
        return _S3Writer(self, self.prefix + key, self.location(key))  # type: ignore[return-value]

    def _check_bucket(self) -> None:
        """Fail before hours of scoring, not at the first upload, when the bucket is unusable."""
        if self._bucket_checked:
            return
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except _s3_errors() as err:
            raise _write_error(err, self.root) from None
        self._bucket_checked = True


class SpooledUpload:
    """A write-only stream for a store that takes whole files: it spools to a temporary file,
    so a large result never sits in memory, and `close()` hands the finished file to `upload`
    (the store then only ever sees complete files); `discard()`, the engine's call when a batch
    prediction fails, drops it instead. Subclasses implement `upload(spool)`.
    """

    def __init__(self, location: str) -> None:
        self.location = location
        self.closed = False
        self._spool = tempfile.TemporaryFile(prefix="aml-batch-")  # noqa: SIM115 closed in close()

    def upload(self, spool: IO[bytes]) -> None:
        raise NotImplementedError

    def write(self, data: bytes) -> int:
        try:
            return self._spool.write(data)
        except OSError as err:
            raise LocationError(_spool_reason(err), file=self.location) from None

    def flush(self) -> None:
        try:
            self._spool.flush()
        except OSError as err:
            raise LocationError(_spool_reason(err), file=self.location) from None

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            try:
                self._spool.seek(0)  # writes what is still buffered: the disk may refuse it
            except OSError as err:
                raise LocationError(_spool_reason(err), file=self.location) from None
            self.upload(self._spool)
        finally:
            with contextlib.suppress(OSError):  # already reported above, or nothing to lose
                self._spool.close()

    def discard(self) -> None:
        if not self.closed:
            self.closed = True
            # closing flushes the buffer, which a full disk refuses; the bytes are dropped anyway
            with contextlib.suppress(OSError):
                self._spool.close()

    def __enter__(self) -> SpooledUpload:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self.discard()


class _S3Writer(SpooledUpload):
    """Uploads the spooled file to its S3 key on close."""

    def __init__(self, store: S3OutputStore, key: str, location: str) -> None:
        super().__init__(location)
        self._store = store
        self._key = key

    def upload(self, spool: IO[bytes]) -> None:
        try:
            self._store.client.upload_fileobj(spool, self._store.bucket, self._key)
        except _s3_errors() as err:
            raise _write_error(err, self.location) from None


def _s3_errors() -> tuple[type[Exception], ...]:
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError, S3UploadFailedError)


def _write_error(err: Exception, location: str) -> LocationError:
    response = getattr(err, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    text = str(err)
    if code in ("NoSuchBucket", "404", "NotFound") or "NoSuchBucket" in text:
        return LocationError("no such bucket", file=location)
    if code in ("AccessDenied", "403", "Forbidden") or "AccessDenied" in text:
        return LocationError("access denied: cannot write here", file=location)
    return LocationError(f"cannot write to S3: {err}", file=location)


__all__ = [
    "FORBIDDEN_IN_S3_KEY",
    "LocalOutputStore",
    "OutputStore",
    "S3OutputStore",
    "normalized_output_uri",
    "output_store_for",
]

"""Batch prediction outputs on a full disk: the error says the disk is full and names the file,
and dropping a half-written result never fails a second time (found in the production-shape
fault tests: closing the spool flushed its buffer into the full disk and an OSError hid the
first, clear error)."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import IO, Any

import pytest

from mlcore.errors import LocationError
from mlcore.predict import outputs
from mlcore.predict.outputs import LocalOutputStore, SpooledUpload


class FullDisk:
    """A file on a disk with no space left: every write, flush and close says ENOSPC."""

    def __init__(self) -> None:
        self.closed = False

    def _refuse(self, *args: Any) -> Any:
        raise OSError(errno.ENOSPC, "No space left on device")

    write = flush = seek = _refuse

    def close(self) -> None:
        self.closed = True  # the descriptor is gone even though the last flush failed
        self._refuse()


class Uploaded(SpooledUpload):
    def upload(self, spool: IO[bytes]) -> None:
        raise AssertionError("nothing may be uploaded from a full disk")


@pytest.fixture
def full_spools(monkeypatch: pytest.MonkeyPatch) -> list[FullDisk]:
    made: list[FullDisk] = []

    def temporary_file(**_: Any) -> FullDisk:
        made.append(FullDisk())
        return made[-1]

    monkeypatch.setattr(outputs.tempfile, "TemporaryFile", temporary_file)
    return made


def test_spooling_results_on_a_full_disk_says_the_disk_is_full_and_names_the_file(
    full_spools: list[FullDisk],
) -> None:
    spooled = Uploaded("s3://bucket/out/result.gz")

    with pytest.raises(LocationError, match="the disk is full") as caught:
        spooled.write(b"scores")

    assert caught.value.file == "s3://bucket/out/result.gz"


def test_discarding_a_spool_the_full_disk_refused_does_not_fail_again(
    full_spools: list[FullDisk],
) -> None:
    spooled = Uploaded("s3://bucket/out/result.gz")

    spooled.discard()

    assert full_spools[0].closed


def test_closing_a_spool_whose_last_bytes_the_disk_refuses_says_the_disk_is_full(
    full_spools: list[FullDisk],
) -> None:
    spooled = Uploaded("s3://bucket/out/result.gz")

    with pytest.raises(LocationError, match="the disk is full"):
        spooled.close()
    assert full_spools[0].closed


def test_a_local_result_on_a_full_disk_says_the_disk_is_full_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = LocalOutputStore(tmp_path).open_write("batch-prediction/result/r.gz")
    full = FullDisk()
    writer._stream.close()
    monkeypatch.setattr(writer, "_stream", full)

    with pytest.raises(LocationError, match="the disk is full") as caught:
        writer.write(b"scores")
    writer.discard()

    assert caught.value.file == str(tmp_path / "batch-prediction" / "result" / "r.gz")
    assert list((tmp_path / "batch-prediction" / "result").iterdir()) == []

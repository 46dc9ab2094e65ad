"""Fixtures for the engine's tests: no Django, no database.

`s3_server` is a real S3-compatible server (moto) over HTTP in this process, so boto3 goes
through its whole stack (signing, HTTP, streaming bodies) as it would against AWS.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from mlcore.io.files import DataFile

DATA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA_DIR.is_dir():
        pytest.fail(f"the shared data files are not at {DATA_DIR}")
    return DATA_DIR


def bytes_file(name: str, data: bytes) -> DataFile:
    """A DataFile over bytes in memory."""
    return DataFile(name=name, size=len(data), opener=partial(io.BytesIO, data))


@pytest.fixture
def memory_file() -> Callable[..., DataFile]:
    """Build a DataFile from text (UTF-8) or bytes: `memory_file("a,b\\n1,2\\n")`."""

    def build(data: str | bytes, name: str = "data.csv") -> DataFile:
        return bytes_file(name, data.encode("utf-8") if isinstance(data, str) else data)

    return build


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of a moto S3 server started for this test session."""
    pytest.importorskip("moto.server")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def s3_bucket(s3_client: Any, request: pytest.FixtureRequest) -> str:
    """A fresh, empty bucket named after the test."""
    name = "t-" + request.node.name.lower().replace("_", "-")[:50].strip("-")
    s3_client.create_bucket(Bucket=name)
    return name

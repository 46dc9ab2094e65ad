from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from mlcore.errors import LocationError
from mlcore.io import locations
from mlcore.io.csvreader import CsvFormat, CsvReader
from mlcore.io.locations import parse_s3_uri, resolve_local, resolve_location, resolve_s3

# --- local ---------------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_it_resolves_a_single_file_with_its_size_and_opener(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "x,y\n1,2\n")

    [data_file] = resolve_local(path)

    assert data_file.name == str(path)
    assert data_file.size == 8
    with data_file.open() as stream:
        assert stream.read() == b"x,y\n1,2\n"


def test_it_lists_every_visible_file_under_a_directory_sorted_by_name(tmp_path: Path) -> None:
    write(tmp_path / "b.csv", "1\n")
    write(tmp_path / "a.csv", "1\n")
    write(tmp_path / "sub" / "c.csv", "1\n")
    write(tmp_path / ".hidden.csv", "1\n")
    write(tmp_path / ".git" / "d.csv", "1\n")
    write(tmp_path / "a.csv.schema", "{}")

    names = [f.name for f in resolve_local(tmp_path)]

    assert names == [str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), str(tmp_path / "sub/c.csv")]


def test_it_names_a_missing_path(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="no such file") as caught:
        resolve_local(tmp_path / "nope.csv")
    assert caught.value.file == str(tmp_path / "nope.csv")


def test_it_rejects_an_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="no data files"):
        resolve_local(tmp_path)


def test_it_rejects_something_that_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(LocationError, match="not a regular file"):
        resolve_local(fifo)


def test_it_accepts_a_path_inside_the_allowed_roots(tmp_path: Path) -> None:
    path = write(tmp_path / "root" / "a.csv", "1\n")
    assert len(resolve_local(path, allowed_roots=[tmp_path / "root"])) == 1


def test_it_rejects_a_path_outside_the_allowed_roots(tmp_path: Path) -> None:
    path = write(tmp_path / "elsewhere" / "a.csv", "1\n")
    with pytest.raises(LocationError, match="outside the allowed") as caught:
        resolve_local(path, allowed_roots=[tmp_path / "root"])
    assert caught.value.file == str(path)


def test_it_rejects_a_dot_dot_escape_from_the_allowed_roots(tmp_path: Path) -> None:
    write(tmp_path / "secret.csv", "1\n")
    (tmp_path / "allowed").mkdir()
    escape = str(tmp_path / "allowed" / ".." / "secret.csv")
    with pytest.raises(LocationError, match="outside the allowed"):
        resolve_local(escape, allowed_roots=[tmp_path / "allowed"])


def test_it_rejects_a_symlink_that_escapes_the_allowed_roots(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.csv", "1\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "link.csv").symlink_to(secret)
    with pytest.raises(LocationError, match="outside the allowed"):
        resolve_local(root / "link.csv", allowed_roots=[root])


def test_it_rejects_a_directory_holding_a_symlink_that_escapes_the_roots(tmp_path: Path) -> None:
    secret = write(tmp_path / "secret.csv", "1\n")
    root = tmp_path / "root"
    write(root / "data" / "a.csv", "1\n")
    (root / "data" / "b.csv").symlink_to(secret)
    with pytest.raises(LocationError, match="outside the allowed") as caught:
        resolve_local(root / "data", allowed_roots=[root])
    assert caught.value.file == str(root / "data" / "b.csv")


def test_it_does_not_reveal_whether_a_path_outside_the_roots_exists(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match="outside the allowed"):
        resolve_local(tmp_path / "missing.csv", allowed_roots=[tmp_path / "root"])


# --- S3 ------------------------------------------------------------------------------------


def test_it_parses_s3_uris() -> None:
    assert parse_s3_uri("s3://b/k/x.csv") == ("b", "k/x.csv")
    assert parse_s3_uri("s3://b") == ("b", "")
    with pytest.raises(LocationError, match="no bucket"):
        parse_s3_uri("s3:///key")


def test_it_resolves_a_single_s3_key_and_streams_it(s3_client: Any, s3_bucket: str) -> None:
    s3_client.put_object(Bucket=s3_bucket, Key="data/one.csv", Body=b"a,b\n1,2\n3,4\n")

    [data_file] = resolve_s3(f"s3://{s3_bucket}/data/one.csv", client=s3_client)

    assert data_file.name == f"s3://{s3_bucket}/data/one.csv"
    assert data_file.size == 12
    with data_file.open() as stream:
        assert stream.read(4) == b"a,b\n"
        assert stream.read() == b"1,2\n3,4\n"


def test_it_resolves_every_data_object_under_a_prefix(s3_client: Any, s3_bucket: str) -> None:
    for key in ["data/part-2.csv", "data/part-1.csv", "data/sub/part-3.csv", "other/x.csv"]:
        s3_client.put_object(Bucket=s3_bucket, Key=key, Body=b"a,b\n1,2\n")
    s3_client.put_object(Bucket=s3_bucket, Key="data/", Body=b"")
    s3_client.put_object(Bucket=s3_bucket, Key="data/part-1.csv.schema", Body=b"{}")

    files = resolve_s3(f"s3://{s3_bucket}/data/", client=s3_client)

    assert [f.name.split("/", 3)[3] for f in files] == [
        "data/part-1.csv",
        "data/part-2.csv",
        "data/sub/part-3.csv",
    ]


def test_it_treats_a_key_naming_a_folder_as_its_prefix(s3_client: Any, s3_bucket: str) -> None:
    s3_client.put_object(Bucket=s3_bucket, Key="data/part-1.csv", Body=b"a\n1\n")
    assert len(resolve_s3(f"s3://{s3_bucket}/data", client=s3_client)) == 1


def test_it_pages_through_long_listings(
    s3_client: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(locations, "LIST_PAGE_SIZE", 2)
    for i in range(7):
        s3_client.put_object(Bucket=s3_bucket, Key=f"p/{i:05d}.csv", Body=b"a\n1\n")
    files = resolve_s3(f"s3://{s3_bucket}/p/", client=s3_client)
    assert len(files) == 7
    assert files[-1].name.endswith("00006.csv")


def test_it_reads_csv_records_from_s3_objects(s3_client: Any, s3_bucket: str) -> None:
    rows = "".join(f"{i},{i * 2}\n" for i in range(5000))
    s3_client.put_object(Bucket=s3_bucket, Key="d/1.csv", Body=("x,y\n" + rows).encode())
    s3_client.put_object(Bucket=s3_bucket, Key="d/2.csv", Body=("x,y\n" + rows).encode())

    files = resolve_location(f"s3://{s3_bucket}/d/", s3_client=s3_client)
    reader = CsvReader(files, CsvFormat(), chunk_bytes=4096)

    assert sum(len(chunk) for chunk in reader.chunks()) == 10_000


def test_it_names_the_uri_of_a_missing_key(s3_client: Any, s3_bucket: str) -> None:
    uri = f"s3://{s3_bucket}/nope.csv"
    with pytest.raises(LocationError, match="no such key") as caught:
        resolve_s3(uri, client=s3_client)
    assert caught.value.file == uri


def test_it_names_the_uri_of_a_missing_bucket(s3_client: Any) -> None:
    with pytest.raises(LocationError, match="no such bucket") as caught:
        resolve_s3("s3://no-such-bucket-here/data.csv", client=s3_client)
    assert caught.value.file == "s3://no-such-bucket-here/data.csv"


@pytest.mark.parametrize("bucket", ["Bad_Bucket!", "ab", "-starts-with-a-hyphen", "UPPER"])
def test_an_invalid_bucket_name_is_refused_with_what_a_bucket_name_may_contain(
    s3_client: Any, bucket: str
) -> None:
    with pytest.raises(LocationError) as caught:
        resolve_s3(f"s3://{bucket}/data.csv", client=s3_client)

    message = str(caught.value)
    assert f"{bucket!r} is not a valid bucket name" in message
    assert "lowercase letters, digits, dots (.) and hyphens (-)" in message
    assert "regex" not in message


def test_it_rejects_a_prefix_with_nothing_under_it(s3_client: Any, s3_bucket: str) -> None:
    with pytest.raises(LocationError, match="no objects under this prefix"):
        resolve_s3(f"s3://{s3_bucket}/empty/", client=s3_client)


def test_it_reports_access_denied(s3_client: Any) -> None:
    with Stubber(s3_client) as stub:
        stub.add_client_error("head_object", "403", "Forbidden", http_status_code=403)
        with pytest.raises(LocationError, match="access denied") as caught:
            resolve_s3("s3://private/data.csv", client=s3_client)
    assert caught.value.file == "s3://private/data.csv"


def test_it_reports_access_denied_when_listing(s3_client: Any) -> None:
    with Stubber(s3_client) as stub:
        stub.add_client_error("list_objects_v2", "AccessDenied", "Access Denied", 403)
        with pytest.raises(LocationError, match="access denied"):
            resolve_s3("s3://private/data/", client=s3_client)


def test_resolve_location_dispatches_on_the_scheme(
    tmp_path: Path, s3_client: Any, s3_bucket: str
) -> None:
    path = write(tmp_path / "a.csv", "1\n")
    s3_client.put_object(Bucket=s3_bucket, Key="a.csv", Body=b"1\n")

    assert resolve_location(str(path))[0].name == str(path)
    assert resolve_location(f"s3://{s3_bucket}/a.csv", s3_client=s3_client)[0].size == 2

"""console.services.datasources (and the shared rename/delete/tag helpers in services.common)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from console import datafiles, tasks
from console.models import DataSource, Status
from console.services import common
from console.services.datasources import (
    create_data_source_from_s3,
    delete_data_source,
    describe_location,
    get_data_source,
    update_data_source,
)
from console.services.errors import (
    IdempotentParameterMismatch,
    InvalidInput,
    InvalidTag,
    ResourceNotFound,
    TagLimitExceeded,
)

pytestmark = pytest.mark.django_db

CSV = "age,colour,label\n" + "".join(
    f"{20 + i},{'red' if i % 2 else 'blue'},{i % 2}\n" for i in range(30)
)
SCHEMA = {
    "version": "1.0",
    "targetAttributeName": "label",
    "dataFormat": "CSV",
    "dataFileContainsHeader": True,
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "colour", "attributeType": "CATEGORICAL"},
        {"attributeName": "label", "attributeType": "BINARY"},
    ],
}


@pytest.fixture
def datasets(settings: Any) -> Path:
    return Path(settings.AML_DATA_ROOTS[0])


@pytest.fixture
def csv_path(datasets: Path) -> Path:
    path = datasets / "people.csv"
    path.write_text(CSV)
    return path


@pytest.fixture
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The pks the service asked Celery to work on (nothing is sent to a broker)."""
    calls: list[int] = []
    monkeypatch.setattr(tasks.compute_data_source_statistics, "delay", calls.append)
    return calls


@pytest.fixture
def on_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Iterator[Callable[..., Any]]:
    yield django_capture_on_commit_callbacks


def spec(location: str | Path, **extra: Any) -> dict[str, Any]:
    return {"DataLocationS3": str(location), **extra}


def create(owner: Any, location: str | Path, **kwargs: Any) -> DataSource:
    return create_data_source_from_s3(owner, data_spec=spec(location), **kwargs)


# --------------------------------------------------------------------------- ids


def test_it_makes_an_aml_style_id(owner: Any, csv_path: Path) -> None:
    ds = create(owner, csv_path, data_source_name="  People  ")

    assert re.fullmatch(r"ds-[A-Za-z0-9]{11}", ds.entity_id)
    assert ds.name == "People"
    assert ds.status == Status.PENDING
    assert ds.source_kind == DataSource.SourceKind.PATH
    assert ds.data_location_s3 == str(csv_path)
    assert ds.original_filename == "people.csv"
    assert ds.csv_delimiter == ","


def test_it_makes_a_different_id_each_time(owner: Any, csv_path: Path) -> None:
    ids = {create(owner, csv_path).entity_id for _ in range(5)}

    assert len(ids) == 5


def test_it_accepts_a_callers_id(owner: Any, csv_path: Path) -> None:
    ds = create(owner, csv_path, data_source_id="my_data.v1-2024")

    assert ds.entity_id == "my_data.v1-2024"


@pytest.mark.parametrize("bad_id", ["has space", "slash/inside", "x" * 65, "ünïcode"])
def test_it_refuses_a_malformed_id(owner: Any, csv_path: Path, bad_id: str) -> None:
    with pytest.raises(InvalidInput, match="is not a valid id"):
        create(owner, csv_path, data_source_id=bad_id)

    assert not DataSource.objects.exists()


def test_it_returns_the_same_datasource_for_a_repeated_request(
    owner: Any, csv_path: Path, enqueued: list[int], on_commit: Callable[..., Any]
) -> None:
    with on_commit(execute=True):
        first = create(owner, csv_path, data_source_id="ds-again", data_source_name="one")
    with on_commit(execute=True):
        second = create(owner, csv_path, data_source_id="ds-again", data_source_name="one")

    assert second.pk == first.pk
    assert DataSource.objects.count() == 1
    assert enqueued == [first.pk]


def test_it_refuses_the_same_id_with_other_parameters(
    owner: Any, csv_path: Path, datasets: Path
) -> None:
    other = datasets / "other.csv"
    other.write_text(CSV)
    create(owner, csv_path, data_source_id="ds-taken")

    with pytest.raises(IdempotentParameterMismatch, match="ds-taken"):
        create(owner, other, data_source_id="ds-taken")
    with pytest.raises(IdempotentParameterMismatch):
        create_data_source_from_s3(
            owner,
            data_spec=spec(csv_path, DataSchema=json.dumps(SCHEMA)),
            data_source_id="ds-taken",
        )
    assert DataSource.objects.count() == 1


def test_it_refuses_to_reuse_the_id_of_a_deleted_datasource(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-gone")
    delete_data_source(owner, "ds-gone")

    with pytest.raises(IdempotentParameterMismatch):
        create(owner, csv_path, data_source_id="ds-gone")


def test_it_lets_two_users_pick_the_same_id(owner: Any, stranger: Any, csv_path: Path) -> None:
    mine = create(owner, csv_path, data_source_id="ds-common")
    theirs = create(stranger, csv_path, data_source_id="ds-common")

    assert mine.pk != theirs.pk
    assert theirs.owner == stranger


# --------------------------------------------------------------------------- schema and rearrangement


def test_it_stores_a_valid_schema(owner: Any, csv_path: Path) -> None:
    ds = create_data_source_from_s3(owner, data_spec=spec(csv_path, DataSchema=json.dumps(SCHEMA)))

    assert ds.target_attribute_name == "label"
    assert [a["attributeName"] for a in ds.data_schema["attributes"]] == ["age", "colour", "label"]


def test_it_leaves_the_schema_to_inference_when_none_is_given(owner: Any, csv_path: Path) -> None:
    assert create(owner, csv_path).data_schema == {}


def test_it_refuses_a_schema_that_is_not_json(owner: Any, csv_path: Path) -> None:
    with pytest.raises(InvalidInput, match="DataSchema is not valid: .*not valid JSON"):
        create_data_source_from_s3(owner, data_spec=spec(csv_path, DataSchema="{not json"))


def test_it_names_the_place_of_a_schema_error(owner: Any, csv_path: Path) -> None:
    bad = {
        **SCHEMA,
        "attributes": [
            *SCHEMA["attributes"][:2],
            {"attributeName": "label", "attributeType": "FLOATY"},
        ],
    }

    with pytest.raises(InvalidInput) as caught:
        create_data_source_from_s3(owner, data_spec=spec(csv_path, DataSchema=json.dumps(bad)))

    assert "attributes[2].attributeType" in caught.value.message
    assert "FLOATY" in caught.value.message
    assert not DataSource.objects.exists()


def test_it_refuses_a_schema_location_it_cannot_read(owner: Any, csv_path: Path) -> None:
    with pytest.raises(InvalidInput, match="DataSchemaLocationS3"):
        create_data_source_from_s3(
            owner, data_spec=spec(csv_path, DataSchemaLocationS3="s3://bucket/x.schema")
        )


def test_it_stores_a_data_rearrangement(owner: Any, csv_path: Path) -> None:
    rearrangement = json.dumps({"splitting": {"percentBegin": 0, "percentEnd": 70}})

    ds = create_data_source_from_s3(
        owner, data_spec=spec(csv_path, DataRearrangement=rearrangement)
    )

    stored = json.loads(ds.data_rearrangement)
    assert stored["splitting"]["percentBegin"] == 0
    assert stored["splitting"]["percentEnd"] == 70
    ds.refresh_from_db()
    assert "Data rearrangement:" in ds.log


@pytest.mark.parametrize(
    ("rearrangement", "fragment"),
    [
        ('{"splitting": {"percentBegin": 70, "percentEnd": 30}}', "percentBegin"),
        ('{"splitting": {"percentBegin": 120}}', "percentBegin"),
        ('{"splitting": {"strategy": "bogus"}}', "strategy"),
        ("[1]", "JSON object"),
    ],
)
def test_it_refuses_a_bad_data_rearrangement(
    owner: Any, csv_path: Path, rearrangement: str, fragment: str
) -> None:
    with pytest.raises(InvalidInput, match="DataRearrangement is not valid") as caught:
        create_data_source_from_s3(owner, data_spec=spec(csv_path, DataRearrangement=rearrangement))

    assert fragment in caught.value.message


# --------------------------------------------------------------------------- locations


def test_it_refuses_a_location_that_is_not_a_location(owner: Any) -> None:
    for location in ["", "people.csv", "http://example.com/people.csv"]:
        with pytest.raises(InvalidInput, match="not a data location"):
            create(owner, location)


def test_it_refuses_a_path_outside_the_allowed_folders(owner: Any) -> None:
    with pytest.raises(InvalidInput, match="outside the allowed data directories"):
        create(owner, "/etc/passwd")


def test_it_refuses_a_dot_dot_escape(owner: Any, datasets: Path) -> None:
    escape = f"{datasets}/../../../../../../etc/passwd"

    with pytest.raises(InvalidInput, match="outside the allowed data directories"):
        create(owner, escape)


def test_it_refuses_a_symlink_out_of_the_allowed_folders(owner: Any, datasets: Path) -> None:
    (datasets / "sneaky.csv").symlink_to("/etc/passwd")

    with pytest.raises(InvalidInput, match="outside the allowed data directories"):
        create(owner, datasets / "sneaky.csv")


def test_it_refuses_a_missing_file(owner: Any, datasets: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        create(owner, datasets / "absent.csv")


def test_it_refuses_an_empty_file(owner: Any, datasets: Path) -> None:
    (datasets / "empty.csv").write_text("")

    with pytest.raises(InvalidInput, match="empty.csv"):
        create(owner, datasets / "empty.csv")


def test_it_reads_a_file_url_as_a_server_path(owner: Any, csv_path: Path) -> None:
    ds = create(owner, f"file://{csv_path}")

    assert ds.source_kind == DataSource.SourceKind.PATH
    assert ds.data_location_s3 == str(csv_path)


def test_it_reads_a_folder_of_parts(owner: Any, datasets: Path) -> None:
    folder = datasets / "parts"
    folder.mkdir()
    (folder / "part-1.csv").write_text(CSV)
    (folder / "part-2.csv").write_text(CSV)

    ds = create(owner, folder)

    ds.refresh_from_db()
    assert "2 file(s)" in ds.log
    assert "part-1.csv" in ds.log


def test_it_accepts_the_owners_upload(owner: Any) -> None:
    key = default_storage.save(
        datafiles.upload_key_for(owner.pk, "tok1", "people.csv"), ContentFile(CSV)
    )

    ds = create(owner, f"upload://{key}", original_filename="People export.csv")

    assert ds.source_kind == DataSource.SourceKind.UPLOAD
    assert ds.data_location_s3 == key
    assert ds.original_filename == "People export.csv"
    assert ds.location_label == "Uploaded file People export.csv"


def test_it_refuses_another_users_upload(owner: Any, stranger: Any) -> None:
    key = default_storage.save(
        datafiles.upload_key_for(owner.pk, "tok1", "people.csv"), ContentFile(CSV)
    )

    with pytest.raises(InvalidInput, match="That upload does not exist"):
        create(stranger, f"upload://{key}")
    assert not DataSource.objects.exists()


@pytest.mark.parametrize(
    "key_for",
    [
        lambda pk: f"uploads/{pk}/../1/people.csv",
        lambda pk: f"uploads/{pk}/tok/../../x.csv",
        lambda pk: f"elsewhere/{pk}/tok/people.csv",
        lambda pk: f"uploads/{pk}/people.csv",
    ],
)
def test_it_refuses_an_upload_key_outside_the_users_folder(
    owner: Any, key_for: Callable[[int], str]
) -> None:
    with pytest.raises(InvalidInput, match="That upload does not exist"):
        create(owner, f"upload://{key_for(owner.pk)}")


def test_it_refuses_an_upload_that_is_gone(owner: Any) -> None:
    key = datafiles.upload_key_for(owner.pk, "tok1", "never-saved.csv")

    with pytest.raises(InvalidInput, match="no longer in storage"):
        create(owner, f"upload://{key}")


def test_it_describes_a_location_without_creating_anything(owner: Any, csv_path: Path) -> None:
    summary = describe_location(owner, str(csv_path))

    assert summary.columns == ["age", "colour", "label"]
    assert summary.delimiter == ","
    assert summary.has_header is True
    assert summary.total_bytes == csv_path.stat().st_size
    assert summary.sample_rows[0] == ["20", "blue", "0"]
    assert not DataSource.objects.exists()


# --------------------------------------------------------------------------- enqueueing


def test_it_enqueues_the_statistics_only_after_the_commit(
    owner: Any, csv_path: Path, enqueued: list[int], on_commit: Callable[..., Any]
) -> None:
    with on_commit(execute=True) as callbacks:
        ds = create(owner, csv_path)
        assert enqueued == []

    assert len(callbacks) == 1
    assert enqueued == [ds.pk]


def test_it_enqueues_nothing_when_the_transaction_rolls_back(
    owner: Any, csv_path: Path, enqueued: list[int], on_commit: Callable[..., Any]
) -> None:
    from django.db import transaction

    with (
        on_commit(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        create(owner, csv_path)
        raise RuntimeError("the view failed after creating it")

    assert callbacks == []
    assert enqueued == []
    assert not DataSource.objects.exists()


def test_it_enqueues_nothing_for_a_refused_request(
    owner: Any, enqueued: list[int], on_commit: Callable[..., Any]
) -> None:
    with on_commit(execute=True) as callbacks, pytest.raises(InvalidInput):
        create(owner, "/etc/passwd")

    assert callbacks == []
    assert enqueued == []


# --------------------------------------------------------------------------- get, rename, delete


def test_it_finds_only_the_owners_datasource(owner: Any, stranger: Any, csv_path: Path) -> None:
    ds = create(owner, csv_path, data_source_id="ds-mine")

    assert get_data_source(owner, "ds-mine").pk == ds.pk
    with pytest.raises(ResourceNotFound, match="ds-mine"):
        get_data_source(stranger, "ds-mine")
    with pytest.raises(ResourceNotFound):
        get_data_source(owner, "ds-nope")


def test_it_renames_a_datasource(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-rename")

    renamed = update_data_source(owner, "ds-rename", "  Better name ")

    assert renamed.name == "Better name"
    assert DataSource.objects.get(entity_id="ds-rename").name == "Better name"


def test_it_refuses_to_rename_a_strangers_or_deleted_datasource(
    owner: Any, stranger: Any, csv_path: Path
) -> None:
    create(owner, csv_path, data_source_id="ds-rename")

    with pytest.raises(ResourceNotFound):
        update_data_source(stranger, "ds-rename", "hijacked")
    delete_data_source(owner, "ds-rename")
    with pytest.raises(ResourceNotFound):
        update_data_source(owner, "ds-rename", "too late")
    assert DataSource.objects.get(entity_id="ds-rename").name == ""


def test_it_refuses_a_name_that_is_too_long(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-long")

    with pytest.raises(InvalidInput, match="1,024"):
        update_data_source(owner, "ds-long", "n" * 1025)


def test_it_deletes_a_datasource_and_keeps_it_readable(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-delete")

    deleted = delete_data_source(owner, "ds-delete")
    again = delete_data_source(owner, "ds-delete")

    assert deleted.status == again.status == Status.DELETED
    ds = get_data_source(owner, "ds-delete")
    assert ds.status == Status.DELETED
    assert ds.log.count("Deleted by its owner.") == 1


def test_it_refuses_to_delete_a_strangers_datasource(
    owner: Any, stranger: Any, csv_path: Path
) -> None:
    create(owner, csv_path, data_source_id="ds-keep")

    with pytest.raises(ResourceNotFound):
        delete_data_source(stranger, "ds-keep")

    assert DataSource.objects.get(entity_id="ds-keep").status == Status.PENDING


# --------------------------------------------------------------------------- tags


def test_it_adds_and_removes_tags(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-tags")

    common.add_tags(DataSource, owner, "ds-tags", {"team": "risk", "env": "dev"})
    common.add_tags(DataSource, owner, "ds-tags", {"env": "prod"})
    ds = common.delete_tags(DataSource, owner, "ds-tags", ["team", "absent"])

    assert ds.tags == {"env": "prod"}
    assert DataSource.objects.get(entity_id="ds-tags").tags == {"env": "prod"}


@pytest.mark.parametrize(
    "tags", [{"aws:owner": "x"}, {"": "x"}, {"k" * 129: "x"}, {"ok": "v" * 257}, {"bad<key>": "x"}]
)
def test_it_refuses_a_bad_tag(owner: Any, csv_path: Path, tags: dict[str, str]) -> None:
    create(owner, csv_path, data_source_id="ds-tags")

    with pytest.raises(InvalidTag):
        common.add_tags(DataSource, owner, "ds-tags", tags)

    assert DataSource.objects.get(entity_id="ds-tags").tags == {}


def test_it_refuses_more_than_fifty_tags(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-tags")
    common.add_tags(DataSource, owner, "ds-tags", {f"k{i}": "v" for i in range(50)})

    with pytest.raises(TagLimitExceeded):
        common.add_tags(DataSource, owner, "ds-tags", {"one-more": "v"})

    assert len(DataSource.objects.get(entity_id="ds-tags").tags) == 50


def test_it_refuses_to_tag_a_deleted_datasource(owner: Any, csv_path: Path) -> None:
    create(owner, csv_path, data_source_id="ds-tags")
    delete_data_source(owner, "ds-tags")

    with pytest.raises(InvalidInput, match="deleted"):
        common.add_tags(DataSource, owner, "ds-tags", {"k": "v"})
    with pytest.raises(InvalidInput, match="deleted"):
        common.delete_tags(DataSource, owner, "ds-tags", ["k"])


def test_it_refuses_to_tag_a_strangers_datasource(
    owner: Any, stranger: Any, csv_path: Path
) -> None:
    create(owner, csv_path, data_source_id="ds-tags")

    with pytest.raises(ResourceNotFound):
        common.add_tags(DataSource, stranger, "ds-tags", {"k": "v"})
    with pytest.raises(ResourceNotFound):
        common.delete_tags(DataSource, stranger, "ds-tags", ["k"])

    assert DataSource.objects.get(entity_id="ds-tags").tags == {}


# --------------------------------------------------------------------------- delimiter


def test_it_detects_a_semicolon_delimiter_and_says_so_in_the_log(
    owner: Any, shared_data: Path
) -> None:
    ds = create(owner, shared_data / "winequality-red.csv")
    ds.refresh_from_db()
    assert ds.csv_delimiter == ";"
    assert "';'" in ds.log and "delimiter" in ds.log

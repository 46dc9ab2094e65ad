"""Security of what the console writes: spreadsheet-safe CSV for people, AML's exact format for
programs, and a data folder private to the console's user.

One real multiclass run whose class names and pass-through values are formulas a spreadsheet would
run: uploaded through the wizard's upload, trained, evaluated and scored into the console's own
(local) storage by the real jobs.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from evaluation_factories import completed_evaluation
from prediction_factories import data_source, run_all
from reliability_figures import record

from console.models import BatchPrediction, Evaluation, MLModel, Status
from console.services.batch_predictions import create_batch_prediction
from console.services.evaluations import create_evaluation
from console.services.ml_models import create_ml_model

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["=cmd|' /C calc'!A0", "+SUM(1+1)", '@HYPERLINK("http://evil")', "-2+3"]
NOTES = ['=HYPERLINK("http://evil","x")', "+1", "-1", "@A1", "plain"]
SCHEMA = """{"version": "1.0", "targetAttributeName": "label", "dataFileContainsHeader": true,
 "attributes": [{"attributeName": "note", "attributeType": "TEXT"},
  {"attributeName": "x", "attributeType": "NUMERIC"},
  {"attributeName": "label", "attributeType": "CATEGORICAL"}],
 "excludedAttributeNames": []}"""
FAST = {"sgd.l2RegularizationAmount": "1e-6"}


def formula_data(records: int = 400) -> bytes:
    """x tells the class apart; the class names and notes are all formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["note", "x", "label"])
    for n in range(records):
        klass = n % len(CLASSES)
        writer.writerow([NOTES[n % len(NOTES)], klass * 10 + n % 3, CLASSES[klass]])
    return out.getvalue().encode()


@pytest.fixture
def formula_run(
    owner: Any, owner_client: Client, enqueued: list[Any]
) -> tuple[Evaluation, BatchPrediction]:
    """Upload → datasource → MULTICLASS model → its evaluation and batch prediction, completed."""
    upload = SimpleUploadedFile("formulas.csv", formula_data(), content_type="text/csv")
    response = owner_client.post(reverse("console:datasource-upload"), {"file": upload})
    assert response.status_code == 200, response.content
    ds = data_source(owner, response.json()["location"], SCHEMA, "Formulas")
    ml = create_ml_model(
        owner,
        ml_model_type="MULTICLASS",
        training_data_source_id=ds.entity_id,
        ml_model_name="Formulas",
        parameters=FAST,
    )
    ev = create_evaluation(owner, ml_model_id=ml.entity_id, evaluation_data_source_id=ds.entity_id)
    bp = create_batch_prediction(
        owner,
        ml_model_id=ml.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        pass_through=["note"],
    )
    run_all(enqueued)
    for obj in (ds, ml, ev, bp):
        obj.refresh_from_db()
        assert obj.status == Status.COMPLETED, f"{obj.entity_id}: {obj.message}"
    return ev, bp


def content_of(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_prediction_files_stay_amls_exact_bytes_while_the_confusion_matrix_is_neutralised(
    owner_client: Client, formula_run: tuple[Evaluation, BatchPrediction]
) -> None:
    ev, bp = formula_run
    stored_location = next(iter(bp.outputs.values()))
    with default_storage.open(stored_location, "rb") as stream:
        written = stream.read()

    gz = content_of(
        owner_client.get(reverse("console:batchprediction-download", args=[bp.entity_id, 0]))
    )
    as_csv = content_of(
        owner_client.get(reverse("console:batchprediction-download-csv", args=[bp.entity_id, 0]))
    )
    matrix = owner_client.get(reverse("console:evaluation-matrix", args=[ev.entity_id]))

    # Data for programs: byte for byte what the job wrote, formulas included, as AML writes them.
    assert gz == written and as_csv == gzip.decompress(written)
    header, *rows = list(csv.reader(io.StringIO(as_csv.decode())))
    assert sorted(set(CLASSES)) == sorted(set(header) & set(CLASSES))
    assert {row[header.index("note")] for row in rows} == set(NOTES)
    # Made for people: every formula-like class name is quoted; the counts stay numbers.
    table = list(csv.reader(io.StringIO(matrix.content.decode())))
    names = set(table[0][1:]) | {row[0] for row in table[1:]}
    assert names == {"'" + name for name in CLASSES}
    assert all(cell.isdigit() for row in table[1:] for cell in row[1:])
    leaks = sum(cell.startswith(("=", "+", "-", "@")) for row in table for cell in row)
    record(
        "Security",
        "CSV formula injection",
        tried=len(CLASSES) * 2 + sum(len(row) - 1 for row in table[1:]),
        bad=leaks,
        bad_means="spreadsheet cells a spreadsheet would run",
        note="confusion matrix download; prediction files byte-exact",
    )
    assert leaks == 0


def modes_under(folder: Path) -> dict[str, list[str]]:
    """Paths under `folder` (itself included) whose mode is not 0700 (folders) or 0600 (files)."""
    wrong: dict[str, list[str]] = {"folders": [], "files": []}
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_dir() and mode != 0o700:
            wrong["folders"].append(f"{path.relative_to(folder)} {mode:o}")
        elif path.is_file() and mode != 0o600:
            wrong["files"].append(f"{path.relative_to(folder)} {mode:o}")
    return wrong


def test_uploads_models_and_batch_results_in_local_storage_are_private_to_the_console_user(
    formula_run: tuple[Evaluation, BatchPrediction],
) -> None:
    _, bp = formula_run
    media = Path(settings.MEDIA_ROOT)
    files = [p for p in media.rglob("*") if p.is_file()]
    model_file = MLModel.objects.get(pk=bp.ml_model_id).artifact_key

    wrong = modes_under(media)

    assert any(p.name == "formulas.csv" for p in files), files  # the upload
    assert model_file and (media / model_file).is_file()  # the trained model
    assert (media / next(iter(bp.outputs.values()))).is_file()  # the batch results
    record(
        "Security",
        "private data folder (uploads, models, results)",
        tried=len(files) + sum(p.is_dir() for p in media.rglob("*")),
        bad=len(wrong["files"]) + len(wrong["folders"]),
        bad_means="paths readable by other users",
    )
    assert wrong == {"folders": [], "files": []}


def test_a_data_folder_and_database_made_before_the_fix_are_tightened_and_new_ones_are_private(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    old_db = data_dir / "db.sqlite3"
    sqlite3.connect(old_db).close()
    old_db.chmod(0o644)
    env = {
        **os.environ,
        "AML_DATA_DIR": str(data_dir),
        "DJANGO_SETTINGS_MODULE": "console.settings",
    }
    env.pop("SECRET_KEY", None)
    env.pop("DATABASE_URL", None)

    migrated = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO,
        env={**env, "AML_TEST_DATABASE": ""},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert migrated.returncode == 0, migrated.stderr
    assert {"db.sqlite3", "secret_key", "broker", "staticfiles"} <= {
        p.name for p in data_dir.iterdir()
    }
    assert stat.S_IMODE(old_db.stat().st_mode) == 0o600
    wrong = modes_under(data_dir)
    record(
        "Security",
        "private data folder (database, secret key)",
        tried=sum(1 for _ in data_dir.rglob("*")) + 1,
        bad=len(wrong["files"]) + len(wrong["folders"]),
        bad_means="paths readable by other users",
    )
    assert wrong == {"folders": [], "files": []}


@pytest.mark.parametrize(
    ("input_name", "header"),
    [
        ('we"ird\\.csv', 'attachment; filename="bp-Quoted00001-we\\"ird\\\\.csv.gz"'),
        ("données.csv", "attachment; filename*=utf-8''bp-Quoted00001-donn%C3%A9es.csv.gz"),
    ],
)
def test_a_result_named_after_an_odd_input_file_gets_a_well_formed_download_header(
    owner: Any, owner_client: Client, input_name: str, header: str
) -> None:
    """A quote in the file name must not end the header's quoted name early (RFC 6266)."""
    ev = completed_evaluation(owner, "BINARY", 1)
    bp = BatchPrediction.objects.create(
        owner=owner,
        entity_id="bp-Quoted00001",
        ml_model=ev.ml_model,
        batch_prediction_data_source=ev.evaluation_data_source,
        status=Status.COMPLETED,
        outputs={f"/data/{input_name}": f"batch-prediction/result/bp-Quoted00001-{input_name}.gz"},
    )

    response = owner_client.get(reverse("console:batchprediction-download", args=[bp.entity_id, 0]))

    assert response["Content-Disposition"] == header

"""`python -m mlcore`, run as a user would, in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BANKING = DATA / "banking.csv"
WINE = DATA / "winequality-red.csv"


def run_mlcore(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlcore", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_infer_schema_on_banking_proposes_y_as_target() -> None:
    done = run_mlcore("infer-schema", BANKING)
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["targetAttributeName"] == "y"
    assert schema["dataFileContainsHeader"] is True
    types = {a["attributeName"]: a["attributeType"] for a in schema["attributes"]}
    assert (types["age"], types["job"], types["y"]) == ("NUMERIC", "CATEGORICAL", "BINARY")


def test_statistics_on_banking_prints_the_statistics_json(tmp_path: Path) -> None:
    inferred = run_mlcore("infer-schema", BANKING)
    schema_file = tmp_path / "banking.schema"
    schema_file.write_text(inferred.stdout)
    done = run_mlcore("statistics", BANKING, "--schema", schema_file)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["recordCount"] == 41188
    assert result["invalidRecordCount"] == 0
    assert [a["name"] for a in result["attributes"]][:3] == ["age", "job", "marital"]
    assert done.stdout.startswith('{\n  "version": 1,')


def test_statistics_apply_a_rearrangement_given_inline() -> None:
    splitting = '{"splitting": {"percentBegin": 0, "percentEnd": 70}}'
    done = run_mlcore(
        "statistics", BANKING, "--schema", DATA / "banking.csv.schema", "--rearrangement", splitting
    )
    assert done.returncode == 0, done.stderr
    assert 0.69 * 41188 < json.loads(done.stdout)["recordsRead"] < 0.71 * 41188


def test_the_tutorial_schema_skips_the_records_whose_previous_is_not_binary() -> None:
    done = run_mlcore("statistics", BANKING, "--schema", DATA / "banking.csv.schema")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["recordsRead"] == 41188
    assert result["invalidRecordCount"] == 1064
    assert result["recordCount"] == 41188 - 1064


def test_winequality_uses_semicolons_and_says_so_on_stderr(tmp_path: Path) -> None:
    inferred = run_mlcore("infer-schema", WINE)
    assert inferred.returncode == 0, inferred.stderr
    assert "';'" in inferred.stderr and "delimiter" in inferred.stderr
    schema = json.loads(inferred.stdout)
    assert schema["targetAttributeName"] == "quality"
    schema_file = tmp_path / "wine.schema"
    schema_file.write_text(inferred.stdout)
    done = run_mlcore("statistics", WINE, "--schema", schema_file)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["recordCount"] == 1599
    assert result["target"]["type"] == "NUMERIC"
    assert sum(result["target"]["histogram"]["counts"]) == 1599


def test_a_bad_schema_exits_with_2_and_a_message_naming_the_file(tmp_path: Path) -> None:
    schema_file = tmp_path / "bad.schema"
    schema_file.write_text('{"attributes": 3}')
    done = run_mlcore("statistics", BANKING, "--schema", schema_file)
    assert done.returncode == 2
    assert str(schema_file) in done.stderr and "attributes" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_schema_that_does_not_fit_the_data_exits_with_2(tmp_path: Path) -> None:
    schema_file = tmp_path / "other.schema"
    schema_file.write_text(
        json.dumps({"attributes": [{"attributeName": "a", "attributeType": "NUMERIC"}]})
    )
    done = run_mlcore("statistics", BANKING, "--schema", schema_file)
    assert done.returncode == 2
    assert str(BANKING) in done.stderr and "Traceback" not in done.stderr


def test_a_missing_data_file_exits_with_2() -> None:
    done = run_mlcore("statistics", "/no/such/file.csv", "--schema", DATA / "banking.csv.schema")
    assert done.returncode == 2
    assert "/no/such/file.csv" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_argument_is_a_usage_error() -> None:
    done = run_mlcore("statistics", BANKING)
    assert done.returncode == 2
    assert "--schema" in done.stderr


def test_the_engine_never_imports_django_or_celery() -> None:
    script = """
import importlib, pkgutil, sys
import mlcore
names = [m.name for m in pkgutil.walk_packages(mlcore.__path__, "mlcore.")]
for name in names:
    importlib.import_module(name)
print(len(names), "django" in sys.modules, "celery" in sys.modules)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    count, django, celery = done.stdout.split()
    assert int(count) > 10
    assert (django, celery) == ("False", "False")


# --------------------------------------------------------------------------- bad option values


def run_in_process(*args: str) -> tuple[int, str]:
    """`main(argv)` in this process: (exit code, stderr)."""
    import contextlib
    import io

    from mlcore.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main([str(a) for a in args])
    return code, err.getvalue()


DEEP_OBJECT = '{"a": ' * 2000 + "1" + "}" * 2000  # deeper than Python's recursion limit


def test_deep_json_in_any_option_exits_2_naming_the_option(tmp_path: Path) -> None:
    schema = DATA / "banking.csv.schema"
    deep_file = tmp_path / "deep.json"
    deep_file.write_text(DEEP_OBJECT)
    train = [
        "train",
        BANKING,
        "--schema",
        schema,
        "--model-type",
        "binary",
        "--out",
        tmp_path / "m",
    ]
    cases = {
        "--schema": ["statistics", BANKING, "--schema", deep_file],
        "--rearrangement": [
            "statistics",
            BANKING,
            "--schema",
            schema,
            "--rearrangement",
            DEEP_OBJECT,
        ],
        "--parameters": [*train, "--parameters", DEEP_OBJECT],
        "--recipe": [*train, "--recipe", deep_file],
    }
    for option, argv in cases.items():
        code, err = run_in_process(*argv)
        assert code == 2, (option, err)
        assert err.startswith(f"error: {option}"), err
        assert "nested more than 100 levels deep" in err and "line 1" in err, err


def test_a_recipe_that_does_not_fit_the_schema_is_refused_before_the_data_is_read(
    tmp_path: Path,
) -> None:
    recipe = tmp_path / "bad.recipe"
    recipe.write_text('{"outputs": ["no_such_attribute"]}')
    code, err = run_in_process(
        "train", "/no/such/data.csv", "--schema", DATA / "banking.csv.schema",
        "--model-type", "binary", "--recipe", recipe, "--out", tmp_path / "m",
    )  # fmt: skip
    assert code == 2
    assert err.startswith(f"error: --recipe {recipe}: ") and "no_such_attribute" in err


def test_bad_parameters_and_option_files_name_the_option(tmp_path: Path) -> None:
    train = ["train", BANKING, "--schema", DATA / "banking.csv.schema", "--model-type", "binary"]
    train += ["--out", tmp_path / "m"]
    not_text = tmp_path / "latin1.json"
    not_text.write_bytes(b'{"sgd.maxPasses": "\xe9"}')
    cases = [
        (["--parameters", '{"sgd.maxPasses": "-3"}'], "error: --parameters: sgd.maxPasses"),
        (["--parameters", '{"sgd.maxPasses": [1]}'], "error: --parameters: each parameter"),
        (
            ["--parameters", not_text],
            f"error: --parameters: the parameters file {not_text} is not UTF-8",
        ),
        (["--recipe", "no\x00such"], "error: --recipe: cannot read the recipe file"),
    ]
    for extra, expected in cases:
        code, err = run_in_process(*train, *extra)
        assert (code, err.startswith(expected)) == (2, True), (extra, err)


def test_an_inline_schema_that_is_wrong_names_the_option() -> None:
    code, err = run_in_process("statistics", BANKING, "--schema", '{"attributes": 3}')
    assert code == 2
    assert err.startswith("error: --schema: attributes: must be a list")

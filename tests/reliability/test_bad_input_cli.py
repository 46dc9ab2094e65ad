"""Bad input on the command line: `python -m mlcore` given hostile --schema, --recipe, --parameters
and --rearrangement values (inline JSON, or files holding anything: deep JSON, JSON of the wrong
shape, bytes that are not UTF-8, NUL bytes, nothing) and hostile model files.

Whatever it is given, the command never shows a traceback: it exits 0 (the input was usable) or
2 with a message naming the option or the file. Most runs call `mlcore.cli.main` in this process
(fast); two run `python -m mlcore` for real, as a user would.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from bad_input import DEEP, FUZZ, HOSTILE, WRONG_JSON, Tally, hostile_bytes, nested
from hypothesis import example, given
from hypothesis import strategies as st

from mlcore import cli

pytestmark = pytest.mark.reliability

SUITE = "Bad input: command line"
TRACEBACKS = "tracebacks (an exit other than 0 or 2, or no message)"
REPO = Path(__file__).resolve().parents[2]
SCHEMA = {
    "version": "1.0",
    "dataFileContainsHeader": True,
    "targetAttributeName": "churn",
    "attributes": [
        {"attributeName": "age", "attributeType": "NUMERIC"},
        {"attributeName": "plan", "attributeType": "CATEGORICAL"},
        {"attributeName": "churn", "attributeType": "BINARY"},
    ],
}
FAST = '{"sgd.maxPasses": "2", "sgd.l2RegularizationAmount": "1e-6"}'


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "churn.csv"
    rows = ["age,plan,churn"] + [f"{20 + i % 40},{'abc'[i % 3]},{i % 2}" for i in range(80)]
    data.write_text("\n".join(rows) + "\n")
    schema = folder / "churn.schema"
    schema.write_text(json.dumps(SCHEMA))
    model = folder / "churn.model"
    code, _, err = run_main(
        ["train", str(data), "--schema", str(schema), "--model-type", "binary"]
        + ["--parameters", FAST, "--out", str(model)]
    )
    assert code == 0, err
    return {"data": data, "schema": schema, "model": model, "folder": folder}


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """`main(argv)` in this process: (exit code, stdout, stderr); argparse's exits count too."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 2
    return code, out.getvalue(), err.getvalue()


class CliTally(Tally):
    """A run is bad when it raises (a traceback for a user) or exits other than 0 or 2."""

    def ran(self, argv: list[str], named: list[str]) -> tuple[int, str]:
        self.tried += 1
        try:
            code, _, err = run_main(argv)
        except Exception as exc:  # what a user would see as a traceback
            self.crashes.append(f"{type(exc).__name__}: {exc!s:.200} for {argv!r:.300}")
            return -1, ""
        if code not in (0, 2) or (code == 2 and not err.strip()):
            self.crashes.append(f"exit {code} for {argv!r:.300}: {err[-300:]}")
            return code, err
        if code == 2:
            assert "Traceback" not in err
            assert any(name in err for name in named), (named, err[-500:])
        return code, err


# Inline JSON (the option's value starts with "{") or any other text (then it is a path).
INLINE = st.one_of(
    WRONG_JSON.map(json.dumps).map(lambda text: text if text.startswith("{") else "{" + text),
    st.sampled_from(
        [
            "{",
            "{}",
            '{"a": ' + nested(DEEP) + "}",
            nested(DEEP, kind="object"),
            '{"x": ' + "9" * 5000 + "}",
            '{"splitting": {"percentBegin": 1e400, "percentEnd": ' + "9" * 400 + "}}",
            '{"splitting": {"percentBegin": 80, "percentEnd": 20}}',
            '{"sgd.maxPasses": "-1"}',
            '{"sgd.maxPasses": [1, 2]}',
            '{"attributes": []}',
            '{"groups": {}, "outputs": []}',
            '{"outputs": ["' + "lowercase(" * 3000 + "plan" + ")" * 3000 + '"]}',
        ]
    ),
    HOSTILE.map(lambda text: "{" + text),
)
PATHS = st.one_of(
    HOSTILE.filter(lambda text: not text.lstrip().startswith("{")),
    st.sampled_from(["/dev/null", "/", "/etc/shadow", "/no/such/file", "a\x00b", ""]),
)
OPTIONS = ["--schema", "--recipe", "--parameters", "--rearrangement"]


def argv_for(option: str, value: str, files: dict[str, Path]) -> list[str]:
    """A train or statistics command whose other arguments are good, `option` given `value`."""
    data, schema = str(files["data"]), str(files["schema"])
    if option in ("--recipe", "--parameters"):
        parameters = value if option == "--parameters" else FAST
        argv = ["train", data, "--schema", schema, "--model-type", "binary"]
        argv += ["--parameters", parameters, "--out", str(files["folder"] / "out.model")]
        return [*argv, "--recipe", value] if option == "--recipe" else argv
    argv = ["statistics", data, "--schema", value if option == "--schema" else schema]
    return [*argv, "--rearrangement", value] if option == "--rearrangement" else argv


def test_bad_option_values_given_inline_or_as_paths(files: dict[str, Path]) -> None:
    tally = CliTally("options given inline or as paths", suite=SUITE)

    @FUZZ
    @given(option=st.sampled_from(OPTIONS), value=st.one_of(INLINE, PATHS))
    @example(option="--schema", value=nested(DEEP, kind="object"))
    @example(option="--rearrangement", value=nested(DEEP, kind="object"))
    @example(option="--parameters", value=nested(DEEP, kind="object"))
    @example(option="--recipe", value=nested(DEEP, kind="object"))
    def check(option: str, value: str) -> None:
        tally.ran(argv_for(option, value, files), [option])

    assert tally.run(check, bad_means=TRACEBACKS) == []


def test_bad_option_files(files: dict[str, Path]) -> None:
    tally = CliTally("option files (deep JSON, wrong shapes, not UTF-8, NUL bytes)", suite=SUITE)
    target = files["folder"] / "option.json"

    @FUZZ
    @given(
        option=st.sampled_from(OPTIONS),
        content=st.one_of(hostile_bytes(), WRONG_JSON.map(lambda v: json.dumps(v).encode())),
    )
    @example(option="--schema", content=nested(DEEP).encode())
    @example(option="--recipe", content=b'{"groups": ' + nested(DEEP).encode() + b"}")
    @example(option="--parameters", content=nested(DEEP, kind="object").encode())
    @example(option="--rearrangement", content=b"\xff\xfe\x00\x00garbage")
    def check(option: str, content: bytes) -> None:
        target.write_bytes(content)
        tally.ran(argv_for(option, str(target), files), [option, str(target)])

    assert tally.run(check, bad_means=TRACEBACKS) == []


def _model_file(header: bytes | None, weights: bytes | None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if header is not None:
            archive.writestr("header.json", header)
        if weights is not None:
            archive.writestr("weights.npy", weights)
    return buffer.getvalue()


def test_bad_model_files(files: dict[str, Path]) -> None:
    tally = CliTally("model files given to evaluate and predict", suite=SUITE)
    target = files["folder"] / "bad.model"
    good = zipfile.ZipFile(files["model"])
    header, weights = good.read("header.json"), good.read("weights.npy")
    headers = st.one_of(
        st.sampled_from([nested(DEEP).encode(), b"{}", b"\xff", header[: len(header) // 2]]),
        WRONG_JSON.map(lambda v: json.dumps(v).encode()),
        st.just(header),
    )

    @FUZZ
    @given(
        content=st.one_of(
            hostile_bytes(),
            st.builds(
                _model_file, st.one_of(st.none(), headers), st.sampled_from([None, weights, b"x"])
            ),
        ),
        command=st.sampled_from(["evaluate", "predict"]),
    )
    @example(content=_model_file(nested(DEEP).encode(), weights), command="evaluate")
    def check(content: bytes, command: str) -> None:
        target.write_bytes(content)
        argv = [command, str(target), str(files["data"])]
        if command == "predict":
            argv += ["--schema", str(files["schema"]), "--out", str(files["folder"] / "bp")]
        tally.ran(argv, [str(target)])

    assert tally.run(check, bad_means=TRACEBACKS) == []


@pytest.mark.parametrize(
    ("option", "content"),
    [
        ("--schema", '{"attributes": ' + nested(1000) + "}"),
        ("--recipe", nested(1000, kind="object")),
    ],
)
def test_a_real_run_refuses_deep_json_with_a_message_and_exit_2(
    files: dict[str, Path], option: str, content: str
) -> None:
    """As a user runs it: 1,000 levels, more than Python's own recursion limit of 1,000."""
    path = files["folder"] / f"deep{option.strip('-')}.json"
    path.write_text(content)
    argv = argv_for(option, str(path), files)
    tally = Tally(f"{option} in a real `python -m mlcore` run", suite=SUITE)
    done = subprocess.run(
        [sys.executable, "-m", "mlcore", *argv],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    tally.tried += 1
    if done.returncode != 2 or "Traceback" in done.stderr:
        tally.crashes.append(f"exit {done.returncode}: {done.stderr[-300:]}")
    assert tally.finish(bad_means=TRACEBACKS) == []
    assert f"error: {option} {path}" in done.stderr
    assert "nested more than 100 levels deep" in done.stderr and "line 1" in done.stderr
    assert done.stdout == ""

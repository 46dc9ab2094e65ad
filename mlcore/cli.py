"""The engine's command line: `python -m mlcore infer-schema | statistics | train | evaluate |
predict`.

    python -m mlcore infer-schema DATA [--header | --no-header]
    python -m mlcore statistics DATA --schema SCHEMA [--rearrangement JSON]
    python -m mlcore train DATA --schema SCHEMA --model-type TYPE [--recipe FILE]
                           [--parameters JSON] [--rearrangement JSON] [--seed N] --out MODEL
    python -m mlcore evaluate MODEL DATA [--schema SCHEMA] [--rearrangement JSON]
    python -m mlcore predict MODEL DATA --schema SCHEMA --out DIR|s3://bucket/prefix/ [--id ID]
                             [--pass-through a,b] [--explain]

`train` writes the model file to MODEL, prints a JSON summary (records, passes, features, size,
loss history) to stdout and its progress and log lines to stderr. `evaluate` prints AML's
evaluation (metric, baseline, alerts, details); the schema defaults to the model's own.
`predict` writes AML's batch prediction files under the output location
(`batch-prediction/result/<ID>-<file>.gz` per input file and `batch-prediction/<ID>.manifest`)
and prints a JSON summary (records, invalid records, the manifest's content, the columns).

DATA is a local file or directory (no root restriction here: the command line runs with the
user's own rights) or an `s3://bucket/key` / `s3://bucket/prefix/` URI, read with boto3's default
client (which honours AWS_ENDPOINT_URL_S3). Results go to stdout as JSON (indent 2, keys in the
documented order) so scripts can rely on them; notes and errors go to stderr. Exit codes: 0 on
success, 2 for a usage error or data the engine cannot use (the message names the file and
line), 1 for an unexpected failure.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from mlcore import safejson
from mlcore.errors import MLCoreError, RearrangementError, SchemaError
from mlcore.io.csvreader import (
    CsvFormat,
    Sniffed,
    column_names_from_header,
    generic_column_names,
    sniff,
)
from mlcore.io.files import DataFile
from mlcore.io.locations import resolve_location
from mlcore.io.rearrangement import Rearrangement, parse_rearrangement
from mlcore.recipes import RecipeError, parse_recipe
from mlcore.schema import infer_schema, parse_schema, schema_to_json, suggest_target
from mlcore.schema.model import Schema
from mlcore.stats import compute_statistics
from mlcore.train.parameters import ParameterError, TrainingParameters

EXIT_OK = 0
EXIT_BAD_INPUT = 2
# A schema, recipe, parameters or rearrangement file is small (AML capped them at 131,071
# characters): a bigger one is a mix-up (the data file given as --schema, say), not read whole.
MAX_ARGUMENT_FILE_BYTES = 8 * 1024 * 1024


class UsageError(Exception):
    """A command-line argument that cannot be used (a missing schema file, say)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mlcore", description="AML Console's engine, from the command line."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    infer = commands.add_parser("infer-schema", help="print the schema JSON guessed from the data")
    infer.add_argument("data", metavar="DATA", help="a local path or an s3:// URI")
    header = infer.add_mutually_exclusive_group()
    header.add_argument(
        "--header",
        dest="header",
        action="store_true",
        default=None,
        help="the first line names the columns (default: detected)",
    )
    header.add_argument(
        "--no-header", dest="header", action="store_false", help="the first line is a record"
    )
    infer.set_defaults(run=run_infer_schema)

    stats = commands.add_parser("statistics", help="print the datasource statistics JSON")
    stats.add_argument("data", metavar="DATA", help="a local path or an s3:// URI")
    stats.add_argument(
        "--schema",
        required=True,
        metavar="SCHEMA",
        help="the schema: a JSON file, or the JSON itself",
    )
    stats.add_argument(
        "--rearrangement",
        metavar="JSON",
        help='a data rearrangement, e.g. \'{"splitting": {"percentBegin": 0, '
        '"percentEnd": 70}}\' (or a file holding it)',
    )
    stats.set_defaults(run=run_statistics)
    add_train_command(commands)
    add_evaluate_command(commands)
    add_predict_command(commands)
    return parser


def add_train_command(commands: Any) -> None:
    train = commands.add_parser("train", help="train a model and write the model file")
    train.add_argument("data", metavar="DATA", help="a local path or an s3:// URI")
    train.add_argument(
        "--schema", required=True, metavar="SCHEMA", help="the schema: a JSON file, or the JSON"
    )
    train.add_argument(
        "--model-type",
        required=True,
        type=str.upper,
        choices=["BINARY", "MULTICLASS", "REGRESSION"],
        help="BINARY, MULTICLASS or REGRESSION",
    )
    train.add_argument(
        "--recipe", metavar="FILE", help="an AML recipe file (default: the suggested recipe)"
    )
    train.add_argument(
        "--parameters",
        metavar="JSON",
        help='AML training parameters, e.g. \'{"sgd.maxPasses": "20"}\' (or a file holding them)',
    )
    train.add_argument("--rearrangement", metavar="JSON", help="a data rearrangement (or a file)")
    train.add_argument("--seed", type=int, default=0, help="seeds shuffling (default 0)")
    train.add_argument("--out", required=True, metavar="MODEL", help="where to write the model")
    train.set_defaults(run=run_train)


def add_evaluate_command(commands: Any) -> None:
    evaluate = commands.add_parser("evaluate", help="print a model's evaluation on a datasource")
    evaluate.add_argument("model", metavar="MODEL", help="a model file written by train")
    evaluate.add_argument("data", metavar="DATA", help="a local path or an s3:// URI")
    evaluate.add_argument(
        "--schema", metavar="SCHEMA", help="the data's schema (default: the model's schema)"
    )
    evaluate.add_argument(
        "--rearrangement", metavar="JSON", help="a data rearrangement (or a file)"
    )
    evaluate.set_defaults(run=run_evaluate)


def add_predict_command(commands: Any) -> None:
    predict = commands.add_parser("predict", help="write AML's batch prediction files")
    predict.add_argument("model", metavar="MODEL", help="a model file written by train")
    predict.add_argument("data", metavar="DATA", help="a local path or an s3:// URI")
    predict.add_argument(
        "--schema",
        required=True,
        metavar="SCHEMA",
        help="the data's schema: a JSON file, or the JSON",
    )
    predict.add_argument(
        "--out",
        required=True,
        metavar="DIR|s3://bucket/prefix/",
        help="the output location (AML's OutputUri)",
    )
    predict.add_argument(
        "--id", metavar="ID", help="the batch prediction id (default: bp- and a random suffix)"
    )
    predict.add_argument(
        "--pass-through",
        metavar="a,b",
        default="",
        help="input columns copied, by name, ahead of the prediction columns",
    )
    predict.add_argument(
        "--explain",
        action="store_true",
        help="add the three attributes that contributed most to each record's score",
    )
    predict.set_defaults(run=run_predict)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (argparse exits with 2 by itself on bad usage)."""
    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except (MLCoreError, UsageError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    write_json(result, sys.stdout)
    return EXIT_OK


def write_json(document: Any, out: TextIO) -> None:
    out.write(json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def run_infer_schema(args: argparse.Namespace) -> dict[str, Any]:
    files = resolve_location(args.data)
    sniffed = with_header_choice(sniff(files), args.header)
    for note in sniffed.notes:
        print(f"note: {note}", file=sys.stderr)
    schema = infer_schema(sniffed.columns, sniffed.sample_rows, sniffed.has_header)
    schema.target = suggest_target(schema, sniffed.sample_rows)
    return dict(json.loads(schema_to_json(schema)))


def with_header_choice(sniffed: Sniffed, header: bool | None) -> Sniffed:
    """Apply --header/--no-header when it contradicts what sniffing detected."""
    if header is None or header == sniffed.has_header:
        return sniffed
    if header:
        if len(sniffed.sample_rows) < 2:
            raise MLCoreError("--header was given but the data has no record after the first line")
        columns, notes = column_names_from_header(sniffed.sample_rows[0])
        rows = sniffed.sample_rows[1:]
        notes.insert(0, "--header: the first line names the columns")
    else:
        columns = generic_column_names(len(sniffed.columns))
        rows = [list(sniffed.columns), *sniffed.sample_rows]
        notes = [f"--no-header: the first line is a record; named the columns {columns[0]}..."]
    # sniffing's own verdict on the header no longer applies
    kept = [note for note in sniffed.notes if "header" not in note.lower()]
    return Sniffed(sniffed.delimiter, header, columns, rows, [*kept, *notes])


def run_statistics(args: argparse.Namespace) -> dict[str, Any]:
    files = resolve_location(args.data)
    schema = load_schema(args.schema)
    rearrangement = load_rearrangement(args.rearrangement)
    fmt = CsvFormat(delimiter=detect_delimiter(files), has_header=schema.data_file_contains_header)
    return compute_statistics(files, schema, fmt, rearrangement=rearrangement)


def run_train(args: argparse.Namespace) -> dict[str, Any]:
    from mlcore.artifacts import save_model
    from mlcore.train.pipeline import train_model

    schema = load_schema(args.schema)
    recipe = load_recipe(args.recipe, schema)
    parameters = load_parameters(args.parameters)
    rearrangement = load_rearrangement(args.rearrangement)
    files = resolve_location(args.data)
    fmt = CsvFormat(delimiter=detect_delimiter(files), has_header=schema.data_file_contains_header)
    try:
        model = train_model(
            files,
            schema,
            fmt,
            model_type=args.model_type,
            recipe_text=recipe,
            parameters=parameters,
            rearrangement=rearrangement,
            progress=print_progress,
            log=lambda line: print(line, file=sys.stderr),
            seed=args.seed,
        )
    except RecipeError as err:  # a recipe that does not fit what training made of the data
        raise UsageError(f"{option_source('--recipe', args.recipe or '')}: {err}") from err
    save_model(model, args.out)
    return train_summary(model, args.out)


def run_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from mlcore.artifacts import load_model
    from mlcore.evaluate import evaluate_model

    model = load_model(args.model)
    files = resolve_location(args.data)
    schema = load_schema(args.schema) if args.schema else model.schema
    fmt = CsvFormat(delimiter=detect_delimiter(files), has_header=schema.data_file_contains_header)
    return evaluate_model(
        model, files, schema, fmt, rearrangement=load_rearrangement(args.rearrangement)
    )


def run_predict(args: argparse.Namespace) -> dict[str, Any]:
    import uuid

    from mlcore.artifacts import load_model
    from mlcore.predict.batch import batch_predict, output_store_for

    model = load_model(args.model)
    files = resolve_location(args.data)
    schema = load_schema(args.schema)
    fmt = CsvFormat(delimiter=detect_delimiter(files), has_header=schema.data_file_contains_header)
    store = output_store_for(args.out)
    identifier = args.id or f"bp-{uuid.uuid4().hex[:12]}"
    pass_through = [name.strip() for name in args.pass_through.split(",") if name.strip()]
    result = batch_predict(
        model,
        files,
        schema,
        fmt,
        batch_prediction_id=identifier,
        store=store,
        pass_through=pass_through,
        explain=args.explain,
        progress=lambda records, _: print(f"read {records:,} records", file=sys.stderr),
        log=lambda line: print(line, file=sys.stderr),
    )
    return {
        "batchPredictionId": identifier,
        "totalRecordCount": result.total_records,
        "invalidRecordCount": result.invalid_records,
        "manifest": result.manifest_location,
        "outputs": result.outputs,
        "columns": result.columns,
        "metric": result.metric,
    }


def load_parameters(argument: str | None) -> dict[str, str] | None:
    """AML's Parameters map; numbers are accepted and turned into strings as the API would."""
    if not argument:
        return None
    where = option_source("--parameters", argument)
    try:
        parameters = safejson.loads(read_argument(argument, "--parameters"))
    except json.JSONDecodeError as err:
        raise UsageError(
            f"{where}: not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from err
    if not isinstance(parameters, dict):
        raise UsageError(f"{where}: must be a JSON object of strings")
    if any(isinstance(value, dict | list) for value in parameters.values()):
        raise UsageError(f"{where}: each parameter is a string or a number, not a list or object")
    given = {str(key): str(value) for key, value in parameters.items()}
    try:
        TrainingParameters.from_aml(given)
    except ParameterError as err:
        raise UsageError(f"{where}: {err}") from err
    return given


def load_recipe(argument: str | None, schema: Schema) -> str | None:
    """The recipe text, checked against the schema before any data is read."""
    if not argument:
        return None
    text = read_argument(argument, "--recipe")
    try:
        parse_recipe(text, schema)
    except MLCoreError as err:
        raise UsageError(f"{option_source('--recipe', argument)}: {err}") from err
    return text


def print_progress(pass_k: int, n_passes: int, records: int, loss: float) -> None:
    if pass_k == 0:
        print(f"reading: {records:,} records", file=sys.stderr)
    else:
        print(f"pass {pass_k}/{n_passes}: {records:,} records, loss {loss:.6g}", file=sys.stderr)


def train_summary(model: Any, out: str) -> dict[str, Any]:
    return {
        "modelFile": out,
        "modelType": model.model_type.value,
        "records": model.records_used,
        "recordsWithoutTarget": model.records_without_target,
        "passes": model.passes,
        "converged": model.converged,
        "features": model.n_features,
        "droppedFeatures": model.dropped_features,
        "sizeInBytes": model.size_in_bytes,
        "classes": model.classes,
        "parameters": model.parameters.to_aml(),
        "lossHistory": model.history,
        "regularization": model.regularization,
    }


def load_schema(argument: str) -> Schema:
    try:
        return parse_schema(read_argument(argument, "--schema"))
    except SchemaError as err:
        raise UsageError(f"{option_source('--schema', argument)}: {err}") from err


def detect_delimiter(files: Sequence[DataFile]) -> str:
    """AML schemas do not record the delimiter, so sniff it (and say so when it is not a comma)."""
    delimiter = sniff(files).delimiter
    if delimiter != ",":
        print(f"note: reading the data with {delimiter!r} as the delimiter", file=sys.stderr)
    return delimiter


def load_rearrangement(argument: str | None) -> Rearrangement | None:
    if not argument:
        return None
    text = read_argument(argument, "--rearrangement")
    try:
        return parse_rearrangement(text)
    except RearrangementError as err:
        raise UsageError(f"{option_source('--rearrangement', argument)}: {err}") from err


def is_inline_json(argument: str) -> bool:
    return argument.lstrip().startswith("{")


def option_source(option: str, argument: str) -> str:
    """How a message names what it refuses: `--schema bad.schema`, or `--schema` for inline JSON."""
    return option if is_inline_json(argument) else f"{option} {argument}"


def read_argument(argument: str, option: str) -> str:
    """JSON given inline to `option` (starting with `{`) or the path of a file holding it."""
    if is_inline_json(argument):
        return argument
    what, named = option.lstrip("-"), f"{option}: "
    try:
        with Path(argument).open("rb") as stream:
            data = stream.read(MAX_ARGUMENT_FILE_BYTES + 1)
    except (OSError, ValueError) as err:  # ValueError: a NUL character in the path
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise UsageError(f"{named}cannot read the {what} file {argument}: {reason}") from err
    if len(data) > MAX_ARGUMENT_FILE_BYTES:
        raise UsageError(
            f"{named}the {what} file {argument} is larger than {MAX_ARGUMENT_FILE_BYTES:,} bytes: "
            f"it cannot be a {what}"
        )
    try:
        return data.decode("utf-8-sig")  # a BOM is not part of the JSON
    except UnicodeDecodeError as err:
        raise UsageError(
            f"{named}the {what} file {argument} is not UTF-8 text "
            f"(a bad byte at offset {err.start})"
        ) from err


__all__ = ["build_parser", "main"]

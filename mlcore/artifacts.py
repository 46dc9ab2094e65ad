"""Model files: a zip holding `header.json` and `weights.npy`. Data only, never pickle.

* `header.json`: `{"format": "aml-console-model", "version": 1, "modelType", "schema" (AML's
  schema JSON), "recipe" (the recipe text), "fittedRecipe" (`FittedRecipe.to_dict()`),
  "parameters" (AML's string map), "classes", "scoreThreshold", "created", and the training
  facts: "trainingTargetMean", "trainingTargetStd", "trainingClassCounts", "history", "recordsUsed",
  "recordsWithoutTarget", "passes", "converged", "droppedFeatures", "weightsShape"}`.
* `weights.npy`: float64 (n_features + 1, k), intercept last, read with `allow_pickle=False`.

`load_model` checks everything it reads and raises `ModelFileError` naming what is wrong: not a
zip, a missing member, another format or version, a header key missing, weights whose shape
does not match the recipe's feature count or the classes.

>>> save_model(model, "model.zip")                                   # doctest: +SKIP
>>> load_model("model.zip").weights.shape                            # doctest: +SKIP
(64, 1)
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np

from mlcore import safejson
from mlcore.errors import MLCoreError
from mlcore.schema.jsonio import parse_schema, schema_to_dict
from mlcore.schema.model import ModelType
from mlcore.train.model import TrainedModel
from mlcore.train.parameters import TrainingParameters

FORMAT = "aml-console-model"
VERSION = 1
HEADER = "header.json"
WEIGHTS = "weights.npy"
REQUIRED_KEYS = (
    "format",
    "version",
    "modelType",
    "schema",
    "recipe",
    "fittedRecipe",
    "parameters",
    "classes",
    "scoreThreshold",
)

PathOrStream = str | Path | IO[bytes]


class ModelFileError(MLCoreError):
    """A model file cannot be used: damaged, truncated, or not one of ours."""


def save_model(model: TrainedModel, destination: PathOrStream) -> None:
    """Write `model` as a zip (deflated header, stored weights) to a path or binary stream."""
    weights = io.BytesIO()
    np.save(weights, np.ascontiguousarray(model.weights, dtype=np.float64), allow_pickle=False)
    with zipfile.ZipFile(destination, "w") as archive:
        archive.writestr(HEADER, json.dumps(header_of(model), indent=1), zipfile.ZIP_DEFLATED)
        archive.writestr(WEIGHTS, weights.getvalue(), zipfile.ZIP_STORED)


def header_of(model: TrainedModel) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "modelType": model.model_type.value,
        "schema": schema_to_dict(model.schema),
        "recipe": model.recipe_text,
        "fittedRecipe": model.fitted_recipe.to_dict(),
        "parameters": model.parameters.to_aml(),
        "classes": list(model.classes),
        "scoreThreshold": model.score_threshold,
        "created": model.created,
        "trainingTargetMean": model.training_target_mean,
        "trainingTargetStd": model.training_target_std,
        "trainingClassCounts": model.training_class_counts,
        "history": list(model.history),
        "recordsUsed": model.records_used,
        "recordsWithoutTarget": model.records_without_target,
        "passes": model.passes,
        "converged": model.converged,
        "droppedFeatures": model.dropped_features,
        "regularization": model.regularization,
        "weightsShape": list(model.weights.shape),
    }


def load_model(source: PathOrStream) -> TrainedModel:
    """Read and validate a model file written by `save_model`."""
    name = str(source) if isinstance(source, str | Path) else getattr(source, "name", None)
    try:
        with zipfile.ZipFile(source) as archive:
            header = _read_header(archive)
            weights = _read_weights(archive)
    except ModelFileError as err:
        raise ModelFileError(err.message, file=name) from None
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise ModelFileError(f"not a readable model file ({err})", file=name) from err
    try:
        return _model_from(header, weights)
    except ModelFileError as err:
        raise ModelFileError(err.message, file=name) from None


def _read_header(archive: zipfile.ZipFile) -> dict[str, Any]:
    members = set(archive.namelist())
    for member in (HEADER, WEIGHTS):
        if member not in members:
            raise ModelFileError(f"the model file has no {member}")
    try:
        header = safejson.loads(archive.read(HEADER).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFileError(f"{HEADER} is not valid JSON ({err})") from err
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise ModelFileError(f"not an {FORMAT} file")
    if header.get("version") != VERSION:
        raise ModelFileError(
            f"model file version {header.get('version')!r} is not supported (expected {VERSION})"
        )
    missing = [key for key in REQUIRED_KEYS if key not in header]
    if missing:
        raise ModelFileError(f"{HEADER} lacks {', '.join(missing)}")
    return header


def _read_weights(archive: zipfile.ZipFile) -> np.ndarray:
    with archive.open(WEIGHTS) as stream:
        weights = np.load(io.BytesIO(stream.read()), allow_pickle=False)
    if weights.dtype != np.float64 or weights.ndim != 2:
        raise ModelFileError(
            f"{WEIGHTS} must be a 2-d float64 array, got {weights.dtype} {weights.shape}"
        )
    if not np.all(np.isfinite(weights)):
        raise ModelFileError(f"{WEIGHTS} holds non-finite values")
    return weights


def _model_from(header: dict[str, Any], weights: np.ndarray) -> TrainedModel:
    from mlcore.recipes import FittedRecipe  # recipes import pandas-heavy code; only when loading

    try:
        model_type = ModelType(header["modelType"])
        schema = parse_schema(header["schema"])
        parameters = TrainingParameters.from_aml(header["parameters"])
        fitted = FittedRecipe.from_dict(header["fittedRecipe"])
    except (MLCoreError, ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"{HEADER} is inconsistent: {err}") from err
    classes = [str(label) for label in header["classes"]]
    _check_shape(weights, int(fitted.n_features), model_type, classes)
    return TrainedModel(
        model_type=model_type,
        schema=schema,
        recipe_text=str(header["recipe"]),
        fitted_recipe=fitted,
        weights=weights,
        classes=classes,
        parameters=parameters,
        score_threshold=float(header["scoreThreshold"]),
        training_target_mean=header.get("trainingTargetMean"),
        training_target_std=header.get("trainingTargetStd"),
        training_class_counts=header.get("trainingClassCounts"),
        history=[float(value) for value in header.get("history", [])],
        records_used=int(header.get("recordsUsed", 0)),
        records_without_target=int(header.get("recordsWithoutTarget", 0)),
        passes=int(header.get("passes", 0)),
        converged=bool(header.get("converged", False)),
        dropped_features=int(header.get("droppedFeatures", 0)),
        regularization=header.get("regularization"),
        created=float(header.get("created", 0.0)),
    )


def _check_shape(
    weights: np.ndarray, n_features: int, model_type: ModelType, classes: list[str]
) -> None:
    outputs = len(classes) if model_type is ModelType.MULTICLASS else 1
    expected = (n_features + 1, outputs)
    if weights.shape != expected:
        raise ModelFileError(
            f"{WEIGHTS} has shape {weights.shape} but the recipe and classes need {expected}"
        )
    if model_type is ModelType.BINARY and classes != ["0", "1"]:
        raise ModelFileError(f"a BINARY model's classes must be ['0', '1'], got {classes}")

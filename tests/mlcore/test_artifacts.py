"""Model files: a round trip scores identically; damaged or foreign files are refused."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_predict import train, typed_frame  # tests/mlcore is on sys.path (its conftest)

from mlcore.artifacts import ModelFileError, load_model, save_model
from mlcore.errors import MLCoreError
from mlcore.predict import score_frame, score_record
from mlcore.train.model import TrainedModel


@pytest.fixture(scope="module")
def binary_model() -> TrainedModel:
    return train("BINARY", "y")


@pytest.fixture(scope="module")
def model_bytes(binary_model: TrainedModel) -> bytes:
    buffer = io.BytesIO()
    save_model(binary_model, buffer)
    return buffer.getvalue()


def rewritten(original: bytes, change: dict[str, bytes | None]) -> bytes:
    """The zip with members replaced (bytes) or removed (None)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(out, "w") as target:
        for name in source.namelist():
            if name in change:
                if change[name] is not None:
                    target.writestr(name, change[name])  # type: ignore[arg-type]
            else:
                target.writestr(name, source.read(name))
    return out.getvalue()


def header_of(data: bytes) -> dict[str, object]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return dict(json.loads(archive.read("header.json")))


def npy(array: np.ndarray, allow_pickle: bool = False) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


@pytest.mark.parametrize("model_type,target", [("MULTICLASS", "kind"), ("REGRESSION", "amount")])
def test_round_trip_through_a_file_scores_identically(
    tmp_path: Path, model_type: str, target: str
) -> None:
    model = train(model_type, target)
    save_model(model, tmp_path / "model.zip")
    loaded = load_model(tmp_path / "model.zip")
    np.testing.assert_array_equal(
        score_frame(loaded, typed_frame()), score_frame(model, typed_frame())
    )
    assert loaded.classes == model.classes and loaded.model_type is model.model_type


def test_round_trip_through_a_stream_keeps_everything(
    binary_model: TrainedModel, model_bytes: bytes
) -> None:
    loaded = load_model(io.BytesIO(model_bytes))
    np.testing.assert_array_equal(loaded.weights, binary_model.weights)
    np.testing.assert_array_equal(
        score_frame(loaded, typed_frame()), score_frame(binary_model, typed_frame())
    )
    record = {"age": "33", "job": "tech", "note": "no remark"}
    assert score_record(loaded, record) == score_record(binary_model, record)
    assert loaded.fitted_recipe.feature_names == binary_model.fitted_recipe.feature_names
    assert loaded.parameters == binary_model.parameters
    assert loaded.recipe_text == binary_model.recipe_text
    assert loaded.schema == binary_model.schema
    assert loaded.history == binary_model.history
    assert loaded.training_class_counts == binary_model.training_class_counts
    assert loaded.score_threshold == 0.5


def test_header_names_the_format_version_and_model(model_bytes: bytes) -> None:
    header = header_of(model_bytes)
    assert header["format"] == "aml-console-model" and header["version"] == 1
    assert header["modelType"] == "BINARY" and header["classes"] == ["0", "1"]
    assert header["parameters"]["algorithm"] == "sgd"  # type: ignore[index]


def test_a_truncated_file_is_refused(model_bytes: bytes) -> None:
    with pytest.raises(ModelFileError, match="not a readable model file"):
        load_model(io.BytesIO(model_bytes[: len(model_bytes) // 2]))


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.zip"
    path.write_bytes(b"hello, I am a CSV\n1,2,3\n")
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, MLCoreError)


def test_a_corrupted_member_is_refused(model_bytes: bytes) -> None:
    damaged = bytearray(model_bytes)
    start = damaged.find(b"\x93NUMPY")
    damaged[start + 200 : start + 260] = b"\xff" * 60  # inside the stored weights
    with pytest.raises(ModelFileError):
        load_model(io.BytesIO(bytes(damaged)))


@pytest.mark.parametrize("member", ["header.json", "weights.npy"])
def test_a_missing_member_is_refused(model_bytes: bytes, member: str) -> None:
    with pytest.raises(ModelFileError, match=f"no {member}"):
        load_model(io.BytesIO(rewritten(model_bytes, {member: None})))


def test_another_version_is_refused(model_bytes: bytes) -> None:
    header = header_of(model_bytes) | {"version": 2}
    data = rewritten(model_bytes, {"header.json": json.dumps(header).encode()})
    with pytest.raises(ModelFileError, match="version 2 is not supported"):
        load_model(io.BytesIO(data))


def test_another_format_is_refused(model_bytes: bytes) -> None:
    header = header_of(model_bytes) | {"format": "something-else"}
    data = rewritten(model_bytes, {"header.json": json.dumps(header).encode()})
    with pytest.raises(ModelFileError, match="not an aml-console-model file"):
        load_model(io.BytesIO(data))


def test_weights_not_matching_the_feature_count_are_refused(
    binary_model: TrainedModel, model_bytes: bytes
) -> None:
    data = rewritten(model_bytes, {"weights.npy": npy(binary_model.weights[:-2])})
    with pytest.raises(ModelFileError, match="shape"):
        load_model(io.BytesIO(data))


def test_pickled_weights_are_refused(model_bytes: bytes) -> None:
    objects = np.array([{"evil": True}], dtype=object)
    data = rewritten(model_bytes, {"weights.npy": npy(objects, allow_pickle=True)})
    with pytest.raises(ModelFileError):
        load_model(io.BytesIO(data))


def test_a_header_that_is_not_json_is_refused(model_bytes: bytes) -> None:
    data = rewritten(model_bytes, {"header.json": b"{not json"})
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load_model(io.BytesIO(data))

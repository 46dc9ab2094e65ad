"""The training defaults are one set, whichever way a model is asked for."""

from __future__ import annotations

from console.model_drafts import ModelDraft
from console.services.ml_models import CONSOLE_DEFAULT_PARAMETERS
from mlcore.cli import build_parser, load_parameters
from mlcore.train.parameters import TrainingParameters

SIZE = "sgd.maxMLModelSizeInBytes"  # the one default AML itself set apart: 32 vs 100 MiB


def _without_size(parameters: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in parameters.items() if key != SIZE}


def test_the_console_the_command_line_and_the_api_train_with_the_same_defaults() -> None:
    draft = ModelDraft(token="", user_id=0, data_source_id="", data_source_name="")
    console = TrainingParameters.from_aml(draft.parameters, console=True).to_aml()
    args = build_parser().parse_args(
        ["train", "d.csv", "--schema", "{}", "--model-type", "BINARY", "--out", "m"]
    )
    command_line = TrainingParameters.from_aml(load_parameters(args.parameters)).to_aml()
    api = TrainingParameters.from_aml({}).to_aml()
    assert _without_size(console) == _without_size(command_line) == _without_size(api)
    assert api["sgd.shuffleType"] == "auto"
    assert api["sgd.l2RegularizationAmount"] == "auto"  # chosen by the trainer
    default_path = TrainingParameters.from_aml(CONSOLE_DEFAULT_PARAMETERS, console=True).to_aml()
    assert _without_size(default_path) == _without_size(api)
    assert console[SIZE] == "104857600" and api[SIZE] == command_line[SIZE] == "33554432"


def test_a_caller_that_asks_for_no_shuffling_gets_none() -> None:
    assert TrainingParameters.from_aml({"sgd.shuffleType": "none"}).shuffle_type == "none"

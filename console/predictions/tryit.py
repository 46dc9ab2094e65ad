"""The "Try real-time predictions" page's form and result (reference section 9).

The form lists the model's training attributes with their types, offering the most frequent
values of a categorical one from the training datasource's statistics; "Paste a record" takes one
CSV row in the training column order (the target's value, if present, is ignored) and fills the
form. The prediction itself is the Predict service's answer.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from mlcore.train.model import TrainedModel

MAX_RECORD_CHARS = 100 * 1024  # AML's limit on one observation
TOP_VALUES = 10


class PasteError(ValueError):
    """A pasted row that does not fit the training columns; the message says why."""


@dataclass
class AttributeField:
    index: int
    name: str
    type: str
    value: str = ""
    suggestions: list[str] = field(default_factory=list)

    @property
    def input_name(self) -> str:
        """Attribute names can hold any character; the form's field names are positional."""
        return f"a{self.index}"


def training_columns(model: TrainedModel) -> list[str]:
    """Every column of the training data in order, the target included."""
    return [a.name for a in model.schema.attributes]


def attribute_fields(
    model: TrainedModel, statistics: dict[str, Any] | None, values: dict[str, str]
) -> list[AttributeField]:
    """The form's fields: the training attributes less the target, in training order."""
    top = _top_values(statistics)
    return [
        AttributeField(index, a.name, a.type.value, values.get(a.name, ""), top.get(a.name, []))
        for index, a in enumerate(model.schema.attributes)
        if a.name != model.schema.target
    ]


def record_from_form(model: TrainedModel, data: Any) -> dict[str, str]:
    """The record the form posted, by attribute name (empty fields left out: missing)."""
    record = {}
    for item in attribute_fields(model, None, {}):
        value = str(data.get(item.input_name, ""))[:MAX_RECORD_CHARS]
        if value != "":
            record[item.name] = value
    return record


def record_from_csv_row(model: TrainedModel, text: str, delimiter: str = ",") -> dict[str, str]:
    """One pasted CSV row, in the training column order, as a record.

    The row may include the target's column (its value is ignored) or leave it out.
    """
    text = text.strip("\r\n")
    if not text.strip():
        raise PasteError("Paste one line of CSV values.")
    if len(text) > MAX_RECORD_CHARS:
        raise PasteError("A record is at most 100 KB.")
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise PasteError(f"The line is not valid CSV: {exc}") from exc
    if len(rows) != 1:
        raise PasteError(f"Paste exactly one record (this has {len(rows)} lines).")
    values = rows[0]
    columns = training_columns(model)
    inputs = [c for c in columns if c != model.schema.target]
    if len(values) == len(columns):
        named = dict(zip(columns, values, strict=True))
    elif len(values) == len(inputs):
        named = dict(zip(inputs, values, strict=True))
    else:
        raise PasteError(
            f"The line has {len(values)} values; the training data has {len(columns)} columns "
            f"({len(inputs)} without the target {model.schema.target!r})."
        )
    named.pop(model.schema.target or "", None)
    return named


@dataclass
class ScoreBar:
    label: str
    score: float
    predicted: bool

    @property
    def percent(self) -> float:
        return round(100 * max(0.0, min(1.0, self.score)), 1)


def score_bars(prediction: dict[str, Any], model_type: str) -> list[ScoreBar]:
    """One bar per class, largest first; BINARY shows P("1") and P("0") from its one score."""
    scores = prediction.get("predictedScores") or {}
    label = prediction.get("predictedLabel")
    if model_type == "BINARY" and scores:
        p1 = float(next(iter(scores.values())))
        pairs = [("1", p1), ("0", 1.0 - p1)]
    else:
        pairs = [(str(k), float(v)) for k, v in scores.items()]
    pairs.sort(key=lambda pair: pair[1], reverse=True)
    return [ScoreBar(name, score, name == label) for name, score in pairs]


def _top_values(statistics: dict[str, Any] | None) -> dict[str, list[str]]:
    top: dict[str, list[str]] = {}
    for attribute in (statistics or {}).get("attributes", []):
        if attribute.get("type") == "CATEGORICAL":
            top[attribute["name"]] = [str(t["value"]) for t in attribute.get("top", [])][
                :TOP_VALUES
            ]
        elif attribute.get("type") == "BINARY":
            top[attribute["name"]] = ["0", "1"]
    return top

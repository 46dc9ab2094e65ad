"""The AML data schema as plain dataclasses (reference section 2.2)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class AttributeType(StrEnum):
    NUMERIC = "NUMERIC"
    BINARY = "BINARY"
    CATEGORICAL = "CATEGORICAL"
    TEXT = "TEXT"


class ModelType(StrEnum):
    BINARY = "BINARY"
    MULTICLASS = "MULTICLASS"
    REGRESSION = "REGRESSION"


MODEL_TYPE_FOR_TARGET = {
    AttributeType.BINARY: ModelType.BINARY,
    AttributeType.CATEGORICAL: ModelType.MULTICLASS,
    AttributeType.NUMERIC: ModelType.REGRESSION,
}


@dataclass(frozen=True)
class Attribute:
    name: str
    type: AttributeType


@dataclass
class Schema:
    attributes: list[Attribute]
    target: str | None = None
    row_id: str | None = None
    row_weight: str | None = None
    data_file_contains_header: bool = True
    excluded: list[str] = field(default_factory=list)
    version: str = "1.0"
    data_format: str = "CSV"

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.attributes]

    def attribute(self, name: str) -> Attribute:
        for a in self.attributes:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def target_attribute(self) -> Attribute | None:
        return self.attribute(self.target) if self.target else None

    @property
    def input_attributes(self) -> list[Attribute]:
        """Attributes a model may learn from: not the target, row id, weight or excluded."""
        skip = {self.target, self.row_id, self.row_weight, *self.excluded}
        return [a for a in self.attributes if a.name not in skip]

    def why_no_inputs(self) -> str | None:
        """Why a model cannot learn from this data when nothing but the target is left
        (a one-column file), in plain words; None when there are input attributes.

        >>> Schema([Attribute("y", AttributeType.BINARY)], target="y").why_no_inputs()
        "the data has no input attributes besides the target 'y': an ML model needs at least one other attribute to learn from"
        """
        if self.input_attributes:
            return None
        others = (
            " (the other attributes are excluded or the row id)" if len(self.attributes) > 1 else ""
        )
        besides = f" besides the target {self.target!r}" if self.target else ""
        return (
            f"the data has no input attributes{besides}{others}: an ML model needs at least one "
            "other attribute to learn from"
        )

    def model_type(self) -> ModelType | None:
        target = self.target_attribute
        return MODEL_TYPE_FOR_TARGET.get(target.type) if target else None

"""Guessing a schema from sample rows, as the AML console did (reference section 2.4).

The console used "simple rules based on the values"; ours, for each column's non-empty,
whitespace-trimmed sample values:

1. every value is a word of the binary vocabulary (`0 1 y n yes no t f true false`, any
   case) → BINARY. A 0/1 column is therefore BINARY, as the console showed it; but a
   column that holds a single digit throughout the sample ("0" in every row) is NUMERIC:
   it is a number that happens not to vary in the sample (an MNIST corner pixel), and
   typing it BINARY would make every later record with another value invalid;
2. every value is a number → NUMERIC (IDs and codes too: the user fixes those);
3. the values read like prose → TEXT. "Like prose" means several words per value and
   mostly distinct values: on average at least 3 words with more than 10% distinct values,
   or at least 2 words with more than half distinct. A short multi-word label repeated
   across rows ("Married civ spouse") stays CATEGORICAL;
4. anything else, and a column with no value at all → CATEGORICAL.

`infer_schema` never sets the target; the wizard asks `suggest_target` (and
`suggest_row_id`) separately so the user can confirm.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from mlcore.errors import SchemaError
from mlcore.schema.jsonio import MAX_ATTRIBUTES
from mlcore.schema.model import Attribute, AttributeType, Schema
from mlcore.schema.values import BINARY_FALSE, BINARY_TRUE, convert_column

BINARY_WORDS = BINARY_TRUE | BINARY_FALSE

# Thresholds of rule 3 (see the module docstring).
TEXT_MIN_WORDS_ANY_REPETITION = 3.0
TEXT_MIN_DISTINCT_RATIO_LONG = 0.1
TEXT_MIN_WORDS = 2.0
TEXT_MIN_DISTINCT_RATIO_SHORT = 0.5

# A CATEGORICAL last column is offered as the target only when it looks like a class label.
MAX_CLASSES_FOR_UNNAMED_TARGET = 10

# Column names that usually hold what is being predicted (compared after normalising).
TARGET_NAMES = frozenset(
    {"y", "target", "label", "class", "quality", "income", "outcome", "response", "churn"}
)
TARGET_WORDS = frozenset({"target", "label", "class", "outcome", "greater", "less"})
ROW_ID_NAMES = frozenset({"id", "rowid", "row_id", "record_id", "recordid"})


def infer_schema(
    columns: Sequence[str], sample_rows: Sequence[Sequence[str]], has_header: bool = True
) -> Schema:
    """Guess each column's type from sample rows; the target is left unset.

    Blank or repeated column names are replaced (`Var03`, `age_2`) so the schema is valid.

    >>> schema = infer_schema(["age", "job", "y"], [["34", "services", "0"], ["59", "admin.", "1"]])
    >>> [(a.name, a.type.value) for a in schema.attributes]
    [('age', 'NUMERIC'), ('job', 'CATEGORICAL'), ('y', 'BINARY')]
    """
    if len(columns) > MAX_ATTRIBUTES:
        raise SchemaError(
            f"the data has {len(columns):,} columns; AML allows at most {MAX_ATTRIBUTES:,}"
        )
    names = _usable_names(columns)
    attributes = [
        Attribute(name, infer_type(_column_values(sample_rows, index)))
        for index, name in enumerate(names)
    ]
    return Schema(attributes=attributes, data_file_contains_header=has_header)


def infer_type(values: Sequence[str]) -> AttributeType:
    """The type rules of the module docstring, applied to one column's sample values.

    >>> infer_type([" yes", "No", ""]), infer_type(["0", "7"]), infer_type(["a b c", "d e f"])
    (<AttributeType.BINARY: 'BINARY'>, <AttributeType.NUMERIC: 'NUMERIC'>, <AttributeType.TEXT: 'TEXT'>)
    """
    strings = pd.Series(list(values), dtype=object)
    text = convert_column(AttributeType.TEXT, strings)
    present = pd.Series(text.values[~text.missing], dtype=object)
    if present.empty:
        return AttributeType.CATEGORICAL
    lowered = present.str.lower()
    if lowered.isin(BINARY_WORDS).all() and not _one_digit_throughout(lowered):
        return AttributeType.BINARY
    if not convert_column(AttributeType.NUMERIC, present).invalid.any():
        return AttributeType.NUMERIC
    if _reads_like_text(present):
        return AttributeType.TEXT
    return AttributeType.CATEGORICAL


def _one_digit_throughout(lowered: pd.Series) -> bool:
    distinct = set(lowered.unique())
    return len(distinct) == 1 and distinct <= {"0", "1"}


def _reads_like_text(present: pd.Series) -> bool:
    mean_words = float(present.str.split().str.len().mean())
    distinct_ratio = present.nunique() / len(present)
    if mean_words >= TEXT_MIN_WORDS_ANY_REPETITION:
        return distinct_ratio > TEXT_MIN_DISTINCT_RATIO_LONG
    return mean_words >= TEXT_MIN_WORDS and distinct_ratio > TEXT_MIN_DISTINCT_RATIO_SHORT


def _column_values(sample_rows: Sequence[Sequence[str]], index: int) -> list[str]:
    # A short row simply has no value for the columns it lacks.
    return [row[index] if index < len(row) else "" for row in sample_rows]


def _usable_names(columns: Sequence[str]) -> list[str]:
    names: list[str] = []
    taken: set[str] = set()
    for index, column in enumerate(columns):
        name = column.strip() or f"Var{index + 1:02d}"
        unique, suffix = name, 2
        while unique in taken:
            unique, suffix = f"{name}_{suffix}", suffix + 1
        names.append(unique)
        taken.add(unique)
    return names


# --------------------------------------------------------------------------- suggestions


def suggest_target(schema: Schema, sample_rows: Sequence[Sequence[str]]) -> str | None:
    """The attribute the wizard proposes as target, or None when nothing stands out.

    First a column named like a target (`y`, `target`, `label`, `class`, `quality`,
    `income-greater-50k`...), preferring exact names and then the rightmost; otherwise
    the last column when it is BINARY, or CATEGORICAL with at most 10 distinct values.

    >>> schema = infer_schema(["age", "job", "y"], [["34", "services", "0"], ["59", "admin.", "1"]])
    >>> suggest_target(schema, [["34", "services", "0"], ["59", "admin.", "1"]])
    'y'
    """
    candidates = [
        (index, attribute)
        for index, attribute in enumerate(schema.attributes)
        if _may_be_target(schema, attribute)
    ]
    scored = [
        (_name_score(attribute.name), index, attribute.name) for index, attribute in candidates
    ]
    best_score, _, best_name = max(scored, default=(0, 0, ""))
    if best_score > 0:
        return best_name
    last_index = len(schema.attributes) - 1
    if candidates and candidates[-1][0] == last_index:
        attribute = candidates[-1][1]
        if attribute.type is AttributeType.BINARY:
            return attribute.name
        if attribute.type is AttributeType.CATEGORICAL and _few_classes(
            _column_values(sample_rows, last_index)
        ):
            return attribute.name
    return None


def suggest_row_id(schema: Schema, sample_rows: Sequence[Sequence[str]]) -> str | None:
    """A column named like a row id (`id`, `rowId`, `customer_id`...) whose sample values
    are all present and distinct, or None.

    >>> schema = infer_schema(["customer_id", "y"], [["a1", "0"], ["a2", "1"]])
    >>> suggest_row_id(schema, [["a1", "0"], ["a2", "1"]])
    'customer_id'
    """
    for index, attribute in enumerate(schema.attributes):
        if attribute.name in (schema.target, schema.row_weight):
            continue
        if _looks_like_row_id_name(attribute.name) and _all_distinct(
            _column_values(sample_rows, index)
        ):
            return attribute.name
    return None


def _may_be_target(schema: Schema, attribute: Attribute) -> bool:
    return attribute.type is not AttributeType.TEXT and attribute.name not in {
        schema.row_id,
        schema.row_weight,
        *schema.excluded,
    }


def _normalised(name: str) -> str:
    """`Income-Greater-50K` → `income_greater_50k`; camelCase is split too."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.strip())
    return re.sub(r"[^a-z0-9]+", "_", spaced.lower()).strip("_")


def _name_score(name: str) -> int:
    """2 for a typical target name, 1 for a name containing a target word, else 0."""
    normalised = _normalised(name)
    if normalised in TARGET_NAMES:
        return 2
    return 1 if TARGET_WORDS & set(normalised.split("_")) else 0


def _looks_like_row_id_name(name: str) -> bool:
    normalised = _normalised(name)
    return normalised in ROW_ID_NAMES or normalised.endswith("_id")


def _few_classes(values: list[str]) -> bool:
    present = {value.strip() for value in values} - {""}
    return 2 <= len(present) <= MAX_CLASSES_FOR_UNNAMED_TARGET


def _all_distinct(values: list[str]) -> bool:
    stripped = [value.strip() for value in values]
    return bool(stripped) and "" not in stripped and len(set(stripped)) == len(stripped)

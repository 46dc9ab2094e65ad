"""The datasource wizard's draft: what the user chose so far, kept in their session.

A draft is keyed by a random token that appears in the wizard's URLs, so one person can fill in
two wizards in two tabs. It records the user it belongs to; anyone else asking for it (or for a
token the session does not hold) gets a 404, exactly like someone else's datasource.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.urls import reverse

from console.services.datasources import LocationSummary, location_kind
from console.session_drafts import SessionDrafts
from mlcore.errors import SchemaError
from mlcore.io.csvreader import column_names_from_header, generic_column_names
from mlcore.schema import (
    AttributeType,
    SampleFit,
    Schema,
    check_schema_fits_columns,
    infer_schema,
    parse_schema,
    sample_fit,
    schema_to_dict,
    schema_to_json,
    suggest_row_id,
    suggest_target,
)
from mlcore.schema.model import MODEL_TYPE_FOR_TARGET

SESSION_KEY = "datasource_wizard_drafts"
HEAD_ROWS = 21  # the first line plus 20 records: enough for the "sample values" column

# The steps after Input, and what must be confirmed before each can be shown.
STEP_URLS = {
    "schema": "console:datasource-wizard-schema",
    "target": "console:datasource-wizard-target",
    "row_id": "console:datasource-wizard-row-id",
    "review": "console:datasource-wizard-review",
}
PREREQUISITES = {
    "schema": (),
    "target": ("schema",),
    "row_id": ("schema", "target"),
    "review": ("schema", "target", "row_id"),
}
MODEL_TYPE_LABELS = {
    "BINARY": "Binary classification",
    "MULTICLASS": "Multiclass classification",
    "REGRESSION": "Regression",
}
# Only these types can make a value invalid; Categorical and Text take any string.
CHECKED_TYPES = (AttributeType.NUMERIC, AttributeType.BINARY)
TYPE_RULES = {
    AttributeType.NUMERIC: "Numeric values are numbers",
    AttributeType.BINARY: "Binary values are 1/0, yes/no, true/false, y/n or t/f",
}
DELIMITER_LABELS = {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab", "|": "Vertical bar (|)"}


def misfit_message(type: AttributeType, fit: SampleFit) -> str:
    """E.g. '20 of 20 sampled values would be invalid as Binary, e.g. "<=50K", ">50K"…'."""
    examples = ", ".join(f'"{value}"' for value in fit.examples)
    return (
        f"{fit.invalid:,} of {fit.sampled:,} sampled values would be invalid as "
        f"{type.value.capitalize()}, e.g. {examples}. {TYPE_RULES[type]}: records with "
        "other values are counted invalid (too many fail the datasource)."
    )


def delimiter_label(delimiter: str) -> str:
    return DELIMITER_LABELS.get(delimiter, repr(delimiter))


@dataclass
class Draft:
    token: str
    user_id: int
    location: str  # the DataLocationS3 value: s3://…, an absolute path or upload://<key>
    name: str
    original_filename: str  # the user's own file name, for uploads
    files: list[tuple[str, int]]
    delimiter: str
    notes: list[str]
    head_rows: list[list[str]]  # the first lines exactly as split, header line included
    schema: dict[str, Any]  # service vocabulary, as schema_to_dict writes it
    confirmed: list[str] = field(default_factory=list)  # steps the user has continued from
    # A "SQL query" draft's sql_connection, sql_query and sql_staging (console.forms.sql_query)
    sql: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Draft:
        values = dict(data)
        values["files"] = [(str(name), int(size)) for name, size in data["files"]]
        # Drafts saved before the suggestions were computed from the schema stored them.
        values.pop("suggested_target", None)
        values.pop("suggested_row_id", None)
        return cls(**values)

    # ----------------------------------------------------------------------- what it holds

    @property
    def parsed_schema(self) -> Schema:
        return parse_schema(self.schema)

    @property
    def has_header(self) -> bool:
        return bool(self.schema.get("dataFileContainsHeader"))

    @property
    def kind(self) -> str:
        if self.sql:
            return "sql"
        return str(location_kind(self.location)[0])

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self.files)

    @property
    def delimiter_label(self) -> str:
        return delimiter_label(self.delimiter)

    def columns_for(self, has_header: bool) -> list[str]:
        """The data's column names if the first line is (or is not) a header."""
        first = self.head_rows[0] if self.head_rows else []
        if has_header:
            return column_names_from_header(first)[0]
        return generic_column_names(len(first))

    def preview_rows(self) -> list[list[str]]:
        return self.head_rows[1:] if self.has_header else self.head_rows[: HEAD_ROWS - 1]

    def sample_values(self, limit: int = 5) -> list[str]:
        """A few distinct values of every column, for the schema table, joined per column."""
        columns = len(self.head_rows[0]) if self.head_rows else 0
        rows = self.preview_rows()
        samples = []
        for index in range(columns):
            distinct = dict.fromkeys(row[index].strip() for row in rows if index < len(row))
            shown = [value for value in distinct if value][:limit]
            samples.append(", ".join(shown)[:120] or "(empty)")
        return samples

    # The suggestions follow the schema in force (inferred, uploaded or copied), so they are
    # worked out when asked for rather than stored when the schema was first inferred.
    @property
    def suggested_target(self) -> str | None:
        return suggest_target(self.parsed_schema, self.preview_rows())

    @property
    def suggested_row_id(self) -> str | None:
        return suggest_row_id(self.parsed_schema, self.preview_rows())

    def column_sample(self, index: int) -> list[str]:
        return [row[index] for row in self.preview_rows() if index < len(row)]

    def misfits(self) -> list[dict[str, str]]:
        """Per attribute, the types its sampled values do not fit, each with its warning."""
        return [
            {
                checked.value: misfit_message(checked, fit)
                for checked in CHECKED_TYPES
                if (fit := sample_fit(checked, self.column_sample(index))).invalid
            }
            for index in range(len(self.schema["attributes"]))
        ]

    def type_warnings(self) -> list[dict[str, str]]:
        """The used attributes whose sampled values do not fit their chosen type."""
        excluded = set(self.schema.get("excludedAttributeNames") or [])
        return [
            {
                "name": a["attributeName"],
                "type": a["attributeType"],
                "message": misfit[a["attributeType"]],
            }
            for a, misfit in zip(self.schema["attributes"], self.misfits(), strict=True)
            if a["attributeType"] in misfit and a["attributeName"] not in excluded
        ]

    def type_counts(self) -> dict[str, int]:
        counts = Counter(a["attributeType"] for a in self.schema["attributes"])
        return {t.value: counts.get(t.value, 0) for t in AttributeType}

    def model_type_label(self) -> str | None:
        model_type = self.parsed_schema.model_type()
        return MODEL_TYPE_LABELS[model_type.value] if model_type else None

    # ----------------------------------------------------------------------- steps

    def url(self, step: str) -> str:
        return reverse(STEP_URLS[step], kwargs={"draft": self.token})

    def missing_step(self, step: str) -> str | None:
        """The first earlier step the user has not confirmed, if any."""
        return next((s for s in PREREQUISITES[step] if s not in self.confirmed), None)

    def confirm(self, step: str) -> None:
        """Mark a step done; the steps after it must be confirmed again (their inputs changed)."""
        order = list(PREREQUISITES)
        self.confirmed = [s for s in order[: order.index(step)] if s in self.confirmed] + [step]

    def creation_kwargs(self) -> dict[str, Any]:
        """The arguments of create_data_source_from_s3, as the API would send them."""
        return {
            "data_spec": {"DataLocationS3": self.location, "DataSchema": schema_json(self.schema)},
            "data_source_name": self.name,
            "compute_statistics": True,
            "csv_delimiter": self.delimiter,
            "original_filename": self.original_filename,
        }


# --------------------------------------------------------------------------- the session


def start_draft(
    request: HttpRequest,
    *,
    location: str,
    name: str,
    original_filename: str,
    summary: LocationSummary,
    schema_to_copy: dict[str, Any] | None = None,
) -> Draft:
    """A new draft from what Verify/Continue found at the location, saved in the session."""
    head_rows = ([summary.columns] if summary.has_header else []) + summary.sample_rows
    draft = Draft(
        token=secrets.token_urlsafe(9),
        user_id=request.user.pk,
        location=location,
        name=name,
        original_filename=original_filename,
        files=list(summary.files),
        delimiter=summary.delimiter,
        notes=list(summary.notes),
        head_rows=[list(row) for row in head_rows[:HEAD_ROWS]],
        schema={},
    )
    reinfer(draft, summary, summary.has_header)
    if schema_to_copy and _fits(draft, schema_to_copy):
        draft.schema = schema_to_dict(parse_schema(schema_to_copy))
    save_draft(request, draft)
    return draft


def load_draft(request: HttpRequest, token: str) -> Draft:
    return _DRAFTS.load(request, token)


def save_draft(request: HttpRequest, draft: Draft) -> None:
    _DRAFTS.save(request, draft)


def discard_draft(request: HttpRequest, draft: Draft) -> None:
    _DRAFTS.discard(request, draft)


# --------------------------------------------------------------------------- inference


def reinfer(draft: Draft, summary: LocationSummary, has_header: bool) -> None:
    """Guess the schema again, reading the first line as column names or as a record."""
    columns, rows = rows_for_header(summary, has_header)
    draft.schema = schema_to_dict(infer_schema(columns, rows, has_header))


def rows_for_header(
    summary: LocationSummary, has_header: bool
) -> tuple[list[str], list[list[str]]]:
    """Column names and sample records under the user's answer to "is line 1 a header?"."""
    if has_header == summary.has_header:
        return list(summary.columns), summary.sample_rows
    if has_header:  # the sniffer took the names for a record
        first, *rest = summary.sample_rows or [[]]
        return column_names_from_header(first)[0], rest
    # The sniffer took a record for the names: give it back to the data.
    return generic_column_names(len(summary.columns)), [summary.columns, *summary.sample_rows]


def _fits(draft: Draft, schema: dict[str, Any]) -> bool:
    try:
        parsed = parse_schema(schema)
        check_schema_fits_columns(
            parsed,
            draft.columns_for(parsed.data_file_contains_header),
            parsed.data_file_contains_header,
        )
    except SchemaError:
        return False
    return True


def schema_json(schema: dict[str, Any]) -> str:
    return schema_to_json(parse_schema(schema))


def default_name(location: str, original_filename: str = "") -> str:
    """The datasource name AML proposes: the file (or folder) name."""
    if original_filename:
        return original_filename
    return PurePosixPath(location.rstrip("/")).name or location


def target_choices(draft: Draft) -> list[dict[str, Any]]:
    """Every attribute that is not excluded, with the model type it would imply as the target."""
    excluded = set(draft.schema.get("excludedAttributeNames") or [])
    rows = []
    for attribute in draft.schema["attributes"]:
        if attribute["attributeName"] in excluded:
            continue
        model_type = MODEL_TYPE_FOR_TARGET.get(AttributeType(attribute["attributeType"]))
        rows.append(
            {
                "name": attribute["attributeName"],
                "type": attribute["attributeType"],
                "model_type": MODEL_TYPE_LABELS[model_type.value] if model_type else None,
            }
        )
    return rows


STEP_LABELS = {
    "input": "Input data",
    "schema": "Schema",
    "target": "Target",
    "row_id": "Row ID",
    "review": "Review",
}


def steps_bar(current: str, draft: Draft | None = None) -> list[dict[str, Any]]:
    """The wizard's steps for the bar at the top; steps already open to the user are links."""
    bar = []
    for index, (step, label) in enumerate(STEP_LABELS.items(), start=1):
        done = draft is not None and (step == "input" or step in draft.confirmed)
        state = "current" if step == current else "done" if done else ""
        bar.append({"number": index, "label": label, "state": state, "url": None})
        if draft is not None and step != current and _open_to_user(step, draft):
            bar[-1]["url"] = _step_url(step, draft)
    return bar


def _open_to_user(step: str, draft: Draft) -> bool:
    return step == "input" or draft.missing_step(step) is None


def _step_url(step: str, draft: Draft) -> str:
    if step == "input":  # going back starts a new draft, prefilled with this one's input
        query = urlencode({"location": draft.location, "name": draft.name, **draft.sql})
        return f"{reverse('console:datasource-create')}?{query}"
    return draft.url(step)


_DRAFTS: SessionDrafts[Draft] = SessionDrafts(SESSION_KEY, "datasource", Draft.from_dict)

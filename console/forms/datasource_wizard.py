"""One form per step of the "Create datasource" wizard (reference section 11.2)."""

from __future__ import annotations

import copy
import json
import os
import secrets
from functools import cached_property
from pathlib import PurePosixPath
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.utils.text import get_valid_filename

from console.datafiles import upload_belongs_to, upload_key_for
from console.forms.sql_query import SQL_FIELDS, SQL_SCHEME, SqlQueryFields, sql_location
from console.models import DataSource
from console.services.datasources import (
    UPLOAD_SCHEME,
    LocationSummary,
    describe_location,
    get_data_source,
    server_path_of,
)
from console.services.errors import InvalidInput, ServiceError
from console.services.sql_sources import connection_names
from console.wizard_drafts import HEAD_ROWS, Draft, default_name
from mlcore import safejson
from mlcore.errors import SchemaError
from mlcore.schema import (
    AttributeType,
    Schema,
    check_schema_fits_columns,
    parse_schema,
    schema_to_dict,
)

YES_NO = [("yes", "Yes"), ("no", "No")]
TYPE_CHOICES = [(t.value, t.value.capitalize()) for t in AttributeType]
MAX_SCHEMA_FILE_BYTES = 1024 * 1024  # AML's limit is 131,071 characters; this is generous
MAX_SUGGESTED_PATHS = 40


def _yes(value: str) -> bool:
    return value == "yes"


def _yes_no_field(label: str, initial: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label, choices=YES_NO, coerce=_yes, widget=forms.RadioSelect, initial=initial
    )


# --------------------------------------------------------------------------- step 1: input


class LocationForm(SqlQueryFields):
    """Where the data is. Valid only when the location can be read: `summary` says what is there."""

    SOURCES = [
        ("upload", "Upload a file"),
        ("s3", "Amazon S3"),
        ("path", "A file or folder on this server"),
        ("sql", "SQL query"),
    ]
    FIELD_FOR_SOURCE = {
        "upload": "upload_location",
        "s3": "s3_location",
        "path": "server_path",
        "sql": "sql_query",
    }

    source = forms.ChoiceField(
        label="Where is your data located?",
        choices=SOURCES,
        widget=forms.RadioSelect,
        initial="upload",
    )
    upload_location = forms.CharField(required=False, widget=forms.HiddenInput)
    upload_filename = forms.CharField(required=False, widget=forms.HiddenInput)
    s3_location = forms.CharField(
        label="S3 location",
        required=False,
        max_length=2048,
        widget=forms.TextInput(
            attrs={"placeholder": "s3://bucket/path/data.csv or s3://bucket/prefix/"}
        ),
    )
    server_path = forms.CharField(
        label="Path on the server",
        required=False,
        max_length=2048,
        widget=forms.TextInput(
            attrs={"placeholder": "/srv/data/banking.csv", "list": "server-paths"}
        ),
    )

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.summary: LocationSummary | None = None
        # The uploaded file's own name is only shown (the page's script sets it): characters a
        # name cannot show are dropped below rather than refused in a field nobody sees.
        self.fields["upload_filename"].validators = []
        if not connection_names():
            self.fields["source"].choices = [
                (
                    value,
                    "SQL query (no database connection is configured)" if value == "sql" else label,
                )
                for value, label in self.SOURCES
            ]

    def _chosen(self, source: str) -> bool:
        return self.cleaned_data.get("source") == source

    def clean_upload_location(self) -> str:
        value = self.cleaned_data["upload_location"].strip()
        if not self._chosen("upload"):
            return value
        if not value:
            raise ValidationError("Choose a file and wait until its upload has finished.")
        key = value.removeprefix(UPLOAD_SCHEME)
        if not value.startswith(UPLOAD_SCHEME) or not upload_belongs_to(key, self.owner.pk):
            raise ValidationError("That upload is not available any more: choose the file again.")
        return value

    def clean_upload_filename(self) -> str:
        name = str(self.cleaned_data["upload_filename"])
        return "".join(c for c in name if c.isprintable()).strip()

    def clean_s3_location(self) -> str:
        value = self.cleaned_data["s3_location"].strip()
        if not self._chosen("s3"):
            return value
        if not value.removeprefix("s3://"):
            raise ValidationError("Enter the S3 location of your data, e.g. s3://bucket/data.csv.")
        # AML's console shows "s3://" before the box, so people type only bucket/key.
        return value if value.startswith("s3://") else "s3://" + value.lstrip("/")

    def clean_server_path(self) -> str:
        value = self.cleaned_data["server_path"].strip()
        if not self._chosen("path"):
            return value
        value = server_path_of(value)
        if not value.startswith("/"):
            raise ValidationError(
                "Enter an absolute path (starting with / or file:///) inside one of the allowed "
                "data folders."
            )
        if ".." in PurePosixPath(value).parts:
            raise ValidationError(
                "A path may not contain '..': give the file's own path inside one of the "
                "allowed data folders."
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        source = cleaned.get("source")
        if source == "sql" and not self.errors:
            self.summary = self.sql_summary()
        elif source and not self.errors:
            try:
                self.summary = describe_location(
                    self.owner, self.location, self.original_filename or None
                )
            except InvalidInput as exc:
                self.add_error(self.FIELD_FOR_SOURCE[source], exc.message)
        return cleaned

    @property
    def location(self) -> str:
        if self.cleaned_data["source"] == "sql":
            return sql_location(self.cleaned_data["sql_connection"])
        return str(self.cleaned_data[self.FIELD_FOR_SOURCE[self.cleaned_data["source"]]])

    @property
    def original_filename(self) -> str:
        if self.cleaned_data.get("source") != "upload":
            return ""
        return os.path.basename(self.cleaned_data.get("upload_filename", "").strip())


class InputForm(LocationForm):
    sql_sample_rows = HEAD_ROWS - 1  # Continue infers the schema from as many rows as a file's

    copy_from = forms.CharField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(
        label="Datasource name",
        required=False,
        max_length=1024,
        help_text="Leave empty to name it after the file.",
    )

    def datasource_name(self) -> str:
        return self.cleaned_data["name"].strip() or default_name(
            self.location, self.original_filename
        )

    def copied_schema(self) -> dict[str, Any] | None:
        """The schema of the datasource whose settings are being copied, if it is the user's."""
        copied = _owned_datasource(self.owner, self.cleaned_data.get("copy_from", ""))
        return copied.data_schema if copied else None

    @classmethod
    def initial_from_copy(cls, owner: Any, params: Any) -> dict[str, str]:
        """Prefill from "Copy settings to create a new datasource" (?location=&name=&copy_from=)."""
        location = params.get("location", "").strip()
        if not location:
            return {}
        initial = {"name": params.get("name", ""), "copy_from": params.get("copy_from", "")}
        if location.startswith(SQL_SCHEME):
            sql = {name: params.get(name, "") for name in SQL_FIELDS}
            return initial | sql | {"source": "sql", "sql_connection": location[len(SQL_SCHEME) :]}
        if location.startswith(UPLOAD_SCHEME):
            copied = _owned_datasource(owner, initial["copy_from"])
            filename = copied.original_filename if copied else location.rsplit("/", 1)[-1]
            return initial | {
                "source": "upload",
                "upload_location": location,
                "upload_filename": filename,
            }
        if location.startswith("s3://"):
            return initial | {"source": "s3", "s3_location": location}
        return initial | {"source": "path", "server_path": location}


def _owned_datasource(owner: Any, entity_id: str) -> DataSource | None:
    if not entity_id:
        return None
    try:
        return get_data_source(owner, entity_id)
    except ServiceError:
        return None


class UploadForm(forms.Form):
    """The file the upload script sends; `save` streams it into storage under the user's key."""

    file = forms.FileField()

    def refusal(self) -> str:
        """Why an invalid upload was refused, in the user's words (call after is_valid)."""
        uploaded = self.files.get("file")
        if uploaded is not None and not uploaded.size:
            # Django says only "The submitted file is empty"; the browser did send a file.
            name = os.path.basename(uploaded.name or "") or "The file"
            return f"{name} is empty (0 bytes): choose a file with data."
        return "No file was received: choose a file to upload."

    def save(self, owner: Any) -> tuple[str, str, int]:
        """(location upload://key, the user's file name, size in bytes)."""
        uploaded = self.cleaned_data["file"]
        original = os.path.basename(uploaded.name or "") or "data.csv"
        try:
            safe = get_valid_filename(original)[:200]
        except SuspiciousFileOperation:
            safe = "data.csv"
        key = upload_key_for(owner.pk, secrets.token_urlsafe(12), safe)
        # Storage.save copies chunk by chunk (or moves the temporary file): never read whole.
        stored = default_storage.save(key, uploaded)
        return UPLOAD_SCHEME + stored, original, uploaded.size


def server_path_suggestions() -> list[str]:
    """Data files directly inside the allowed folders, offered as the path box's suggestions."""
    found: list[str] = []
    for root in settings.AML_DATA_ROOTS:
        try:
            entries = sorted(os.scandir(root), key=lambda e: e.name)
        except OSError:
            continue
        found += [
            e.path
            for e in entries
            if e.is_file() and not e.name.startswith(".") and not e.name.endswith(".schema")
        ]
    return found[:MAX_SUGGESTED_PATHS]


# --------------------------------------------------------------------------- step 2: schema


class HeaderForm(forms.Form):
    """The header question; a changed answer reads the data again to re-infer names and types."""

    has_header = _yes_no_field("Does the first line in your CSV contain the column names?", "yes")

    def __init__(self, *args: Any, draft: Draft, owner: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"has_header": "yes" if draft.has_header else "no"})
        super().__init__(*args, **kwargs)
        self.draft, self.owner = draft, owner
        self.summary: LocationSummary | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if not self.errors:
            try:
                self.summary = describe_location(
                    self.owner, self.draft.location, self.draft.original_filename or None
                )
            except InvalidInput as exc:
                raise ValidationError(f"The data could not be read again: {exc.message}") from exc
        return cleaned


class SchemaEditForm(forms.Form):
    """The schema table: one type and one "exclude" box per attribute, in column order.

    With hundreds of columns the page's script sends the whole table as one JSON field,
    `packed` ({"types": [...], "excluded": [indexes]}), to stay under Django's limit of
    1,000 fields per request; it is unpacked into the same per-row fields.
    """

    def __init__(self, data: Any = None, *, draft: Draft) -> None:
        self.draft = draft
        super().__init__(_unpacked(data) if data is not None else None)
        excluded = set(draft.schema.get("excludedAttributeNames") or [])
        for index, attribute in enumerate(draft.schema["attributes"]):
            name = attribute["attributeName"]
            self.fields[f"type-{index}"] = forms.ChoiceField(
                label=name, choices=TYPE_CHOICES, initial=attribute["attributeType"]
            )
            self.fields[f"exclude-{index}"] = forms.BooleanField(
                label=f"Exclude {name}", required=False, initial=name in excluded
            )
        self.new_schema: dict[str, Any] = {}

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """One row per attribute for the template: its fields, a few sample values, and the
        warning for each type its sampled values do not fit (the page shows the chosen one's)."""
        samples = self.draft.sample_values()
        misfits = self.draft.misfits()
        return [
            {
                "index": i,
                "name": attribute["attributeName"],
                "type": self[f"type-{i}"],
                "exclude": self[f"exclude-{i}"],
                "samples": samples[i] if i < len(samples) else "",
                "misfits": json.dumps(misfits[i]),
                "warning": misfits[i].get(str(self[f"type-{i}"].value())),
            }
            for i, attribute in enumerate(self.draft.schema["attributes"])
        ]

    def misfit_names(self) -> list[str]:
        """The attributes whose sampled values do not fit the type shown for them."""
        return [row["name"] for row in self.rows if row["warning"]]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        schema = copy.deepcopy(self.draft.schema)
        for index, attribute in enumerate(schema["attributes"]):
            attribute["attributeType"] = cleaned[f"type-{index}"]
        schema["excludedAttributeNames"] = [
            a["attributeName"]
            for i, a in enumerate(schema["attributes"])
            if cleaned[f"exclude-{i}"]
        ]
        if len(schema["excludedAttributeNames"]) == len(schema["attributes"]):
            raise ValidationError("Every attribute is excluded: keep at least one.")
        _drop_roles_that_no_longer_fit(schema)
        self.new_schema = _validated(schema)
        return cleaned


def _unpacked(data: Any) -> Any:
    packed = data.get("packed") if hasattr(data, "get") else None
    if not packed:
        return data
    try:
        table = safejson.loads(packed)
        expanded = {f"type-{i}": str(t) for i, t in enumerate(table["types"])}
        expanded |= {f"exclude-{int(i)}": "on" for i in table.get("excluded", [])}
    except (ValueError, TypeError, KeyError, OverflowError):  # OverflowError: int(1e400)
        return {}  # every type is then reported missing: the page asks to try again
    return expanded


def _drop_roles_that_no_longer_fit(schema: dict[str, Any]) -> None:
    """A target or row id that is now excluded (or a TEXT target) is chosen again later."""
    excluded = set(schema["excludedAttributeNames"])
    types = {a["attributeName"]: a["attributeType"] for a in schema["attributes"]}
    target = schema.get("targetAttributeName")
    if target in excluded or types.get(target) == AttributeType.TEXT.value:
        schema["targetAttributeName"] = None
    if schema.get("rowId") in excluded:
        schema["rowId"] = None


def _validated(schema: dict[str, Any]) -> dict[str, Any]:
    try:
        return schema_to_dict(parse_schema(schema))
    except SchemaError as exc:
        raise ValidationError(str(exc)) from exc


class ReplaceSchemaForm(forms.Form):
    """Replace the inferred schema by one the user uploads or pastes; it must fit the data."""

    schema_file = forms.FileField(label="Schema file (.schema or .json)", required=False)
    schema_text = forms.CharField(
        label="…or paste the schema JSON",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )

    def __init__(self, *args: Any, draft: Draft, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.draft = draft
        self.new_schema: dict[str, Any] = {}
        self.note = ""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        upload, pasted = cleaned.get("schema_file"), (cleaned.get("schema_text") or "").strip()
        if not upload and not pasted:
            raise ValidationError("Choose a schema file or paste the schema JSON.")
        if upload and upload.size > MAX_SCHEMA_FILE_BYTES:
            raise ValidationError("That file is too large to be a schema (over 1 MB).")
        text = upload.read() if upload else pasted  # small: bounded just above
        try:
            schema = parse_schema(text)
            header = schema.data_file_contains_header
            try:
                check_schema_fits_columns(schema, self.draft.columns_for(header), header)
            except SchemaError:
                if not self._fits_without_header(schema):
                    raise
                self._read_first_line_as_record(schema)
        except SchemaError as exc:
            raise ValidationError(f"The schema was not used: {exc}") from exc
        self.new_schema = schema_to_dict(schema)
        return cleaned

    def _fits_without_header(self, schema: Schema) -> bool:
        """A schema saying "header" for data whose first line is a record (adult.data with
        adult-train.csv.schema): its names still fit the columns by position."""
        if not schema.data_file_contains_header or self.draft.has_header:
            return False
        try:
            check_schema_fits_columns(schema, self.draft.columns_for(False), False)
        except SchemaError:
            return False
        return True

    def _read_first_line_as_record(self, schema: Schema) -> None:
        schema.data_file_contains_header = False
        first = ", ".join(self.draft.columns_for(True)[:3])
        self.note = (
            "Your schema says the first line holds the column names, but here it is a record "
            f"({first}…): the schema's names were given to the columns in order, and the first "
            "line is kept as data."
        )


# --------------------------------------------------------------------------- steps 3 and 4


class TargetForm(forms.Form):
    uses_target = _yes_no_field(
        "Do you plan to use this dataset to create or evaluate an ML model?", "yes"
    )
    target = forms.ChoiceField(label="Target", required=False)

    def __init__(self, *args: Any, draft: Draft, **kwargs: Any) -> None:
        # Preselect the schema's target, else the suggestion; "No" if the user said so before.
        target = draft.schema.get("targetAttributeName")
        said_no = "target" in draft.confirmed and not target
        kwargs.setdefault(
            "initial",
            {"uses_target": "no" if said_no else "yes", "target": target or draft.suggested_target},
        )
        super().__init__(*args, **kwargs)
        self.draft = draft
        names = _attribute_names(draft, skip_excluded=True)
        self.fields["target"].choices = [(n, n) for n in names]
        self.new_schema: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        target = cleaned.get("target") if cleaned.get("uses_target") else None
        if cleaned.get("uses_target") and not target:
            raise ValidationError("Choose the target: the attribute the ML model will predict.")
        schema = copy.deepcopy(self.draft.schema)
        schema["targetAttributeName"] = target
        if target and schema.get("rowId") == target:
            schema["rowId"] = None  # the Row ID step asks again
        self.new_schema = _validated(schema)
        return cleaned


class RowIdForm(forms.Form):
    has_row_id = _yes_no_field("Does your data contain an identifier?", "no")
    row_id = forms.ChoiceField(label="Row identifier", required=False)

    def __init__(self, *args: Any, draft: Draft, **kwargs: Any) -> None:
        # AML's default answer is No, even when a column looks like an id (it is preselected).
        row_id = draft.schema.get("rowId")
        kwargs.setdefault(
            "initial",
            {"has_row_id": "yes" if row_id else "no", "row_id": row_id or draft.suggested_row_id},
        )
        super().__init__(*args, **kwargs)
        self.draft = draft
        target = draft.schema.get("targetAttributeName")
        names = [n for n in _attribute_names(draft, skip_excluded=False) if n != target]
        self.fields["row_id"].choices = [(n, n) for n in names]
        self.new_schema: dict[str, Any] = {}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        row_id = cleaned.get("row_id") if cleaned.get("has_row_id") else None
        if cleaned.get("has_row_id") and not row_id:
            raise ValidationError("Choose the attribute that identifies each row.")
        schema = copy.deepcopy(self.draft.schema)
        schema["rowId"] = row_id
        self.new_schema = _validated(schema)
        return cleaned


def _attribute_names(draft: Draft, *, skip_excluded: bool) -> list[str]:
    excluded = set(draft.schema.get("excludedAttributeNames") or []) if skip_excluded else set()
    return [
        a["attributeName"] for a in draft.schema["attributes"] if a["attributeName"] not in excluded
    ]

"""The datasource wizard's "SQL query" source: a configured connection, a query, a staging place.

Its Preview (the Verify button of the other sources) runs the query read-only with a LIMIT and
shows the columns and rows; Continue infers the schema from a few more rows. Create stages the
whole result through console.services.sql_sources, the service CreateDataSourceFromRDS calls.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from console.services.datasources import LocationSummary
from console.services.errors import InvalidInput
from console.services.sql_sources import PREVIEW_ROWS, connection_names, preview_query

SQL_SCHEME = "sql://"  # a SQL draft's location: sql://<connection name>
SQL_FIELDS = ("sql_connection", "sql_query", "sql_staging")


def sql_location(connection_name: str) -> str:
    return SQL_SCHEME + connection_name


class SqlQueryFields(forms.Form):
    """The fields of the "SQL query" source, for the wizard's location form to inherit."""

    sql_connection = forms.ChoiceField(label="Database connection", required=False, choices=[])
    sql_query = forms.CharField(
        label="SELECT query",
        required=False,
        max_length=16_777_216,  # AML's SelectSqlQuery limit
        widget=forms.Textarea(
            attrs={
                "rows": 6,
                "spellcheck": "false",
                "placeholder": "SELECT age, job, balance, y FROM customers",
            }
        ),
    )
    sql_staging = forms.CharField(
        label="S3 staging location (optional)",
        required=False,
        max_length=2048,
        widget=forms.TextInput(attrs={"placeholder": "s3://bucket/staging/"}),
    )

    #: rows the form's query reads to describe the result (Preview: 10; Continue may ask more)
    sql_sample_rows = PREVIEW_ROWS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        names = connection_names()
        self.fields["sql_connection"].choices = [(n, n) for n in names]
        if len(names) == 1:
            self.fields["sql_connection"].initial = names[0]
        if not names:
            # The page shows no connection box then: a posted value is ignored, and the query's
            # field says what is missing (see clean_sql_query).
            self.fields["sql_connection"].disabled = True

    def _sql_chosen(self) -> bool:
        # `source` is declared after these fields, so it may not be cleaned yet: read it raw then.
        source = self.cleaned_data.get("source", self.data.get("source"))
        return source == "sql"

    def clean_sql_connection(self) -> str:
        value = str(self.cleaned_data["sql_connection"] or "")
        if self._sql_chosen() and not value and connection_names():
            raise ValidationError("Choose a database connection.")
        return value

    def clean_sql_query(self) -> str:
        value = str(self.cleaned_data["sql_query"]).strip()
        if self._sql_chosen() and not connection_names():
            raise ValidationError("No database connection is configured: set AML_SQL_CONNECTIONS.")
        if self._sql_chosen() and not value:
            raise ValidationError("Type the SELECT query whose rows make the datasource.")
        return value

    def clean_sql_staging(self) -> str:
        value = str(self.cleaned_data["sql_staging"]).strip()
        if not self._sql_chosen() or not value:
            return value
        value = value if value.startswith("s3://") else "s3://" + value.lstrip("/")
        if not value.removeprefix("s3://").strip("/"):
            raise ValidationError(
                "Enter an S3 location like s3://bucket/staging/, or leave it empty."
            )
        return value

    def sql_summary(self) -> LocationSummary:
        """Run the query read-only with a LIMIT: what the Preview shows and Continue infers from."""
        connection = self.cleaned_data["sql_connection"]
        try:
            preview = preview_query(
                connection, self.cleaned_data["sql_query"], limit=self.sql_sample_rows
            )
        except InvalidInput as exc:
            raise ValidationError({"sql_query": exc.message}) from exc
        if not preview.rows:
            raise ValidationError({"sql_query": "The query returned no rows."})
        staging = self.cleaned_data.get("sql_staging") or ""
        where = (
            f"staged at {staging.rstrip('/')}/<DataSourceId>.csv"
            if staging
            else "kept in the console's storage"
        )
        return LocationSummary(
            kind="sql",
            location=sql_location(connection),
            files=[],
            delimiter=",",
            has_header=True,
            columns=preview.columns,
            sample_rows=preview.rows,
            notes=[f"On Create the query runs again and its whole result is {where}."],
        )

    def sql_request(self) -> dict[str, str]:
        """What a SQL draft keeps, by field name (the wizard's Input link puts it back)."""
        return {name: str(self.cleaned_data.get(name) or "") for name in SQL_FIELDS}

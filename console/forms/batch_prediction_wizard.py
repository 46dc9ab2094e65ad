"""One form per step of the batch prediction wizard (reference 11.2)."""

from __future__ import annotations

from typing import Any

from django import forms

from console.models import DataSource, MLModel
from console.services.batch_predictions import check_output_uri
from console.services.common import get_owned
from console.services.errors import ServiceError
from console.wizards.batch_prediction import BatchPredictionDraft
from console.wizards.model_first import USABLE_STATUSES


def owned(model: type[Any], owner: Any, entity_id: str) -> Any:
    """The owner's object with that id, or None (someone else's id is simply not there)."""
    try:
        return get_owned(model, owner, entity_id)
    except ServiceError:
        return None


def _usable(model: type[Any], owner: Any, entity_id: str, what: str) -> Any:
    obj = owned(model, owner, entity_id) if entity_id else None
    if obj is None:
        raise forms.ValidationError(f"Choose one of your {what}.")
    if obj.status not in USABLE_STATUSES:
        raise forms.ValidationError(
            f"{obj.TYPE_LABEL} {obj.display_name} is {obj.get_status_display().lower()} "
            "and cannot be used."
        )
    return obj


class ModelForm(forms.Form):
    """Step 1: the ML model, completed or still training."""

    ml_model = forms.CharField(required=False)
    data_source = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.chosen: MLModel | None = None

    def clean_ml_model(self) -> str:
        entity_id = self.cleaned_data.get("ml_model") or ""
        self.chosen = _usable(MLModel, self.owner, entity_id, "ML models")
        return entity_id


class DataForm(forms.Form):
    """Step 2: an existing datasource to score."""

    data_source = forms.CharField(required=False)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner

    def clean_data_source(self) -> str:
        entity_id = self.cleaned_data.get("data_source") or ""
        _usable(DataSource, self.owner, entity_id, "datasources")
        return entity_id

    def save(self, draft: BatchPredictionDraft) -> None:
        if draft.data_source_id != self.cleaned_data["data_source"]:
            draft.pass_through = []  # the columns were another datasource's
        draft.data_source_id = self.cleaned_data["data_source"]


class ResultsForm(forms.Form):
    """Step 3: where the results go, the name, pass-through columns, explanations."""

    DESTINATIONS = [
        (
            "storage",
            "The console's own storage (download the files from the batch prediction's page)",
        ),
        ("s3", "An Amazon S3 location"),
    ]
    destination = forms.ChoiceField(
        label="Where should the results go?",
        choices=DESTINATIONS,
        widget=forms.RadioSelect,
        initial="storage",
    )
    output_uri = forms.CharField(label="S3 destination", max_length=2048, required=False)
    name = forms.CharField(
        label="Batch prediction name (optional)", max_length=1024, required=False
    )
    pass_through = forms.MultipleChoiceField(
        label="Columns to copy into the results (pass-through)", required=False
    )
    explain = forms.BooleanField(
        label="Add explanations: the three attributes that contributed most to each prediction",
        required=False,
    )

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["pass_through"]
        field.choices = [(name, name) for name in columns]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("destination") == "s3":
            try:
                cleaned["output_uri"] = check_output_uri(cleaned.get("output_uri") or "")
            except ServiceError as exc:
                self.add_error("output_uri", exc.message)
            else:
                if not cleaned["output_uri"]:
                    self.add_error("output_uri", "Give the S3 location, e.g. s3://bucket/prefix/.")
        return cleaned

    def save(self, draft: BatchPredictionDraft) -> None:
        data = self.cleaned_data
        draft.destination = data["destination"]
        draft.output_uri = (data.get("output_uri") or "") if draft.destination == "s3" else ""
        draft.name = data["name"].strip()
        draft.pass_through = list(data["pass_through"])
        draft.explain = bool(data["explain"])

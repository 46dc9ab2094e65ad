"""One form per step of the evaluation wizard (AML's "Create new… → Evaluation").

Another user's model or datasource never reaches these forms: the views answer 404 for an id the
user does not own, as for any object page. The forms judge the user's own choices.
"""

from __future__ import annotations

from typing import Any

from django import forms

from console.evaluation_compat import why_not_evaluable
from console.models import DataSource, MLModel
from console.wizards.evaluation import EvaluationDraft
from console.wizards.model_first import USABLE_STATUSES


class ModelForm(forms.Form):
    """Step 1: the ML model, completed or still training."""

    ml_model = forms.CharField(required=False)
    data_source = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, chosen: MLModel | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chosen = chosen

    def clean_ml_model(self) -> str:
        ml = self.chosen
        if ml is None:
            raise forms.ValidationError("Choose the ML model to evaluate.")
        if ml.status not in USABLE_STATUSES:
            raise forms.ValidationError(
                f"ML model {ml.display_name} is {ml.get_status_display().lower()} and cannot be "
                "evaluated."
            )
        training = ml.training_data_source
        if training is None or not training.target_attribute_name:
            # Without the training target nothing says which column the scores are judged by.
            raise forms.ValidationError(
                f"ML model {ml.display_name} has no known target, so it cannot be evaluated."
            )
        return ml.entity_id


class DataSourceForm(forms.Form):
    """Step 2: a datasource with the model's target and the attributes it reads."""

    data_source = forms.CharField(required=False)

    def __init__(self, *args: Any, ml: MLModel, chosen: DataSource | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ml = ml
        self.chosen = chosen

    def clean_data_source(self) -> str:
        ds = self.chosen
        if ds is None:
            raise forms.ValidationError("Choose the datasource to evaluate the ML model on.")
        reason = why_not_evaluable(self.ml.training_data_source, ds)
        if reason:
            raise forms.ValidationError(f"Datasource {ds.display_name} cannot be used: {reason}")
        return ds.entity_id

    def save(self, draft: EvaluationDraft) -> None:
        draft.data_source_id = self.cleaned_data["data_source"]


class NameForm(forms.Form):
    """Step 3: the evaluation's name (AML's default names the model)."""

    name = forms.CharField(label="Evaluation name", max_length=1024, required=False)

    def save(self, draft: EvaluationDraft) -> None:
        draft.name = self.cleaned_data["name"].strip()

"""One form per step of the "Create ML model" wizard (reference section 11.2)."""

from __future__ import annotations

from typing import Any

from django import forms

from console.evaluation_compat import why_not_evaluable
from console.model_drafts import ModelDraft, schema_of, why_unusable
from console.models import DataSource
from console.services.common import get_owned
from console.services.errors import ServiceError
from mlcore.errors import MLCoreError
from mlcore.recipes import RecipeError, parse_recipe
from mlcore.train.parameters import ParameterError, TrainingParameters

MAX_CONSOLE_PASSES = 100  # the console allowed 1–100; the API goes to 10,000
MAX_MODEL_SIZE_MB = 2048  # × 1 MiB = 2,147,483,648 bytes, the top of sgd.maxMLModelSizeInBytes
SUGGESTED_L1 = "1e-8"
DEFAULT_L2 = "1e-6"


def owned_data_source(owner: Any, entity_id: str) -> DataSource | None:
    try:
        return get_owned(DataSource, owner, entity_id)
    except ServiceError:
        return None


def _usable_source(owner: Any, entity_id: str, field_label: str) -> DataSource:
    """The owner's datasource with that id, if a model can learn from (or be scored on) it."""
    ds = owned_data_source(owner, entity_id)
    if ds is None:
        raise forms.ValidationError(f"Choose one of your datasources as the {field_label}.")
    reason = why_unusable(ds)
    if reason:
        raise forms.ValidationError(f"Datasource {ds.display_name} cannot be used: {reason}")
    return ds


# --------------------------------------------------------------------------- step 1: input data


class InputForm(forms.Form):
    SOURCES = [
        ("existing", "I already created a datasource pointing to my data"),
        ("new", "My data is in S3, uploaded or on this server, and I need to create a datasource"),
    ]
    source = forms.ChoiceField(
        label="Where is the data for this ML model?",
        choices=SOURCES,
        widget=forms.RadioSelect,
        initial="existing",
    )
    data_source = forms.CharField(required=False)

    def __init__(self, *args: Any, owner: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.chosen: DataSource | None = None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("source") == "existing":
            entity_id = cleaned.get("data_source") or ""
            if not entity_id:
                self.add_error("data_source", "Choose the datasource to train the ML model on.")
                return cleaned
            try:
                self.chosen = _usable_source(self.owner, entity_id, "training data")
            except forms.ValidationError as exc:
                self.add_error("data_source", exc)
        return cleaned


# --------------------------------------------------------------------------- step 2: settings


class SettingsForm(forms.Form):
    MODES = [
        ("default", "Default (recommended)"),
        ("custom", "Custom"),
    ]
    ml_model_name = forms.CharField(label="ML model name", max_length=1024, required=False)
    mode = forms.ChoiceField(
        label="Training and evaluation settings",
        choices=MODES,
        widget=forms.RadioSelect,
        initial="default",
    )
    evaluation_name = forms.CharField(label="Name this evaluation", max_length=1024, required=False)

    def save(self, draft: ModelDraft) -> None:
        draft.ml_model_name = self.cleaned_data["ml_model_name"].strip()
        draft.mode = self.cleaned_data["mode"]
        draft.evaluation_name = self.cleaned_data["evaluation_name"].strip()


# --------------------------------------------------------------------------- step 3: recipe


def check_recipe(text: str, ds: DataSource | None) -> RecipeError | None:
    """The recipe's first error against the datasource's schema, or None if it is fine.

    An empty recipe is fine: training then uses the suggested recipe.
    """
    schema = schema_of(ds) if ds is not None else None
    if not text.strip() or schema is None:
        return None
    try:
        parse_recipe(text, schema)
    except RecipeError as exc:
        return exc
    except MLCoreError as exc:  # anything else the parser raises still points at the recipe
        return RecipeError(str(exc))
    return None


class RecipeForm(forms.Form):
    recipe = forms.CharField(
        label="Recipe",
        required=False,
        widget=forms.Textarea(attrs={"rows": 22, "spellcheck": "false", "class": "recipe-text"}),
    )

    def __init__(self, *args: Any, data_source: DataSource | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.data_source = data_source

    def clean_recipe(self) -> str:
        text: str = self.cleaned_data["recipe"].strip()
        error = check_recipe(text, self.data_source)
        if error is not None:
            raise forms.ValidationError(str(error))
        return text


# --------------------------------------------------------------------------- step 4: advanced


class AdvancedForm(forms.Form):
    SHUFFLE = [("auto", "Auto"), ("none", "None")]
    REGULARIZATION = [
        ("auto", "Automatic: the amount that does best on held-out records"),
        ("none", "None"),
        ("l1", "L1"),
        ("l2", "L2"),
    ]
    # Which form field a ParameterError's key belongs to.
    FIELD_FOR_KEY = {
        "sgd.maxMLModelSizeInBytes": "max_size_mb",
        "sgd.maxPasses": "max_passes",
        "sgd.shuffleType": "shuffle_type",
        "sgd.l1RegularizationAmount": "regularization_amount",
        "sgd.l2RegularizationAmount": "regularization_amount",
    }

    max_size_mb = forms.IntegerField(
        label="Maximum ML model size (MB)",
        help_text=f"1 to {MAX_MODEL_SIZE_MB} MB. Training trims the least useful patterns to fit.",
    )
    max_passes = forms.IntegerField(
        label="Maximum number of data passes",
        help_text=f"1 to {MAX_CONSOLE_PASSES}. Training stops earlier when it converges.",
    )
    shuffle_type = forms.ChoiceField(
        label="Shuffle type for training data", choices=SHUFFLE, widget=forms.RadioSelect
    )
    regularization_type = forms.ChoiceField(
        label="Regularization type", choices=REGULARIZATION, widget=forms.RadioSelect
    )
    regularization_amount = forms.CharField(
        label="Regularization amount",
        required=False,
        help_text=f"L2: AML's default was {DEFAULT_L2}, good range 1e-2 to 1e-6. "
        f"L1: suggested {SUGGESTED_L1}, good range 1e-4 to 1e-8.",
    )

    def clean_max_size_mb(self) -> int:
        value: int = self.cleaned_data["max_size_mb"]
        if not 1 <= value <= MAX_MODEL_SIZE_MB:
            raise forms.ValidationError(
                f"Maximum ML model size must be from 1 to {MAX_MODEL_SIZE_MB} MB."
            )
        return value

    def clean_max_passes(self) -> int:
        value: int = self.cleaned_data["max_passes"]
        if not 1 <= value <= MAX_CONSOLE_PASSES:
            raise forms.ValidationError(
                f"Maximum number of data passes must be from 1 to {MAX_CONSOLE_PASSES}."
            )
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("regularization_type")
        amount = (cleaned.get("regularization_amount") or "").strip()
        if kind == "none":
            cleaned["regularization_amount"] = "0"
        elif kind == "auto":
            cleaned["regularization_amount"] = ""
        elif kind and not amount:
            self.add_error("regularization_amount", f"Enter the {kind.upper()} amount.")
        self._check_with_trainer(cleaned)
        return cleaned

    def _check_with_trainer(self, cleaned: dict[str, Any]) -> None:
        """The trainer's own validation (TrainingParameters) has the last word on every value.

        Each field is checked on its own, so that every error of the step shows at once, next
        to its field (the trainer stops at the first bad key); fields already in error, or
        missing, take the defaults meanwhile.
        """
        parameters = self._draft_with(cleaned).parameters
        for field in dict.fromkeys(self.FIELD_FOR_KEY.values()):
            if field in self.errors or field not in cleaned:
                continue
            own = {k: v for k, v in parameters.items() if self.FIELD_FOR_KEY.get(k) == field}
            try:
                TrainingParameters.from_aml(own, console=True)
            except ParameterError as exc:
                message = str(exc)
                if field == "regularization_amount":
                    message = f"Regularization amount must be a number of 0 or more ({exc})."
                self.add_error(field, message)

    @staticmethod
    def _draft_with(cleaned: dict[str, Any]) -> ModelDraft:
        """A draft holding the valid values given, and the defaults for the others."""
        draft = ModelDraft(token="", user_id=0, data_source_id="", data_source_name="")
        valid = {key: cleaned[key] for key in AdvancedForm.initial_for(draft) if key in cleaned}
        AdvancedForm.apply(draft, AdvancedForm.initial_for(draft) | valid)
        return draft

    @staticmethod
    def apply(draft: ModelDraft, cleaned: dict[str, Any]) -> None:
        draft.max_size_mb = cleaned["max_size_mb"]
        draft.max_passes = cleaned["max_passes"]
        draft.shuffle_type = cleaned["shuffle_type"]
        draft.regularization_type = cleaned["regularization_type"]
        draft.regularization_amount = cleaned["regularization_amount"].strip()

    def save(self, draft: ModelDraft) -> None:
        self.apply(draft, self.cleaned_data)

    @staticmethod
    def initial_for(draft: ModelDraft) -> dict[str, Any]:
        return {
            "max_size_mb": draft.max_size_mb,
            "max_passes": draft.max_passes,
            "shuffle_type": draft.shuffle_type,
            "regularization_type": draft.regularization_type,
            "regularization_amount": draft.regularization_amount,
        }


# --------------------------------------------------------------------------- step 5: evaluation


class EvaluationForm(forms.Form):
    CHOICES = [
        ("sequential", "Split sequentially: the first part trains, the rest evaluates"),
        ("random", "Split randomly, with a seed"),
        ("stratified", "Split stratified by the target, with a seed (keeps class shares)"),
        ("datasource", "Evaluate on another datasource"),
        ("none", "Do not evaluate"),
    ]
    evaluation = forms.ChoiceField(
        label="How should the ML model be evaluated?", choices=CHOICES, widget=forms.RadioSelect
    )
    train_percent = forms.IntegerField(
        label="Percentage of the data used for training", required=False
    )
    random_seed = forms.CharField(label="Random seed", max_length=256, required=False)
    evaluation_data_source = forms.CharField(label="Evaluation datasource", required=False)

    def __init__(self, *args: Any, owner: Any, draft: ModelDraft, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.draft = draft

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        choice = cleaned.get("evaluation")
        if choice in ("sequential", "random", "stratified"):
            self._check_split(cleaned, seeded=choice != "sequential")
        elif choice == "datasource":
            self._check_other_source(cleaned)
        return cleaned

    def _check_split(self, cleaned: dict[str, Any], *, seeded: bool) -> None:
        percent = cleaned.get("train_percent")
        if percent is None or not 1 <= percent <= 99:
            self.add_error("train_percent", "The training share must be from 1 to 99 percent.")
        if seeded and not (cleaned.get("random_seed") or "").strip():
            self.add_error(
                "random_seed", "Enter a random seed: any text; it makes the split repeatable."
            )

    def _check_other_source(self, cleaned: dict[str, Any]) -> None:
        entity_id = (cleaned.get("evaluation_data_source") or "").strip()
        if not entity_id:
            self.add_error("evaluation_data_source", "Choose the datasource to evaluate on.")
            return
        if entity_id == self.draft.data_source_id:
            self.add_error(
                "evaluation_data_source",
                "Choose another datasource than the training one: a model scored on the data "
                "it learned from looks better than it is.",
            )
            return
        try:
            other = _usable_source(self.owner, entity_id, "evaluation data")
        except forms.ValidationError as exc:
            self.add_error("evaluation_data_source", exc)
            return
        training = owned_data_source(self.owner, self.draft.data_source_id)
        reason = why_not_evaluable(training, other)
        if reason:
            # The evaluation scores predictions of the model's target against that column.
            self.add_error(
                "evaluation_data_source",
                f"Datasource {other.display_name} cannot be used: {reason}",
            )

    def save(self, draft: ModelDraft) -> None:
        data = self.cleaned_data
        draft.evaluation = data["evaluation"]
        if data.get("train_percent") is not None:
            draft.train_percent = data["train_percent"]
        if (data.get("random_seed") or "").strip():
            draft.random_seed = data["random_seed"].strip()
        draft.evaluation_data_source_id = (data.get("evaluation_data_source") or "").strip()

    @staticmethod
    def initial_for(draft: ModelDraft) -> dict[str, Any]:
        return {
            "evaluation": draft.evaluation,
            "train_percent": draft.train_percent,
            "random_seed": draft.random_seed,
            "evaluation_data_source": draft.evaluation_data_source_id,
        }

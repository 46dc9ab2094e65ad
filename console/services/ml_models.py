"""ML model operations: CreateMLModel, UpdateMLModel, DeleteMLModel, and the wizard's default path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from console import dependencies
from console.models import DataSource, Evaluation, MLModel, Status
from mlcore.errors import MLCoreError
from mlcore.schema import parse_schema
from mlcore.schema.model import MODEL_TYPE_FOR_TARGET

from . import common
from .datasources import create_data_source_from_s3, data_location_of, read_text_at
from .errors import InvalidInput

MODEL_TYPES = ("BINARY", "MULTICLASS", "REGRESSION")
# What the console's Default path sends: the trainer's defaults (shuffling on, 10 passes, L2
# chosen on held-out records) but for the model size cap, where AML's console said 100 MiB.
CONSOLE_DEFAULT_PARAMETERS = {"sgd.maxMLModelSizeInBytes": "104857600"}


def create_ml_model(
    owner: Any,
    *,
    ml_model_type: str,
    training_data_source_id: str,
    ml_model_id: str | None = None,
    ml_model_name: str = "",
    parameters: dict[str, str] | None = None,
    recipe: str | None = None,
    recipe_uri: str | None = None,
) -> MLModel:
    """CreateMLModel. The model waits (PENDING) while its datasource is still being read."""
    entity_id = common.choose_entity_id(MLModel, ml_model_id)
    if recipe_uri and not recipe:
        recipe = read_text_at(recipe_uri, "RecipeUri")
    if ml_model_type not in MODEL_TYPES:
        raise InvalidInput(f"MLModelType must be one of {', '.join(MODEL_TYPES)}.")
    ds = _usable_data_source(owner, training_data_source_id)
    _check_target_fits(ds, ml_model_type)
    fields = {
        "name": common.clean_name(ml_model_name),
        "ml_model_type": ml_model_type,
        "training_data_source": ds,
        "training_parameters": _validated_parameters(parameters or {}),
        "recipe": _validated_recipe(recipe or "", ds),
    }
    with transaction.atomic():
        existing = MLModel.objects.filter(owner=owner, entity_id=entity_id).first()
        if existing is not None:
            return common.same_request_or_mismatch(existing, fields)
        ml = MLModel.objects.create(
            owner=owner,
            entity_id=entity_id,
            tags=dict(ds.tags),
            create_request=common.request_of(fields),
            **fields,
        )
        common.log_created(
            ml, f"ML model {ml.entity_id} ({ml_model_type}) on datasource {ds.entity_id}"
        )
        dependencies.enqueue(ml)
    return ml


def update_ml_model(
    owner: Any,
    ml_model_id: str,
    *,
    ml_model_name: str | None = None,
    score_threshold: float | None = None,
) -> MLModel:
    """UpdateMLModel: the name and the score threshold are the only mutable fields."""
    ml = common.get_owned(MLModel, owner, ml_model_id, include_deleted=False)
    if ml_model_name is not None:
        ml.name = common.clean_name(ml_model_name)
    if score_threshold is not None:
        if ml.ml_model_type != "BINARY":
            raise InvalidInput("Only a BINARY model has a score threshold.")
        if not 0.0 <= float(score_threshold) <= 1.0:
            raise InvalidInput("ScoreThreshold must be between 0 and 1.")
        ml.score_threshold = float(score_threshold)
        ml.score_threshold_last_updated_at = timezone.now()
    ml.save(
        update_fields=["name", "score_threshold", "score_threshold_last_updated_at", "updated_at"]
    )
    return ml


def delete_ml_model(owner: Any, ml_model_id: str) -> MLModel:
    return common.delete(MLModel, owner, ml_model_id)


def get_ml_model(owner: Any, ml_model_id: str) -> MLModel:
    return common.get_owned(MLModel, owner, ml_model_id)


@dataclass
class EvaluationPlan:
    """How the wizard evaluates a new model: a split of its datasource, another one, or none."""

    kind: str = "split"  # split | datasource | none
    strategy: str = "sequential"  # sequential | random | stratified
    train_percent: int = 70
    random_seed: str = ""
    data_source_id: str = ""


@dataclass
class CreatedObjects:
    ml_model: MLModel
    training_data_source: DataSource
    evaluation_data_source: DataSource | None
    evaluation: Evaluation | None


def create_ml_model_with_evaluation(
    owner: Any,
    *,
    data_source_id: str,
    ml_model_type: str | None = None,
    ml_model_name: str = "",
    evaluation_name: str = "",
    parameters: dict[str, str] | None = None,
    recipe: str | None = None,
    plan: EvaluationPlan | None = None,
) -> CreatedObjects:
    """The wizard's Create: AML's default path (two split datasources named the AML way, the
    model and its evaluation, each its own object) or the custom variants of it."""
    plan = plan or EvaluationPlan()
    source = _usable_data_source(owner, data_source_id)
    model_type = ml_model_type or _model_type_from_target(source)
    with transaction.atomic():
        training, evaluating = _training_and_evaluation_sources(owner, source, plan)
        ml = create_ml_model(
            owner,
            ml_model_type=model_type,
            training_data_source_id=training.entity_id,
            ml_model_name=ml_model_name or f"ML model: {source.display_name}",
            parameters={**CONSOLE_DEFAULT_PARAMETERS, **(parameters or {})},
            recipe=recipe,
        )
        evaluation = None
        if evaluating is not None:
            from .evaluations import create_evaluation

            evaluation = create_evaluation(
                owner,
                ml_model_id=ml.entity_id,
                evaluation_data_source_id=evaluating.entity_id,
                evaluation_name=evaluation_name or f"Evaluation: {ml.name}",
            )
    return CreatedObjects(ml, training, evaluating, evaluation)


def _training_and_evaluation_sources(
    owner: Any, source: DataSource, plan: EvaluationPlan
) -> tuple[DataSource, DataSource | None]:
    if plan.kind == "none":
        return source, None
    if plan.kind == "datasource":
        return source, _usable_data_source(owner, plan.data_source_id)
    if plan.kind != "split":
        raise InvalidInput(f"Unknown evaluation choice {plan.kind!r}.")
    if not 1 <= plan.train_percent <= 99:
        raise InvalidInput("The training share must be between 1 and 99 percent.")
    return (
        _split_data_source(owner, source, plan, complement=False),
        _split_data_source(owner, source, plan, complement=True),
    )


def _split_data_source(
    owner: Any, source: DataSource, plan: EvaluationPlan, *, complement: bool
) -> DataSource:
    begin, end = (plan.train_percent, 100) if complement else (0, plan.train_percent)
    splitting: dict[str, Any] = {
        "percentBegin": begin,
        "percentEnd": end,
        "strategy": plan.strategy,
    }
    if plan.strategy != "sequential":
        # AML made the complementary pair with the same range and complement=true.
        splitting.update(percentBegin=0, percentEnd=plan.train_percent, randomSeed=plan.random_seed)
        if complement:
            splitting["complement"] = True
    name = (
        f"{source.display_name}_[percentBegin={begin}, percentEnd={end}, strategy={plan.strategy}]"
    )
    split = create_data_source_from_s3(
        owner,
        data_spec={
            "DataLocationS3": data_location_of(source),
            "DataSchema": json.dumps(source.data_schema) if source.data_schema else "",
            "DataRearrangement": json.dumps({"splitting": splitting}),
        },
        data_source_name=name,
        csv_delimiter=source.csv_delimiter,
        original_filename=source.original_filename,
    )
    if source.tags and split.tags != source.tags:
        # AML copied a datasource's tags to what was made from it; the model takes them from here.
        split.tags = {**source.tags, **split.tags}
        split.save(update_fields=["tags", "updated_at"])
    return split


def _usable_data_source(owner: Any, data_source_id: str) -> DataSource:
    ds = common.get_owned(DataSource, owner, data_source_id)
    if ds.status in (Status.DELETED, Status.FAILED):
        raise InvalidInput(
            f"Datasource {ds.entity_id} is {ds.get_status_display().lower()} and cannot be used."
        )
    return ds


def _model_type_from_target(ds: DataSource) -> str:
    schema = _schema_of(ds)
    if schema is None or schema.target_attribute is None:
        raise InvalidInput(f"Datasource {ds.entity_id} has no target attribute to learn.")
    model_type = MODEL_TYPE_FOR_TARGET.get(schema.target_attribute.type)
    if model_type is None:
        raise InvalidInput(f"A {schema.target_attribute.type} target cannot be learned.")
    return str(model_type)


def _check_target_fits(ds: DataSource, ml_model_type: str) -> None:
    schema = _schema_of(ds)
    if schema is None:
        return  # inferred when the datasource is read; checked again at training time
    if schema.target_attribute is None:
        raise InvalidInput(f"Datasource {ds.entity_id} has no target attribute to learn.")
    expected = MODEL_TYPE_FOR_TARGET.get(schema.target_attribute.type)
    if str(expected) != ml_model_type:
        raise InvalidInput(
            f"The target {schema.target!r} is {schema.target_attribute.type}: "
            f"a {ml_model_type} model cannot learn it (use {expected})."
        )
    # Refused here rather than failing at training time with the recipe's empty outputs.
    if (no_inputs := schema.why_no_inputs()) is not None:
        raise InvalidInput(f"Datasource {ds.entity_id}: {no_inputs}.")


def _schema_of(ds: DataSource) -> Any:
    return parse_schema(ds.data_schema) if ds.data_schema else None


def _validated_parameters(parameters: dict[str, str]) -> dict[str, str]:
    from mlcore.train.parameters import TrainingParameters

    try:
        return dict(TrainingParameters.from_aml(parameters).to_aml())
    except MLCoreError as exc:
        raise InvalidInput(f"Parameters are not valid: {exc}") from exc


def _validated_recipe(recipe: str, ds: DataSource) -> str:
    schema = _schema_of(ds)
    if not recipe.strip() or schema is None:
        return recipe.strip()
    from mlcore.recipes import parse_recipe

    try:
        parse_recipe(recipe, schema)
    except MLCoreError as exc:
        raise InvalidInput(f"Recipe is not valid: {exc}") from exc
    return recipe.strip()

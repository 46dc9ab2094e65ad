"""Evaluation operations: CreateEvaluation, UpdateEvaluation, DeleteEvaluation."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from console import dependencies
from console.models import DataSource, Evaluation, MLModel, Status

from . import common
from .errors import InvalidInput


def create_evaluation(
    owner: Any,
    *,
    ml_model_id: str,
    evaluation_data_source_id: str,
    evaluation_id: str | None = None,
    evaluation_name: str = "",
) -> Evaluation:
    """CreateEvaluation. It waits for its model and its datasource to complete."""
    entity_id = common.choose_entity_id(Evaluation, evaluation_id)
    ml = _usable(MLModel, owner, ml_model_id)
    ds = _usable(DataSource, owner, evaluation_data_source_id)
    fields = {
        "name": common.clean_name(evaluation_name),
        "ml_model": ml,
        "evaluation_data_source": ds,
    }
    with transaction.atomic():
        existing = Evaluation.objects.filter(owner=owner, entity_id=entity_id).first()
        if existing is not None:
            return common.same_request_or_mismatch(existing, fields)
        ev = Evaluation.objects.create(
            owner=owner,
            entity_id=entity_id,
            tags={**ds.tags, **ml.tags},
            create_request=common.request_of(fields),
            **fields,
        )
        common.log_created(
            ev, f"Evaluation {ev.entity_id} of ML model {ml.entity_id} on datasource {ds.entity_id}"
        )
        dependencies.enqueue(ev)
    return ev


def update_evaluation(owner: Any, evaluation_id: str, evaluation_name: str) -> Evaluation:
    return common.rename(Evaluation, owner, evaluation_id, evaluation_name)


def delete_evaluation(owner: Any, evaluation_id: str) -> Evaluation:
    return common.delete(Evaluation, owner, evaluation_id)


def get_evaluation(owner: Any, evaluation_id: str) -> Evaluation:
    return common.get_owned(Evaluation, owner, evaluation_id)


def _usable(model: type[Any], owner: Any, entity_id: str) -> Any:
    obj = common.get_owned(model, owner, entity_id)
    if obj.status in (Status.DELETED, Status.FAILED):
        raise InvalidInput(
            f"{model.TYPE_LABEL} {obj.entity_id} is {obj.get_status_display().lower()} "
            "and cannot be used."
        )
    return obj

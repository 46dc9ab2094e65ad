"""The dashboard's row expander: an object's key facts and links, as AML's console showed them.

Loaded only when a row is opened, so the listing itself never reads more than its columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse

from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.common import get_owned
from console.services.errors import ResourceNotFound
from console.services.listing import OBJECT_TYPES
from console.templatetags.aml_format import aml_date, completion


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class ObjectFacts:
    obj: AMLObject
    type_key: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    related: list[tuple[str, Link]] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)


def object_facts(owner: Any, type_key: str, entity_id: str) -> ObjectFacts:
    """The owner's object's facts; raises ResourceNotFound for another user's or a deleted id."""
    model = OBJECT_TYPES.get(type_key)
    if model is None:
        raise ResourceNotFound(f"No object type {type_key!r}.")
    obj = get_owned(model, owner, entity_id, include_deleted=False)
    facts = ObjectFacts(obj, type_key)
    facts.facts = [
        ("Status", obj.get_status_display()),
        ("Created", aml_date(obj.created_at)),
        (
            "Completion time",
            completion(obj) or ("Not finished yet" if obj.is_active else "Not recorded"),
        ),
    ]
    if obj.status == Status.FAILED and obj.message:
        facts.facts.append(("Why it failed", obj.message))
    _ADD_BY_TYPE[type_key](facts, obj)
    facts.links.insert(0, Link("Open", reverse(f"console:{type_key}-detail", args=[entity_id])))
    return facts


def _detail(obj: AMLObject | None) -> Link | None:
    if obj is None:
        return None
    key = {DataSource: "datasource", MLModel: "mlmodel", Evaluation: "evaluation"}[type(obj)]
    return Link(
        f"{obj.display_name} ({obj.entity_id})",
        reverse(f"console:{key}-detail", args=[obj.entity_id]),
    )


def _datasource(facts: ObjectFacts, ds: DataSource) -> None:
    facts.facts += [
        ("Data location", ds.location_label),
        ("Target", ds.target_attribute_name or "None (suits predictions)"),
        ("Records read", _read(ds.records_count, ds.invalid_records_count)),
    ]
    query = f"?datasource={ds.entity_id}"
    facts.links += [
        Link("Create (train) an ML model", reverse("console:mlmodel-create") + query),
        Link("Evaluate an ML model", reverse("console:evaluation-create") + query),
        Link("Generate batch predictions", reverse("console:batchprediction-create") + query),
    ]


def _ml_model(facts: ObjectFacts, ml: MLModel) -> None:
    facts.facts.append(("Model type", ml.get_ml_model_type_display()))
    if ml.ml_model_type == MLModel.ModelType.BINARY:
        facts.facts.append(("Score threshold", f"{ml.score_threshold:g}"))
    if (link := _detail(ml.training_data_source)) is not None:
        facts.related.append(("Training datasource", link))
    query = f"?model={ml.entity_id}"
    facts.links += [
        Link("Evaluate the ML model", reverse("console:evaluation-create") + query),
        Link("Generate batch predictions", reverse("console:batchprediction-create") + query),
    ]


def _evaluation(facts: ObjectFacts, ev: Evaluation) -> None:
    metrics = ev.performance_metrics or {}
    for name, value in (metrics.get("Properties") or metrics).items():
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            facts.facts.append((str(name), _number(value)))
    for label, obj in (
        ("ML model", ev.ml_model),
        ("Evaluation datasource", ev.evaluation_data_source),
    ):
        if (link := _detail(obj)) is not None:
            facts.related.append((label, link))


def _batch_prediction(facts: ObjectFacts, bp: BatchPrediction) -> None:
    facts.facts += [
        ("Results", "The console's storage" if bp.in_console_storage else bp.output_uri),
        ("Records scored", _count(bp.total_record_count, bp.invalid_record_count)),
    ]
    for label, obj in (("ML model", bp.ml_model), ("Datasource", bp.batch_prediction_data_source)):
        if (link := _detail(obj)) is not None:
            facts.related.append((label, link))


def _read(valid: int | None, invalid: int | None) -> str:
    """AML's terms: records read = valid + invalid."""
    if valid is None:
        return "Not known yet"
    return _count(valid + (invalid or 0), invalid)


def _count(records: int | None, invalid: int | None) -> str:
    if records is None:
        return "Not known yet"
    return f"{records:,}" + (f" ({invalid:,} invalid)" if invalid else "")


def _number(value: Any) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


_ADD_BY_TYPE: dict[str, Any] = {
    "datasource": _datasource,
    "mlmodel": _ml_model,
    "evaluation": _evaluation,
    "batchprediction": _batch_prediction,
}

"""Which datasources an ML model can be evaluated on, and why the others cannot.

Shared by the model wizard's "Evaluate on another datasource" and the evaluation wizard, so both
offer the same list and give the same reasons. An evaluation scores the model's predictions of its
target against that column of the other data, so the other datasource needs the same target and
every attribute the model reads; extra columns are harmless (the model ignores them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.models import DataSource, Status
from mlcore.errors import MLCoreError
from mlcore.schema import Schema, parse_schema

USABLE_STATUSES = (Status.PENDING, Status.INPROGRESS, Status.COMPLETED)
MAX_NAMES_SHOWN = 3


def _schema(ds: DataSource) -> Schema | None:
    try:
        return parse_schema(ds.data_schema) if ds.data_schema else None
    except MLCoreError:
        return None


def _listed(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:MAX_NAMES_SHOWN])
    more = len(names) - MAX_NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def why_not_evaluable(training: DataSource | None, other: DataSource) -> str:
    """Why a model trained on `training` cannot be evaluated on `other`; empty when it can."""
    if other.status not in USABLE_STATUSES:
        return f"It is {other.get_status_display().lower()}."
    if training is not None and other.pk == training.pk:
        return "The ML model learned from it: an evaluation on it would look better than it is."
    wanted, theirs = (_schema(training) if training else None), _schema(other)
    if theirs is None:
        return "Its schema is not known yet."
    if wanted is None or wanted.target is None:
        return ""  # nothing to compare with: the service decides
    if theirs.target is None:
        return f"It has no target; the ML model predicts {wanted.target!r}."
    if theirs.target != wanted.target:
        return f"Its target is {theirs.target!r}; the ML model predicts {wanted.target!r}."
    mine, want = theirs.attribute(theirs.target).type, wanted.attribute(wanted.target).type
    if mine != want:
        # Another type means another model type: the scores would not fit the labels.
        return f"Its target {theirs.target!r} is {mine.value.lower()}, not {want.value.lower()}."
    missing = [a.name for a in wanted.input_attributes if a.name not in set(theirs.names)]
    if missing:
        return f"It lacks the ML model's attribute{'s' if len(missing) > 1 else ''} {_listed(missing)}."
    return ""


@dataclass(frozen=True)
class EvaluationSources:
    """The datasources offered for an evaluation, and the others with why they are not."""

    offered: list[DataSource]
    not_offered: list[tuple[DataSource, str]]


def evaluation_sources(
    owner: Any, training: DataSource | None, *, exclude: str = ""
) -> EvaluationSources:
    """The owner's datasources (less `exclude`, the training one), split by compatibility."""
    offered: list[DataSource] = []
    not_offered: list[tuple[DataSource, str]] = []
    for ds in DataSource.objects.owned_by(owner).filter(status__in=USABLE_STATUSES):
        if ds.entity_id == exclude:
            continue
        reason = why_not_evaluable(training, ds)
        if reason:
            not_offered.append((ds, reason))
        else:
            offered.append(ds)
    return EvaluationSources(offered, not_offered)

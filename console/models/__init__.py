"""The four AML objects. Status is written only by `console.lifecycle`."""

from __future__ import annotations

from .access_keys import AccessKey
from .base import AMLObject, Status, new_entity_id
from .objects import ALL_OBJECT_TYPES, BatchPrediction, DataSource, Evaluation, MLModel

__all__ = [
    "AccessKey",
    "ALL_OBJECT_TYPES",
    "AMLObject",
    "BatchPrediction",
    "DataSource",
    "Evaluation",
    "MLModel",
    "Status",
    "new_entity_id",
]

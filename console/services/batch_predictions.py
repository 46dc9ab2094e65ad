"""Batch prediction operations: CreateBatchPrediction, UpdateBatchPrediction,
DeleteBatchPrediction, GetBatchPrediction (reference section 8).

A batch prediction may be created while its model or datasource is still pending: it waits, and
fails with the cause when one of them fails (console.dependencies). Its output goes to an `s3://`
location checked the way AML checked it, or, when none is given, to the console's own storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from console import dependencies
from console.models import BatchPrediction, DataSource, MLModel, Status
from mlcore.errors import MLCoreError
from mlcore.predict.outputs import normalized_output_uri

from . import common
from .errors import InvalidInput

MAX_OUTPUT_URI = 2048  # botocore's S3Url
MAX_PASS_THROUGH = 1000  # AML's limit on variables in a data file


def create_batch_prediction(
    owner: Any,
    *,
    ml_model_id: str,
    batch_prediction_data_source_id: str,
    batch_prediction_id: str | None = None,
    batch_prediction_name: str = "",
    output_uri: str | None = None,
    pass_through: Iterable[str] = (),
    explain: bool = False,
) -> BatchPrediction:
    """CreateBatchPrediction. `output_uri` None or "" writes to the console's own storage.

    The model's score threshold is kept as it is now: bestAnswer uses it even if the threshold
    is saved again while the batch prediction waits or runs.
    """
    entity_id = common.choose_entity_id(BatchPrediction, batch_prediction_id)
    ml = _usable(MLModel, owner, ml_model_id)
    ds = _usable(DataSource, owner, batch_prediction_data_source_id)
    fields: dict[str, Any] = {
        "name": common.clean_name(batch_prediction_name),
        "ml_model": ml,
        "batch_prediction_data_source": ds,
        "output_uri": check_output_uri(output_uri),
        "pass_through": check_pass_through(pass_through, ds),
        "explain": bool(explain),
    }
    with transaction.atomic():
        existing = BatchPrediction.objects.filter(owner=owner, entity_id=entity_id).first()
        if existing is not None:
            return common.same_request_or_mismatch(existing, fields)
        bp = BatchPrediction.objects.create(
            owner=owner,
            entity_id=entity_id,
            tags={**ds.tags, **ml.tags},
            score_threshold=ml.score_threshold,
            create_request=common.request_of(fields),
            **fields,
        )
        where = bp.output_uri or "the console's storage"
        common.log_created(
            bp,
            f"Batch prediction {bp.entity_id} of ML model {ml.entity_id} on datasource "
            f"{ds.entity_id}, output to {where}",
        )
        dependencies.enqueue(bp)
    return bp


def update_batch_prediction(
    owner: Any, batch_prediction_id: str, batch_prediction_name: str
) -> BatchPrediction:
    """UpdateBatchPrediction: only the name can change."""
    return common.rename(BatchPrediction, owner, batch_prediction_id, batch_prediction_name)


def delete_batch_prediction(owner: Any, batch_prediction_id: str) -> BatchPrediction:
    """DeleteBatchPrediction: the row stays readable as DELETED; its files are left in place,
    as AML left the files it had written to S3."""
    return common.delete(BatchPrediction, owner, batch_prediction_id)


def get_batch_prediction(owner: Any, batch_prediction_id: str) -> BatchPrediction:
    return common.get_owned(BatchPrediction, owner, batch_prediction_id)


def check_output_uri(output_uri: str | None) -> str:
    """The OutputUri as stored ("" for the console's storage), with a trailing `/` as AML
    showed it; InvalidInput says what is wrong with a bad one.

    >>> check_output_uri("s3://bucket/out")
    's3://bucket/out/'
    >>> check_output_uri(None)
    ''
    """
    uri = (output_uri or "").strip()
    if not uri:
        return ""
    if len(uri) > MAX_OUTPUT_URI:
        raise InvalidInput(f"OutputUri is at most {MAX_OUTPUT_URI:,} characters.")
    if not uri.startswith("s3://"):
        raise InvalidInput(
            f"OutputUri {uri!r} is not an S3 location: write s3://bucket/prefix/ "
            "(or leave it empty to keep the results in the console's storage)."
        )
    try:
        return normalized_output_uri(uri)  # the engine's rule, the one the job applies
    except MLCoreError as exc:
        raise InvalidInput(f"OutputUri is not valid: {exc}") from exc


def check_pass_through(columns: Iterable[str], ds: DataSource) -> list[str]:
    """Input columns to copy into the results, by name, each once, in the order given.

    Checked against the datasource's schema when it is known already (a pending datasource
    without a schema is checked by the engine when the job runs).
    """
    chosen = list(dict.fromkeys(str(c).strip() for c in columns if str(c).strip()))
    if len(chosen) > MAX_PASS_THROUGH:
        raise InvalidInput(f"At most {MAX_PASS_THROUGH:,} pass-through columns can be copied.")
    known = {a.get("attributeName") for a in (ds.data_schema or {}).get("attributes", [])}
    unknown = [c for c in chosen if known and c not in known]
    if unknown:
        raise InvalidInput(
            f"Datasource {ds.entity_id} has no column named {', '.join(map(repr, unknown))}."
        )
    return chosen


def _usable(model: type[Any], owner: Any, entity_id: str) -> Any:
    obj = common.get_owned(model, owner, entity_id)
    if obj.status in (Status.DELETED, Status.FAILED):
        raise InvalidInput(
            f"{model.TYPE_LABEL} {obj.entity_id} is {obj.get_status_display().lower()} "
            "and cannot be used."
        )
    return obj

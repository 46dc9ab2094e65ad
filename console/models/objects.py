"""DataSource, MLModel, Evaluation, BatchPrediction with AML's fields in snake_case."""

from __future__ import annotations

from django.db import models

from .base import AMLObject


def _unique_per_owner(label: str) -> list[models.UniqueConstraint]:
    return [models.UniqueConstraint(fields=["owner", "entity_id"], name=f"{label}_unique_id")]


class DataSource(AMLObject):
    ENTITY_PREFIX = "ds"
    TYPE_LABEL = "Datasource"
    RESOURCE_TYPE = "DataSource"

    class SourceKind(models.TextChoices):
        S3 = "s3", "Amazon S3"
        PATH = "path", "Server path"
        UPLOAD = "upload", "Uploaded file"
        RDS = "rds", "Amazon RDS (SQL query)"
        REDSHIFT = "redshift", "Amazon Redshift (SQL query)"

    source_kind = models.CharField(max_length=8, choices=SourceKind.choices)
    # s3://bucket/key, an absolute server path, or the storage key of an upload.
    data_location_s3 = models.CharField(max_length=2048)
    original_filename = models.CharField(max_length=512, blank=True)
    data_schema = models.JSONField(default=dict)
    csv_delimiter = models.CharField(max_length=1, default=",")
    data_rearrangement = models.TextField(blank=True)
    compute_statistics = models.BooleanField(default=True)
    data_size_in_bytes = models.BigIntegerField(null=True, blank=True)
    number_of_files = models.IntegerField(null=True, blank=True)
    records_count = models.BigIntegerField(null=True, blank=True)
    invalid_records_count = models.BigIntegerField(null=True, blank=True)
    statistics = models.JSONField(null=True, blank=True)
    # AML's RDSMetadata / RedshiftMetadata of a datasource made from a SQL query (else empty)
    sql_metadata = models.JSONField(default=dict, blank=True)

    class Meta(AMLObject.Meta):
        constraints = _unique_per_owner("datasource")

    @property
    def target_attribute_name(self) -> str | None:
        return (self.data_schema or {}).get("targetAttributeName")

    @property
    def location_label(self) -> str:
        if self.source_kind == self.SourceKind.UPLOAD:
            return f"Uploaded file {self.original_filename}"
        sql_kinds = (self.SourceKind.RDS, self.SourceKind.REDSHIFT)
        if self.source_kind in sql_kinds and not self.data_location_s3.startswith("s3://"):
            return f"SQL query result {self.original_filename} (in the console's storage)"
        return self.data_location_s3


class MLModel(AMLObject):
    ENTITY_PREFIX = "ml"
    TYPE_LABEL = "ML model"
    RESOURCE_TYPE = "MLModel"

    class ModelType(models.TextChoices):
        BINARY = "BINARY", "Binary"
        MULTICLASS = "MULTICLASS", "Multiclass"
        REGRESSION = "REGRESSION", "Regression"

    class EndpointStatus(models.TextChoices):
        NONE = "NONE", "None"
        READY = "READY", "Ready"
        UPDATING = "UPDATING", "Updating"
        FAILED = "FAILED", "Failed"

    training_data_source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="ml_models", null=True
    )
    ml_model_type = models.CharField(max_length=16, choices=ModelType.choices)
    algorithm = models.CharField(max_length=16, default="sgd")
    training_parameters = models.JSONField(default=dict, blank=True)
    #: what the trainer chose where the parameters left it to (`RegularizationChoice.to_json()`)
    training_choice = models.JSONField(default=dict, blank=True)
    recipe = models.TextField(blank=True)
    score_threshold = models.FloatField(default=0.5)
    score_threshold_last_updated_at = models.DateTimeField(null=True, blank=True)
    size_in_bytes = models.BigIntegerField(null=True, blank=True)
    artifact_key = models.CharField(max_length=1024, blank=True)
    insights = models.JSONField(null=True, blank=True)
    endpoint_status = models.CharField(
        max_length=16, choices=EndpointStatus.choices, default=EndpointStatus.NONE
    )
    endpoint_created_at = models.DateTimeField(null=True, blank=True)

    class Meta(AMLObject.Meta):
        constraints = _unique_per_owner("mlmodel")


class Evaluation(AMLObject):
    ENTITY_PREFIX = "ev"
    TYPE_LABEL = "Evaluation"
    RESOURCE_TYPE = "Evaluation"

    ml_model = models.ForeignKey(MLModel, on_delete=models.PROTECT, related_name="evaluations")
    evaluation_data_source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="evaluations"
    )
    performance_metrics = models.JSONField(null=True, blank=True)
    details = models.JSONField(null=True, blank=True)

    class Meta(AMLObject.Meta):
        constraints = _unique_per_owner("evaluation")


class BatchPrediction(AMLObject):
    ENTITY_PREFIX = "bp"
    TYPE_LABEL = "Batch prediction"
    RESOURCE_TYPE = "BatchPrediction"

    ml_model = models.ForeignKey(
        MLModel, on_delete=models.PROTECT, related_name="batch_predictions"
    )
    batch_prediction_data_source = models.ForeignKey(
        DataSource, on_delete=models.PROTECT, related_name="batch_predictions"
    )
    #: the s3:// location asked for, or "" for the console's own storage (the default)
    output_uri = models.CharField(max_length=2048)
    total_record_count = models.BigIntegerField(null=True, blank=True)
    invalid_record_count = models.BigIntegerField(null=True, blank=True)
    #: the model's cut-off when the batch prediction was created (bestAnswer uses it)
    score_threshold = models.FloatField(null=True, blank=True)
    pass_through = models.JSONField(default=list, blank=True)
    explain = models.BooleanField(default=False)
    #: input file location → result file location, as in the manifest
    outputs = models.JSONField(default=dict, blank=True)
    manifest_location = models.CharField(max_length=2048, blank=True)
    #: {"name", "value"} when the data had the target
    metric = models.JSONField(null=True, blank=True)

    @property
    def in_console_storage(self) -> bool:
        return not self.output_uri

    class Meta(AMLObject.Meta):
        constraints = _unique_per_owner("batchprediction")


ALL_OBJECT_TYPES: tuple[type[AMLObject], ...] = (DataSource, MLModel, Evaluation, BatchPrediction)

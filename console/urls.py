"""URLs. Every page needs a login (LoginRequiredMiddleware); every object lookup is per owner."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from console.models import BatchPrediction, DataSource, Evaluation, MLModel
from console.views import (
    access_keys,
    batch_prediction_wizard,
    batch_predictions,
    dashboard,
    datasource_wizard,
    datasources,
    evaluation_compare,
    evaluation_wizard,
    evaluations,
    model_wizard,
    models,
    objects,
    realtime,
    threshold_explorer,
)

console_patterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("objects/rows/", dashboard.dashboard_rows, name="dashboard-rows"),
    path("objects/delete/", dashboard.objects_delete, name="objects-delete"),
    path(
        "objects/<str:type_key>/<str:entity_id>/facts/",
        dashboard.dashboard_facts,
        name="dashboard-facts",
    ),
    # The datasource wizard: input → schema → target → row id → review → create.
    path("datasources/new/", datasource_wizard.wizard_input, name="datasource-create"),
    path("datasources/new/upload/", datasource_wizard.wizard_upload, name="datasource-upload"),
    path("datasources/new/verify/", datasource_wizard.wizard_verify, name="datasource-verify"),
    path(
        "datasources/new/<str:draft>/schema/",
        datasource_wizard.wizard_schema,
        name="datasource-wizard-schema",
    ),
    path(
        "datasources/new/<str:draft>/schema.json",
        datasource_wizard.wizard_schema_download,
        name="datasource-wizard-schema-json",
    ),
    path(
        "datasources/new/<str:draft>/target/",
        datasource_wizard.wizard_target,
        name="datasource-wizard-target",
    ),
    path(
        "datasources/new/<str:draft>/row-id/",
        datasource_wizard.wizard_row_id,
        name="datasource-wizard-row-id",
    ),
    path(
        "datasources/new/<str:draft>/review/",
        datasource_wizard.wizard_review,
        name="datasource-wizard-review",
    ),
    # A datasource's pages.
    path("datasources/<str:entity_id>/", datasources.datasource_detail, name="datasource-detail"),
    path(
        "datasources/<str:entity_id>/status/",
        datasources.datasource_status,
        name="datasource-status",
    ),
    path("datasources/<str:entity_id>/log/", datasources.datasource_log, name="datasource-log"),
    path(
        "datasources/<str:entity_id>/sample-rows/",
        datasources.datasource_sample_rows,
        name="datasource-sample-rows",
    ),
    path(
        "datasources/<str:entity_id>/schema.json",
        datasources.datasource_schema,
        name="datasource-schema",
    ),
    path(
        "datasources/<str:entity_id>/rename/",
        datasources.datasource_rename,
        name="datasource-rename",
    ),
    path("datasources/<str:entity_id>/tags/", datasources.datasource_tags, name="datasource-tags"),
    path(
        "datasources/<str:entity_id>/delete/",
        datasources.datasource_delete,
        name="datasource-delete",
    ),
    path(
        "datasources/<str:entity_id>/stop/",
        objects.object_stop,
        {"model": DataSource},
        name="datasource-stop",
    ),
    path("datasources/<str:entity_id>/copy/", datasources.datasource_copy, name="datasource-copy"),
    # The ML model wizard: input → settings → (custom: recipe → advanced → evaluation) → review.
    path("models/new/", model_wizard.wizard_input, name="mlmodel-create"),
    path(
        "models/new/datasource/",
        model_wizard.wizard_new_datasource,
        name="mlmodel-create-datasource",
    ),
    path(
        "models/new/recipe/validate/",
        model_wizard.recipe_validate,
        name="mlmodel-recipe-validate",
    ),
    path(
        "models/new/<str:draft>/settings/",
        model_wizard.wizard_settings,
        name="mlmodel-wizard-settings",
    ),
    path(
        "models/new/<str:draft>/recipe/", model_wizard.wizard_recipe, name="mlmodel-wizard-recipe"
    ),
    path(
        "models/new/<str:draft>/advanced/",
        model_wizard.wizard_advanced,
        name="mlmodel-wizard-advanced",
    ),
    path(
        "models/new/<str:draft>/evaluation/",
        model_wizard.wizard_evaluation,
        name="mlmodel-wizard-evaluation",
    ),
    path(
        "models/new/<str:draft>/review/", model_wizard.wizard_review, name="mlmodel-wizard-review"
    ),
    # An ML model's pages.
    path("models/<str:entity_id>/", models.ml_model_detail, name="mlmodel-detail"),
    path("models/<str:entity_id>/status/", models.ml_model_status, name="mlmodel-status"),
    path(
        "models/<str:entity_id>/evaluations/",
        models.ml_model_evaluations,
        name="mlmodel-evaluations",
    ),
    path("models/<str:entity_id>/log/", models.ml_model_log, name="mlmodel-log"),
    path("models/<str:entity_id>/rename/", models.ml_model_rename, name="mlmodel-rename"),
    path("models/<str:entity_id>/tags/", models.ml_model_tags, name="mlmodel-tags"),
    path("models/<str:entity_id>/delete/", models.ml_model_delete, name="mlmodel-delete"),
    path(
        "models/<str:entity_id>/stop/", objects.object_stop, {"model": MLModel}, name="mlmodel-stop"
    ),
    # Comparing evaluations (before the detail page, which would take "compare" for an id).
    path("evaluations/compare/", evaluation_compare.evaluation_compare, name="evaluation-compare"),
    # The evaluation wizard: ML model → datasource → name → review → create.
    path("evaluations/new/", evaluation_wizard.wizard_model, name="evaluation-create"),
    path(
        "evaluations/new/<str:draft>/<str:step>/",
        evaluation_wizard.wizard_step,
        name="evaluation-wizard",
    ),
    # An evaluation's pages.
    path("evaluations/<str:entity_id>/", evaluations.evaluation_detail, name="evaluation-detail"),
    path(
        "evaluations/<str:entity_id>/status/",
        evaluations.evaluation_status,
        name="evaluation-status",
    ),
    path("evaluations/<str:entity_id>/log/", evaluations.evaluation_log, name="evaluation-log"),
    path(
        "evaluations/<str:entity_id>/confusion-matrix.csv",
        evaluations.evaluation_matrix_csv,
        name="evaluation-matrix",
    ),
    path(
        "evaluations/<str:entity_id>/rename/",
        evaluations.evaluation_rename,
        name="evaluation-rename",
    ),
    path("evaluations/<str:entity_id>/tags/", evaluations.evaluation_tags, name="evaluation-tags"),
    path(
        "evaluations/<str:entity_id>/score-threshold/",
        threshold_explorer.evaluation_score_threshold,
        name="evaluation-score-threshold",
    ),
    path(
        "evaluations/<str:entity_id>/stop/",
        objects.object_stop,
        {"model": Evaluation},
        name="evaluation-stop",
    ),
    path(
        "evaluations/<str:entity_id>/delete/",
        evaluations.evaluation_delete,
        name="evaluation-delete",
    ),
    # Real-time predictions of an ML model: try one record; create or delete its endpoint.
    path("models/<str:entity_id>/predict/", realtime.ml_model_predict, name="mlmodel-predict"),
    path("models/<str:entity_id>/endpoint/", realtime.ml_model_endpoint, name="mlmodel-endpoint"),
    # The batch prediction wizard: ML model → data → results → review.
    path(
        "batch-predictions/new/",
        batch_prediction_wizard.wizard_model,
        name="batchprediction-create",
    ),
    path(
        "batch-predictions/new/<str:draft>/<str:step>/",
        batch_prediction_wizard.wizard_step,
        name="batchprediction-wizard",
    ),
    # A batch prediction's pages.
    path(
        "batch-predictions/<str:entity_id>/",
        batch_predictions.batch_prediction_detail,
        name="batchprediction-detail",
    ),
    path(
        "batch-predictions/<str:entity_id>/status/",
        batch_predictions.batch_prediction_status,
        name="batchprediction-status",
    ),
    path(
        "batch-predictions/<str:entity_id>/log/",
        batch_predictions.batch_prediction_log,
        name="batchprediction-log",
    ),
    path(
        "batch-predictions/<str:entity_id>/results/<int:index>.gz",
        batch_predictions.batch_prediction_download,
        name="batchprediction-download",
    ),
    path(
        "batch-predictions/<str:entity_id>/results/<int:index>.csv",
        batch_predictions.batch_prediction_download_csv,
        name="batchprediction-download-csv",
    ),
    path(
        "batch-predictions/<str:entity_id>/manifest/",
        batch_predictions.batch_prediction_manifest,
        name="batchprediction-manifest",
    ),
    path(
        "batch-predictions/<str:entity_id>/rename/",
        batch_predictions.batch_prediction_rename,
        name="batchprediction-rename",
    ),
    path(
        "batch-predictions/<str:entity_id>/tags/",
        batch_predictions.batch_prediction_tags,
        name="batchprediction-tags",
    ),
    path(
        "batch-predictions/<str:entity_id>/stop/",
        objects.object_stop,
        {"model": BatchPrediction},
        name="batchprediction-stop",
    ),
    path(
        "batch-predictions/<str:entity_id>/delete/",
        batch_predictions.batch_prediction_delete,
        name="batchprediction-delete",
    ),
    # The user's API access keys (SigV4): list, create (the secret shown once), revoke.
    path("keys/", access_keys.access_keys, name="access-keys"),
    path("keys/create/", access_keys.access_key_create, name="access-key-create"),
    path(
        "keys/<str:access_key_id>/revoke/",
        access_keys.access_key_revoke,
        name="access-key-revoke",
    ),
]

urlpatterns = [
    path("", include((console_patterns, "console"))),
    # Sign-in, sign-out and password change only: a password reset by email needs a mail server
    # a self-hosted console seldom has (unconfigured, the reset form ended in an HTTP 500); an
    # administrator sets a forgotten password with `manage.py changepassword`.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
]

"""The "Create ML model" wizard: Input data → Settings → (Recipe → Advanced → Evaluation) → Review
→ create_ml_model_with_evaluation: PENDING split datasources, model and evaluation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from console.model_drafts import SESSION_KEY
from console.models import DataSource, Evaluation, MLModel, Status
from console.services.ml_models import CONSOLE_DEFAULT_PARAMETERS
from mlcore.train.parameters import TrainingParameters

pytestmark = pytest.mark.django_db

CREATE = reverse("console:mlmodel-create")
VALIDATE = reverse("console:mlmodel-recipe-validate")
STEPS = ("settings", "recipe", "advanced", "evaluation", "review")
SPLIT_70 = "banking.csv_[percentBegin=0, percentEnd=70, strategy=sequential]"
SPLIT_30 = "banking.csv_[percentBegin=70, percentEnd=100, strategy=sequential]"
ADVANCED_DEFAULTS = {
    "max_size_mb": "100",
    "max_passes": "10",
    "shuffle_type": "auto",
    "regularization_type": "l2",
    "regularization_amount": "1e-6",
}


@pytest.fixture(autouse=True)
def _nothing_runs(enqueued: list[Any]) -> None:
    """Nothing runs: every object the wizard creates must stay PENDING (`enqueued` records)."""


@pytest.fixture
def banking_schema(shared_data: Path) -> dict[str, Any]:
    return json.loads((shared_data / "banking.csv.schema").read_text())


def make_source(owner: Any, shared_data: Path, schema: dict[str, Any], **fields: Any) -> DataSource:
    defaults: dict[str, Any] = {
        "entity_id": "ds-banking",
        "name": "banking.csv",
        "source_kind": DataSource.SourceKind.PATH,
        "data_location_s3": str(shared_data / "banking.csv"),
        "original_filename": "banking.csv",
        "status": Status.COMPLETED,
        "data_schema": schema,
        "statistics": None,
        "tags": {"team": "growth"},
    }
    return DataSource.objects.create(owner=owner, **{**defaults, **fields})


@pytest.fixture
def banking(owner: Any, shared_data: Path, banking_schema: dict[str, Any]) -> DataSource:
    return make_source(owner, shared_data, banking_schema)


@pytest.fixture
def other_banking(owner: Any, shared_data: Path, banking_schema: dict[str, Any]) -> DataSource:
    return make_source(
        owner, shared_data, banking_schema, entity_id="ds-banking-2", name="banking again"
    )


def step_url(step: str, token: str) -> str:
    return reverse(f"console:mlmodel-wizard-{step}", kwargs={"draft": token})


def start(client: Client, ds: DataSource) -> str:
    response = client.post(CREATE, {"source": "existing", "data_source": ds.entity_id})
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/models/new/([^/]+)/settings/$", response["Location"])
    assert match, response["Location"]
    return match.group(1)


def go(client: Client, token: str, step: str, data: dict[str, str], then: str) -> None:
    response = client.post(step_url(step, token), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == step_url(then, token)


def walk_custom(
    client: Client,
    token: str,
    *,
    evaluation: dict[str, str],
    recipe: str = "",
    advanced: dict[str, str] | None = None,
) -> None:
    settings = {"ml_model_name": "custom", "mode": "custom", "evaluation_name": "custom eval"}
    go(client, token, "settings", settings, "recipe")
    go(client, token, "recipe", {"recipe": recipe}, "advanced")
    go(client, token, "advanced", advanced or ADVANCED_DEFAULTS, "evaluation")
    go(client, token, "evaluation", evaluation, "review")


def create(client: Client, token: str) -> MLModel:
    response = client.post(step_url("review", token))
    assert response.status_code == 302, response.content.decode()[:3000]
    ml = MLModel.objects.get()
    assert response["Location"] == reverse("console:mlmodel-detail", args=[ml.entity_id])
    return ml


def splitting(ds: DataSource) -> dict[str, Any]:
    return dict(json.loads(ds.data_rearrangement)["splitting"])


# --------------------------------------------------------------------------- the default path


def test_it_creates_two_splits_a_model_and_an_evaluation_on_the_default_path(
    owner_client: Client, banking: DataSource, enqueued: list[Any]
) -> None:
    page = owner_client.get(CREATE).content.decode()
    assert "ds-banking" in page and "Binary classification" in page

    token = start(owner_client, banking)
    settings_page = owner_client.get(step_url("settings", token)).content.decode()
    assert 'value="ML model: banking.csv"' in settings_page
    assert 'value="Evaluation: ML model: banking.csv"' in settings_page
    assert "Binary classification" in settings_page

    go(
        owner_client,
        token,
        "settings",
        {
            "ml_model_name": "ML model: banking.csv",
            "mode": "default",
            "evaluation_name": "Evaluation: ML model: banking.csv",
        },
        "review",
    )
    review = owner_client.get(step_url("review", token)).content.decode()
    for shown in (SPLIT_70, SPLIT_30, "ML model: banking.csv", "Evaluation: ML model: banking.csv"):
        assert shown in review, shown

    ml = create(owner_client, token)
    splits = DataSource.objects.exclude(pk=banking.pk).order_by("created_at", "pk")
    assert [ds.name for ds in splits] == [SPLIT_70, SPLIT_30]
    # Sequential is the default strategy, left out as AML's console-made datasources show it.
    assert splitting(splits[0]) == {"percentBegin": 0, "percentEnd": 70}
    assert splitting(splits[1]) == {"percentBegin": 70, "percentEnd": 100}
    assert ml.name == "ML model: banking.csv"
    assert ml.ml_model_type == "BINARY"
    assert ml.training_data_source == splits[0]
    assert (
        ml.training_parameters == TrainingParameters.from_aml(CONSOLE_DEFAULT_PARAMETERS).to_aml()
    )
    assert ml.recipe == ""  # the suggested recipe, made at training time
    evaluation = Evaluation.objects.get()
    assert evaluation.name == "Evaluation: ML model: banking.csv"
    assert evaluation.ml_model == ml and evaluation.evaluation_data_source == splits[1]
    assert {o.status for o in [*splits, ml, evaluation]} == {Status.PENDING}
    assert len(enqueued) == 4
    assert SESSION_KEY not in owner_client.session or token not in owner_client.session[SESSION_KEY]


def test_the_model_and_its_evaluation_copy_the_datasources_tags(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "default"}, "review")
    ml = create(owner_client, token)
    assert ml.tags == {"team": "growth"}
    assert Evaluation.objects.get().tags == {"team": "growth"}


def test_it_skips_the_custom_steps_on_the_default_path(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "default"}, "review")
    for step in ("recipe", "advanced", "evaluation"):
        response = owner_client.get(step_url(step, token))
        assert response["Location"] == step_url("settings", token), step


def test_it_sends_a_skipped_step_back_to_the_missing_one(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    assert owner_client.get(step_url("review", token))["Location"] == step_url("settings", token)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    response = owner_client.get(step_url("evaluation", token))
    assert response["Location"] == step_url("recipe", token)


def test_it_preselects_the_datasource_from_its_page(
    owner_client: Client, banking: DataSource
) -> None:
    detail = owner_client.get(reverse("console:datasource-detail", args=[banking.entity_id]))
    assert f"{CREATE}?datasource=ds-banking" in detail.content.decode()
    page = owner_client.get(f"{CREATE}?datasource=ds-banking").content.decode()
    assert re.search(r'value="ds-banking"[^>]*checked', page)


# --------------------------------------------------------------------------- custom paths


def test_it_splits_randomly_with_the_seed(owner_client: Client, banking: DataSource) -> None:
    token = start(owner_client, banking)
    walk_custom(
        owner_client,
        token,
        evaluation={"evaluation": "random", "train_percent": "80", "random_seed": "s33d"},
    )
    assert "s33d" in owner_client.get(step_url("review", token)).content.decode()
    ml = create(owner_client, token)
    training, evaluating = ml.training_data_source, Evaluation.objects.get().evaluation_data_source
    assert training.name == "banking.csv_[percentBegin=0, percentEnd=80, strategy=random]"
    assert evaluating.name == "banking.csv_[percentBegin=80, percentEnd=100, strategy=random]"
    assert splitting(training) == {
        "percentBegin": 0,
        "percentEnd": 80,
        "strategy": "random",
        "randomSeed": "s33d",
    }
    assert splitting(evaluating)["randomSeed"] == "s33d"
    assert splitting(evaluating)["complement"] in (True, "true")
    assert ml.name == "custom" and Evaluation.objects.get().name == "custom eval"


def test_it_proposes_a_random_seed(owner_client: Client, banking: DataSource) -> None:
    token = start(owner_client, banking)
    walk_custom(owner_client, token, evaluation={"evaluation": "sequential", "train_percent": "70"})
    page = owner_client.get(step_url("evaluation", token)).content.decode()
    assert re.search(r'name="random_seed" value="[0-9a-f]{16}"', page)


def test_it_splits_stratified_by_the_target(owner_client: Client, banking: DataSource) -> None:
    token = start(owner_client, banking)
    walk_custom(
        owner_client,
        token,
        evaluation={"evaluation": "stratified", "train_percent": "75", "random_seed": "abc"},
    )
    ml = create(owner_client, token)
    assert splitting(ml.training_data_source)["strategy"] == "stratified"
    assert ml.training_data_source.name.endswith("percentEnd=75, strategy=stratified]")


def test_it_evaluates_on_another_datasource(
    owner_client: Client, banking: DataSource, other_banking: DataSource
) -> None:
    token = start(owner_client, banking)
    walk_custom(
        owner_client,
        token,
        evaluation={"evaluation": "datasource", "evaluation_data_source": "ds-banking-2"},
    )
    ml = create(owner_client, token)
    assert ml.training_data_source == banking
    assert Evaluation.objects.get().evaluation_data_source == other_banking
    assert DataSource.objects.count() == 2  # no split


def test_it_refuses_the_training_datasource_as_the_evaluation_one(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    walk_custom(owner_client, token, evaluation={"evaluation": "none"})
    response = owner_client.post(
        step_url("evaluation", token),
        {"evaluation": "datasource", "evaluation_data_source": "ds-banking"},
    )
    assert response.status_code == 400
    assert "another datasource than the training one" in response.content.decode()


def test_it_refuses_an_evaluation_datasource_with_another_target(
    owner_client: Client, owner: Any, shared_data: Path, banking: DataSource, banking_schema: Any
) -> None:
    other = {**banking_schema, "targetAttributeName": "housing"}
    make_source(owner, shared_data, other, entity_id="ds-housing", name="housing")
    token = start(owner_client, banking)
    walk_custom(owner_client, token, evaluation={"evaluation": "none"})
    response = owner_client.post(
        step_url("evaluation", token),
        {"evaluation": "datasource", "evaluation_data_source": "ds-housing"},
    )
    assert response.status_code == 400
    assert "Its target is &#x27;housing&#x27;; the ML model predicts &#x27;y&#x27;" in (
        response.content.decode()
    )


def test_it_creates_only_the_model_without_evaluation(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    walk_custom(owner_client, token, evaluation={"evaluation": "none"})
    ml = create(owner_client, token)
    assert ml.training_data_source == banking
    assert not Evaluation.objects.exists() and DataSource.objects.count() == 1


def test_it_sends_the_recipe_and_the_advanced_parameters(
    owner_client: Client, banking: DataSource
) -> None:
    recipe = '{"groups": {}, "assignments": {}, "outputs": ["ALL_CATEGORICAL", "age"]}'
    token = start(owner_client, banking)
    advanced = {**ADVANCED_DEFAULTS, "max_passes": "25", "shuffle_type": "none"}
    advanced.update(regularization_type="l1", regularization_amount="1e-8", max_size_mb="50")
    walk_custom(
        owner_client, token, evaluation={"evaluation": "none"}, recipe=recipe, advanced=advanced
    )
    review = owner_client.get(step_url("review", token)).content.decode()
    assert "ALL_CATEGORICAL" in review and "L1, amount 1e-8" in review
    ml = create(owner_client, token)
    assert ml.recipe == recipe
    assert ml.training_parameters["sgd.maxPasses"] == "25"
    assert ml.training_parameters["sgd.shuffleType"] == "none"
    assert ml.training_parameters["sgd.maxMLModelSizeInBytes"] == str(50 * 1024 * 1024)
    assert float(ml.training_parameters["sgd.l1RegularizationAmount"]) == 1e-8
    assert float(ml.training_parameters["sgd.l2RegularizationAmount"]) == 0.0


# --------------------------------------------------------------------------- the recipe step


def test_it_says_why_there_is_no_suggested_recipe_without_statistics(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    page = owner_client.get(step_url("recipe", token)).content.decode()
    assert "statistics, which are not ready" in page
    assert re.search(r"<textarea[^>]*>\s*</textarea>", page)


def test_it_prefills_the_suggested_recipe_once_statistics_exist(
    owner_client: Client, banking: DataSource
) -> None:
    banking.statistics = {"attributes": []}
    banking.save()
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    page = owner_client.get(step_url("recipe", token)).content.decode()
    assert "NUMERIC_VARS_QB_" in page and "Reset to suggested recipe" in page


def test_it_keeps_a_bad_recipe_on_its_step_with_the_position(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    bad = '{"groups": {}, "assignments": {}, "outputs": ["ALL_CATEGORICAL", "ngram(age, 12)"]}'
    response = owner_client.post(step_url("recipe", token), {"recipe": bad})
    assert response.status_code == 400
    page = response.content.decode()
    assert "at character" in page and "outputs[1]" in page
    assert owner_client.get(step_url("advanced", token))["Location"] == step_url("recipe", token)


def test_the_recipe_step_says_comments_are_allowed_and_accepts_a_recipe_with_comments(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    commented = (
        '{"groups": {}, // no groups\n "assignments": {},\n'
        ' "outputs": ["ALL_INPUTS"] // every input as it is\n}'
    )

    page = owner_client.get(step_url("recipe", token)).content.decode()
    answer = owner_client.post(VALIDATE, {"draft": token, "recipe": commented}).json()
    response = owner_client.post(step_url("recipe", token), {"recipe": commented})

    assert "You may add comments" in page and "not allowed" not in page
    assert answer["ok"] is True
    assert response["Location"] == step_url("advanced", token)


def test_the_validate_endpoint_answers_ok_or_the_error_with_its_position(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    good = '{"groups": {}, "assignments": {}, "outputs": ["ALL_INPUTS"]}'
    answer = owner_client.post(VALIDATE, {"draft": token, "recipe": good}).json()
    assert answer == {"ok": True, "message": "", "position": None}
    answer = owner_client.post(
        VALIDATE, {"draft": token, "recipe": '{"outputs": ["quantile_bin(nope, 10)"]}'}
    ).json()
    assert answer["ok"] is False and "nope" in answer["message"]
    assert isinstance(answer["position"], int) and answer["section"] == "outputs"
    assert owner_client.post(VALIDATE, {"draft": token, "recipe": ""}).json()["ok"] is True
    assert owner_client.get(VALIDATE).status_code == 405


# --------------------------------------------------------------------------- advanced settings


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_passes": "0"}, "Maximum number of data passes must be from 1 to 100."),
        ({"max_passes": "101"}, "Maximum number of data passes must be from 1 to 100."),
        ({"max_size_mb": "0"}, "Maximum ML model size must be from 1 to 2048 MB."),
        ({"regularization_amount": "-1"}, "Regularization amount must be a number of 0 or more"),
        ({"regularization_amount": "lots"}, "Regularization amount must be a number of 0 or more"),
        ({"regularization_type": "l1", "regularization_amount": ""}, "Enter the L1 amount."),
    ],
)
def test_it_shows_errors_for_bad_advanced_values(
    owner_client: Client, banking: DataSource, changes: dict[str, str], message: str
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    go(owner_client, token, "recipe", {"recipe": ""}, "advanced")
    response = owner_client.post(step_url("advanced", token), {**ADVANCED_DEFAULTS, **changes})
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_advanced_step_shows_every_error_at_once_next_to_its_field(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    go(owner_client, token, "recipe", {"recipe": ""}, "advanced")
    bad = {"max_passes": "500", "max_size_mb": "0", "regularization_amount": "lots"}

    response = owner_client.post(
        step_url("advanced", token), {**ADVANCED_DEFAULTS, "regularization_type": "l2", **bad}
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"max_passes", "max_size_mb", "regularization_amount"}
    html = response.content.decode()
    for field, message in [
        ("max_passes", "Maximum number of data passes must be from 1 to 100."),
        ("max_size_mb", "Maximum ML model size must be from 1 to 2048 MB."),
        ("regularization_amount", "Regularization amount must be a number of 0 or more"),
    ]:
        # The message follows its own input, before the next field's label.
        assert re.search(
            rf'name="{field}"[^<]*>\s*<ul class="errorlist[^"]*"[^>]*>\s*<li>{re.escape(message)}',
            html,
        ), field


def test_it_never_sends_l1_and_l2_together(owner_client: Client, banking: DataSource) -> None:
    token = start(owner_client, banking)
    advanced = {**ADVANCED_DEFAULTS, "regularization_type": "none", "regularization_amount": "5"}
    walk_custom(owner_client, token, evaluation={"evaluation": "none"}, advanced=advanced)
    ml = create(owner_client, token)
    assert float(ml.training_parameters["sgd.l1RegularizationAmount"]) == 0.0
    assert float(ml.training_parameters["sgd.l2RegularizationAmount"]) == 0.0


def test_the_advanced_step_leaves_the_amount_to_the_trainer_by_default(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "custom"}, "recipe")
    go(owner_client, token, "recipe", {"recipe": ""}, "advanced")
    page = owner_client.get(step_url("advanced", token)).content.decode()
    checked = re.findall(r'<input[^>]*name="regularization_type"[^>]*checked[^>]*>', page)
    assert len(checked) == 1 and 'value="auto"' in checked[0]
    automatic = {**ADVANCED_DEFAULTS, "regularization_type": "auto", "regularization_amount": ""}
    go(owner_client, token, "advanced", automatic, "evaluation")
    go(owner_client, token, "evaluation", {"evaluation": "none"}, "review")
    review = owner_client.get(step_url("review", token)).content.decode()
    assert "Automatic (L2 chosen on held-out records)" in review
    ml = create(owner_client, token)
    assert ml.training_parameters["sgd.l2RegularizationAmount"] == "auto"
    assert float(ml.training_parameters["sgd.l1RegularizationAmount"]) == 0.0


# --------------------------------------------------------------------------- choosing the datasource


def test_a_datasource_without_a_target_cannot_be_chosen(
    owner_client: Client, owner: Any, shared_data: Path, banking_schema: dict[str, Any]
) -> None:
    no_target = {**banking_schema, "targetAttributeName": None}
    make_source(owner, shared_data, no_target, entity_id="ds-batch", name="for predictions")
    page = owner_client.get(CREATE).content.decode()
    assert re.search(r'value="ds-batch"[^>]*disabled', page)
    assert "It has no target attribute" in page
    response = owner_client.post(CREATE, {"source": "existing", "data_source": "ds-batch"})
    assert response.status_code == 400
    assert "It has no target attribute" in response.content.decode()
    assert SESSION_KEY not in owner_client.session


def test_a_datasource_with_only_its_target_cannot_be_chosen_or_used_by_the_service(
    owner_client: Client, owner: Any, shared_data: Path, banking_schema: dict[str, Any]
) -> None:
    from console.services.errors import InvalidInput
    from console.services.ml_models import create_ml_model

    only_y = {**banking_schema, "attributes": [{"attributeName": "y", "attributeType": "BINARY"}]}
    only_y |= {"excludedAttributeNames": [], "rowId": None}
    make_source(owner, shared_data, only_y, entity_id="ds-only-y", name="only the target")
    reason = (
        "The data has no input attributes besides the target &#x27;y&#x27;: an ML model needs "
        "at least one other attribute to learn from."
    )

    page = owner_client.get(CREATE).content.decode()
    with pytest.raises(InvalidInput) as refused:
        create_ml_model(owner, ml_model_type="BINARY", training_data_source_id="ds-only-y")

    assert re.search(r'value="ds-only-y"[^>]*disabled', page)
    assert reason in page
    assert refused.value.message == (
        "Datasource ds-only-y: the data has no input attributes besides the target 'y': "
        "an ML model needs at least one other attribute to learn from."
    )


def test_it_refuses_another_users_datasource(stranger_client: Client, banking: DataSource) -> None:
    response = stranger_client.post(CREATE, {"source": "existing", "data_source": "ds-banking"})
    assert response.status_code == 400
    assert "ds-banking" not in stranger_client.get(CREATE).content.decode()


def test_it_shows_a_create_error_on_the_review_page(
    owner_client: Client, banking: DataSource
) -> None:
    token = start(owner_client, banking)
    go(owner_client, token, "settings", {"mode": "default"}, "review")
    DataSource.objects.filter(pk=banking.pk).update(status=Status.FAILED)
    response = owner_client.post(step_url("review", token))
    assert response.status_code == 400
    assert "The ML model was not created." in response.content.decode()
    assert not MLModel.objects.exists()


# --------------------------------------------------------------------------- "Datasource and ML model"


def create_with_datasource_wizard(client: Client, data: Path, name: str) -> Any:
    """Walk the datasource wizard to its Create; the response of Create."""
    response = client.post(
        reverse("console:datasource-create"),
        {"source": "path", "server_path": str(data), "name": name},
    )
    token = response["Location"].split("/")[-3]
    schema = client.session["datasource_wizard_drafts"][token]["schema"]
    table = {"action": "save"} | {
        f"type-{i}": a["attributeType"] for i, a in enumerate(schema["attributes"])
    }
    client.post(reverse("console:datasource-wizard-schema", args=[token]), table)
    target = {"uses_target": "yes", "target": "y"}
    client.post(reverse("console:datasource-wizard-target", args=[token]), target)
    client.post(reverse("console:datasource-wizard-row-id", args=[token]), {"has_row_id": "no"})
    return client.post(reverse("console:datasource-wizard-review", args=[token]))


def test_datasource_and_ml_model_continues_from_the_datasource_wizards_create(
    owner_client: Client, shared_data: Path
) -> None:
    menu = owner_client.get(reverse("console:dashboard")).content.decode()
    start_url = reverse("console:mlmodel-create-datasource")
    assert f'href="{start_url}"' in menu and f'href="{CREATE}"' in menu
    response = owner_client.get(start_url)
    assert response["Location"] == reverse("console:datasource-create") + "?then=model"

    response = create_with_datasource_wizard(owner_client, shared_data / "banking.csv", "bank")
    new = DataSource.objects.get(name="bank")
    assert re.fullmatch(r"/models/new/[^/]+/settings/", response["Location"]), response["Location"]
    page = owner_client.get(response["Location"]).content.decode()
    assert 'value="ML model: bank"' in page and new.entity_id in page

    # Asked once, used once: the next datasource lands on its own page again.
    response = create_with_datasource_wizard(owner_client, shared_data / "banking.csv", "plain")
    plain = DataSource.objects.get(name="plain")
    assert response["Location"] == reverse("console:datasource-detail", args=[plain.entity_id])


# --------------------------------------------------------------------------- who may see what


def test_a_stranger_gets_404_on_every_step_of_the_owners_draft(
    owner: Any, banking: DataSource, stranger: Any
) -> None:
    owner_browser, stranger_browser = Client(), Client()
    owner_browser.force_login(owner)
    token = start(owner_browser, banking)
    walk_custom(owner_browser, token, evaluation={"evaluation": "none"})
    # The stranger carries the owner's session cookie's token in a session of their own.
    stranger_browser.force_login(stranger)
    session = stranger_browser.session
    session[SESSION_KEY] = owner_browser.session[SESSION_KEY]
    session.save()
    for step in STEPS:
        assert stranger_browser.get(step_url(step, token)).status_code == 404, step
        assert stranger_browser.post(step_url(step, token), {}).status_code == 404, step
    answer = stranger_browser.post(VALIDATE, {"draft": token, "recipe": ""})
    assert answer.status_code == 404
    assert not MLModel.objects.exists()


def test_an_unknown_draft_is_404(owner_client: Client) -> None:
    for step in STEPS:
        assert owner_client.get(step_url(step, "nope")).status_code == 404


def test_anonymous_users_are_sent_to_login(banking: DataSource) -> None:
    client = Client()
    for url in (
        CREATE,
        reverse("console:mlmodel-create-datasource"),
        VALIDATE,
        *(step_url(step, "abc") for step in STEPS),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url


def test_every_post_needs_the_csrf_token(owner: Any, banking: DataSource) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(CREATE, {"source": "existing", "data_source": "ds-banking"})
    assert response.status_code == 403
    page = client.get(CREATE)
    token = page.cookies["csrftoken"].value
    response = client.post(
        CREATE, {"source": "existing", "data_source": "ds-banking", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    draft = response["Location"].split("/")[-3]
    for step in STEPS:
        assert client.post(step_url(step, draft), {"mode": "default"}).status_code == 403, step
    assert client.post(VALIDATE, {"draft": draft, "recipe": ""}).status_code == 403
    answer = client.post(VALIDATE, {"draft": draft, "recipe": ""}, headers={"X-CSRFToken": token})
    assert answer.status_code == 200


def test_evaluate_on_another_datasource_offers_only_compatible_ones_and_says_why_not_the_others(
    owner_client: Client, owner: Any, shared_data: Path, banking: DataSource, banking_schema: Any
) -> None:
    make_source(owner, shared_data, banking_schema, entity_id="ds-same", name="same schema")
    other_target = {**banking_schema, "targetAttributeName": "housing"}
    make_source(owner, shared_data, other_target, entity_id="ds-housing", name="housing")
    fewer = {
        **banking_schema,
        "attributes": [a for a in banking_schema["attributes"] if a["attributeName"] != "age"],
    }
    make_source(owner, shared_data, fewer, entity_id="ds-no-age", name="no age")
    token = start(owner_client, banking)
    walk_custom(owner_client, token, evaluation={"evaluation": "none"})
    html = owner_client.get(step_url("evaluation", token)).content.decode()
    offered = re.findall(r'name="evaluation_data_source" value="([^"]+)"', html)
    assert offered == ["ds-same"]
    assert "ds-banking&quot;" not in html and 'value="ds-banking"' not in html
    assert "2 other datasources not offered" in html
    assert "Its target is &#x27;housing&#x27;; the ML model predicts &#x27;y&#x27;." in html
    assert "It lacks the ML model&#x27;s attribute &#x27;age&#x27;." in html


def test_a_posted_datasource_missing_the_models_attributes_is_refused_with_the_reason(
    owner_client: Client, owner: Any, shared_data: Path, banking: DataSource, banking_schema: Any
) -> None:
    fewer = {
        **banking_schema,
        "attributes": [a for a in banking_schema["attributes"] if a["attributeName"] != "age"],
    }
    make_source(owner, shared_data, fewer, entity_id="ds-no-age", name="no age")
    token = start(owner_client, banking)
    walk_custom(owner_client, token, evaluation={"evaluation": "none"})
    response = owner_client.post(
        step_url("evaluation", token),
        {"evaluation": "datasource", "evaluation_data_source": "ds-no-age"},
    )
    assert response.status_code == 400
    assert "cannot be used: It lacks the ML model&#x27;s attribute &#x27;age&#x27;." in (
        response.content.decode()
    )

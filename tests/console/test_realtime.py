"""Try real-time predictions (the form, a pasted record, the Predict JSON) and the real-time
endpoint's create/delete, on a banking model trained by the real jobs."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from prediction_factories import banking_model, run_all, wine_model

from console import tasks
from console.models import MLModel, Status
from console.services.errors import InvalidInput, PredictorNotMounted
from console.services.ml_models import delete_ml_model, update_ml_model
from console.services.realtime import (
    create_realtime_endpoint,
    delete_realtime_endpoint,
    endpoint_info,
    predict,
)
from mlcore.artifacts import load_model
from mlcore.predict.scoring import score_record

pytestmark = pytest.mark.django_db

# A banking.csv record (line 2), the target "no" last.
BANKING_LINE_2 = (
    "56,housemaid,married,basic.4y,no,no,no,telephone,may,mon,261,1,999,0,nonexistent,"
    "1.1,93.994,-36.4,4.857,5191,0"
)


@pytest.fixture
def model(owner: Any, shared_data: Path, enqueued: list[Any]) -> MLModel:
    ml = banking_model(owner, shared_data, records=3000)
    run_all(enqueued)
    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED, ml.message
    return ml


def engine_model(ml: MLModel) -> Any:
    with default_storage.open(ml.artifact_key, "rb") as stream:
        return load_model(stream)


def predict_url(ml: MLModel) -> str:
    return reverse("console:mlmodel-predict", args=[ml.entity_id])


def shown_json(page: str) -> dict[str, Any]:
    found = re.search(r'<pre class="predict-json" id="predict-json">(.*?)</pre>', page, re.S)
    assert found, "the page shows no Predict response"
    return dict(json.loads(html.unescape(found.group(1))))


def form_values(page: str) -> dict[str, str]:
    """The try-it form's inputs as the page fills them: {attribute name: value}."""
    values = {}
    for tag in re.findall(r"<input type=\"text\" id=\"f-a\d+\"[^>]*>", page):
        name = html.unescape(re.search(r'data-attribute="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
        values[name] = html.unescape(re.search(r'value="([^"]*)"', tag).group(1))  # type: ignore[union-attr]
    return values


def post_form(client: Client, ml: MLModel, record: dict[str, str]) -> Any:
    page = client.get(predict_url(ml)).content.decode()
    names = dict(re.findall(r'name="(a\d+)" value="[^"]*"[^>]*data-attribute="([^"]*)"', page))
    data = {field: record.get(html.unescape(name), "") for field, name in names.items()}
    return client.post(predict_url(ml), {"action": "predict", **data})


def test_the_try_it_form_lists_the_training_attributes_with_types_and_frequent_values(
    owner_client: Client, model: MLModel
) -> None:
    page = owner_client.get(predict_url(model)).content.decode()

    values = form_values(page)
    assert "y" not in values  # the target is not asked for
    assert list(values)[:3] == ["age", "job", "marital"]
    assert "CATEGORICAL" in page and "NUMERIC" in page
    assert '<option value="admin.">' in page  # the most frequent jobs are offered


def test_the_form_gives_the_predict_json_exactly_as_the_engine_scores_the_record(
    owner_client: Client, model: MLModel
) -> None:
    record = {"age": "41", "job": "admin.", "duration": "900", "poutcome": "success"}

    response = post_form(owner_client, model, record)

    assert response.status_code == 200
    expected = score_record(engine_model(model), record)
    assert shown_json(response.content.decode()) == {"Prediction": expected}
    assert set(expected) == {"predictedLabel", "predictedScores", "details"}
    assert expected["details"] == {"PredictiveModelType": "BINARY", "Algorithm": "SGD"}


def test_a_pasted_record_fills_the_form_and_predicts_like_the_engine(
    owner_client: Client, model: MLModel
) -> None:
    pasted = owner_client.post(predict_url(model), {"action": "paste", "record": BANKING_LINE_2})
    values = form_values(pasted.content.decode())
    assert (
        values["age"] == "56" and values["job"] == "housemaid" and values["nr_employed"] == "5191"
    )
    assert "y" not in values  # the target's value is ignored

    response = post_form(owner_client, model, values)

    record = {k: v for k, v in values.items() if v}
    assert shown_json(response.content.decode()) == {
        "Prediction": score_record(engine_model(model), record)
    }


def test_a_pasted_record_without_the_target_is_read_in_the_same_order(
    owner_client: Client, model: MLModel
) -> None:
    without_target = BANKING_LINE_2.rsplit(",", 1)[0]

    values = form_values(
        owner_client.post(
            predict_url(model), {"action": "paste", "record": without_target}
        ).content.decode()
    )

    assert values["age"] == "56" and values["nr_employed"] == "5191"


def test_a_pasted_line_with_the_wrong_number_of_values_says_so(
    owner_client: Client, model: MLModel
) -> None:
    response = owner_client.post(predict_url(model), {"action": "paste", "record": "1,2,3"})

    assert response.status_code == 400
    assert "The line has 3 values; the training data has 21 columns" in response.content.decode()


def test_the_prediction_uses_the_saved_score_threshold(
    owner: Any, owner_client: Client, model: MLModel
) -> None:
    record = {"age": "41", "job": "admin.", "duration": "300"}
    score = next(
        iter(predict(owner, model.entity_id, record)["Prediction"]["predictedScores"].values())
    )

    update_ml_model(owner, model.entity_id, score_threshold=max(0.0, score - 1e-6))
    assert predict(owner, model.entity_id, record)["Prediction"]["predictedLabel"] == "1"
    update_ml_model(owner, model.entity_id, score_threshold=min(1.0, score + 1e-6))
    assert predict(owner, model.entity_id, record)["Prediction"]["predictedLabel"] == "0"


def test_the_result_shows_score_bars_and_per_attribute_contributions(
    owner_client: Client, model: MLModel
) -> None:
    page = post_form(owner_client, model, {"age": "41", "duration": "2000"}).content.decode()

    assert page.count('class="score-bar') == 2
    assert 'id="contributions"' in page
    assert "<td>duration</td><td>2000</td>" in page


def test_nonsense_values_are_scored_as_missing_not_an_error(
    owner_client: Client, model: MLModel
) -> None:
    response = post_form(owner_client, model, {"age": "not a number", "job": "<script>"})

    assert response.status_code == 200
    assert "predictedLabel" in response.content.decode()
    assert "<script>" not in response.content.decode()


def test_a_model_that_is_not_completed_cannot_be_tried(
    owner: Any, owner_client: Client, shared_data: Path, enqueued: list[Any]
) -> None:
    pending = banking_model(owner, shared_data, records=500)

    response = owner_client.get(predict_url(pending))

    assert response.status_code == 409
    assert "only a completed ML model can predict" in response.content.decode()


def test_an_endpoint_goes_from_none_to_updating_to_ready_with_the_servers_url(
    owner: Any, model: MLModel, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.AML_PUBLIC_BASE_URL = "http://aml.example:8000"
    assert endpoint_info(model) == {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}

    sent: list[int] = []
    with django_capture_on_commit_callbacks() as callbacks:
        ml = create_realtime_endpoint(owner, model.entity_id)
    assert ml.endpoint_status == "UPDATING" and len(callbacks) == 1
    assert tasks.mount_realtime_endpoint(ml.pk) == "ready"
    sent.append(ml.pk)

    ml.refresh_from_db()
    info = endpoint_info(ml)
    assert info["EndpointStatus"] == "READY"
    assert info["EndpointUrl"] == "http://aml.example:8000"
    assert info["PeakRequestsPerSecond"] == 200
    assert isinstance(info["CreatedAt"], float)

    ml = delete_realtime_endpoint(owner, model.entity_id)
    assert endpoint_info(ml) == {"EndpointStatus": "NONE", "PeakRequestsPerSecond": 0}


def test_the_model_page_and_the_dashboard_show_the_endpoint(
    owner: Any, owner_client: Client, model: MLModel
) -> None:
    detail = reverse("console:mlmodel-detail", args=[model.entity_id])
    assert 'id="create-endpoint"' in owner_client.get(detail).content.decode()

    response = owner_client.post(
        reverse("console:mlmodel-endpoint", args=[model.entity_id]), {"action": "create"}
    )
    assert response.status_code == 302
    updating = owner_client.get(detail).content.decode()
    assert "Updating" in updating and 'hx-select="#predictions"' in updating  # polls until ready
    tasks.mount_realtime_endpoint(model.pk)

    page = owner_client.get(detail).content.decode()
    assert 'id="endpoint-url"' in page and 'id="delete-endpoint"' in page
    assert (
        "Real-time endpoint: Ready"
        in owner_client.get(reverse("console:dashboard")).content.decode()
    )

    owner_client.post(
        reverse("console:mlmodel-endpoint", args=[model.entity_id]), {"action": "delete"}
    )
    model.refresh_from_db()
    assert model.endpoint_status == "NONE"


def test_an_endpoint_needs_a_completed_model(
    owner: Any, shared_data: Path, enqueued: list[Any]
) -> None:
    pending = banking_model(owner, shared_data, records=500)

    with pytest.raises(InvalidInput, match="only a completed ML model"):
        create_realtime_endpoint(owner, pending.entity_id)


def test_predict_through_the_api_needs_a_ready_endpoint(owner: Any, model: MLModel) -> None:
    with pytest.raises(PredictorNotMounted):
        predict(owner, model.entity_id, {"age": "30"}, require_endpoint=True)


def test_a_stranger_gets_404_on_the_try_it_page_and_the_endpoint_buttons(
    stranger_client: Client, model: MLModel
) -> None:
    assert stranger_client.get(predict_url(model)).status_code == 404
    assert stranger_client.post(predict_url(model), {"action": "predict"}).status_code == 404
    assert (
        stranger_client.post(predict_url(model), {"action": "paste", "record": "1"}).status_code
        == 404
    )
    endpoint = reverse("console:mlmodel-endpoint", args=[model.entity_id])
    assert stranger_client.post(endpoint, {"action": "create"}).status_code == 404
    model.refresh_from_db()
    assert model.endpoint_status == "NONE"


def test_the_try_it_form_needs_a_csrf_token(owner: Any, model: MLModel) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.post(predict_url(model), {"action": "predict"}).status_code == 403


@pytest.mark.parametrize("model_type", ["REGRESSION", "MULTICLASS"])
def test_regression_and_multiclass_models_answer_like_the_engine(
    owner: Any, owner_client: Client, shared_data: Path, enqueued: list[Any], model_type: str
) -> None:
    ml = wine_model(owner, shared_data, model_type)
    run_all(enqueued)
    ml.refresh_from_db()
    assert ml.status == Status.COMPLETED, ml.message
    record = {"alcohol": "12.5", "volatile acidity": "0.3", "sulphates": "0.8"}

    page = post_form(owner_client, ml, record).content.decode()

    expected = score_record(engine_model(ml), record)
    assert shown_json(page) == {"Prediction": expected}
    if model_type == "REGRESSION":
        assert set(expected) == {"predictedValue", "details"}
        assert 'id="predicted-value"' in page and 'class="score-bar' not in page
    else:
        assert page.count('class="score-bar') == len(expected["predictedScores"])
        assert abs(sum(expected["predictedScores"].values()) - 1) < 1e-9
    assert "<td>alcohol</td><td>12.5</td>" in page


def test_a_model_with_an_endpoint_is_deleted_only_after_its_endpoint(
    owner: Any, owner_client: Client, model: MLModel
) -> None:
    create_realtime_endpoint(owner, model.entity_id)
    detail = reverse("console:mlmodel-detail", args=[model.entity_id])

    from_page = owner_client.post(reverse("console:mlmodel-delete", args=[model.entity_id]))
    from_dashboard = owner_client.post(
        reverse("console:objects-delete"), {"ids": [f"mlmodel:{model.entity_id}"]}, follow=True
    )

    assert from_page["Location"] == detail
    assert "delete the endpoint first" in from_dashboard.content.decode()
    with pytest.raises(InvalidInput, match="delete the endpoint first"):
        delete_ml_model(owner, model.entity_id)
    model.refresh_from_db()
    assert model.status == Status.COMPLETED

    delete_realtime_endpoint(owner, model.entity_id)
    assert delete_ml_model(owner, model.entity_id).status == Status.DELETED

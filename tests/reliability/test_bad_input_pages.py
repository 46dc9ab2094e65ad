"""Bad input through the other web forms: the evaluation and batch prediction wizards, rename and
tags on every object page, Save score threshold, the real-time try-it form and its pasted record,
the access keys page, the sign-in page, the object actions and the pages' query strings.

As in test_bad_input_forms.py: never a 500, a refusal says what it refuses, and a refused post
changes nothing. The objects are real: a small datasource, a model trained on it by the real job,
its evaluation and a batch prediction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bad_input import (
    COLUMNS,
    FEW,
    FUZZ,
    HOSTILE,
    HOSTILE_S3,
    SCHEMA,
    Browser,
    Tally,
    assert_refusal_names_the_field,
    form_of,
    postgres_like_text,
    quiet_s3,
    shown,
)
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from prediction_factories import run_all

from console import dependencies
from console.api.keys import create_access_key
from console.models import AccessKey, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.batch_predictions import create_batch_prediction
from console.services.datasources import create_data_source_from_s3
from console.services.evaluations import create_evaluation
from console.services.ml_models import create_ml_model

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]


class World:
    """One user's objects, each COMPLETED: ds, ml (BINARY), ev, bp."""

    ds: DataSource
    ml: MLModel
    ev: Evaluation
    bp: BatchPrediction

    def objects(self) -> list[Any]:
        return [self.ds, self.ml, self.ev, self.bp]


@pytest.fixture(autouse=True)
def _guards(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    quiet_s3(settings, monkeypatch)
    with postgres_like_text():
        yield


@pytest.fixture
def world(owner: Any, settings: Any, monkeypatch: pytest.MonkeyPatch) -> World:
    sent: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", sent.append)
    path = Path(settings.AML_DATA_ROOTS[0]) / "customers.csv"
    rows = [",".join(COLUMNS)]
    rows += [f"c{i},{20 + i % 50},{'abc'[i % 3]},{i * 0.37:.2f},{i % 2}" for i in range(120)]
    path.write_text("\n".join(rows) + "\n")
    made = World()
    made.ds = create_data_source_from_s3(
        owner,
        data_spec={"DataLocationS3": str(path), "DataSchema": json.dumps(SCHEMA)},
        data_source_name="customers",
    )
    made.ml = create_ml_model(
        owner,
        ml_model_type="BINARY",
        training_data_source_id=made.ds.entity_id,
        ml_model_name="churn model",
        parameters={"sgd.l2RegularizationAmount": "1e-6", "sgd.maxPasses": "2"},
    )
    run_all(sent)
    made.ev = create_evaluation(
        owner, ml_model_id=made.ml.entity_id, evaluation_data_source_id=made.ds.entity_id
    )
    made.bp = create_batch_prediction(
        owner, ml_model_id=made.ml.entity_id, batch_prediction_data_source_id=made.ds.entity_id
    )
    run_all(sent)
    for obj in made.objects():
        obj.refresh_from_db()
        assert obj.status == Status.COMPLETED, (obj, obj.message)
    monkeypatch.setattr(dependencies, "enqueue", lambda obj: None)  # nothing else runs
    return made


@pytest.fixture
def browser(owner_client: Client) -> Browser:
    return Browser(owner_client, reverse("console:dashboard"))


def one_of_fields(fields: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[tuple[str, str]]:
    return st.one_of([st.tuples(st.just(name), values) for name, values in fields.items()])


def assert_no_nul_stored(world: World) -> None:
    for obj in world.objects():
        obj.refresh_from_db()
        assert "\x00" not in obj.name and "\x00" not in json.dumps(obj.tags or {}), obj


# --------------------------------------------------------------------------- the two model-first wizards


def _draft_token(response: Any) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].rstrip("/").split("/")[-2]


def test_the_evaluation_wizard(browser: Browser, world: World) -> None:
    tally = Tally("Evaluation wizard: model, datasource and name steps")
    start = reverse("console:evaluation-create")
    token = _draft_token(browser.post(start, {"ml_model": world.ml.entity_id}))

    def step(name: str) -> str:
        return reverse("console:evaluation-wizard", args=[token, name])

    steps = {
        "model": (start, {"ml_model": world.ml.entity_id}, ["ml_model", "data_source"]),
        "datasource": (step("datasource"), {"data_source": world.ds.entity_id}, ["data_source"]),
        "name": (step("name"), {"name": "e"}, ["name"]),
    }

    @FUZZ
    @given(which=st.sampled_from(list(steps)), data=st.data())
    def check(which: str, data: st.DataObject) -> None:
        url, baseline, fields = steps[which]
        field, value = data.draw(st.sampled_from(fields)), data.draw(HOSTILE)
        count = Evaluation.objects.count()
        response = browser.post(url, {**baseline, field: value})
        if not tally.saw(response, (which, field, value)):
            return
        # someone else's (or no such) model or datasource is a 404, as on its own page
        assert response.status_code in (302, 400, 404), response.status_code
        if response.status_code == 400:
            form = form_of(response, "form")
            assert_refusal_names_the_field(response, form, fields, words=["model", "datasource"])
        assert Evaluation.objects.count() == count

    assert tally.run(check) == []


def test_the_batch_prediction_wizard(browser: Browser, world: World) -> None:
    tally = Tally("Batch prediction wizard: model, data and results steps")
    start = reverse("console:batchprediction-create")
    token = _draft_token(browser.post(start, {"ml_model": world.ml.entity_id}))

    def step(name: str) -> str:
        return reverse("console:batchprediction-wizard", args=[token, name])

    assert browser.post(step("data"), {"data_source": world.ds.entity_id}).status_code == 302
    results = {"destination": "storage", "name": "b"}
    steps: dict[str, tuple[str, dict[str, str], dict[str, st.SearchStrategy[str]]]] = {
        "model": (
            start,
            {"ml_model": world.ml.entity_id},
            {"ml_model": HOSTILE, "data_source": HOSTILE},
        ),
        "data": (step("data"), {"data_source": world.ds.entity_id}, {"data_source": HOSTILE}),
        "results": (
            step("results"),
            results,
            {
                "destination": HOSTILE,
                "output_uri": HOSTILE_S3,
                "name": HOSTILE,
                "pass_through": HOSTILE,
                "explain": HOSTILE,
            },
        ),
    }

    @FUZZ
    @given(which=st.sampled_from(list(steps)), data=st.data())
    def check(which: str, data: st.DataObject) -> None:
        url, baseline, fields = steps[which]
        field, value = data.draw(one_of_fields(fields))
        posted = {**baseline, field: value}
        if field == "output_uri":
            posted["destination"] = "s3"
        count = BatchPrediction.objects.count()
        response = browser.post(url, posted)
        if not tally.saw(response, (which, field, value)):
            return
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            form = form_of(response, "form")
            assert_refusal_names_the_field(
                response, form, list(fields), words=["model", "datasource"]
            )
        assert BatchPrediction.objects.count() == count

    assert tally.run(check) == []


# --------------------------------------------------------------------------- object pages


PAGES = {
    "datasource": lambda w: w.ds,
    "mlmodel": lambda w: w.ml,
    "evaluation": lambda w: w.ev,
    "batchprediction": lambda w: w.bp,
}


def test_rename_on_every_object_page(browser: Browser, world: World) -> None:
    tally = Tally("Rename (the four object pages)")

    @FUZZ
    @given(kind=st.sampled_from(list(PAGES)), name=HOSTILE)
    def check(kind: str, name: str) -> None:
        obj = PAGES[kind](world)
        obj.refresh_from_db()
        before = obj.name
        response = browser.post(
            reverse(f"console:{kind}-rename", args=[obj.entity_id]), {"name": name}
        )
        if not tally.saw(response, (kind, name)):
            return
        assert response.status_code == 302
        obj.refresh_from_db()
        errors = [m for m in browser.messages(response) if "name" in m.lower()]
        if obj.name != before:
            assert obj.name == name.strip(), (obj.name, name)
        elif name.strip() != before:
            assert errors, f"the name {name!r} was neither kept nor refused with a message"
        assert_no_nul_stored(world)

    assert tally.run(check) == []


def test_tags_on_every_object_page(browser: Browser, world: World) -> None:
    tally = Tally("Tags (the four object pages)")

    @FUZZ
    @given(
        kind=st.sampled_from(list(PAGES)),
        key=HOSTILE,
        value=HOSTILE,
        action=st.one_of(st.sampled_from(["add", "remove"]), HOSTILE),
    )
    def check(kind: str, key: str, value: str, action: str) -> None:
        obj = PAGES[kind](world)
        obj.refresh_from_db()
        before = dict(obj.tags or {})
        url = reverse(f"console:{kind}-tags", args=[obj.entity_id])
        response = browser.post(url, {"key": key, "value": value, "action": action})
        if not tally.saw(response, (kind, key, value, action)):
            return
        assert response.status_code in (302, 400), response.status_code
        obj.refresh_from_db()
        if response.status_code == 400:
            error = response.context["tags_error"]
            assert "tag" in error.lower() and shown(error, response.content.decode()), error
            assert obj.tags == before
        assert_no_nul_stored(world)

    assert tally.run(check) == []


def test_save_score_threshold(browser: Browser, world: World) -> None:
    tally = Tally("Save score threshold")
    url = reverse("console:evaluation-score-threshold", args=[world.ev.entity_id])

    @FUZZ
    @given(threshold=HOSTILE, action=st.one_of(st.just("save"), HOSTILE))
    def check(threshold: str, action: str) -> None:
        world.ml.refresh_from_db()
        before = world.ml.score_threshold
        response = browser.post(url, {"threshold": threshold, "action": action})
        if not tally.saw(response, (threshold, action)):
            return
        assert response.status_code == 302
        said = browser.messages(response)
        assert any("threshold" in m.lower() for m in said), said  # saved, or why not
        world.ml.refresh_from_db()
        saved = world.ml.score_threshold
        if saved == before:
            return
        assert 0.0 <= saved <= 1.0, saved
        assert not [m for m in said if "not saved" in m], said

    assert tally.run(check) == []

    refused = browser.post(url, {"threshold": "1e999"})
    assert any("threshold" in m for m in browser.messages(refused))


def test_the_try_it_form_and_a_pasted_record(browser: Browser, world: World) -> None:
    tally = Tally("Real-time predictions: try-it form and pasted record")
    url = reverse("console:mlmodel-predict", args=[world.ml.entity_id])

    @FUZZ
    @given(
        paste=st.booleans(),
        values=st.lists(HOSTILE, min_size=4, max_size=4),
        record=st.one_of(
            HOSTILE,
            st.lists(HOSTILE.filter(lambda v: len(v) < 500), min_size=3, max_size=6).map(",".join),
            st.sampled_from(['"unclosed,1,2,3', "a,b\nc,d", "\r\n", ",,,", '"a""b",1,x,2']),
        ),
    )
    def check(paste: bool, values: list[str], record: str) -> None:
        if paste:
            posted = {"action": "paste", "record": record}
        else:
            posted = {f"a{i}": value for i, value in enumerate(values)}
        response = browser.post(url, posted)
        if not tally.saw(response, posted):
            return
        assert response.status_code in (200, 400), response.status_code
        if response.status_code == 400:
            page = response.content.decode()
            error = response.context.get("paste_error") or response.context.get("error")
            assert error and shown(error, page), error

    assert tally.run(check) == []


def test_the_access_keys_page(browser: Browser, owner: Any, world: World) -> None:
    tally = Tally("Access keys: create (description) and revoke")
    create_access_key(owner, "kept")

    @FUZZ
    @given(description=HOSTILE, revoke=HOSTILE)
    def check(description: str, revoke: str) -> None:
        count = AccessKey.objects.count()
        response = browser.post(reverse("console:access-key-create"), {"description": description})
        if tally.saw(response, description):
            assert response.status_code in (200, 400), response.status_code
            if response.status_code == 400:
                error = response.context["description_error"]
                assert "description" in error.lower(), error
                assert shown(error, response.content.decode())
                assert AccessKey.objects.count() == count
            else:
                assert AccessKey.objects.count() == count + 1
                assert "\x00" not in AccessKey.objects.latest("pk").description
        if not revoke or "/" in revoke or revoke in (".", ".."):
            return  # no such address
        active = AccessKey.objects.filter(revoked_at__isnull=True).count()
        response = browser.post(reverse("console:access-key-revoke", args=[revoke]))
        if tally.saw(response, ("revoke", revoke)):
            assert response.status_code == 404, response.status_code
            assert AccessKey.objects.filter(revoked_at__isnull=True).count() == active

    assert tally.run(check) == []


def test_the_sign_in_page(owner: Any) -> None:
    tally = Tally("Sign-in page")
    visitor = Client(enforce_csrf_checks=True)
    visitor.raise_request_exception = False
    login = reverse("login")
    visitor.get(login)
    token = visitor.cookies["csrftoken"].value

    @FEW
    @given(username=st.one_of(st.just("alice"), HOSTILE), password=HOSTILE)
    def check(username: str, password: str) -> None:
        posted = {"username": username, "password": password, "csrfmiddlewaretoken": token}
        response = visitor.post(login, posted)
        if not tally.saw(response, (username, password)):
            return
        # a refusal (200 with the form again), or the lockout after repeated failures
        assert response.status_code in (200, 403, 429), response.status_code
        assert "_auth_user_id" not in visitor.session

    assert tally.run(check) == []


def test_object_actions_with_ids_that_are_not_there(browser: Browser, world: World) -> None:
    tally = Tally("Object actions (delete, stop, endpoint, dashboard) with bad ids and actions")
    ids = HOSTILE.filter(lambda v: v and "/" not in v and v not in (".", ".."))

    @FUZZ
    @given(
        kind=st.sampled_from(list(PAGES)),
        action=st.sampled_from(["delete", "stop", "dashboard", "facts", "endpoint"]),
        entity_id=ids,
    )
    def check(kind: str, action: str, entity_id: str) -> None:
        if action == "dashboard":
            url = reverse("console:objects-delete")
            response = browser.post(
                url, {"ids": [entity_id, f"{kind}:{entity_id}"], "next": entity_id}
            )
        elif action == "facts":
            response = browser.get(reverse("console:dashboard-facts", args=[entity_id, entity_id]))
        elif action == "endpoint":  # the model's own id, any action: create, delete or nothing
            url = reverse("console:mlmodel-endpoint", args=[world.ml.entity_id])
            response = browser.post(url, {"action": entity_id})
        else:
            response = browser.post(reverse(f"console:{kind}-{action}", args=[entity_id]))
        if not tally.saw(response, (kind, action, entity_id)):
            return
        assert response.status_code in (302, 404), response.status_code
        for obj in world.objects():
            obj.refresh_from_db()
            assert obj.status == Status.COMPLETED, obj

    assert tally.run(check) == []


QUERY_PARAMETERS = [
    "threshold",
    "q",
    "type",
    "status",
    "sort",
    "page",
    "per_page",
    "attr_q",
    "attribute",
    "ids",
    "output",
    "model",
    "datasource",
    "location",
    "name",
    "copy_from",
    "bins",
    "shown",
]


def test_the_pages_query_strings(browser: Browser, world: World) -> None:
    tally = Tally("Query strings of the pages (filters, threshold, compare, prefill)")
    pages = [
        reverse("console:dashboard"),
        reverse("console:dashboard-rows"),
        reverse("console:datasource-detail", args=[world.ds.entity_id]),
        reverse("console:datasource-sample-rows", args=[world.ds.entity_id]),
        reverse("console:mlmodel-detail", args=[world.ml.entity_id]),
        reverse("console:evaluation-detail", args=[world.ev.entity_id]),
        reverse("console:batchprediction-detail", args=[world.bp.entity_id]),
        reverse("console:evaluation-compare"),
        reverse("console:datasource-create"),
        reverse("console:mlmodel-create"),
        reverse("console:evaluation-create"),
        reverse("console:batchprediction-create"),
    ]

    @FUZZ
    @given(
        page=st.sampled_from(pages),
        query=st.dictionaries(st.sampled_from(QUERY_PARAMETERS), HOSTILE, min_size=1, max_size=3),
    )
    def check(page: str, query: dict[str, str]) -> None:
        response = browser.get(page, query)
        if tally.saw(response, (page, query)):
            assert response.status_code in (200, 302, 400, 404), response.status_code

    assert tally.run(check) == []

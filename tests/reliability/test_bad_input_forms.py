"""Bad input through the wizards' web forms: every field, upload and JSON document of the
datasource and ML model wizards (incl. the recipe editor's live check), fed generated hostile
values (Hypothesis) by a logged-in browser that passes the CSRF check.

Whatever is posted, the answer is never a 500; a refusal shows its message with the field it is
about; and a refused step changes nothing (the draft keeps its schema, no object is created).
The database refuses NUL characters in text as PostgreSQL does (`postgres_like_text`), so a
value that would crash the production database crashes here too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from bad_input import (
    COLUMNS,
    DEEP,
    DEEP_JSON,
    FEW,
    FUZZ,
    HOSTILE,
    HOSTILE_PATHS,
    HOSTILE_S3,
    SCHEMA,
    WRONG_JSON,
    Browser,
    Tally,
    assert_refusal_names_the_field,
    form_of,
    hostile_bytes,
    nested,
    postgres_like_text,
    quiet_s3,
)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from console import dependencies, model_drafts, wizard_drafts
from console.models import DataSource, MLModel
from console.services.datasources import create_data_source_from_s3

pytestmark = [pytest.mark.django_db, pytest.mark.reliability]

CREATE = reverse("console:datasource-create")
VERIFY = reverse("console:datasource-verify")
UPLOAD = reverse("console:datasource-upload")
MODEL_CREATE = reverse("console:mlmodel-create")
RECIPE_CHECK = reverse("console:mlmodel-recipe-validate")


@pytest.fixture(autouse=True)
def _guards(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(dependencies, "enqueue", lambda obj: None)  # no job runs
    quiet_s3(settings, monkeypatch)
    with postgres_like_text():
        yield


@pytest.fixture
def customers(settings: Any) -> Path:
    path = Path(settings.AML_DATA_ROOTS[0]) / "customers.csv"
    rows = [",".join(COLUMNS)]
    rows += [f"c{i},{20 + i % 50},{'abc'[i % 3]},{i * 0.37:.2f},{i % 2}" for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.fixture
def browser(owner_client: Any) -> Browser:
    return Browser(owner_client, CREATE)


def wizard_url(step: str, token: str) -> str:
    return reverse(f"console:datasource-wizard-{step}", kwargs={"draft": token})


def start_draft(browser: Browser, path: Path) -> str:
    response = browser.post(CREATE, {"source": "path", "server_path": str(path)})
    assert response.status_code == 302, response.content.decode()[:2000]
    match = re.search(r"/datasources/new/([^/]+)/schema/$", response["Location"])
    assert match
    return match.group(1)


def draft_of(browser: Browser, token: str) -> dict[str, Any]:
    return browser.client.session[wizard_drafts.SESSION_KEY][token]


def one_of_fields(fields: dict[str, st.SearchStrategy[str]]) -> st.SearchStrategy[tuple[str, str]]:
    """(field name, hostile value) for one of the fields."""
    return st.one_of([st.tuples(st.just(name), values) for name, values in fields.items()])


# --------------------------------------------------------------------------- datasource: input


INPUT_FIELDS = {
    "source": HOSTILE,
    "server_path": HOSTILE_PATHS,
    "s3_location": HOSTILE_S3,
    "upload_location": st.one_of(HOSTILE, HOSTILE_PATHS.map(lambda p: "upload://" + p)),
    "upload_filename": HOSTILE_PATHS,
    "name": HOSTILE,
    "copy_from": HOSTILE,
    "sql_connection": HOSTILE,
    "sql_query": HOSTILE,
    "sql_staging": HOSTILE_S3,
}
SOURCE_OF = {
    "server_path": "path",
    "s3_location": "s3",
    "upload_location": "upload",
    "upload_filename": "upload",
    "sql_connection": "sql",
    "sql_query": "sql",
    "sql_staging": "sql",
}

SQL_FIELDS = ("sql_connection", "sql_query", "sql_staging")
UPLOAD_FIELDS = ("upload_location", "upload_filename")
# The field whose box shows the refusal of a value posted in another one.
RELATED = {
    **{name: SQL_FIELDS for name in SQL_FIELDS},
    **{name: UPLOAD_FIELDS for name in UPLOAD_FIELDS},
}


def test_the_input_step_and_verify(browser: Browser, customers: Path, settings: Any) -> None:
    tally = Tally("Datasource wizard: input step and Verify")
    roots = [Path(r).resolve() for r in settings.AML_DATA_ROOTS]

    @FUZZ
    @given(case=one_of_fields(INPUT_FIELDS))
    def check(case: tuple[str, str]) -> None:
        field, value = case
        posted = {"source": SOURCE_OF.get(field, "path"), "server_path": str(customers)}
        posted[field] = value
        for url in (CREATE, VERIFY):
            response = browser.post(url, posted)
            if not tally.saw(response, (url, field, value)):
                continue
            if url == VERIFY:
                assert response.status_code == 200
                continue
            assert response.status_code in (302, 400), response.status_code
            if response.status_code == 400:
                form = form_of(response, "form")
                related = RELATED.get(field, (field,))
                assert_refusal_names_the_field(response, form, related)
                assert set(form.errors) & set(related), form.errors
            else:
                token = response["Location"].split("/")[-3]
                location = Path(draft_of(browser, token)["location"]).resolve()
                assert any(location.is_relative_to(root) for root in roots), location
        assert not DataSource.objects.exists()

    assert tally.run(check) == []


FILENAMES = st.one_of(
    st.sampled_from(
        [
            "../../../etc/passwd",
            "..",
            "/abs/path.csv",
            "a\\..\\..\\b.csv",
            "x" * 1000 + ".csv",
            "con.csv",
            "\u202egpj.csv",
            "spaces and ; semicolons.csv",
            ".hidden",
            "data.csv",
            'quote".csv',
            "line\r\nbreak.csv",
            "nul\x00.csv",
            "",
        ]
    ),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=1),
)


def test_uploads_and_the_input_step_that_reads_them(
    browser: Browser, owner: Any, settings: Any
) -> None:
    tally = Tally("Datasource wizard: upload (file content and name)")
    media = Path(settings.MEDIA_ROOT).resolve()

    @FUZZ
    @given(content=hostile_bytes(), filename=FILENAMES)
    def check(content: bytes, filename: str) -> None:
        response = browser.post_file(UPLOAD, "file", filename, content)
        if not tally.saw(response, (filename, content)):
            return
        body = response.json()
        if response.status_code != 200:
            assert response.status_code == 400 and "file" in body["error"].lower(), body
            return
        key = body["location"].removeprefix("upload://")
        assert key.startswith(f"uploads/{owner.pk}/"), key
        assert (media / key).resolve().is_relative_to(media), key
        posted = {
            "source": "upload",
            "upload_location": body["location"],
            "upload_filename": body["filename"],
        }
        response = browser.post(CREATE, posted)
        if not tally.saw(response, ("input step", filename, content)):
            return
        assert response.status_code in (302, 400)
        if response.status_code == 400:
            form = form_of(response, "form")
            assert_refusal_names_the_field(response, form, ["upload_location", "upload_filename"])

    assert tally.run(check) == []


# --------------------------------------------------------------------------- datasource: schema


def _hostile_schema_text() -> st.SearchStrategy[str]:
    wrong_attributes = WRONG_JSON.map(lambda v: json.dumps({"attributes": v}))
    return st.one_of(
        st.sampled_from(DEEP_JSON),
        HOSTILE,
        WRONG_JSON.map(json.dumps),
        wrong_attributes,
        st.builds(
            lambda attrs: json.dumps({**SCHEMA, "attributes": attrs}),
            st.lists(
                st.fixed_dictionaries({"attributeName": HOSTILE, "attributeType": HOSTILE}),
                max_size=6,
            ),
        ),
    )


def test_a_replaced_schema_pasted_or_uploaded(browser: Browser, customers: Path) -> None:
    tally = Tally("Datasource wizard: replace the schema (pasted, uploaded file)")
    token = start_draft(browser, customers)

    @FUZZ
    @given(
        how=st.sampled_from(["paste", "file"]),
        text=_hostile_schema_text(),
        raw=hostile_bytes(),
        use_raw=st.booleans(),
    )
    @example(how="paste", text=nested(DEEP), raw=b"", use_raw=False)
    @example(how="file", text=nested(DEEP, kind="object"), raw=b"", use_raw=False)
    @example(
        how="file", text="", raw=b'{"attributes": ' + nested(DEEP).encode() + b"}", use_raw=True
    )
    def check(how: str, text: str, raw: bytes, use_raw: bool) -> None:
        before = draft_of(browser, token)["schema"]
        posted: dict[str, Any] = {"action": "replace"}
        if how == "paste":
            posted["schema_text"] = text
        else:
            content = raw if use_raw else text.encode()
            posted["schema_file"] = SimpleUploadedFile("bad.schema", content)
        response = browser.post(wizard_url("schema", token), posted)
        if not tally.saw(response, posted):
            return
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            form = form_of(response, "replace_form")
            assert_refusal_names_the_field(
                response, form, ["schema_file", "schema_text"], words=["schema"]
            )
            assert draft_of(browser, token)["schema"] == before

    assert tally.run(check) == []


def test_the_schema_table_and_its_packed_field(browser: Browser, customers: Path) -> None:
    tally = Tally("Datasource wizard: schema table (types, exclusions, packed field)")
    token = start_draft(browser, customers)
    valid = {f"type-{i}": a["attributeType"] for i, a in enumerate(SCHEMA["attributes"])}
    fields = {
        **{f"type-{i}": HOSTILE for i in range(len(COLUMNS))},
        **{f"exclude-{i}": HOSTILE for i in range(len(COLUMNS))},
        "packed": st.one_of(
            st.sampled_from(DEEP_JSON),
            HOSTILE,
            WRONG_JSON.map(json.dumps),
            WRONG_JSON.map(lambda v: json.dumps({"types": v, "excluded": v})),
            WRONG_JSON.map(lambda v: json.dumps({"types": ["NUMERIC"] * 5, "excluded": v})),
            st.just('{"types": ["TEXT"], "excluded": [1e400]}'),
            st.just('{"types": ["TEXT"], "excluded": [' + "9" * 5000 + "]}"),
        ),
    }

    @FUZZ
    @given(case=one_of_fields(fields))
    @example(case=("packed", nested(DEEP)))
    @example(case=("packed", '{"types": ' + nested(DEEP) + "}"))
    def check(case: tuple[str, str]) -> None:
        field, value = case
        before = draft_of(browser, token)["schema"]
        response = browser.post(
            wizard_url("schema", token), {"action": "save", **valid, field: value}
        )
        if not tally.saw(response, case):
            return
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            form = form_of(response, "table_form")
            type_fields = [f"type-{i}" for i in range(len(COLUMNS))]
            assert_refusal_names_the_field(
                response, form, [field, *type_fields], words=["attribute", "exclude"]
            )
            assert draft_of(browser, token)["schema"] == before

    assert tally.run(check) == []


def test_the_header_question(browser: Browser, customers: Path) -> None:
    tally = Tally("Datasource wizard: header question")
    token = start_draft(browser, customers)

    @FEW
    @given(value=HOSTILE)
    def check(value: str) -> None:
        before = draft_of(browser, token)["schema"]
        response = browser.post(
            wizard_url("schema", token), {"action": "header", "has_header": value}
        )
        if not tally.saw(response, value):
            return
        if value in ("yes", "no"):
            return
        assert response.status_code == 400
        form = form_of(response, "header_form")
        assert_refusal_names_the_field(response, form, ["has_header"])
        assert draft_of(browser, token)["schema"] == before

    assert tally.run(check) == []


def test_the_target_and_row_id_steps(browser: Browser, customers: Path) -> None:
    tally = Tally("Datasource wizard: target and row id steps")
    token = start_draft(browser, customers)
    valid = {f"type-{i}": a["attributeType"] for i, a in enumerate(SCHEMA["attributes"])}
    response = browser.post(wizard_url("schema", token), {"action": "save", **valid})
    assert response.status_code == 302
    response = browser.post(wizard_url("target", token), {"uses_target": "yes", "target": "churn"})
    assert response.status_code == 302
    steps = {
        "target": {"uses_target": HOSTILE, "target": HOSTILE},
        "row-id": {"has_row_id": HOSTILE, "row_id": HOSTILE},
    }
    baseline = {
        "target": {"uses_target": "yes", "target": "churn"},
        "row-id": {"has_row_id": "yes"},
    }

    @FUZZ
    @given(
        step=st.sampled_from(list(steps)),
        data=st.data(),
    )
    def check(step: str, data: st.DataObject) -> None:
        field, value = data.draw(one_of_fields(steps[step]))
        before = draft_of(browser, token)["schema"]
        posted = {**baseline[step], field: value}
        response = browser.post(wizard_url(step, token), posted)
        if not tally.saw(response, (step, field, value)):
            return
        assert response.status_code in (302, 400), response.status_code
        if response.status_code == 400:
            form = form_of(response, "form")
            assert_refusal_names_the_field(
                response, form, list(steps[step]), words=["target", "identif"]
            )
            assert draft_of(browser, token)["schema"] == before

    assert tally.run(check) == []


# --------------------------------------------------------------------------- the ML model wizard


@pytest.fixture
def training(owner: Any, customers: Path) -> DataSource:
    ds = create_data_source_from_s3(
        owner,
        data_spec={"DataLocationS3": str(customers), "DataSchema": json.dumps(SCHEMA)},
        data_source_name="customers",
    )
    ds.status = "COMPLETED"
    ds.save()
    return ds


def model_url(step: str, token: str) -> str:
    return reverse(f"console:mlmodel-wizard-{step}", kwargs={"draft": token})


def start_model_draft(browser: Browser, ds: DataSource) -> str:
    response = browser.post(MODEL_CREATE, {"source": "existing", "data_source": ds.entity_id})
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"].split("/")[-3]


def model_draft_of(browser: Browser, token: str) -> dict[str, Any]:
    return browser.client.session[model_drafts.SESSION_KEY][token]


def _model_step_check(
    tally: Tally,
    browser: Browser,
    url: str,
    baseline: dict[str, str],
    field: str,
    value: str,
    *,
    token: str | None,
    words: list[str],
) -> None:
    before = model_draft_of(browser, token) if token else None
    response = browser.post(url, {**baseline, field: value})
    if not tally.saw(response, (url, field, value)):
        return
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        form = form_of(response, "form")
        assert_refusal_names_the_field(response, form, [field, *baseline], words=words)
        if token:
            assert model_draft_of(browser, token) == before
    assert not MLModel.objects.exists()


RECIPES = st.one_of(
    st.sampled_from(DEEP_JSON),
    HOSTILE,
    WRONG_JSON.map(json.dumps),
    st.builds(
        lambda groups, outputs: json.dumps({"groups": groups, "outputs": outputs}),
        WRONG_JSON,
        WRONG_JSON,
    ),
    st.builds(
        lambda expression: json.dumps({"outputs": [expression]}),
        st.one_of(
            HOSTILE,
            st.sampled_from(
                [
                    "ngram(plan, 99999999999999999999)",
                    "quantile_bin(age, -1)",
                    "cartesian(" * 500 + "age" + ")" * 500,
                    "lowercase(" * 2000 + "plan" + ")" * 2000,
                    "ALL_INPUTS",
                ]
            ),
        ),
    ),
)


def test_the_model_wizard_steps(browser: Browser, training: DataSource) -> None:
    tally = Tally("ML model wizard: input, settings, advanced, evaluation steps")
    token = start_model_draft(browser, training)
    browser.post(model_url("settings", token), {"mode": "custom", "ml_model_name": "m"})
    browser.post(model_url("recipe", token), {"recipe": ""})
    steps = {
        "input": (
            MODEL_CREATE,
            {"source": "existing", "data_source": training.entity_id},
            ["source", "data_source"],
        ),
        "settings": (
            model_url("settings", token),
            {"mode": "custom", "ml_model_name": "m", "evaluation_name": "e"},
            ["ml_model_name", "mode", "evaluation_name"],
        ),
        "advanced": (
            model_url("advanced", token),
            {
                "max_size_mb": "100",
                "max_passes": "10",
                "shuffle_type": "auto",
                "regularization_type": "l2",
                "regularization_amount": "1e-6",
            },
            [
                "max_size_mb",
                "max_passes",
                "shuffle_type",
                "regularization_type",
                "regularization_amount",
            ],
        ),
        "evaluation": (
            model_url("evaluation", token),
            {"evaluation": "random", "train_percent": "70", "random_seed": "s"},
            ["evaluation", "train_percent", "random_seed", "evaluation_data_source"],
        ),
    }

    @FUZZ
    @given(step=st.sampled_from(list(steps)), data=st.data())
    def check(step: str, data: st.DataObject) -> None:
        url, baseline, fields = steps[step]
        field = data.draw(st.sampled_from(fields))
        value = data.draw(HOSTILE)
        if step == "input":
            _model_step_check(
                tally, browser, url, baseline, field, value, token=None, words=["datasource"]
            )
            return
        _model_step_check(
            tally, browser, url, baseline, field, value, token=token, words=[field, "setting"]
        )
        if step == "settings":  # keep the custom path open for the next examples
            browser.post(url, baseline)

    assert tally.run(check) == []


def test_the_recipe_step_and_its_live_check(browser: Browser, training: DataSource) -> None:
    tally = Tally("ML model wizard: recipe step and the editor's live check")
    token = start_model_draft(browser, training)
    browser.post(model_url("settings", token), {"mode": "custom", "ml_model_name": "m"})

    @FUZZ
    @given(recipe=RECIPES, draft=st.one_of(st.just(token), HOSTILE))
    @example(recipe=nested(DEEP), draft=token)
    @example(recipe='{"groups": ' + nested(DEEP, kind="object") + "}", draft=token)
    def check(recipe: str, draft: str) -> None:
        before = model_draft_of(browser, token)
        response = browser.post(model_url("recipe", token), {"recipe": recipe})
        if tally.saw(response, ("recipe step", recipe)):
            assert response.status_code in (302, 400), response.status_code
            if response.status_code == 400:
                form = form_of(response, "form")
                assert_refusal_names_the_field(response, form, ["recipe"])
                assert model_draft_of(browser, token) == before
        response = browser.post(RECIPE_CHECK, {"draft": draft, "recipe": recipe})
        if not tally.saw(response, ("live check", draft, recipe)):
            return
        if draft != token:
            assert response.status_code == 404
            return
        assert response.status_code == 200
        answer = response.json()
        assert answer["ok"] or answer["message"], answer

    assert tally.run(check) == []


# --------------------------------------------------------------------------- bodies that are not UTF-8


def test_form_bodies_that_are_not_utf8(browser: Browser, training: DataSource) -> None:
    """A form posted with bytes that are not UTF-8 (a script, or a browser told another charset)."""
    tally = Tally("Form bodies that are not UTF-8 (every wizard step above)")
    token = start_model_draft(browser, training)
    browser.post(model_url("settings", token), {"mode": "custom", "ml_model_name": "m"})
    ds_token = start_draft(browser, Path(training.data_location_s3))
    urls = [
        CREATE,
        VERIFY,
        wizard_url("schema", ds_token),
        wizard_url("target", ds_token),
        MODEL_CREATE,
        model_url("settings", token),
        model_url("recipe", token),
        model_url("advanced", token),
        RECIPE_CHECK,
    ]

    @FEW
    @given(url=st.sampled_from(urls), body=st.binary(max_size=200))
    @example(url=RECIPE_CHECK, body=b"draft=" + token.encode() + b"&recipe=%ff%fe%00\xff\xc3")
    @example(url=wizard_url("schema", ds_token), body=b"action=replace&schema_text=\xff\xfe%ff")
    def check(url: str, body: bytes) -> None:
        response = browser.post_raw(url, body)
        if tally.saw(response, (url, body)):
            assert response.status_code in (200, 302, 400, 404), response.status_code

    assert tally.run(check) == []

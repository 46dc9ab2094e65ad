"""The Content-Security-Policy in headless Chromium: every page of the console, used, breaks no rule.

One signed-in person walks every kind of page with real objects (trained by the jobs, run inline):
the login page, the dashboard (and its htmx refresh), a datasource's insights and a preview, the
binary, regression and multiclass models' charts, a binary evaluation's threshold explorer with the
slider moved, multiclass and regression evaluations, a comparison, a batch prediction, the try-it
form with a prediction, the API keys page with a new key copied, a Delete confirmation, and every
step of the four wizards. Chromium reports each refused script, style or eval twice over: a
`securitypolicyviolation` event (listened to from before any page script runs) and a console line.
None may appear, and each page must still work: its charts drawn, its bars and colours set.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from evaluation_factories import completed_evaluation
from playwright.sync_api import expect
from prediction_factories import banking_model, banking_slice, data_source, run_all, wine_model
from reliability_figures import record

from console import dependencies
from console.models import DataSource, MLModel, Status
from console.services.batch_predictions import create_batch_prediction
from console.services.evaluations import create_evaluation


def _e2e_fixtures() -> Any:
    """tests/e2e/conftest.py's Chromium and browser_session fixtures, loaded under its own name."""
    path = Path(__file__).resolve().parents[1] / "e2e" / "conftest.py"
    spec = importlib.util.spec_from_file_location("e2e_browser_fixtures", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_E2E = _e2e_fixtures()
chromium = _E2E.chromium
browser_session = _E2E.browser_session

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

PASSWORD = "correct horse 1"  # the `owner` fixture's

# Every violation this document reports, kept where the test can read it before leaving the page.
LISTEN_FOR_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(
    `${event.effectiveDirective} refused ${event.blockedURI || "inline"} at ` +
    `${event.sourceFile || document.location.pathname}:${event.lineNumber}`);
});
"""

# Plotly draws after the deferred scripts run: every visible chart container holds a plot.
CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll('.chart')].filter((c) => c.offsetParent !== null);
  return charts.length > 0 && charts.every((c) => c.querySelector('.js-plotly-plot .main-svg'));
}"""


class ViolationLog:
    """What Chromium refused, per page: console lines and `securitypolicyviolation` events."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.found: list[str] = []
        self.pages = 0
        page.add_init_script(LISTEN_FOR_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.found.append(
                f"console at {self.page.url} from {message.location.get('url')}: {message.text}"
            )

    def page_done(self, name: str) -> None:
        """Call before leaving a page: its events die with its document."""
        self.pages += 1
        events = self.page.evaluate("() => window.__cspViolations || []")
        self.found.extend(f"{name}: {event}" for event in events)


@pytest.fixture
def world(owner: Any, shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Trained models, a real binary evaluation and batch prediction, stored evaluations."""
    queued: list[Any] = []
    monkeypatch.setattr(dependencies, "enqueue", queued.append)
    banking = banking_model(owner, shared_data, records=3000)
    held_out = data_source(
        owner,
        banking_slice(shared_data, 1000, name="banking-held-out.csv"),
        (shared_data / "banking.csv.schema").read_text(),
        "Banking held out",
    )
    regression = wine_model(owner, shared_data, "REGRESSION")
    multiclass = wine_model(owner, shared_data, "MULTICLASS")
    run_all(queued)
    evaluation = create_evaluation(
        owner, ml_model_id=banking.entity_id, evaluation_data_source_id=held_out.entity_id
    )
    batch = create_batch_prediction(
        owner, ml_model_id=banking.entity_id, batch_prediction_data_source_id=held_out.entity_id
    )
    run_all(queued)
    compared = [completed_evaluation(owner, "BINARY", n) for n in (1, 2)]
    training_model = MLModel.objects.create(
        owner=owner,
        entity_id="ml-Training0001",
        name="Still training",
        training_data_source=held_out,
        ml_model_type="BINARY",
        status=Status.INPROGRESS,
        progress={"phase": "training", "pass": 5, "passes": 10, "records": 900, "loss": [0.5]},
        started_at=timezone.now(),
    )
    owner.is_staff = owner.is_superuser = True  # for the admin's pages
    owner.save()
    return {
        "banking": banking,
        "held_out": held_out,
        "training": DataSource.objects.get(pk=banking.training_data_source_id),
        "regression": regression,
        "multiclass": MLModel.objects.get(pk=multiclass.pk),
        "evaluation": evaluation,
        "batch": batch,
        "multiclass_evaluation": completed_evaluation(owner, "MULTICLASS", 3),
        "regression_evaluation": completed_evaluation(owner, "REGRESSION", 4),
        "compare": "/evaluations/compare/?ids=" + ",".join(e.entity_id for e in compared),
        "record": (shared_data / "banking.csv").read_text().splitlines()[1],
        "training_model": training_model,
        "owner": owner,
    }


def charts_drawn(page: Any) -> int:
    page.wait_for_function(CHARTS_DRAWN)
    return page.locator(".js-plotly-plot .main-svg").count()


def visit_object_pages(session: Any, log: ViolationLog, world: dict[str, Any]) -> None:
    page = session.page
    with session.step("dashboard, refreshed by htmx"):
        page.goto(session.url("/"))
        expect(page.locator("table.objects tbody tr").first).to_be_visible()
        print(
            "STYLED",
            page.evaluate(
                "() => [...document.querySelectorAll('[style]')].map(e => e.outerHTML.slice(0, 200))"
            ),
        )
        page.locator("#refresh").click()
        expect(page.locator("table.objects tbody tr").first).to_be_visible()
        page.locator("#object-table button.expander").first.click()  # facts fetched into the row
        expect(page.locator("#object-table .facts").first).not_to_have_text(re.compile("Loading"))
        log.page_done("dashboard")

    with session.step("datasource: insights and a preview"):
        page.goto(session.url(f"/datasources/{world['training'].entity_id}/"))
        assert charts_drawn(page) > 0
        page.locator('button[data-preview="age"]').click()
        expect(page.locator("#preview-dialog .js-plotly-plot .main-svg").first).to_be_visible()
        log.page_done("datasource")

    for kind in ("banking", "regression", "multiclass"):
        with session.step(f"{kind} model"):
            page.goto(session.url(f"/models/{world[kind].entity_id}/"))
            assert charts_drawn(page) > 0
            log.page_done(f"{kind} model")

    with session.step("a chart exported as PNG (the modebar's camera)"):
        exported = page.evaluate(
            "async () => Plotly.toImage(document.querySelector('.js-plotly-plot'), {format: 'png'})"
        )
        assert exported.startswith("data:image/png;base64,") and len(exported) > 1000
        log.page_done("PNG export")

    with session.step("binary evaluation: the threshold explorer's slider moved"):
        page.goto(session.url(f"/evaluations/{world['evaluation'].entity_id}/"))
        assert charts_drawn(page) > 0
        page.wait_for_function("() => window.thresholdExplorer !== undefined")
        before = page.locator("#threshold-figures").inner_text()
        page.locator("#threshold-slider").evaluate(
            "(el) => { el.value = '0.9'; el.dispatchEvent(new Event('input', {bubbles: true})); }"
        )
        expect(page.locator("#threshold-number")).to_have_value("0.900")
        assert page.locator("#threshold-figures").inner_text() != before
        log.page_done("binary evaluation")

    with session.step("multiclass evaluation: the matrix painted"):
        page.goto(session.url(f"/evaluations/{world['multiclass_evaluation'].entity_id}/"))
        painted = page.locator("table.confusion td.cell").first.evaluate(
            "(td) => getComputedStyle(td).backgroundColor"
        )
        assert painted not in ("rgba(0, 0, 0, 0)", "transparent"), painted
        log.page_done("multiclass evaluation")

    with session.step("regression evaluation"):
        page.goto(session.url(f"/evaluations/{world['regression_evaluation'].entity_id}/"))
        assert charts_drawn(page) > 0
        log.page_done("regression evaluation")

    with session.step("comparison: charts and colour swatches"):
        page.goto(session.url(world["compare"]))
        assert charts_drawn(page) > 0
        swatch = page.locator(".swatch").first.evaluate(
            "(s) => [s.getBoundingClientRect().width, getComputedStyle(s).backgroundColor]"
        )
        assert swatch[0] > 0 and swatch[1] != "rgba(0, 0, 0, 0)", swatch
        log.page_done("comparison")

    with session.step("a training model's progress bar, moved by htmx's poll"):
        training = world["training_model"]
        page.goto(session.url(f"/models/{training.entity_id}/"))
        bar = page.locator("#ml-progress .progress > div")
        expect(bar).to_have_attribute("data-width", "50")
        assert bar.evaluate("(b) => b.getBoundingClientRect().width") > 0
        progress = {**training.progress, "pass": 8}
        MLModel.objects.filter(pk=training.pk).update(progress=progress)
        expect(bar).to_have_attribute("data-width", "80", timeout=10_000)  # swapped in
        page.wait_for_function(
            "() => document.querySelector('#ml-progress .progress > div').style.width === '80%'"
        )
        log.page_done("training model")

    with session.step("batch prediction"):
        page.goto(session.url(f"/batch-predictions/{world['batch'].entity_id}/"))
        expect(page.locator("#download-csv-0")).to_be_visible()
        log.page_done("batch prediction")

    with session.step("try-it form: a prediction and its score bars"):
        page.goto(session.url(f"/models/{world['banking'].entity_id}/predict/"))
        page.get_by_label("Record as one CSV line").fill(world["record"])
        page.locator("#paste-submit").click()
        page.locator("#create-prediction").click()
        expect(page.locator("#score-bars .score-bar")).to_have_count(2)
        widths = page.locator("#score-bars .bar > div").evaluate_all(
            "(bars) => bars.map((b) => b.getBoundingClientRect().width)"
        )
        assert max(widths) > 0, widths  # data-width became a width
        log.page_done("try-it")

    with session.step("Delete asks first (data-confirm), and No keeps the page"):
        page.goto(session.url(f"/batch-predictions/{world['batch'].entity_id}/"))
        asked: list[str] = []
        page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
        page.get_by_role("button", name=re.compile(r"^Delete this")).click()
        expect(page).to_have_url(session.url(f"/batch-predictions/{world['batch'].entity_id}/"))
        assert asked and asked[0].startswith("Delete this"), asked
        log.page_done("delete confirmation")

    with session.step("API keys: a new key, copied"):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.goto(session.url("/keys/"))
        page.locator("#create-key").click()
        copy = page.locator("#new-key button[data-copy]").first
        copy.click()
        expect(copy).to_have_text("Copied")
        log.page_done("API keys")


def visit_admin(session: Any, log: ViolationLog, world: dict[str, Any]) -> None:
    page = session.page
    with session.step("Django's admin (index, a list, a change form) and password change"):
        for path in (
            "/admin/",
            "/admin/auth/user/",
            f"/admin/auth/user/{world['owner'].pk}/change/",
            "/accounts/password_change/",
        ):
            page.goto(session.url(path))
            expect(page.locator("#content")).to_be_visible()
            log.page_done(f"admin {path}")


def walk(session: Any, log: ViolationLog, name: str, steps: list[str]) -> None:
    """Continue through a wizard's steps, each page checked before it is left."""
    page = session.page
    for step in steps:
        expect(page).to_have_url(re.compile(rf"/{step}/$"))
        log.page_done(f"{name}: {step}")
        if step != steps[-1]:
            page.locator("#continue").click()


def visit_wizards(session: Any, log: ViolationLog, world: dict[str, Any]) -> None:
    page = session.page
    with session.step("datasource wizard"):
        page.goto(session.url("/datasources/new/"))
        page.get_by_role("radio", name="A file or folder on this server").check()
        page.locator("#id_server_path").fill(world["held_out"].data_location_s3)
        log.page_done("datasource wizard: input")
        page.locator("#continue").click()
        walk(session, log, "datasource wizard", ["schema", "target", "row-id", "review"])

    with session.step("ML model wizard, custom"):
        page.goto(session.url(f"/models/new/?datasource={world['held_out'].entity_id}"))
        log.page_done("ML model wizard: input")
        page.locator("#continue").click()
        page.get_by_label("Custom").check()
        walk(
            session,
            log,
            "ML model wizard",
            ["settings", "recipe", "advanced", "evaluation", "review"],
        )

    with session.step("evaluation wizard"):
        page.goto(session.url(f"/evaluations/new/?model={world['banking'].entity_id}"))
        log.page_done("evaluation wizard: model")
        page.locator("#continue").click()
        page.locator(f'input[value="{world["held_out"].entity_id}"]').check()
        walk(session, log, "evaluation wizard", ["datasource", "name", "review"])

    with session.step("batch prediction wizard"):
        page.goto(session.url(f"/batch-predictions/new/?model={world['banking'].entity_id}"))
        log.page_done("batch prediction wizard: model")
        page.locator("#continue").click()
        page.locator(f'input[value="{world["held_out"].entity_id}"]').check()
        walk(session, log, "batch prediction wizard", ["data", "results", "review"])


def test_no_page_of_the_console_breaks_the_content_security_policy(
    browser_session: Any, owner: Any, world: dict[str, Any]
) -> None:
    session, page = browser_session, browser_session.page
    log = ViolationLog(page)
    with session.step("login page"):
        page.goto(session.url("/accounts/login/"))
        expect(page.get_by_label("Username")).to_be_visible()
        log.page_done("login")
    with session.step("sign in"):
        session.sign_in(owner.username, PASSWORD)
    visit_object_pages(session, log, world)
    visit_wizards(session, log, world)
    console_errors = list(session.js_errors)
    visit_admin(session, log, world)  # its pages have no icon: Chromium logs /favicon.ico as 404

    record(
        "Security",
        "content security policy",
        tried=log.pages,
        bad=len(log.found),
        bad_means="CSP violations",
        note="pages loaded and used in Chromium",
    )
    assert log.found == [], "\n".join(log.found)
    assert log.pages >= 30
    assert console_errors == [], console_errors
    assert session.foreign_requests() == []

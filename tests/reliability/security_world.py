"""What the security probes need: one user's objects of every kind, made for real, and every URL
pattern of the console filled with that user's ids.

`alice_world` makes Alice's datasource (an upload), MULTICLASS model, evaluation, batch prediction
(in the console's storage), real-time endpoint, API access key and a draft of each wizard, with
the real services and jobs. `probe_urls` walks Django's URL resolver (never a hand-written list)
and fills each pattern's parameters from the world; a parameter it does not know is an error, so a
new pattern cannot go unprobed.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from prediction_factories import data_source, run_all

from console import tasks
from console.api.keys import create_access_key
from console.models import AMLObject, BatchPrediction, DataSource, Evaluation, MLModel, Status
from console.services.batch_predictions import create_batch_prediction
from console.services.evaluations import create_evaluation
from console.services.ml_models import create_ml_model
from console.services.realtime import create_realtime_endpoint
from console.wizards import batch_prediction as bp_wizard
from console.wizards import evaluation as ev_wizard

# The console tests' boto3 client and service-model helpers; a run of this folder alone needs
# their folder on the path too (a whole run has it already).
CONSOLE_TESTS = Path(__file__).resolve().parents[1] / "console"
if str(CONSOLE_TESTS) not in sys.path:
    sys.path.append(str(CONSOLE_TESTS))
from api_client import ml_client  # noqa: E402, F401 - re-exported for the probes
from botocore_shapes import service_model  # noqa: E402, F401 - re-exported for the probes

SCHEMA = """{"version": "1.0", "targetAttributeName": "label", "dataFileContainsHeader": true,
 "attributes": [{"attributeName": "alicesecretcolumn", "attributeType": "NUMERIC"},
  {"attributeName": "x", "attributeType": "NUMERIC"},
  {"attributeName": "label", "attributeType": "CATEGORICAL"}],
 "excludedAttributeNames": []}"""
FAST = {"sgd.l2RegularizationAmount": "1e-6"}
# Words only Alice's objects contain: a page that shows one to someone else leaks her data.
SECRET_NAME = "AlicePrivateName"
SECRET_TAG = "AlicePrivateTag"

TYPE_OF_PREFIX = {
    "datasource": "ds",
    "mlmodel": "ml",
    "evaluation": "ev",
    "batchprediction": "bp",
}
TYPE_KEY_OF_KIND = {
    "ds": "datasource",
    "ml": "mlmodel",
    "ev": "evaluation",
    "bp": "batchprediction",
}


@dataclass
class World:
    user: Any
    client: Client
    objects: dict[str, AMLObject]  # "ds", "ml", "ev", "bp"
    key_id: str
    secret: str
    upload_location: str
    drafts: dict[str, str] = field(default_factory=dict)  # url-name prefix -> token

    @property
    def ids(self) -> list[str]:
        return [obj.entity_id for obj in self.objects.values()]

    def markers(self) -> list[str]:
        """What must never reach another user's pages: her data, names, tags, tokens, key."""
        return [
            SECRET_NAME,
            SECRET_TAG,
            "alicesecretcolumn",
            self.key_id,
            self.upload_location.split("/", 3)[-1],
            *self.drafts.values(),
        ]

    def snapshot(self) -> dict[str, tuple[Any, ...]]:
        """Each object's name, status, tags and endpoint: nobody else may change them."""
        state = {}
        for kind, obj in self.objects.items():
            fresh = type(obj).objects.get(pk=obj.pk)
            state[kind] = (
                fresh.name,
                fresh.status,
                dict(fresh.tags),
                getattr(fresh, "endpoint_status", None),
            )
        return state


def formula_rows(records: int = 240) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["alicesecretcolumn", "x", "label"])
    for n in range(records):
        klass = n % 3
        writer.writerow([n % 7, klass * 10 + n % 3, f"class{klass}"])
    return out.getvalue().encode()


def alice_world(user: Any, client: Client, enqueued: list[Any], monkeypatch: Any) -> World:
    """Every kind of object for `user`, completed by the real jobs (`enqueued` collects them)."""
    client.force_login(user)
    upload = SimpleUploadedFile("alice.csv", formula_rows(), content_type="text/csv")
    response = client.post("/datasources/new/upload/", {"file": upload})
    assert response.status_code == 200, response.content
    location = response.json()["location"]
    ds = data_source(user, location, SCHEMA, f"{SECRET_NAME} data")
    ml = create_ml_model(
        user,
        ml_model_type="MULTICLASS",
        training_data_source_id=ds.entity_id,
        ml_model_name=f"{SECRET_NAME} model",
        parameters=FAST,
    )
    ev = create_evaluation(
        user,
        ml_model_id=ml.entity_id,
        evaluation_data_source_id=ds.entity_id,
        evaluation_name=f"{SECRET_NAME} evaluation",
    )
    bp = create_batch_prediction(
        user,
        ml_model_id=ml.entity_id,
        batch_prediction_data_source_id=ds.entity_id,
        batch_prediction_name=f"{SECRET_NAME} batch",
    )
    run_all(enqueued)
    objects: dict[str, AMLObject] = {"ds": ds, "ml": ml, "ev": ev, "bp": bp}
    for obj in objects.values():
        type(obj).objects.filter(pk=obj.pk).update(tags={SECRET_TAG: "1"})
        obj.refresh_from_db()
        assert obj.status == Status.COMPLETED, f"{obj.entity_id}: {obj.message}"
    monkeypatch.setattr(
        "console.services.realtime._enqueue_mount",
        lambda pk: tasks.mount_realtime_endpoint.run(pk),
    )
    create_realtime_endpoint(user, ml.entity_id)
    key, secret = create_access_key(user, description=f"{SECRET_NAME} key")
    world = World(user, client, objects, key.access_key_id, secret, location)
    world.drafts = start_every_wizard(client, world)
    return world


def start_every_wizard(client: Client, world: World) -> dict[str, str]:
    """A draft of each wizard in the user's session; the token each one's URLs carry."""
    ds, ml = world.objects["ds"], world.objects["ml"]
    starts = {
        "datasource-wizard": (
            "/datasources/new/",
            {
                "source": "upload",
                "upload_location": world.upload_location,
                "upload_filename": "alice.csv",
                "name": f"{SECRET_NAME} draft",
            },
            r"/datasources/new/([^/]+)/",
        ),
        "mlmodel-wizard": (
            "/models/new/",
            {"source": "existing", "data_source": ds.entity_id},
            r"/models/new/([^/]+)/",
        ),
        "evaluation-wizard": (
            "/evaluations/new/",
            {"ml_model": ml.entity_id, "data_source": ""},
            r"/evaluations/new/([^/]+)/",
        ),
        "batchprediction-wizard": (
            "/batch-predictions/new/",
            {"ml_model": ml.entity_id},
            r"/batch-predictions/new/([^/]+)/",
        ),
    }
    tokens = {}
    for prefix, (url, data, token_pattern) in starts.items():
        response = client.post(url, data)
        match = re.search(token_pattern, response.get("Location", ""))
        assert match, f"{prefix}: {response.status_code} {response.content[:500]!r}"
        tokens[prefix] = match.group(1)
    return tokens


# --------------------------------------------------------------------------- the URL patterns


@dataclass(frozen=True)
class Probe:
    """One URL to request: its pattern's qualified name, the pattern, the filled path."""

    name: str
    route: str
    path: str
    params: tuple[str, ...]

    @property
    def area(self) -> str:
        """console, accounts or admin: what a stranger may expect there differs."""
        if self.route.startswith("admin/"):
            return "admin"
        if self.route.startswith("accounts/"):
            return "accounts"
        return "console"


def every_pattern() -> list[tuple[str, str, Any]]:
    """(qualified name, full route, pattern) of every URL pattern Django would resolve."""
    found: list[tuple[str, str, Any]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, route, inner)
            elif isinstance(entry, URLPattern):
                found.append((f"{namespace}{entry.name or ''}", route, entry))

    walk(get_resolver().url_patterns, "", "")
    return found


def probe_urls(world: World) -> list[Probe]:
    """Every pattern, each parameter filled with the world's values (several fills if several
    make sense: the facts of each object type, each wizard step)."""
    probes: list[Probe] = []
    for name, route, _ in every_pattern():
        params = tuple(re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route))
        names = tuple(a or b for a, b in params)
        for values in fillings(name, names, world):
            probes.append(Probe(name, route, "/" + fill(route, values), names))
    return probes


def fillings(name: str, params: tuple[str, ...], world: World) -> list[dict[str, str]]:
    short = name.split(":")[-1]
    if not params:
        return [{}]
    if short == "dashboard-facts":
        return [
            {"type_key": TYPE_KEY_OF_KIND[kind], "entity_id": obj.entity_id}
            for kind, obj in world.objects.items()
        ]
    if "step" in params:
        steps = ev_wizard.STEPS if short.startswith("evaluation") else bp_wizard.STEPS
        return [{**one_filling(short, params, world), "step": step} for step in steps]
    return [one_filling(short, params, world)]


def one_filling(short: str, params: tuple[str, ...], world: World) -> dict[str, str]:
    values: dict[str, str] = {}
    for param in params:
        if param == "entity_id":
            values[param] = world.objects[TYPE_OF_PREFIX[short.split("-")[0]]].entity_id
        elif param == "draft":
            values[param] = world.drafts[_wizard_of(short)]
        elif param == "index":
            values[param] = "0"
        elif param == "access_key_id":
            values[param] = world.key_id
        elif param == "uidb64":
            values[param] = urlsafe_base64_encode(force_bytes(world.user.pk))
        elif param == "token":
            values[param] = default_token_generator.make_token(world.user)
        elif param in ("object_id", "id"):
            values[param] = str(world.user.pk)
        elif param == "app_label":
            values[param] = "auth"
        elif param in ("url", "content_type_id"):
            values[param] = "1"
        elif param == "step":
            continue
        else:
            raise AssertionError(
                f"URL pattern {short!r} has a parameter {param!r} the security probe cannot fill: "
                "teach tests/reliability/security_world.py what to put there"
            )
    return values


def _wizard_of(short: str) -> str:
    for prefix in (
        "datasource-wizard",
        "mlmodel-wizard",
        "evaluation-wizard",
        "batchprediction-wizard",
    ):
        if short.startswith(prefix):
            return prefix
    raise AssertionError(f"URL pattern {short!r} takes a draft of no known wizard")


def fill(route: str, values: dict[str, str]) -> str:
    """The route with each <converter:name> (or a regex's named group) replaced by its value."""
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], route)
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values[m.group(1)], path)
    return path.replace("^", "").replace("$", "").replace("\\", "")


OBJECT_MODELS = (DataSource, MLModel, Evaluation, BatchPrediction)

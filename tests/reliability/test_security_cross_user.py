"""Cross-user probe: Bob, signed in, asks for every page, download, fragment and form of the
console filled with Alice's real ids (every URL pattern, walked from Django's resolver), and calls
every AML API operation on her objects with his own access key. He must learn nothing: a 404 for
anything of hers (a 405 only where the same method is refused for an id that does not exist), her
names, tags, columns, tokens and key never in what he gets, her objects untouched.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from botocore import xform_name
from botocore.exceptions import ClientError
from django.test import Client
from reliability_figures import record
from security_world import World, every_pattern, ml_client, probe_urls, service_model

from console.api.keys import create_access_key
from console.models import BatchPrediction, DataSource, Evaluation, MLModel

pytestmark = [pytest.mark.reliability, pytest.mark.django_db]

LEAKS = "cross-user leaks (anything but 404)"
HTMX = {"HX-Request": "true"}  # how the pages ask for their fragments
RESOURCE_TYPES = {"DataSource": "ds", "MLModel": "ml", "Evaluation": "ev", "BatchPrediction": "bp"}


def body_of(response: Any) -> str:
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8", "replace")


def bait(world: World) -> dict[str, Any]:
    """Alice's ids in every field a form or a query string of the console reads."""
    ds, ml, ev = (world.objects[k].entity_id for k in ("ds", "ml", "ev"))
    ids = [*world.ids, *(f"{kind}:{obj.entity_id}" for kind, obj in _typed(world))]
    return {
        "ids": ids,
        "ml_model": ml,
        "model": ml,
        "data_source": ds,
        "datasource": ds,
        "evaluation": ev,
        "copy_from": ds,
        "location": world.upload_location,
        "source": "upload",
        "upload_location": world.upload_location,
        "upload_filename": "alice.csv",
        "draft": world.drafts["mlmodel-wizard"],
        "attribute": "alicesecretcolumn",
        "name": "renamed by Bob",
        "key": "bob",
        "value": "was here",
        "description": "Bob's",
        "q": "AlicePrivate",  # the dashboard's search: her rows would bring her ids
    }


def _typed(world: World) -> list[tuple[str, Any]]:
    kinds = {"ds": "datasource", "ml": "mlmodel", "ev": "evaluation", "bp": "batchprediction"}
    return [(kinds[k], obj) for k, obj in world.objects.items()]


def nowhere(path: str, world: World) -> str:
    """The same URL with each of Alice's ids and tokens replaced by one that does not exist."""
    for secret in [*world.ids, *world.drafts.values(), world.key_id]:
        path = path.replace(secret, secret[:3] + "Nobody" + "0" * 6)
    return path


def leak_of(probe: Any, response: Any, world: World, control: int, sent: dict[str, Any]) -> str:
    """What is wrong with Bob's response (empty: nothing). What Bob `sent` may come back to him
    (a form keeps what was typed): only what he did not send counts as shown."""
    status, body = response.status_code, body_of(response)
    if status >= 500:
        return f"HTTP {status}"
    typed = str(sent)
    shown = [m for m in world.markers() if m in body and m not in typed]
    if not probe.params and probe.area == "console":
        shown += [i for i in world.ids if i in body and i not in typed]
    if shown:
        return f"shows {shown}"
    if probe.area == "admin":
        return _admin_problem(probe, response)
    if probe.area == "console" and probe.params:
        if status == 404 or (status == 405 and control == 405):
            return ""
        return f"HTTP {status} (expected 404)"
    if status == 403:
        return "HTTP 403 (confirms something is there)"
    return ""


def _admin_problem(probe: Any, response: Any) -> str:
    """A user who is not staff is sent to the admin's login (which says so), or gets a 404."""
    if probe.name in ("admin:login", "admin:logout"):
        return ""
    if response.status_code == 404 or response.get("Location", "").startswith("/admin/login/"):
        return ""
    return f"admin answered {response.status_code} to a user who is not staff"


def borrowed(world: World, stranger: Any) -> list[str]:
    """Objects of Bob's made from Alice's: her upload, datasources or models."""
    upload_key = world.upload_location.split("://", 1)[-1]
    found = [
        *DataSource.objects.filter(owner=stranger, data_location_s3__contains=upload_key),
        *MLModel.objects.filter(owner=stranger).exclude(training_data_source__owner=stranger),
        *Evaluation.objects.filter(owner=stranger).exclude(ml_model__owner=stranger),
        *BatchPrediction.objects.filter(owner=stranger).exclude(ml_model__owner=stranger),
    ]
    return [obj.entity_id for obj in found]


def test_a_signed_in_stranger_gets_404_for_every_url_pattern_filled_with_the_owners_ids(
    world: World, stranger: Any
) -> None:
    probes = probe_urls(world)
    before = world.snapshot()
    bob, leaks, tried, method_refusals = Client(), [], 0, 0
    for probe in probes:
        # Bare, and (where no id is in the path) with Alice's ids in every field a form reads;
        # as a page and as an htmx fragment.
        datas = ({}, bait(world)) if not probe.params else ({},)
        for method, data, htmx in product(("get", "post"), datas, ({}, HTMX)):
            bob.force_login(stranger)  # a probe of a logout URL signs him out
            send = bob.get if method == "get" else bob.post
            response = send(probe.path, data, headers=htmx)
            control = send(nowhere(probe.path, world), data, headers=htmx).status_code
            tried += 1
            method_refusals += response.status_code == 405
            problem = leak_of(probe, response, world, control, data)
            if problem:
                how = f"{method.upper()}{' htmx' if htmx else ''}{' with her ids' if data else ''}"
                leaks.append(f"{how} {probe.path} ({probe.name}): {problem}")
    after = world.snapshot()
    changed = [kind for kind in before if before[kind] != after[kind]]
    taken = borrowed(world, stranger)
    # The probe means something only if the ids are real: Alice herself finds every one.
    not_found_by_owner = [
        p.path
        for p in probes
        if p.area == "console" and p.params and world.client.get(p.path).status_code == 404
    ]
    record(
        "Security",
        "cross-user pages",
        tried=tried,
        bad=len(leaks) + len(changed) + len(taken),
        bad_means=LEAKS,
        note=f"{len(probes)} URLs from {len(every_pattern())} patterns, GET and POST, page and htmx; "
        f"{method_refusals} were 405 for any id",
    )
    assert leaks == [], "\n".join(leaks)
    assert changed == [] and taken == [] and not_found_by_owner == []
    assert {p.route for p in probes} == {route for _, route, _ in every_pattern()}


# --------------------------------------------------------------------------- the AML API


def api_arguments(operation: str, world: World) -> list[dict[str, Any]]:
    """Every way of calling `operation` on Alice's objects: its required members, ids hers."""
    ids = {kind: obj.entity_id for kind, obj in world.objects.items()}
    known: dict[str, Any] = {
        "DataSourceId": ids["ds"],
        "MLModelId": ids["ml"],
        "EvaluationId": ids["ev"],
        "BatchPredictionId": ids["bp"],
        "TrainingDataSourceId": ids["ds"],
        "EvaluationDataSourceId": ids["ds"],
        "BatchPredictionDataSourceId": ids["ds"],
        "DataSourceName": "renamed by Bob",
        "MLModelName": "renamed by Bob",
        "EvaluationName": "renamed by Bob",
        "BatchPredictionName": "renamed by Bob",
        "MLModelType": "MULTICLASS",
        "OutputUri": "s3://bob-bucket/out/",
        "Record": {"x": "1"},
        "PredictEndpoint": "http://testserver",
        "Tags": [{"Key": "bob", "Value": "was here"}],
        "TagKeys": ["AlicePrivateTag"],
        "RoleARN": "arn:aws:iam::000000000000:role/bob",
        "DataSpec": {"DataLocationS3": "s3://bob-bucket/data.csv", "DataSchema": "{}"},
        "RDSData": {
            "DatabaseInformation": {"InstanceIdentifier": "bob", "DatabaseName": "bob"},
            "SelectSqlQuery": "select 1",
            "DatabaseCredentials": {"Username": "bob", "Password": "bob-password"},
            "S3StagingLocation": "s3://bob-bucket/staging/",
            "ResourceRole": "bob",
            "ServiceRole": "bob",
            "SubnetId": "bob",
            "SecurityGroupIds": ["bob"],
        },
    }
    if operation == "CreateDataSourceFromRedshift":
        known["DataSpec"] = {
            "DatabaseInformation": {"DatabaseName": "bob", "ClusterIdentifier": "bob"},
            "SelectSqlQuery": "select 1",
            "DatabaseCredentials": {"Username": "bob", "Password": "bob-password"},
            "S3StagingLocation": "s3://bob-bucket/staging/",
        }
    shape = service_model().operation_model(operation).input_shape
    required = list(shape.required_members) if shape else []
    if "ResourceId" in required:
        return [
            {**_pick(required, known, operation), "ResourceId": ids[kind], "ResourceType": rtype}
            for rtype, kind in RESOURCE_TYPES.items()
        ]
    return [_pick(required, known, operation)]


def _pick(required: list[str], known: dict[str, Any], operation: str) -> dict[str, Any]:
    missing = [m for m in required if m not in known and m not in ("ResourceId", "ResourceType")]
    assert not missing, f"{operation} needs {missing}: teach the cross-user probe"
    return {m: known[m] for m in required if m in known}


def test_a_strangers_access_key_gets_resource_not_found_for_every_operation_on_the_owners_objects(
    world: World, stranger: Any, settings: Any
) -> None:
    settings.AML_DATA_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # Bob's own S3 data: refused fast
    key, secret = create_access_key(stranger)
    bob = ml_client(key.access_key_id, secret)
    before = world.snapshot()
    operations = service_model().operation_names
    wrong, tried = [], 0
    for operation in operations:
        method = getattr(bob, xform_name(operation))
        if operation.startswith("Describe") and operation != "DescribeTags":
            listed = str(method())
            tried += 1
            wrong += [f"{operation} lists {i}" for i in world.ids if i in listed]
            continue
        for arguments in api_arguments(operation, world):
            tried += 1
            code = _error_code(method, arguments)
            own_id = operation.startswith("CreateDataSourceFrom")
            # Creating a datasource under an id Alice uses makes Bob's own (ids are per user):
            # anything but a refusal that says hers exists is fine.
            if own_id and code not in ("IdempotentParameterMismatchException", "500"):
                continue
            if code != "ResourceNotFoundException":
                wrong.append(f"{operation}({arguments}) -> {code}")
    after = world.snapshot()
    changed = [kind for kind in before if before[kind] != after[kind]]
    record(
        "Security",
        "cross-user API operations",
        tried=tried,
        bad=len(wrong) + len(changed),
        bad_means=LEAKS.replace("404", "ResourceNotFoundException"),
        note=f"all {len(operations)} operations of botocore's service model",
    )
    assert len(operations) == 28
    assert wrong == [], "\n".join(wrong)
    assert changed == []


def _error_code(method: Any, arguments: dict[str, Any]) -> str:
    try:
        method(**arguments)
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return "500" if status >= 500 else str(exc.response["Error"]["Code"])
    return "answered"

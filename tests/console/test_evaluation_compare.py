"""The comparison page (/evaluations/compare/?ids=...): metric table, training parameters,
recipe differences and one overlaid figure per model type; mixed types, wrong counts and
unfinished evaluations are refused with a sentence; a stranger's ids are a 404; the dashboard
and the model page lead to it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from evaluation_factories import completed_evaluation

from console.models import Evaluation, Status

pytestmark = pytest.mark.django_db

RECIPE = {
    "groups": {"NUMERIC_VARS": "group('x')"},
    "assignments": {},
    "outputs": ["ALL_NUMERIC", "quantile_bin(NUMERIC_VARS,10)"],
}


def compare(client: Client, *ids: str) -> Any:
    return client.get(reverse("console:evaluation-compare"), {"ids": ",".join(ids)})


def figure(html: str) -> dict[str, Any]:
    match = re.search(
        r'<script id="fig-compare" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, "no comparison figure"
    return json.loads(match.group(1))


def test_three_binary_evaluations_compare_in_one_table_with_overlaid_roc_curves(
    owner_client: Client, owner: Any
) -> None:
    evaluations = [completed_evaluation(owner, "BINARY", n) for n in (1, 2, 3)]
    response = compare(owner_client, *(ev.entity_id for ev in evaluations))
    assert response.status_code == 200
    html = response.content.decode()

    table = html.split('id="compare-table"')[1].split('id="compare-figure"')[0]
    for ev in evaluations:
        assert ev.entity_id in table and ev.ml_model.entity_id in table
        auc = float(ev.performance_metrics["Properties"]["BinaryAUC"])
        assert f"{auc:.4f}" in table
    assert "Baseline" in table and "0.5000" in table and "Records evaluated" in table
    curves = figure(html)["data"]
    assert [trace["x"] for trace in curves[:3]] == [
        ev.details["Details"]["roc"]["fpr"] for ev in evaluations
    ]
    assert curves[3]["name"].startswith("Random guess")


def test_multiclass_evaluations_compare_by_per_class_f1_bars(
    owner_client: Client, owner: Any
) -> None:
    first, second = (completed_evaluation(owner, "MULTICLASS", n) for n in (4, 5))
    html = compare(owner_client, first.entity_id, second.entity_id).content.decode()
    bars = figure(html)["data"]
    assert [bar["type"] for bar in bars] == ["bar", "bar"]
    per_class = first.details["Details"]["per_class"]
    assert bars[0]["x"] == per_class["labels"]
    assert bars[0]["y"] == per_class["f1"]
    assert "F1 score per class" in html


def test_regression_evaluations_compare_by_overlaid_residual_histograms(
    owner_client: Client, owner: Any
) -> None:
    evaluations = [completed_evaluation(owner, "REGRESSION", n) for n in (6, 7)]
    html = compare(owner_client, *(ev.entity_id for ev in evaluations)).content.decode()
    lines = figure(html)["data"]
    for line, ev in zip(lines, evaluations, strict=True):
        counts = ev.details["Details"]["residual_histogram"]["counts"]
        assert sum(line["y"]) == pytest.approx(100.0)
        assert line["y"][0] == pytest.approx(100.0 * counts[0] / sum(counts))
    assert "Mean absolute error" in html and "R²" in html


def test_training_parameters_and_recipes_that_differ_are_shown(
    owner_client: Client, owner: Any
) -> None:
    changed = {**RECIPE, "outputs": ["ALL_NUMERIC", "quantile_bin(NUMERIC_VARS,50)"]}
    a = completed_evaluation(owner, "REGRESSION", 8, recipe=json.dumps(RECIPE))
    b = completed_evaluation(
        owner,
        "REGRESSION",
        9,
        training_parameters={"sgd.maxPasses": "30", "sgd.l2RegularizationAmount": "1e-6"},
        recipe=json.dumps(RECIPE, indent=4),  # same recipe, other spacing
    )
    c = completed_evaluation(owner, "REGRESSION", 10, recipe=json.dumps(changed))
    html = compare(owner_client, a.entity_id, b.entity_id, c.entity_id).content.decode()

    passes = re.search(
        r'<tr class="differs"><th class="row-head"><code>sgd.maxPasses</code></th>(.*?)</tr>',
        html,
        re.S,
    )
    assert passes and re.findall(r"<td[^>]*>([^<]*)</td>", passes.group(1)) == ["10", "30", "10"]
    assert "(default)" in html  # the l2 amount only b sets
    recipes = html.split('id="compare-recipes"')[1]
    assert f"Same recipe as <code>{a.ml_model.entity_id}</code>" in recipes
    assert "-    &quot;quantile_bin(NUMERIC_VARS,10)&quot;" in recipes
    assert "+    &quot;quantile_bin(NUMERIC_VARS,50)&quot;" in recipes


def test_models_with_one_recipe_say_so_once(owner_client: Client, owner: Any) -> None:
    a, b, c = (
        completed_evaluation(owner, "BINARY", n, recipe=json.dumps(RECIPE)) for n in (15, 16, 17)
    )
    html = compare(owner_client, a.entity_id, b.entity_id, c.entity_id).content.decode()
    recipes = html.split('id="compare-recipes"')[1]
    assert "All 3 models use the same recipe." in recipes
    assert "Same recipe as" not in recipes


def test_the_comparison_address_is_shareable_and_takes_repeated_ids_too(
    owner_client: Client, owner: Any
) -> None:
    a, b = (completed_evaluation(owner, "BINARY", n) for n in (11, 12))
    url = reverse("console:evaluation-compare")
    repeated = owner_client.get(url, {"ids": [a.entity_id, b.entity_id]})
    assert repeated.status_code == 200
    assert f"{url}?ids={a.entity_id},{b.entity_id}" in repeated.content.decode()


def test_mixed_model_types_are_refused_with_a_clear_message(
    owner_client: Client, owner: Any
) -> None:
    binary = completed_evaluation(owner, "BINARY", 13)
    regression = completed_evaluation(owner, "REGRESSION", 14)
    response = compare(owner_client, binary.entity_id, regression.entity_id)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Only evaluations of one model type can be compared" in html
    assert f"{binary.entity_id} (binary)" in html and f"{regression.entity_id} (regression)" in html
    assert "fig-compare" not in html


def test_more_than_six_evaluations_are_refused(owner_client: Client, owner: Any) -> None:
    ids = [completed_evaluation(owner, "BINARY", 20 + n).entity_id for n in range(7)]
    response = compare(owner_client, *ids)
    assert response.status_code == 400
    assert "Choose 2 to 6 evaluations to compare; 7 were given." in response.content.decode()


def test_an_address_with_a_thousand_ids_is_refused_before_any_lookup(
    owner_client: Client, django_assert_max_num_queries: Any
) -> None:
    ids = [f"ev-Missing{n:06d}" for n in range(1000)]
    with django_assert_max_num_queries(3):  # the session and its user, nothing per id
        response = compare(owner_client, *ids)
    assert response.status_code == 400
    assert "1000 were given" in response.content.decode()


def test_one_evaluation_opens_a_picker_of_the_others_of_its_model_type(
    owner_client: Client, owner: Any, stranger: Any
) -> None:
    chosen = completed_evaluation(owner, "BINARY", 20)
    other = completed_evaluation(owner, "BINARY", 21)
    regression = completed_evaluation(owner, "REGRESSION", 22)
    running = completed_evaluation(owner, "BINARY", 23)
    Evaluation.objects.filter(pk=running.pk).update(status=Status.INPROGRESS)
    theirs = completed_evaluation(stranger, "BINARY", 24)

    response = compare(owner_client, chosen.entity_id)
    assert response.status_code == 200
    html = response.content.decode()
    boxes = re.findall(r'<input type="checkbox" name="ids" value="([^"]+)"[^>]*?( checked)?>', html)
    assert boxes == [(chosen.entity_id, " checked"), (other.entity_id, "")]
    assert regression.entity_id not in html and running.entity_id not in html
    assert theirs.entity_id not in html
    # the picker is a plain GET form: its repeated ids are a comparison
    assert (
        owner_client.get(
            reverse("console:evaluation-compare"), {"ids": [chosen.entity_id, other.entity_id]}
        ).status_code
        == 200
    )


def test_no_evaluation_at_all_opens_the_picker_of_every_type(
    owner_client: Client, owner: Any
) -> None:
    binary = completed_evaluation(owner, "BINARY", 25)
    regression = completed_evaluation(owner, "REGRESSION", 26)
    html = compare(owner_client).content.decode()
    assert 'id="compare-choices"' in html
    assert binary.entity_id in html and regression.entity_id in html


def test_an_evaluation_still_running_cannot_be_compared(owner_client: Client, owner: Any) -> None:
    done = completed_evaluation(owner, "BINARY", 30)
    running = completed_evaluation(owner, "BINARY", 31)
    Evaluation.objects.filter(pk=running.pk).update(status=Status.INPROGRESS)
    response = compare(owner_client, done.entity_id, running.entity_id)
    assert response.status_code == 400
    assert f"not completed: {running.entity_id} (in progress)" in response.content.decode()


def test_a_stranger_gets_404_for_someone_elses_evaluations(
    client: Client, owner: Any, stranger: Any
) -> None:
    mine = [completed_evaluation(stranger, "BINARY", n) for n in (40, 41)]
    theirs = [completed_evaluation(owner, "BINARY", n) for n in (42, 43)]
    client.force_login(stranger)
    assert compare(client, *(ev.entity_id for ev in mine)).status_code == 200
    assert compare(client, *(ev.entity_id for ev in theirs)).status_code == 404
    mixed = compare(client, mine[0].entity_id, theirs[0].entity_id)
    assert mixed.status_code == 404
    assert theirs[0].ml_model.entity_id not in mixed.content.decode()
    assert compare(client, theirs[0].entity_id).status_code == 404  # the picker too


def test_an_anonymous_visitor_is_sent_to_sign_in(client: Client, owner: Any) -> None:
    a, b = (completed_evaluation(owner, "BINARY", n) for n in (50, 51))
    response = compare(client, a.entity_id, b.entity_id)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_dashboard_offers_to_compare_the_selected_evaluations(owner_client: Client) -> None:
    html = owner_client.get(reverse("console:dashboard")).content.decode()
    assert 'id="compare-selected"' in html
    assert f'data-url="{reverse("console:evaluation-compare")}"' in html
    assert "console/js/compare_selection.js" in html


def test_a_model_page_links_to_the_comparison_of_its_evaluations(
    owner_client: Client, owner: Any
) -> None:
    first = completed_evaluation(owner, "BINARY", 60)
    again = Evaluation.objects.create(
        owner=owner,
        entity_id="ev-Eval00000061",
        name="Evaluation again",
        ml_model=first.ml_model,
        evaluation_data_source=first.evaluation_data_source,
        status=Status.COMPLETED,
        performance_metrics=first.performance_metrics,
        details=first.details,
    )
    html = owner_client.get(
        reverse("console:mlmodel-detail", args=[first.ml_model.entity_id])
    ).content.decode()
    link = re.search(r'id="compare-evaluations" href="([^"]+)">Compare these evaluations<', html)
    assert link and set(link.group(1).split("ids=")[1].split(",")) == {
        first.entity_id,
        again.entity_id,
    }
    assert owner_client.get(link.group(1)).status_code == 200


def test_a_model_with_one_evaluation_links_to_the_picker(owner_client: Client, owner: Any) -> None:
    ev = completed_evaluation(owner, "BINARY", 70)
    html = owner_client.get(
        reverse("console:mlmodel-detail", args=[ev.ml_model.entity_id])
    ).content.decode()
    link = re.search(r'id="compare-evaluations" href="([^"]+)">([^<]+)<', html)
    assert link and link.group(1).endswith(f"?ids={ev.entity_id}")
    assert link.group(2) == "Compare with other evaluations"

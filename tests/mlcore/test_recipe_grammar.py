"""Recipe grammar: the expression parser, the sections, names, groups, and every error's place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlcore.errors import MLCoreError
from mlcore.recipes import (
    Call,
    Name,
    Number,
    RecipeError,
    parse_expression,
    parse_recipe,
    recipe_to_json,
    strip_json_comments,
)
from mlcore.schema import Attribute, AttributeType, Schema, parse_schema

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture
def schema() -> Schema:
    return Schema(
        [
            Attribute("age", AttributeType.NUMERIC),
            Attribute("capital-gain", AttributeType.NUMERIC),
            Attribute("job", AttributeType.CATEGORICAL),
            Attribute("country", AttributeType.CATEGORICAL),
            Attribute("email subject", AttributeType.TEXT),
            Attribute("body", AttributeType.TEXT),
            Attribute("married", AttributeType.BINARY),
            Attribute("id", AttributeType.CATEGORICAL),
            Attribute("secret", AttributeType.NUMERIC),
            Attribute("y", AttributeType.BINARY),
        ],
        target="y",
        row_id="id",
        excluded=["secret"],
    )


def labels(recipe: dict[str, object] | str, schema: Schema) -> list[str]:
    return [output.label for output in parse_recipe(recipe, schema).outputs]


def error(recipe: dict[str, object] | str, schema: Schema) -> RecipeError:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(recipe, schema)
    return caught.value


# -- expressions -----------------------------------------------------------------------------


def test_it_parses_names_numbers_and_nested_calls() -> None:
    parsed = parse_expression("ngram(lowercase(body), 3)")
    assert parsed == Call(
        "ngram", (Call("lowercase", (Name("body", 16),), 6), Number(3.0, "3", 23)), 0
    )


def test_it_reads_names_quoted_with_either_quote_and_escapes() -> None:
    assert parse_expression("'email subject'") == Name("email subject", 0)
    assert parse_expression('"it\'s, (odd)"') == Name("it's, (odd)", 0)
    assert parse_expression(r"'a\'b'") == Name("a'b", 0)


def test_it_takes_bare_names_with_dashes_and_dots() -> None:
    assert parse_expression("capital-gain") == Name("capital-gain", 0)
    assert parse_expression("admin.") == Name("admin.", 0)


def test_it_ignores_a_comment_to_the_end_of_the_line() -> None:
    assert parse_expression("age // the age\n") == Name("age", 0)
    assert parse_expression("'a // b'") == Name("a // b", 0)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "empty"),
        ("f(a", 3, "expected ',' or ')'"),
        ("f(a b)", 4, "expected ',' or ')'"),
        ("a b", 2, "unexpected 'b'"),
        ("'abc", 0, "unterminated"),
        ("f(,)", 2, "expected a name"),
        ("a\\b", 1, "backslash"),
    ],
)
def test_it_reports_syntax_errors_with_their_position(
    text: str, position: int, message: str
) -> None:
    with pytest.raises(RecipeError) as caught:
        parse_expression(text)
    assert caught.value.position == position
    assert message in str(caught.value)


def test_it_strips_json_comments_outside_strings_only() -> None:
    text = '{"outputs": ["age // kept", "job"] // gone\n}'
    stripped = strip_json_comments(text)
    assert json.loads(stripped) == {"outputs": ["age // kept", "job"]}
    assert len(stripped) == len(text)


def test_it_keeps_escaped_quotes_inside_json_strings() -> None:
    text = '{"outputs": ["\\"job\\" // x"]} // comment'
    assert json.loads(strip_json_comments(text)) == {"outputs": ['"job" // x']}


# -- sections and outputs --------------------------------------------------------------------


def test_it_expands_predefined_groups_from_input_attributes_only(schema: Schema) -> None:
    assert labels({"outputs": ["ALL_NUMERIC"]}, schema) == ["age", "capital-gain"]
    assert labels({"outputs": ["ALL_CATEGORICAL"]}, schema) == ["job", "country"]
    assert labels({"outputs": ["ALL_BINARY"]}, schema) == ["married"]
    assert labels({"outputs": ["ALL_TEXT"]}, schema) == ["'email subject'", "body"]


def test_all_inputs_in_outputs_is_every_input_attribute(schema: Schema) -> None:
    assert labels({"outputs": ["ALL_INPUTS"]}, schema) == [
        "age",
        "capital-gain",
        "job",
        "country",
        "'email subject'",
        "body",
        "married",
    ]


def test_it_reads_groups_of_groups_and_group_remove(schema: Schema) -> None:
    recipe = {
        "groups": {
            "strings": "group(ALL_CATEGORICAL, ALL_TEXT)",
            "some": "group_remove(strings, job, 'email subject')",
            "both": "group(some, age)",
        },
        "assignments": {},
        "outputs": ["both"],
    }
    parsed = parse_recipe(recipe, schema)
    assert parsed.group_members["some"] == ["country", "body"]
    assert [o.label for o in parsed.outputs] == ["country", "body", "age"]


def test_groups_may_refer_to_groups_defined_later(schema: Schema) -> None:
    recipe = {"groups": {"a": "group(b)", "b": "group(age)"}, "outputs": ["a"]}
    assert labels(recipe, schema) == ["age"]


def test_a_quoted_predefined_group_name_is_a_group(schema: Schema) -> None:
    recipe = {"groups": {"n": "group_remove('ALL_NUMERIC','capital-gain')"}, "outputs": ["n"]}
    assert labels(recipe, schema) == ["age"]


def test_a_transform_on_a_group_applies_to_each_member(schema: Schema) -> None:
    assert labels({"outputs": ["quantile_bin(ALL_NUMERIC, 50)"]}, schema) == [
        "quantile_bin(age,50)",
        "quantile_bin(capital-gain,50)",
    ]


def test_assignments_nest_transforms_and_refer_to_each_other(schema: Schema) -> None:
    recipe = {
        "assignments": {
            "subject": "ngram(lowercase(no_punct('email subject')), 2)",
            "binned": "quantile_bin(age, 10)",
            "cross": "cartesian(binned, country)",
        },
        "outputs": ["subject", "cross", "normalize(capital-gain)", "osb(body, 4)"],
    }
    assert labels(recipe, schema) == [
        "ngram(lowercase(no_punct('email subject')),2)",
        "cartesian(quantile_bin(age,10),country)",
        "normalize(capital-gain)",
        "osb(body,4)",
    ]


def test_comments_are_allowed_after_output_items_and_in_the_json(schema: Schema) -> None:
    text = """{
      // the API allows comments
      "groups": {},
      "assignments": {},
      "outputs": [
        "age // numeric",
        "job" // categorical
      ]
    }"""
    assert labels(text, schema) == ["age", "job"]


def test_a_repeated_output_appears_once(schema: Schema) -> None:
    assert labels({"outputs": ["ALL_NUMERIC", "age"]}, schema) == ["age", "capital-gain"]


def test_an_empty_dependencies_section_is_ignored(schema: Schema) -> None:
    assert labels({"groups": {}, "dependencies": [], "outputs": ["age"]}, schema) == ["age"]


def test_lowercase_and_ngram_accept_categorical_values_as_text(schema: Schema) -> None:
    assert labels({"outputs": ["lowercase(job)", "ngram(job, 2)"]}, schema) == [
        "lowercase(job)",
        "ngram(job,2)",
    ]


def test_recipe_to_json_writes_the_sections_back(schema: Schema) -> None:
    recipe = {"groups": {"g": "group(age)"}, "assignments": {}, "outputs": ["g"]}
    assert json.loads(recipe_to_json(parse_recipe(recipe, schema))) == recipe


@pytest.mark.parametrize(
    ("recipe_file", "schema_file", "count"),
    [
        ("adult-defaultrecipe.json", "adult-train.csv.schema", 14),
        ("adult-tweakedrecipe.json", "adult-train.csv.schema", 23),
        ("banking-recipe.json", "banking.csv.schema", 20),
        ("mnist-recipe.json", "mnist-train.csv.schema", 784),
    ],
)
def test_the_real_recipes_parse_against_their_schemas(
    recipe_file: str, schema_file: str, count: int
) -> None:
    schema = parse_schema((DATA / schema_file).read_text())
    recipe = parse_recipe((DATA / recipe_file).read_text(), schema)
    assert len(recipe.outputs) == count


def test_the_tweaked_adult_recipe_has_its_cartesian_and_no_fnlwgt_numeric() -> None:
    schema = parse_schema((DATA / "adult-train.csv.schema").read_text())
    names = [
        o.label
        for o in parse_recipe((DATA / "adult-tweakedrecipe.json").read_text(), schema).outputs
    ]
    assert "cartesian(quantile_bin(hours-per-week,40),marital-status)" in names
    assert "fnlwgt" not in names and "quantile_bin(fnlwgt,500)" in names


# -- errors ----------------------------------------------------------------------------------


def test_errors_are_mlcore_errors_pointing_at_the_item(schema: Schema) -> None:
    caught = error({"outputs": ["age", "job", "ngram(body, 12)"]}, schema)
    assert isinstance(caught, MLCoreError)
    assert (caught.section, caught.item, caught.position) == ("outputs", 2, 12)
    assert str(caught) == "outputs[2]: ngram(body, 12): n must be 2 to 10 (at character 12)"


@pytest.mark.parametrize(
    ("recipe", "section", "item", "position", "message"),
    [
        ({"outputs": ["nope"]}, "outputs", 0, 0, "unknown name 'nope'"),
        ({"outputs": ["age", "y"]}, "outputs", 1, 0, "'y' is the target"),
        ({"outputs": ["id"]}, "outputs", 0, 0, "not an input"),
        ({"outputs": ["secret"]}, "outputs", 0, 0, "not an input"),
        ({"outputs": ["osb(body, 1)"]}, "outputs", 0, 10, "n must be 2 to 10"),
        ({"outputs": ["quantile_bin(age, 1001)"]}, "outputs", 0, 18, "n must be 2 to 1000"),
        ({"outputs": ["quantile_bin(age, 2.5)"]}, "outputs", 0, 18, "whole number"),
        ({"outputs": ["quantile_bin(age, x)"]}, "outputs", 0, 18, "whole number"),
        ({"outputs": ["quantile_bin(job, 10)"]}, "outputs", 0, 13, "needs NUMERIC input; job is"),
        ({"outputs": ["normalize(body)"]}, "outputs", 0, 10, "needs NUMERIC input"),
        ({"outputs": ["lowercase(age)"]}, "outputs", 0, 10, "needs CATEGORICAL or TEXT input"),
        ({"outputs": ["ngram(quantile_bin(age,5), 2)"]}, "outputs", 0, 6, "BINNED"),
        ({"outputs": ["cartesian(age, job)"]}, "outputs", 0, 10, "age is NUMERIC"),
        ({"outputs": ["ngram(body)"]}, "outputs", 0, 0, "ngram takes 2 arguments, got 1"),
        ({"outputs": ["lowercase(body, 2)"]}, "outputs", 0, 0, "takes 1 argument, got 2"),
        ({"outputs": ["shout(body)"]}, "outputs", 0, 0, "unknown function 'shout'"),
        ({"outputs": ["group(age)"]}, "outputs", 0, 0, "only allowed in the groups"),
        ({"outputs": ["42"]}, "outputs", 0, 0, "found the number 42"),
        ({"outputs": ["age)"]}, "outputs", 0, 3, "unexpected ')'"),
        ({"groups": {"g": "age"}, "outputs": ["g"]}, "groups", "g", 0, "group(...)"),
        ({"groups": {"g": "group(ALL_INPUTS)"}, "outputs": ["g"]}, "groups", "g", 6, "ALL_INPUTS"),
        ({"groups": {"g": "group_remove(age, job)"}, "outputs": ["g"]}, "groups", "g", 13, "first"),
        (
            {"groups": {"g": "group(lowercase(job))"}, "outputs": ["g"]},
            "groups",
            "g",
            6,
            "names only",
        ),
        ({"groups": {"g": "group(nope)"}, "outputs": ["g"]}, "groups", "g", 6, "unknown name"),
        ({"groups": {"g": "group()"}, "outputs": ["age"]}, "groups", "g", 0, "needs arguments"),
        (
            {"assignments": {"a": "lowercase(ALL_INPUTS)"}, "outputs": ["a"]},
            "assignments",
            "a",
            10,
            "ALL_INPUTS can only be used in outputs",
        ),
        (
            {"assignments": {"a": "quantile_bin(age, 0)"}, "outputs": ["a"]},
            "assignments",
            "a",
            18,
            "n must be 2 to 1000",
        ),
    ],
)
def test_each_error_names_its_section_item_and_position(
    schema: Schema,
    recipe: dict[str, object],
    section: str,
    item: str | int,
    position: int,
    message: str,
) -> None:
    caught = error(recipe, schema)
    assert (caught.section, caught.item, caught.position) == (section, item, position)
    assert message in str(caught)
    assert str(caught).startswith(f"{section}[{item}]: ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("1abc", "start with a letter"),
        ("a" * 65, "1 to 64 characters"),
        ("ALL_TEXT", "predefined"),
        ("age", "already an attribute"),
    ],
)
def test_group_and_assignment_names_are_checked(schema: Schema, name: str, message: str) -> None:
    for section in ("groups", "assignments"):
        expression = "group(age)" if section == "groups" else "normalize(age)"
        caught = error({section: {name: expression}, "outputs": ["age"]}, schema)
        assert (caught.section, caught.item) == (section, name)
        assert message in str(caught)


def test_a_64_character_name_is_fine(schema: Schema) -> None:
    assert labels({"groups": {"a" * 64: "group(age)"}, "outputs": ["a" * 64]}, schema) == ["age"]


def test_an_assignment_cannot_reuse_a_group_name(schema: Schema) -> None:
    caught = error(
        {"groups": {"g": "group(age)"}, "assignments": {"g": "normalize(age)"}, "outputs": ["g"]},
        schema,
    )
    assert "already a group name" in str(caught)


def test_a_cycle_between_groups_is_an_error(schema: Schema) -> None:
    caught = error({"groups": {"a": "group(b)", "b": "group(a)"}, "outputs": ["a"]}, schema)
    assert "refers to itself" in str(caught)


@pytest.mark.parametrize(
    ("recipe", "message"),
    [
        ({"groups": {}, "assignments": {}}, "outputs must be a non-empty list"),
        ({"outputs": []}, "outputs must be a non-empty list"),
        ({"outputs": "age"}, "outputs must be a non-empty list"),
        ({"outputs": [3]}, "each output is a string"),
        ({"outputs": ["age"], "extra": {}}, "unknown section 'extra'"),
        ({"outputs": ["age"], "groups": {}}, "in the order groups, assignments, outputs"),
        ({"groups": [], "outputs": ["age"]}, "groups must be an object"),
        ({"groups": {"g": 1}, "outputs": ["age"]}, "must be a string"),
        ({"dependencies": ["x"], "outputs": ["age"]}, "dependencies section must be empty"),
        ({"outputs": ["ALL_TEXT"]}, "produce no features"),
    ],
)
def test_malformed_sections_are_errors(
    schema: Schema, recipe: dict[str, object], message: str
) -> None:
    empty_text = Schema([Attribute("age", AttributeType.NUMERIC)])
    assert message in str(
        error(recipe, empty_text if "ALL_TEXT" in recipe.get("outputs", []) else schema)
    )  # type: ignore[operator]


def test_data_with_only_its_target_is_an_error_in_plain_words() -> None:
    only_target = Schema([Attribute("y", AttributeType.BINARY)], target="y")

    caught = error({"groups": {}, "assignments": {}, "outputs": ["ALL_INPUTS"]}, only_target)

    assert str(caught) == (
        "outputs: the data has no input attributes besides the target 'y': an ML model "
        "needs at least one other attribute to learn from"
    )


def test_invalid_json_is_an_error_with_its_position(schema: Schema) -> None:
    caught = error('{"outputs": ["age",]}', schema)
    assert caught.position == 19
    assert "not valid JSON" in str(caught) and "line 1" in str(caught)


def test_a_recipe_must_be_a_json_object(schema: Schema) -> None:
    assert "JSON object" in str(error('["age"]', schema))

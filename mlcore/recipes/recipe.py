"""Parsing a recipe (reference section 5.1) against a schema into a list of `OutputSpec`s.

>>> from mlcore.schema.model import Attribute, Schema
>>> schema = Schema([Attribute("age", AttributeType.NUMERIC), Attribute("job", AttributeType.CATEGORICAL),
...                  Attribute("y", AttributeType.BINARY)], target="y")
>>> recipe = parse_recipe('{"groups": {"N": "group(age)"}, "assignments": {},'
...                       ' "outputs": ["ALL_CATEGORICAL", "quantile_bin(N, 10)"]}', schema)
>>> [output.label for output in recipe.outputs]
['job', 'quantile_bin(age,10)']
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mlcore import safejson
from mlcore.recipes.errors import RecipeError
from mlcore.recipes.grammar import (
    Call,
    Expression,
    Name,
    Number,
    parse_expression,
    strip_json_comments,
)
from mlcore.recipes.nodes import FUNCTIONS, AttributeNode, Node, OutputSpec, TransformNode
from mlcore.schema.model import AttributeType, Schema

SECTIONS = ("groups", "assignments", "outputs")
ALL_INPUTS = "ALL_INPUTS"
PREDEFINED_GROUPS = {
    "ALL_TEXT": AttributeType.TEXT,
    "ALL_NUMERIC": AttributeType.NUMERIC,
    "ALL_CATEGORICAL": AttributeType.CATEGORICAL,
    "ALL_BINARY": AttributeType.BINARY,
}
_USER_NAME = re.compile(r"[A-Za-z].{0,63}", re.DOTALL)


@dataclass
class Recipe:
    """A parsed recipe: the sections as written, resolved groups and the expanded outputs."""

    groups: dict[str, str]
    assignments: dict[str, str]
    output_items: list[str]
    outputs: list[OutputSpec]
    group_members: dict[str, list[str]] = field(default_factory=dict)

    @property
    def attributes(self) -> list[str]:
        """Every attribute some output reads, in first-use order."""
        names = (name for output in self.outputs for name in output.attributes)
        return list(dict.fromkeys(names))


def parse_recipe(text: str | dict[str, Any], schema: Schema) -> Recipe:
    """Parse recipe JSON (text, with `//` comments allowed, or a dict) against `schema`."""
    data = _load_json(text) if isinstance(text, str) else text
    groups, assignments, outputs = _sections(data)
    resolver = _Resolver(schema, groups, assignments)
    for name in groups:
        resolver.group(name)
    for name in assignments:
        resolver.assignment(name)
    specs = resolver.outputs(outputs)
    return Recipe(groups, assignments, outputs, specs, resolver.resolved_groups)


def recipe_to_json(recipe: Recipe) -> str:
    """The recipe's sections as JSON text (comments are not kept)."""
    data = {
        "groups": recipe.groups,
        "assignments": recipe.assignments,
        "outputs": recipe.output_items,
    }
    return json.dumps(data, indent=2)


# -- the JSON around the expressions -----------------------------------------------------------


def _load_json(text: str) -> Any:
    try:
        return safejson.loads(strip_json_comments(text))
    except json.JSONDecodeError as error:
        raise RecipeError(
            f"the recipe is not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})",
            position=error.pos,
        ) from None


def _sections(data: Any) -> tuple[dict[str, str], dict[str, str], list[str]]:
    if not isinstance(data, dict):
        raise RecipeError("a recipe is a JSON object with groups, assignments and outputs")
    unknown = [key for key in data if key not in (*SECTIONS, "dependencies")]
    if unknown:
        raise RecipeError(f"unknown section {unknown[0]!r}; expected groups, assignments, outputs")
    present = [key for key in data if key in SECTIONS]
    if present != [key for key in SECTIONS if key in data]:
        raise RecipeError("sections must come in the order groups, assignments, outputs")
    if data.get("dependencies"):
        raise RecipeError("the dependencies section must be empty", section="dependencies")
    groups = _string_map(data.get("groups"), "groups")
    assignments = _string_map(data.get("assignments"), "assignments")
    outputs = data.get("outputs")
    if not isinstance(outputs, list) or not outputs:
        raise RecipeError("outputs must be a non-empty list", section="outputs")
    for index, item in enumerate(outputs):
        if not isinstance(item, str):
            raise RecipeError("each output is a string", section="outputs", item=index)
    return groups, assignments, list(outputs)


def _string_map(value: Any, section: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RecipeError(f"{section} must be an object of name: expression", section=section)
    for name, expression in value.items():
        if not isinstance(expression, str):
            raise RecipeError("the expression must be a string", section=section, item=name)
    return dict(value)


# -- names, groups, assignments, outputs ---------------------------------------------------------


class _Resolver:
    """Resolves names to attributes (groups) or transform trees (assignments, outputs).

    Groups and assignments may refer to each other in any order; a cycle is an error.
    """

    def __init__(self, schema: Schema, groups: dict[str, str], assignments: dict[str, str]) -> None:
        self.schema = schema
        self.inputs = {a.name: a for a in schema.input_attributes}
        self.group_sources = groups
        self.assignment_sources = assignments
        self.resolved_groups: dict[str, list[str]] = {
            name: [a.name for a in schema.input_attributes if a.type is type_]
            for name, type_ in PREDEFINED_GROUPS.items()
        }
        self.resolved_assignments: dict[str, list[Node]] = {}
        self.in_progress: set[str] = set()
        self._check_names()

    def _check_names(self) -> None:
        for section, names in (
            ("groups", self.group_sources),
            ("assignments", self.assignment_sources),
        ):
            for name in names:
                problem = self._name_problem(name, section)
                if problem:
                    raise RecipeError(problem, section=section, item=name)

    def _name_problem(self, name: str, section: str) -> str | None:
        if not _USER_NAME.fullmatch(name):
            return "a name must start with a letter and have 1 to 64 characters"
        if name in PREDEFINED_GROUPS or name == ALL_INPUTS:
            return f"{name} is a predefined group and cannot be redefined"
        if name in self.schema.names:
            return f"{name!r} is already an attribute name"
        if section == "assignments" and name in self.group_sources:
            return f"{name!r} is already a group name"
        return None

    @contextmanager
    def _item(self, section: str, item: str | int, text: str) -> Iterator[None]:
        try:
            yield
        except RecipeError as error:
            raise error.located(section=section, item=item, expression=text) from None

    def _enter(self, name: str, section: str) -> None:
        if name in self.in_progress:
            raise RecipeError(f"{name!r} refers to itself (a cycle between {section})")
        self.in_progress.add(name)

    # groups

    def group(self, name: str) -> list[str]:
        if name not in self.resolved_groups:
            text = self.group_sources[name]
            self._enter(name, "groups")
            with self._item("groups", name, text):
                self.resolved_groups[name] = self._group_expression(parse_expression(text))
            self.in_progress.discard(name)
        return self.resolved_groups[name]

    def _group_expression(self, expression: Expression) -> list[str]:
        if not isinstance(expression, Call) or expression.name not in ("group", "group_remove"):
            raise RecipeError(
                "a group is defined by group(...) or group_remove(...)",
                position=expression.position,
            )
        if not expression.args:
            raise RecipeError(f"{expression.name}() needs arguments", position=expression.position)
        members = [self._members(arg) for arg in expression.args]
        if expression.name == "group":
            return list(dict.fromkeys(itertools.chain.from_iterable(members)))
        first = expression.args[0]
        if not (isinstance(first, Name) and self._is_group(first.text)):
            raise RecipeError(
                "group_remove's first argument must be a group", position=first.position
            )
        removed = set(itertools.chain.from_iterable(members[1:]))
        return [name for name in members[0] if name not in removed]

    def _is_group(self, name: str) -> bool:
        return name in self.resolved_groups or name in self.group_sources

    def _members(self, arg: Expression) -> list[str]:
        """The attributes a group argument stands for: one attribute, or a group's members."""
        if not isinstance(arg, Name):
            raise RecipeError("a group holds attribute and group names only", position=arg.position)
        name = arg.text
        if name == ALL_INPUTS:
            raise RecipeError("ALL_INPUTS can only be used in outputs", position=arg.position)
        if self._is_group(name):
            return self.group(name)
        if name in self.assignment_sources:
            raise RecipeError(
                f"{name!r} is an assignment; a group holds attributes", position=arg.position
            )
        return [self._input(arg).name]

    def _input(self, arg: Name) -> AttributeNode:
        name = arg.text
        if name in self.inputs:
            return AttributeNode(name, self.inputs[name].type)
        if name in self.schema.names:
            role = (
                "the target"
                if name == self.schema.target
                else "not an input (row id, weight or excluded)"
            )
            raise RecipeError(f"{name!r} is {role}", position=arg.position)
        raise RecipeError(
            f"unknown name {name!r}: not an attribute, group or assignment", position=arg.position
        )

    # assignments and outputs

    def assignment(self, name: str) -> list[Node]:
        if name not in self.resolved_assignments:
            text = self.assignment_sources[name]
            self._enter(name, "assignments")
            with self._item("assignments", name, text):
                self.resolved_assignments[name] = self._trees(parse_expression(text), "assignments")
            self.in_progress.discard(name)
        return self.resolved_assignments[name]

    def outputs(self, items: list[str]) -> list[OutputSpec]:
        specs: dict[str, OutputSpec] = {}
        for index, text in enumerate(items):
            with self._item("outputs", index, text):
                for node in self._trees(parse_expression(text), "outputs"):
                    # the same output twice would only duplicate features
                    specs.setdefault(node.label, OutputSpec(node, text))
        if not specs:
            # A one-column file (only the target) empties every group: say that plainly.
            raise RecipeError(
                self.schema.why_no_inputs()
                or "the outputs produce no features (their groups are empty)",
                section="outputs",
            )
        return list(specs.values())

    def _trees(self, expression: Expression, section: str) -> list[Node]:
        if isinstance(expression, Number):
            raise RecipeError(
                f"expected a name, found the number {expression.text}", position=expression.position
            )
        if isinstance(expression, Name):
            return self._named_trees(expression, section)
        return self._call(expression, section)

    def _named_trees(self, arg: Name, section: str) -> list[Node]:
        name = arg.text
        if name == ALL_INPUTS:
            if section != "outputs":
                raise RecipeError("ALL_INPUTS can only be used in outputs", position=arg.position)
            return [AttributeNode(a.name, a.type) for a in self.schema.input_attributes]
        if self._is_group(name):
            return [AttributeNode(member, self.inputs[member].type) for member in self.group(name)]
        if name in self.assignment_sources:
            return self.assignment(name)
        return [self._input(arg)]

    def _call(self, call: Call, section: str) -> list[Node]:
        name = call.name
        if name in ("group", "group_remove"):
            raise RecipeError(
                f"{name}() is only allowed in the groups section", position=call.position
            )
        spec = FUNCTIONS.get(name)
        if spec is None:
            known = ", ".join(FUNCTIONS)
            raise RecipeError(f"unknown function {name!r}; known: {known}", position=call.position)
        expected = spec.inputs + (1 if spec.n_range else 0)
        if len(call.args) != expected:
            raise RecipeError(
                f"{name} takes {expected} argument{'s' if expected > 1 else ''}, got {len(call.args)}",
                position=call.position,
            )
        n = self._n(call, spec.n_range) if spec.n_range else None
        inputs = [
            self._checked(arg, section, spec.accepts, name) for arg in call.args[: spec.inputs]
        ]
        return [TransformNode(name, tuple(args), n) for args in itertools.product(*inputs)]

    def _n(self, call: Call, n_range: tuple[int, int]) -> int:
        arg = call.args[-1]
        low, high = n_range
        if not isinstance(arg, Number) or arg.value != int(arg.value):
            raise RecipeError(
                f"{call.name}'s last argument must be a whole number", position=arg.position
            )
        if not low <= arg.value <= high:
            raise RecipeError(f"n must be {low} to {high}", position=arg.position)
        return int(arg.value)

    def _checked(
        self, arg: Expression, section: str, accepts: frozenset[str], function: str
    ) -> list[Node]:
        trees = self._trees(arg, section)
        for tree in trees:
            if tree.kind not in accepts:
                wanted = " or ".join(sorted(accepts))
                raise RecipeError(
                    f"{function} needs {wanted} input; {tree.label} is {tree.kind}",
                    position=arg.position,
                )
        return trees

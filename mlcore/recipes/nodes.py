"""Transform trees: what one recipe output computes from one or two attributes.

A tree's leaves are attributes; its inner nodes are the recipe functions. Each node has a *kind*
that says what it yields, which is what the functions check their arguments against:

========== ============================================ ==========================================
kind       yielded by                                    encoded as (when it is an output)
========== ============================================ ==========================================
NUMERIC    NUMERIC attributes, `normalize`               standardised value + `:missing` indicator
BINARY     BINARY attributes                             one 0/1 feature
CATEGORICAL CATEGORICAL attributes (+ lowercase/no_punct) one-hot
TEXT       TEXT attributes (+ lowercase/no_punct)        bag of words (whitespace tokens)
BINNED     `quantile_bin`                                 one-hot over the bins
TOKENS     `ngram`, `osb`, `cartesian` of text/tokens     bag of tokens
========== ============================================ ==========================================

>>> node = TransformNode("quantile_bin", (AttributeNode("age", AttributeType.NUMERIC),), 50)
>>> node.label, node.kind
('quantile_bin(age,50)', 'BINNED')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mlcore.schema.model import AttributeType

NUMERIC, BINARY, CATEGORICAL, TEXT, BINNED, TOKENS = (
    "NUMERIC",
    "BINARY",
    "CATEGORICAL",
    "TEXT",
    "BINNED",
    "TOKENS",
)
_STRINGS = {CATEGORICAL, TEXT}
_CROSSABLE = {CATEGORICAL, TEXT, BINNED, TOKENS, BINARY}
_BARE_NAME = re.compile(r"[^\s,()'\"\\]+")
_NUMBER_LIKE = re.compile(r"[+-]?[\d.]")


@dataclass(frozen=True)
class FunctionSpec:
    """A recipe function: its arity, whether it takes `n` (and its range), what it accepts."""

    name: str
    inputs: int
    accepts: frozenset[str]
    n_range: tuple[int, int] | None = None

    def result_kind(self, kinds: tuple[str, ...]) -> str:
        if self.name in ("lowercase", "no_punct", "normalize"):
            return kinds[0]
        if self.name == "quantile_bin":
            return BINNED
        if self.name == "cartesian":
            one_each = all(kind in (CATEGORICAL, BINNED, BINARY) for kind in kinds)
            return CATEGORICAL if one_each else TOKENS
        return TOKENS  # ngram, osb


FUNCTIONS: dict[str, FunctionSpec] = {
    spec.name: spec
    for spec in (
        FunctionSpec("lowercase", 1, frozenset(_STRINGS)),
        FunctionSpec("no_punct", 1, frozenset(_STRINGS)),
        FunctionSpec("ngram", 1, frozenset(_STRINGS), (2, 10)),
        FunctionSpec("osb", 1, frozenset(_STRINGS), (2, 10)),
        # AML does not document the range; 1000 bins is already finer than most data supports
        FunctionSpec("quantile_bin", 1, frozenset({NUMERIC}), (2, 1000)),
        FunctionSpec("normalize", 1, frozenset({NUMERIC})),
        FunctionSpec("cartesian", 2, frozenset(_CROSSABLE)),
    )
}

KIND_OF_TYPE = {
    AttributeType.NUMERIC: NUMERIC,
    AttributeType.BINARY: BINARY,
    AttributeType.CATEGORICAL: CATEGORICAL,
    AttributeType.TEXT: TEXT,
}


def quote_name(name: str) -> str:
    """A name as an expression would spell it: bare when possible, else single-quoted.

    >>> quote_name("capital-gain"), quote_name("email subject"), quote_name("it's")
    ('capital-gain', "'email subject'", "'it\\\\'s'")
    """
    if _BARE_NAME.fullmatch(name) and "//" not in name and not _NUMBER_LIKE.match(name):
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class AttributeNode:
    """A leaf: one attribute of the schema."""

    name: str
    type: AttributeType

    @property
    def kind(self) -> str:
        return KIND_OF_TYPE[self.type]

    @property
    def label(self) -> str:
        return quote_name(self.name)

    @property
    def attributes(self) -> tuple[str, ...]:
        return (self.name,)

    def walk(self) -> list[Node]:
        return [self]

    def to_dict(self) -> dict[str, Any]:
        return {"attribute": self.name, "type": self.type.value}


@dataclass(frozen=True)
class TransformNode:
    """A recipe function applied to sub-trees; `n` for ngram, osb and quantile_bin."""

    function: str
    args: tuple[Node, ...]
    n: int | None = None

    @property
    def kind(self) -> str:
        return FUNCTIONS[self.function].result_kind(tuple(arg.kind for arg in self.args))

    @property
    def label(self) -> str:
        inner = [arg.label for arg in self.args] + ([] if self.n is None else [str(self.n)])
        return f"{self.function}({','.join(inner)})"

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(name for arg in self.args for name in arg.attributes)

    def walk(self) -> list[Node]:
        """This node and every node below it, parents first."""
        return [self, *(node for arg in self.args for node in arg.walk())]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"function": self.function, "args": [a.to_dict() for a in self.args]}
        if self.n is not None:
            data["n"] = self.n
        return data


Node = AttributeNode | TransformNode


def node_from_dict(data: dict[str, Any]) -> Node:
    """Inverse of `node.to_dict()`."""
    if "attribute" in data:
        return AttributeNode(str(data["attribute"]), AttributeType(data["type"]))
    n = data.get("n")
    return TransformNode(
        str(data["function"]),
        tuple(node_from_dict(arg) for arg in data["args"]),
        None if n is None else int(n),
    )


@dataclass(frozen=True)
class OutputSpec:
    """One expanded recipe output: a transform tree, and the output item it came from."""

    node: Node
    source: str = ""

    @property
    def label(self) -> str:
        return self.node.label

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def attributes(self) -> tuple[str, ...]:
        return self.node.attributes

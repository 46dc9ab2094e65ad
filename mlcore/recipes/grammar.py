"""Tokenizer and recursive-descent parser for recipe expressions, and JSON comment stripping.

An expression is a name, a number or a function call whose arguments are expressions:

    expression := NAME | NUMBER | NAME "(" [expression ("," expression)*] ")"

Names are bare (any run of characters other than whitespace, `,`, `(`, `)`, quotes and `\\`, so
`capital-gain` and `day_of_week` need no quotes) or quoted with `'` or `"` (a backslash escapes
the next character). A bare token made only of digits (with an optional sign and decimals) is a
number. `//` outside quotes starts a comment that runs to the end of the line.

>>> parse_expression("ngram(lowercase('email subject'), 2) // words")
Call(name='ngram', args=(Call(name='lowercase', args=(Name(text='email subject', position=16),), \
position=6), Number(value=2.0, text='2', position=34)), position=0)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mlcore.recipes.errors import RecipeError

_SPECIAL = set(",()'\"\\")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Token:
    kind: str  # NAME, STRING, NUMBER, "(", ")", ",", END
    text: str
    position: int


@dataclass(frozen=True)
class Name:
    """A reference to an attribute, group or assignment."""

    text: str
    position: int


@dataclass(frozen=True)
class Number:
    value: float
    text: str
    position: int


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Expression, ...]
    position: int


Expression = Name | Number | Call


def tokenize(text: str) -> list[Token]:
    """Split an expression into tokens, dropping whitespace and `//` comments.

    >>> [t.text for t in tokenize("f('a b', c) // note")]
    ['f', '(', 'a b', ',', 'c', ')', '']
    """
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
        elif char in "(),":
            tokens.append(Token(char, char, i))
            i += 1
        elif char in "'\"":
            token, i = _quoted(text, i)
            tokens.append(token)
        elif char == "\\":
            raise RecipeError("a backslash is only allowed inside a quoted name", position=i)
        else:
            token, i = _bare(text, i)
            tokens.append(token)
    tokens.append(Token("END", "", len(text)))
    return tokens


def _quoted(text: str, start: int) -> tuple[Token, int]:
    quote, chars, i = text[start], [], start + 1
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
        elif char == quote:
            return Token("STRING", "".join(chars), start), i + 1
        else:
            chars.append(char)
            i += 1
    raise RecipeError(f"unterminated quoted name (missing {quote})", position=start)


def _bare(text: str, start: int) -> tuple[Token, int]:
    i = start
    while (
        i < len(text)
        and not text[i].isspace()
        and text[i] not in _SPECIAL
        and not text.startswith("//", i)
    ):
        i += 1
    word = text[start:i]
    kind = "NUMBER" if _NUMBER.fullmatch(word) else "NAME"
    return Token(kind, word, start), i


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def expect(self, kind: str, what: str) -> Token:
        if self.current.kind != kind:
            raise RecipeError(
                f"expected {what}, found {_describe(self.current)}", position=self.current.position
            )
        return self.advance()

    def expression(self) -> Expression:
        token = self.current
        if token.kind == "NUMBER":
            self.advance()
            return Number(float(token.text), token.text, token.position)
        if token.kind == "STRING":
            self.advance()
            return Name(token.text, token.position)
        if token.kind != "NAME":
            raise RecipeError(f"expected a name, found {_describe(token)}", position=token.position)
        self.advance()
        if self.current.kind != "(":
            return Name(token.text, token.position)
        self.advance()
        return Call(token.text, self.arguments(), token.position)

    def arguments(self) -> tuple[Expression, ...]:
        args: list[Expression] = []
        if self.current.kind == ")":
            self.advance()
            return ()
        while True:
            args.append(self.expression())
            if self.current.kind == ")":
                self.advance()
                return tuple(args)
            self.expect(",", "',' or ')'")


def _describe(token: Token) -> str:
    if token.kind == "END":
        return "the end of the expression"
    return f"{token.text!r}"


def parse_expression(text: str) -> Expression:
    """Parse one recipe expression; `RecipeError(position=...)` on a syntax error."""
    parser = _Parser(text)
    if parser.current.kind == "END":
        raise RecipeError("the expression is empty", position=0)
    expression = parser.expression()
    if parser.current.kind != "END":
        token = parser.current
        raise RecipeError(
            f"unexpected {_describe(token)} after the expression", position=token.position
        )
    return expression


def strip_json_comments(text: str) -> str:
    """Blank out `// ...` comments that stand outside JSON strings (API recipes allow them).

    Comments inside strings are left for the expression parser. Characters are replaced by
    spaces, not removed, so json's error positions still match the original text.

    >>> strip_json_comments('{"outputs": ["a // kept"] // dropped\\n}')
    '{"outputs": ["a // kept"]           \\n}'
    """
    out = list(text)
    in_string = False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string:
            if char == "\\":
                i += 2
                continue
            in_string = char != '"'
        elif char == '"':
            in_string = True
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out[i:end] = " " * (end - i)
            i = end
            continue
        i += 1
    return "".join(out)

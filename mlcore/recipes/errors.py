"""The one error a recipe raises, pointing at the section, item and character that is wrong."""

from __future__ import annotations

from mlcore.errors import MLCoreError


class RecipeError(MLCoreError):
    """A recipe is malformed or does not fit the schema.

    `section` is `groups`, `assignments`, `outputs` or None (the JSON as a whole); `item` is a
    group or assignment name, or an output's index; `position` the 0-based character offset in
    the item's expression (or in the recipe text for JSON errors); `expression` the item's text.

    >>> str(RecipeError("n must be 2 to 10", section="outputs", item=2,
    ...                 expression="ngram(x, 12)", position=9))
    'outputs[2]: ngram(x, 12): n must be 2 to 10 (at character 9)'
    """

    def __init__(
        self,
        message: str,
        *,
        section: str | None = None,
        item: str | int | None = None,
        position: int | None = None,
        expression: str | None = None,
    ) -> None:
        super().__init__(message)
        self.section = section
        self.item = item
        self.position = position
        self.expression = expression

    def located(self, *, section: str, item: str | int, expression: str) -> RecipeError:
        """This error, placed in a recipe item if it was not placed yet."""
        if self.section is None:
            self.section, self.item, self.expression = section, item, expression
        return self

    def __str__(self) -> str:
        parts = []
        if self.section is not None:
            parts.append(self.section if self.item is None else f"{self.section}[{self.item}]")
        if self.expression is not None:
            parts.append(self.expression.strip())
        parts.append(self.message)
        text = ": ".join(parts)
        return f"{text} (at character {self.position})" if self.position is not None else text

"""Recipes (reference section 5): parsing, fitting on training data, encoding, suggesting.

>>> recipe = parse_recipe(recipe_text, schema)                        # doctest: +SKIP
>>> fitted = fit_recipe(recipe, schema, (c.frame for c in reader))   # doctest: +SKIP
>>> batch = fitted.encode(chunk.frame, y)                            # doctest: +SKIP
"""

from __future__ import annotations

from mlcore.recipes.errors import RecipeError
from mlcore.recipes.fitted import FittedOutput, FittedRecipe, fit_recipe
from mlcore.recipes.grammar import Call, Name, Number, parse_expression, strip_json_comments
from mlcore.recipes.nodes import FUNCTIONS, AttributeNode, OutputSpec, TransformNode
from mlcore.recipes.recipe import PREDEFINED_GROUPS, Recipe, parse_recipe, recipe_to_json
from mlcore.recipes.suggest import suggest_recipe

__all__ = [
    "FUNCTIONS",
    "PREDEFINED_GROUPS",
    "AttributeNode",
    "Call",
    "Name",
    "Number",
    "FittedOutput",
    "FittedRecipe",
    "OutputSpec",
    "Recipe",
    "RecipeError",
    "TransformNode",
    "fit_recipe",
    "parse_expression",
    "parse_recipe",
    "recipe_to_json",
    "strip_json_comments",
    "suggest_recipe",
]

"""Image files: reading and writing containers, the recipe and A1111 infotext embedded in them,
thumbnails and contact sheets."""

from studio.images.metadata import embed_recipe, read_recipe_file
from studio.images.recipes import take_recipe

__all__ = [
    "embed_recipe",
    "read_recipe_file",
    "take_recipe",
]

"""What a published file's C2PA manifest says, as the plain definition the SDK signs.

A studio manifest holds two assertions:

- ``c2pa.actions.v2``: ``c2pa.created`` with the IPTC digital source type (trained algorithmic
  media for a model's image, algorithmic media for the procedural ``local`` renderer, which is
  no trained model), or ``c2pa.opened`` of the provider's own signed image when there is one;
  then ``c2pa.resized`` when the file is an upscale.
- :data:`RECIPE_LABEL`: the studio recipe, the same dict the file carries in its metadata.

When the provider's image carried credentials it is the manifest's ``parentOf`` ingredient,
so its manifest travels inside ours and a reader walks the chain back to the vendor.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from providers.table import spec_of

RECIPE_LABEL = "org.studio.recipe"
GENERATOR = "studio"
PROVIDER_INGREDIENT = "provider-image"
_IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
TRAINED = _IPTC + "trainedAlgorithmicMedia"
PROCEDURAL = _IPTC + "algorithmicMedia"
MIME = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


def source_type(recipe: Mapping[str, Any]) -> str:
    """The digital source type of the recipe's image: procedural for an in-process renderer."""
    spec = spec_of(str(recipe.get("provider") or ""))
    return PROCEDURAL if spec is not None and spec.in_process else TRAINED


def definition(
    recipe: Mapping[str, Any], *, title: str, version: str, from_provider_image: bool, upscaled: bool
) -> dict[str, Any]:
    """The manifest definition for a published file.

    Args:
        recipe: The studio recipe (:func:`studio.images.recipes.take_recipe`).
        title: The published file's name.
        version: The studio's version, for ``claim_generator_info``.
        from_provider_image: The provider's signed image is added as the parent ingredient
            (:func:`provider_ingredient`), so the first action opens it.
        upscaled: The file is an upscale of the render.
    """
    if from_provider_image:
        first: dict[str, Any] = {"action": "c2pa.opened", "parameters": {"ingredientIds": [PROVIDER_INGREDIENT]}}
    else:
        first = {"action": "c2pa.created", "digitalSourceType": source_type(recipe)}
    actions = [first]
    if upscaled:
        upscaler = recipe.get("upscaler")
        actions.append({"action": "c2pa.resized", **({"softwareAgent": {"name": upscaler}} if upscaler else {})})
    return {
        "claim_generator_info": [{"name": GENERATOR, "version": version}],
        "title": title,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            # JSON, not the default CBOR: the SDK would turn a list of small numbers (the size) into bytes.
            {"label": RECIPE_LABEL, "kind": "Json", "data": dict(recipe)},
        ],
    }


def provider_ingredient(recipe: Mapping[str, Any]) -> dict[str, Any]:
    """The ingredient definition of the provider's signed image: the published file's parent."""
    provider = recipe.get("provider") or "provider"
    return {"title": f"{provider} image", "relationship": "parentOf", "label": PROVIDER_INGREDIENT}

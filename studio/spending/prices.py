"""What a provider call costs: a price table with overrides, as plain functions.

Prices are US dollars per call (one image rendered, upscaled or reviewed), taken from the
vendors' public price lists in 2026 at about one megapixel. They are estimates for budgeting,
not invoices: set ``STUDIO_PRICES`` to your contract's figures (see the README).

Keys, most specific first: ``stage:provider:model``, ``stage:provider``, then — for renders
only — ``provider:model`` and ``provider``.
"""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_PRICES: dict[str, float] = {
    # Renders.
    "local": 0.0,
    "mistral": 0.10,  # Agents image_generation tool: $100 per 1,000 images
    "gemini": 0.039,  # gemini-2.5-flash-image: 1,290 output tokens at $30 / 1M
    "replicate": 0.003,
    "replicate:black-forest-labs/flux-schnell": 0.003,
    "replicate:black-forest-labs/flux-dev": 0.025,
    "replicate:black-forest-labs/flux-1.1-pro": 0.04,
    "fal": 0.003,
    "fal:fal-ai/flux/schnell": 0.003,
    "fal:fal-ai/flux/dev": 0.025,
    "fal:fal-ai/flux/dev/image-to-image": 0.025,
    # Upscales.
    "upscale:local": 0.0,
    "upscale:replicate": 0.002,
    "upscale:fal": 0.002,
    "upscale:fal:fal-ai/clarity-upscaler": 0.03,
    # Reviews (a vision chat of one image and a short answer).
    "review:local": 0.0,
    "review:mistral": 0.002,
    "review:gemini": 0.001,
}


def price_keys(stage: str, provider: str, model: str | None) -> list[str]:
    """The table keys that may price a call, most specific first."""
    keys = []
    if model:
        keys.append(f"{stage}:{provider}:{model}")
    keys.append(f"{stage}:{provider}")
    if stage == "render":
        if model:
            keys.append(f"{provider}:{model}")
        keys.append(provider)
    return keys


def _base_model(model: str | None) -> str | None:
    # A pinned version ("owner/name:sha") is priced like its model.
    if model and ":" in model and "/" in model.split(":", 1)[0]:
        return model.split(":", 1)[0]
    return model


def price_of(
    stage: str, provider: str, model: str | None = None, overrides: Mapping[str, float] | None = None
) -> float:
    """The price in USD of one ``stage`` call (render, upscale, review) to ``provider``.

    Overrides win over the defaults at every level of specificity, so ``{"replicate": 0.01}``
    reprices every Replicate render whatever its model. An unknown provider costs 0.
    """
    keys = price_keys(stage, provider, _base_model(model))
    for table in (overrides or {}, DEFAULT_PRICES):
        for key in keys:
            if key in table:
                return float(table[key])
    return 0.0

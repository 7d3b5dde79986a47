"""What a provider call costs: a price table with overrides, as plain functions.

Prices are US dollars per call (one image rendered, upscaled or reviewed), taken from the
vendors' public price lists in 2026 at about one megapixel. They are estimates for budgeting,
not invoices: set ``STUDIO_PRICES`` to your contract's figures (see the README).

Keys, most specific first: ``stage:provider:model``, ``stage:provider``, then — for renders
only — ``provider:model`` and ``provider``.
"""

from __future__ import annotations

from collections.abc import Mapping

from providers.table import default_prices

# Every provider's prices, declared in its entry of the provider table (providers/<name>/spec.py).
DEFAULT_PRICES: dict[str, float] = default_prices()


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

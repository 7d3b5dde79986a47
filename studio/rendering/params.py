"""What a take's ``params`` hold for one provider: a plain function the render activity calls.

A take planned from a project keeps each self-hosted provider's options apart, under
``params["providers"][<provider>]`` (``{"providers": {"comfyui": {"workflow": <asset key>,
"steps": 30}, "a1111": {"steps": 30}}}``), because a shot's chain may hold both and each reads
only its own. A take planned by a replay carries the recorded recipe's params instead: flat, and
already the one provider's. Both shapes come out of :func:`provider_params` as one flat dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["PROVIDERS_PARAM", "WORKFLOW_PARAM", "provider_params"]

PROVIDERS_PARAM = "providers"
"""The key of a take's params that holds each provider's own options."""
WORKFLOW_PARAM = "workflow"
"""The option naming a ComfyUI workflow: the asset key of its canonical JSON, stored at launch."""


def provider_params(params: Mapping[str, Any] | None, provider: str) -> dict[str, Any]:
    """The params to send ``provider``: the take's own, updated with that provider's options.

    Args:
        params: A take's params (None or empty when it has none).
        provider: The provider about to render the take (its canonical name).

    Returns:
        A new dict: ``params`` without the per-provider table, updated with
        ``params["providers"][provider]`` when there is one. Flat params (a replay's recipe)
        come back unchanged.
    """
    if not params:
        return {}
    flat = {key: value for key, value in params.items() if key != PROVIDERS_PARAM}
    per_provider = params.get(PROVIDERS_PARAM)
    if isinstance(per_provider, Mapping):
        own = per_provider.get(provider)
        if isinstance(own, Mapping):
            flat.update(own)
    return flat

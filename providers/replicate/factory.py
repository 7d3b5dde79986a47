"""Builds Replicate's adapters from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from providers.replicate.flux import ReplicateRenderer
from providers.replicate.upscale import ReplicateUpscaler
from providers.spec import AdapterConfig


def renderer(config: AdapterConfig) -> ReplicateRenderer:
    """Flux on Replicate, the model from settings (``STUDIO_REPLICATE_MODEL``)."""
    if config.model is None:
        return ReplicateRenderer(config.key, base_url=config.base_url)
    return ReplicateRenderer(config.key, base_url=config.base_url, model=config.model)


def upscaler(config: AdapterConfig) -> ReplicateUpscaler:
    """Real-ESRGAN on Replicate."""
    return ReplicateUpscaler(config.key, base_url=config.base_url)

"""Builds fal's adapters from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from providers.fal.flux import FalRenderer
from providers.fal.upscale import FalUpscaler
from providers.spec import AdapterConfig


def renderer(config: AdapterConfig) -> FalRenderer:
    """Flux on fal, the model from settings (``STUDIO_FAL_MODEL``)."""
    if config.model is None:
        return FalRenderer(config.key, base_url=config.base_url)
    return FalRenderer(config.key, base_url=config.base_url, model=config.model)


def upscaler(config: AdapterConfig) -> FalUpscaler:
    """ESRGAN on fal."""
    return FalUpscaler(config.key, base_url=config.base_url)

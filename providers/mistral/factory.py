"""Builds Mistral's adapters from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from providers.mistral.adapter import MistralRenderer, MistralReviewer
from providers.spec import AdapterConfig


def renderer(config: AdapterConfig) -> MistralRenderer:
    """Image generation through the Conversations API."""
    return MistralRenderer(config.key, base_url=config.base_url, timeout=config.timeout)


def reviewer(config: AdapterConfig) -> MistralReviewer:
    """Pixtral vision review."""
    return MistralReviewer(config.key, base_url=config.base_url)

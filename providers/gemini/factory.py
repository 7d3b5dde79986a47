"""Builds Gemini's adapters from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from providers.gemini.adapter import GeminiRenderer, GeminiReviewer
from providers.spec import AdapterConfig


def renderer(config: AdapterConfig) -> GeminiRenderer:
    """Image generation (2.5 Flash Image) through ``generateContent``."""
    return GeminiRenderer(config.key, base_url=config.base_url, timeout=config.timeout)


def reviewer(config: AdapterConfig) -> GeminiReviewer:
    """Vision review through ``generateContent``."""
    return GeminiReviewer(config.key, base_url=config.base_url)

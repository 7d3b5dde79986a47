"""Builds the local adapters from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from providers.local.post import LocalReviewer, LocalUpscaler
from providers.local.render import LocalRenderer
from providers.spec import AdapterConfig


def renderer(config: AdapterConfig) -> LocalRenderer:
    """The procedural preview renderer, slowed by ``config.latency`` (tests and demos)."""
    return LocalRenderer(latency=config.latency)


def upscaler(config: AdapterConfig) -> LocalUpscaler:
    """The Lanczos upscaler (it reads nothing from ``config``)."""
    return LocalUpscaler()


def reviewer(config: AdapterConfig) -> LocalReviewer:
    """The heuristic reviewer (it reads nothing from ``config``)."""
    return LocalReviewer()

"""Gemini's entry in the provider table: stdlib data, no HTTP client import."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

SPEC = ProviderSpec(
    name="gemini",
    key=Setting("gemini_api_key", "GEMINI_API_KEY", secret=True),
    base_url=Setting("gemini_base_url", "GEMINI_BASE_URL", "https://generativelanguage.googleapis.com"),
    render="providers.gemini.factory:renderer",
    review="providers.gemini.factory:reviewer",
    image_to_image=True,
    models=MappingProxyType({"render": "gemini-2.5-flash-image", "review": "gemini-2.5-flash"}),
    prices=MappingProxyType(
        {
            "gemini": 0.039,  # gemini-2.5-flash-image: 1,290 output tokens at $30 / 1M
            "review:gemini": 0.001,  # a vision chat of one image and a short answer
        }
    ),
)

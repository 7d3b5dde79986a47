"""Mistral's entry in the provider table: stdlib data, no HTTP client import."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

SPEC = ProviderSpec(
    name="mistral",
    aliases=("pixtral",),  # Mistral's image generation, as creators often call it
    key=Setting("mistral_api_key", "MISTRAL_API_KEY", secret=True),
    base_url=Setting("mistral_base_url", "MISTRAL_BASE_URL", "https://api.mistral.ai"),
    render="providers.mistral.factory:renderer",
    review="providers.mistral.factory:reviewer",
    models=MappingProxyType({"render": "mistral-medium-latest", "review": "pixtral-large-latest"}),
    prices=MappingProxyType(
        {
            "mistral": 0.10,  # Agents image_generation tool: $100 per 1,000 images
            "review:mistral": 0.002,  # a vision chat of one image and a short answer
        }
    ),
)

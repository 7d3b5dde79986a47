"""Replicate's entry in the provider table: stdlib data, no ``replicate`` import."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

SPEC = ProviderSpec(
    name="replicate",
    key=Setting("replicate_api_token", "REPLICATE_API_TOKEN", secret=True),
    base_url=Setting("replicate_base_url", "REPLICATE_BASE_URL", "https://api.replicate.com"),
    model=Setting("replicate_model", "STUDIO_REPLICATE_MODEL", "black-forest-labs/flux-schnell"),
    render="providers.replicate.factory:renderer",
    upscale="providers.replicate.factory:upscaler",
    image_to_image=True,
    mask_edit=True,
    seeded=True,
    # "fill": where mask edits go (Flux Fill edits only inside the mask; providers.replicate.flux).
    models=MappingProxyType(
        {
            "render": "black-forest-labs/flux-schnell",
            "upscale": "nightmareai/real-esrgan",
            "fill": "black-forest-labs/flux-fill-pro",
        }
    ),
    prices=MappingProxyType(
        {
            "replicate": 0.003,
            "replicate:black-forest-labs/flux-schnell": 0.003,
            "replicate:black-forest-labs/flux-dev": 0.025,
            "replicate:black-forest-labs/flux-1.1-pro": 0.04,
            "replicate:black-forest-labs/flux-fill-pro": 0.05,
            "replicate:black-forest-labs/flux-fill-dev": 0.04,
            "upscale:replicate": 0.002,
        }
    ),
)

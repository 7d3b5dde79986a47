"""fal's entry in the provider table: stdlib data, no ``fal_client`` import."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

SPEC = ProviderSpec(
    name="fal",
    key=Setting("fal_key", "FAL_KEY", secret=True),
    base_url=Setting("fal_base_url", "FAL_BASE_URL", "https://queue.fal.run"),
    model=Setting("fal_model", "STUDIO_FAL_MODEL", "fal-ai/flux/schnell"),
    render="providers.fal.factory:renderer",
    upscale="providers.fal.factory:upscaler",
    image_to_image=True,
    mask_edit=True,
    seeded=True,
    # "fill": where mask edits go (FLUX.1 [pro] Fill edits only inside the mask; providers.fal.flux).
    models=MappingProxyType(
        {"render": "fal-ai/flux/schnell", "upscale": "fal-ai/esrgan", "fill": "fal-ai/flux-pro/v1/fill"}
    ),
    prices=MappingProxyType(
        {
            "fal": 0.003,
            "fal:fal-ai/flux/schnell": 0.003,
            "fal:fal-ai/flux/dev": 0.025,
            "fal:fal-ai/flux/dev/image-to-image": 0.025,
            "fal:fal-ai/flux-pro/v1/fill": 0.05,  # $0.05 a megapixel: a 1 MP frame
            "upscale:fal": 0.002,
            "upscale:fal:fal-ai/clarity-upscaler": 0.03,
        }
    ),
)

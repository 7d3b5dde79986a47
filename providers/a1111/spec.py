"""The ``a1111`` entry of the provider table: stdlib data, no HTTP import."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

DEFAULT_UPSCALER = "R-ESRGAN 4x+"
"""The ``extra-single-image`` upscaler used by default: built into AUTOMATIC1111 and Forge."""

SPEC = ProviderSpec(
    name="a1111",
    aliases=("forge", "automatic1111"),
    label="a1111 (AUTOMATIC1111 / Forge on your own GPUs)",
    nodes=Setting("a1111_urls", "A1111_URLS"),
    auth=Setting("a1111_auth", "A1111_AUTH", secret=True),
    render="providers.a1111.factory:renderer",
    upscale="providers.a1111.factory:upscaler",
    probe="providers.a1111.factory:probe",
    image_to_image=True,
    mask_edit=True,
    seeded=True,
    # A new chain member would change what every project without a chain does (see ProviderSpec).
    in_default_chain=False,
    # The render model is whatever checkpoint the node has loaded (or the shot names): the recipe
    # records the one that was used.
    models=MappingProxyType({"render": "checkpoint", "upscale": DEFAULT_UPSCALER}),
    # The creator's own GPU: free unless they set an electricity price per image.
    prices=MappingProxyType({"a1111": 0.0, "upscale:a1111": 0.0}),
)

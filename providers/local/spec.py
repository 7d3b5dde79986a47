"""The local provider's entry in the provider table: stdlib data, no Pillow import."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec

SPEC = ProviderSpec(
    name="local",
    label="local (procedural preview)",  # a procedural preview renderer, never to be taken for a model
    render="providers.local.factory:renderer",
    upscale="providers.local.factory:upscaler",
    review="providers.local.factory:reviewer",
    image_to_image=True,
    mask_edit=True,
    seeded=True,
    in_process=True,
    models=MappingProxyType(
        {"render": "local-procedural-v2", "upscale": "local-lanczos-unsharp", "review": "local-heuristics-v1"}
    ),
    prices=MappingProxyType({"local": 0.0, "upscale:local": 0.0, "review:local": 0.0}),
)

"""ComfyUI's entry in the provider table: stdlib data, no HTTP client imported."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

SPEC = ProviderSpec(
    name="comfyui",
    label="comfyui (your own GPUs)",
    nodes=Setting("comfyui_urls", "COMFYUI_URLS"),
    auth=Setting("comfyui_token", "COMFYUI_TOKEN", secret=True),
    render="providers.comfyui.factory:renderer",
    probe="providers.comfyui.factory:probe",
    image_to_image=True,
    mask_edit=True,
    seeded=True,
    # A project asks for its own GPUs by naming comfyui in its chain.
    in_default_chain=False,
    models=MappingProxyType({"render": "workflow"}),
    # Free unless the creator prices the power a render takes.
    prices=MappingProxyType({"comfyui": 0.0}),
)

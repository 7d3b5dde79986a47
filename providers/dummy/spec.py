"""The dummy provider's entry in the provider table."""

from __future__ import annotations

from types import MappingProxyType

from providers.spec import ProviderSpec, Setting

SPEC = ProviderSpec(
    name="dummy",
    aliases=("dum",),
    key=Setting("dummy_api_key", "DUMMY_API_KEY", secret=True),
    base_url=Setting("dummy_base_url", "DUMMY_BASE_URL", "http://dummy.invalid"),
    model=Setting("dummy_model", "STUDIO_DUMMY_MODEL", "dummy-v1"),
    render="providers.dummy.adapter:renderer",
    upscale="providers.dummy.adapter:upscaler",
    review="providers.dummy.adapter:reviewer",
    image_to_image=True,
    seeded=True,
    in_default_chain=False,  # only projects that name it
    models=MappingProxyType({"render": "dummy-v1", "upscale": "dummy-up", "review": "dummy-eye"}),
    prices=MappingProxyType({"dummy": 0.5, "dummy:dummy-v1": 0.5, "upscale:dummy": 0.25, "review:dummy": 0.125}),
)

"""studio.rendering.params: what a take's params hold for the provider about to render it."""

from __future__ import annotations

from typing import Any

import pytest

from studio.rendering.params import PROVIDERS_PARAM, WORKFLOW_PARAM, provider_params

PLANNED = {
    "style_preset": "film",
    PROVIDERS_PARAM: {
        "comfyui": {WORKFLOW_PARAM: "ab12.json", "steps": 30, "style_preset": "comfy"},
        "a1111": {"sampler": "Euler a"},
    },
}


def test_a_provider_gets_its_own_options_over_the_shared_ones() -> None:
    assert provider_params(PLANNED, "comfyui") == {"style_preset": "comfy", WORKFLOW_PARAM: "ab12.json", "steps": 30}
    assert provider_params(PLANNED, "a1111") == {"style_preset": "film", "sampler": "Euler a"}


def test_a_provider_without_options_gets_the_rest() -> None:
    assert provider_params(PLANNED, "gemini") == {"style_preset": "film"}


@pytest.mark.parametrize("params", [None, {}])
def test_no_params_is_an_empty_dict(params: dict[str, Any] | None) -> None:
    assert provider_params(params, "comfyui") == {}


def test_a_replays_flat_recipe_passes_through() -> None:
    recipe = {WORKFLOW_PARAM: "ab12.json", "workflow_sha256": "ab12", "steps": 30, "cfg": 6.5}
    assert provider_params(recipe, "comfyui") == recipe


def test_the_take_is_not_changed() -> None:
    planned = {PROVIDERS_PARAM: {"comfyui": {"steps": 30}}}
    provider_params(planned, "comfyui")["steps"] = 1
    assert planned == {PROVIDERS_PARAM: {"comfyui": {"steps": 30}}}

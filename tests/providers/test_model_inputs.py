"""Each Replicate and fal model gets only the inputs its schema has, at every size the studio asks.

The fakes check every call against tests/providers/model_schemas.py (written apart from the
adapters' table), so an input a model lacks or a ratio it does not take fails here as a 422.
"""

from __future__ import annotations

import fal_client.client
import pytest

from providers.base import InvalidRequest, RenderRequest
from providers.fal.flux import FalRenderer
from providers.fal.upscale import CLARITY, FalUpscaler
from providers.model_inputs import MODEL_INPUTS, size_inputs
from providers.replicate.flux import ReplicateRenderer
from providers.replicate.upscale import ReplicateUpscaler
from tests.providers.fakes import FakeFal, FakeReplicate, image_size, make_png
from tests.providers.model_schemas import FAL_SCHEMAS, REPLICATE_SCHEMAS

KEY = "test-key-123"
SIZES = [(2048, 878), (1024, 1024), (1344, 768), (768, 1344), (512, 512)]
"""21:9, square, 7:4 (no Flux ratio), its portrait, small square."""
SCHNELL, DEV, PRO = (f"black-forest-labs/{name}" for name in ("flux-schnell", "flux-dev", "flux-1.1-pro"))


@pytest.fixture(autouse=True)
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 1)  # fal's client retries 4xx/5xx itself


def flux(fake: FakeReplicate, model: str) -> ReplicateRenderer:
    return ReplicateRenderer(KEY, base_url=fake.base_url, model=model, poll_interval=0.01)


# -- Replicate -----------------------------------------------------------------------------------
@pytest.mark.parametrize("model", [SCHNELL, DEV, PRO])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_replicate_models_take_every_studio_size(
    replicate: FakeReplicate, model: str, size: tuple[int, int]
) -> None:
    result = await flux(replicate, model).render(
        RenderRequest(prompt="a lighthouse", width=size[0], height=size[1], seed=11)
    )
    sent = replicate.last("create").json["input"]
    assert set(sent) <= set(REPLICATE_SCHEMAS[model])  # the fake would have said 422 otherwise
    assert result.params == sent and result.seed == 11 and result.reproducible is True


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((2048, 878), {"aspect_ratio": "custom", "width": 1440, "height": 608}),  # no 21:9 on 1.1 pro
        ((1344, 768), {"aspect_ratio": "custom", "width": 1344, "height": 768}),  # 7:4 is no listed ratio
        ((768, 1344), {"aspect_ratio": "custom", "width": 768, "height": 1344}),
        ((1024, 1024), {"aspect_ratio": "1:1"}),
        ((1920, 1080), {"aspect_ratio": "16:9"}),
    ],
)
async def test_flux_pro_uses_custom_sizes_where_no_ratio_fits(
    replicate: FakeReplicate, size: tuple[int, int], expected: dict[str, object]
) -> None:
    result = await flux(replicate, PRO).render(RenderRequest(prompt="x", width=size[0], height=size[1], seed=3))
    sent = replicate.last("create").json["input"]
    assert {k: sent[k] for k in expected} == expected and result.params == sent
    assert "go_fast" not in sent and "num_outputs" not in sent  # flux-1.1-pro has neither
    if expected["aspect_ratio"] == "custom":
        assert image_size(result.image) == (expected["width"], expected["height"])


@pytest.mark.parametrize(
    ("size", "ratio"), [((2048, 878), "21:9"), ((1344, 768), "16:9"), ((768, 1344), "9:16"), ((512, 512), "1:1")]
)
async def test_schnell_takes_listed_ratios_or_the_nearest(
    replicate: FakeReplicate, size: tuple[int, int], ratio: str
) -> None:
    await flux(replicate, SCHNELL).render(RenderRequest(prompt="x", width=size[0], height=size[1]))
    sent = replicate.last("create").json["input"]
    assert sent["aspect_ratio"] == ratio and "width" not in sent and sent["go_fast"] is False


async def test_reproducible_follows_what_the_model_does_with_a_seed(replicate: FakeReplicate) -> None:
    fast = RenderRequest(prompt="x", width=512, height=512, seed=4, params={"go_fast": True})
    assert (await flux(replicate, SCHNELL).render(fast)).reproducible is False  # fast mode ignores determinism
    upsampled = RenderRequest(prompt="x", width=512, height=512, seed=4, params={"prompt_upsampling": True})
    assert (await flux(replicate, PRO).render(upsampled)).reproducible is False  # an LLM rewrites the prompt
    plain = RenderRequest(prompt="x", width=512, height=512, seed=4)
    assert (await flux(replicate, PRO).render(plain)).reproducible is True


async def test_a_replayed_schnell_recipe_runs_on_flux_pro(replicate: FakeReplicate) -> None:
    first = await flux(replicate, SCHNELL).render(RenderRequest(prompt="x", width=2048, height=878, seed=8))
    again = RenderRequest(prompt="x", width=2048, height=878, seed=8, params=first.params)
    result = await flux(replicate, PRO).render(again)
    sent = replicate.last("create").json["input"]
    assert "go_fast" not in sent and sent["aspect_ratio"] == "custom" and result.seed == 8


async def test_a_remix_seed_is_not_overridden_by_the_recipe(replicate: FakeReplicate) -> None:
    first = await flux(replicate, DEV).render(
        RenderRequest(prompt="x", width=512, height=512, seed=1, params={"guidance": 4.5})
    )
    remix = RenderRequest(prompt="x", width=512, height=512, seed=2, params=first.params)
    result = await flux(replicate, DEV).render(remix)
    sent = replicate.last("create").json["input"]
    assert sent["seed"] == 2 == result.seed and sent["guidance"] == 4.5  # tunables carry over


async def test_an_init_image_on_a_model_without_image_input_is_recorded_as_ignored(replicate: FakeReplicate) -> None:
    req = RenderRequest(prompt="x", width=512, height=512, init_image=make_png(16, 16), strength=0.5)
    result = await flux(replicate, PRO).render(req)
    assert "image" not in replicate.last("create").json["input"]
    assert result.params["init_image_ignored"] is True


async def test_a_model_without_a_table_row_is_refused_before_sending(replicate: FakeReplicate) -> None:
    with pytest.raises(InvalidRequest) as info:
        await flux(replicate, "someone/mystery-model").render(RenderRequest(prompt="x", width=64, height=64))
    assert replicate.count() == 0 and "model_inputs" in str(info.value)


# -- fal -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", ["fal-ai/flux/schnell", "fal-ai/flux/dev"])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_fal_models_take_every_studio_size(fal: FakeFal, model: str, size: tuple[int, int]) -> None:
    r = FalRenderer(KEY, base_url=fal.base_url, model=model, poll_interval=0.01)
    result = await r.render(RenderRequest(prompt="a lighthouse", width=size[0], height=size[1], seed=5))
    args = fal.last("submit").json
    assert set(args) <= set(FAL_SCHEMAS[model])
    assert args["image_size"] == {"width": size[0], "height": size[1]}
    assert image_size(result.image) == size and result.reproducible is True and result.params == args


async def test_fal_remix_keeps_its_own_seed_and_drops_foreign_inputs(fal: FakeFal) -> None:
    r = FalRenderer(KEY, base_url=fal.base_url, poll_interval=0.01)
    recipe = {"seed": 1, "go_fast": False, "aspect_ratio": "16:9", "num_inference_steps": 6, "image_size": "square"}
    result = await r.render(RenderRequest(prompt="x", width=96, height=64, seed=2, params=recipe))
    args = fal.last("submit").json
    assert args["seed"] == 2 == result.seed and args["num_inference_steps"] == 6
    assert "go_fast" not in args and "aspect_ratio" not in args
    assert args["image_size"] == {"width": 96, "height": 64}


# -- upscalers -----------------------------------------------------------------------------------
async def test_upscale_factor_outside_the_model_range_is_refused_before_sending(fal: FakeFal) -> None:
    with pytest.raises(InvalidRequest) as info:
        await FalUpscaler(KEY, base_url=fal.base_url, model=CLARITY).upscale(make_png(8, 8), factor=6)
    assert fal.count() == 0 and "upscale_factor" in str(info.value)


async def test_replicate_upscaler_sends_only_esrgan_inputs(replicate: FakeReplicate) -> None:
    result = await ReplicateUpscaler(KEY, base_url=replicate.base_url, poll_interval=0.01).upscale(
        make_png(10, 10), factor=2
    )
    assert set(replicate.last("create").json["input"]) == {"image", "scale", "face_enhance"}
    assert image_size(result.image) == (20, 20)


# -- the table itself ----------------------------------------------------------------------------
def test_every_table_row_matches_the_published_schema() -> None:
    schemas = {"replicate": REPLICATE_SCHEMAS, "fal": FAL_SCHEMAS}
    for vendor, rows in MODEL_INPUTS.items():
        for model, spec in rows.items():
            published = schemas[vendor][model]
            assert spec.fields <= set(published), (vendor, model, spec.fields - set(published))
            assert set(spec.always) <= spec.fields
            ratios = published.get("aspect_ratio")
            assert set(spec.aspect_ratios) <= set(ratios.enum if ratios and ratios.enum else ())


def test_size_choice_for_a_model_with_listed_ratios_only() -> None:
    spec = MODEL_INPUTS["replicate"][SCHNELL]
    assert size_inputs(spec, 2048, 878) == {"aspect_ratio": "21:9"}
    assert size_inputs(spec, 4000, 1000) == {"aspect_ratio": "21:9"}  # no custom: the nearest

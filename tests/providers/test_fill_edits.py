"""Mask edits on Replicate and fal go to Flux Fill with the image, the mask and the prompt.

The fakes check every call against the Fill models' published schemas
(tests/providers/model_schemas.py), so an input the model lacks is a 422 here as at the vendor.
"""

from __future__ import annotations

import base64

import fal_client.client
import pytest

from providers.base import InvalidRequest, RenderRequest
from providers.fal.flux import DEFAULT_FILL_MODEL as FAL_FILL
from providers.fal.flux import FalRenderer
from providers.fal.spec import SPEC as FAL_SPEC
from providers.replicate.flux import DEFAULT_FILL_MODEL as REPLICATE_FILL
from providers.replicate.flux import ReplicateRenderer
from providers.replicate.spec import SPEC as REPLICATE_SPEC
from tests.providers.fakes import FakeFal, FakeReplicate, image_size, make_png
from tests.providers.test_model_schemas import create, fal_result

KEY = "test-key-123"
INIT, MASK = make_png(80, 60, seed=3), make_png(80, 60, seed=9)
EDIT = RenderRequest(prompt="more sparks", width=80, height=60, seed=21, init_image=INIT, mask=MASK)


@pytest.fixture(autouse=True)
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 1)  # fal's client retries 4xx/5xx itself


def flux(fake: FakeReplicate, **kwargs: object) -> ReplicateRenderer:
    return ReplicateRenderer(KEY, base_url=fake.base_url, poll_interval=0.01, **kwargs)  # type: ignore[arg-type]  # test keyword arguments of the adapter's own types


def fal_flux(fake: FakeFal) -> FalRenderer:
    return FalRenderer(KEY, base_url=fake.base_url, poll_interval=0.01)


def data_uri_bytes(uri: str) -> bytes:
    assert uri.startswith("data:image/png;base64,")
    return base64.b64decode(uri.partition(",")[2])


def edit(**changes: object) -> RenderRequest:
    fields = {name: getattr(EDIT, name) for name in ("prompt", "width", "height", "seed", "init_image", "mask")}
    return RenderRequest(**(fields | changes))


def test_both_entries_say_they_edit_inside_a_mask_with_their_fill_model() -> None:
    assert REPLICATE_SPEC.mask_edit and REPLICATE_SPEC.models["fill"] == REPLICATE_FILL
    assert FAL_SPEC.mask_edit and FAL_SPEC.models["fill"] == FAL_FILL


# -- Replicate -----------------------------------------------------------------------------------
async def test_replicate_mask_edit_goes_to_flux_fill_pro(replicate: FakeReplicate) -> None:
    result = await flux(replicate).render(EDIT)
    create_call = replicate.last("create")
    assert create_call.path == "/v1/models/black-forest-labs/flux-fill-pro/predictions"
    sent = create_call.json["input"]
    assert set(sent) == {"prompt", "image", "mask", "seed", "output_format"}
    assert data_uri_bytes(sent["image"]) == INIT and data_uri_bytes(sent["mask"]) == MASK
    assert sent["prompt"] == "more sparks" and sent["seed"] == 21 and sent["output_format"] == "png"
    assert result.model.startswith("black-forest-labs/flux-fill-pro") and image_size(result.image) == (80, 60)
    assert result.seed == 21 and result.reproducible is True
    assert result.params["mask"].startswith("<data URI") and "prompt_strength" not in result.params


async def test_replicate_mask_edit_ignores_the_render_model_but_honours_another_fill_model(
    replicate: FakeReplicate,
) -> None:
    await flux(replicate, model="black-forest-labs/flux-dev").render(
        edit(params={"model": "black-forest-labs/flux-dev", "guidance": 3.5})
    )
    assert replicate.last("create").path == "/v1/models/black-forest-labs/flux-fill-pro/predictions"
    assert replicate.last("create").json["input"]["guidance"] == 3.5

    result = await flux(replicate).render(edit(params={"model": "black-forest-labs/flux-fill-dev", "steps": 9}))
    sent = replicate.last("create").json["input"]
    assert replicate.last("create").path == "/v1/models/black-forest-labs/flux-fill-dev/predictions"
    assert sent["megapixels"] == "match_input" and "steps" not in sent  # flux-fill-dev has no "steps"
    assert result.model.startswith("black-forest-labs/flux-fill-dev")


async def test_replicate_refuses_a_fill_input_out_of_range(replicate: FakeReplicate) -> None:
    with pytest.raises(InvalidRequest) as info:
        await flux(replicate).render(edit(params={"guidance": 30}))  # flux-fill-pro takes 2..5
    assert info.value.status_code == 422 and "guidance" in (info.value.detail or "")


def test_the_fake_replicate_refuses_fields_flux_fill_pro_lacks(replicate: FakeReplicate) -> None:
    answer = create(
        replicate,
        REPLICATE_FILL,
        {"prompt": "x", "image": "data:,", "mask": "data:,", "prompt_strength": 0.5, "steps": 60},
    )
    fields = answer.json()["invalid_fields"]
    assert answer.status_code == 422
    assert [f["type"] for f in fields] == ["additional_property_not_allowed", "number_lte"]
    assert "prompt_strength" in fields[0]["description"] and fields[1]["field"] == "steps"


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"init_image": None}, "init image"),
        ({"mask": make_png(40, 30)}, "mask is 40x30 but the init image is 80x60"),
        ({"mask": b"not a png"}, "mask is not a decodable image"),
    ],
)
async def test_replicate_refuses_an_edit_fill_cannot_do_before_sending(
    replicate: FakeReplicate, changes: dict[str, object], said: str
) -> None:
    with pytest.raises(InvalidRequest, match=said):
        await flux(replicate).render(edit(**changes))
    assert replicate.count() == 0


async def test_a_fill_model_that_takes_no_mask_is_refused_before_sending(replicate: FakeReplicate) -> None:
    with pytest.raises(InvalidRequest, match="flux-dev takes no mask"):
        await flux(replicate, fill_model="black-forest-labs/flux-dev").render(EDIT)
    assert replicate.count() == 0


# -- fal -----------------------------------------------------------------------------------------
async def test_fal_mask_edit_goes_to_the_fill_endpoint(fal: FakeFal) -> None:
    result = await fal_flux(fal).render(edit(strength=0.4))
    submit = fal.last("submit")
    assert submit.path == "/fal-ai/flux-pro/v1/fill"
    args = submit.json
    assert set(args) == {"prompt", "image_url", "mask_url", "seed", "num_images", "output_format"}
    assert data_uri_bytes(args["image_url"]) == INIT and data_uri_bytes(args["mask_url"]) == MASK
    assert args["seed"] == 21 and args["output_format"] == "png"  # Fill has no strength: none is sent
    assert result.model == FAL_FILL == result.params["model"] and result.seed == 21 and result.reproducible
    assert image_size(result.image) == (80, 60)


async def test_fal_mask_edit_keeps_to_fill_when_the_recipe_names_image_to_image(fal: FakeFal) -> None:
    await fal_flux(fal).render(edit(params={"model": "fal-ai/flux/dev/image-to-image", "strength": 0.6}))
    assert fal.last("submit").path == "/fal-ai/flux-pro/v1/fill"
    assert "strength" not in fal.last("submit").json


async def test_fal_refuses_a_fill_argument_out_of_its_enum(fal: FakeFal) -> None:
    with pytest.raises(InvalidRequest) as info:
        await fal_flux(fal).render(edit(params={"safety_tolerance": "9"}))
    assert info.value.status_code == 422 and "safety_tolerance" in (info.value.detail or "")


def test_the_fake_fal_refuses_fields_the_fill_endpoint_lacks(fal: FakeFal) -> None:
    answer = fal_result(fal, FAL_FILL, {"prompt": "x", "image_url": "data:,", "mask_url": "data:,", "strength": 0.5})
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "strength"] and problem["type"] == "extra_forbidden"
    missing = fal_result(fal, FAL_FILL, {"prompt": "x", "image_url": "data:,"})
    assert [(d["loc"], d["type"]) for d in missing.json()["detail"]] == [(["body", "mask_url"], "missing")]


@pytest.mark.parametrize(
    ("changes", "said"),
    [({"init_image": None}, "init image"), ({"mask": make_png(80, 61)}, "mask is 80x61 but the init image is 80x60")],
)
async def test_fal_refuses_an_edit_fill_cannot_do_before_sending(
    fal: FakeFal, changes: dict[str, object], said: str
) -> None:
    with pytest.raises(InvalidRequest, match=said):
        await fal_flux(fal).render(edit(**changes))
    assert fal.count() == 0


def test_fake_replicate_serves_the_fill_output_at_the_input_size(replicate: FakeReplicate) -> None:
    image = "data:image/png;base64," + base64.b64encode(INIT).decode()
    answer = create(replicate, REPLICATE_FILL, {"prompt": "x", "image": image, "mask": image})
    assert answer.status_code == 201
    output = replicate.predictions[answer.json()["id"]].output
    assert isinstance(output, str)  # one URL, like flux-fill-pro's schema says
    assert image_size(data_uri_bytes(output)) == (80, 60)

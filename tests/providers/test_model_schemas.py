"""The strict fakes: Replicate and fal refuse inputs a model does not take, with the vendor's 422.

These are what let adapter tests catch a wrong input table (tests/providers/test_model_inputs.py).
"""

from __future__ import annotations

import time

import fal_client.client
import httpx
import pytest

from providers.base import InvalidRequest, RenderRequest
from providers.fal.flux import FalRenderer
from providers.replicate.flux import ReplicateRenderer
from tests.providers.fakes import FakeFal, FakeReplicate

KEY = "test-key-123"


def create(fake: FakeReplicate, model: str, inp: dict[str, object]) -> httpx.Response:
    return httpx.post(
        fake.url(f"/v1/models/{model}/predictions"),
        json={"input": inp},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=5,
    )


# -- Replicate -----------------------------------------------------------------------------------
def test_replicate_refuses_a_ratio_the_model_lacks(replicate: FakeReplicate) -> None:
    answer = create(replicate, "black-forest-labs/flux-1.1-pro", {"prompt": "x", "aspect_ratio": "21:9"})
    body = answer.json()
    assert answer.status_code == 422
    assert body["title"] == "Input validation failed" and body["status"] == 422
    (problem,) = body["invalid_fields"]
    assert problem["type"] == "enum" and problem["field"] == "aspect_ratio"
    assert '"16:9"' in problem["description"] and '"21:9"' not in problem["description"]
    assert body["detail"].startswith("- aspect_ratio: aspect_ratio must be one of the following")
    assert replicate.predictions == {}  # nothing was created, nothing is paid


def test_replicate_refuses_unknown_fields_and_ranges(replicate: FakeReplicate) -> None:
    answer = create(
        replicate,
        "black-forest-labs/flux-1.1-pro",
        {"prompt": "x", "go_fast": False, "num_outputs": 1, "aspect_ratio": "custom", "width": 2048},
    )
    fields = answer.json()["invalid_fields"]
    assert answer.status_code == 422
    assert [f["type"] for f in fields] == ["additional_property_not_allowed"] * 2 + ["number_lte"]
    assert "Additional property go_fast is not allowed" in fields[0]["description"]
    assert fields[2]["field"] == "width"


def test_replicate_refuses_a_missing_prompt_and_a_wrong_type(replicate: FakeReplicate) -> None:
    fields = create(replicate, "black-forest-labs/flux-schnell", {"seed": "7"}).json()["invalid_fields"]
    assert {(f["type"], f["field"]) for f in fields} == {("required", "prompt"), ("invalid_type", "seed")}


def test_replicate_accepts_what_the_schema_has(replicate: FakeReplicate) -> None:
    answer = create(
        replicate,
        "black-forest-labs/flux-schnell",
        {"prompt": "x", "aspect_ratio": "21:9", "go_fast": False, "num_outputs": 1, "seed": 3},
    )
    assert answer.status_code == 201


def test_replicate_unknown_model_is_not_found(replicate: FakeReplicate) -> None:
    assert create(replicate, "someone/unknown-model", {"prompt": "x"}).status_code == 404


async def test_a_refused_input_reaches_the_adapter_as_invalid_request(replicate: FakeReplicate) -> None:
    # Params naming an input the model has, with a value out of its range: the vendor decides.
    req = RenderRequest(prompt="x", width=512, height=512, params={"num_inference_steps": 9})
    with pytest.raises(InvalidRequest) as info:
        await ReplicateRenderer(KEY, base_url=replicate.base_url, poll_interval=0.01).render(req)
    assert info.value.status_code == 422 and "num_inference_steps" in (info.value.detail or "")


# -- fal -----------------------------------------------------------------------------------------
def fal_result(fake: FakeFal, endpoint: str, args: dict[str, object]) -> httpx.Response:
    """Submit like fal's queue (accepted), then fetch the result (where the runner's refusal is)."""
    submitted = httpx.post(fake.url(f"/{endpoint}"), json=args, headers={"Authorization": f"Key {KEY}"}, timeout=5)
    assert submitted.status_code == 200
    ticket = submitted.json()
    deadline = time.monotonic() + 5
    while httpx.get(ticket["status_url"], timeout=5).json()["status"] != "COMPLETED":
        assert time.monotonic() < deadline
    return httpx.get(ticket["response_url"], timeout=5)


def test_fal_refuses_unknown_fields_in_the_result(fal: FakeFal) -> None:
    answer = fal_result(fal, "fal-ai/flux/schnell", {"prompt": "x", "go_fast": False})
    assert answer.status_code == 422
    (problem,) = answer.json()["detail"]
    assert problem["loc"] == ["body", "go_fast"] and problem["type"] == "extra_forbidden"
    assert problem["msg"] and problem["input"] is False


def test_fal_refuses_out_of_enum_and_out_of_range(fal: FakeFal) -> None:
    answer = fal_result(
        fal,
        "fal-ai/flux/schnell",
        {"prompt": "x", "output_format": "webp", "image_size": {"width": 20000, "height": 512}},
    )
    found = {tuple(d["loc"]): d for d in answer.json()["detail"]}
    assert answer.status_code == 422
    assert {loc: d["type"] for loc, d in found.items()} == {
        ("body", "image_size", "width"): "less_than_equal",
        ("body", "output_format"): "one_of",
    }
    assert found["body", "output_format"]["ctx"] == {"expected": ["jpeg", "png"]}


def test_fal_accepts_presets_and_explicit_sizes(fal: FakeFal) -> None:
    for size in ("landscape_16_9", {"width": 1344, "height": 768}):
        assert fal_result(fal, "fal-ai/flux/dev", {"prompt": "x", "image_size": size}).status_code == 200


def test_fal_unknown_endpoint_is_not_found(fal: FakeFal) -> None:
    answer = httpx.post(fal.url("/fal-ai/nothing-here"), json={"prompt": "x"}, timeout=5)
    assert answer.status_code == 404


async def test_fal_refusal_reaches_the_adapter_as_invalid_request(
    fal: FakeFal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 1)
    req = RenderRequest(prompt="x", width=64, height=64, params={"num_inference_steps": 40})  # schnell: 1..12
    with pytest.raises(InvalidRequest) as info:
        await FalRenderer(KEY, base_url=fal.base_url, poll_interval=0.01).render(req)
    assert info.value.status_code == 422 and "num_inference_steps" in (info.value.detail or "")

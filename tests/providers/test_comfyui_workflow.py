"""The ComfyUI workflow template: read, checked, filled and hashed (providers.comfyui.workflow)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from providers.comfyui.graph import recipe_of
from providers.comfyui.workflow import (
    PLACEHOLDERS,
    WorkflowProblem,
    check_workflow,
    fill_workflow,
    parse_workflow,
    workflow_sha256,
)

# An SDXL text-to-image graph as "Export (API)" writes it, with no placeholders at all.
PLAIN: dict[str, Any] = {
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd_xl_base_1.0.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 1024, "height": 1024, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a lighthouse", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 42,
            "steps": 20,
            "cfg": 7.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "studio", "images": ["8", 0]}},
}
VALUES = {"prompt": "a ship", "negative": "text", "seed": 7, "width": 512, "height": 768}


def with_inputs(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A copy of ``base`` with ``n<id>__<input>=value`` changes."""
    wf = copy.deepcopy(base)
    for key, value in changes.items():
        node, name = key.split("__")
        wf[node.removeprefix("n")]["inputs"][name] = value
    return wf


PLACEHELD = with_inputs(
    PLAIN,
    n6__text="$prompt",
    n7__text="$negative",
    n3__seed="$seed",
    n3__steps="$steps",
    n3__cfg="$cfg",
    n5__width="$width",
    n5__height="$height",
)


def test_placeholders_are_filled_with_values_of_their_type() -> None:
    values = VALUES | {"seed": "7", "steps": 30, "cfg": 5, "width": 512.0}
    filled = fill_workflow(PLACEHELD, values, source="sdxl.json")
    assert filled["6"]["inputs"]["text"] == "a ship" and filled["7"]["inputs"]["text"] == "text"
    sampler = filled["3"]["inputs"]
    assert (sampler["seed"], sampler["steps"], sampler["cfg"]) == (7, 30, 5.0)
    assert type(sampler["seed"]) is int and type(sampler["cfg"]) is float
    assert (filled["5"]["inputs"]["width"], filled["5"]["inputs"]["height"]) == (512, 768)
    assert type(filled["5"]["inputs"]["width"]) is int
    assert filled["3"]["inputs"]["positive"] == ["6", 0]  # links stay links


def test_placeholders_anywhere_even_in_unknown_nodes_and_nested_values() -> None:
    wf = copy.deepcopy(PLACEHELD)
    wf["20"] = {"class_type": "MyCustomNode", "inputs": {"anything": "$prompt", "sizes": ["$width", "$height"]}}
    plan = check_workflow(wf, source="custom.json")
    assert {"prompt", "seed", "width", "height"} <= plan.placeholders
    filled = fill_workflow(wf, VALUES | {"steps": 4, "cfg": 2.5}, source="custom.json")
    assert filled["20"]["inputs"] == {"anything": "a ship", "sizes": [512, 768]}


def test_a_workflow_without_placeholders_is_patched_on_its_standard_nodes() -> None:
    plan = check_workflow(PLAIN, source="plain.json")
    assert plan.placeholders == frozenset()
    assert {"prompt", "negative", "seed", "width", "height", "steps", "cfg", "checkpoint"} <= plan.patched
    assert not plan.init_image and not plan.mask
    filled = fill_workflow(
        PLAIN, VALUES | {"steps": 8, "sampler": "heun", "checkpoint": "v1-5-pruned-emaonly.safetensors"}, source="p"
    )
    assert filled["6"]["inputs"]["text"] == "a ship" and filled["7"]["inputs"]["text"] == "text"
    assert filled["3"]["inputs"]["seed"] == 7 and filled["3"]["inputs"]["steps"] == 8
    assert filled["3"]["inputs"]["cfg"] == 7.0  # not given: the workflow's own value stays
    assert (filled["5"]["inputs"]["width"], filled["5"]["inputs"]["height"]) == (512, 768)
    assert recipe_of(filled) == {
        "steps": 8,
        "cfg": 7.0,
        "sampler": "heun",
        "scheduler": "normal",
        "checkpoint": "v1-5-pruned-emaonly.safetensors",
        "denoise": 1.0,
    }


def test_prompts_are_found_through_conditioning_nodes_and_an_advanced_sampler() -> None:
    wf = copy.deepcopy(PLAIN)
    wf["3"]["class_type"] = "KSamplerAdvanced"
    wf["3"]["inputs"]["noise_seed"] = wf["3"]["inputs"].pop("seed")
    wf["3"]["inputs"]["positive"] = ["11", 0]
    wf["3"]["inputs"]["negative"] = ["11", 1]
    wf["10"] = {"class_type": "ControlNetLoader", "inputs": {"control_net_name": "canny.safetensors"}}
    wf["11"] = {
        "class_type": "ControlNetApplyAdvanced",
        "inputs": {"positive": ["12", 0], "negative": ["7", 0], "control_net": ["10", 0], "strength": 1.0},
    }
    wf["12"] = {"class_type": "ConditioningCombine", "inputs": {"conditioning_1": ["6", 0], "conditioning_2": ["6", 0]}}
    filled = fill_workflow(wf, VALUES, source="cn.json")
    assert filled["6"]["inputs"]["text"] == "a ship" and filled["7"]["inputs"]["text"] == "text"
    assert filled["3"]["inputs"]["noise_seed"] == 7


def test_a_negative_made_from_the_positive_never_overwrites_the_prompt() -> None:
    wf = copy.deepcopy(PLAIN)
    del wf["7"]
    wf["13"] = {"class_type": "ConditioningZeroOut", "inputs": {"conditioning": ["6", 0]}}
    wf["3"]["inputs"]["negative"] = ["13", 0]
    plan = check_workflow(wf, source="flux.json")
    assert not plan.sets("negative")
    assert fill_workflow(wf, VALUES, source="flux.json")["6"]["inputs"]["text"] == "a ship"


def test_init_image_and_mask_placeholders_and_a_single_load_image() -> None:
    img2img = with_inputs(PLAIN, n3__denoise="$strength", n3__latent_image=["21", 0])
    img2img["20"] = {"class_type": "LoadImage", "inputs": {"image": "$init_image"}}
    img2img["21"] = {"class_type": "VAEEncode", "inputs": {"pixels": ["20", 0], "vae": ["4", 2]}}
    img2img["22"] = {"class_type": "LoadImageMask", "inputs": {"image": "$mask", "channel": "alpha"}}
    plan = check_workflow(img2img, source="i2i.json")
    assert plan.init_image and plan.mask and {"init_image", "strength", "mask"} <= plan.placeholders
    filled = fill_workflow(
        img2img, VALUES | {"init_image": "abc.png", "strength": 0.4, "mask": "m.png"}, source="i2i.json"
    )
    assert filled["20"]["inputs"]["image"] == "abc.png" and filled["3"]["inputs"]["denoise"] == 0.4
    with pytest.raises(WorkflowProblem, match=r"^i2i\.json: has \$init_image"):
        fill_workflow(img2img, VALUES | {"strength": 0.4, "mask": "m.png"}, source="i2i.json")

    patched = copy.deepcopy(img2img)
    patched["20"]["inputs"]["image"] = "example.png"
    del patched["22"]
    plan = check_workflow(patched, source="p.json")
    assert plan.init_image and plan.targets["init_image"] == (("20", "image"),) and not plan.mask
    filled = fill_workflow(patched, VALUES | {"init_image": "abc.png", "strength": 0.5}, source="p.json")
    assert filled["20"]["inputs"]["image"] == "abc.png"


def test_ui_format_is_refused_naming_the_file() -> None:
    ui = {"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": [[1, 4, 0, 3, 0, "MODEL"]]}
    with pytest.raises(WorkflowProblem) as caught:
        parse_workflow(json.dumps(ui), source="workflows/sdxl.json")
    assert str(caught.value) == (
        "workflows/sdxl.json: is in ComfyUI's UI format (nodes and links): export it with 'Export (API)'"
    )
    assert caught.value.source == "workflows/sdxl.json" and "UI format" in caught.value.what


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"{not json", "is not JSON"),
        ("[1, 2]", "is not a ComfyUI workflow"),
        ({}, "has no nodes"),
        ({"1": {"inputs": {}}}, "node '1' has no class_type"),
        ({"1": {"class_type": "SaveImage"}}, "node '1' (SaveImage) has no inputs"),
        ({"1": {"class_type": "VAEDecode", "inputs": {}}}, "has no output node"),
        ({"1": {"class_type": "SaveImage", "inputs": {"images": ["8", 0]}}}, "links to node '8'"),
    ],
)
def test_malformed_workflows_are_refused(data: Any, what: str) -> None:
    with pytest.raises(WorkflowProblem, match=r"^bad\.json: ") as caught:
        parse_workflow(data, source="bad.json")
    assert what in caught.value.what and "\n" not in str(caught.value)


def test_parse_returns_a_copy_of_a_valid_workflow() -> None:
    assert parse_workflow(json.dumps(PLAIN).encode(), source="w.json") == PLAIN
    parsed = parse_workflow(PLAIN, source="w.json")
    parsed["3"]["inputs"]["seed"] = 1
    assert PLAIN["3"]["inputs"]["seed"] == 42


def test_a_workflow_with_no_way_to_set_the_prompt_or_seed_is_refused_naming_the_file() -> None:
    no_prompt = with_inputs(PLAIN, n3__positive=["4", 1])
    with pytest.raises(WorkflowProblem, match=r"^odd\.json: has no way to set the prompt: write \"\$prompt\""):
        check_workflow(no_prompt, source="odd.json")
    no_seed = with_inputs(PLAIN, n3__seed=["30", 0])
    no_seed["30"] = {"class_type": "Seed (rgthree)", "inputs": {"seed": 5}}
    with pytest.raises(WorkflowProblem, match=r"^odd\.json: has no way to set the seed"):
        check_workflow(no_seed, source="odd.json")
    # A placeholder is enough, wherever it is.
    no_seed["30"]["inputs"]["seed"] = "$seed"
    assert "seed" in check_workflow(no_seed, source="odd.json").placeholders


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        ({"n3__seed": "$prompt"}, "node '3' (KSampler) input 'seed' takes a whole number, not $prompt (text)"),
        ({"n6__text": "$seed"}, "node '6' (CLIPTextEncode) input 'text' takes text, not $seed (a whole number)"),
        ({"n3__cfg": "$negative"}, "input 'cfg' takes a number, not $negative (text)"),
        ({"n5__width": "$cfg"}, "input 'width' takes a whole number, not $cfg (a number)"),
    ],
)
def test_a_placeholder_of_the_wrong_type_is_refused(changes: dict[str, Any], what: str) -> None:
    with pytest.raises(WorkflowProblem, match=r"^typed\.json: ") as caught:
        check_workflow(with_inputs(PLACEHELD, **changes), source="typed.json")
    assert what in caught.value.what


def test_a_load_image_takes_only_image_placeholders() -> None:
    wf = copy.deepcopy(PLAIN)
    wf["20"] = {"class_type": "LoadImage", "inputs": {"image": "$prompt"}}
    with pytest.raises(WorkflowProblem, match=r"takes an image file name \(\$init_image or \$mask\), not \$prompt"):
        check_workflow(wf, source="w.json")


def test_an_unknown_placeholder_is_refused() -> None:
    with pytest.raises(WorkflowProblem) as caught:
        check_workflow(with_inputs(PLACEHELD, n6__text="$promt"), source="typo.json")
    assert caught.value.source == "typo.json"
    assert caught.value.what.startswith("node '6' (CLIPTextEncode) input 'text': unknown placeholder '$promt'")
    assert all(name in caught.value.what for name in PLACEHOLDERS)


def test_values_of_the_wrong_type_are_refused() -> None:
    with pytest.raises(WorkflowProblem, match=r"seed must be a whole number \(got 'seven'\)"):
        fill_workflow(PLACEHELD, VALUES | {"seed": "seven", "steps": 4, "cfg": 1.0}, source="w.json")
    with pytest.raises(WorkflowProblem, match=r"steps must be a whole number \(got 2\.5\)"):
        fill_workflow(PLACEHELD, VALUES | {"steps": 2.5, "cfg": 1.0}, source="w.json")


def test_filling_never_mutates_the_template() -> None:
    before = copy.deepcopy(PLACEHELD)
    filled = fill_workflow(PLACEHELD, VALUES | {"steps": 4, "cfg": 1.0}, source="w.json")
    filled["3"]["inputs"]["positive"].append("x")
    assert before == PLACEHELD
    plain_before = copy.deepcopy(PLAIN)
    fill_workflow(PLAIN, VALUES, source="w.json")
    assert plain_before == PLAIN


def test_the_hash_is_stable_under_key_order_and_changes_with_content() -> None:
    reordered = {key: PLAIN[key] for key in reversed(list(PLAIN))}
    reordered["3"] = {"inputs": dict(reversed(list(PLAIN["3"]["inputs"].items()))), "class_type": "KSampler"}
    assert workflow_sha256(reordered) == workflow_sha256(PLAIN)
    assert len(workflow_sha256(PLAIN)) == 64
    assert workflow_sha256(with_inputs(PLAIN, n3__seed=43)) != workflow_sha256(PLAIN)

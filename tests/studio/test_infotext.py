"""AUTOMATIC1111 infotext: what the studio writes, read back by an independent A1111-style parser."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sd_parsers.parsers import AUTOMATIC1111Parser

from studio.images.infotext import (
    format_infotext,
    parse_infotext,
    quote,
    recipe_from_infotext,
    recipe_infotext,
)

# -- an independent reader: A1111's parse_generation_parameters (modules/infotext_utils.py), trimmed --

A1111_RE_PARAM = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
A1111_RE_IMAGESIZE = re.compile(r"^(\d+)x(\d+)$")


def a1111_unquote(text: str) -> str:
    if len(text) == 0 or text[0] != '"' or text[-1] != '"':
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def a1111_parse(x: str) -> dict[str, Any]:
    res: dict[str, Any] = {}
    prompt, negative_prompt, done_with_prompt = "", "", False
    *lines, lastline = x.strip().split("\n")
    if len(A1111_RE_PARAM.findall(lastline)) < 3:
        lines.append(lastline)
        lastline = ""
    for line in lines:
        line = line.strip()
        if line.startswith("Negative prompt:"):
            done_with_prompt = True
            line = line[16:].strip()
        if done_with_prompt:
            negative_prompt += ("" if negative_prompt == "" else "\n") + line
        else:
            prompt += ("" if prompt == "" else "\n") + line
    res["Prompt"] = prompt
    res["Negative prompt"] = negative_prompt
    for k, v in A1111_RE_PARAM.findall(lastline):
        if v and v[0] == '"' and v[-1] == '"':
            v = a1111_unquote(v)
        m = A1111_RE_IMAGESIZE.match(v)
        if m is not None:
            res[f"{k}-1"], res[f"{k}-2"] = m.group(1), m.group(2)
        else:
            res[k] = v
    return res


def recipe(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "provider": "replicate",
        "model": "black-forest-labs/flux-dev",
        "seed": 1234,
        "prompt": "a lighthouse at dusk, oil painting",
        "negative": "blurry",
        "size": [1344, 768],
        "params": {"num_inference_steps": 28, "guidance": 3.5, "sampler": "Euler a"},
    }
    return {**base, **changes}


def test_the_written_format_is_a1111s() -> None:
    assert recipe_infotext(recipe()) == (
        "a lighthouse at dusk, oil painting\n"
        "Negative prompt: blurry\n"
        "Steps: 28, Sampler: Euler a, CFG scale: 3.5, Seed: 1234, Size: 1344x768, "
        "Model: black-forest-labs/flux-dev, Provider: replicate"
    )


def test_what_a_vendor_does_not_say_is_written_as_unknown_and_no_seed_is_left_out() -> None:
    text = recipe_infotext(
        recipe(
            provider="mistral",
            model="mistral-medium-latest",
            negative="",
            seed=None,
            params={"model": "mistral-medium-latest", "tools": [{"type": "image_generation"}]},
        )
    )
    assert "Negative prompt" not in text and "Seed" not in text
    assert text.splitlines()[-1] == (
        "Steps: unknown, Sampler: mistral (unknown), CFG scale: unknown, Size: 1344x768, "
        "Model: mistral-medium-latest, Provider: mistral"
    )
    assert len(text.splitlines()) == 2


def test_a_renderer_without_a_sampler_says_none() -> None:
    text = recipe_infotext(recipe(provider="local", model="local-procedural-v1", params={"renderer": "procedural"}))
    assert text.splitlines()[-1] == (
        "Steps: none, Sampler: none (procedural), CFG scale: none, Seed: 1234, Size: 1344x768, "
        "Model: local-procedural-v1, Provider: local"
    )
    back = recipe_from_infotext(text)
    assert back["params"] == {} and back["seed"] == 1234  # the markers are not read as settings


def test_a_replicate_version_is_written_as_the_model_hash_and_read_back_whole() -> None:
    version = "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637"
    text = recipe_infotext(recipe(model=f"black-forest-labs/flux-dev:{version}"))
    assert f"Model hash: {version}, Model: black-forest-labs/flux-dev," in text
    assert recipe_from_infotext(text)["model"] == f"black-forest-labs/flux-dev:{version}"
    # A colon that is not a version stays inside one quoted value.
    assert 'Model: "llava:13b"' in recipe_infotext(recipe(model="llava:13b"))


def test_an_upscaled_image_keeps_its_render_size_and_says_how_it_was_upscaled() -> None:
    upscaled = recipe(upscale=2, upscaler="fal", render_key="aa.png", final_key="bb.png")
    text = recipe_infotext(upscaled)
    assert "Size: 1344x768, " in text
    assert text.endswith("Postprocess upscale by: 2, Postprocess upscaler: fal, Provider: replicate")
    back = recipe_from_infotext(text)
    assert back["size"] == [1344, 768] and back["upscale"] == 2 and back["upscaler"] == "fal"
    assert "Postprocess upscale by" not in back["params"]
    # A vendor that picks its own pixels: Size is what the render came out at, not what was asked.
    delivered = {**upscaled, "params": {"delivered_size": [1024, 1024]}}
    assert "Size: 1024x1024, " in recipe_infotext(delivered)
    # Not upscaled: asked for, but the final image is the render itself (or there is none yet).
    for final in ("aa.png", None):
        assert "Postprocess" not in recipe_infotext({**upscaled, "final_key": final})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"prompt": 'a "quoted" word, then a comma: and a colon'},
        {"prompt": 'first line, with comma\nsecond line: with colon\n\nfourth "line"'},
        {"negative": 'bad hands, extra fingers\nwatermark, "text"'},
        {"model": "stability-ai/sdxl:39ed52f2a78e934b", "params": {"steps": 30, "cfg_scale": 7.0}},
        {"model": 'odd, "model"\nname', "params": {"sampler_name": "DPM++ 2M, Karras"}},
        {"seed": None, "negative": ""},
        {"prompt": "ünïcödé, 日本語, emoji 🎬", "negative": "ß"},
    ],
)
def test_an_independent_a1111_parser_reads_what_is_written(changes: dict[str, Any]) -> None:
    r = recipe(**changes)
    read = a1111_parse(recipe_infotext(r))
    assert read["Prompt"] == r["prompt"]
    assert read["Negative prompt"] == r["negative"]
    assert (read["Size-1"], read["Size-2"]) == (str(r["size"][0]), str(r["size"][1]))
    model = read["Model"] + (f":{read['Model hash']}" if "Model hash" in read else "")
    assert model == r["model"] and read["Provider"] == r["provider"]
    assert read.get("Seed") == (None if r["seed"] is None else str(r["seed"]))
    params = r["params"]
    steps = params.get("steps", params.get("num_inference_steps"))
    cfg = params.get("cfg_scale", params.get("guidance"))
    sampler = params.get("sampler", params.get("sampler_name"))
    assert read["Steps"] == ("unknown" if steps is None else str(steps))
    assert read["CFG scale"] == ("unknown" if cfg is None else str(cfg))
    assert read["Sampler"] == (sampler or "replicate (unknown)")


VERSION = "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637"

# What each provider adapter records (providers/*.py), as a take's recipe carries it.
PROVIDER_RECIPES: dict[str, dict[str, Any]] = {
    "local": {"provider": "local", "model": "local-procedural-v1", "seed": 11, "params": {"renderer": "procedural"}},
    "fal": {
        "provider": "fal",
        "model": "fal-ai/flux/dev",
        "seed": 5,
        "params": {
            "num_images": 1,
            "enable_safety_checker": True,
            "image_size": {"width": 1344, "height": 768},
            "output_format": "png",
            "seed": 5,
            "num_inference_steps": 28,
            "guidance_scale": 3.5,
        },
    },
    "replicate": {
        "provider": "replicate",
        "model": f"black-forest-labs/flux-dev:{VERSION}",
        "seed": 7,
        "params": {"aspect_ratio": "16:9", "num_outputs": 1, "output_format": "png", "go_fast": False, "seed": 7},
    },
    "gemini": {
        "provider": "gemini",
        "model": "gemini-2.5-flash-image",
        "seed": 9,
        "params": {"model": "gemini-2.5-flash-image", "generationConfig": {"seed": 9}, "init_image": False},
    },
    "mistral": {
        "provider": "mistral",
        "model": "mistral-medium-latest",
        "seed": None,
        "params": {"model": "mistral-medium-latest", "tools": [{"type": "image_generation"}]},
    },
}


@pytest.mark.parametrize("provider", sorted(PROVIDER_RECIPES))
def test_sd_parsers_reads_every_providers_infotext(provider: str) -> None:
    r = recipe(
        prompt='the keeper climbs the stairs, "storm" outside\nwide shot: low angle',
        negative="blurry, text",
        **PROVIDER_RECIPES[provider],
    )
    info = AUTOMATIC1111Parser().parse({"parameters": recipe_infotext(r)})  # the PyPI package itself
    assert [p.value for p in info.prompts] == [r["prompt"]]
    assert [p.value for p in info.negative_prompts] == [r["negative"]]
    (sampler,) = info.samplers
    assert sampler.parameters.get("seed") == (None if r["seed"] is None else str(r["seed"]))
    assert info.metadata["Size"] == "1344x768"
    (model,) = info.models
    name, _, version = r["model"].partition(":")
    assert (model.name, model.hash) == (name, version or None)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"prompt": 'commas, "quotes"\nand: newlines', "negative": "a, b\nc"},
        {"seed": None, "model": None, "params": {}},  # only Size and Provider: fewer than A1111's three
    ],
)
def test_parse_reverses_format(changes: dict[str, Any]) -> None:
    r = recipe(**changes)
    back = recipe_from_infotext(recipe_infotext(r))
    assert back["prompt"] == r["prompt"] and back["negative"] == r["negative"]
    assert back["seed"] == r["seed"] and back["size"] == r["size"] and back["model"] == r["model"]
    assert back["provider"] == r["provider"] and back["source"] == "infotext"


def test_parse_reads_a_file_made_by_a1111() -> None:
    text = (
        "masterpiece, (a cat:1.2), sitting\n"
        "Negative prompt: lowres, bad anatomy\n"
        "Steps: 20, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 3310852915, "
        "Size: 512x768, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Version: v1.10.1, "
        'Lora hashes: "detail: 6a9f, style: 1b2c"'
    )
    info = parse_infotext(text)
    assert info.prompt == "masterpiece, (a cat:1.2), sitting" and info.negative == "lowres, bad anatomy"
    assert info.fields["Lora hashes"] == "detail: 6a9f, style: 1b2c"
    r = recipe_from_infotext(text)
    assert r["seed"] == 3310852915 and r["size"] == [512, 768] and r["model"] == "v1-5-pruned-emaonly"
    assert r["params"]["steps"] == 20 and r["params"]["cfg"] == 7.0 and r["params"]["sampler"] == "DPM++ 2M"
    assert r["params"]["Model hash"] == "6ce0161689" and r["provider"] is None


def test_a_prompt_alone_is_all_prompt() -> None:
    info = parse_infotext("a prompt, light: soft")
    assert info.prompt == "a prompt, light: soft" and info.fields == {}  # under three pairs, no Size
    info = parse_infotext("just a prompt\nsecond line")
    assert info.prompt == "just a prompt\nsecond line" and info.fields == {}


def test_quote_only_when_needed() -> None:
    assert quote("Euler a") == "Euler a"
    assert quote(3.5) == "3.5"
    assert quote("a, b") == '"a, b"' and quote('say "hi"') == '"say \\"hi\\""' and quote("x:y") == '"x:y"'
    assert quote(" padded") == '" padded"'
    assert format_infotext("p", "", {"A": None, "B": 1}) == "p\nB: 1"

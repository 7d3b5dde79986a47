"""The fake ComfyUI's node catalog, prompt validation and image plan (see :mod:`tests.providers.fake_comfyui`).

Written from the wire format in ``SELF_HOSTED.md`` (ComfyUI itself is GPL-3.0 and is not copied here):
``GET /object_info`` entries, the 400 bodies of ``POST /prompt`` and the node types a model-free
ComfyUI can run, plus the sampler graph a checkpoint workflow uses.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageDraw

SAMPLERS = ["euler", "euler_ancestral", "heun", "dpmpp_2m", "dpmpp_2m_sde", "ddim"]
SCHEDULERS = ["normal", "karras", "exponential", "simple", "sgm_uniform"]
CHECKPOINTS = ["sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors"]
SEED_MAX = 0xFFFFFFFFFFFFFFFF

_SIZE = {"default": 512, "min": 16, "max": 16384, "step": 8}
_SEED = {"default": 0, "min": 0, "max": SEED_MAX, "control_after_generate": True}
_STEPS = {"default": 20, "min": 1, "max": 10000}
_CFG = {"default": 8.0, "min": 0.0, "max": 100.0, "step": 0.1, "round": 0.01}
_SIZE_INPUTS: dict[str, list[Any]] = {"width": ["INT", _SIZE], "height": ["INT", _SIZE]}
_BATCH_INPUT: dict[str, list[Any]] = {"batch_size": ["INT", {"default": 1, "min": 1, "max": 4096}]}
_COLOUR_INPUT: dict[str, list[Any]] = {
    "color": ["INT", {"default": 0, "min": 0, "max": 0xFFFFFF, "step": 1, "display": "color"}]
}
_SCALE_INPUTS: dict[str, list[Any]] = {
    "width": ["INT", {"default": 512, "min": 0, "max": 16384}],
    "height": ["INT", {"default": 512, "min": 0, "max": 16384}],
}


def _node(
    name: str,
    required: dict[str, list[Any]],
    output: list[str],
    *,
    category: str,
    output_node: bool = False,
    output_name: list[str] | None = None,
) -> dict[str, Any]:
    """One ``/object_info`` entry in ComfyUI's shape."""
    return {
        "input": {"required": required, "optional": {}},
        "input_order": {"required": list(required)},
        "output": output,
        "output_is_list": [False] * len(output),
        "output_name": output_name or output,
        "name": name,
        "display_name": name,
        "description": "",
        "python_module": "nodes",
        "category": category,
        "output_node": output_node,
    }


def _sampler_inputs(seed_name: str) -> dict[str, list[Any]]:
    return {
        "model": ["MODEL"],
        seed_name: ["INT", _SEED],
        "steps": ["INT", _STEPS],
        "cfg": ["FLOAT", _CFG],
        "sampler_name": [SAMPLERS],
        "scheduler": [SCHEDULERS],
        "positive": ["CONDITIONING"],
        "negative": ["CONDITIONING"],
        "latent_image": ["LATENT"],
    }


def node_catalog(input_files: list[str]) -> dict[str, dict[str, Any]]:
    """``GET /object_info``: the fake's node classes; ``LoadImage`` lists the uploaded files."""
    ksampler = _sampler_inputs("seed") | {"denoise": ["FLOAT", {"default": 1.0, "min": 0.0, "max": 1.0}]}
    advanced: dict[str, list[Any]] = {
        "model": ["MODEL"],
        "add_noise": [["enable", "disable"]],
        **{k: v for k, v in _sampler_inputs("noise_seed").items() if k != "model"},
        "start_at_step": ["INT", {"default": 0, "min": 0, "max": 10000}],
        "end_at_step": ["INT", {"default": 10000, "min": 0, "max": 10000}],
        "return_with_leftover_noise": [["disable", "enable"]],
    }
    size, batch, colour, scale = _SIZE_INPUTS, _BATCH_INPUT, _COLOUR_INPUT, _SCALE_INPUTS
    return {
        "KSampler": _node("KSampler", ksampler, ["LATENT"], category="sampling"),
        "KSamplerAdvanced": _node("KSamplerAdvanced", advanced, ["LATENT"], category="sampling"),
        "CLIPTextEncode": _node(
            "CLIPTextEncode",
            {"text": ["STRING", {"multiline": True, "dynamicPrompts": True}], "clip": ["CLIP"]},
            ["CONDITIONING"],
            category="conditioning",
        ),
        "EmptyLatentImage": _node("EmptyLatentImage", size | batch, ["LATENT"], category="latent"),
        "CheckpointLoaderSimple": _node(
            "CheckpointLoaderSimple",
            {"ckpt_name": [list(CHECKPOINTS)]},
            ["MODEL", "CLIP", "VAE"],
            category="loaders",
        ),
        "VAEDecode": _node("VAEDecode", {"samples": ["LATENT"], "vae": ["VAE"]}, ["IMAGE"], category="latent"),
        "SaveImage": _node(
            "SaveImage",
            {"images": ["IMAGE"], "filename_prefix": ["STRING", {"default": "ComfyUI"}]},
            [],
            category="image",
            output_node=True,
        ),
        "LoadImage": _node(
            "LoadImage",
            {"image": [sorted(input_files), {"image_upload": True}]},
            ["IMAGE", "MASK"],
            category="image",
        ),
        "EmptyImage": _node("EmptyImage", size | batch | colour, ["IMAGE"], category="image"),
        "ImageScale": _node(
            "ImageScale",
            {
                "image": ["IMAGE"],
                "upscale_method": [["nearest-exact", "bilinear", "area", "bicubic", "lanczos"]],
                **scale,
                "crop": [["disabled", "center"]],
            },
            ["IMAGE"],
            category="image/upscaling",
        ),
    }


def _error(kind: str, message: str, details: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "details": details, "extra_info": extra}


def _check_literal(name: str, value: Any, info: list[Any], input_files: list[str]) -> dict[str, Any] | None:
    """The error for one literal input, or None (ComfyUI converts INT/FLOAT and checks ranges and lists)."""
    kind = info[0]
    opts = info[1] if len(info) > 1 and isinstance(info[1], dict) else {}
    if kind in ("INT", "FLOAT"):
        # A JSON bool is an int in Python; ComfyUI's int() accepts it too, so only strings etc. fail.
        if not isinstance(value, (int, float)):
            return _error(
                "invalid_input_type",
                f"Failed to convert an input value to a {kind} value",
                f"{name}, {value}, invalid literal for {kind.lower()}(): {value!r}",
                input_name=name,
                input_config=info,
                received_value=value,
            )
        if "min" in opts and value < opts["min"]:
            return _error(
                "value_smaller_than_min", f"Value {value} smaller than min of {opts['min']}", name, input_name=name
            )
        if "max" in opts and value > opts["max"]:
            return _error(
                "value_bigger_than_max", f"Value {value} bigger than max of {opts['max']}", name, input_name=name
            )
    if isinstance(kind, list) and name == "image" and opts.get("image_upload"):
        if value not in input_files:  # LoadImage validates the file itself, not the list
            return _error(
                "custom_validation_failed",
                "Custom validation failed for node",
                f"{name} - Invalid image file: {value}",
                input_name=name,
            )
    elif isinstance(kind, list) and value not in kind:
        return _error("value_not_in_list", "Value not in list", f"{name}: '{value}' not in {kind}", input_name=name)
    return None


def _node_errors(
    prompt: dict[str, Any], node_id: str, catalog: dict[str, Any], input_files: list[str]
) -> list[dict[str, Any]]:
    node = prompt[node_id]
    required = catalog[node["class_type"]]["input"]["required"]
    inputs = node.get("inputs") or {}
    errors: list[dict[str, Any]] = []
    for name, info in required.items():
        if name not in inputs:
            errors.append(_error("required_input_missing", "Required input is missing", name, input_name=name))
            continue
        value = inputs[name]
        if isinstance(value, list):
            errors.extend(_link_errors(prompt, name, value, info, catalog))
            continue
        error = _check_literal(name, value, info, input_files)
        if error is not None:
            errors.append(error)
    return errors


def _link_errors(
    prompt: dict[str, Any], name: str, link: list[Any], info: list[Any], catalog: dict[str, Any]
) -> list[dict[str, Any]]:
    if len(link) != 2:
        return [_error("bad_linked_input", "Bad linked input, must be a length-2 list of [node_id, slot_index]", name)]
    source = prompt.get(str(link[0]))
    if source is None:
        # The real server fails looking the node up and reports the exception on the linking node.
        return [
            _error(
                "exception_during_inner_validation",
                "Exception when validating inner node",
                f"'{link[0]}'",
                input_name=name,
                exception_type="KeyError",
                linked_node=link,
            )
        ]
    outputs = catalog[source["class_type"]]["output"]
    slot = link[1]
    received = outputs[slot] if isinstance(slot, int) and 0 <= slot < len(outputs) else None
    if received != info[0]:
        return [
            _error(
                "return_type_mismatch",
                "Return type mismatch between linked nodes",
                f"{name}, received_type({received}) mismatch input_type({info[0]})",
                input_name=name,
                received_type=received,
                linked_node=link,
            )
        ]
    return []


def validate_prompt(prompt: Any, input_files: list[str]) -> tuple[dict[str, Any] | None, dict[str, Any], list[str]]:
    """Check a prompt like ``POST /prompt`` does.

    Returns:
        ``(error, node_errors, outputs)``: ``error`` is None when the prompt may be queued;
        ``outputs`` are the output node ids to execute.
    """
    catalog = node_catalog(input_files)
    if not isinstance(prompt, dict):
        return _error("invalid_prompt", "Prompt is not an object", ""), {}, []
    for node_id, node in prompt.items():
        # A UI-format graph ("nodes", "links", "last_node_id" ...) fails here on its first key.
        if not isinstance(node, dict) or "class_type" not in node:
            message = (
                f"Node '{node_id}' has no class_type. The workflow may be corrupted or a custom node may be missing."
            )
            return _error("missing_node_type", message, f"Node ID '#{node_id}'", node_id=node_id), {}, []
        if node["class_type"] not in catalog:
            message = f"Node '{node['class_type']}' not found. The custom node may not be installed."
            extra = {"node_id": node_id, "class_type": node["class_type"]}
            return _error("missing_node_type", message, f"Node ID '#{node_id}'", **extra), {}, []
    outputs = [nid for nid, node in prompt.items() if catalog[node["class_type"]]["output_node"]]
    if not outputs:
        return _error("prompt_no_outputs", "Prompt has no outputs", ""), {}, []
    node_errors: dict[str, Any] = {}
    for out in outputs:
        for nid in upstream(prompt, out):
            errors = _node_errors(prompt, nid, catalog, input_files)
            if errors:
                entry = node_errors.setdefault(
                    nid, {"errors": errors, "dependent_outputs": [], "class_type": prompt[nid]["class_type"]}
                )
                entry["dependent_outputs"].append(out)
    if node_errors:
        details = "\n".join(f"{e['message']}: {e['details']}" for v in node_errors.values() for e in v["errors"])
        return _error("prompt_outputs_failed_validation", "Prompt outputs failed validation", details), node_errors, []
    return None, {}, outputs


def upstream(prompt: dict[str, Any], node_id: str) -> list[str]:
    """``node_id`` and every node it depends on, dependencies first (links to missing nodes skipped)."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(nid: str) -> None:
        if nid in seen or nid not in prompt:
            return
        seen.add(nid)
        for value in (prompt[nid].get("inputs") or {}).values():
            if isinstance(value, list) and len(value) == 2:
                visit(str(value[0]))
        order.append(nid)

    visit(node_id)
    return order


@dataclass(frozen=True)
class ImagePlan:
    """What an output node will write: ``count`` PNGs of ``width`` x ``height`` coloured by ``seed``."""

    width: int
    height: int
    count: int
    seed: int


def _source(prompt: dict[str, Any], node_id: str, name: str) -> str | None:
    value = (prompt[node_id].get("inputs") or {}).get(name)
    return str(value[0]) if isinstance(value, list) else None


def image_plan(prompt: dict[str, Any], node_id: str, input_sizes: dict[str, tuple[int, int]]) -> ImagePlan:
    """Follow the ``images`` link of an output node back to where its size, count and seed come from."""
    width, height, count, seed = 64, 64, 1, 0
    nid = _source(prompt, node_id, "images")
    scaled: tuple[int, int] | None = None
    while nid is not None:
        node = prompt[nid]
        inputs = node.get("inputs") or {}
        kind = node["class_type"]
        if kind == "ImageScale" and scaled is None:
            scaled = (int(inputs["width"]), int(inputs["height"]))
            nid = _source(prompt, nid, "image")
        elif kind == "VAEDecode":
            nid = _source(prompt, nid, "samples")
        elif kind in ("KSampler", "KSamplerAdvanced"):
            seed = int(inputs.get("seed", inputs.get("noise_seed", 0)))
            nid = _source(prompt, nid, "latent_image")
        elif kind in ("EmptyLatentImage", "EmptyImage"):
            width, height, count = int(inputs["width"]), int(inputs["height"]), int(inputs["batch_size"])
            seed = seed if kind == "EmptyLatentImage" else int(inputs["color"])
            nid = None
        elif kind == "LoadImage":
            width, height = input_sizes.get(str(inputs["image"]), (64, 64))
            nid = None
        else:
            nid = None
    if scaled is not None:  # 0 keeps the aspect ratio, as ComfyUI's ImageScale does
        sw, sh = scaled
        if not sw and not sh:
            sw, sh = width, height
        elif not sw:
            sw = max(1, round(width * sh / height))
        elif not sh:
            sh = max(1, round(height * sw / width))
        width, height = sw, sh
    return ImagePlan(width, height, count, seed)


def render_png(width: int, height: int, seed: int) -> bytes:
    """A real PNG whose colours come from ``seed`` only: the same seed and size give the same bytes."""
    rng = random.Random(seed)
    colours = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(3)]
    im = Image.new("RGB", (width, height), colours[0])
    draw = ImageDraw.Draw(im)
    draw.rectangle([width // 8, height // 8, width // 2, height // 2], fill=colours[1])
    draw.ellipse([width // 2, height // 3, width - 1, height - 1], fill=colours[2])
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def preview_jpeg(seed: int, step: int) -> bytes:
    """A small JPEG preview for one sampler step (the bytes of a binary websocket frame)."""
    im = Image.new("RGB", (16, 16), (seed % 256, (step * 16) % 256, 128))
    out = io.BytesIO()
    im.save(out, format="JPEG", quality=70)
    return out.getvalue()

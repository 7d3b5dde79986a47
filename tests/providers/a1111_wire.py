"""AUTOMATIC1111 web API wire format for :mod:`tests.providers.fake_a1111`: request schemas, validation, infotexts.

Kept apart from the fake's server mechanics, as :mod:`tests.providers.model_schemas` is for Replicate and fal.
Field names and defaults are A1111 1.10's ``StableDiffusion{Txt2Img,Img2Img}ProcessingAPI`` and
``ExtrasSingleImageRequest`` (see ``/work/shared/SELF_HOSTED.md``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
from typing import Any

from PIL import Image, ImageDraw
from PIL.PngImagePlugin import PngInfo

from tests.providers.fake_base import Reply

COMMON: dict[str, Any] = {
    "prompt": "", "negative_prompt": "", "styles": None, "seed": -1, "subseed": -1, "subseed_strength": 0.0,
    "seed_resize_from_h": -1, "seed_resize_from_w": -1, "sampler_name": None, "scheduler": None,
    "batch_size": 1, "n_iter": 1, "steps": 50, "cfg_scale": 7.0, "distilled_cfg_scale": None, "width": 512,
    "height": 512, "restore_faces": None, "tiling": None, "do_not_save_samples": False,
    "do_not_save_grid": False, "eta": None, "denoising_strength": None, "s_min_uncond": None,
    "s_churn": None, "s_tmax": None, "s_tmin": None, "s_noise": None, "override_settings": None,
    "override_settings_restore_afterwards": True, "refiner_checkpoint": None, "refiner_switch_at": None,
    "disable_extra_networks": False, "comments": None, "sampler_index": "Euler", "script_name": None,
    "script_args": [], "send_images": True, "save_images": False, "alwayson_scripts": {}, "infotext": None,
    "force_task_id": None,
}  # fmt: skip
TXT2IMG: dict[str, Any] = COMMON | {
    "enable_hr": False, "firstphase_width": 0, "firstphase_height": 0, "hr_scale": 2.0, "hr_upscaler": None,
    "hr_second_pass_steps": 0, "hr_resize_x": 0, "hr_resize_y": 0, "hr_checkpoint_name": None,
    "hr_sampler_name": None, "hr_scheduler": None, "hr_prompt": "", "hr_negative_prompt": "",
    "firstpass_image": None,
}  # fmt: skip
IMG2IMG: dict[str, Any] = COMMON | {
    "init_images": None, "resize_mode": 0, "image_cfg_scale": None, "mask": None, "mask_blur_x": 4,
    "mask_blur_y": 4, "mask_blur": None, "mask_round": True, "inpainting_fill": 0, "inpaint_full_res": True,
    "inpaint_full_res_padding": 0, "inpainting_mask_invert": 0, "initial_noise_multiplier": None,
    "latent_mask": None, "denoising_strength": 0.75, "include_init_images": False,
}  # fmt: skip
EXTRAS: dict[str, Any] = {
    "resize_mode": 0, "show_extras_results": True, "gfpgan_visibility": 0.0, "codeformer_visibility": 0.0,
    "codeformer_weight": 0.0, "upscaling_resize": 2.0, "upscaling_resize_w": 512, "upscaling_resize_h": 512,
    "upscaling_crop": True, "upscaler_1": "None", "upscaler_2": "None", "extras_upscaler_2_visibility": 0.0,
    "upscale_first": False, "image": "",
}  # fmt: skip
SCHEMAS = {"txt2img": TXT2IMG, "img2img": IMG2IMG, "extras": EXTRAS}
"""Every field each route accepts, with its default (None = any type)."""
_RANGES = {"denoising_strength": (0.0, 1.0), "upscaling_resize": (1.0, 8.0)}
# pydantic v1 wording, as A1111's FastAPI (pydantic 1.10) reports a field of the wrong type
_TYPE_ERRORS = {int: ("integer", "integer"), float: ("float", "float"), str: ("str", "string"),
                bool: ("bool", "boolean"), list: ("list", "list"), dict: ("dict", "dict")}  # fmt: skip
SAMPLERS = {"Euler a": ["k_euler_a"], "Euler": ["k_euler"], "DPM++ 2M": ["k_dpmpp_2m"], "DDIM": [], "UniPC": []}
"""Sampler names the fake knows, with their aliases (``GET /sdapi/v1/samplers``)."""
UPSCALERS = {"None": None, "Lanczos": 4, "Nearest": 4, "R-ESRGAN 4x+": 4}
"""Upscaler names with their native scale (``GET /sdapi/v1/upscalers``)."""


def infotext(p: dict[str, Any], seed: int, model: str, model_hash: str) -> str:
    """A1111's infotext: prompt, ``Negative prompt:`` line, then ``Key: value`` pairs."""
    lines = [p["prompt"]] + ([f"Negative prompt: {p['negative_prompt']}"] if p["negative_prompt"] else [])
    strength = _num(p["denoising_strength"]) if p.get("init_images") else None  # img2img only
    pairs = {"Steps": p["steps"], "Sampler": p["sampler_name"], "Schedule type": p["scheduler"],
             "CFG scale": _num(p["cfg_scale"]), "Seed": seed, "Size": f"{p['width']}x{p['height']}",
             "Model hash": model_hash, "Model": model, "Denoising strength": strength,
             "Version": "v1.10.1"}  # fmt: skip
    return "\n".join([*lines, ", ".join(f"{k}: {v}" for k, v in pairs.items() if v not in (None, ""))])


def _num(value: float) -> str:
    return f"{value:g}"


def a1111_error(status: int, detail: str = "", errors: str = "", error: str = "HTTPException") -> Reply:
    """The ``{error, detail, body, errors}`` body A1111's exception middleware answers."""
    return Reply(status, {"error": error, "detail": detail, "body": "", "errors": errors or f"{status}: {detail}"})


def validate(body: Any, schema: dict[str, Any]) -> list[dict[str, Any]]:
    """FastAPI/pydantic-v1-style validation errors (unknown fields, wrong types, ranges)."""
    if not isinstance(body, dict):
        return [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]
    errors: list[dict[str, Any]] = []
    for name, value in body.items():
        default = schema.get(name, ...)
        if default is ...:
            errors.append({"loc": ["body", name], "msg": "extra fields not permitted", "type": "value_error.extra"})
            continue
        want = float if isinstance(default, float) else type(default)
        ok = value is None or default is None or isinstance(value, want) or (want is float and type(value) is int)
        if not ok or (want in (int, float) and type(value) is bool):
            word, kind = _TYPE_ERRORS[want]
            errors.append({"loc": ["body", name], "msg": f"value is not a valid {word}", "type": f"type_error.{kind}"})
        elif name in _RANGES and value is not None and not _RANGES[name][0] <= value <= _RANGES[name][1]:
            low, high = _RANGES[name]
            side, limit = ("ge", low) if value < low else ("le", high)
            word = "greater" if side == "ge" else "less"
            errors.append({"loc": ["body", name], "msg": f"ensure this value is {word} than or equal to {limit:g}",
                           "type": f"value_error.number.not_{side}", "ctx": {"limit_value": limit}})  # fmt: skip
    return errors


def decode_image(data: str) -> Image.Image | None:
    """A1111's ``decode_base64_to_image``: plain base64 or a ``data:image/...`` URL; None if it is neither."""
    if data.startswith("data:image/"):
        data = data.split(",", 1)[-1]
    try:
        im = Image.open(io.BytesIO(base64.b64decode(data, validate=True)))
        im.load()
    except (binascii.Error, ValueError, OSError):
        return None
    return im.convert("RGB")


def render_png(p: dict[str, Any], seed: int, text: str, init: Image.Image | None, mask: Image.Image | None) -> bytes:
    """Deterministic image: same parameters and seed, same bytes; infotext in the ``parameters`` chunk."""
    key = json.dumps([p["prompt"], p["negative_prompt"], seed, p["width"], p["height"], p["steps"],
                      p["cfg_scale"], p["sampler_name"], text.rsplit("Model: ", 1)[-1]])  # fmt: skip
    d = hashlib.sha256(key.encode()).digest()
    w, h = p["width"], p["height"]
    im = Image.new("RGB", (w, h), (d[0], d[1], d[2]))
    draw = ImageDraw.Draw(im)
    for i in range(3, 27, 6):  # four shapes placed by the digest: not flat, seed-dependent
        x0, y0 = d[i] * w // 256, d[i + 1] * h // 256
        box = [x0, y0, x0 + max(4, d[i + 2] * w // 512), y0 + max(4, d[i + 3] * h // 512)]
        draw.ellipse(box, fill=(d[i + 4], d[i + 5], d[i]))
    if init is not None:  # img2img: keep (1 - strength) of the init image, only inside the mask
        im = Image.blend(init.resize((w, h)), im, float(p["denoising_strength"]))
        if mask is not None:
            im = Image.composite(im, init.resize((w, h)), mask.convert("L").resize((w, h)))
    meta = PngInfo()
    meta.add_text("parameters", text)
    out = io.BytesIO()
    im.save(out, format="PNG", pnginfo=meta)
    return out.getvalue()


def png_b64(im: Image.Image) -> str:
    """``im`` as base64 PNG, the way A1111 returns images."""
    out = io.BytesIO()
    im.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()

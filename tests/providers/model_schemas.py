"""The input schemas the fake Replicate and fal servers enforce, and the 422 bodies they answer.

Written from the vendors' published model schemas (Replicate's "API schema" tab of each model,
fal's model API pages), on purpose NOT imported from ``providers.model_inputs``: the adapters'
table is what these schemas test, so a wrong row there (a ratio a model lacks, an input it does
not have) becomes a 422 here, as it would at the vendor.

Error bodies:
    * Replicate validates at prediction create and answers RFC 7807 problem details with the
      list of failed fields (its validator's type/field/description triple)::

          {"title": "Input validation failed", "status": 422,
           "detail": "- aspect_ratio: aspect_ratio must be one of the following: ...",
           "invalid_fields": [{"type": "enum", "field": "aspect_ratio", "description": "..."}]}

    * fal's queue accepts any submit; the model runner validates, and the result fetch answers
      422 ``{"detail": [{"loc": ["body", field], "msg", "type", "url", "ctx"?, "input"?}]}``
      (fal's documented error shape; types ``one_of``, ``greater_than_equal``, ...).

Unknown fields are refused by both fakes (Replicate: ``additional_property_not_allowed``; fal:
``extra_forbidden``). That is at least as strict as the vendors, which is the point: an input
the model does not have does nothing at best.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Input:
    """One input of a model schema.

    Attributes:
        kind: ``string``, ``integer``, ``number``, ``boolean``, ``array``, or ``image_size``
            (fal: a preset name or ``{width, height}``).
        enum: Allowed values, when restricted.
        minimum: Lowest allowed number, inclusive.
        maximum: Highest allowed number, inclusive.
        required: The model refuses a call without it.
    """

    kind: str
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False


@dataclass(frozen=True)
class Violation:
    """One refused input: ``field``, a machine ``kind`` and a human ``message``."""

    field: str
    kind: str
    message: str
    ctx: dict[str, Any] | None = None


# -- Replicate (replicate.com/<owner>/<name>/api/schema) -----------------------------------------
_SCHNELL_DEV_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
_REPLICATE_FLUX = {
    "prompt": Input("string", required=True),
    "aspect_ratio": Input("string", enum=_SCHNELL_DEV_RATIOS),
    "num_outputs": Input("integer", minimum=1, maximum=4),
    "seed": Input("integer"),
    "output_format": Input("string", enum=("webp", "jpg", "png")),
    "output_quality": Input("integer", minimum=0, maximum=100),
    "disable_safety_checker": Input("boolean"),
    "go_fast": Input("boolean"),
    "megapixels": Input("string", enum=("1", "0.25")),
}
REPLICATE_SCHEMAS: dict[str, dict[str, Input]] = {
    "black-forest-labs/flux-schnell": {
        **_REPLICATE_FLUX,
        "num_inference_steps": Input("integer", minimum=1, maximum=4),
    },
    "black-forest-labs/flux-dev": {
        **_REPLICATE_FLUX,
        "num_inference_steps": Input("integer", minimum=1, maximum=50),
        "image": Input("string"),
        "prompt_strength": Input("number", minimum=0, maximum=1),
        "guidance": Input("number", minimum=0, maximum=10),
    },
    "black-forest-labs/flux-1.1-pro": {
        "prompt": Input("string", required=True),
        "aspect_ratio": Input(
            "string", enum=("custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3")
        ),
        "width": Input("integer", minimum=256, maximum=1440),
        "height": Input("integer", minimum=256, maximum=1440),
        "seed": Input("integer"),
        "image_prompt": Input("string"),
        "output_format": Input("string", enum=("webp", "jpg", "png")),
        "output_quality": Input("integer", minimum=0, maximum=100),
        "safety_tolerance": Input("integer", minimum=1, maximum=6),
        "prompt_upsampling": Input("boolean"),
    },
    # Fill: the version pages of 2025 (flux-fill-pro 9609ba73, flux-fill-dev a053f841).
    "black-forest-labs/flux-fill-pro": {
        "prompt": Input("string", required=True),
        "image": Input("string", required=True),
        "mask": Input("string"),
        "outpaint": Input(
            "string",
            enum=(
                "None",
                "Zoom out 1.5x",
                "Zoom out 2x",
                "Make square",
                "Left outpaint",
                "Right outpaint",
                "Top outpaint",
                "Bottom outpaint",
            ),
        ),
        "seed": Input("integer"),
        "steps": Input("integer", minimum=1, maximum=50),
        "prompt_upsampling": Input("boolean"),
        "guidance": Input("number", minimum=2, maximum=5),
        "safety_tolerance": Input("integer", minimum=1, maximum=6),
        "output_format": Input("string", enum=("jpg", "png")),
    },
    "black-forest-labs/flux-fill-dev": {
        "prompt": Input("string", required=True),
        "image": Input("string", required=True),
        "mask": Input("string"),
        "num_outputs": Input("integer", minimum=1, maximum=4),
        "num_inference_steps": Input("integer", minimum=1, maximum=50),
        "guidance": Input("number", minimum=0, maximum=100),
        "seed": Input("integer"),
        "megapixels": Input("string", enum=("1", "0.25", "match_input")),
        "output_format": Input("string", enum=("webp", "jpg", "png")),
        "output_quality": Input("integer", minimum=0, maximum=100),
        "lora_weights": Input("string"),
        "lora_scale": Input("number", minimum=-1, maximum=3),
        "disable_safety_checker": Input("boolean"),
    },
    "nightmareai/real-esrgan": {
        "image": Input("string", required=True),
        "scale": Input("number", minimum=0, maximum=10),
        "face_enhance": Input("boolean"),
    },
}

# -- fal (fal.ai/models/<endpoint>/api) ----------------------------------------------------------
FAL_IMAGE_SIZES = ("square_hd", "square", "portrait_4_3", "portrait_16_9", "landscape_4_3", "landscape_16_9")
FAL_MAX_SIDE = 14142
_FAL_FLUX = {
    "prompt": Input("string", required=True),
    "image_size": Input("image_size"),
    "seed": Input("integer"),
    "guidance_scale": Input("number", minimum=1, maximum=20),
    "sync_mode": Input("boolean"),
    "num_images": Input("integer", minimum=1, maximum=4),
    "enable_safety_checker": Input("boolean"),
    "output_format": Input("string", enum=("jpeg", "png")),
    "acceleration": Input("string", enum=("none", "regular", "high")),
}
_FAL_I2I = {k: v for k, v in _FAL_FLUX.items() if k != "image_size"} | {
    "image_url": Input("string", required=True),
    "strength": Input("number", minimum=0.01, maximum=1),
    "num_inference_steps": Input("integer", minimum=10, maximum=50),
}
FAL_SCHEMAS: dict[str, dict[str, Input]] = {
    "fal-ai/flux/schnell": {**_FAL_FLUX, "num_inference_steps": Input("integer", minimum=1, maximum=12)},
    "fal-ai/flux/dev": {**_FAL_FLUX, "num_inference_steps": Input("integer", minimum=1, maximum=50)},
    "fal-ai/flux/dev/image-to-image": _FAL_I2I,
    "fal-ai/flux-lora/image-to-image": {**_FAL_I2I, "image_size": Input("image_size"), "loras": Input("array")},
    "fal-ai/flux-pro/v1/fill": {
        "prompt": Input("string", required=True),
        "image_url": Input("string", required=True),
        "mask_url": Input("string", required=True),
        "seed": Input("integer"),
        "sync_mode": Input("boolean"),
        "num_images": Input("integer", minimum=1, maximum=4),
        "output_format": Input("string", enum=("jpeg", "png")),
        "safety_tolerance": Input("string", enum=("1", "2", "3", "4", "5", "6")),
        "enhance_prompt": Input("boolean"),
    },
    "fal-ai/esrgan": {
        "image_url": Input("string", required=True),
        "scale": Input("number", minimum=1, maximum=8),
        "tile": Input("integer", minimum=0),
        "face": Input("boolean"),
        "model": Input(
            "string",
            enum=(
                "RealESRGAN_x4plus",
                "RealESRGAN_x2plus",
                "RealESRGAN_x4plus_anime_6B",
                "RealESRGAN_x4_v3",
                "RealESRGAN_x4_wdn_v3",
                "RealESRGAN_x4_anime_v3",
            ),
        ),
        "output_format": Input("string", enum=("png", "jpeg")),
    },
    "fal-ai/clarity-upscaler": {
        "image_url": Input("string", required=True),
        "prompt": Input("string"),
        "upscale_factor": Input("number", minimum=1, maximum=4),
        "negative_prompt": Input("string"),
        "creativity": Input("number", minimum=0, maximum=1),
        "resemblance": Input("number", minimum=0, maximum=1),
        "guidance_scale": Input("number", minimum=0, maximum=20),
        "num_inference_steps": Input("integer", minimum=4, maximum=50),
        "seed": Input("integer"),
        "enable_safety_checker": Input("boolean"),
    },
}
FAL_UPSCALERS = frozenset({"fal-ai/esrgan", "fal-ai/clarity-upscaler"})


# -- validation ----------------------------------------------------------------------------------
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
}


def _type_ok(kind: str, value: Any) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False  # JSON true is not a number
    return isinstance(value, _PY_TYPES[kind])


def _check_range(name: str, spec: Input, value: float) -> Violation | None:
    if spec.minimum is not None and value < spec.minimum:
        return Violation(name, "minimum", f"Must be greater than or equal to {spec.minimum:g}", {"ge": spec.minimum})
    if spec.maximum is not None and value > spec.maximum:
        return Violation(name, "maximum", f"Must be less than or equal to {spec.maximum:g}", {"le": spec.maximum})
    return None


def _check_image_size(name: str, value: Any) -> Violation | None:
    if isinstance(value, str):
        if value in FAL_IMAGE_SIZES:
            return None
        return Violation(
            name,
            "enum",
            f"{name} must be one of the following: {', '.join(FAL_IMAGE_SIZES)}",
            {"expected": list(FAL_IMAGE_SIZES)},
        )
    if not isinstance(value, dict) or set(value) - {"width", "height"}:
        return Violation(name, "type", f"{name} must be a preset name or {{width, height}}")
    for side in ("width", "height"):
        got = value.get(side, 512)
        if not _type_ok("integer", got):
            return Violation(f"{name}.{side}", "type", f"Invalid type. Expected: integer, given: {type(got).__name__}")
        if not 0 < got <= FAL_MAX_SIDE:
            return Violation(
                f"{name}.{side}",
                "maximum" if got > 0 else "minimum",
                f"Must be greater than 0 and at most {FAL_MAX_SIDE}",
                {"le": FAL_MAX_SIDE},
            )
    return None


def violations(schema: dict[str, Input], given: dict[str, Any]) -> list[Violation]:
    """Everything in ``given`` that ``schema`` refuses, in field order."""
    found: list[Violation] = []
    for name, spec in schema.items():
        if spec.required and name not in given:
            found.append(Violation(name, "required", f"{name} is required"))
    for name, value in given.items():
        spec = schema.get(name)
        if spec is None:
            found.append(Violation(name, "additional", f"Additional property {name} is not allowed"))
        elif spec.kind == "image_size":
            problem = _check_image_size(name, value)
            if problem:
                found.append(problem)
        elif not _type_ok(spec.kind, value):
            found.append(Violation(name, "type", f"Invalid type. Expected: {spec.kind}, given: {type(value).__name__}"))
        elif spec.enum is not None and value not in spec.enum:
            listed = ", ".join(f'"{v}"' for v in spec.enum)
            found.append(
                Violation(name, "enum", f"{name} must be one of the following: {listed}", {"expected": list(spec.enum)})
            )
        elif spec.kind in ("integer", "number") and (problem := _check_range(name, spec, value)):
            found.append(problem)
    return found


_REPLICATE_TYPES = {
    "required": "required",
    "additional": "additional_property_not_allowed",
    "type": "invalid_type",
    "enum": "enum",
    "minimum": "number_gte",
    "maximum": "number_lte",
}
_FAL_TYPES = {
    "required": "missing",
    "additional": "extra_forbidden",
    "type": "type_error",
    "enum": "one_of",
    "minimum": "greater_than_equal",
    "maximum": "less_than_equal",
}


def replicate_error(found: list[Violation]) -> dict[str, Any]:
    """Replicate's 422 body for ``found``."""
    # Its validator reports a property that should not be there against the object holding it.
    fields = [
        {
            "type": _REPLICATE_TYPES[v.kind],
            "field": "input" if v.kind == "additional" else v.field,
            "description": v.message,
        }
        for v in found
    ]
    detail = "".join(f"- {f['field']}: {f['description']}\n" for f in fields)
    return {"title": "Input validation failed", "detail": detail, "status": 422, "invalid_fields": fields}


def fal_error(found: list[Violation], given: dict[str, Any]) -> dict[str, Any]:
    """fal's 422 body for ``found`` (``given`` supplies each error's ``input``)."""
    detail = []
    for v in found:
        kind = _FAL_TYPES[v.kind]
        entry: dict[str, Any] = {
            "loc": ["body", *v.field.split(".")],
            "msg": "Extra inputs are not permitted" if v.kind == "additional" else v.message,
            "type": kind,
            "url": f"https://docs.fal.ai/errors/#{kind}",
        }
        if v.ctx:
            entry["ctx"] = v.ctx
        top = v.field.split(".")[0]
        if top in given:
            value = given[top]
            entry["input"] = value if not (isinstance(value, str) and value.startswith("data:")) else "<data URI>"
        detail.append(entry)
    return {"detail": detail}


__all__ = [
    "FAL_IMAGE_SIZES",
    "FAL_MAX_SIDE",
    "FAL_SCHEMAS",
    "FAL_UPSCALERS",
    "REPLICATE_SCHEMAS",
    "Input",
    "Violation",
    "fal_error",
    "replicate_error",
    "violations",
]

"""What each Replicate and fal model the studio calls accepts: the one table every adapter reads.

Vendors refuse (HTTP 422) an input their model's schema does not have, and an ``aspect_ratio``
outside the model's list. So the adapters build each call from :data:`MODEL_INPUTS`: only the
fields a model has, a size the model can take (:func:`size_inputs`), and a ``reproducible``
flag decided from what the model really does with a seed (:func:`is_reproducible`).

Read from the vendors' published model schemas (Replicate's model API pages, fal's model API
pages). A model missing here is refused with :class:`~providers.base.InvalidRequest` before
anything is sent or paid for: add its row rather than guess its inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from providers.base import InvalidRequest

RATIO_TOLERANCE = 0.01
"""How far (in log ratio, about 1%) a requested size may be from a listed aspect ratio and still
count as that ratio: 2048x878 is 21:9, 1344x768 (7:4) is not 16:9."""


@dataclass(frozen=True)
class SizeRange:
    """Pixel sizes a model takes as explicit width/height.

    Attributes:
        minimum: Smallest side, inclusive.
        maximum: Largest side, inclusive.
        multiple: Both sides are multiples of this.
    """

    minimum: int
    maximum: int
    multiple: int = 1


@dataclass(frozen=True)
class ModelInputs:
    """The inputs of one vendor model, and what the studio always sends it.

    Attributes:
        fields: Every input name the model's schema has; nothing else is sent.
        aspect_ratios: ``aspect_ratio`` values it takes (Replicate models); empty when it
            takes none.
        custom_size: Width/height it takes with ``aspect_ratio: "custom"`` (Replicate) or in
            ``image_size`` (fal); ``None`` when it takes no explicit size.
        always: Inputs the studio sends on every call (lossless PNG, one image, the
            deterministic mode); ``request.params`` may override them.
        owned: Inputs the adapter derives from the request itself (prompt, seed, size, input
            image, image count); ``request.params`` never overrides these.
        image_input: The field that takes an input image for image-to-image, if any.
        strength_input: The field that says how far to move from it.
        mask_input: The field that takes a mask (white = change) over the input image: the
            model edits inside it (Flux Fill); ``None`` for models that take no mask.
        seeded: The vendor says the same seed + inputs + model version give the same image.
        replay_needs: Input values (sent, or the vendor default in ``defaults``) without which
            a seed does not give the same image again (Replicate Flux's ``go_fast``).
        defaults: Vendor defaults of the ``replay_needs`` fields.
        factor: ``(field, lowest, highest)`` of an upscaler's scale factor.
    """

    fields: frozenset[str]
    aspect_ratios: tuple[str, ...] = ()
    custom_size: SizeRange | None = None
    always: Mapping[str, Any] = field(default_factory=dict)
    owned: frozenset[str] = frozenset()
    image_input: str | None = None
    strength_input: str | None = None
    mask_input: str | None = None
    seeded: bool = True
    replay_needs: Mapping[str, Any] = field(default_factory=dict)
    defaults: Mapping[str, Any] = field(default_factory=dict)
    factor: tuple[str, float, float] | None = None


# -- Replicate -----------------------------------------------------------------------------------
_FLUX_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
_FLUX_COMMON = frozenset(
    {
        "prompt",
        "aspect_ratio",
        "num_outputs",
        "num_inference_steps",
        "seed",
        "output_format",
        "output_quality",
        "disable_safety_checker",
        "go_fast",
        "megapixels",
    }
)
_FLUX_OWNED = frozenset({"prompt", "seed", "aspect_ratio", "num_outputs"})
# go_fast (default true) runs a quantized fp8 path that is not deterministic even with a seed.
_FLUX_ALWAYS = MappingProxyType({"num_outputs": 1, "output_format": "png", "go_fast": False})

_REPLICATE: dict[str, ModelInputs] = {
    "black-forest-labs/flux-schnell": ModelInputs(
        fields=_FLUX_COMMON,
        aspect_ratios=_FLUX_RATIOS,
        always=_FLUX_ALWAYS,
        owned=_FLUX_OWNED,
        replay_needs={"go_fast": False},
        defaults={"go_fast": True},
    ),
    "black-forest-labs/flux-dev": ModelInputs(
        fields=_FLUX_COMMON | {"image", "prompt_strength", "guidance"},
        aspect_ratios=_FLUX_RATIOS,
        always=_FLUX_ALWAYS,
        owned=_FLUX_OWNED | {"image", "prompt_strength"},
        image_input="image",
        strength_input="prompt_strength",
        replay_needs={"go_fast": False},
        defaults={"go_fast": True},
    ),
    "black-forest-labs/flux-1.1-pro": ModelInputs(
        # No 21:9 or 9:21, and no num_outputs or go_fast; "custom" takes width/height instead.
        fields=frozenset(
            {
                "prompt",
                "aspect_ratio",
                "width",
                "height",
                "seed",
                "image_prompt",
                "output_format",
                "output_quality",
                "safety_tolerance",
                "prompt_upsampling",
            }
        ),
        aspect_ratios=("custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3"),
        custom_size=SizeRange(256, 1440, 32),
        always={"output_format": "png"},
        owned=frozenset({"prompt", "seed", "aspect_ratio", "width", "height"}),
        # Prompt upsampling rewrites the prompt with a language model first: not replayable.
        replay_needs={"prompt_upsampling": False},
        defaults={"prompt_upsampling": False},
    ),
    # Fill models edit inside the mask and keep the input image's size: no size input is sent.
    "black-forest-labs/flux-fill-pro": ModelInputs(
        # Its outpaint input is left out on purpose: it ignores the mask.
        fields=frozenset(
            {"prompt", "image", "mask", "seed", "steps", "guidance", "safety_tolerance", "prompt_upsampling"}
            | {"output_format"}
        ),
        always={"output_format": "png"},
        owned=frozenset({"prompt", "seed", "image", "mask"}),
        image_input="image",
        mask_input="mask",
        replay_needs={"prompt_upsampling": False},
        defaults={"prompt_upsampling": False},
    ),
    "black-forest-labs/flux-fill-dev": ModelInputs(
        fields=frozenset(
            {"prompt", "image", "mask", "seed", "num_outputs", "num_inference_steps", "guidance", "megapixels"}
            | {"output_format", "output_quality", "lora_weights", "lora_scale"}
        ),
        # match_input: the edit comes back at the input image's size, so the mask lines up with it.
        always={"num_outputs": 1, "output_format": "png", "megapixels": "match_input"},
        owned=frozenset({"prompt", "seed", "image", "mask", "num_outputs"}),
        image_input="image",
        mask_input="mask",
    ),
    "nightmareai/real-esrgan": ModelInputs(
        fields=frozenset({"image", "scale", "face_enhance"}),
        owned=frozenset({"image", "scale"}),
        image_input="image",
        factor=("scale", 0, 10),
    ),
}

# -- fal -----------------------------------------------------------------------------------------
_FAL_FLUX = frozenset(
    {
        "prompt",
        "image_size",
        "num_inference_steps",
        "seed",
        "guidance_scale",
        "sync_mode",
        "num_images",
        "enable_safety_checker",
        "output_format",
        "acceleration",
    }
)
_FAL_SIZE = SizeRange(1, 14142)
_FAL_ALWAYS = MappingProxyType({"num_images": 1, "enable_safety_checker": True, "output_format": "png"})
_FAL_OWNED = frozenset({"prompt", "seed", "image_size", "num_images", "image_url", "strength"})

_FAL: dict[str, ModelInputs] = {
    "fal-ai/flux/schnell": ModelInputs(fields=_FAL_FLUX, custom_size=_FAL_SIZE, always=_FAL_ALWAYS, owned=_FAL_OWNED),
    "fal-ai/flux/dev": ModelInputs(fields=_FAL_FLUX, custom_size=_FAL_SIZE, always=_FAL_ALWAYS, owned=_FAL_OWNED),
    # Image-to-image keeps the input image's size: no image_size is sent.
    "fal-ai/flux/dev/image-to-image": ModelInputs(
        fields=(_FAL_FLUX - {"image_size"}) | {"image_url", "strength"},
        always=_FAL_ALWAYS,
        owned=_FAL_OWNED,
        image_input="image_url",
        strength_input="strength",
    ),
    "fal-ai/flux-lora/image-to-image": ModelInputs(
        fields=_FAL_FLUX | {"image_url", "strength", "loras"},
        always=_FAL_ALWAYS,
        owned=_FAL_OWNED,
        image_input="image_url",
        strength_input="strength",
    ),
    # Fill (FLUX.1 [pro]) keeps the input image's size; enhance_prompt rewrites the prompt first.
    "fal-ai/flux-pro/v1/fill": ModelInputs(
        fields=frozenset(
            {"prompt", "image_url", "mask_url", "seed", "sync_mode", "num_images", "output_format"}
            | {"safety_tolerance", "enhance_prompt"}
        ),
        always={"num_images": 1, "output_format": "png"},
        owned=frozenset({"prompt", "seed", "image_url", "mask_url", "num_images"}),
        image_input="image_url",
        mask_input="mask_url",
        replay_needs={"enhance_prompt": False},
        defaults={"enhance_prompt": False},
    ),
    # ESRGAN's scale range is the least certain figure here; the studio asks 2..4.
    "fal-ai/esrgan": ModelInputs(
        fields=frozenset({"image_url", "scale", "tile", "face", "model", "output_format"}),
        owned=frozenset({"image_url", "scale"}),
        image_input="image_url",
        factor=("scale", 1, 8),
    ),
    "fal-ai/clarity-upscaler": ModelInputs(
        fields=frozenset(
            {
                "image_url",
                "prompt",
                "upscale_factor",
                "negative_prompt",
                "creativity",
                "resemblance",
                "guidance_scale",
                "num_inference_steps",
                "seed",
                "enable_safety_checker",
            }
        ),
        owned=frozenset({"image_url", "upscale_factor"}),
        image_input="image_url",
        factor=("upscale_factor", 1, 4),
    ),
}

MODEL_INPUTS: Mapping[str, Mapping[str, ModelInputs]] = MappingProxyType(
    {"replicate": MappingProxyType(_REPLICATE), "fal": MappingProxyType(_FAL)}
)
"""Vendor → model id → its inputs."""


def model_inputs(vendor: str, model: str) -> ModelInputs:
    """The row for ``model`` on ``vendor`` (a pinned ``owner/name:version`` uses its model's row).

    Raises:
        InvalidRequest: The model is not in the table; nothing should be sent to it.
    """
    found = MODEL_INPUTS.get(vendor, {}).get(model.split(":", 1)[0])
    if found is None:
        known = ", ".join(sorted(MODEL_INPUTS.get(vendor, {})))
        raise InvalidRequest(
            f"{vendor} model {model!r} has no input table (known: {known}); add its "
            "schema to providers/model_inputs.py",
            provider=vendor,
            detail=f"unknown model {model}",
        )
    return found


# -- sizes ---------------------------------------------------------------------------------------
def _log_ratio(text: str) -> float:
    w, h = (float(x) for x in text.split(":"))
    return math.log(w / h)


def nearest_aspect(width: int, height: int, choices: Sequence[str]) -> str:
    """The ``"W:H"`` of ``choices`` closest to ``width:height`` (measured on log ratio, so 2:1
    and 1:2 are equally far from 1:1).

    Raises:
        ValueError: ``width`` or ``height`` is not positive.
    """
    if width <= 0 or height <= 0:
        raise ValueError("width and height must be positive")
    target = math.log(width / height)
    return min(choices, key=lambda choice: abs(_log_ratio(choice) - target))


def fit_size(width: int, height: int, rule: SizeRange) -> tuple[int, int]:
    """``width`` x ``height`` scaled (keeping its ratio as far as the rule allows) into ``rule``."""
    scale = min(1.0, rule.maximum / max(width, height))
    if min(width, height) * scale < rule.minimum:
        scale = rule.minimum / min(width, height)

    def snap(value: float) -> int:
        stepped = round(value / rule.multiple) * rule.multiple
        return min(rule.maximum, max(rule.minimum, stepped))

    return snap(width * scale), snap(height * scale)


def size_inputs(spec: ModelInputs, width: int, height: int) -> dict[str, Any]:
    """The size inputs for ``spec``: a listed aspect ratio when the size is one, else
    ``custom`` + width/height where the model takes it, else the nearest listed ratio.

    fal models (``custom_size`` and no ratios) get ``image_size: {width, height}``.
    """
    if not spec.aspect_ratios:
        if spec.custom_size is None:
            return {}
        w, h = fit_size(width, height, spec.custom_size)
        return {"image_size": {"width": w, "height": h}}
    listed = [r for r in spec.aspect_ratios if r != "custom"]
    closest = nearest_aspect(width, height, listed)
    if abs(_log_ratio(closest) - math.log(width / height)) <= RATIO_TOLERANCE:
        return {"aspect_ratio": closest}
    if "custom" in spec.aspect_ratios and spec.custom_size is not None:
        w, h = fit_size(width, height, spec.custom_size)
        return {"aspect_ratio": "custom", "width": w, "height": h}
    return {"aspect_ratio": closest}


# -- building and judging an input ---------------------------------------------------------------
def tunable(spec: ModelInputs, params: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Split caller ``params`` into what this model takes and the request does not decide, and
    the names the model does not have (another model's inputs in a replayed recipe, studio
    bookkeeping). Inputs the request decides (``owned``) are left out silently: a replayed
    recipe carries them, and the request's own values are the ones meant."""
    kept = {k: v for k, v in params.items() if k in spec.fields and k not in spec.owned}
    unknown = sorted(k for k in params if k not in spec.fields)
    return kept, unknown


def is_reproducible(spec: ModelInputs, sent: Mapping[str, Any], seed: int | None) -> bool:
    """Whether the recorded seed and inputs give the same image again on this model."""
    if seed is None or not spec.seeded:
        return False
    return all(sent.get(name, spec.defaults.get(name)) == value for name, value in spec.replay_needs.items())


def check_factor(spec: ModelInputs, factor: float, *, vendor: str, model: str) -> str:
    """The factor field of an upscaler, after checking ``factor`` is in its range.

    Raises:
        InvalidRequest: The model is not an upscaler, or ``factor`` is out of its range
            (nothing is sent).
    """
    if spec.factor is None:
        raise InvalidRequest(
            f"{vendor} model {model} takes no scale factor", provider=vendor, detail=f"{model} is not an upscaler"
        )
    name, low, high = spec.factor
    if not low <= factor <= high:
        raise InvalidRequest(
            f"{vendor} model {model} takes {name} {low:g}..{high:g}, not {factor:g}",
            provider=vendor,
            detail=f"{name} out of range",
        )
    return name


__all__ = [
    "MODEL_INPUTS",
    "RATIO_TOLERANCE",
    "ModelInputs",
    "SizeRange",
    "check_factor",
    "fit_size",
    "is_reproducible",
    "model_inputs",
    "nearest_aspect",
    "size_inputs",
    "tunable",
]

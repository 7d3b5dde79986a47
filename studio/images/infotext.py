"""AUTOMATIC1111 "infotext": the plain-text recipe that image tools read from a picture.

The format, as A1111 writes it (``modules/processing.py``) and reads it back
(``modules/infotext_utils.py``)::

    a lighthouse at dusk, oil painting
    Negative prompt: blurry
    Steps: 28, Sampler: Euler, CFG scale: 3.5, Seed: 42, Size: 1344x768, Model: flux-dev

The last line is ``key: value`` pairs separated by commas; a value holding a comma, colon, quote
or newline is written as a JSON string.

What readers demand, and so what the studio always writes:

- A1111 takes the last line as parameters only when it holds at least three pairs.
- ``sd-parsers`` (the PyPI reader many tools use) wants ``Sampler`` plus at least two more of
  ``Steps``, ``CFG scale``, ``Seed``, and splits the line on every comma and colon, quotes or
  not. So ``Steps``, ``Sampler`` and ``CFG scale`` are always written: the value the take
  used when its params say, else an honest marker (``unknown`` for a vendor that does not say,
  ``none`` for a renderer that has no such thing, such as the procedural ``local`` renderer).
  A Replicate model ``owner/name:version`` is written as ``Model: owner/name, Model hash:
  version`` (the version *is* a content hash), so its colon does not hide the model.
- An upscaled file keeps ``Size`` as the render size and adds A1111's own postprocessing keys
  (``Postprocess upscale by: 2, Postprocess upscaler: local``), as A1111's Extras tab does.

Known limits of the format (A1111 has them too): whitespace at the start or end of a prompt line
is not kept, and a prompt line that itself starts with ``Negative prompt:`` reads back as the
start of the negative prompt.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NEGATIVE_PREFIX = "Negative prompt:"

# A1111's own pattern (``re_param_code``), so what it reads and what this module reads agree.
_PARAM_RE = re.compile(r'\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')
_SIZE_RE = re.compile(r"^(\d+)x(\d+)$")
_NEEDS_QUOTES = (",", "\n", "\r", ":", '"')
# Replicate's model versions are 64 hex digits; shorter hex suffixes are abbreviated versions.
_VERSION_RE = re.compile(r"^(?P<model>[^:,\s]+):(?P<version>[0-9a-f]{8,64})$")

UNKNOWN = "unknown"  # the vendor used some value but does not say which
NOT_APPLICABLE = "none"  # the renderer has no such setting (it does not sample at all)
UPSCALE_BY = "Postprocess upscale by"  # A1111 scripts/postprocessing_upscale.py spells them so
UPSCALER = "Postprocess upscaler"

# Infotext key -> the take params that may hold it, first match wins. Providers name these
# differently (Replicate's Flux takes ``guidance``, fal's ``guidance_scale``).
_PARAM_KEYS: dict[str, tuple[str, ...]] = {
    "Steps": ("steps", "num_inference_steps"),
    "Sampler": ("sampler", "sampler_name"),
    "CFG scale": ("cfg", "cfg_scale", "guidance", "guidance_scale"),
}


@dataclass(frozen=True)
class Infotext:
    """A parsed infotext.

    Attributes:
        prompt: The prompt (lines joined with ``\\n``).
        negative: The negative prompt, ``""`` when there is none.
        fields: The last line's pairs in order, values unquoted but otherwise as written
            (``{"Steps": "28", "Size": "1344x768"}``).
    """

    prompt: str
    negative: str = ""
    fields: dict[str, str] = field(default_factory=dict)


def quote(value: object) -> str:
    """``value`` as an infotext value: JSON-quoted when it would otherwise break the line."""
    text = str(value)
    if any(mark in text for mark in _NEEDS_QUOTES) or text != text.strip():
        return json.dumps(text, ensure_ascii=False)
    return text


def format_infotext(prompt: str, negative: str, fields: Mapping[str, object | None]) -> str:
    """Write an infotext; fields whose value is ``None`` are left out.

    Args:
        prompt: The prompt.
        negative: The negative prompt; no ``Negative prompt:`` line when empty.
        fields: Last-line pairs in the order to write them.
    """
    pairs = ", ".join(f"{key}: {quote(value)}" for key, value in fields.items() if value is not None)
    negative_line = f"\n{NEGATIVE_PREFIX} {negative}" if negative else ""
    return f"{prompt}{negative_line}\n{pairs}".strip()


def recipe_infotext(recipe: Mapping[str, Any]) -> str:
    """The infotext of a studio recipe (see :func:`studio.images.recipes.take_recipe`).

    ``Steps``, ``Sampler`` and ``CFG scale`` are always there (see the module notes), ``Seed``
    when the take has one, ``Postprocess upscale by`` and ``Postprocess upscaler`` when the
    published image is an upscale of the render (``final_key`` differs from ``render_key``).
    """
    params = recipe.get("params") or {}
    provider = recipe.get("provider")
    # A renderer named in the params (local: "procedural") draws without a diffusion sampler.
    renderer = params.get("renderer") if isinstance(params.get("renderer"), str) else None
    absent = NOT_APPLICABLE if renderer else UNKNOWN
    fields: dict[str, object | None] = {key: _first_scalar(params, names) for key, names in _PARAM_KEYS.items()}
    for key in ("Steps", "CFG scale"):
        fields[key] = absent if fields[key] is None else fields[key]
    if fields["Sampler"] is None:
        fields["Sampler"] = f"{NOT_APPLICABLE} ({renderer})" if renderer else f"{provider or 'vendor'} ({UNKNOWN})"
    fields["Seed"] = recipe.get("seed")
    # The size the render came out at: a vendor that picks its own pixels (Gemini) records it.
    size = params.get("delivered_size") or recipe.get("size")
    fields["Size"] = f"{size[0]}x{size[1]}" if size else None
    model = recipe.get("model")
    split = _VERSION_RE.match(model) if isinstance(model, str) else None
    fields["Model hash"] = split.group("version") if split else None
    fields["Model"] = split.group("model") if split else model
    final, render, factor = recipe.get("final_key"), recipe.get("render_key"), recipe.get("upscale")
    if final and final != render and isinstance(factor, (int, float)) and factor > 1:
        fields[UPSCALE_BY] = factor
        fields[UPSCALER] = recipe.get("upscaler") or UNKNOWN
    fields["Provider"] = provider
    return format_infotext(recipe.get("prompt") or "", recipe.get("negative") or "", fields)


def parse_infotext(text: str) -> Infotext:
    """Read an infotext written by the studio, A1111 or a tool that copies A1111's format."""
    *lines, last = text.strip().replace("\r\n", "\n").split("\n")
    pairs = _PARAM_RE.findall(last)
    if not _is_parameters_line(last, pairs):
        lines.append(last)
        pairs = []
    prompt: list[str] = []
    negative: list[str] = []
    for raw in lines:
        line = raw.strip()
        if not negative and line.startswith(NEGATIVE_PREFIX):
            negative.append(line[len(NEGATIVE_PREFIX) :].strip())
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    fields = {key: _unquote(value) for key, value in pairs}
    return Infotext("\n".join(prompt).strip(), "\n".join(negative).strip(), fields)


def recipe_from_infotext(text: str) -> dict[str, Any]:
    """A partial studio recipe from an infotext (a file from A1111 or a similar tool).

    Only what the text says is filled in; ``"source": "infotext"`` tells a reader that ids,
    hashes and provider details are absent rather than empty.
    """
    info = parse_infotext(text)
    fields = dict(info.fields)
    size = _SIZE_RE.match(fields.pop("Size", ""))
    params: dict[str, Any] = {}
    for key, name, convert in (("Steps", "steps", int), ("Sampler", "sampler", str), ("CFG scale", "cfg", float)):
        value = fields.pop(key, None)
        if value is not None and not _is_marker(value):
            params[name] = _convert(value, convert)
    seed = fields.pop("Seed", None)
    provider, model = fields.pop("Provider", None), fields.pop("Model", None)
    if provider is not None and model is not None and "Model hash" in fields:
        # Only the studio writes Provider, and it splits "owner/name:version" so: join it again.
        model = f"{model}:{fields.pop('Model hash')}"
    upscale = fields.pop(UPSCALE_BY, None)
    upscaler = fields.pop(UPSCALER, None)
    recipe: dict[str, Any] = {
        "source": "infotext",
        "provider": provider,
        "model": model,
        "seed": _convert(seed, int) if seed is not None else None,
        "prompt": info.prompt,
        "negative": info.negative,
        "size": [int(size.group(1)), int(size.group(2))] if size else None,
        "params": params,
    }
    if upscale is not None:
        recipe["upscale"] = _convert(upscale, int if upscale.isdigit() else float)
        recipe["upscaler"] = None if upscaler is None or _is_marker(upscaler) else upscaler
    # Whatever else the writer recorded (A1111's "Model hash", "Version", ...) stays readable.
    recipe["params"].update(fields)
    return recipe


def _is_parameters_line(line: str, pairs: list[tuple[str, str]]) -> bool:
    # A1111's rule is "three pairs or more". A studio line may hold fewer (Size and Provider
    # only), so a line that is nothing but pairs and carries a WxH Size counts as well.
    if len(pairs) >= 3:
        return True
    if not any(key == "Size" and _SIZE_RE.match(value) for key, value in pairs):
        return False
    position = 0
    while position < len(line):
        match = _PARAM_RE.match(line, position)
        if match is None or match.end() == position:
            return False
        position = match.end()
    return True


def _is_marker(value: str) -> bool:
    """A value the studio writes when there is nothing true to say: ``unknown``, ``none``,
    ``fal (unknown)``, ``none (procedural)``."""
    return (
        value in (UNKNOWN, NOT_APPLICABLE) or value.endswith(f" ({UNKNOWN})") or value.startswith(f"{NOT_APPLICABLE} (")
    )


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        try:
            decoded = json.loads(value)
        except json.JSONDecodeError:
            return value  # A1111 keeps a malformed quoted value as written; so do we
        return decoded if isinstance(decoded, str) else value
    return value


def _first_scalar(params: Mapping[str, Any], names: tuple[str, ...]) -> object | None:
    for name in names:
        value = params.get(name)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return value
    return None


def _convert(value: str, convert: type) -> Any:
    try:
        return convert(value)
    except ValueError:
        return value  # keep what was written rather than lose it


__all__ = [
    "NOT_APPLICABLE",
    "UNKNOWN",
    "UPSCALER",
    "UPSCALE_BY",
    "Infotext",
    "format_infotext",
    "parse_infotext",
    "quote",
    "recipe_from_infotext",
    "recipe_infotext",
]

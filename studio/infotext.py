"""AUTOMATIC1111 "infotext": the plain-text recipe that image tools read from a picture.

The format, as A1111 writes it (``modules/processing.py``) and reads it back
(``modules/infotext_utils.py``)::

    a lighthouse at dusk, oil painting
    Negative prompt: blurry
    Steps: 28, Sampler: Euler, CFG scale: 3.5, Seed: 42, Size: 1344x768, Model: flux-dev

The last line is ``key: value`` pairs separated by commas; a value holding a comma, colon, quote
or newline is written as a JSON string. Readers take the last line as parameters only when it
holds at least three pairs, so the studio always writes ``Size`` and, when known, ``Model`` and
``Provider`` alongside ``Seed``: a take from a seedless provider still has three.

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
    """The infotext of a studio recipe (see :func:`studio.recipes.take_recipe`)."""
    params = recipe.get("params") or {}
    fields: dict[str, object | None] = {key: _first_scalar(params, names) for key, names in _PARAM_KEYS.items()}
    fields["Seed"] = recipe.get("seed")
    size = recipe.get("size")
    fields["Size"] = f"{size[0]}x{size[1]}" if size else None
    fields["Model"] = recipe.get("model")
    fields["Provider"] = recipe.get("provider")
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
            negative.append(line[len(NEGATIVE_PREFIX):].strip())
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
        if key in fields:
            params[name] = _convert(fields.pop(key), convert)
    seed = fields.pop("Seed", None)
    recipe: dict[str, Any] = {
        "source": "infotext",
        "provider": fields.pop("Provider", None),
        "model": fields.pop("Model", None),
        "seed": _convert(seed, int) if seed is not None else None,
        "prompt": info.prompt,
        "negative": info.negative,
        "size": [int(size.group(1)), int(size.group(2))] if size else None,
        "params": params,
    }
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
    "Infotext",
    "format_infotext",
    "parse_infotext",
    "quote",
    "recipe_from_infotext",
    "recipe_infotext",
]

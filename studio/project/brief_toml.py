"""A chat model's JSON storyboard → ``project.toml`` text (written, not yet validated).

The JSON shape (see :mod:`studio.project.brief`) mirrors the project tables, so conversion is a copy of
the known keys. Values keep their JSON types: judging them is :func:`studio.project.loader.parse_project`'s
job, and its messages name fields the model can find in its own answer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import Any

from studio.errors import StudioError

PROMPT_HINT_CHARS = 400
"""Prompt length asked for: well under the format's 4000, and short enough that 200 shots fit
in one answer without hitting the model's output limit."""

DEFAULT_KEYS = ("style", "negative", "aspect", "variants")
"""Keys asked for in ``defaults`` (written to ``[defaults]``)."""
SHOT_KEYS = ("id", "prompt", "negative", "aspect", "variants")
"""Keys asked for in each shot (written to ``[[shots]]``)."""

_FENCE_RE = re.compile(r"^\s*```(?:json)?\s*|\s*```\s*$")
_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


class BadAnswer(StudioError):
    """One answer cannot become a valid project file.

    Attributes:
        reason: What is wrong, one line, in terms of the JSON shape (fed back to the model).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def answer_to_toml(text: str, *, shots: int, header: str = "", truncated: bool = False) -> str:
    """Turn a model's JSON answer into project TOML text (not yet validated).

    Unknown keys are dropped (they were not asked for), ``null`` means "not given", and values
    are written with their JSON types, so ``"variants": "2"`` becomes a string that validation
    then refuses with a message the model can act on.

    Args:
        text: The answer.
        shots: Shot count asked for.
        header: Comment block to put first.
        truncated: The vendor says the answer hit its output limit.

    Raises:
        BadAnswer: Not JSON, not the shape asked for, or the wrong number of shots.
    """
    try:
        data = json.loads(_FENCE_RE.sub("", text or ""))
    except ValueError:
        if truncated:
            raise BadAnswer(
                f"the answer was cut off before the JSON ended; keep every prompt under {PROMPT_HINT_CHARS} characters"
            ) from None
        raise BadAnswer("the answer is not valid JSON" if (text or "").strip() else "the answer is empty") from None
    if not isinstance(data, dict):
        raise BadAnswer("the answer must be one JSON object with 'project', 'defaults' and 'shots'")
    project = _table(data, "project")
    defaults = _table(data, "defaults")
    raw_shots = data.get("shots")
    if not isinstance(raw_shots, list) or not all(isinstance(s, dict) for s in raw_shots):
        raise BadAnswer("'shots' must be an array of objects, one per shot")
    if len(raw_shots) != shots:
        raise BadAnswer(f"'shots' must have exactly {shots} entries (got {len(raw_shots)})")

    lines = [header] if header else []
    lines += ["[project]", *_assignments(project, ("name",), "project")]
    kept_defaults = _given(defaults, DEFAULT_KEYS)
    if kept_defaults:
        lines += ["", "[defaults]", *_assignments(defaults, DEFAULT_KEYS, "defaults")]
    for number, shot in enumerate(raw_shots, 1):
        # An override equal to the default only adds noise for the creator who edits the file.
        keys = [k for k in SHOT_KEYS if k in ("id", "prompt") or shot.get(k) != kept_defaults.get(k, object())]
        lines += ["", "[[shots]]", *_assignments(shot, keys, f"shots[{number}]")]
    return "\n".join(lines) + "\n"


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadAnswer(f"'{key}' must be an object")
    return value


def _given(table: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    return {k: table[k] for k in keys if table.get(k) is not None}


def _assignments(table: dict[str, Any], keys: Sequence[str], where: str) -> list[str]:
    return [f"{key} = {_toml_value(value, f'{where}.{key}')}" for key, value in _given(table, keys).items()]


def _toml_value(value: Any, where: str) -> str:
    """Write one JSON value as TOML, keeping its type (validation judges the type)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, str):
        return _toml_string(value, where)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item, where) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{_toml_key(str(k))} = {_toml_value(v, where)}" for k, v in value.items())
        return "{ " + ", ".join(items) + " }"
    raise BadAnswer(f"field '{where}': null is only allowed for a whole field")


def _toml_string(text: str, where: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if 0xD800 <= code <= 0xDFFF:  # JSON can carry lone surrogates; TOML (and UTF-8) cannot
            raise BadAnswer(f"field '{where}': holds an invalid character")
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _toml_key(key: str) -> str:
    return key if _BARE_KEY_RE.fullmatch(key) else _toml_string(key, "key")

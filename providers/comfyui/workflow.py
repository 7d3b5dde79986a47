"""A creator's ComfyUI workflow as the studio's recipe template: read it, check it, fill it, hash it.

The workflow is ComfyUI's *API format* (what "Export (API)" writes). The studio puts its values in
either where the creator wrote a placeholder as a whole input value (``"$prompt"``, ``"$seed"``,
…, see :data:`PLACEHOLDERS`) or, for a value with no placeholder, on the standard nodes that hold it
(the sampler's seed, the ``CLIPTextEncode`` wired to its positive and negative inputs, the empty
latent's size, a ``LoadImage`` for the init image; see :mod:`providers.comfyui.graph`).

Stdlib only: the studio's project checker imports this module to refuse a bad workflow before
anything starts. Every refusal is a :class:`WorkflowProblem` naming the file and what is wrong.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from providers.comfyui import graph as g

PLACEHOLDERS: Mapping[str, type] = MappingProxyType(
    {
        "$prompt": str,
        "$negative": str,
        "$seed": int,
        "$width": int,
        "$height": int,
        "$steps": int,
        "$cfg": float,
        "$init_image": str,
        "$strength": float,
        "$mask": str,
    }
)
"""Every placeholder the studio fills, with the type of the value it becomes."""

PATCH_ONLY: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {"sampler": g.SAMPLER_NAME_INPUTS, "scheduler": g.SCHEDULER_INPUTS, "checkpoint": g.CHECKPOINT_INPUTS}
)
"""Values with no placeholder that :func:`fill_workflow` patches into the standard nodes when given."""

# A string that looks like a placeholder: "$" and a name, the whole input value.
_PLACEHOLDER = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")
_TYPE_NAMES: Mapping[type, str] = {int: "a whole number", float: "a number", str: "text"}


class WorkflowProblem(ValueError):
    """A workflow the studio cannot use.

    Attributes:
        source: The workflow's file name, as the user wrote it.
        what: What is missing or wrong (one line).
    """

    def __init__(self, source: str, what: str) -> None:
        self.source = source
        self.what = " ".join(what.split())
        super().__init__(f"{source}: {self.what}")


@dataclass(frozen=True)
class WorkflowPlan:
    """How each value gets into a workflow (the answer of :func:`check_workflow`).

    Value names are the placeholders' without the ``$`` (``"seed"``), plus ``"sampler"``,
    ``"scheduler"`` and ``"checkpoint"``, which are only ever patched.

    Attributes:
        placeholders: The values the workflow has placeholders for.
        targets: For each value without a placeholder that can be patched, the ``(node id, input)``
            pairs it is written into.
    """

    placeholders: frozenset[str]
    targets: Mapping[str, tuple[g.Target, ...]]

    @property
    def patched(self) -> frozenset[str]:
        """The values set by patching standard nodes."""
        return frozenset(self.targets)

    @property
    def init_image(self) -> bool:
        """Whether the workflow can start from an init image (``$init_image`` or one ``LoadImage``)."""
        return self.sets("init_image")

    @property
    def mask(self) -> bool:
        """Whether the workflow takes a mask (``$mask``)."""
        return "mask" in self.placeholders

    def sets(self, name: str) -> bool:
        """Whether a value (``"seed"``, ``"negative"``, …) reaches the graph at all."""
        return name in self.placeholders or name in self.targets


def parse_workflow(data: bytes | str | Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """Read a workflow (JSON text or an already loaded object) and check its shape.

    Args:
        data: The file's bytes or text, or the loaded JSON object.
        source: The file name shown in problems.

    Returns:
        A new dict of the workflow (never the caller's object).

    Raises:
        WorkflowProblem: Not JSON, not an object, in ComfyUI's UI format, a node without
            ``class_type``/``inputs``, no output node, or a link to a missing node.
    """
    if isinstance(data, bytes | str):
        try:
            loaded = json.loads(data)
        except UnicodeDecodeError as error:
            raise WorkflowProblem(source, "is not UTF-8 text") from error
        except json.JSONDecodeError as error:
            raise WorkflowProblem(source, f"is not JSON (line {error.lineno}: {error.msg})") from error
    else:
        loaded = copy.deepcopy(dict(data)) if isinstance(data, Mapping) else data
    if not isinstance(loaded, dict):
        raise WorkflowProblem(source, "is not a ComfyUI workflow (a JSON object of nodes)")
    _check_graph(loaded, source)
    return loaded


def check_workflow(workflow: Mapping[str, Any], *, source: str) -> WorkflowPlan:
    """Decide how each value gets into ``workflow``, refusing one the studio cannot drive.

    Raises:
        WorkflowProblem: A shape :func:`parse_workflow` refuses; an unknown placeholder
            (``"$promt"``); a placeholder in an input of another type (``"seed": "$prompt"``); or
            no way to set the prompt or the seed.
    """
    _check_graph(workflow, source)
    placeholders = frozenset(name[1:] for name in _placeholders(workflow, source))
    patchable: dict[str, list[g.Target]] = {}
    positive, negative = g.prompt_targets(workflow)
    widths, heights = g.size_targets(workflow)
    patchable.update(prompt=positive, negative=negative, width=widths, height=heights)
    patchable["seed"] = g.literal_targets(workflow, g.SEED_INPUTS)
    patchable["steps"] = g.literal_targets(workflow, g.STEPS_INPUTS)
    patchable["cfg"] = g.literal_targets(workflow, g.CFG_INPUTS)
    patchable["strength"] = g.literal_targets(workflow, g.DENOISE_INPUTS)
    patchable["init_image"] = g.init_image_targets(workflow)
    for name, inputs in PATCH_ONLY.items():
        patchable[name] = g.literal_targets(workflow, inputs)
    targets = {name: tuple(found) for name, found in patchable.items() if found and name not in placeholders}
    plan = WorkflowPlan(placeholders=placeholders, targets=MappingProxyType(targets))
    if not plan.sets("prompt"):
        raise WorkflowProblem(
            source,
            'has no way to set the prompt: write "$prompt" as a text input, or wire a CLIPTextEncode '
            "to a sampler's positive input",
        )
    if not plan.sets("seed"):
        raise WorkflowProblem(
            source,
            'has no way to set the seed: write "$seed" as a seed input, or use a KSampler, '
            "KSamplerAdvanced or RandomNoise node with a seed value",
        )
    return plan


def fill_workflow(workflow: Mapping[str, Any], values: Mapping[str, Any], *, source: str) -> dict[str, Any]:
    """A new graph with the studio's values in: placeholders replaced, standard nodes patched.

    Args:
        workflow: The template (API format, placeholders unfilled); never changed.
        values: Values by name (``"prompt"``, ``"seed"``, …; a leading ``$`` is allowed), plus
            ``"sampler"``, ``"scheduler"`` and ``"checkpoint"``. ``None`` means not given. A value
            the workflow has no place for is left out.
        source: The file name shown in problems.

    Raises:
        WorkflowProblem: What :func:`check_workflow` refuses, a placeholder with no value (such as
            ``$init_image`` when there is no init image), or a value that is not of its type.
    """
    plan = check_workflow(workflow, source=source)
    given = {name.removeprefix("$"): value for name, value in values.items() if value is not None}
    filled = copy.deepcopy(dict(workflow))

    def fill(text: str) -> Any:
        name = text[1:]
        if name not in given:
            raise WorkflowProblem(source, f"has {text} but the studio has no {name.replace('_', ' ')} to put there")
        return _convert(given[name], PLACEHOLDERS[text], text, source)

    for node in filled.values():
        node["inputs"] = {name: _replace(value, fill) for name, value in node["inputs"].items()}
    for name, targets in plan.targets.items():
        if name not in given:
            continue
        kind = PLACEHOLDERS.get(f"${name}", str)
        value = _convert(given[name], kind, name, source)
        for node_id, input_name in targets:
            filled[node_id]["inputs"][input_name] = value
    return filled


def workflow_sha256(workflow: Mapping[str, Any]) -> str:
    """The hex sha256 of a workflow's canonical JSON (keys sorted, compact): the same for any key order."""
    canonical = json.dumps(workflow, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _check_graph(workflow: Mapping[str, Any], source: str) -> None:
    """Refuse a workflow that is not a ComfyUI API-format graph with an output."""
    if isinstance(workflow.get("nodes"), list) and isinstance(workflow.get("links"), list):
        raise WorkflowProblem(source, "is in ComfyUI's UI format (nodes and links): export it with 'Export (API)'")
    if not workflow:
        raise WorkflowProblem(source, "has no nodes")
    for node_id, node in workflow.items():
        if not isinstance(node, Mapping) or not isinstance(node.get("class_type"), str):
            raise WorkflowProblem(source, f"node {node_id!r} has no class_type (is this an API-format workflow?)")
        if not isinstance(node.get("inputs"), Mapping):
            raise WorkflowProblem(source, f"node {node_id!r} ({node['class_type']}) has no inputs")
    for node_id, node in workflow.items():
        for name, value in node["inputs"].items():
            if g.is_link(value) and str(value[0]) not in workflow:
                raise WorkflowProblem(
                    source,
                    f"node {node_id!r} ({node['class_type']}) input {name!r} links to node {str(value[0])!r}, "
                    "which is not in the workflow",
                )
    if not any(node["class_type"] in g.OUTPUT_CLASSES for node in workflow.values()):
        raise WorkflowProblem(source, "has no output node (SaveImage or PreviewImage): it would give no image")


def _placeholders(workflow: Mapping[str, Any], source: str) -> set[str]:
    """Every placeholder written in the workflow, each checked for its name and where it stands."""
    found: set[str] = set()
    for node_id, node in workflow.items():
        class_type = node["class_type"]
        for name, value in node["inputs"].items():
            for text in _strings(value):
                if not _PLACEHOLDER.fullmatch(text):
                    continue
                where = f"node {node_id!r} ({class_type}) input {name!r}"
                if text not in PLACEHOLDERS:
                    known = ", ".join(PLACEHOLDERS)
                    raise WorkflowProblem(source, f"{where}: unknown placeholder {text!r} (known: {known})")
                problem = _misfit(class_type, name, text)
                if problem:
                    raise WorkflowProblem(source, f"{where} {problem}")
                found.add(text)
    return found


def _misfit(class_type: str, name: str, placeholder: str) -> str | None:
    """Why ``placeholder`` cannot stand in this input (its known type differs), or ``None``."""
    kind = PLACEHOLDERS[placeholder]
    if g.IMAGE_FILE_INPUTS.get(class_type) == name:
        if placeholder in ("$init_image", "$mask"):
            return None
        return f"takes an image file name ($init_image or $mask), not {placeholder}"
    if name in g.INT_INPUTS:
        expected: tuple[type, ...] = (int,)
    elif name in g.FLOAT_INPUTS:
        expected = (int, float)
    elif name in g.STRING_INPUTS:
        expected = (str,)
    else:
        return None
    if kind in expected:
        return None
    return f"takes {_TYPE_NAMES[expected[-1]]}, not {placeholder} ({_TYPE_NAMES[kind]})"


def _strings(value: Any) -> list[str]:
    """The strings in a literal input value (links hold none the studio fills)."""
    if isinstance(value, str):
        return [value]
    if g.is_link(value):
        return []
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _strings(item)]
    return []


def _replace(value: Any, fill: Callable[[str], Any]) -> Any:
    """``value`` with every placeholder string replaced by ``fill(placeholder)`` (links kept)."""
    if isinstance(value, str):
        return fill(value) if value in PLACEHOLDERS else value
    if g.is_link(value):
        return list(value)
    if isinstance(value, list):
        return [_replace(item, fill) for item in value]
    if isinstance(value, Mapping):
        return {key: _replace(item, fill) for key, item in value.items()}
    return value


def _convert(value: Any, kind: type, name: str, source: str) -> Any:
    """``value`` as ``kind`` (numbers stay numbers), or a problem naming the value."""
    try:
        if kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(value)
            return int(value)
        if kind is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value)
    except (TypeError, ValueError) as error:
        raise WorkflowProblem(source, f"{name} must be {_TYPE_NAMES[kind]} (got {value!r})") from error
    return str(value)

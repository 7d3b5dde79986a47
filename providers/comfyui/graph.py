"""What the studio knows of ComfyUI's standard nodes: which inputs hold the seed, the prompts, the size.

Stdlib only (the project checker reads it through :mod:`providers.comfyui.workflow`). A graph here is
ComfyUI's API format: ``{node id: {"class_type": ..., "inputs": {name: literal | [node id, output]}}}``.
The class and input names come from ComfyUI's wire format (``SELF_HOSTED.md``); nothing of ComfyUI's
own code is copied.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

Graph = Mapping[str, Mapping[str, Any]]
Target = tuple[str, str]
"""One input of one node: ``(node id, input name)``."""

OUTPUT_CLASSES = frozenset({"SaveImage", "PreviewImage", "SaveAnimatedWEBP", "SaveAnimatedPNG", "Image Save"})
"""Node classes that produce the images a prompt answers with (a graph needs one)."""

# The inputs each value is patched into when the workflow has no placeholder for it.
SEED_INPUTS: Mapping[str, str] = {
    "KSampler": "seed",
    "KSamplerAdvanced": "noise_seed",
    "RandomNoise": "noise_seed",
    "SamplerCustom": "noise_seed",
}
STEPS_INPUTS: Mapping[str, str] = {"KSampler": "steps", "KSamplerAdvanced": "steps", "BasicScheduler": "steps"}
CFG_INPUTS: Mapping[str, str] = {
    "KSampler": "cfg",
    "KSamplerAdvanced": "cfg",
    "SamplerCustom": "cfg",
    "CFGGuider": "cfg",
}
DENOISE_INPUTS: Mapping[str, str] = {"KSampler": "denoise", "BasicScheduler": "denoise"}
SAMPLER_NAME_INPUTS: Mapping[str, str] = {
    "KSampler": "sampler_name",
    "KSamplerAdvanced": "sampler_name",
    "KSamplerSelect": "sampler_name",
}
SCHEDULER_INPUTS: Mapping[str, str] = {
    "KSampler": "scheduler",
    "KSamplerAdvanced": "scheduler",
    "BasicScheduler": "scheduler",
}
CHECKPOINT_INPUTS: Mapping[str, str] = {"CheckpointLoaderSimple": "ckpt_name", "CheckpointLoader": "ckpt_name"}
SIZE_CLASSES = frozenset({"EmptyLatentImage", "EmptySD3LatentImage", "EmptyImage"})
LOAD_IMAGE_CLASSES = frozenset({"LoadImage"})

# Text encoders and the inputs holding their text (SDXL's has two, both get the prompt).
TEXT_INPUTS: Mapping[str, tuple[str, ...]] = {
    "CLIPTextEncode": ("text",),
    "CLIPTextEncodeSDXL": ("text_g", "text_l"),
    "CLIPTextEncodeSDXLRefiner": ("text",),
}
# Nodes whose positive/negative (or, for BasicGuider, conditioning) inputs are the prompts of a render.
SAMPLER_CLASSES = frozenset({"KSampler", "KSamplerAdvanced", "SamplerCustom", "CFGGuider"})
# How far back from a sampler a text encoder may sit (through ControlNet, combine, area nodes …).
MAX_HOPS = 4

# Known input types of standard nodes, to refuse a placeholder of the wrong type where it is written.
INT_INPUTS = frozenset(
    {"seed", "noise_seed", "steps", "width", "height", "batch_size", "start_at_step", "end_at_step", "length"}
)
FLOAT_INPUTS = frozenset({"cfg", "denoise"})
STRING_INPUTS = frozenset({"text", "text_g", "text_l", "sampler_name", "scheduler", "ckpt_name"})
IMAGE_FILE_INPUTS: Mapping[str, str] = {"LoadImage": "image", "LoadImageMask": "image"}


def is_link(value: Any) -> bool:
    """Whether an input value is a link ``[source node id, output index]`` rather than a literal."""
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str | int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], int)
        and not isinstance(value[1], bool)
    )


def nodes_of(graph: Graph, classes: Mapping[str, Any] | frozenset[str]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The nodes whose class is one of ``classes``, in the graph's order."""
    for node_id, node in graph.items():
        if node.get("class_type") in classes:
            yield node_id, node


def literal_targets(graph: Graph, inputs: Mapping[str, str]) -> list[Target]:
    """Every ``(node, input)`` that ``inputs`` (class → input name) names and holds a literal.

    A linked input is left alone: its value comes from another node the studio does not know.
    """
    targets: list[Target] = []
    for node_id, node in nodes_of(graph, frozenset(inputs)):
        name = inputs[node["class_type"]]
        if name in node["inputs"] and not is_link(node["inputs"][name]):
            targets.append((node_id, name))
    return targets


def size_targets(graph: Graph) -> tuple[list[Target], list[Target]]:
    """The literal ``width`` and ``height`` inputs of the empty-latent (or empty-image) nodes."""
    widths = literal_targets(graph, dict.fromkeys(SIZE_CLASSES, "width"))
    heights = literal_targets(graph, dict.fromkeys(SIZE_CLASSES, "height"))
    return widths, heights


def init_image_targets(graph: Graph) -> list[Target]:
    """The ``LoadImage`` an init image goes into: only when the graph has exactly one (else ambiguous)."""
    targets = literal_targets(graph, dict.fromkeys(LOAD_IMAGE_CLASSES, "image"))
    return targets if len(targets) == 1 else []


def prompt_targets(graph: Graph) -> tuple[list[Target], list[Target]]:
    """The text inputs of the encoders wired to the samplers' positive and negative inputs.

    An encoder reached from both sides (a negative made by zeroing the positive) counts as
    positive only: the negative prompt must never overwrite the prompt.
    """
    positive: list[Target] = []
    negative: list[Target] = []
    for _, node in nodes_of(graph, SAMPLER_CLASSES | {"BasicGuider"}):
        inputs = node["inputs"]
        if node["class_type"] == "BasicGuider":
            # Flux-style graphs: one conditioning, no negative.
            positive.extend(_encoders(graph, inputs.get("conditioning"), 0))
            continue
        positive.extend(_encoders(graph, inputs.get("positive"), 0))
        negative.extend(_encoders(graph, inputs.get("negative"), 0))
    positive = _unique(positive)
    negative = [t for t in _unique(negative) if t[0] not in {p[0] for p in positive}]
    return positive, negative


def _encoders(graph: Graph, link: Any, hops: int) -> list[Target]:
    """Follow a conditioning link back to the text encoders it comes from, at most MAX_HOPS nodes."""
    if not is_link(link) or hops > MAX_HOPS:
        return []
    source_id, output = str(link[0]), link[1]
    source = graph.get(source_id)
    if source is None:
        return []
    inputs = source["inputs"]
    names = TEXT_INPUTS.get(source["class_type"])
    if names is not None:
        return [(source_id, n) for n in names if n in inputs and not is_link(inputs[n])]
    if "positive" in inputs and "negative" in inputs:
        # ControlNet-style nodes pass both sides through: output 0 is positive, 1 is negative.
        following = ["positive" if output == 0 else "negative"]
    else:
        following = [name for name in inputs if name.startswith("conditioning")]
    found: list[Target] = []
    for name in following:
        found.extend(_encoders(graph, inputs.get(name), hops + 1))
    return found


def _unique(targets: list[Target]) -> list[Target]:
    return list(dict.fromkeys(targets))


def first_literal(graph: Graph, inputs: Mapping[str, str]) -> Any:
    """The value of the first literal input ``inputs`` names (the recipe a filled graph holds)."""
    for node_id, name in literal_targets(graph, inputs):
        return graph[node_id]["inputs"][name]
    return None


def recipe_of(graph: Graph) -> dict[str, Any]:
    """What a filled graph renders with: its sampler's settings and its checkpoint (``None`` if none)."""
    return {
        "steps": first_literal(graph, STEPS_INPUTS),
        "cfg": first_literal(graph, CFG_INPUTS),
        "sampler": first_literal(graph, SAMPLER_NAME_INPUTS),
        "scheduler": first_literal(graph, SCHEDULER_INPUTS),
        "checkpoint": first_literal(graph, CHECKPOINT_INPUTS),
        "denoise": first_literal(graph, DENOISE_INPUTS),
    }

"""The storyboard stage as plain functions: seeds, and shots × variants (their ids: :mod:`studio.ids`)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from studio.catalog.models import Shot, Take, detached
from studio.ids import shot_key, take_id
from studio.project.fields import COMFYUI, SELF_HOSTED
from studio.project.loader import Project
from studio.rendering.params import PROVIDERS_PARAM, WORKFLOW_PARAM

ChainFor = Callable[[list[str] | None], list[str]]

SEED_MAX = 2**31 - 1
WORKFLOW_REF = "workflow:"
"""Prefix of a batch reference holding a shot's stored workflow (``"workflow:<shot id>"``); shot ids
never hold a colon, so these never meet the sketches, which are keyed by the bare shot id."""


def workflow_ref(shot_id: str) -> str:
    """The key of ``shot_id``'s stored ComfyUI workflow among a batch's references."""
    return f"{WORKFLOW_REF}{shot_id}"


def take_params(
    chain: Sequence[str], options: Mapping[str, Mapping[str, Any]], workflow_key: str | None
) -> dict[str, Any]:
    """The params of a planned take: each self-hosted provider of ``chain`` with the options set for it.

    Args:
        chain: The providers the shot renders with (canonical names).
        options: The project's options, by provider (``Project.options``).
        workflow_key: Asset key of the shot's stored ComfyUI workflow, or None.

    Returns:
        ``{"providers": {"comfyui": {"workflow": key, "steps": 30}, "a1111": {...}}}`` holding only
        the providers in ``chain`` that have something set; ``{}`` when none has.
    """
    own: dict[str, dict[str, Any]] = {}
    for name in SELF_HOSTED:
        if name not in chain:
            continue
        values = dict(options.get(name, {}))
        if name == COMFYUI and workflow_key is not None:
            values[WORKFLOW_PARAM] = workflow_key
        if values:
            own[name] = values
    return {PROVIDERS_PARAM: own} if own else {}


def new_batch_seed() -> int:
    """A fresh batch seed for projects that do not fix one."""
    return secrets.randbelow(SEED_MAX)


def derive_seed(batch_seed: int, shot_id: str, variant: int) -> int:
    """The seed of variant ``variant`` (1-based) of ``shot_id`` in a batch seeded ``batch_seed``.

    Stable across machines and Python versions (sha256, not ``hash()``), so the same project
    and batch seed always plan the same takes.
    """
    digest = hashlib.sha256(f"{batch_seed}:{shot_id}:{variant}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % SEED_MAX


def variant_seeds(shot_seed: int | None, batch_seed: int, shot_id: str, variants: int) -> list[int]:
    """Seeds for every variant of a shot.

    A shot that fixes its seed gets that seed for variant 1 and consecutive seeds after it (the
    convention of most image tools); otherwise seeds derive from the batch seed.
    """
    if shot_seed is not None:
        return [(shot_seed + i) % SEED_MAX for i in range(variants)]
    return [derive_seed(batch_seed, shot_id, i + 1) for i in range(variants)]


def storyboard_rows(
    project: Project, batch_id: str, batch_seed: int, chain_for: ChainFor, references: Mapping[str, str] | None = None
) -> tuple[list[Shot], list[Take]]:
    """Expand a project into catalog rows: one shot row per shot, one planned take per variant.

    Args:
        project: The validated project.
        batch_id: The batch the rows belong to.
        batch_seed: Seed that shots without their own seed derive variant seeds from.
        chain_for: Resolves a shot's requested chain (or ``None``) to the providers to use.
        references: Asset key of each shot's storyboard sketch, by shot id, and of its stored
            ComfyUI workflow, by :func:`workflow_ref`.
    """
    references = references or {}
    shots: list[Shot] = []
    takes: list[Take] = []
    for position, spec in enumerate(project.shots):
        key = shot_key(batch_id, spec.id)
        requested = spec.chain if spec.chain is not None else project.chain
        chain = chain_for(list(requested) if requested is not None else None)
        # Detached: the project was validated already, and these rows are only inserted.
        shots.append(
            detached(
                Shot,
                key=key,
                batch_id=batch_id,
                shot_id=spec.id,
                position=position,
                prompt=spec.full_prompt,
                negative=spec.negative,
                width=spec.width,
                height=spec.height,
                variants=spec.variants,
                upscale=spec.upscale,
                chain=chain,
                reference_key=references.get(spec.id),
            )
        )
        reference = references.get(spec.id)
        for number, seed in enumerate(variant_seeds(spec.seed, batch_seed, spec.id, spec.variants), start=1):
            takes.append(
                detached(
                    Take,
                    id=take_id(key, number),
                    batch_id=batch_id,
                    shot_key=key,
                    number=number,
                    seed=seed,
                    prompt=spec.full_prompt,
                    negative=spec.negative,
                    width=spec.width,
                    height=spec.height,
                    init_key=reference,
                    strength=spec.reference_strength if reference else None,
                    params=take_params(chain, project.options, references.get(workflow_ref(spec.id))),
                )
            )
    return shots, takes

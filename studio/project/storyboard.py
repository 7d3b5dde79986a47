"""The storyboard stage as plain functions: seeds, and shots × variants (their ids: :mod:`studio.ids`)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping

from studio.catalog.models import Shot, Take, detached
from studio.ids import shot_key, take_id
from studio.project.loader import Project

ChainFor = Callable[[list[str] | None], list[str]]

SEED_MAX = 2**31 - 1


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
        references: Asset key of each shot's storyboard sketch, by shot id.
    """
    references = references or {}
    shots: list[Shot] = []
    takes: list[Take] = []
    for position, spec in enumerate(project.shots):
        key = shot_key(batch_id, spec.id)
        requested = spec.chain if spec.chain is not None else project.chain
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
                chain=chain_for(list(requested) if requested is not None else None),
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
                )
            )
    return shots, takes

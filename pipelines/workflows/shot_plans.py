"""What a shot needs to start: its takes, provider chain and where its stages run.

The storyboard builds every shot's plan into the batch plan (:func:`batch_plan`), so a shot
starts with it instead of reading it in a local activity of its own; :func:`shot_plan` is that
read, for shots started from a plan without them.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelines.messages import BatchPlan, ShotPlan, post_stages_in_process
from pipelines.runtime.provider_registry import ProviderSet
from studio.catalog.models import Shot, Take


def shot_plan(shot: Shot, take_ids: list[str], providers: ProviderSet) -> ShotPlan:
    """The plan of ``shot`` with its takes ``take_ids``, on a worker with ``providers``."""
    reviewers, upscalers = providers.review_chain(), providers.upscale_chain()
    return ShotPlan(
        shot.key,
        take_ids,
        list(shot.chain),
        upscale=shot.upscale,
        reviewers=reviewers,
        in_process=[name for name in shot.chain if name in providers.in_process],
        upscalers=upscalers,
        finish_in_render=post_stages_in_process(shot.upscale, upscalers, reviewers),
    )


def batch_plan(shots: Sequence[Shot], takes: Sequence[Take], plan: BatchPlan, providers: ProviderSet) -> BatchPlan:
    """``plan`` with the ``shots`` to render, in order, each with what it needs to start.

    A shot's plan travels compactly (see :class:`BatchPlan`), so only shots whose takes are
    numbered ``<shot key>/1..n`` can have one; if any shot's are not, none does.
    """
    plan.shot_ids = [shot.shot_id for shot in shots]
    numbers: dict[str, list[str]] = {}
    for take in sorted(takes, key=lambda t: t.number):
        numbers.setdefault(take.shot_key, []).append(take.id)
    for shot in shots:
        ids = numbers.get(shot.key, [])
        if ids != [f"{shot.key}/{n}" for n in range(1, len(ids) + 1)]:
            return plan  # takes numbered otherwise: each shot reads its own (plan_shot)
    chains = {chain: index for index, chain in enumerate(dict.fromkeys(tuple(s.chain) for s in shots))}
    plan.takes = [len(numbers.get(s.key, [])) for s in shots]
    plan.upscales = [s.upscale for s in shots]
    plan.chain_of = [chains[tuple(s.chain)] for s in shots]
    plan.chains = [list(chain) for chain in chains]
    plan.reviewers = providers.review_chain()
    plan.upscalers = providers.upscale_chain()
    plan.in_process = sorted(providers.in_process)
    return plan

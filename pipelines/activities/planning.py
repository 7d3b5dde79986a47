"""Planning activities: a batch's storyboard, a shot's plan, and the plans themselves.

The storyboard builds every shot's plan into the batch plan (:func:`batch_plan`), so a shot
starts with it instead of reading it in a local activity of its own; :func:`shot_plan` is that
read, for shots started from a plan without them (``plan_shot``). A mixin of
:class:`pipelines.activities.stages.StudioActivities`, which gives it its dependencies.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from pipelines.activities.failures import inconsistent
from pipelines.activities.provider_registry import ProviderSet
from pipelines.messages import (
    BatchPlan,
    BatchRequest,
    ShotPlan,
    ShotRequest,
    batch_id_of,
    post_stages_in_process,
    shot_key_of,
)
from studio.batches.publish import publish_take
from studio.batches.rerun import carried_rows, project_positions
from studio.catalog.models import Shot, Take
from studio.catalog.store import Catalog
from studio.credentials.certificates import Signing
from studio.ids import take_ids
from studio.project.loader import ProjectError, parse_project
from studio.project.storyboard import storyboard_rows
from studio.rendering.chain import resolve_chain
from studio.states import BatchState
from studio.storage.local import AssetStore


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
        if ids != take_ids(shot.key, len(ids)):
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


class PlanningActivities:
    """The storyboard and plan_shot activities (mixed into StudioActivities)."""

    catalog: Catalog
    assets: AssetStore
    providers: ProviderSet
    signing: Signing | None

    @activity.defn(name="storyboard")
    async def storyboard(self, inp: BatchRequest | str) -> BatchPlan:
        """Expand the batch's project into shots and planned takes (once), and plan the batch."""
        batch_id = batch_id_of(inp)
        try:
            return await asyncio.to_thread(self._storyboard, batch_id)
        except ProjectError as err:
            # Retrying cannot fix the project as launched: fail the batch now, saying why.
            await asyncio.to_thread(self.catalog.set_batch_state, batch_id, BatchState.FAILED, error=str(err))
            raise ApplicationError(str(err), type="ProjectError", non_retryable=True) from None

    def _storyboard(self, batch_id: str) -> BatchPlan:
        batch = self.catalog.batch(batch_id)
        if batch.kind == "replay":  # `studio replay` planned the rows already
            return batch_plan(
                self.catalog.shots(batch_id),
                self.catalog.batch_takes(batch_id),
                BatchPlan([], approval_required=False),
                self.providers,
            )
        source = Path(batch.project_source)
        # The project as launched; its sketches were stored at launch (batch.references).
        project = parse_project(
            self.assets.get(batch.project_key).decode(), source=str(source), base_dir=source.parent, check_files=False
        )
        available = self.providers.available()
        shots, takes = storyboard_rows(
            project, batch_id, batch.seed, lambda req: resolve_chain(req, available)[0], batch.references
        )
        carried: list[Shot] = []
        if batch.kind == "rerun":
            only = set(batch.rerun_only)
            shots = [s for s in shots if s.shot_id in only]
            takes = [t for t in takes if t.shot_key in {s.key for s in shots}]
            if batch.parent_batch_id is None:
                raise inconsistent(f"rerun batch {batch_id} names no parent batch")
            parent_takes = {t.id: t for t in self.catalog.batch_takes(batch.parent_batch_id)}
            carried, kept = carried_rows(
                batch, self.catalog.shots(batch.parent_batch_id), parent_takes, project_positions(project)
            )
            shots, takes = shots + carried, takes + kept
        self.catalog.add_shots(batch_id, shots, takes)
        for shot in carried:  # the kept shots' files go into the new batch's folder too
            if shot.final_take_id is None:
                raise inconsistent(f"shot {shot.key} is carried over but has no published take")
            publish_take(self.catalog, self.assets, shot.key, shot.final_take_id, signing=self.signing)
        approval = project.approval
        kept_keys = {s.key for s in carried}
        rendered = [s for s in sorted(shots, key=lambda s: s.position) if s.key not in kept_keys]
        plan = BatchPlan([], approval.required, approval.deadline_seconds, approval.on_expiry)
        return batch_plan(rendered, takes, plan, self.providers)

    @activity.defn(name="plan_shot")
    async def plan_shot(self, inp: ShotRequest | str) -> ShotPlan:
        """The takes and provider chain of one shot."""
        shot_key = shot_key_of(inp)

        def _plan() -> ShotPlan:
            shot, takes = self.catalog.shot_with_takes(shot_key)
            return shot_plan(shot, [t.id for t in takes], self.providers)

        return await asyncio.to_thread(_plan)

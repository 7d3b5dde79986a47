"""Activities: load by id, call, store, record. Each one is safe to run again after a crash.

Catalog and asset-store calls are blocking, so they run in threads; provider calls are async.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from pipelines.messages import (
    BatchPlan,
    DecisionRecord,
    PublishInput,
    ReworkInput,
    ShotPlan,
    ShotStageInput,
    ShotStagesInput,
    StageInput,
    TakeOutcome,
)
from pipelines.provider_registry import ProviderSet
from providers.base import ProviderError, RenderRequest
from studio.assets import AssetStore, image_size
from studio.catalog import Catalog
from studio.chain import resolve_chain
from studio.failover import error_policy
from studio.models import Approval
from studio.project import parse_project
from studio.notify import GateNotice, GateNotifier, NotifyFailed
from studio.publish import publish_take, write_manifest
from studio.sharing import share_url
from studio.stages import begin_render, begin_stage
from studio.storyboard import storyboard_rows, variant_seeds

@asynccontextmanager
async def heartbeating(every: float = 1.0) -> AsyncIterator[None]:
    """Heartbeat while the body runs, so a dead worker is noticed within the heartbeat timeout."""

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


def _provider_failure(err: ProviderError) -> ApplicationError:
    policy = error_policy(type(err).__name__, err.retry_after)
    return ApplicationError(
        f"{err.provider}: {err}",
        type=type(err).__name__,
        non_retryable=not policy.retry_same,
        next_retry_delay=timedelta(seconds=policy.delay) if policy.delay else None,
    )


class StudioActivities:
    """Every activity of the studio, sharing explicit dependencies.

    Args:
        catalog: Where rows are written.
        assets: Where bytes are written.
        providers: What can be called.
    """

    def __init__(self, catalog: Catalog, assets: AssetStore, providers: ProviderSet,
                 notifier: GateNotifier | None = None) -> None:
        self.catalog = catalog
        self.assets = assets
        self.providers = providers
        self.notifier = notifier
        self._limits: dict[str, asyncio.Semaphore] = {}

    def _limit(self, provider: str) -> asyncio.Semaphore:
        """This process's concurrency limit for an in-process provider (made in the worker's loop)."""
        if provider not in self._limits:
            self._limits[provider] = asyncio.Semaphore(self.providers.concurrency)
        return self._limits[provider]

    def all(self) -> list[object]:
        """The activity callables to register on a worker."""
        return [
            self.storyboard,
            self.plan_shot,
            self.render,
            self.upscale,
            self.review,
            self.mark_take_failed,
            self.add_takes,
            self.set_shot_stage,
            self.shot_stages,
            self.record_decision,
            self.notify_gate,
            self.publish,
            self.finish_batch,
        ]

    @activity.defn(name="storyboard")
    async def storyboard(self, batch_id: str) -> BatchPlan:
        """Expand the batch's project into shots and planned takes (once), and plan the batch."""
        return await asyncio.to_thread(self._storyboard, batch_id)

    def _storyboard(self, batch_id: str) -> BatchPlan:
        batch = self.catalog.batch(batch_id)
        source = Path(batch.project_source)
        project = parse_project(self.assets.get(batch.project_key).decode(), source=str(source), base_dir=source.parent)
        available = self.providers.available()
        shots, takes = storyboard_rows(project, batch_id, batch.seed, lambda req: resolve_chain(req, available)[0])
        self.catalog.add_shots(batch_id, shots, takes)
        approval = project.approval
        return BatchPlan([s.shot_id for s in shots], approval.required, approval.deadline_seconds, approval.on_expiry)

    @activity.defn(name="plan_shot")
    async def plan_shot(self, shot_key: str) -> ShotPlan:
        """The takes and provider chain of one shot."""

        def _plan() -> ShotPlan:
            shot, takes = self.catalog.shot_with_takes(shot_key)
            in_process = [name for name in shot.chain if name in self.providers.in_process]
            return ShotPlan(
                shot_key, [t.id for t in takes], list(shot.chain), upscale=shot.upscale,
                reviewers=self.providers.review_chain(), in_process=in_process,
            )

        return await asyncio.to_thread(_plan)

    @activity.defn(name="render")
    async def render(self, inp: StageInput) -> TakeOutcome:
        """Render one take with one provider, unless an earlier run already did."""
        renderer = self.providers.renderers.get(inp.provider)
        if renderer is None:
            raise ApplicationError(f"{inp.provider}: not configured on this worker", type="InvalidRequest", non_retryable=True)
        start = await asyncio.to_thread(
            begin_render, self.catalog, inp.take_id, provider=inp.provider, attempt=activity.info().attempt
        )
        take = start.take
        if start.done:
            return TakeOutcome(take.id, ok=True, provider=take.provider)
        assert start.attempt_id is not None
        attempt_id = start.attempt_id

        async def save_job(vendor_job: str) -> None:
            await asyncio.to_thread(self.catalog.set_attempt_job, attempt_id, vendor_job)

        request = RenderRequest(
            prompt=take.prompt, width=take.width, height=take.height, negative=take.negative,
            seed=take.seed, params=dict(take.params or {}), job_id=start.job_id,
        )
        started = time.monotonic()
        try:
            if activity.info().is_local:
                async with self._limit(inp.provider):
                    result = await renderer.render(request, on_job=save_job)
            else:
                async with heartbeating():
                    result = await renderer.render(request, on_job=save_job)
        except ProviderError as err:
            await asyncio.to_thread(
                self.catalog.finish_attempt, attempt_id, status="failed", error_class=type(err).__name__,
                error=str(err)[:500], latency_ms=int((time.monotonic() - started) * 1000),
            )
            raise _provider_failure(err) from None
        latency_ms = int((time.monotonic() - started) * 1000)
        take_fields = dict(
            status="rendered", provider=inp.provider, model=result.model, seed_used=result.seed,
            reproducible=result.reproducible, revised_prompt=result.revised_prompt, params=result.params, error=None,
        )

        def _store() -> None:
            delivered = image_size(result.image)
            if delivered != (take.width, take.height):
                # Vendors choose their own pixel sizes (by aspect ratio); review expects what came.
                take_fields["params"] = {**result.params, "delivered_size": list(delivered)}
            key = self.assets.put(result.image, result.mime_type)
            self.catalog.complete_attempt(attempt_id, take.id, {**take_fields, "asset_key": key},
                                          latency_ms=latency_ms, job_id=result.job_id or start.job_id)

        await asyncio.to_thread(_store)
        return TakeOutcome(take.id, ok=True, provider=inp.provider)

    @activity.defn(name="upscale")
    async def upscale(self, inp: StageInput) -> TakeOutcome:
        """Upscale a rendered take and store the result as its final image."""
        take, _ = await asyncio.to_thread(begin_stage, self.catalog, inp.take_id, "upscaling")
        if take.final_key and self.assets.exists(take.final_key):
            return TakeOutcome(take.id, ok=True, provider=inp.provider)
        assert take.asset_key is not None, "upscale runs only after a render"
        image = await asyncio.to_thread(self.assets.get, take.asset_key)
        try:
            result = await self.providers.upscalers[inp.provider].upscale(image, factor=inp.upscale)
        except ProviderError as err:
            raise _provider_failure(err) from None

        def _store() -> None:
            key = self.assets.put(result.image, result.mime_type)
            self.catalog.update_take(take.id, status="upscaled", final_key=key)

        await asyncio.to_thread(_store)
        return TakeOutcome(take.id, ok=True, provider=inp.provider)

    @activity.defn(name="review")
    async def review(self, inp: StageInput) -> TakeOutcome:
        """Score a take against its shot and store the verdict."""
        take, shot = await asyncio.to_thread(begin_stage, self.catalog, inp.take_id, "reviewing")
        if take.review_score is not None:
            return TakeOutcome(take.id, True, inp.provider, take.review_score, take.review_passed)
        # Without an upscale stage (factor 1) the render itself is the final image.
        key = take.final_key or take.asset_key
        assert key is not None, "review runs only after a render"
        image = await asyncio.to_thread(self.assets.get, key)
        width, height = (take.params or {}).get("delivered_size", (take.width, take.height))
        expected = (width * shot.upscale, height * shot.upscale)
        try:
            verdict = await self.providers.reviewers[inp.provider].review(image, prompt=take.prompt, expected_size=expected)
        except ProviderError as err:
            raise _provider_failure(err) from None
        await asyncio.to_thread(
            self.catalog.update_take, take.id, status="reviewed", final_key=key, review_score=verdict.score,
            review_passed=verdict.passed, review_notes=verdict.notes,
        )
        return TakeOutcome(take.id, True, inp.provider, verdict.score, verdict.passed)

    @activity.defn(name="add_takes")
    async def add_takes(self, inp: ReworkInput) -> list[str]:
        """A new round of takes after changes were requested: note appended, fresh seeds."""

        def _add() -> list[str]:
            shot = self.catalog.shot(inp.shot_key)
            batch = self.catalog.batch(shot.batch_id)
            seeds = variant_seeds(None, batch.seed, f"{shot.shot_id}#round{inp.round}", shot.variants)
            return self.catalog.add_round(inp.shot_key, inp.round, inp.note, seeds)

        return await asyncio.to_thread(_add)

    @activity.defn(name="mark_take_failed")
    async def mark_take_failed(self, outcome: TakeOutcome) -> None:
        """Record that a take could not be made, and why."""
        await asyncio.to_thread(self.catalog.update_take, outcome.take_id, status="failed", error=outcome.error)

    @activity.defn(name="set_shot_stage")
    async def set_shot_stage(self, inp: ShotStageInput) -> None:
        """Record where a shot is."""
        fields: dict[str, object] = {"stage": inp.stage}
        if inp.error is not None:
            fields["error"] = inp.error
        if inp.final_take_id is not None:
            fields["final_take_id"] = inp.final_take_id
        await asyncio.to_thread(self.catalog.update_shot, inp.shot_key, **fields)

    @activity.defn(name="shot_stages")
    async def shot_stages(self, inp: ShotStagesInput) -> dict[str, str]:
        """Where the given shots of a batch are, by shot id (used to reconcile after continue-as-new)."""
        wanted = set(inp.shot_ids)
        shots = await asyncio.to_thread(self.catalog.shots, inp.batch_id)
        return {s.shot_id: s.stage for s in shots if s.shot_id in wanted}

    @activity.defn(name="notify_gate")
    async def notify_gate(self, shot_key: str) -> list[str]:
        """Tell whoever settings name that a shot waits at its gate, with the signed client link."""
        if self.notifier is None or not self.notifier.enabled:
            return []
        notifier = self.notifier

        def _send() -> list[str]:
            shot = self.catalog.shot(shot_key)
            batch = self.catalog.batch(shot.batch_id)
            link = share_url(notifier.settings, batch.id)
            return notifier.notify(GateNotice(batch.id, shot.shot_id, batch.project_name, link))

        try:
            return await asyncio.to_thread(_send)
        except NotifyFailed as err:
            raise ApplicationError(str(err), type="NotifyFailed") from None

    @activity.defn(name="record_decision")
    async def record_decision(self, rec: DecisionRecord) -> None:
        """Write down a gate decision (once per gate round)."""
        batch_id = rec.shot_key.split("/", 1)[0]
        approval = Approval(
            shot_key=rec.shot_key, batch_id=batch_id, round=rec.round, decision=rec.action,
            take_id=rec.take_id, who=rec.who, note=rec.note,
        )
        await asyncio.to_thread(self.catalog.add_approval, approval)
        if rec.action == "approve":
            await asyncio.to_thread(self.catalog.update_shot, rec.shot_key, stage="publishing")

    @activity.defn(name="publish")
    async def publish(self, inp: PublishInput) -> str:
        """Copy the chosen take to the output folder; returns the file's path."""
        path = await asyncio.to_thread(publish_take, self.catalog, self.assets, inp.shot_key, inp.take_id)
        return str(path)

    @activity.defn(name="finish_batch")
    async def finish_batch(self, batch_id: str) -> str:
        """Write the manifest and close the batch; returns the manifest's path."""
        path = await asyncio.to_thread(write_manifest, self.catalog, batch_id)
        published = await asyncio.to_thread(self.catalog.publications, batch_id)
        await asyncio.to_thread(self.catalog.set_batch_state, batch_id, "published" if published else "failed")
        return str(path)

"""Activities: load by id, call, store, record. Each one is safe to run again after a crash.

Catalog and asset-store calls are blocking, so they run in threads; provider calls are async.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from pipelines.activities.batch_end import BatchEndActivities
from pipelines.activities.provider_calls import (
    BLOCKED_ERRORS,
    PaidCall,
    heartbeating,
    provider_failure,
)
from pipelines.activities.unsaved import UnsavedRenders
from pipelines.messages import (
    BatchPlan,
    BudgetHold,
    DecisionRecord,
    PublishInput,
    ReworkInput,
    ShotPlan,
    ShotStageInput,
    ShotStagesInput,
    StageInput,
    TakeOutcome,
)
from pipelines.runtime.provider_registry import ProviderSet
from pipelines.workflows.shot_plans import batch_plan, shot_plan
from providers.base import ProviderError, RenderRequest
from studio.batches.publish import publish_take
from studio.batches.rerun import carried_rows, project_positions
from studio.catalog.models import Approval, Shot
from studio.catalog.stages import begin_call, begin_render, begin_stage
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.project.loader import ProjectError, parse_project
from studio.project.storyboard import storyboard_rows, variant_seeds
from studio.rendering.chain import resolve_chain
from studio.review.notify import GateNotifier
from studio.spending.budget import hold_at_budget
from studio.spending.call_guard import BUSY_WAIT, CallPolicy
from studio.spending.prices import price_of
from studio.storage.local import AssetStore, image_size


class StudioActivities(BatchEndActivities):
    """Every activity of the studio, sharing explicit dependencies.

    Args:
        catalog: Where rows are written.
        assets: Where bytes are written.
        providers: What can be called.
        notifier: Who hears about open gates.
        policy: Prices, budget and provider limits every worker applies alike.
    """

    def __init__(
        self,
        catalog: Catalog,
        assets: AssetStore,
        providers: ProviderSet,
        notifier: GateNotifier | None = None,
        policy: CallPolicy | None = None,
    ) -> None:
        self.catalog = catalog
        self.assets = assets
        self.providers = providers
        self.notifier = notifier
        self.policy = policy or CallPolicy()
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._unsaved = UnsavedRenders()

    def _limit(self, provider: str) -> asyncio.Semaphore:
        """This process's concurrency limit for an in-process provider (made in the worker's loop)."""
        if provider not in self._limits:
            self._limits[provider] = asyncio.Semaphore(self.providers.concurrency)
        return self._limits[provider]

    @asynccontextmanager
    async def _paid_call(self, take_id: str, stage: str, provider: str, model: str | None) -> AsyncIterator[PaidCall]:
        """Write a call to a paid provider down before it is made and close it as failed if it fails.

        Free in-process calls (the local upscaler and reviewer) are not written down: they cost
        nothing and would only slow a batch. The caller closes a successful call with the
        result (``complete_attempt``), so the result and its charge land in one transaction.
        """
        call = PaidCall()
        price = price_of(stage, provider, model, self.policy.prices)
        if provider not in self.providers.in_process or price > 0:
            call.attempt_id, call.job_id = await asyncio.to_thread(
                begin_call,
                self.catalog,
                take_id,
                stage=stage,
                provider=provider,
                attempt=activity.info().attempt,
                price=price,
            )
        try:
            if activity.info().is_local:
                yield call
            else:
                async with heartbeating():  # a remote stage times out after 10 s without one
                    yield call
        except ProviderError as err:
            if call.attempt_id is not None:
                await asyncio.to_thread(
                    self.catalog.finish_attempt,
                    call.attempt_id,
                    status="failed",
                    error_class=type(err).__name__,
                    error=str(err)[:500],
                    latency_ms=call.latency_ms(),
                    cost_usd=0.0,
                )
            raise provider_failure(err) from None

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
            self.hold_for_budget,
            self.shot_stages,
            self.record_decision,
            self.notify_gate,
            self.publish,
            self.finish_batch,
            self.close_batch,
            self.notify_provider_wait,
        ]

    @activity.defn(name="storyboard")
    async def storyboard(self, batch_id: str) -> BatchPlan:
        """Expand the batch's project into shots and planned takes (once), and plan the batch."""
        try:
            return await asyncio.to_thread(self._storyboard, batch_id)
        except ProjectError as err:
            # Retrying cannot fix the project as launched: fail the batch now, saying why.
            await asyncio.to_thread(self.catalog.set_batch_state, batch_id, "failed", error=str(err))
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
            assert batch.parent_batch_id is not None
            parent_takes = {t.id: t for t in self.catalog.batch_takes(batch.parent_batch_id)}
            carried, kept = carried_rows(
                batch, self.catalog.shots(batch.parent_batch_id), parent_takes, project_positions(project)
            )
            shots, takes = shots + carried, takes + kept
        self.catalog.add_shots(batch_id, shots, takes)
        for shot in carried:  # the kept shots' files go into the new batch's folder too
            assert shot.final_take_id is not None
            publish_take(self.catalog, self.assets, shot.key, shot.final_take_id)
        approval = project.approval
        kept_keys = {s.key for s in carried}
        rendered = [s for s in sorted(shots, key=lambda s: s.position) if s.key not in kept_keys]
        plan = BatchPlan([], approval.required, approval.deadline_seconds, approval.on_expiry)
        return batch_plan(rendered, takes, plan, self.providers)

    @activity.defn(name="plan_shot")
    async def plan_shot(self, shot_key: str) -> ShotPlan:
        """The takes and provider chain of one shot."""

        def _plan() -> ShotPlan:
            shot, takes = self.catalog.shot_with_takes(shot_key)
            return shot_plan(shot, [t.id for t in takes], self.providers)

        return await asyncio.to_thread(_plan)

    @activity.defn(name="render")
    async def render(self, inp: StageInput) -> TakeOutcome:
        """Render one take with one provider, unless an earlier run already did."""
        renderer = self.providers.renderers.get(inp.provider)
        if renderer is None:
            raise ApplicationError(
                f"{inp.provider}: not configured on this worker", type="InvalidRequest", non_retryable=True
            )
        info = activity.info()
        price = price_of("render", inp.provider, getattr(renderer, "model", None), self.policy.prices)
        while True:
            start = await asyncio.to_thread(
                begin_render,
                self.catalog,
                inp.take_id,
                provider=inp.provider,
                attempt=info.attempt,
                price=price,
                policy=self.policy,
            )
            if start.blocked is None:
                break
            if start.blocked.reason != "busy":
                # Over budget: the workflow holds the shot at a budget gate. Circuit open: next provider.
                kind = BLOCKED_ERRORS[start.blocked.reason]
                hint = [start.blocked.retry_in] if start.blocked.retry_in else []
                raise ApplicationError(start.blocked.message, *hint, type=kind, non_retryable=True)
            if not info.is_local:
                activity.heartbeat()
            await asyncio.sleep(start.blocked.retry_in or BUSY_WAIT)
        take = start.take
        if start.done:
            return await self._finish(inp, TakeOutcome(take.id, ok=True, provider=take.provider))
        assert start.attempt_id is not None
        attempt_id = start.attempt_id

        async def save_job(vendor_job: str) -> None:
            await asyncio.to_thread(self.catalog.set_attempt_job, attempt_id, vendor_job)

        init_image = await asyncio.to_thread(self.assets.get, take.init_key) if take.init_key else None
        request = RenderRequest(
            prompt=take.prompt,
            width=take.width,
            height=take.height,
            negative=take.negative,
            seed=take.seed,
            params=dict(take.params or {}),
            job_id=start.job_id,
            init_image=init_image,
            strength=take.strength if init_image is not None else None,
        )
        started = time.monotonic()
        try:
            kept = self._unsaved.kept(take.id, inp.provider)
            if kept is not None:  # made before an outage stopped it being stored: not paid for again
                result = kept
            elif activity.info().is_local:
                async with self._limit(inp.provider):
                    result = await renderer.render(request, on_job=save_job)
            else:
                async with heartbeating():
                    result = await renderer.render(request, on_job=save_job)
        except ProviderError as err:
            await asyncio.to_thread(
                self.catalog.finish_attempt,
                attempt_id,
                status="failed",
                error_class=type(err).__name__,
                error=str(err)[:500],
                latency_ms=int((time.monotonic() - started) * 1000),
                cost_usd=0.0,
            )
            raise provider_failure(err) from None
        latency_ms = int((time.monotonic() - started) * 1000)
        self._unsaved.keep(take.id, inp.provider, result)
        take_fields = dict(
            status="rendered",
            provider=inp.provider,
            model=result.model,
            seed_used=result.seed,
            reproducible=result.reproducible,
            revised_prompt=result.revised_prompt,
            params=result.params,
            error=None,
        )

        def _store() -> None:
            delivered = image_size(result.image)
            if delivered != (take.width, take.height):
                # Vendors choose their own pixel sizes (by aspect ratio); review expects what came.
                take_fields["params"] = {**result.params, "delivered_size": list(delivered)}
            key = self.assets.put(result.image, result.mime_type)
            cost = price_of("render", inp.provider, result.model, self.policy.prices)
            self.catalog.complete_attempt(
                attempt_id,
                take.id,
                {**take_fields, "asset_key": key},
                latency_ms=latency_ms,
                job_id=result.job_id or start.job_id,
                cost_usd=cost,
            )

        await asyncio.to_thread(_store)
        self._unsaved.stored(take.id, inp.provider)
        return await self._finish(inp, TakeOutcome(take.id, ok=True, provider=inp.provider))

    async def _finish(self, inp: StageInput, rendered: TakeOutcome) -> TakeOutcome:
        """Upscale and review a rendered take in this activity when asked to (``inp.finish``).

        Each stage finds its earlier result as it would in an activity of its own. A failure
        hands the take back as merely rendered: the workflow then runs the stages one by one,
        with their own retries and the upscale chain, and records why they failed.
        """
        if not inp.finish:
            return rendered
        try:
            if inp.upscale > 1:
                await self.upscale(StageInput(rendered.take_id, "local", inp.upscale))
            return await self.review(StageInput(rendered.take_id, "local"))
        except (ApplicationError, StudioError, OSError, ValueError) as err:
            activity.logger.warning(
                "in-process stages of %s failed; the workflow runs them one by one: %s", rendered.take_id, err
            )
            return rendered

    @activity.defn(name="upscale")
    async def upscale(self, inp: StageInput) -> TakeOutcome:
        """Upscale a rendered take and store the result as its final image."""
        take, _ = await asyncio.to_thread(begin_stage, self.catalog, inp.take_id, "upscaling")
        # In a thread: on S3 this is a network round trip, which must not stall the event loop.
        if take.final_key and await asyncio.to_thread(self.assets.exists, take.final_key):
            return TakeOutcome(take.id, ok=True, provider=inp.provider)
        assert take.asset_key is not None, "upscale runs only after a render"
        image = await asyncio.to_thread(self.assets.get, take.asset_key)
        upscaler = self.providers.upscalers[inp.provider]
        async with self._paid_call(take.id, "upscale", inp.provider, getattr(upscaler, "model", None)) as call:
            result = await upscaler.upscale(
                image, factor=inp.upscale, on_job=call.save_job(self.catalog), job_id=call.job_id
            )

        def _store() -> None:
            key = self.assets.put(result.image, result.mime_type)
            if call.attempt_id is None:
                self.catalog.update_take(take.id, status="upscaled", final_key=key)
            else:
                self.catalog.complete_attempt(
                    call.attempt_id, take.id, {"status": "upscaled", "final_key": key}, latency_ms=call.latency_ms()
                )

        await asyncio.to_thread(_store)
        return TakeOutcome(take.id, ok=True, provider=inp.provider)

    @activity.defn(name="review")
    async def review(self, inp: StageInput) -> TakeOutcome:
        """Score a take against its shot and store the verdict."""
        take, shot = await asyncio.to_thread(begin_stage, self.catalog, inp.take_id, "reviewing")
        if take.review_score is not None:
            return TakeOutcome(take.id, True, inp.provider, take.review_score, take.review_passed, reviewed=True)
        # Without an upscale stage (factor 1) the render itself is the final image.
        key = take.final_key or take.asset_key
        assert key is not None, "review runs only after a render"
        image = await asyncio.to_thread(self.assets.get, key)
        width, height = (take.params or {}).get("delivered_size", (take.width, take.height))
        expected = (width * shot.upscale, height * shot.upscale)
        reviewer = self.providers.reviewers[inp.provider]
        async with self._paid_call(take.id, "review", inp.provider, getattr(reviewer, "model", None)) as call:
            verdict = await reviewer.review(image, prompt=take.prompt, expected_size=expected)
        fields = dict(
            status="reviewed",
            final_key=key,
            review_score=verdict.score,
            review_passed=verdict.passed,
            review_notes=verdict.notes,
            review_model=verdict.model,
        )
        if call.attempt_id is None:
            await asyncio.to_thread(self.catalog.update_take, take.id, **fields)
        else:
            await asyncio.to_thread(
                self.catalog.complete_attempt, call.attempt_id, take.id, fields, latency_ms=call.latency_ms()
            )
        return TakeOutcome(take.id, True, inp.provider, verdict.score, verdict.passed, reviewed=True)

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

    @activity.defn(name="hold_for_budget")
    async def hold_for_budget(self, inp: BudgetHold) -> str:
        """Park a shot at the budget gate unless the budget moved; ``wait``, ``go`` or ``stop``."""
        renderer = self.providers.renderers.get(inp.provider)
        price = price_of("render", inp.provider, getattr(renderer, "model", None), self.policy.prices)
        return await asyncio.to_thread(hold_at_budget, self.catalog, inp.shot_key, price)

    @activity.defn(name="shot_stages")
    async def shot_stages(self, inp: ShotStagesInput) -> dict[str, str]:
        """Where the given shots of a batch are, by shot id (used to reconcile after continue-as-new)."""
        wanted = set(inp.shot_ids)
        shots = await asyncio.to_thread(self.catalog.shots, inp.batch_id)
        return {s.shot_id: s.stage for s in shots if s.shot_id in wanted}

    @activity.defn(name="record_decision")
    async def record_decision(self, rec: DecisionRecord) -> None:
        """Write down a gate decision (once per gate round)."""
        batch_id = rec.shot_key.split("/", 1)[0]
        approval = Approval(
            shot_key=rec.shot_key,
            batch_id=batch_id,
            round=rec.round,
            decision=rec.action,
            take_id=rec.take_id,
            who=rec.who,
            note=rec.note,
        )
        await asyncio.to_thread(self.catalog.add_approval, approval)
        if rec.action == "approve":
            await asyncio.to_thread(self.catalog.update_shot, rec.shot_key, stage="publishing")

    @activity.defn(name="publish")
    async def publish(self, inp: PublishInput) -> str:
        """Copy the chosen take to the output folder; returns the file's path."""
        path = await asyncio.to_thread(publish_take, self.catalog, self.assets, inp.shot_key, inp.take_id)
        return str(path)

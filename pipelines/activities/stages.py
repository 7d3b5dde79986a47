"""Activities: load by id, call, store, record. Each one is safe to run again after a crash.

Catalog and asset-store calls are blocking, so they run in threads; provider calls are async.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from temporalio import activity

from pipelines.activities.batch_end import BatchEndActivities
from pipelines.activities.failures import inconsistent
from pipelines.activities.gate_notices import GateNoticeActivities
from pipelines.activities.interface import Activities, declared_activities
from pipelines.activities.node_calls import NodeWake
from pipelines.activities.planning import PlanningActivities
from pipelines.activities.provider_calls import (
    PaidCall,
    heartbeating,
    provider_failure,
)
from pipelines.activities.provider_registry import ProviderSet
from pipelines.activities.rendering import RenderActivities
from pipelines.activities.unsaved import UnsavedRenders
from pipelines.messages import (
    BudgetHold,
    DecisionRecord,
    PublishInput,
    ReworkInput,
    ShotStageInput,
    ShotStagesInput,
    StageInput,
    TakeOutcome,
)
from providers.base import ProviderError
from studio.batches.publish import publish_take
from studio.catalog.call_guard import CallPolicy
from studio.catalog.models import Approval
from studio.catalog.stages import begin_call, begin_stage
from studio.catalog.store import Catalog
from studio.credentials.certificates import Signing
from studio.ids import batch_id_in
from studio.project.storyboard import variant_seeds
from studio.review.notify import GateNotifier
from studio.review.rework import edit_mask, pinned_takes, plan_rework
from studio.spending.budget import hold_at_budget
from studio.spending.prices import price_of
from studio.states import CallStatus, GateAction, ShotStage, TakeStatus
from studio.storage.local import AssetStore


class StudioActivities(BatchEndActivities, GateNoticeActivities, PlanningActivities, RenderActivities, Activities):
    """Every activity of the studio, sharing explicit dependencies.

    Args:
        catalog: Where rows are written.
        assets: Where bytes are written.
        providers: What can be called.
        notifier: Who hears about open gates.
        policy: Prices, budget and provider limits every worker applies alike.
        signing: The content credentials certificate published files are signed with.
    """

    def __init__(
        self,
        catalog: Catalog,
        assets: AssetStore,
        providers: ProviderSet,
        notifier: GateNotifier | None = None,
        policy: CallPolicy | None = None,
        signing: Signing | None = None,
    ) -> None:
        self.catalog = catalog
        self.signing = signing
        self.assets = assets
        self.providers = providers
        self.notifier = notifier
        self.policy = policy or CallPolicy()
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._unsaved = UnsavedRenders()
        self._node_wake = NodeWake()

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
                    status=CallStatus.FAILED,
                    error_class=type(err).__name__,
                    error=str(err)[:500],
                    latency_ms=call.latency_ms(),
                    cost_usd=0.0,
                )
            raise provider_failure(err) from None

    def all(self) -> list[Callable[..., object]]:
        """The activity callables to register on a worker: every one the interface declares."""
        return [getattr(self, name) for name in declared_activities()]

    @activity.defn(name="upscale")
    async def upscale(self, inp: StageInput) -> TakeOutcome:
        """Upscale a rendered take and store the result as its final image."""
        take, _ = await asyncio.to_thread(begin_stage, self.catalog, inp.take_id, ShotStage.UPSCALING)
        # In a thread: on S3 this is a network round trip, which must not stall the event loop.
        # bool(): mypy would otherwise infer the thread call's result from final_key's type.
        if take.final_key and bool(await asyncio.to_thread(self.assets.exists, take.final_key)):
            return TakeOutcome(take.id, ok=True, provider=inp.provider)
        if take.asset_key is None:
            raise inconsistent(f"take {take.id} has no render to upscale")
        image = await asyncio.to_thread(self.assets.get, take.asset_key)
        upscaler = self.providers.upscalers[inp.provider]
        async with self._paid_call(take.id, "upscale", inp.provider, getattr(upscaler, "model", None)) as call:
            result = await upscaler.upscale(
                image, factor=inp.upscale, on_job=call.save_job(self.catalog), job_id=call.job_id
            )

        def _store() -> None:
            key = self.assets.put(result.image, result.mime_type)
            if call.attempt_id is None:
                self.catalog.update_take(take.id, status=TakeStatus.UPSCALED, final_key=key)
            else:
                self.catalog.complete_attempt(
                    call.attempt_id,
                    take.id,
                    {"status": TakeStatus.UPSCALED, "final_key": key},
                    latency_ms=call.latency_ms(),
                )

        await asyncio.to_thread(_store)
        return TakeOutcome(take.id, ok=True, provider=inp.provider)

    @activity.defn(name="review")
    async def review(self, inp: StageInput) -> TakeOutcome:
        """Score a take against its shot and store the verdict."""
        take, shot = await asyncio.to_thread(begin_stage, self.catalog, inp.take_id, ShotStage.REVIEWING)
        if take.review_score is not None:
            return TakeOutcome(take.id, True, inp.provider, take.review_score, take.review_passed, reviewed=True)
        # Without an upscale stage (factor 1) the render itself is the final image.
        key = take.final_key or take.asset_key
        if key is None:
            raise inconsistent(f"take {take.id} has no image to review")
        image = await asyncio.to_thread(self.assets.get, key)
        width, height = (take.params or {}).get("delivered_size", (take.width, take.height))
        expected = (width * shot.upscale, height * shot.upscale)
        reviewer = self.providers.reviewers[inp.provider]
        async with self._paid_call(take.id, "review", inp.provider, getattr(reviewer, "model", None)) as call:
            verdict = await reviewer.review(image, prompt=take.prompt, expected_size=expected)
        fields = dict(
            status=TakeStatus.REVIEWED,
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
        """A new round of takes after changes were requested: fresh seeds, and the note appended.

        When the client pinned takes of the round just decided, the new takes are edits of those
        takes inside their pins (:mod:`studio.review.rework`); their masks are stored first.
        """

        def _add() -> list[str]:
            shot, takes = self.catalog.shot_with_takes(inp.shot_key)
            done = [t.id for t in takes if t.round == inp.round]
            if done:  # a retry after the round was written: no masks to draw again
                return done
            batch = self.catalog.batch(shot.batch_id)
            seeds = variant_seeds(None, batch.seed, f"{shot.shot_id}#round{inp.round}", shot.variants)
            decided = [t for t in takes if t.round == inp.round - 1]
            parents = pinned_takes(decided, self.catalog.pins(take_ids=[t.id for t in decided]))
            masks = {p.take.id: self.assets.put(edit_mask(p), "image/png") for p in parents}
            edits = [e.fields() for e in plan_rework(parents, masks, inp.note, len(seeds))]
            return self.catalog.add_round(inp.shot_key, inp.round, inp.note, seeds, edits)

        return await asyncio.to_thread(_add)

    @activity.defn(name="mark_take_failed")
    async def mark_take_failed(self, outcome: TakeOutcome) -> None:
        """Record that a take could not be made, and why."""
        await asyncio.to_thread(
            self.catalog.update_take, outcome.take_id, status=TakeStatus.FAILED, error=outcome.error
        )

    @activity.defn(name="set_shot_stage")
    async def set_shot_stage(self, inp: ShotStageInput) -> None:
        """Record where a shot is."""
        # A gate opening writes its due time; any other stage means no gate waits, so it clears it.
        fields: dict[str, object] = {"stage": inp.stage, "gate_due_at": inp.gate_due_at}
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
        batch_id = batch_id_in(rec.shot_key)
        approval = Approval(
            shot_key=rec.shot_key,
            batch_id=batch_id,
            round=rec.round,
            decision=rec.action,
            take_id=rec.take_id,
            who=rec.who,
            email=rec.email,
            note=rec.note,
        )
        await asyncio.to_thread(self.catalog.add_approval, approval)
        if rec.action == GateAction.APPROVE:
            await asyncio.to_thread(
                self.catalog.update_shot, rec.shot_key, stage=ShotStage.PUBLISHING, gate_due_at=None
            )

    @activity.defn(name="publish")
    async def publish(self, inp: PublishInput) -> str:
        """Copy the chosen take to the output folder; returns the file's path."""
        path = await asyncio.to_thread(
            functools.partial(publish_take, signing=self.signing), self.catalog, self.assets, inp.shot_key, inp.take_id
        )
        return str(path)

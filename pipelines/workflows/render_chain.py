"""A take's render along its provider chain: failover, and waiting out a provider-wide outage.

Part of :class:`pipelines.workflows.shot.ShotWorkflow` (a base class of it, for the one subject
"render this take somewhere"): one regular activity per provider attempt on that provider's
queue, an in-process provider as a cheap stage; when every provider left is down or throttling,
the take waits on a durable timer and tries the chain again. Workflow code: orchestration only.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from temporalio import workflow
from temporalio.common import RetryPolicy

from pipelines.workflows.stage_runs import (
    STAGE_FAILED,
    Activity,
    Arg,
    Result,
    failure_text,
    failure_type,
    raise_if_cancelled,
    retry_hint,
    run_stage,
)

with workflow.unsafe.imports_passed_through():
    from pipelines.activities.interface import Activities
    from pipelines.messages import ShotPlan, ShotStageInput, ShotUpdate, StageInput, TakeOutcome, provider_queue
    from studio.rendering.failover import FINAL_FOR_PROVIDER, final_for_provider, is_weather, provider_wait
    from studio.states import ShotPhase, ShotStage

# Unlimited attempts, bounded by each call's schedule-to-close window: the worker's outage guard
# gives a provider's own trouble its 3 tries (then failover) and an outage as long as it lasts.
RENDER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=0,
    non_retryable_error_types=sorted(FINAL_FOR_PROVIDER),
)
# Shots recorded before a take waited through a provider-wide outage failed it at once.
WAIT_FOR_PROVIDERS = "wait-for-providers"


class RenderChain:
    """The render-and-failover half of a shot workflow (state lives on the workflow itself)."""

    shot_key: str
    shot_id: str
    stage: ShotStage
    outage_window: float
    provider_window: float
    provider_retry_cap: float
    waiting_takes: set[str]
    prober: str | None
    resumes: int  # times the batch was resumed (`studio resume`) while this shot ran
    stage_lock: asyncio.Lock

    if TYPE_CHECKING:  # defined by the workflow class

        async def _run(self, activity: Activity[Arg, Result], arg: Arg) -> Result: ...

        async def _tell_batch(self, update: ShotUpdate) -> None: ...

        async def _budget_gate(self, provider: str) -> bool: ...

    async def _render(self, take_id: str, plan: ShotPlan, queue: str) -> TakeOutcome:
        chain, rounds = list(plan.chain), 0
        first_wait: float | None = None
        while True:
            errors: list[str] = []
            refused: set[str] = set()
            hints: list[float] = []  # per provider down: how long it asked us to wait
            for provider in chain:
                while True:
                    resumes = self.resumes  # before the call: a resume while it runs is not missed
                    try:
                        outcome = await self._render_with(take_id, provider, plan, queue)
                    except STAGE_FAILED as err:
                        raise_if_cancelled(err)
                        kind = failure_type(err)
                        if kind == "BatchPaused":
                            # `studio pause`: no render starts. Wait, at no cost and with no timer
                            # (a pause may last days), for the batch's resume; then ask again.
                            await workflow.wait_condition(partial(self._resumed_since, resumes))
                            continue
                        if kind == "OverBudget" and await self._budget_gate(provider):
                            continue  # the budget was raised: same provider again
                        if kind in ("OverBudget", "BudgetStopped"):
                            # Spending stopped: no other provider either, they cost money too.
                            await self._providers_back(take_id)
                            return TakeOutcome(take_id, ok=False, error=f"stopped at the budget: {failure_text(err)}")
                        text = failure_text(err)
                        # Vendor errors name their provider already ("gemini: gemini unavailable …").
                        errors.append(text if text.startswith(provider) else f"{provider}: {text}")
                        # By error kind; a failure typed with an error class name (histories
                        # from before kinds) decides the same (providers.base.error_kind).
                        if final_for_provider(kind):
                            refused.add(provider)
                        elif is_weather(kind) or kind is None:  # None: the call timed out
                            hints.append(retry_hint(err) or 0.0)
                        break
                    else:
                        await self._providers_back(take_id)
                        return outcome
            if not hints or not workflow.patched(WAIT_FOR_PROVIDERS):
                break
            # Every provider left is down or throttling: wait, at no cost, and try them again.
            now = workflow.now().timestamp()
            first_wait = now if first_wait is None else first_wait
            left = self.provider_window - (now - first_wait)
            if left <= 0:
                errors.append(f"providers unavailable for {self.provider_window / 3600:.1f} h: gave up")
                break
            chain, rounds = [p for p in chain if p not in refused], rounds + 1
            # The provider that comes back soonest sets the wait (a long Retry-After from one
            # does not hold a take another may render).
            wait = min(provider_wait(rounds, hint, cap=self.provider_retry_cap) for hint in hints)
            await self._wait_for_providers(take_id, min(left, wait), errors)
        await self._providers_back(take_id)
        return TakeOutcome(take_id, ok=False, error="; ".join(errors) or "empty provider chain")

    def _resumed_since(self, resumes: int) -> bool:
        return self.resumes > resumes

    async def _wait_for_providers(self, take_id: str, seconds: float, errors: list[str]) -> None:
        """Hold a take, at no cost, until it is worth trying its chain again.

        One take of the shot probes (a durable timer, then its chain); the shot's other waiting
        takes wait for it without a timer of their own, and try again once it rendered or gave
        up. A shot's history so grows by one probe per round, not one per take.
        """
        if not self.waiting_takes:
            self.waiting_takes.add(take_id)
            await self._tell_batch(ShotUpdate(self.shot_id, ShotPhase.PROVIDER_WAIT))
            # Only a rendering shot shows it waits: a budget gate's stage stays what it is.
            await self._show_stage(
                ShotStage.WAITING_FOR_PROVIDER, unless_not=ShotStage.RENDERING, error="; ".join(errors)[:500]
            )
        self.waiting_takes.add(take_id)
        if self.prober in (None, take_id):
            self.prober = take_id
            await workflow.sleep(timedelta(seconds=seconds))
        else:
            await workflow.wait_condition(lambda: self.prober is None)

    async def _providers_back(self, take_id: str) -> None:
        """A take stopped waiting for providers (rendered or gave up); the last one ends the shot's wait."""
        if take_id not in self.waiting_takes:
            return
        self.waiting_takes.discard(take_id)
        if self.prober == take_id:
            self.prober = None  # the others try their chains now
        if not self.waiting_takes:
            await self._tell_batch(ShotUpdate(self.shot_id, ShotPhase.PROVIDER_BACK))
            await self._show_stage(ShotStage.RENDERING, unless_not=ShotStage.WAITING_FOR_PROVIDER, error="")

    async def _show_stage(
        self, stage: ShotStage, *, unless_not: ShotStage | None = None, error: str | None = None
    ) -> None:
        """Set the shot's stage here and in the catalog, one change at a time.

        Args:
            unless_not: Change it only from this stage (checked once the lock is held).
        """
        async with self.stage_lock:
            if unless_not is not None and self.stage != unless_not:
                return
            self.stage = stage
            await self._run(Activities.set_shot_stage, ShotStageInput(self.shot_key, stage, error=error))

    async def _render_with(self, take_id: str, provider: str, plan: ShotPlan, queue: str) -> TakeOutcome:
        if provider in plan.in_process:
            # Cheap stages after it run in the same local activity when they are in-process too.
            stage = (
                StageInput(take_id, provider, plan.upscale, finish=True)
                if plan.finish_in_render
                else StageInput(take_id, provider)
            )
            return await run_stage(
                Activities.render,
                stage,
                task_queue=queue,
                window=self.outage_window,
                timeout=timedelta(minutes=2),
                local_window=timedelta(minutes=2),
            )
        return await workflow.execute_activity_method(
            Activities.render,
            StageInput(take_id, provider),
            task_queue=provider_queue(queue, provider),
            start_to_close_timeout=timedelta(minutes=10),
            schedule_to_close_timeout=timedelta(seconds=self.outage_window),
            heartbeat_timeout=timedelta(seconds=3),
            retry_policy=RENDER_RETRY,
        )

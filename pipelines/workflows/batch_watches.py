"""What runs beside a batch's main loop: the notice that providers are down, and the creator's daily digest.

Part of :class:`pipelines.workflows.batch.BatchWorkflow` (a base class of it, as
:class:`pipelines.workflows.render_chain.RenderChain` is of the shot workflow): durable timers and
best-effort notices, with the batch's state living on the workflow itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

from pipelines.workflows.stage_runs import STAGE_FAILED, failure_text, raise_if_cancelled

with workflow.unsafe.imports_passed_through():
    from pipelines.activities.interface import Activities
    from pipelines.messages import BatchInput, DigestRequest, ProviderWaitNotice

# Patches: batches recorded before them sent no notice about providers being down, and no daily
# digest of decisions.
PROVIDER_NOTICE = "provider-wait-notice"
DAILY_DIGEST = "daily-decision-digest"
DIGEST_EVERY = timedelta(days=1)
NOTIFY_RETRY = RetryPolicy(maximum_attempts=3)


class BatchWatches:
    """The provider notice and the daily digest of a batch workflow."""

    gated: set[str]
    provider_waiting: set[str]
    digest_at: datetime | None
    digest_after: int
    tasks: set[asyncio.Task[None]]

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` beside the batch's main loop, holding a reference until it ends."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _start_watches(self, inp: BatchInput) -> None:
        """Start what runs beside the main loop: the provider notice and the creator's daily digest."""
        if workflow.patched(PROVIDER_NOTICE):
            self._spawn(self._watch_providers(inp))
        self.digest_at, self.digest_after = inp.digest_at, inp.digest_after
        if workflow.patched(DAILY_DIGEST):
            self._spawn(self._digest_daily(inp.batch_id))

    async def _watch_providers(self, inp: BatchInput) -> None:
        """Send one notice per spell in which shots wait on providers for longer than it should take."""
        while True:
            await workflow.wait_condition(lambda: bool(self.provider_waiting))
            try:
                await workflow.wait_condition(
                    lambda: not self.provider_waiting, timeout=timedelta(seconds=inp.provider_notice_after)
                )
            except TimeoutError:
                notice = ProviderWaitNotice(inp.batch_id, len(self.provider_waiting), int(inp.provider_notice_after))
                try:
                    await workflow.execute_local_activity_method(
                        Activities.notify_provider_wait,
                        notice,
                        start_to_close_timeout=timedelta(seconds=30),
                        retry_policy=NOTIFY_RETRY,
                    )
                except STAGE_FAILED as err:
                    workflow.logger.warning("could not send the provider notice for %s: %s", inp.batch_id, err)
                await workflow.wait_condition(lambda: not self.provider_waiting)

    async def _digest_daily(self, batch_id: str) -> None:
        """Once a day while gates are open, send the creator the decisions made since the last digest.

        A durable timer in the batch itself rather than a workflow of its own: the batch already
        knows when gates are open (``gated``) and carries its state over continue-as-new (the
        next digest's time and the last approval listed ride in :class:`BatchInput`), and it ends
        with the batch, so nothing else has to be started, cancelled or found again.
        """
        while True:
            if self.digest_at is None:
                await workflow.wait_condition(lambda: bool(self.gated))
                self.digest_at = workflow.now() + DIGEST_EVERY
            wait = self.digest_at - workflow.now()
            if wait > timedelta(0):
                await workflow.sleep(wait)
            try:
                result = await workflow.execute_local_activity_method(
                    Activities.notify_digest,
                    DigestRequest(batch_id, self.digest_after),
                    start_to_close_timeout=timedelta(seconds=30),
                    retry_policy=NOTIFY_RETRY,
                )
                self.digest_after = result.after
            except STAGE_FAILED as err:
                raise_if_cancelled(err)
                # The decisions stay unlisted, so tomorrow's digest carries them.
                workflow.logger.warning("could not send the digest for %s: %s", batch_id, failure_text(err))
            self.digest_at = self.digest_at + DIGEST_EVERY if self.gated else None

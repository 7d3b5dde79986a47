"""Activities at the ends of gates and batches: notices, the manifest, and closing a batch truthfully.

A mixin of :class:`pipelines.activities.stages.StudioActivities` (which gives it ``catalog`` and
``notifier``), kept apart so each file holds one subject.
"""

from __future__ import annotations

import asyncio

from temporalio import activity
from temporalio.exceptions import ApplicationError

from pipelines.activities.notice_links import notice_link
from pipelines.activities.provider_calls import heartbeating
from pipelines.messages import BatchRequest, BatchTally, ProviderWaitNotice, ShotRequest, batch_id_of, shot_key_of
from studio.batches.close import close_batch
from studio.batches.publish import write_manifest
from studio.catalog.store import Catalog
from studio.review.notify import GateNotice, GateNotifier, NotifyFailed, ProviderNotice
from studio.states import BatchState

HEARTBEAT_EVERY = 5.0  # seconds; the workflow gives a long stage a minute (stage_runs.LONG_STAGE_HEARTBEAT)


class BatchEndActivities:
    """Notices and batch endings (mixed into StudioActivities)."""

    catalog: Catalog
    notifier: GateNotifier | None

    @activity.defn(name="notify_gate")
    async def notify_gate(self, inp: ShotRequest | str) -> list[str]:
        """Tell whoever settings name that a shot waits at its gate, with the signed client link."""
        if self.notifier is None or not self.notifier.enabled:
            return []
        notifier, shot_key = self.notifier, shot_key_of(inp)

        def _send() -> list[str]:
            shot = self.catalog.shot(shot_key)
            batch = self.catalog.batch(shot.batch_id)
            link = notice_link(notifier.settings, self.catalog, batch.id, label=f"notice: {shot.shot_id} waits")
            return notifier.notify(GateNotice(batch.id, shot.shot_id, batch.project_name, link))

        try:
            return await asyncio.to_thread(_send)
        except NotifyFailed as err:
            raise ApplicationError(str(err), type="NotifyFailed") from None

    @activity.defn(name="finish_batch")
    async def finish_batch(self, inp: BatchRequest | str) -> str:
        """Write the manifest and close the batch; returns the manifest's path."""
        batch_id = batch_id_of(inp)
        path = await asyncio.to_thread(write_manifest, self.catalog, batch_id)
        published = await asyncio.to_thread(self.catalog.publications, batch_id)
        state = BatchState.PUBLISHED if published else BatchState.FAILED
        await asyncio.to_thread(self.catalog.set_batch_state, batch_id, state)
        return str(path)

    @activity.defn(name="close_batch")
    async def close_batch(self, inp: BatchRequest | str) -> BatchTally:
        """Write the manifest, square the batch with the catalog and close it (see studio.batches.close).

        Run as a regular activity (batches since ``close-batch-with-heartbeats``) it heartbeats
        while it works: the contact sheets of a large batch take minutes.
        """
        batch_id = batch_id_of(inp)
        async with heartbeating(every=HEARTBEAT_EVERY):
            await asyncio.to_thread(write_manifest, self.catalog, batch_id)
            tally = await asyncio.to_thread(close_batch, self.catalog, batch_id)
        if tally.lost:
            activity.logger.warning(
                "batch %s: shots %s had no outcome in the catalog: recorded as failed", batch_id, ", ".join(tally.lost)
            )
        return BatchTally(tally.outcomes, tally.state)

    @activity.defn(name="notify_provider_wait")
    async def notify_provider_wait(self, notice: ProviderWaitNotice) -> list[str]:
        """Tell whoever settings name that a batch has waited on its providers for a while."""
        if self.notifier is None or not self.notifier.enabled:
            return []
        notifier = self.notifier

        def _send() -> list[str]:
            batch = self.catalog.batch(notice.batch_id)
            link = notice_link(notifier.settings, self.catalog, batch.id, label="notice: providers wait")
            return notifier.notify(ProviderNotice(batch.id, batch.project_name, notice.shots, notice.seconds, link))

        try:
            return await asyncio.to_thread(_send)
        except NotifyFailed as err:
            raise ApplicationError(str(err), type="NotifyFailed") from None

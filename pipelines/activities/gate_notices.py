"""Activities that keep people told about gates: the client's reminder, the creator's news and digest.

A mixin of :class:`pipelines.activities.stages.StudioActivities` (which gives it ``catalog`` and
``notifier``). Each is best effort from the workflow's side: a failure is logged there and never
holds a gate. Each returns at once, sending nothing, when its channels are not configured.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from temporalio import activity
from temporalio.exceptions import ApplicationError

from pipelines.activities.notice_links import notice_link
from pipelines.messages import DecisionRecord, DigestRequest, DigestResult, GateReminder
from studio import ids
from studio.catalog.models import Approval
from studio.catalog.store import Catalog
from studio.review.notify import (
    DecisionNotice,
    DigestEntry,
    DigestNotice,
    GateNotifier,
    NotifyFailed,
    ReminderNotice,
)
from studio.settings import Settings

T = TypeVar("T")


def batch_page(settings: Settings, batch_id: str) -> str:
    """The owner's dashboard page of a batch (where the creator reads a decision in context)."""
    return f"{settings.dashboard_url}/batch?batch={batch_id}"


def _take_number(take_id: str | None) -> int | None:
    return ids.take_number(take_id) if take_id else None


def digest_entries(approvals: list[Approval], after: int) -> tuple[DigestEntry, ...]:
    """The decisions recorded after approval id ``after``, oldest first, as a digest lists them."""
    return tuple(
        DigestEntry(
            shot_id=ids.shot_id_in(a.shot_key),
            action=a.decision,
            take=_take_number(a.take_id),
            who=a.who,
            email=a.email,
            note=a.note,
            round=a.round,
            decided_at=a.decided_at,
        )
        for a in sorted(approvals, key=lambda a: a.id or 0)
        if (a.id or 0) > after
    )


class GateNoticeActivities:
    """The reminder, decision and digest notices (mixed into StudioActivities)."""

    catalog: Catalog
    notifier: GateNotifier | None

    @staticmethod
    async def _deliver(send: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(send)
        except NotifyFailed as err:
            raise ApplicationError(str(err), type="NotifyFailed") from None

    @activity.defn(name="notify_gate_reminder")
    async def notify_gate_reminder(self, inp: GateReminder) -> list[str]:
        """Remind the client, on the client's channels, that a gate's deadline is near; returns who was told."""
        if self.notifier is None or not self.notifier.enabled:
            return []
        notifier = self.notifier

        def _send() -> list[str]:
            shot = self.catalog.shot(inp.shot_key)
            batch = self.catalog.batch(shot.batch_id)
            # A recorded link (listed on the batch page, revocable), like the gate notice's.
            link = notice_link(notifier.settings, self.catalog, batch.id, label=f"reminder: {shot.shot_id} due")
            return notifier.notify(ReminderNotice(batch.id, shot.shot_id, batch.project_name, link, inp.due_at))

        return await self._deliver(_send)

    @activity.defn(name="notify_gate_decided")
    async def notify_gate_decided(self, rec: DecisionRecord) -> list[str]:
        """Tell the creator, on the creator's channels, that a gate was decided and by whom."""
        if self.notifier is None or not self.notifier.creator_enabled:
            return []
        notifier = self.notifier

        def _send() -> list[str]:
            shot = self.catalog.shot(rec.shot_key)
            batch = self.catalog.batch(shot.batch_id)
            notice = DecisionNotice(
                batch_id=batch.id,
                shot_id=shot.shot_id,
                project=batch.project_name,
                action=rec.action,
                take=_take_number(rec.take_id),
                who=rec.who,
                email=rec.email,
                note=rec.note,
                round=rec.round,
                link=batch_page(notifier.settings, batch.id),
            )
            return notifier.notify_creator(notice)

        return await self._deliver(_send)

    @activity.defn(name="notify_digest")
    async def notify_digest(self, inp: DigestRequest) -> DigestResult:
        """Send the creator the batch's decisions since the last digest; nothing when there were none."""
        if self.notifier is None or not self.notifier.creator_enabled:
            return DigestResult(inp.after)
        notifier = self.notifier

        def _send() -> DigestResult:
            approvals = self.catalog.approvals(batch_id=inp.batch_id)
            entries = digest_entries(approvals, inp.after)
            if not entries:
                return DigestResult(inp.after)
            batch = self.catalog.batch(inp.batch_id)
            last = max(a.id or 0 for a in approvals)
            notice = DigestNotice(batch.id, batch.project_name, entries, batch_page(notifier.settings, batch.id))
            return DigestResult(last, notifier.notify_creator(notice))

        return await self._deliver(_send)

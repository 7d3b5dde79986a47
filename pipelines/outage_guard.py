"""The worker's outage guard: every activity failure is sorted into weather or a verdict.

One interceptor for all activities, local and regular, so no stage can forget it:

- an outage of the catalog, the asset store or the disk (studio.outages.classify_outage) becomes
  a retryable failure typed ``CatalogUnavailable`` / ``AssetStoreUnavailable`` /
  ``DiskUnavailable``, marked benign (the SDK then logs it at DEBUG, not a traceback per try),
  and logged once per outage by :class:`~studio.outages.OutageLog`;
- any other failure keeps its type and gets the number of tries it always had (the retry
  policies allow unlimited attempts so that outages are bounded by time, not count).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from studio.catalog import Catalog
from studio.failover import WEATHER
from studio.outage_notes import clear_outage, note_outage
from studio.outages import OUTAGE_TYPES, OutageLog, classify_outage, retry_allowed, retry_delay


# Activities that write or read the asset store (or the disk): their success ends such an outage.
STORING = frozenset({"storyboard", "render", "upscale", "review", "publish", "finish_batch", "close_batch"})
# Activities that only read the catalog: SQLite lets reads through while a writer holds its lock,
# so their success does not say the catalog is back.
READING = frozenset({"plan_shot", "shot_stages"})


class OutageGuard(Interceptor):
    """Worker interceptor applying the studio's retry rules to every activity.

    Args:
        catalog: Where outages other than the catalog's own are noted for `studio status`.
        log: Where outages are logged (one per worker process).
    """

    def __init__(self, catalog: Catalog | None = None, log: OutageLog | None = None) -> None:
        self.catalog = catalog
        self.log = log or OutageLog()

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap each activity execution."""
        return _GuardedActivity(next, self)


class _GuardedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, guard: OutageGuard) -> None:
        super().__init__(next)
        self._guard = guard
        self._log = guard.log

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        provider = getattr(input.args[0], "provider", None) if input.args else None
        try:
            result = await super().execute_activity(input)
        except Exception as err:  # noqa: BLE001 - sorted below, and always raised again
            final = verdict(err, self._log, provider)
            await self._note()
            if final is err:
                raise
            # An outage's own error is in its message; a stage out of tries keeps its cause.
            outage = isinstance(final, ApplicationError) and final.type in OUTAGE_TYPES
            raise final from (None if outage else err)
        # Only a success that went through a resource says it is back.
        kind = activity.info().activity_type
        touched = {"the catalog"} if kind not in READING else set()
        if kind in STORING:
            touched |= {"the asset store", "the disk"}
        if provider is not None:
            touched.add(f"provider {provider}")
        for what in self._log.succeeded(touched):
            await self._write(clear_outage, what)
        return result

    async def _note(self) -> None:
        """Write down the outages due for a note (never the catalog's own: it is what is down)."""
        for what in self._log.due_notes():
            if what != "the catalog":
                await self._write(note_outage, what, self._log.current()[what], self._log.since(what))

    async def _write(self, fn: Any, *args: Any) -> None:
        catalog = self._guard.catalog
        if catalog is None:
            return
        try:
            await asyncio.to_thread(fn, catalog, *args)
        except Exception as err:  # noqa: BLE001 - only an outage is let go, see below
            if classify_outage(err) is None:
                raise
            # The catalog is down too: the note is written at the next failure or success.
            return


def log_extra(info: activity.Info) -> dict[str, Any]:
    """The extras Temporal's own activity logger adds, for the outage log's line."""
    return {"temporal_activity": {"activity_type": info.activity_type, "workflow_id": info.workflow_id,
                                  "workflow_type": info.workflow_type, "attempt": info.attempt}}


def verdict(err: Exception, log: OutageLog, provider: str | None = None) -> Exception:
    """The failure an activity ends with after ``err``: a retryable outage, or ``err`` with its tries.

    Args:
        provider: The provider the activity called, when it called one.
    """
    info = activity.info()
    outage = classify_outage(err)
    if outage is not None:
        log.failed(outage.resource.label, outage.detail, log_extra(info))
        return ApplicationError(
            str(outage),
            type=outage.resource.value,
            non_retryable=not retry_allowed(outage.resource.value, info.attempt, local=info.is_local),
            next_retry_delay=timedelta(seconds=retry_delay(info.attempt)),
            category=ApplicationErrorCategory.BENIGN,
        )
    if isinstance(err, ApplicationError):
        weather = err.type in WEATHER and provider is not None
        if weather:
            # A provider down or throttling is recorded on the call's row and logged once per
            # spell here, not as a traceback per call.
            log.failed(f"provider {provider}", err.message, log_extra(info))
        retry = not err.non_retryable and retry_allowed(err.type, info.attempt)
        if not weather and (retry or err.non_retryable):
            return err
        return ApplicationError(err.message, *err.details, type=err.type, non_retryable=not retry,
                                next_retry_delay=err.next_retry_delay,
                                category=ApplicationErrorCategory.BENIGN if weather else err.category)
    if retry_allowed(type(err).__name__, info.attempt):
        return err
    return ApplicationError(str(err) or type(err).__name__, type=type(err).__name__, non_retryable=True)

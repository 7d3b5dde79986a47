"""The worker's outage guard: every activity failure is sorted into weather or a verdict.

One interceptor for all activities, local and regular, so no stage can forget it:

- an outage of the catalog, the asset store or the disk (studio.outages.classify.classify_outage) becomes
  a retryable failure typed ``CatalogUnavailable`` / ``AssetStoreUnavailable`` /
  ``DiskUnavailable``, marked benign (the SDK then logs it at DEBUG, not a traceback per try),
  and logged once per outage by :class:`~studio.outages.classify.OutageLog`;
- any other failure keeps its type and gets the number of tries it always had (the retry
  policies allow unlimited attempts so that outages are bounded by time, not count).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from studio.catalog.store import Catalog
from studio.outages.classify import OUTAGE_TYPES, OutageLog, classify_outage, retry_allowed, retry_delay
from studio.outages.notes import clear_outage, note_outage
from studio.rendering.failover import is_weather

# Activities that write or read the asset store (or the disk): their success ends such an outage.
STORING = frozenset({"storyboard", "render", "upscale", "review", "publish", "finish_batch", "close_batch"})
# Activities whose input names the provider they call: their success says that provider is back.
CALLING = frozenset({"render", "upscale", "review"})
# Executions whose tries are counted at once (a bound; past it, attempt numbers count instead).
MAX_TRACKED = 10_000
# Activities that only read the catalog: SQLite lets reads through while a writer holds its lock,
# so their success does not say the catalog is back.
READING = frozenset({"plan_shot", "shot_stages"})


log = logging.getLogger(__name__)


class OutageGuard(Interceptor):
    """Worker interceptor applying the studio's retry rules to every activity.

    Args:
        catalog: Where outages other than the catalog's own are noted for `studio status`.
        log: Where outages are logged (one per worker process).
    """

    def __init__(self, catalog: Catalog | None = None, log: OutageLog | None = None) -> None:
        self.catalog = catalog
        self.log = log or OutageLog()
        # Failures other than outages, per activity execution: tries are counted on these alone,
        # so an attempt number grown through an outage does not use up a stage's tries.
        self.tries: dict[tuple[str, str, str], int] = {}

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap each activity execution."""
        return _GuardedActivity(next, self)


class _GuardedActivity(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, guard: OutageGuard) -> None:
        super().__init__(next)
        self._guard = guard
        self._log = guard.log

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        calls = info.activity_type in CALLING
        provider = getattr(input.args[0], "provider", None) if calls and input.args else None
        execution = (info.workflow_id or "", info.workflow_run_id or "", info.activity_id)
        tries = self._guard.tries
        try:
            result = await super().execute_activity(input)
        except Exception as err:
            tracked = execution in tries or len(tries) < MAX_TRACKED
            failures = tries.get(execution, 0) + (classify_outage(err) is None) if tracked else info.attempt
            final = verdict(err, self._log, provider, failures)
            if isinstance(final, ApplicationError) and final.non_retryable:
                tries.pop(execution, None)
            elif tracked:
                tries[execution] = failures
            await self._note()
            if final is err:
                raise
            # An outage's own error is in its message; a stage out of tries keeps its cause.
            outage = isinstance(final, ApplicationError) and final.type in OUTAGE_TYPES
            raise final from (None if outage else err)
        tries.pop(execution, None)
        # Only a success that went through a resource says it is back.
        kind = info.activity_type
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
        except Exception as err:
            # The catalog down too, or two workers noting the same outage at once: the note is
            # written at the next failure or success; the stage's own outcome must not change.
            log.debug("could not write down an outage note: %s", err, exc_info=True)


def log_extra(info: activity.Info) -> dict[str, Any]:
    """The extras Temporal's own activity logger adds, for the outage log's line."""
    return {
        "temporal_activity": {
            "activity_type": info.activity_type,
            "workflow_id": info.workflow_id,
            "workflow_type": info.workflow_type,
            "attempt": info.attempt,
        }
    }


def verdict(err: Exception, log: OutageLog, provider: str | None = None, failures: int | None = None) -> Exception:
    """The failure an activity ends with after ``err``: a retryable outage, or ``err`` with its tries.

    Args:
        provider: The provider the activity called, when it called one.
        failures: This execution's failures other than outages so far, this one included
            (default: the attempt number).
    """
    info = activity.info()
    failures = info.attempt if failures is None else failures
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
        weather = is_weather(err.type) and provider is not None
        if weather:
            # A provider down or throttling is recorded on the call's row and logged once per
            # spell here, not as a traceback per call.
            log.failed(f"provider {provider}", err.message, log_extra(info))
        retry = not err.non_retryable and retry_allowed(err.type, failures)
        if not weather and (retry or err.non_retryable):
            return err
        return ApplicationError(
            err.message,
            *err.details,
            type=err.type,
            non_retryable=not retry,
            next_retry_delay=err.next_retry_delay,
            category=ApplicationErrorCategory.BENIGN if weather else err.category,
        )
    if retry_allowed(type(err).__name__, failures):
        return err
    return ApplicationError(str(err) or type(err).__name__, type=type(err).__name__, non_retryable=True)

"""What every provider call in an activity shares: heartbeats, error mapping, paid-call rows."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from providers.base import JobCallback, ProviderError
from studio.catalog.store import Catalog
from studio.rendering.failover import error_policy


@asynccontextmanager
async def heartbeating(every: float = 1.0) -> AsyncIterator[None]:
    """Heartbeat while the body runs, so a dead worker is noticed within the heartbeat timeout.

    In a local activity it does nothing: the server does not track a local activity (its workflow
    task does), so callers need not ask which kind they run as.
    """
    if activity.info().is_local:
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


# How a blocked call reaches the workflow (the ApplicationError type it branches on).
BLOCKED_ERRORS = {
    "over_budget": "OverBudget",
    "budget_stopped": "BudgetStopped",
    "circuit_open": "CircuitOpen",
    "paused": "BatchPaused",
}


def provider_failure(err: ProviderError) -> ApplicationError:
    """The activity failure for a provider error: typed by its kind, retryable or not, after what delay.

    The failure's ``type`` is the error's kind (``rejected``, ``rate_limited``, …), which
    failover decides on (studio.rendering.failover); the catalog keeps the class name.
    """
    failure_type = err.kind.value if err.kind is not None else type(err).__name__
    policy = error_policy(failure_type, err.retry_after)
    # The vendor's own wait travels as the failure's detail: a take waiting for every provider
    # to come back honours it (pipelines/workflows/render_chain.py).
    hint = [err.retry_after] if err.retry_after else []
    return ApplicationError(
        f"{err.provider}: {err}",
        *hint,
        type=failure_type,
        non_retryable=not policy.retry_same,
        next_retry_delay=timedelta(seconds=policy.delay) if policy.delay else None,
    )


@dataclass
class PaidCall:
    """A call written down in the catalog (``attempt_id``), or not written (free, in process)."""

    attempt_id: int | None = None
    job_id: str | None = None
    started: float = field(default_factory=time.monotonic)

    def latency_ms(self) -> int:
        """Milliseconds since the call began."""
        return int((time.monotonic() - self.started) * 1000)

    def save_job(self, catalog: Catalog) -> JobCallback | None:
        """A callback saving the vendor's job id on this call's row before anyone waits on it."""
        attempt_id = self.attempt_id
        if attempt_id is None:
            return None

        async def save(job_id: str) -> None:
            await asyncio.to_thread(catalog.set_attempt_job, attempt_id, job_id)

        return save

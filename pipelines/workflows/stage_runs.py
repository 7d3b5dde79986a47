"""Running a cheap stage from workflow code so that an outage makes it wait, never fail.

A stage (write a row, publish a file, plan a batch) runs first as a *local* activity: no server
round trip, which is what keeps a shot's overhead in milliseconds. When the catalog, the asset
store or the disk is down, its retries (every few seconds, see studio.outages.classify) stop after a
short local phase with an outage-typed failure, and the same stage is handed to the server as a
*regular* activity on the main queue that retries, server side, for the whole outage window.

Why not keep retrying locally: a local activity that runs longer than the workflow task
timeout heartbeats the task, about three history events every few seconds; a server-side retry
adds none, so a shot's history stays small through an outage of hours.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError, is_cancelled_exception

with workflow.unsafe.imports_passed_through():
    from studio.outages.classify import OUTAGE_TYPES, RETRY_CAP

# Attempts are bounded by the activity itself (studio.outages.classify.retry_allowed, applied by the
# worker's outage guard): a bug gets a few tries, an outage as many as its window allows.
STAGE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=0.5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=RETRY_CAP),
    maximum_attempts=0,
)


Arg = TypeVar("Arg")
Result = TypeVar("Result")
Activity = Callable[[Any, Arg], Awaitable[Result]]
"""An activity as workflows call it: a method of pipelines.activities.interface.Activities."""


# A failed regular activity surfaces as ActivityError (cause: the ApplicationError); a failed
# *local* activity surfaces as the ApplicationError itself. Stages must catch both.
STAGE_FAILED = (ActivityError, ApplicationError)


def failure_text(err: BaseException) -> str:
    """The message of a stage failure, whichever way it surfaced."""
    cause = err.cause if isinstance(err, ActivityError) else err
    return cause.message if isinstance(cause, ApplicationError) else str(cause or err)


def raise_if_cancelled(err: BaseException) -> None:
    """Let a cancellation through: a cancelled stage is not a failed one to fail over from."""
    if is_cancelled_exception(err):
        raise err


def retry_hint(err: BaseException) -> float | None:
    """Seconds the failure says to wait before asking again (Retry-After, an open circuit)."""
    cause = err.cause if isinstance(err, ActivityError) else err
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], (int, float)):
        return float(cause.details[0])
    return None


def failure_type(err: BaseException) -> str | None:
    """The ApplicationError type of a stage failure (e.g. ``OverBudget``), whichever way it surfaced."""
    cause = err.cause if isinstance(err, ActivityError) else err
    return cause.type if isinstance(cause, ApplicationError) else None


def is_outage(err: BaseException) -> bool:
    """Whether a stage failed because the studio's own infrastructure is down, or timed out
    (a hung query or a network folder that stopped answering look like that)."""
    cause = err.cause if isinstance(err, ActivityError) else err
    return failure_type(err) in OUTAGE_TYPES or isinstance(cause, TimeoutError)


async def run_stage(
    activity: Activity[Arg, Result],
    arg: Arg,
    *,
    task_queue: str,
    window: float,
    timeout: timedelta = timedelta(seconds=120),
    local_window: timedelta = timedelta(seconds=30),
) -> Result:
    """Run ``activity`` locally, and on the server through an outage of up to ``window`` seconds.

    Args:
        activity: The activity (a method of ``Activities``): its name and result type.
        timeout: How long one try may take.
        local_window: How long the local tries may take in all before the server takes over
            (a local activity that runs long heartbeats the workflow task: events every few
            seconds; a stage that is merely slow then just runs again on the server).

    Raises:
        ActivityError | ApplicationError: The stage failed for a reason other than an outage,
            or the outage outlasted ``window``.
    """
    try:
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=timeout,
            schedule_to_close_timeout=max(local_window, timedelta(seconds=1)),
            retry_policy=STAGE_RETRY,
        )
    except (ActivityError, ApplicationError) as err:
        if not is_outage(err):
            raise
    return await workflow.execute_activity_method(
        activity,
        arg,
        task_queue=task_queue,
        start_to_close_timeout=timeout,
        schedule_to_close_timeout=timedelta(seconds=window),
        retry_policy=STAGE_RETRY,
    )


LONG_STAGE_HEARTBEAT = timedelta(minutes=1)
"""How soon a long stage's worker is known to be gone: the stage heartbeats every few seconds."""


async def run_long_stage(
    activity: Activity[Arg, Result],
    arg: Arg,
    *,
    task_queue: str,
    window: float,
    try_for: timedelta,
) -> Result:
    """Run a stage whose time grows with the batch (its manifest and contact sheets over 10,000
    upscaled files) as a regular activity that heartbeats, through an outage of up to ``window``.

    :func:`run_stage` gives a try a fixed time and retries it on a timeout, so a stage that needs
    longer would time out on every try, and a batch too large for it would never close. Here a try
    may take up to ``try_for`` while its worker heartbeats; a dead worker is noticed within
    :data:`LONG_STAGE_HEARTBEAT`.

    Raises:
        ActivityError: The stage failed for a reason other than an outage, or the outage
            outlasted ``window``.
    """
    return await workflow.execute_activity_method(
        activity,
        arg,
        task_queue=task_queue,
        start_to_close_timeout=try_for,
        heartbeat_timeout=LONG_STAGE_HEARTBEAT,
        schedule_to_close_timeout=timedelta(seconds=window) + try_for,
        retry_policy=STAGE_RETRY,
    )

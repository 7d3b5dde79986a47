"""Sampler progress of a synchronous A1111 call, read from ``GET /sdapi/v1/progress`` on the side.

A1111 has no job ids: the progress endpoint reports whatever the node is rendering now. The
studio keeps one call per node slot, so that is normally our call; a render started from the
node's own web UI would show through until it ends (our call waits for the same lock meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx

from providers.a1111.api import A1111API, node_label
from providers.base import Progress, ProgressCallback, ProviderError

PROGRESS_PATH = "/sdapi/v1/progress"
POLL_TIMEOUT = 10.0
"""Seconds one progress read may take (the endpoint answers while the render holds the lock)."""

_log = logging.getLogger(__name__)
T = TypeVar("T")


def read_progress(node: str, data: Any) -> Progress | None:
    """The :class:`Progress` a ``/progress`` answer shows, or ``None`` while the node is idle.

    Args:
        node: The node the answer came from.
        data: The decoded answer: ``{"progress", "eta_relative", "state": {"job_count",
            "sampling_step", "sampling_steps", ...}, ...}``.
    """
    state = data.get("state") if isinstance(data, dict) else None
    if not isinstance(state, dict):
        return None
    try:
        jobs = int(state.get("job_count") or 0)
        step = int(state.get("sampling_step") or 0)
        steps = int(state.get("sampling_steps") or 0)
    except (TypeError, ValueError):
        return None
    if jobs <= 0:
        return None
    return Progress(node, "running", step=step, steps=steps or None)


async def follow(
    api: A1111API, client: httpx.AsyncClient, node: str, on_progress: ProgressCallback, interval: float
) -> None:
    """Report ``node``'s progress every ``interval`` seconds (when it changed) until cancelled.

    A failed read is only logged: the render call itself says whether the node is gone.
    """
    last: Progress | None = None
    while True:
        await asyncio.sleep(interval)
        try:
            data = await api.call(client, "GET", node, PROGRESS_PATH, timeout=min(api.timeout, POLL_TIMEOUT))
        except ProviderError as err:
            _log.debug("a1111 progress of %s unreadable: %s", node_label(node), err)
            continue
        progress = read_progress(node, data)
        if progress is not None and progress != last:
            last = progress
            await on_progress(progress)


async def with_progress(
    call: Awaitable[T],
    api: A1111API,
    client: httpx.AsyncClient,
    node: str,
    on_progress: ProgressCallback | None,
    interval: float,
) -> T:
    """Await ``call`` while :func:`follow` reports progress beside it (nothing beside it without a callback).

    An error raised by ``on_progress`` itself surfaces when the call ends.
    """
    if on_progress is None:
        return await call
    follower = asyncio.create_task(follow(api, client, node, on_progress, interval))
    try:
        return await call
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


__all__ = ["PROGRESS_PATH", "follow", "read_progress", "with_progress"]

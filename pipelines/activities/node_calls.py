"""What a render on a self-hosted node (ComfyUI, AUTOMATIC1111) needs beyond a cloud call.

- Its progress (queue position, sampler steps) goes out as activity heartbeat details and, at
  most about once a second, onto its call's row in the catalog, where ``studio status``,
  ``studio run --wait`` and the dashboard read it.
- A node freed by a render in this process wakes the renders of this process waiting for a
  node at once, instead of after their poll interval: one job at a time per GPU leaves a node
  idle only for the catalog's few milliseconds between two jobs. Waiters in other worker
  processes still find the node by polling.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity

from providers.base import Progress, ProgressCallback
from studio.catalog.models import utcnow
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.storage.local import AssetStore

# Seconds between two progress writes of one call (state changes are written at once).
PROGRESS_EVERY = 1.0


def progress_reporter(catalog: Catalog, attempt_id: int, *, heartbeats: bool) -> ProgressCallback:
    """A callback sending a self-hosted job's progress to Temporal and the call's catalog row.

    A new state is written at once; steps within a second of the last write are held back and
    written by a trailing write, so the row never stays behind the job for more than a second.
    """
    state: dict[str, Any] = {"written": None, "at": 0.0, "latest": None, "trailing": None}

    async def write(row: dict[str, Any]) -> None:
        state.update(written=row.get("state"), at=time.monotonic())
        await asyncio.to_thread(catalog.set_attempt_progress, attempt_id, {**row, "at": _now_text()})

    async def trailing(delay: float) -> None:
        await asyncio.sleep(delay)
        state["trailing"] = None
        if state["latest"] is not None:
            row, state["latest"] = state["latest"], None
            try:
                await write(row)
            except (StudioError, SQLAlchemyError, OSError) as err:  # a display row: the job goes on
                activity.logger.warning("progress of call %s not written: %s", attempt_id, err)

    async def report(progress: Progress) -> None:
        row = {k: v for k, v in dataclasses.asdict(progress).items() if v is not None}
        if heartbeats:
            activity.heartbeat(row)
        wait = PROGRESS_EVERY - (time.monotonic() - state["at"])
        if progress.state != state["written"] or wait <= 0:
            state["latest"] = None
            await write(row)
            return
        state["latest"] = row
        if state["trailing"] is None:
            # Kept on the state so it is not collected; it ends on its own within a second.
            state["trailing"] = asyncio.create_task(trailing(wait))

    return report


def _now_text() -> str:
    return utcnow().isoformat(timespec="seconds")


class NodeWake:
    """Wakes this process's renders waiting for a free node of a provider when one is freed."""

    def __init__(self) -> None:
        self._events: dict[str, asyncio.Event] = {}

    async def wait(self, provider: str, timeout: float) -> None:
        """Sleep until a node of ``provider`` is freed in this process, or ``timeout`` seconds."""
        event = self._events.setdefault(provider, asyncio.Event())
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return

    def freed(self, provider: str) -> None:
        """A render of ``provider`` ended here: every waiter asks for a node again."""
        event = self._events.pop(provider, None)
        if event is not None:
            event.set()


def load_workflow(assets: AssetStore, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The graph template a take's params name (``workflow``: its asset key), read from the asset store."""
    key = params.get("workflow")
    if not isinstance(key, str) or not key:
        return None
    loaded = json.loads(assets.get(key))
    return loaded if isinstance(loaded, dict) else None

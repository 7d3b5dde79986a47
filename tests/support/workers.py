"""The workers of one `studio worker` process, run inside the test's own event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.client import Client

from pipelines.activities.provider_registry import ProviderSet
from pipelines.runtime.worker import build_workers
from studio.settings import Settings


@asynccontextmanager
async def running_workers(
    client: Client, settings: Settings, providers: ProviderSet | None = None
) -> AsyncIterator[None]:
    """Run the workers `studio worker` would build for ``settings`` until the block ends.

    Args:
        client: A client connected to the test's Temporal server.
        settings: The test's settings (task queue, catalog, assets).
        providers: The providers to render with; ``None`` builds them from ``settings``.
    """
    workers = build_workers(client, settings, providers)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield
    finally:
        # return_exceptions: a worker that failed to start must not hide the test's own failure.
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)
        await asyncio.gather(*tasks, return_exceptions=True)

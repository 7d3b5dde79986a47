"""The worker: workflows and in-process stages on the main queue, one queue per remote provider.

A remote provider's queue is where its concurrency limit holds: each worker process runs at
most ``provider_concurrency`` calls to it at once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from pipelines.activities import StudioActivities
from pipelines.batch_workflow import BatchWorkflow
from pipelines.connection import connect
from pipelines.messages import provider_queue
from pipelines.provider_registry import ProviderSet, build_providers
from pipelines.shot_workflow import ShotWorkflow
from studio.assets import LocalAssetStore
from studio.catalog import Catalog
from studio.notify import GateNotifier
from studio.settings import Settings

# A dead worker's workflows move to a live one after this (SDK default: 10 s).
STICKY_TIMEOUT = timedelta(seconds=2)
# The sandbox still restricts non-deterministic calls inside workflow code, but imports are
# shared instead of re-executed for every workflow: with the default, each shot workflow
# recompiled its modules and the sandbox cost more CPU than the rest of the worker together.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default.with_passthrough_all_modules())


def build_workers(client: Client, settings: Settings, providers: ProviderSet | None = None) -> list[Worker]:
    """The workers one process runs: the main queue and each render provider's queue."""
    providers = providers or build_providers(settings)
    acts = StudioActivities(
        Catalog.open(settings.catalog_url), LocalAssetStore(settings.assets_dir), providers, GateNotifier(settings)
    )
    main = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[BatchWorkflow, ShotWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        activities=acts.all(),
        max_concurrent_workflow_tasks=100,
        max_concurrent_local_activities=64,
        max_concurrent_activities=64,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        graceful_shutdown_timeout=timedelta(seconds=5),
    )
    provider_queues = [
        Worker(
            client,
            task_queue=provider_queue(settings.task_queue, name),
            activities=[acts.render, acts.upscale, acts.review],
            max_concurrent_activities=settings.provider_concurrency,
            graceful_shutdown_timeout=timedelta(seconds=5),
        )
        for name in providers.remote()
    ]
    return [main, *provider_queues]


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run a worker process until ``stop`` is set (or forever)."""
    client = await connect(settings)
    workers = build_workers(client, settings)
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            await stop.wait()
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)

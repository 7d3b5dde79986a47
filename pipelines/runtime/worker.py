"""The worker: workflows and in-process stages on the main queue, one queue per remote provider.

A remote provider's queue is where its limits hold: each worker process runs at most
``provider_concurrency`` calls to it at once, and the server hands out at most
``provider_rps[name]`` of its tasks per second across all workers. Calls in flight across
workers, budgets and the circuit breaker are checked in the catalog (see studio.catalog.call_guard).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import (
    SandboxedWorkflowRunner,
    SandboxRestrictions,
)

from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.activities.stages import StudioActivities
from pipelines.messages import provider_queue
from pipelines.runtime.connection import connect
from pipelines.runtime.outage_guard import OutageGuard
from pipelines.workflows.batch import BatchWorkflow
from pipelines.workflows.shot import ShotWorkflow
from studio.catalog.call_guard import CallPolicy
from studio.catalog.store import Catalog
from studio.credentials.certificates import signing_from_settings
from studio.review.notify import GateNotifier
from studio.settings import Settings
from studio.storage import open_asset_store

# A dead worker's workflows move to a live one after this (SDK default: 10 s).
STICKY_TIMEOUT = timedelta(seconds=2)
SANDBOXED_RUNNER = SandboxedWorkflowRunner(restrictions=SandboxRestrictions.default)


def workflow_runner(settings: Settings) -> WorkflowRunner:
    """How workflow code runs: in Temporal's sandbox (``STUDIO_WORKFLOW_SANDBOX=1``) or plainly.

    Plain is the default. The sandbox enters its own context for each payload of each
    activation: even with every module passed through (which also let module-level names such
    as ``datetime`` through unrestricted) that cost ~20% of a worker's CPU per shot
    (bench/cpu_profile.py). Turned on, it is the strict default sandbox, which re-imports the
    workflow modules and refuses the clock, randomness and I/O. Workflow code here only
    orchestrates, the replay test replays every saved history in that sandbox, and CI's second
    pass runs the whole suite with it on.
    """
    return SANDBOXED_RUNNER if settings.workflow_sandbox else UnsandboxedWorkflowRunner()


def call_policy(settings: Settings, providers: ProviderSet) -> CallPolicy:
    """The budget, in-flight and circuit-breaker rules this worker applies, from settings."""
    return CallPolicy(
        prices=settings.prices,
        max_in_flight=settings.provider_max_in_flight,
        circuit_failures=settings.circuit_failures,
        circuit_cooldown=settings.circuit_cooldown,
        # A self-hosted provider's health is kept per node (a node pool), not per provider.
        breakers=frozenset(providers.remote()) - frozenset(providers.nodes),
        nodes=providers.nodes,
        node_failures=settings.node_failures,
        node_cooldown=settings.node_cooldown,
    )


def build_workers(client: Client, settings: Settings, providers: ProviderSet | None = None) -> list[Worker]:
    """The workers one process runs: the main queue and each render provider's queue."""
    providers = providers or build_providers(settings)
    acts = StudioActivities(
        Catalog.open(settings.catalog_url),
        open_asset_store(settings),
        providers,
        GateNotifier(settings),
        call_policy(settings, providers),
        signing_from_settings(settings),  # made (or read) once per process; its key stays here
    )
    guard = OutageGuard(acts.catalog)  # one outage log per process, shared by its queues
    main = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[BatchWorkflow, ShotWorkflow],
        workflow_runner=workflow_runner(settings),
        activities=acts.all(),
        max_concurrent_workflow_tasks=100,
        max_concurrent_local_activities=64,
        max_concurrent_activities=64,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
        graceful_shutdown_timeout=timedelta(seconds=5),
        interceptors=[guard],
    )
    provider_queues = [
        Worker(
            client,
            task_queue=provider_queue(settings.task_queue, name),
            activities=[acts.render, acts.upscale, acts.review],
            max_concurrent_activities=settings.provider_concurrency,
            # Enforced by the server for the whole queue, so it holds across every worker process.
            max_task_queue_activities_per_second=settings.provider_rps.get(name),
            graceful_shutdown_timeout=timedelta(seconds=5),
            interceptors=[guard],
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

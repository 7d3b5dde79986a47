"""STUDIO_WORKFLOW_SANDBOX: workflow code runs plainly by default, and in Temporal's sandbox on request.

The sandbox is what refuses a non-deterministic call (here, reading the wall clock) the moment
workflow code makes it; plain runs trust the code, which the replay test checks in the sandbox.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module for the workflow
    from pipelines.runtime.worker import workflow_runner
    from studio.settings import Settings


@workflow.defn(sandboxed=True)
class ReadsTheClock:
    """Reads the wall clock inside workflow code: a replay would see a different time."""

    @workflow.run
    async def run(self) -> str:
        return datetime.now().isoformat()


async def run_clock_workflow(client: Client, settings: Settings) -> tuple[str | None, str]:
    """Run the workflow for up to 10 s; returns its result (None if it never finished) and
    the text of its failed workflow tasks."""
    async with Worker(
        client, task_queue=settings.task_queue, workflows=[ReadsTheClock], workflow_runner=workflow_runner(settings)
    ):
        handle = await client.start_workflow(
            ReadsTheClock.run,
            id=f"clock-{uuid.uuid4().hex[:8]}",
            task_queue=settings.task_queue,
            run_timeout=timedelta(seconds=10),
        )
        try:
            result: str | None = await asyncio.wait_for(handle.result(), timeout=5)
        except TimeoutError:
            result = None
        failures = [
            e.workflow_task_failed_event_attributes.failure.message
            async for e in handle.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        ]
        if result is None:
            await handle.terminate("test over")
    return result, " | ".join(failures)


async def test_sandbox_refuses_a_clock_read(client: Client, settings: Settings) -> None:
    sandboxed = settings.model_copy(update={"workflow_sandbox": True})
    result, failures = await run_clock_workflow(client, sandboxed)
    assert result is None, "the workflow must not complete with a wall-clock value"
    assert "Cannot access datetime.datetime.now" in failures, failures


async def test_plain_runner_is_the_default(client: Client, settings: Settings) -> None:
    plain = settings.model_copy(update={"workflow_sandbox": False})
    assert Settings.model_fields["workflow_sandbox"].default is False
    result, failures = await run_clock_workflow(client, plain)
    assert result is not None and datetime.fromisoformat(result).year >= 2024, failures

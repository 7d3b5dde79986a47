"""The worker processes polling the studio's task queues, as Temporal's DescribeTaskQueue reports
them, on the real dev server with a real worker (the one `studio worker` builds)."""

from __future__ import annotations

import asyncio
import json

import pytest
from temporalio.client import Client

from pipelines.client.pollers import QueuePollers, task_queue_pollers, worker_processes
from studio.cli import main
from studio.settings import Settings
from tests.support.environment import point_environment_at


async def _polled(client: Client, settings: Settings) -> list[QueuePollers]:
    """The queues once the worker has polled the main queue for workflows (a poll is a few ms away)."""
    for _ in range(100):
        queues = await task_queue_pollers(client, settings)
        if any(q.pollers for q in queues if q.provider is None and q.kind == "workflow"):
            return queues
        await asyncio.sleep(0.1)
    raise AssertionError("the worker never showed up as a poller")


async def test_a_running_worker_is_listed_with_its_identity(client: Client, settings: Settings, worker: None) -> None:
    queues = await _polled(client, settings)
    main_queues = [q for q in queues if q.provider is None]
    assert {q.kind for q in main_queues} == {"workflow", "activity"}
    assert all(q.queue == settings.task_queue for q in main_queues)
    (process,) = [w for w in worker_processes(queues) if w.identity == client.identity]
    assert "main" in process.queues and process.last_seen is not None
    # Provider queues nobody polls (no keys here: local renders in process) list no one.
    assert all(not q.pollers for q in queues if q.provider is not None)


async def test_studio_queue_lists_the_worker(
    client: Client,
    settings: Settings,
    worker: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_environment_at(settings, monkeypatch)
    await _polled(client, settings)
    capsys.readouterr()
    # The CLI runs its own event loop: off this one, which keeps the worker polling meanwhile.
    assert await asyncio.to_thread(main, ["queue", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["workers_error"] is None and data["batches"] == []
    (listed,) = [w for w in data["workers"] if w["identity"] == client.identity]
    assert "main" in listed["queues"] and listed["last_seen"]

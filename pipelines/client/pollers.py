"""Who polls the studio's task queues: the worker processes Temporal has seen, from DescribeTaskQueue.

A worker process polls the main queue (workflows and in-process stages) and one queue per
remote provider. Temporal remembers each poller's identity (``pid@host``) and when it last asked
for work, for a few minutes after it stops: a process that died drops out of the list by itself.
The queue's approximate backlog (tasks waiting for a slot) comes with it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from pipelines.messages import provider_queue
from pipelines.runtime.connection import connect
from providers import table
from studio.settings import Settings

__all__ = [
    "Poller",
    "QueuePollers",
    "WorkerProcess",
    "describe_pollers",
    "studio_queues",
    "task_queue_pollers",
    "worker_processes",
]

KINDS = {"workflow": TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, "activity": TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY}


@dataclass(frozen=True)
class Poller:
    """A worker process polling one queue.

    Attributes:
        identity: The worker's identity (``pid@host`` unless set).
        last_seen: When it last polled (aware UTC).
    """

    identity: str
    last_seen: datetime | None


@dataclass(frozen=True)
class QueuePollers:
    """One task queue of one kind, and who polls it.

    Attributes:
        queue: The task queue's name.
        kind: ``workflow`` or ``activity``.
        provider: The remote provider the queue is for (``None``: the main queue).
        pollers: The worker processes polling it.
        backlog: Tasks waiting for a worker slot (Temporal's approximate count).
    """

    queue: str
    kind: str
    provider: str | None
    pollers: tuple[Poller, ...]
    backlog: int | None = None


@dataclass(frozen=True)
class WorkerProcess:
    """A worker process, as the queues it polls see it.

    Attributes:
        identity: Its identity.
        last_seen: The latest poll on any of its queues.
        queues: What it polls: ``main`` and provider names.
    """

    identity: str
    last_seen: datetime | None
    queues: tuple[str, ...]


def studio_queues(settings: Settings, *, in_process: bool = True) -> list[tuple[str, str, str | None]]:
    """Every task queue a batch's tasks wait on: ``(queue, kind, provider)``, the main queue's two
    kinds first (provider ``None``), then each provider's activity queue.

    Args:
        in_process: Include the providers that normally run in the worker's process (a worker
            may still serve them through their queue).
    """
    main = settings.task_queue
    names = [spec.name for spec in table.PROVIDERS if in_process or not spec.in_process]
    return [(main, "workflow", None), (main, "activity", None)] + [
        (provider_queue(main, name), "activity", name) for name in names
    ]


async def _describe(client: Client, namespace: str, queue: str, kind: str, provider: str | None) -> QueuePollers:
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=KINDS[kind], report_stats=True
        )
    )
    pollers = tuple(
        Poller(
            identity=p.identity,
            last_seen=p.last_access_time.ToDatetime(tzinfo=UTC) if p.HasField("last_access_time") else None,
        )
        for p in answer.pollers
    )
    backlog = answer.stats.approximate_backlog_count if answer.HasField("stats") else None
    return QueuePollers(queue, kind, provider, pollers, backlog)


async def task_queue_pollers(client: Client, settings: Settings) -> list[QueuePollers]:
    """Every studio task queue (main, and each remote provider's) with its pollers and backlog."""
    return list(
        await asyncio.gather(
            *(
                _describe(client, settings.temporal_namespace, q, kind, p)
                for q, kind, p in studio_queues(settings, in_process=False)
            )
        )
    )


def worker_processes(queues: list[QueuePollers]) -> list[WorkerProcess]:
    """The worker processes polling any of ``queues``, newest poll first, with what each polls."""
    seen: dict[str, tuple[datetime | None, list[str]]] = {}
    for q in queues:
        for p in q.pollers:
            last, names = seen.setdefault(p.identity, (None, []))
            name = q.provider or "main"
            if name not in names:
                names.append(name)
            if p.last_seen is not None and (last is None or p.last_seen > last):
                seen[p.identity] = (p.last_seen, names)
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(
        (WorkerProcess(identity, last, tuple(names)) for identity, (last, names) in seen.items()),
        key=lambda w: (w.last_seen or oldest, w.identity),
        reverse=True,
    )


def describe_pollers(settings: Settings) -> list[QueuePollers]:
    """:func:`task_queue_pollers` as a plain blocking call, on a connection of its own (the dashboard).

    Raises:
        ConnectionFailed: Temporal is not reachable.
    """

    async def _go() -> list[QueuePollers]:
        return await task_queue_pollers(await connect(settings), settings)

    return asyncio.run(_go())

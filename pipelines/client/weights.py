"""`studio weight CLIENT N` (and the Queue page): change a client's share of the providers while batches run.

A batch's tasks carry its client's weight from when they were scheduled (``STUDIO_CLIENT_WEIGHTS``
at launch). Temporal's task-queue configuration can override the weight of a fairness key on a
queue, for tasks already waiting as well as new ones, and keeps it on the server: that is what
re-weighting sets, on every studio queue (the main one and each provider's), so a change takes
hold at the next dispatch without restarting anything.
"""

from __future__ import annotations

import asyncio

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, UpdateTaskQueueConfigRequest
from temporalio.client import Client

from pipelines.client.pollers import KINDS, studio_queues
from studio.errors import StudioError
from studio.priority import check_weight, fairness_key
from studio.settings import Settings

__all__ = ["WeightRefused", "client_weights", "set_client_weight"]


class WeightRefused(StudioError):
    """A client's weight cannot be set as asked.

    Attributes:
        client: The client (fairness key).
        reason: Why, in a few words.
    """

    def __init__(self, client: str, reason: str) -> None:
        super().__init__(f"client {client!r}: {reason}")
        self.client = client
        self.reason = reason


def check_client_weight(client: str, weight: float | None) -> str:
    """The fairness key for ``client``, once ``weight`` (``None``: back to the default) is valid.

    Raises:
        WeightRefused: The name or the weight Temporal would not take (:func:`studio.priority.check_weight`).
    """
    key = fairness_key(client.strip())
    try:
        check_weight(client.strip(), 1.0 if weight is None else weight)
    except ValueError as err:
        raise WeightRefused(client, str(err)) from None
    return key


async def set_client_weight(client: Client, settings: Settings, name: str, weight: float | None) -> str:
    """Give client ``name`` weight ``weight`` on every studio queue (``None``: drop the override).

    Returns:
        One line saying what changed.

    Raises:
        WeightRefused: The name or the weight is not valid.
    """
    key = check_client_weight(name, weight)
    sets = {key: weight} if weight is not None else {}
    unsets = [key] if weight is None else []
    await asyncio.gather(
        *(
            client.workflow_service.update_task_queue_config(
                UpdateTaskQueueConfigRequest(
                    namespace=settings.temporal_namespace,
                    identity=client.identity,
                    task_queue=queue,
                    task_queue_type=KINDS[kind],
                    set_fairness_weight_overrides=sets,
                    unset_fairness_weight_overrides=unsets,
                )
            )
            for queue, kind, _ in studio_queues(settings)
        )
    )
    if weight is None:
        return f"client {key!r} is back to its launch weight (STUDIO_CLIENT_WEIGHTS, else 1)"
    return f"client {key!r} now has weight {weight:g} on every provider queue (waiting renders included)"


async def client_weights(client: Client, settings: Settings) -> dict[str, float]:
    """The weights set by re-weighting, as the main provider queues have them (client -> weight)."""
    answer = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=settings.temporal_namespace,
            task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
            report_config=True,
        )
    )
    return dict(answer.config.fairness_weight_overrides) if answer.HasField("config") else {}

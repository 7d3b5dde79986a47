"""`studio weight CLIENT N` (and the Queue page): change a client's share of the providers while batches run.

A batch's tasks carry its client's weight from when they were scheduled (``STUDIO_CLIENT_WEIGHTS``
at launch). Temporal's task-queue configuration can override the weight of a fairness key on a
queue, for tasks already waiting as well as new ones, and keeps it on the server: that is what
re-weighting sets, on every studio queue (the main one and each provider's), so a change takes
hold at the next dispatch without restarting anything.
"""

from __future__ import annotations

import asyncio
import math

from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest, UpdateTaskQueueConfigRequest
from temporalio.client import Client

from pipelines.messages import provider_queue
from providers import table
from studio.errors import StudioError
from studio.priority import FAIRNESS_KEY_MAX_BYTES, MAX_WEIGHT, fairness_key
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


def _queues(settings: Settings) -> list[tuple[str, TaskQueueType.ValueType]]:
    """Every queue a batch's tasks wait on: the main one (workflows and stages) and each provider's."""
    main = settings.task_queue
    activity = TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY
    return [(main, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW), (main, activity)] + [
        (provider_queue(main, spec.name), activity) for spec in table.PROVIDERS
    ]


def check_weight(client: str, weight: float | None) -> str:
    """The fairness key for ``client``, once ``weight`` (``None``: back to the default) is valid.

    Raises:
        WeightRefused: An empty or too long name, or a weight outside 0 < w <= 1000.
    """
    key = fairness_key(client.strip())
    if not key:
        raise WeightRefused(client, "a client needs a name")
    if len(client.strip().encode("utf-8")) > FAIRNESS_KEY_MAX_BYTES:
        raise WeightRefused(client, f"a client name is at most {FAIRNESS_KEY_MAX_BYTES} bytes")
    if weight is not None and not (math.isfinite(weight) and 0 < weight <= MAX_WEIGHT):
        raise WeightRefused(client, f"a weight must be above 0 and at most {MAX_WEIGHT:g} (got {weight:g})")
    return key


async def set_client_weight(client: Client, settings: Settings, name: str, weight: float | None) -> str:
    """Give client ``name`` weight ``weight`` on every studio queue (``None``: drop the override).

    Returns:
        One line saying what changed.

    Raises:
        WeightRefused: The name or the weight is not valid.
    """
    key = check_weight(name, weight)
    sets = {key: weight} if weight is not None else {}
    unsets = [key] if weight is None else []
    await asyncio.gather(
        *(
            client.workflow_service.update_task_queue_config(
                UpdateTaskQueueConfigRequest(
                    namespace=settings.temporal_namespace,
                    identity=client.identity,
                    task_queue=queue,
                    task_queue_type=kind,
                    set_fairness_weight_overrides=sets,
                    unset_fairness_weight_overrides=unsets,
                )
            )
            for queue, kind in _queues(settings)
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

"""Asking a running batch's workflow to change (its priority, a pause), with one reading of its refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from pipelines.workflows.batch import BatchWorkflow
from studio.errors import BatchRefused


async def update_batch(
    client: Client,
    batch_id: str,
    update: Callable[[WorkflowHandle[Any, Any]], Awaitable[str]],
    *,
    refused: type[BatchRefused],
    gone: str,
) -> str:
    """Run ``update`` on the batch's workflow; returns its answer.

    Args:
        update: The update call, given the workflow's handle.
        refused: The error to raise when the workflow refuses, or is not running.
        gone: The reason given when the workflow is not running.

    Raises:
        BatchRefused: As ``refused``: the workflow's validator refused (its reason), or it is not running.
    """
    handle = client.get_workflow_handle_for(BatchWorkflow.run, batch_id)
    try:
        return await update(handle)
    except WorkflowUpdateFailedError as err:
        raise refused(batch_id, getattr(err.cause, "message", None) or str(err.cause)) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        raise refused(batch_id, gone) from None

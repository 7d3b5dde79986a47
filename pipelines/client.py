"""What the CLI and the dashboard ask of Temporal: start a batch, answer a gate, wait."""

from __future__ import annotations

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from pipelines.batch_workflow import BatchWorkflow
from pipelines.messages import BatchInput, Decision, GateState
from pipelines.shot_workflow import ShotWorkflow
from studio.errors import StudioError
from studio.settings import Settings


class GateRefused(StudioError):
    """An approval gate refused a decision; the message says why.

    Attributes:
        shot_key: The shot whose gate refused.
        reason: The gate's reason.
    """

    def __init__(self, shot_key: str, reason: str) -> None:
        super().__init__(f"refused: {reason}")
        self.shot_key = shot_key
        self.reason = reason


async def start_batch(client: Client, settings: Settings, batch_id: str, *, history_limit: int | None = None) -> str:
    """Start the batch workflow (id = batch id); returns its run id.

    Args:
        history_limit: Events after which the batch continues as new (tests lower it).
    """
    inp = BatchInput(batch_id, shots_in_flight=settings.shots_in_flight, task_queue=settings.task_queue)
    if history_limit is not None:
        inp.history_limit = history_limit
    handle = await client.start_workflow(
        BatchWorkflow.run,
        inp,
        id=batch_id,
        task_queue=settings.task_queue,
    )
    return handle.result_run_id or ""


async def wait_batch(client: Client, batch_id: str) -> dict[str, int]:
    """Wait for a batch to finish; returns its outcome counts."""
    return await client.get_workflow_handle(batch_id).result()


async def decide(client: Client, batch_id: str, shot_id: str, decision: Decision) -> str:
    """Answer a shot's approval gate through its Update.

    Raises:
        GateRefused: The gate refused (unknown take, already decided, not waiting, no such shot).
    """
    shot_key = f"{batch_id}/{shot_id}"
    handle = client.get_workflow_handle_for(ShotWorkflow.run, shot_key)
    try:
        return await handle.execute_update(ShotWorkflow.decide, decision)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        raise GateRefused(shot_key, getattr(cause, "message", None) or str(cause)) from None
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        try:
            finished = await handle.describe()
        except RPCError:
            raise GateRefused(shot_key, f"no shot {shot_key} in this batch") from None
        # The shot's workflow exists but has ended: its gate was answered (or it never had one).
        state = finished.status.name.lower() if finished.status else "finished"
        raise GateRefused(shot_key, f"{shot_key} is already decided (its workflow has {state})") from None


async def gate_state(client: Client, batch_id: str, shot_id: str) -> GateState:
    """The state of a shot's gate (open or not, its takes)."""
    handle = client.get_workflow_handle_for(ShotWorkflow.run, f"{batch_id}/{shot_id}")
    return await handle.query(ShotWorkflow.gate)

"""What the CLI and the dashboard ask of Temporal: start a batch, answer a gate, wait, cancel."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import cast

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowUpdateFailedError,
)
from temporalio.common import Priority
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from pipelines.client.batch_updates import update_batch
from pipelines.messages import BatchInput, BudgetAnswer, Decision, GateState, PriorityChange
from pipelines.search_attributes import batch_labels, is_unregistered_search_attribute, register_command
from pipelines.workflows.batch import WORKFLOW_TASK_TIMEOUT, BatchWorkflow
from pipelines.workflows.shot import ShotWorkflow
from studio import ids
from studio.batches.close import ENDED_BATCH_STATES
from studio.batches.reprioritize import PriorityRefused, check_priority_change, record_priority
from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.priority import fairness_key, priority_key
from studio.settings import Settings
from studio.states import ENDED_SHOT_STAGES, BatchState

log = logging.getLogger(__name__)

# temporalio's @workflow.update(name=...) types an async handler's result as its coroutine, so
# execute_update would refuse these; the casts say what the client actually gets back.
_DECIDE = cast("UpdateMethodMultiParam[[ShotWorkflow, Decision], str]", ShotWorkflow.decide)
_ANSWER_BUDGET = cast("UpdateMethodMultiParam[[ShotWorkflow, BudgetAnswer], str]", ShotWorkflow.budget)
_SET_PRIORITY = cast("UpdateMethodMultiParam[[BatchWorkflow, PriorityChange], str]", BatchWorkflow.set_priority)


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


async def start_batch(
    client: Client,
    settings: Settings,
    batch_id: str,
    *,
    history_limit: int | None = None,
    client_name: str | None = None,
) -> str:
    """Start the batch workflow (id = batch id); returns its run id.

    The workflow starts with the batch's priority (:func:`batch_priority`), which its shots and
    renders inherit, and carries search attributes and a memo naming its project, kind and batch (and
    ``client_name`` when given), which it hands on to its shots: see
    :mod:`pipelines.search_attributes`. On a namespace where the attributes are not registered
    the batch starts without them (the memo needs no registration) and one warning line names
    the command that registers them: they serve operators' filters, and the batch's row is
    already in the catalog, so refusing would strand it.

    Args:
        history_limit: Events after which the batch continues as new (tests lower it).
        client_name: Who the batch is for, filterable as ``StudioClient``; unset when unknown.

    Raises:
        NotFound: No such batch in the catalog.
    """
    catalog = Catalog.open(settings.catalog_url)
    labels = await asyncio.to_thread(batch_labels, catalog, batch_id, client_name)
    priority = batch_priority(settings, await asyncio.to_thread(catalog.batch, batch_id))
    start = partial(
        client.start_workflow,
        BatchWorkflow.run,
        _batch_input(settings, batch_id, history_limit),
        id=batch_id,
        task_queue=settings.task_queue,
        # A dead worker's batch task moves to a live worker after this (default 10 s).
        task_timeout=WORKFLOW_TASK_TIMEOUT,
        memo=labels.memo(),
        priority=priority,
    )
    try:
        handle = await start(search_attributes=labels.search_attributes())
    except RPCError as err:
        if not is_unregistered_search_attribute(err):
            raise
        # The refused start created nothing, so starting again under the same id is safe.
        log.warning(
            "batch %s started without search attributes (%s): register them once with `%s`",
            batch_id,
            err.message,
            register_command(settings.temporal_namespace),
        )
        handle = await start()
    return handle.result_run_id or ""


def _batch_input(settings: Settings, batch_id: str, history_limit: int | None) -> BatchInput:
    """The batch workflow's input: its limits and windows, from settings."""
    inp = BatchInput(
        batch_id,
        shots_in_flight=settings.shots_in_flight,
        task_queue=settings.task_queue,
        outage_window=settings.outage_window,
        provider_window=settings.provider_wait_window,
        provider_notice_after=settings.provider_wait_notice,
        provider_retry_cap=settings.provider_retry_max,
    )
    if history_limit is not None:
        inp.history_limit = history_limit
    return inp


def batch_priority(settings: Settings, batch: Batch) -> Priority:
    """What Temporal orders a batch's tasks by: its priority's key, its client and the client's weight.

    Tasks of one task queue dispatch lowest priority key first; within one key, each client's
    tasks get a share of dispatches in proportion to its weight (when the server has fairness on).
    """
    key = fairness_key(batch.client)
    return Priority(
        priority_key=priority_key(batch.priority),
        fairness_key=key or None,  # a row from before clients: no key, so the server's default
        fairness_weight=settings.client_weight(key) if key else None,
    )


async def change_priority(client: Client, catalog: Catalog, batch_id: str, priority: str) -> str:
    """`studio priority`: the batch's shots not yet started queue with ``priority``; returns what changed.

    The batch workflow takes it first (an update), then the catalog records it, so a failure in
    between leaves nothing claimed that did not happen, and running it again is safe.

    Raises:
        NotFound: No such batch.
        PriorityRefused: An unknown priority, or the batch has ended.
    """
    batch = await asyncio.to_thread(check_priority_change, catalog, batch_id, priority)
    change = PriorityChange(priority, priority_key(priority))
    said = await update_batch(
        client,
        batch_id,
        lambda handle: handle.execute_update(_SET_PRIORITY, change),
        refused=PriorityRefused,
        gone="its workflow is not running: no shot is left to start",
    )
    await asyncio.to_thread(record_priority, catalog, batch_id, priority)
    return f"batch {batch_id}: {batch.priority} -> {priority}; {said}"


async def wait_batch(client: Client, batch_id: str) -> dict[str, int]:
    """Wait for a batch to finish; returns its outcome counts."""
    counts: dict[str, int] = await client.get_workflow_handle(batch_id).result()
    return counts


async def decide(client: Client, batch_id: str, shot_id: str, decision: Decision) -> str:
    """Answer a shot's approval gate through its Update.

    Raises:
        GateRefused: The gate refused (unknown take, already decided, not waiting, no such shot).
    """
    shot_key = ids.shot_key(batch_id, shot_id)
    handle = client.get_workflow_handle_for(ShotWorkflow.run, shot_key)
    try:
        return await handle.execute_update(_DECIDE, decision)
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
    handle = client.get_workflow_handle_for(ShotWorkflow.run, ids.shot_key(batch_id, shot_id))
    return await handle.query(ShotWorkflow.gate)


async def answer_budget(client: Client, batch_id: str, shot_ids: list[str], *, go: bool, who: str) -> list[str]:
    """Wake the shots waiting at a batch's budget gate: go on (budget raised) or stop.

    The budget itself is written to the catalog first (:mod:`studio.spending.budget`); a shot that no
    longer waits (it was answered meanwhile) is skipped. Returns one line per shot answered.
    """
    lines = []
    for shot_id in shot_ids:
        handle = client.get_workflow_handle_for(ShotWorkflow.run, ids.shot_key(batch_id, shot_id))
        try:
            lines.append(await handle.execute_update(_ANSWER_BUDGET, BudgetAnswer(go, who)))
        except WorkflowUpdateFailedError as err:
            lines.append(f"{ids.shot_key(batch_id, shot_id)}: {getattr(err.cause, 'message', None) or err.cause}")
    return lines


class BatchAlreadyEnded(StudioError):
    """A batch asked to be cancelled had already ended, with nothing left running.

    Attributes:
        batch_id: The batch.
        state: The state it ended in (``published`` or ``failed``).
    """

    def __init__(self, batch_id: str, state: str) -> None:
        super().__init__(
            f"batch {batch_id} already ended ({state}): nothing to cancel "
            f"(`studio unpublish {batch_id}` takes its files down)"
        )
        self.batch_id = batch_id
        self.state = state


@dataclass(frozen=True)
class BatchCancellation:
    """What :func:`cancel_batch` did.

    Attributes:
        batch_id: The batch.
        batch_workflow_cancelled: Its BatchWorkflow was running and was cancelled.
        shots_cancelled: Shot ids whose ShotWorkflow was running and was cancelled.
        shots_marked: Shot ids now ``cancelled`` in the catalog: shots never started, and shots
            whose workflow ended cancelled (a shot that completed first keeps its outcome).
        still_running: Workflow ids that had not closed when the wait ran out; they were asked
            to cancel and will, but something they do may still land in the catalog.
    """

    batch_id: str
    batch_workflow_cancelled: bool
    shots_cancelled: list[str] = field(default_factory=list)
    shots_marked: list[str] = field(default_factory=list)
    still_running: list[str] = field(default_factory=list)


async def cancel_batch(
    client: Client, catalog: Catalog, batch_id: str, *, wait_seconds: float = 30.0
) -> BatchCancellation:
    """Cancel a batch's workflow and its shots' workflows, and record the batch ``cancelled``.

    The batch goes first, so it starts no more shots; then every shot not yet ended (shot
    workflows are abandoned by their parent, so cancelling the batch does not reach them).
    Each cancelled workflow is awaited (up to ``wait_seconds``) before the catalog is written,
    so its last writes cannot overwrite ``cancelled``: a cancelled workflow writes nothing on
    its way out, which is also why the shots' stages are set here. Published files are left
    alone (:func:`studio.batches.publish.unpublish_batch` takes them down). Running it again is safe.

    Raises:
        NotFound: No such batch.
        BatchAlreadyEnded: The batch had ended (published or failed) and nothing was running.
    """
    catalog.batch(batch_id)
    batch_cancelled = await _request_cancel(client, batch_id)
    still_running = []
    if batch_cancelled and not await _wait_closed(client, batch_id, wait_seconds):
        still_running.append(batch_id)
    # Read after the batch has closed: it writes the shot rows (storyboard) before starting any.
    open_shots = [
        shot for shot in await asyncio.to_thread(catalog.shots, batch_id) if shot.stage not in ENDED_SHOT_STAGES
    ]
    state = (await asyncio.to_thread(catalog.batch, batch_id)).state
    if not batch_cancelled and not open_shots and state in ENDED_BATCH_STATES:
        raise BatchAlreadyEnded(batch_id, state)
    keys = [shot.key for shot in open_shots]
    requested = await asyncio.gather(*(_request_cancel(client, key) for key in keys))
    cancelled = [key for key, ok in zip(keys, requested, strict=True) if ok]
    ends = await asyncio.gather(*(_wait_closed(client, key, wait_seconds) for key in cancelled))
    still_running += [key for key, end in zip(cancelled, ends, strict=True) if end is None]
    # A shot workflow that ended cancelled did not finish, whatever its row says: a local activity
    # of a workflow task that then failed (the cancel request arriving mid-task) may have written
    # "published" and been run again, cancelled, on retry. One that completed wrote its own outcome.
    stopped = [
        key for key, end in zip(cancelled, ends, strict=True) if end not in (None, WorkflowExecutionStatus.COMPLETED)
    ]
    marked = await asyncio.to_thread(catalog.cancel_shots, stopped, unless=())
    idle = [key for key in keys if key not in cancelled]  # never started, or ended before the cancel
    marked += await asyncio.to_thread(catalog.cancel_shots, idle)
    await asyncio.to_thread(catalog.set_batch_state, batch_id, BatchState.CANCELLED)
    return BatchCancellation(
        batch_id=batch_id,
        batch_workflow_cancelled=batch_cancelled,
        shots_cancelled=[ids.shot_id_in(key) for key in cancelled],
        shots_marked=[ids.shot_id_in(key) for key in marked],
        still_running=still_running,
    )


async def _request_cancel(client: Client, workflow_id: str) -> bool:
    """Ask a workflow to cancel; False when it is not running (never started, or already closed)."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        # The server accepts a cancel request for a closed workflow too (a no-op), so ask first.
        if (await handle.describe()).status != WorkflowExecutionStatus.RUNNING:
            return False
        await handle.cancel()
    except RPCError as err:
        if err.status != RPCStatusCode.NOT_FOUND:
            raise
        return False
    return True


async def _wait_closed(client: Client, workflow_id: str, seconds: float) -> WorkflowExecutionStatus | None:
    """Wait for a workflow (and any run it continued as) to close; how it ended, or None if not by then."""
    handle = client.get_workflow_handle(workflow_id)
    try:
        await asyncio.wait_for(handle.result(), seconds)
    except WorkflowFailureError:
        pass  # cancelled, as asked (or failed on its way out): closed either way
    except TimeoutError:
        return None
    return (await handle.describe()).status


async def running_workflows(settings: Settings, workflow_ids: list[str]) -> set[str]:
    """Which of ``workflow_ids`` Temporal has running now (closed or unknown ones are left out)."""
    from pipelines.runtime.connection import connect

    client = await connect(settings)
    running = set()
    for workflow_id in workflow_ids:
        try:
            if (await client.get_workflow_handle(workflow_id).describe()).status == WorkflowExecutionStatus.RUNNING:
                running.add(workflow_id)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
    return running

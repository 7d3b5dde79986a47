"""BatchWorkflow: the storyboard stage, then one ShotWorkflow per shot in a sliding window.

A shot that reaches an approval gate tells the batch by signal (``shot_update``), so shots
waiting for a human do not hold a rendering slot. The batch counts a shot done when its child
completes or, for gated shots, when it signals "done" (children are abandoned on close, so a
gated shot can outlive the batch run that started it: continue-as-new drains only the shots
still rendering and carries the gated ones over).
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import Priority
from temporalio.exceptions import (
    ChildWorkflowError,
    FailureError,
    WorkflowAlreadyStartedError,
    is_cancelled_exception,
)
from temporalio.workflow import ParentClosePolicy

from pipelines.workflows.batch_watches import BatchWatches
from pipelines.workflows.stage_runs import (
    STAGE_FAILED,
    Activity,
    Arg,
    Result,
    run_long_stage,
    run_stage,
)

with workflow.unsafe.imports_passed_through():
    from pipelines.activities.interface import Activities
    from pipelines.messages import (
        BatchInput,
        BatchPlan,
        BatchRequest,
        PriorityChange,
        ShotInput,
        ShotStageInput,
        ShotStagesInput,
        ShotUpdate,
    )
    from pipelines.workflows.shot import ShotWorkflow
    from studio.ids import shot_key
    from studio.states import ShotOutcome, ShotPhase, ShotStage

WORKFLOW_TASK_TIMEOUT = timedelta(seconds=4)
FINAL_STAGES = tuple(ShotOutcome)  # the stages a shot's own workflow ends in: each is also its outcome
# Patches: batches recorded before them ended a shot that failed abnormally without writing it
# down, and closed on their own count.
RECORD_ABNORMAL = "record-abnormal-shot-ends"
CLOSE_FROM_CATALOG = "close-batch-from-catalog"
# Batches recorded before it left a shot whose child workflow could not start (for any reason
# but an id already running) active for ever, and so never ended.
RECORD_FAILED_STARTS = "record-failed-shot-starts"
# Batches recorded before it started every shot with the batch's own priority (inherited).
PRIORITY_CHANGE = "priority-change"
# Batches recorded before it closed in a local activity limited to 5 minutes a try, which the
# contact sheets of 10,000 upscaled files can outlast on every try.
CLOSE_WITH_HEARTBEATS = "close-batch-with-heartbeats"
CLOSE_TRY = timedelta(hours=2)  # one try at the manifest and contact sheets, while its worker heartbeats


@workflow.defn(name="BatchWorkflow")
class BatchWorkflow(BatchWatches):
    """Runs every shot of a batch, keeping at most ``shots_in_flight`` rendering at once."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.gated: set[str] = set()
        self.outcomes: dict[str, int] = {}
        self.starting = 0
        self.provider_waiting: set[str] = set()  # shots whose takes wait for a provider to come back
        self.outage_window = 6 * 3600.0
        self.queue = "studio"
        self.digest_at: datetime | None = None  # the next digest's time while gates are open
        self.digest_after = 0  # the last approval id a digest listed
        self.priority_key: int | None = None  # `studio priority`'s key; None: shots inherit the batch's
        self.paused = False  # `studio pause`: no shot starts (and the catalog holds every render)
        # The batch's own tasks (shot starts, the provider watch): kept so none is collected
        # while it runs, and dropped once done.
        self.tasks: set[asyncio.Task[None]] = set()

    async def _run(self, activity: Activity[Arg, Result], arg: Arg) -> Result:
        """Run a cheap stage, waiting through outages of the catalog, the asset store or the disk."""
        return await run_stage(
            activity,
            arg,
            task_queue=self.queue,
            window=self.outage_window,
            timeout=timedelta(minutes=5),
            local_window=timedelta(minutes=5),
        )

    @workflow.run
    async def run(self, inp: BatchInput) -> dict[str, int]:
        """Run the batch; returns how many shots ended in each outcome."""
        self.active, self.gated, self.outcomes = set(inp.active), set(inp.gated), dict(inp.outcomes)
        self.outage_window, self.queue, self.priority_key = inp.outage_window, inp.task_queue, inp.priority_key
        self.paused = inp.paused
        plan = await self._run(Activities.storyboard, BatchRequest(inp.batch_id))
        self._start_watches(inp)
        total, cursor = len(plan.shot_ids), inp.cursor
        if self.active or self.gated:
            await self._reconcile(inp.batch_id)

        def room() -> bool:
            return not self.paused and cursor < total and len(self.active) < inp.shots_in_flight

        while True:
            while room():
                shot_id = plan.shot_ids[cursor]
                self.active.add(shot_id)  # before starting, so an early "done" signal finds it
                self.starting += 1
                self._spawn(self._start(inp, plan, cursor))
                cursor += 1
            if self.done() >= total:
                break
            if self._history_full(inp.history_limit):
                await self._continue_as_new(inp, cursor)
            await workflow.wait_condition(
                lambda: room() or self.done() >= total or self._history_full(inp.history_limit)
            )

        await workflow.wait_condition(workflow.all_handlers_finished)
        if not workflow.patched(CLOSE_FROM_CATALOG):
            await self._run(Activities.finish_batch, BatchRequest(inp.batch_id))
            return self.outcomes
        # The catalog has the last word: a batch says "published" only when every shot is in a
        # final state there, and its outcome counts are the catalog's.
        if workflow.patched(CLOSE_WITH_HEARTBEATS):
            tally = await run_long_stage(
                Activities.close_batch,
                BatchRequest(inp.batch_id),
                task_queue=self.queue,
                window=self.outage_window,
                try_for=CLOSE_TRY,
            )
        else:
            tally = await self._run(Activities.close_batch, BatchRequest(inp.batch_id))
        if tally.outcomes != self.outcomes:
            workflow.logger.warning(
                "batch %s: counted %s, the catalog says %s (the catalog's count is kept)",
                inp.batch_id,
                self.outcomes,
                tally.outcomes,
            )
        return tally.outcomes

    async def _reconcile(self, batch_id: str) -> None:
        """Square the shots carried over with the catalog.

        A signal that reaches the previous run while it continues as new can be left out of the
        state it carried (the server replays the task with the new signals, and the run may reach
        continue-as-new before every handler of that task has run). A shot writes its stage to
        the catalog before it signals, so the catalog settles what the signal would have said.
        """
        carried = sorted(self.active | self.gated)
        stages = await self._run(Activities.shot_stages, ShotStagesInput(batch_id, carried))
        for shot_id in carried:
            stage = stages.get(shot_id)
            if stage in FINAL_STAGES:
                self._done(shot_id, stage)
            elif stage == ShotStage.AWAITING_APPROVAL and shot_id in self.active:
                self.active.discard(shot_id)
                self.gated.add(shot_id)

    async def _continue_as_new(self, inp: BatchInput, cursor: int) -> None:
        """Carry the batch over to a new run once its history is long.

        Drains the shots still rendering first (their completion reaches only this run); shots
        waiting at a gate carry over and report to the next run by signal.
        """
        await workflow.wait_condition(
            lambda: self.starting == 0 and not self.active and workflow.all_handlers_finished()
        )
        workflow.continue_as_new(
            dataclasses.replace(
                inp,
                cursor=cursor,
                active=sorted(self.active),
                gated=sorted(self.gated),
                outcomes=self.outcomes,
                runs=inp.runs + 1,
                digest_at=self.digest_at,
                digest_after=self.digest_after,
                priority_key=self.priority_key,
                paused=self.paused,
            )
        )

    def done(self) -> int:
        """Shots that reached an outcome."""
        return sum(self.outcomes.values())

    def _history_full(self, limit: int) -> bool:
        # The default limit (BatchInput) sits well below the server's 10,240-event warning.
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() > limit

    async def _start(self, inp: BatchInput, plan: BatchPlan, index: int) -> None:
        shot_id = plan.shot_ids[index]
        try:
            handle = await self._start_child(inp, plan, index)
        except WorkflowAlreadyStartedError:
            # Started by an earlier run of this batch; it reports to us by signal all the same.
            workflow.logger.info("shot %s already running", shot_id)
            return
        except Exception as err:
            if is_cancelled_exception(err) or isinstance(err, workflow.NondeterminismError):
                raise
            # Batches before the patch let this escape their start task: the shot stayed
            # active and the batch waited for it forever.
            if not workflow.patched(RECORD_FAILED_STARTS):
                raise
            workflow.logger.warning("shot %s could not start: %s", shot_id, err)
            try:
                await self._record_failed(inp.batch_id, shot_id, f"its workflow could not start: {err}")
            finally:
                self._done(shot_id, ShotOutcome.FAILED)
            return
        finally:
            self.starting -= 1
        outcome: str = ShotOutcome.FAILED
        try:
            outcome = await handle
        except ChildWorkflowError as err:
            workflow.logger.warning("shot %s ended abnormally: %s", shot_id, err)
            if workflow.patched(RECORD_ABNORMAL):
                # The shot could not write its end itself: write it, so the catalog never shows a
                # shot "pending" that nothing will render (rerun --only failed picks it up).
                await self._record_failed(inp.batch_id, shot_id, f"its workflow ended abnormally: {err.cause or err}")
        finally:
            self._done(shot_id, outcome)

    async def _start_child(
        self, inp: BatchInput, plan: BatchPlan, index: int
    ) -> workflow.ChildWorkflowHandle[ShotWorkflow, str]:
        shot_id = plan.shot_ids[index]
        return await workflow.start_child_workflow(
            ShotWorkflow.run,
            ShotInput(
                inp.batch_id,
                shot_id,
                approval_required=plan.approval_required,
                deadline_seconds=plan.deadline_seconds,
                on_expiry=plan.on_expiry,
                task_queue=inp.task_queue,
                plan=plan.shot_plan(inp.batch_id, index),
                outage_window=inp.outage_window,
                provider_window=inp.provider_window,
                provider_retry_cap=inp.provider_retry_cap,
            ),
            id=shot_key(inp.batch_id, shot_id),
            task_queue=inp.task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
            # A dead worker's in-flight shot moves to a live worker after this (default 10 s).
            task_timeout=WORKFLOW_TASK_TIMEOUT,
            # The batch's own labels (pipelines.search_attributes), so operators find a batch and
            # its shots with one query. A batch started without them passes none: its commands,
            # and so saved histories, stay as they were.
            memo=workflow.memo() or None,
            search_attributes=workflow.info().typed_search_attributes or None,
            priority=self._shot_priority(),
        )

    def _shot_priority(self) -> Priority:
        """A shot inherits the batch's priority; after a change only the key is given (fairness is inherited)."""
        if self.priority_key is None or not workflow.patched(PRIORITY_CHANGE):
            return Priority.default
        return Priority(priority_key=self.priority_key)

    async def _record_failed(self, batch_id: str, shot_id: str, why: str) -> None:
        """Write down that a shot failed for a reason its own workflow could not record."""
        ended = ShotStageInput(shot_key(batch_id, shot_id), ShotStage.FAILED, error=why[:500])
        try:
            await self._run(Activities.set_shot_stage, ended)
        except STAGE_FAILED as failed:
            # Even so the batch must end: closing it records every shot left in flight.
            workflow.logger.warning("could not record the end of shot %s: %s", shot_id, failed)

    def _done(self, shot_id: str, outcome: str | None) -> None:
        # A gated shot is seen twice (its signal and its completion): count it once.
        self.provider_waiting.discard(shot_id)
        if shot_id in self.active or shot_id in self.gated:
            self.active.discard(shot_id)
            self.gated.discard(shot_id)
            key = str(outcome or ShotOutcome.FAILED)  # a plain str: the counts are logged and returned
            self.outcomes[key] = self.outcomes.get(key, 0) + 1

    @workflow.signal(name="shot_update")
    def shot_update(self, update: ShotUpdate) -> None:
        """A shot reports that it reached a gate, left one, or finished."""
        sid = update.shot_id
        if update.phase == ShotPhase.GATED:
            self.active.discard(sid)
            self.gated.add(sid)
        elif update.phase == ShotPhase.RESUMED:
            self.gated.discard(sid)
            self.active.add(sid)
        elif update.phase == ShotPhase.DONE:
            self._done(sid, update.outcome)
        elif update.phase == ShotPhase.PROVIDER_WAIT:
            self.provider_waiting.add(sid)
        elif update.phase == ShotPhase.PROVIDER_BACK:
            self.provider_waiting.discard(sid)

    @workflow.update(name="set_priority")
    def set_priority(self, change: PriorityChange) -> str:
        """`studio priority`: shots not yet started, and all their renders, queue with ``change``'s key.

        Shots already started keep theirs: a started workflow's priority is its own.
        """
        self.priority_key = change.priority_key
        return f"shots not yet started will queue as {change.priority}"

    @set_priority.validator
    def _check_priority(self, change: PriorityChange) -> None:
        # Refused before it is written to history: a bad key would fail every later shot start.
        if not 1 <= change.priority_key <= 5:
            raise ValueError(f"priority key {change.priority_key} is outside 1..5")

    @workflow.update(name="pause")
    def pause(self) -> str:
        """`studio pause`: start no shot until resumed (the catalog, set first, holds every render)."""
        self.paused = True
        return "no new render starts; calls in flight finish and gates stay open"

    @workflow.update(name="resume")
    async def resume(self) -> str:
        """`studio resume`: start shots again, and wake every shot whose takes the pause held.

        Every running shot is told, paused or not, so running it again after a failure in
        between (the catalog cleared, the update lost) wakes what the first try missed.
        """
        self.paused = False
        shots = sorted(self.active | self.gated)
        await asyncio.gather(*(self._wake(shot_id) for shot_id in shots))
        return f"shots start again; {len(shots)} running shot(s) told"

    async def _wake(self, shot_id: str) -> None:
        handle = workflow.get_external_workflow_handle(shot_key(workflow.info().workflow_id, shot_id))
        try:
            await handle.signal("batch_resumed")
        except FailureError as err:
            # Not started yet (it will read the cleared catalog) or ended since: nothing to wake.
            workflow.logger.info("shot %s not woken: %s", shot_id, err)

    @workflow.query(name="progress")
    def progress(self) -> dict[str, int]:
        """Live counts: shots rendering, waiting at a gate, and each outcome."""
        return {"active": len(self.active), "gated": len(self.gated), **self.outcomes}

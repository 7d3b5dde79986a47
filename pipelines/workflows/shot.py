"""ShotWorkflow: one shot through render → upscale → review → (approval gate) → publish.

Orchestration only: every side effect is an activity. Cheap local stages run as local
activities (no server round trip); a render is one regular activity per provider attempt on
that provider's task queue, so history shows every failover and provider limits hold.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

from pipelines.workflows.render_chain import RENDER_RETRY, RenderChain
from pipelines.workflows.stage_runs import (
    STAGE_FAILED,
    Activity,
    Arg,
    Result,
    failure_text,
    raise_if_cancelled,
    run_stage,
)

with workflow.unsafe.imports_passed_through():
    from pipelines.activities.interface import Activities
    from pipelines.messages import (
        BudgetAnswer,
        BudgetHold,
        Decision,
        DecisionRecord,
        GateReminder,
        GateState,
        PublishInput,
        ReworkInput,
        ShotInput,
        ShotPlan,
        ShotRequest,
        ShotStageInput,
        ShotUpdate,
        StageInput,
        TakeOutcome,
        provider_queue,
    )
    from studio import ids
    from studio.rendering.selection import Candidate, choose_best
    from studio.states import GateAction, ShotOutcome, ShotPhase, ShotStage

NOTIFY_TIMEOUT = timedelta(seconds=30)
NOTIFY_RETRY = RetryPolicy(maximum_attempts=3)
# Patches: shots recorded before them waited for a deadline on one timer without reminding
# anyone, and told nobody of a decision.
GATE_REMINDER = "gate-deadline-reminder"
DECISION_NOTICE = "gate-decided-notice"
REMIND_BEFORE = timedelta(hours=24)  # a deadline longer than this reminds the client this long before it


@workflow.defn(name="ShotWorkflow")
class ShotWorkflow(RenderChain):
    """Carries one shot of a batch from prompt to published file."""

    def __init__(self) -> None:
        self.stage = ShotStage.STARTING
        self.gate_open = False
        self.decision: Decision | None = None
        self.record: DecisionRecord | None = None  # the decision as written down, for the creator's notice
        self.reviewed: dict[int, TakeOutcome] = {}
        self.shot_key = ""
        self.round = 1
        # The budget gate: takes that hit the batch's budget wait here for one answer together.
        self.budget_open = False
        self.budget_answers = 0
        self.budget_go = True
        self.queue = "studio"
        self.shot_id = ""
        self.outage_window = 6 * 3600.0
        self.provider_window = 24 * 3600.0
        self.provider_retry_cap = 300.0
        self.waiting_takes: set[str] = set()  # takes waiting for a provider to come back
        self.prober: str | None = None  # the waiting take whose timer tries the chain again
        self.resumes = 0
        self.stage_lock = asyncio.Lock()

    async def _run(self, activity: Activity[Arg, Result], arg: Arg) -> Result:
        """Run a cheap stage, waiting through outages of the catalog, the asset store or the disk."""
        return await run_stage(activity, arg, task_queue=self.queue, window=self.outage_window)

    @workflow.run
    async def run(self, inp: ShotInput) -> str:
        """Run the shot; returns its outcome: ``published``, ``rejected`` or ``failed``."""
        self.shot_key = ids.shot_key(inp.batch_id, inp.shot_id)
        self.queue, self.outage_window, self.provider_window = inp.task_queue, inp.outage_window, inp.provider_window
        self.provider_retry_cap = inp.provider_retry_cap
        self.shot_id = inp.shot_id
        plan = inp.plan
        if plan is None:  # a shot started without its plan reads it from the catalog
            plan = await self._run(Activities.plan_shot, ShotRequest(self.shot_key))
        self.stage = ShotStage.RENDERING
        outcomes = await asyncio.gather(*(self._take(t, plan, inp.task_queue) for t in plan.take_ids))
        self.reviewed = {ids.take_number(o.take_id): o for o in outcomes if o.ok}
        if not self.reviewed:
            why = "no take could be rendered" if self.budget_go else "spending stopped at the budget"
            return await self._finish(inp, ShotOutcome.FAILED, error=why)

        if inp.approval_required:
            chosen = await self._gate(inp)
            while self.decision is not None and self.decision.action == GateAction.CHANGES:
                await self._rework(inp, plan)
                chosen = await self._gate(inp)
        else:
            best = choose_best([Candidate(n, o.score or 0.0, bool(o.passed)) for n, o in self.reviewed.items()])
            chosen = best.number if best else None
            if chosen is None:
                return await self._finish(inp, ShotOutcome.REJECTED, error="automated review rejected every take")
        if chosen is None:
            return await self._finish(inp, ShotOutcome.REJECTED)

        self.stage = ShotStage.PUBLISHING
        take_id = ids.take_id(self.shot_key, chosen)
        await self._run(Activities.publish, PublishInput(self.shot_key, take_id))
        return await self._finish(inp, ShotOutcome.PUBLISHED)

    async def _take(self, take_id: str, plan: ShotPlan, queue: str) -> TakeOutcome:
        outcome = await self._render(take_id, plan, queue)
        if outcome.ok and not outcome.reviewed:  # not finished by an in-process render
            if plan.upscale > 1:
                for upscaler in plan.upscalers or [plan.upscaler]:  # the local upscaler closes the list
                    outcome = await self._stage(Activities.upscale, StageInput(take_id, upscaler, plan.upscale), queue)
                    if outcome.ok:
                        break
            if outcome.ok:
                for reviewer in plan.reviewers:  # the local heuristics close the list: a verdict always comes
                    outcome = await self._stage(Activities.review, StageInput(take_id, reviewer), queue)
                    if outcome.ok:
                        break
        if not outcome.ok:
            await self._run(Activities.mark_take_failed, outcome)
        return outcome

    async def _budget_gate(self, provider: str) -> bool:
        """Hold this shot, at no cost, until someone raises the batch's budget (True) or stops (False).

        The shot keeps its slot in the batch: shots not yet started stay unstarted instead of
        each reaching the same gate. Every take that hits the budget waits for the same answer.
        """
        if not self.budget_go:
            return False  # already told to stop: later takes do not ask again
        answers = self.budget_answers
        opener = not self.budget_open
        if opener:
            self.budget_open = True
            held = await self._run(Activities.hold_for_budget, BudgetHold(self.shot_key, provider))
            if held != "wait":  # the budget moved between the refused call and now
                self.budget_open = False
                self.budget_go = held == "go"
                self.budget_answers += 1
                return self.budget_go
            self.stage = ShotStage.AWAITING_BUDGET
        await workflow.wait_condition(lambda: self.budget_answers > answers)
        if opener and self.budget_go:
            # Back to rendering, or to waiting for providers when takes of the shot still do.
            await self._show_stage(ShotStage.WAITING_FOR_PROVIDER if self.waiting_takes else ShotStage.RENDERING)
        return self.budget_go

    async def _stage(self, activity: Activity[StageInput, TakeOutcome], inp: StageInput, queue: str) -> TakeOutcome:
        try:
            if inp.provider == "local":
                return await self._run(activity, inp)
            return await workflow.execute_activity_method(
                activity,
                inp,
                task_queue=provider_queue(queue, inp.provider),
                start_to_close_timeout=timedelta(minutes=10),
                schedule_to_close_timeout=timedelta(seconds=self.outage_window),
                heartbeat_timeout=timedelta(seconds=10),
                retry_policy=RENDER_RETRY,
            )
        except STAGE_FAILED as err:
            raise_if_cancelled(err)
            return TakeOutcome(
                inp.take_id, ok=False, provider=inp.provider, error=f"{activity.__name__} failed: {failure_text(err)}"
            )

    async def _rework(self, inp: ShotInput, plan: ShotPlan) -> None:
        """Changes were asked for: render a new round of takes (note appended, new seeds)."""
        assert self.decision is not None
        self.round += 1
        self.stage = ShotStage.RENDERING
        await self._tell_batch(ShotUpdate(inp.shot_id, ShotPhase.RESUMED))
        request = ReworkInput(self.shot_key, self.round, self.decision.note)
        new_takes = await self._run(Activities.add_takes, request)
        self.decision = None
        outcomes = await asyncio.gather(*(self._take(t, plan, inp.task_queue) for t in new_takes))
        self.reviewed.update({ids.take_number(o.take_id): o for o in outcomes if o.ok})

    async def _gate(self, inp: ShotInput) -> int | None:
        self.stage = ShotStage.AWAITING_APPROVAL
        self.gate_open = True
        deadline = timedelta(seconds=inp.deadline_seconds) if inp.deadline_seconds else None
        due = workflow.now() + deadline if deadline else None
        opened = ShotStageInput(self.shot_key, ShotStage.AWAITING_APPROVAL, gate_due_at=due)
        await self._run(Activities.set_shot_stage, opened)
        await self._tell_batch(ShotUpdate(inp.shot_id, ShotPhase.GATED))
        # A dead webhook or mail server must not hold the gate: the dashboard still shows it.
        await self._notify(Activities.notify_gate, ShotRequest(self.shot_key), "gate notice")
        try:
            await self._await_decision(deadline, due)
        except TimeoutError:
            await self._expire(inp.on_expiry)
        self.gate_open = False
        await workflow.wait_condition(workflow.all_handlers_finished)
        assert self.decision is not None
        record, self.record = self.record, None  # taken, so a later round never sends it again
        if record is not None and workflow.patched(DECISION_NOTICE):
            # Sent here, not in the update's handler: the one who decided does not wait on it.
            await self._notify(Activities.notify_gate_decided, record, "decision notice")
        return self.decision.take if self.decision.action == GateAction.APPROVE else None

    async def _await_decision(self, deadline: timedelta | None, due: datetime | None) -> None:
        """Wait for a decision; with a long deadline, remind the client a day before it.

        Raises:
            TimeoutError: The deadline passed with no decision.
        """
        if deadline is None or due is None:
            await workflow.wait_condition(self._decided)
            return
        if deadline > REMIND_BEFORE and workflow.patched(GATE_REMINDER):
            try:
                await workflow.wait_condition(self._decided, timeout=deadline - REMIND_BEFORE)
                return
            except TimeoutError:
                await self._notify(Activities.notify_gate_reminder, GateReminder(self.shot_key, due), "reminder")
            # What is left of the deadline after the reminder's send, so the gate still expires on time.
            deadline = max(due - workflow.now(), timedelta(seconds=1))
        await workflow.wait_condition(self._decided, timeout=deadline)

    def _decided(self) -> bool:
        return self.decision is not None

    async def _notify(self, activity: Activity[Arg, Result], arg: Arg, what: str) -> None:
        """Send a notice, best effort: a failure is logged and never holds the shot."""
        try:
            await workflow.execute_local_activity_method(
                activity, arg, start_to_close_timeout=NOTIFY_TIMEOUT, retry_policy=NOTIFY_RETRY
            )
        except STAGE_FAILED as err:
            raise_if_cancelled(err)
            workflow.logger.warning("could not send the %s for %s: %s", what, self.shot_key, failure_text(err))

    async def _expire(self, on_expiry: str) -> None:
        if on_expiry == "hold":
            await workflow.wait_condition(lambda: self.decision is not None)
            return
        best = choose_best([Candidate(n, o.score or 0.0, bool(o.passed)) for n, o in self.reviewed.items()])
        if on_expiry == "approve-best" and best is not None:
            decision = Decision(
                GateAction.APPROVE, best.number, who="deadline", note="deadline passed: best-reviewed take"
            )
        else:
            decision = Decision(GateAction.REJECT, None, who="deadline", note="deadline passed")
        await self._record(decision)

    async def _record(self, decision: Decision) -> None:
        self.decision = decision
        take_id = ids.take_id(self.shot_key, decision.take) if decision.take is not None else None
        record = DecisionRecord(
            self.shot_key, decision.action, take_id, decision.who, decision.note, self.round, decision.email
        )
        await self._run(Activities.record_decision, record)
        self.record = record

    async def _finish(self, inp: ShotInput, outcome: ShotOutcome, error: str | None = None) -> str:
        self.stage = ShotStage(outcome)
        if outcome != ShotOutcome.PUBLISHED:  # publishing already recorded it
            await self._run(Activities.set_shot_stage, ShotStageInput(self.shot_key, ShotStage(outcome), error=error))
        if self.round > 1 or self.gate_open or self.decision is not None:
            # Gated shots may outlive the batch run that started them (continue-as-new), so they
            # report by signal; others are seen through their completion by the run that started them.
            await self._tell_batch(ShotUpdate(inp.shot_id, ShotPhase.DONE, outcome))
        await workflow.wait_condition(workflow.all_handlers_finished)
        return outcome

    async def _tell_batch(self, update: ShotUpdate) -> None:
        parent = workflow.info().parent
        if parent is not None:
            # By workflow id only: the batch may have continued-as-new since it started us.
            await workflow.get_external_workflow_handle(parent.workflow_id).signal("shot_update", update)

    @workflow.update(name="decide")
    async def decide(self, decision: Decision) -> str:
        """Answer the approval gate. Returns a one-line confirmation."""
        if self.decision is not None:
            raise ApplicationError("this gate is already decided", type="AlreadyDecided", non_retryable=True)
        await self._record(decision)
        if decision.action == GateAction.APPROVE:
            return f"approved take {decision.take} of {self.shot_key}"
        if decision.action == GateAction.CHANGES:
            return f"changes requested for {self.shot_key}: it will render again and come back to the gate"
        return f"rejected {self.shot_key}"

    @decide.validator
    def validate_decision(self, decision: Decision) -> None:
        """Refuse, before anything is written, a decision the gate cannot take."""
        if self.decision is not None:
            raise ValueError(f"{self.shot_key} is already decided ({self.decision.action} by {self.decision.who})")
        if not self.gate_open:
            raise ValueError(f"{self.shot_key} is not waiting for approval (stage: {self.stage})")
        if decision.action not in tuple(GateAction):
            raise ValueError(f"unknown action {decision.action!r} (use approve, reject or changes)")
        if decision.action == GateAction.APPROVE and decision.take not in self.reviewed:
            known = ", ".join(str(n) for n in sorted(self.reviewed)) or "none"
            raise ValueError(f"{self.shot_key} has no take {decision.take} to approve (takes: {known})")

    @workflow.update(name="budget")
    async def budget(self, answer: BudgetAnswer) -> str:
        """Answer the budget gate: go on (the budget was raised) or stop spending."""
        self.budget_open = False
        self.budget_go = answer.go
        self.budget_answers += 1
        return f"{self.shot_key} {'renders again' if answer.go else 'stops: its unrendered takes fail'}"

    @budget.validator
    def validate_budget(self, answer: BudgetAnswer) -> None:
        """Refuse an answer when the shot is not waiting at its budget gate."""
        if not self.budget_open:
            raise ValueError(f"{self.shot_key} is not waiting at the budget (stage: {self.stage})")

    @workflow.signal(name="batch_resumed")
    def batch_resumed(self) -> None:
        """The batch was resumed (`studio resume`): takes its pause held ask for their render again."""
        self.resumes += 1

    @workflow.query(name="gate")
    def gate(self) -> GateState:
        """The gate's state: open or not, the stage, the takes one may approve."""
        return GateState(
            open=self.gate_open,
            stage=self.stage,
            takes=sorted(self.reviewed),
            decision=self.decision.action if self.decision else None,
        )

"""The studio's activities as workflow code sees them: names, inputs and results, no bodies.

Workflows call activities by these methods (``workflow.execute_activity_method(Activities.render,
…)``), so a call's name, input and result types are checked by the type checker instead of
spelled as strings. This module is light on purpose (Temporal and the messages only): workflow
modules import it, and so does anything that imports a workflow (the client, the CLI).
:class:`pipelines.activities.stages.StudioActivities` implements it; a test checks that every
activity it registers has the name declared here. The names are those in saved histories and
running batches: never change one.
"""

from __future__ import annotations

from temporalio import activity

from pipelines.messages import (
    BatchPlan,
    BatchRequest,
    BatchTally,
    BudgetHold,
    DecisionRecord,
    DigestRequest,
    DigestResult,
    GateReminder,
    ProviderWaitNotice,
    PublishInput,
    ReworkInput,
    ShotPlan,
    ShotRequest,
    ShotStageInput,
    ShotStagesInput,
    StageInput,
    TakeOutcome,
)


def _declared_only(name: str) -> NotImplementedError:
    return NotImplementedError(f"activity {name!r} is declared here and runs in StudioActivities")


class Activities:
    """Every activity a workflow can call (implemented by StudioActivities, registered on workers)."""

    @activity.defn(name="storyboard")
    async def storyboard(self, inp: BatchRequest) -> BatchPlan:
        """Expand the batch's project into shots and planned takes (once), and plan the batch."""
        raise _declared_only("storyboard")

    @activity.defn(name="plan_shot")
    async def plan_shot(self, inp: ShotRequest) -> ShotPlan:
        """The takes and provider chain of one shot."""
        raise _declared_only("plan_shot")

    @activity.defn(name="render")
    async def render(self, inp: StageInput) -> TakeOutcome:
        """Render one take with one provider, unless an earlier run already did."""
        raise _declared_only("render")

    @activity.defn(name="upscale")
    async def upscale(self, inp: StageInput) -> TakeOutcome:
        """Upscale a rendered take and store the result as its final image."""
        raise _declared_only("upscale")

    @activity.defn(name="review")
    async def review(self, inp: StageInput) -> TakeOutcome:
        """Score a take against its shot and store the verdict."""
        raise _declared_only("review")

    @activity.defn(name="mark_take_failed")
    async def mark_take_failed(self, outcome: TakeOutcome) -> None:
        """Record that a take could not be made, and why."""
        raise _declared_only("mark_take_failed")

    @activity.defn(name="add_takes")
    async def add_takes(self, inp: ReworkInput) -> list[str]:
        """A new round of takes after changes were requested; returns their ids."""
        raise _declared_only("add_takes")

    @activity.defn(name="set_shot_stage")
    async def set_shot_stage(self, inp: ShotStageInput) -> None:
        """Record where a shot is."""
        raise _declared_only("set_shot_stage")

    @activity.defn(name="hold_for_budget")
    async def hold_for_budget(self, inp: BudgetHold) -> str:
        """Park a shot at the budget gate unless the budget moved; ``wait``, ``go`` or ``stop``."""
        raise _declared_only("hold_for_budget")

    @activity.defn(name="shot_stages")
    async def shot_stages(self, inp: ShotStagesInput) -> dict[str, str]:
        """Where the given shots of a batch are, by shot id."""
        raise _declared_only("shot_stages")

    @activity.defn(name="record_decision")
    async def record_decision(self, rec: DecisionRecord) -> None:
        """Write down a gate decision (once per gate round)."""
        raise _declared_only("record_decision")

    @activity.defn(name="notify_gate")
    async def notify_gate(self, inp: ShotRequest) -> list[str]:
        """Tell whoever settings name that a shot waits at its gate; returns who was told."""
        raise _declared_only("notify_gate")

    @activity.defn(name="publish")
    async def publish(self, inp: PublishInput) -> str:
        """Copy the chosen take to the output folder; returns the file's path."""
        raise _declared_only("publish")

    @activity.defn(name="finish_batch")
    async def finish_batch(self, inp: BatchRequest) -> str:
        """Write the manifest and close the batch (batches recorded before close_batch)."""
        raise _declared_only("finish_batch")

    @activity.defn(name="close_batch")
    async def close_batch(self, inp: BatchRequest) -> BatchTally:
        """Write the manifest, square the batch with the catalog and close it."""
        raise _declared_only("close_batch")

    @activity.defn(name="notify_provider_wait")
    async def notify_provider_wait(self, notice: ProviderWaitNotice) -> list[str]:
        """Tell whoever settings name that a batch has waited on its providers for a while."""
        raise _declared_only("notify_provider_wait")

    @activity.defn(name="notify_gate_reminder")
    async def notify_gate_reminder(self, inp: GateReminder) -> list[str]:
        """Remind the client that a gate's deadline is near; returns who was told."""
        raise _declared_only("notify_gate_reminder")

    @activity.defn(name="notify_gate_decided")
    async def notify_gate_decided(self, rec: DecisionRecord) -> list[str]:
        """Tell the creator that a gate was decided, by whom; returns who was told."""
        raise _declared_only("notify_gate_decided")

    @activity.defn(name="notify_digest")
    async def notify_digest(self, inp: DigestRequest) -> DigestResult:
        """Send the creator a batch's decisions since the last digest (nothing when there were none)."""
        raise _declared_only("notify_digest")


def declared_activities() -> list[str]:
    """The method names of every activity :class:`Activities` declares, in declaration order."""
    return [name for name, fn in vars(Activities).items() if hasattr(fn, "__temporal_activity_definition")]

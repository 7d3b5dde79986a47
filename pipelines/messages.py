"""Inputs and outputs of workflows and activities: one dataclass each, ids and keys only.

Nothing in here carries image bytes or secrets; fields can be added later with defaults
without breaking running workflows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from studio import ids
from studio.states import ShotOutcome, ShotPhase, ShotStage


def provider_queue(task_queue: str, provider: str) -> str:
    """The task queue where a remote provider's activities run."""
    return f"{task_queue}-provider-{provider}"


@dataclass
class BatchInput:
    """Start (or continue) a batch.

    The fields after ``shots_in_flight`` carry state across continue-as-new.
    """

    batch_id: str
    shots_in_flight: int = 50
    task_queue: str = "studio"
    history_limit: int = 6000
    cursor: int = 0
    active: list[str] = field(default_factory=list)
    gated: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    runs: int = 1
    outage_window: float = 6 * 3600.0  # seconds a stage waits through a catalog/asset/disk outage
    provider_window: float = 24 * 3600.0  # seconds a take waits while every provider is down
    provider_notice_after: float = 1800.0  # seconds of waiting on providers before a notice goes out
    provider_retry_cap: float = 300.0  # longest wait between two tries of a chain that is down
    digest_at: datetime | None = None  # when the next daily digest of decisions goes out (gates open)
    digest_after: int = 0  # the last approval id a digest listed: the next lists those after it
    priority_key: int | None = None  # set by `studio priority`: shots started from then on queue with it
    paused: bool = False  # set by `studio pause`: no shot starts until `studio resume`


@dataclass
class BatchPlan:
    """What the batch workflow needs from the storyboard stage.

    The fields after ``on_expiry`` give each shot its plan at start, so a shot does not spend a
    local activity reading it (see :meth:`shot_plan`); they hold one small entry per shot, with
    the provider lists once. They are empty in plans made before them, or when a shot's takes
    are not numbered 1..n: shots then read their plan from the catalog (``plan_shot``).
    """

    shot_ids: list[str]
    approval_required: bool
    deadline_seconds: int | None = None
    on_expiry: str = "hold"
    takes: list[int] = field(default_factory=list)  # per shot: its takes are <shot key>/1..n
    upscales: list[int] = field(default_factory=list)  # per shot
    chain_of: list[int] = field(default_factory=list)  # per shot: an index into chains
    chains: list[list[str]] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)
    upscalers: list[str] = field(default_factory=list)
    in_process: list[str] = field(default_factory=list)

    def shot_plan(self, batch_id: str, index: int) -> ShotPlan | None:
        """The plan of the ``index``-th shot, or ``None`` when the shot must read it itself."""
        if len(self.takes) != len(self.shot_ids):
            return None
        shot_key = ids.shot_key(batch_id, self.shot_ids[index])
        chain = self.chains[self.chain_of[index]]
        return ShotPlan(
            shot_key,
            ids.take_ids(shot_key, self.takes[index]),
            list(chain),
            upscale=self.upscales[index],
            reviewers=list(self.reviewers),
            in_process=[name for name in chain if name in self.in_process],
            upscalers=list(self.upscalers),
            finish_in_render=post_stages_in_process(self.upscales[index], self.upscalers, self.reviewers),
        )


def post_stages_in_process(upscale: int, upscalers: list[str], reviewers: list[str]) -> bool:
    """Whether a take's first-choice upscaler (when it is upscaled) and reviewer are in-process.

    Then an in-process render finishes the take itself, in the same local activity: each local
    activity costs a workflow activation and a history marker, and these stages take
    milliseconds. A failure there falls back to running them one by one.
    """
    return (upscale <= 1 or upscalers[:1] == ["local"]) and reviewers[:1] == ["local"]


@dataclass
class ShotInput:
    """Start a shot's workflow."""

    batch_id: str
    shot_id: str
    approval_required: bool = False
    deadline_seconds: int | None = None
    on_expiry: str = "hold"
    task_queue: str = "studio"
    plan: ShotPlan | None = None  # from the batch's storyboard; None: read it from the catalog
    outage_window: float = 6 * 3600.0  # see BatchInput
    provider_window: float = 24 * 3600.0
    provider_retry_cap: float = 300.0


@dataclass
class ShotPlan:
    """A shot's takes and stages, from the catalog."""

    shot_key: str
    take_ids: list[str]
    chain: list[str]
    upscaler: str = "local"
    reviewers: list[str] = field(default_factory=lambda: ["local"])
    upscale: int = 1
    in_process: list[str] = field(default_factory=list)
    upscalers: list[str] = field(default_factory=list)  # best first; empty in plans made before it existed
    finish_in_render: bool = False  # an in-process render also upscales and reviews (post_stages_in_process)


@dataclass
class ShotUpdate:
    """A child's news for its batch (``outcome`` with ``done``)."""

    shot_id: str
    phase: ShotPhase
    outcome: ShotOutcome | None = None


@dataclass
class BudgetHold:
    """A shot asking to wait at its batch's budget for a call to ``provider``."""

    shot_key: str
    provider: str


@dataclass
class BudgetAnswer:
    """The answer at a budget gate: ``go`` after the budget was raised, or stop spending.

    Attributes:
        go: Render again (True) or fail the takes that wait (False).
        who: Who answered.
    """

    go: bool
    who: str = "creator"


@dataclass
class StageInput:
    """One stage of one take with one provider (render, upscale or review)."""

    take_id: str
    provider: str
    upscale: int = 1
    finish: bool = False  # render only: then upscale (by ``upscale``) and review in-process too


@dataclass
class TakeOutcome:
    """Where a take ended up after a stage."""

    take_id: str
    ok: bool
    provider: str | None = None
    score: float | None = None
    passed: bool | None = None
    error: str | None = None
    reviewed: bool = False  # the take has its review verdict (score, passed)


@dataclass
class ShotStageInput:
    """Set a shot's stage in the catalog (and its final take / error where known)."""

    shot_key: str
    stage: ShotStage
    final_take_id: str | None = None
    error: str | None = None
    gate_due_at: datetime | None = None  # when the gate that opens has a deadline; cleared by any other stage


@dataclass
class Decision:
    """A human's answer at an approval gate.

    Attributes:
        action: ``approve``, ``reject`` or ``changes`` (render again with ``note`` appended).
        take: Take number within the shot (required to approve).
        who: Who decided (shown in history): ``creator``, or the name a client's guest gave.
        note: Free text.
        email: The guest's email, when a client decided through a link.
    """

    action: str
    take: int | None = None
    who: str = "creator"
    note: str = ""
    email: str = ""


@dataclass
class DecisionRecord:
    """A gate decision to write down."""

    shot_key: str
    action: str
    take_id: str | None
    who: str
    note: str
    round: int = 1
    email: str = ""


@dataclass
class GateState:
    """What a query of a shot's gate returns."""

    open: bool
    stage: str
    takes: list[int]
    decision: str | None = None


@dataclass
class PublishInput:
    """Publish a shot's chosen take."""

    shot_key: str
    take_id: str


@dataclass
class ReworkInput:
    """Add a new round of takes to a shot after changes were requested."""

    shot_key: str
    round: int
    note: str = ""


@dataclass
class ShotStagesInput:
    """Ask the catalog where some shots of a batch are."""

    batch_id: str
    shot_ids: list[str]


@dataclass
class BatchTally:
    """How a batch ended, as the catalog has it: shots per final stage."""

    outcomes: dict[str, int]
    state: str


@dataclass
class ProviderWaitNotice:
    """Shots of a batch have waited on providers (all down or throttling) for ``seconds``."""

    batch_id: str
    shots: int
    seconds: int


@dataclass
class BatchRequest:
    """An activity about one whole batch (its storyboard, its end)."""

    batch_id: str


@dataclass
class ShotRequest:
    """An activity about one shot (its plan, its gate notice)."""

    shot_key: str


def batch_id_of(inp: BatchRequest | str) -> str:
    """The batch id of an activity's input: the dataclass, or the bare id older workflows sent.

    A batch-level activity scheduled on the server before its input became a dataclass (a stage
    retried through an outage across an upgrade) still carries the bare id.
    """
    return inp if isinstance(inp, str) else inp.batch_id


def shot_key_of(inp: ShotRequest | str) -> str:
    """The shot key of an activity's input: the dataclass, or the bare key older workflows sent."""
    return inp if isinstance(inp, str) else inp.shot_key


@dataclass
class GateReminder:
    """Remind the client that a gate's deadline is near."""

    shot_key: str
    due_at: datetime


@dataclass
class DigestRequest:
    """Send the creator a digest of a batch's decisions made since the last one.

    Attributes:
        batch_id: The batch.
        after: The last approval id an earlier digest listed (0: none yet).
    """

    batch_id: str
    after: int = 0


@dataclass
class DigestResult:
    """What a digest did: the approval id to start after next time, and the channels used."""

    after: int
    sent: list[str] = field(default_factory=list)


@dataclass
class PriorityChange:
    """`studio priority BATCH rush|normal|low`: shots a batch starts from now on queue with this.

    Attributes:
        priority: ``rush``, ``normal`` or ``low`` (said back in the answer).
        priority_key: Temporal's priority key for it (1 first .. 5 last).
    """

    priority: str
    priority_key: int

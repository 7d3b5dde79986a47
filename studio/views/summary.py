"""The typed read models of `studio status`: one batch in detail, and one line per batch.

Frozen dataclasses built by :mod:`studio.views.status`; the dashboard and the CLI read them by
attribute. ``to_json()`` gives the `--json` output: its keys, their order and their values are a
stable interface (tests/studio/test_status_json.py pins them), so a field renamed here keeps
its old key there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from studio.spending.budget import Spend
from studio.views.cache_savings import NOTHING_REUSED, CacheSavings
from studio.views.progress import TakeProgress
from studio.views.take_row import TakeRow

JsonObject = dict[str, Any]


@dataclass(frozen=True)
class StageProgress:
    """How far one stage is: ``done`` of ``total``.

    Attributes:
        done: Items (shots or takes) through the stage.
        total: Items the stage has to do; 0 when no shot asks for it (``upscale = 1``).
        failed: Items that failed (the render stage only, else ``None``).
        passed: Items the automated review passed (the review stage only, else ``None``).
    """

    done: int
    total: int
    failed: int | None = None
    passed: int | None = None

    @property
    def skipped(self) -> bool:
        """Whether no item asks for this stage, so there is nothing to do (not "all done")."""
        return self.total == 0

    def to_json(self) -> JsonObject:
        """``{"done", ["failed" | "passed"], "total"}``, the extra key only for the stage that has it."""
        extra = {"failed": self.failed} if self.failed is not None else {}
        if self.passed is not None:
            extra["passed"] = self.passed
        return {"done": self.done, **extra, "total": self.total}


@dataclass(frozen=True)
class ApprovalProgress:
    """The approval gates of a batch: whether it has them, and how they were answered."""

    required: bool
    waiting: int
    approved: int
    rejected: int

    def to_json(self) -> JsonObject:
        """``{"required", "waiting", "approved", "rejected"}``."""
        return {
            "required": self.required,
            "waiting": self.waiting,
            "approved": self.approved,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class StageBoard:
    """Per-stage progress of a batch, storyboard to publish, with its approval gates."""

    storyboard: StageProgress
    render: StageProgress
    upscale: StageProgress
    review: StageProgress
    approval: ApprovalProgress
    publish: StageProgress

    def progress(self, stage: str) -> StageProgress:
        """The progress of ``stage`` by name (storyboard, render, upscale, review or publish).

        Raises:
            KeyError: ``stage`` is not one of them.
        """
        if stage not in ("storyboard", "render", "upscale", "review", "publish"):
            raise KeyError(stage)
        progress: StageProgress = getattr(self, stage)
        return progress

    def to_json(self) -> JsonObject:
        """One object per stage, in flow order."""
        return {
            "storyboard": self.storyboard.to_json(),
            "render": self.render.to_json(),
            "upscale": self.upscale.to_json(),
            "review": self.review.to_json(),
            "approval": self.approval.to_json(),
            "publish": self.publish.to_json(),
        }


@dataclass(frozen=True)
class CountedBy:
    """A total and a count per kind (shots per stage, takes per status), kinds in a stable order."""

    total: int
    by: Mapping[str, int]

    def count(self, kind: str) -> int:
        """How many are of ``kind`` (0 when none is)."""
        return self.by.get(kind, 0)

    def to_json(self) -> JsonObject:
        """``{"total", <kind>: n, ...}``."""
        return {"total": self.total, **self.by}


@dataclass(frozen=True)
class ProviderCalls:
    """Provider calls made for a batch: how many, and per provider the count of each status."""

    total: int
    by_provider: Mapping[str, Mapping[str, int]]

    def to_json(self) -> JsonObject:
        """``{"total", "by_provider": {provider: {status: n}}}``."""
        return {"total": self.total, "by_provider": {name: dict(counts) for name, counts in self.by_provider.items()}}


@dataclass(frozen=True)
class CostSummary:
    """What a batch spent against its budget.

    Attributes:
        spent_usd: Succeeded calls.
        committed_usd: Spent plus calls in flight.
        budget_usd: The budget, or ``None``.
        spending_stopped: Paid calls were stopped at the budget gate.
        waiting_at_budget: Shot ids waiting at the budget gate, in storyboard order.
        by_provider: Succeeded calls' cost per provider.
    """

    spent_usd: float
    committed_usd: float
    budget_usd: float | None
    spending_stopped: bool
    waiting_at_budget: tuple[str, ...]
    by_provider: Mapping[str, float]

    def spend(self) -> Spend:
        """The same figures as :func:`studio.spending.budget.batch_spend` gives (no second read)."""
        return Spend(
            spent_usd=self.spent_usd,
            committed_usd=self.committed_usd,
            budget_usd=self.budget_usd,
            stopped=self.spending_stopped,
            waiting=list(self.waiting_at_budget),
        )

    def to_json(self) -> JsonObject:
        """``{"spent_usd", "committed_usd", "budget_usd", "spending_stopped", "waiting_at_budget", "by_provider"}``."""
        return {
            "spent_usd": self.spent_usd,
            "committed_usd": self.committed_usd,
            "budget_usd": self.budget_usd,
            "spending_stopped": self.spending_stopped,
            "waiting_at_budget": list(self.waiting_at_budget),
            "by_provider": dict(self.by_provider),
        }


@dataclass(frozen=True)
class Circuit:
    """A provider's circuit breaker as every worker sees it.

    Attributes:
        is_open: Calls to it are skipped after repeated failures.
        until: When it closes again (ISO 8601, seconds), while open.
    """

    is_open: bool
    until: str | None = None

    def to_json(self) -> JsonObject:
        """``{"circuit": "open" | "closed", "until"}``."""
        return {"circuit": "open" if self.is_open else "closed", "until": self.until}


@dataclass(frozen=True)
class ProviderAlert:
    """Calls refused because our configuration is wrong (a refused key, a refused request).

    Attributes:
        provider: The provider that refused.
        error_class: ``AuthFailed`` or ``InvalidRequest``.
        calls: How many calls it refused so.
        message: What to check, in words.
        last_error: The vendor's last refusal.
    """

    provider: str
    error_class: str
    calls: int
    message: str
    last_error: str | None

    def to_json(self) -> JsonObject:
        """``{"provider", "error_class", "calls", "message", "last_error"}``."""
        return {
            "provider": self.provider,
            "error_class": self.error_class,
            "calls": self.calls,
            "message": self.message,
            "last_error": self.last_error,
        }


@dataclass(frozen=True)
class WaitingFor:
    """Something a batch waits for that is not a human: providers all down, the asset store, the disk.

    Attributes:
        what: What it waits for, in words ("a provider", "the asset store"...).
        shots: How many of the batch's shots wait; ``None`` for an outage every batch shares.
        since: When it started waiting (ISO 8601), if known.
        last_error: The last error seen, if any.
    """

    what: str
    shots: int | None
    since: str | None
    last_error: str | None

    def to_json(self) -> JsonObject:
        """``{"for", "shots", "since", "last_error"}``; a shared outage has always put ``shots`` last,
        and still does, so the output stays byte for byte what it was."""
        if self.shots is None:
            return {"for": self.what, "since": self.since, "last_error": self.last_error, "shots": None}
        return {"for": self.what, "shots": self.shots, "since": self.since, "last_error": self.last_error}


@dataclass(frozen=True)
class BatchSummary:
    """Everything `studio status BATCH` shows, and the Batch page's headline.

    Attributes:
        batch_id: The batch.
        project: Project name.
        state: As a user sees it (``waiting`` while a running batch has open gates).
        seed: The batch seed.
        created_at: When it was launched (ISO 8601, seconds).
        finished_at: When it ended, if it has.
        output_dir: Where it publishes.
        error: The batch's error, if any.
        shots: Shots in all, and per stage.
        stages: Per-stage progress.
        takes: Takes in all, and per status (statuses in the order first met).
        provider_calls: Provider calls per provider and status.
        cost: Spend against the budget.
        providers: Each remote provider's circuit, by name.
        alerts: Configuration refusals, loudly.
        waiting_for: What it waits for besides humans (nothing once it has ended).
        take_details: One row per take.
        progress: Takes a self-hosted render node works on now (queue, steps); a new key, last.
        cache: Takes that reused an earlier identical render, and what that saved; a new key, after ``progress``.
    """

    batch_id: str
    project: str
    state: str
    seed: int
    created_at: str | None
    finished_at: str | None
    output_dir: str
    error: str | None
    shots: CountedBy
    stages: StageBoard
    takes: CountedBy
    provider_calls: ProviderCalls
    cost: CostSummary
    providers: Mapping[str, Circuit]
    alerts: tuple[ProviderAlert, ...]
    waiting_for: tuple[WaitingFor, ...]
    take_details: tuple[TakeRow, ...]
    progress: tuple[TakeProgress, ...] = ()
    cache: CacheSavings = NOTHING_REUSED

    def to_json(self) -> JsonObject:
        """The `studio status BATCH --json` object (stable keys)."""
        return {
            "batch": self.batch_id,
            "project": self.project,
            "state": self.state,
            "seed": self.seed,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
            "output_dir": self.output_dir,
            "error": self.error,
            "shots": self.shots.to_json(),
            "stages": self.stages.to_json(),
            "takes": self.takes.to_json(),
            "provider_calls": self.provider_calls.to_json(),
            "cost": self.cost.to_json(),
            "providers": {name: circuit.to_json() for name, circuit in self.providers.items()},
            "alerts": [alert.to_json() for alert in self.alerts],
            "waiting_for": [wait.to_json() for wait in self.waiting_for],
            "take_details": [row.to_json() for row in self.take_details],
            "progress": [p.to_json() for p in self.progress],
            "cache": self.cache.to_json(),
        }


@dataclass(frozen=True)
class BatchOverview:
    """One batch in `studio status` (no batch named): a line of the list, newest first.

    Attributes:
        batch_id: The batch.
        project: Project name.
        state: As a user sees it.
        shots: Shots in the batch.
        published: Shots published.
        waiting: Shots waiting for a human (an approval gate or the budget).
        waiting_for_provider: Shots waiting for a provider to come back.
        failed: Shots that failed.
        created_at: When it was launched (ISO 8601, seconds).
        output_dir: Where it publishes.
    """

    batch_id: str
    project: str
    state: str
    shots: int
    published: int
    waiting: int
    waiting_for_provider: int
    failed: int
    created_at: str | None
    output_dir: str

    def to_json(self) -> JsonObject:
        """One element of the `studio status --json` list (stable keys)."""
        return {
            "batch": self.batch_id,
            "project": self.project,
            "state": self.state,
            "shots": self.shots,
            "published": self.published,
            "waiting": self.waiting,
            "waiting_for_provider": self.waiting_for_provider,
            "failed": self.failed,
            "created_at": self.created_at,
            "output_dir": self.output_dir,
        }

"""What the dashboard shows about batches, shots and takes, read from the catalog alone.

Plain dataclasses, so the pages only draw and a test can check the numbers without a browser.
Per-stage counts come from :func:`studio.views.status.batch_summary`, the same numbers `studio status`
prints (a page of batches reads the same numbers as counts: :mod:`studio.views.board`). For a batch's spend, read ``batch_summary(...).cost.spend()`` (no second read of the catalog).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import func
from sqlmodel import col, select

from studio.catalog.models import Approval, ProviderAttempt, Publication, Shot, Take
from studio.catalog.page_queries import SHOT_FILTERS as SHOT_FILTERS  # the grid page names its filters from here
from studio.catalog.store import Catalog
from studio.images.recipes import recipe_of
from studio.settings import Settings
from studio.spending.budget import Spend
from studio.states import HUMAN_WAIT_STAGES, BatchState, CallStatus, ShotStage, TakeStatus
from studio.views.board import BatchHeadline, batch_headlines
from studio.views.summary import BatchSummary, WaitingFor

PROGRESS_STAGES = ("render", "upscale", "review", "publish")
LIVE_STATES = (BatchState.QUEUED, BatchState.RUNNING, BatchState.WAITING, BatchState.PAUSED)
# Stages where a shot waits for a human: at an approval gate or at its batch's budget.
HUMAN_WAITS = HUMAN_WAIT_STAGES


@dataclass(frozen=True)
class BatchLine:
    """One batch on the Batches page.

    Attributes:
        batch_id: The batch.
        project: Project name.
        state: As a user sees it (``waiting`` while gates are open).
        shots: Shots in the batch.
        progress: Per stage (render, upscale, review, publish): ``(done, total)``.
        waiting: Shots waiting at a gate.
        failed_shots: Shots that failed.
        failed_takes: Takes no provider could render.
        cost_usd: What the batch's provider calls cost.
        created_at: When it was launched.
        finished_at: When it ended, if it has.
        error: The batch's error, if any.
        waiting_budget: Shots waiting at the batch's budget.
        waiting_for: What the batch waits for besides humans, one line each (providers all
            down, the asset store, the disk), with the last error.
    """

    batch_id: str
    project: str
    state: str
    shots: int
    progress: dict[str, tuple[int, int]]
    waiting: int
    failed_shots: int
    failed_takes: int
    cost_usd: float
    created_at: str | None
    finished_at: str | None
    error: str | None = None
    waiting_budget: int = 0
    waiting_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class TakeCard:
    """A take as the batch grid shows it.

    Attributes:
        take_id: ``<batch>/<shot>/<n>``.
        number: Take number within the shot.
        status: planned, rendering, rendered, upscaled, reviewed, approved or failed.
        provider: Provider that rendered it, if any did.
        image_key: Asset key of the image to show (final, else render), if any.
        providers_tried: Render providers called for it, in order, each once.
        review_score: Automated review score, if reviewed.
        review_passed: Automated review verdict, if reviewed.
        chosen: Whether this take was published for its shot.
        round: Gate round that made it (1, then +1 each time changes were requested).
    """

    take_id: str
    number: int
    status: str
    provider: str | None
    image_key: str | None
    providers_tried: tuple[str, ...] = ()
    review_score: float | None = None
    review_passed: bool | None = None
    chosen: bool = False
    round: int = 1

    @property
    def failed_over(self) -> bool:
        """Whether rendering moved on to another provider (more than one was called)."""
        return len(self.providers_tried) > 1


@dataclass(frozen=True)
class ShotCard:
    """A shot in the batch grid: its stage and takes."""

    key: str
    shot_id: str
    stage: str
    prompt: str
    takes: tuple[TakeCard, ...]
    error: str | None = None

    @property
    def failovers(self) -> int:
        """Takes of this shot that failed over to another provider."""
        return sum(1 for t in self.takes if t.failed_over)

    @property
    def failed_takes(self) -> int:
        """Takes of this shot that could not be rendered."""
        return sum(1 for t in self.takes if t.status == TakeStatus.FAILED)


@dataclass(frozen=True)
class AttemptLine:
    """One provider call in a take's timeline."""

    stage: str
    provider: str
    attempt: int
    status: str
    error_class: str | None
    error: str | None
    latency_ms: int | None
    cost_usd: float
    started_at: datetime
    finished_at: datetime | None


@dataclass(frozen=True)
class TakeDetail:
    """A take on the Shot page: its card, its recipe and every call made for it."""

    card: TakeCard
    recipe: dict[str, Any]
    review_notes: str | None
    error: str | None
    attempts: tuple[AttemptLine, ...]


@dataclass(frozen=True)
class ShotDetail:
    """Everything the Shot page shows."""

    shot: Shot
    project: str
    takes: tuple[TakeDetail, ...]
    approvals: tuple[Approval, ...]
    publications: tuple[Publication, ...] = field(default_factory=tuple)


def batch_costs(catalog: Catalog, batch_ids: Iterable[str]) -> dict[str, float]:
    """Sum of succeeded provider-call costs per batch (0.0 for a batch with no paid call).

    A call in flight holds its price as a reservation and a failed one costs nothing, so only
    succeeded calls are money spent.
    """
    ids = list(batch_ids)
    if not ids:
        return {}
    with catalog.session() as s:
        query = (
            select(ProviderAttempt.batch_id, func.sum(ProviderAttempt.cost_usd))
            .where(col(ProviderAttempt.batch_id).in_(ids), ProviderAttempt.status == CallStatus.SUCCEEDED)
            .group_by(ProviderAttempt.batch_id)
        )
        sums = {batch_id: float(total or 0.0) for batch_id, total in s.exec(query)}
    return {batch_id: sums.get(batch_id, 0.0) for batch_id in ids}


def batch_line(summary: BatchSummary | BatchHeadline, cost_usd: float) -> BatchLine:
    """A Batches-page line from a :func:`batch_summary` (or the headline a page of them reads)."""
    stages = summary.stages
    return BatchLine(
        batch_id=summary.batch_id,
        project=summary.project,
        state=summary.state,
        shots=summary.shots.total,
        progress={name: (stages.progress(name).done, stages.progress(name).total) for name in PROGRESS_STAGES},
        waiting=stages.approval.waiting,
        failed_shots=summary.shots.count(ShotStage.FAILED),
        failed_takes=stages.render.failed or 0,
        cost_usd=cost_usd,
        created_at=summary.created_at,
        finished_at=summary.finished_at,
        error=summary.error,
        waiting_budget=summary.shots.count(ShotStage.AWAITING_BUDGET),
        waiting_for=tuple(waiting_text(w) for w in summary.waiting_for),
    )


def waiting_text(wait: WaitingFor) -> str:
    """One sentence for something a batch waits for (a :func:`~studio.views.status.waiting_for` entry)."""
    shots = f" ({wait.shots} shot{'s' if wait.shots != 1 else ''})" if wait.shots else ""
    since = f" since {wait.since[11:19]} UTC" if wait.since else ""
    error = f": {wait.last_error}" if wait.last_error else ""
    return f"Waiting for {wait.what}{shots}{since}{error}. Nothing is lost: it retries by itself."


def batches_board(catalog: Catalog, limit: int = 50) -> list[BatchLine]:
    """Every batch (newest first, up to ``limit``) with per-stage progress and cost."""
    batches = catalog.batches(limit)
    costs = batch_costs(catalog, [b.id for b in batches])
    return [batch_line(head, costs[head.batch_id]) for head in batch_headlines(catalog, batches)]


@dataclass(frozen=True)
class BoardTotals:
    """The headline numbers over the batches shown."""

    running: int
    waiting: int
    published: int


def board_totals(lines: Sequence[BatchLine]) -> BoardTotals:
    """Batches still going, shots waiting at a gate, and shots published, over ``lines``."""
    return BoardTotals(
        running=sum(1 for line in lines if line.state in LIVE_STATES),
        waiting=sum(line.waiting for line in lines),
        published=sum(line.progress["publish"][0] for line in lines),
    )


def _render_providers(attempts: Sequence[ProviderAttempt]) -> dict[str, tuple[str, ...]]:
    tried: dict[str, list[str]] = defaultdict(list)
    for a in attempts:
        if a.stage == "render" and a.provider not in tried[a.take_id]:
            tried[a.take_id].append(a.provider)
    return {take_id: tuple(names) for take_id, names in tried.items()}


def _take_card(take: Take, tried: tuple[str, ...], chosen_id: str | None) -> TakeCard:
    return TakeCard(
        take_id=take.id,
        number=take.number,
        status=take.status,
        provider=take.provider,
        image_key=take.final_key or take.asset_key,
        providers_tried=tried,
        review_score=take.review_score,
        review_passed=take.review_passed,
        chosen=chosen_id == take.id,
        round=take.round,
    )


def shot_filter_counts(catalog: Catalog, batch_id: str) -> dict[str, int]:
    """Shots each filter keeps, for the grid's filter buttons: ``all``, ``waiting`` (at an approval
    gate or the budget), ``rejected``, and ``failed`` (failed shots and shots with a take no provider
    could render). One COUNT query, whatever the batch's size."""
    return catalog.shot_filter_counts(batch_id)


def shot_cards(
    catalog: Catalog, batch_id: str, which: str = "all", *, offset: int = 0, limit: int = 24
) -> list[ShotCard]:
    """One page of a batch's grid: the shots filter ``which`` keeps (see :func:`shot_filter_counts`),
    in storyboard order from ``offset`` (0-based), at most ``limit``, with their takes.

    Three queries, each reading only the page's rows: the page's shots, their takes, their render calls.

    Raises:
        ValueError: ``which`` is not one of :data:`SHOT_FILTERS`.
    """
    shots = catalog.shots_page(batch_id, which, offset=offset, limit=limit)
    keys = [shot.key for shot in shots]
    by_shot: dict[str, list[Take]] = defaultdict(list)
    for take in catalog.shots_takes(keys):
        by_shot[take.shot_key].append(take)
    tried: dict[str, list[str]] = defaultdict(list)
    for take_id, provider in catalog.render_calls(keys):
        if provider not in tried[take_id]:
            tried[take_id].append(provider)
    return [
        ShotCard(
            key=shot.key,
            shot_id=shot.shot_id,
            stage=shot.stage,
            prompt=shot.prompt,
            takes=tuple(_take_card(t, tuple(tried.get(t.id, ())), shot.final_take_id) for t in by_shot[shot.key]),
            error=shot.error,
        )
        for shot in shots
    ]


@dataclass(frozen=True)
class BudgetPanel:
    """The batch page's spending: the cost against the budget, and what to offer at the budget gate.

    Attributes:
        spent_usd: Succeeded calls (what the Batches page shows as cost).
        committed_usd: Spent plus calls in flight.
        budget_usd: The budget, or ``None``.
        stopped: Spending was stopped.
        waiting: Shot ids waiting at the budget gate, in storyboard order.
        floor_usd: The smallest new budget accepted: the next cent above what is committed.
        suggested_usd: A new budget to start from (the budget doubled, at least the floor).
    """

    spent_usd: float
    committed_usd: float
    budget_usd: float | None
    stopped: bool
    waiting: tuple[str, ...]
    floor_usd: float
    suggested_usd: float


def budget_panel(spend: Spend) -> BudgetPanel:
    """What the batch page shows and offers about a batch's spending (:func:`studio.spending.budget.batch_spend`)."""
    # Whole cents strictly above the committed sum (studio.spending.budget.raise_budget refuses anything
    # not above it); rounding first keeps 0.29 * 100 = 28.999... from landing on 0.29 itself.
    floor = (math.floor(round(spend.committed_usd * 100, 6)) + 1) / 100
    suggested = max(floor, round(2 * spend.budget_usd, 2)) if spend.budget_usd else floor
    return BudgetPanel(
        spent_usd=spend.spent_usd,
        committed_usd=spend.committed_usd,
        budget_usd=spend.budget_usd,
        stopped=spend.stopped,
        waiting=tuple(spend.waiting),
        floor_usd=floor,
        suggested_usd=suggested,
    )


def _attempt_line(a: ProviderAttempt) -> AttemptLine:
    return AttemptLine(
        stage=a.stage,
        provider=a.provider,
        attempt=a.attempt,
        status=a.status,
        error_class=a.error_class,
        error=a.error,
        latency_ms=a.latency_ms,
        cost_usd=a.cost_usd,
        started_at=a.started_at,
        finished_at=a.finished_at,
    )


def shot_detail(catalog: Catalog, shot_key: str) -> ShotDetail:
    """Everything about one shot: takes with recipes and call timelines, decisions, publications.

    Raises:
        NotFound: No shot ``shot_key``.
    """
    shot = catalog.shot(shot_key)
    batch = catalog.batch(shot.batch_id)
    details = []
    for take in catalog.takes(shot_key):
        attempts = catalog.attempts(take_id=take.id)
        card = _take_card(take, _render_providers(attempts).get(take.id, ()), shot.final_take_id)
        details.append(
            TakeDetail(
                card=card,
                recipe=recipe_of(take),
                review_notes=take.review_notes,
                error=take.error,
                attempts=tuple(_attempt_line(a) for a in attempts),
            )
        )
    publications = tuple(p for p in catalog.publications(shot.batch_id) if p.shot_key == shot_key)
    return ShotDetail(
        shot=shot,
        project=batch.project_name,
        takes=tuple(details),
        approvals=tuple(catalog.approvals(shot_key=shot_key)),
        publications=publications,
    )


def workflow_url(settings: Settings, workflow_id: str) -> str:
    """The Temporal Web UI page of a workflow (shot workflows are ``<batch>/<shot>``)."""
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{settings.temporal_ui_url}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"

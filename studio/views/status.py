"""What `studio status` reports, computed from the catalog alone (no Temporal needed).

The read models returned here (:mod:`studio.views.summary`) give the `--json` output through their
``to_json()``: its keys are a stable interface.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from providers import table
from studio.catalog.call_guard import circuit_until, recent_calls
from studio.catalog.models import Batch, utcnow
from studio.catalog.store import Catalog
from studio.catalog.summary_queries import (
    CallCount,
    TakeLine,
    call_counts,
    failures_of,
    running_calls,
    take_lines,
    take_status_counts,
)
from studio.outages.notes import current_outages
from studio.rendering.failover import LOUD
from studio.spending.budget import batch_spend
from studio.states import (
    FINISHED_BATCH_STATES,
    HUMAN_WAIT_STAGES,
    BatchState,
    CallStatus,
    ShotStage,
)
from studio.views.cache_savings import cache_savings
from studio.views.progress import progress_of
from studio.views.stage_counts import counted_board
from studio.views.summary import (
    BatchOverview,
    BatchSummary,
    Circuit,
    CostSummary,
    CountedBy,
    ProviderAlert,
    ProviderCalls,
    WaitingFor,
)
from studio.views.take_row import TakeRow

TERMINAL_STATES = FINISHED_BATCH_STATES
# Every stage a shot row can have, in the order a shot moves (the order of the counts in --json).
SHOT_STAGES = tuple(stage for stage in ShotStage if stage != ShotStage.STARTING)
WAITING_STAGES = HUMAN_WAIT_STAGES
# What to tell the creator when a provider keeps refusing our configuration.
LOUD_HINTS = {
    "AuthFailed": "the key was refused: check {key}",
    "InvalidRequest": "the vendor refused our request: check the model and parameters in settings",
}
# The environment variable holding each vendor's key (a self-hosted provider's credential), from the table.
KEY_NAMES = {name: setting.env for name, setting in table.key_settings().items()} | {
    spec.name: spec.auth.env for spec in table.PROVIDERS if spec.auth is not None
}


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def batch_state(batch: Batch, shot_stages: Counter[str]) -> str:
    """The batch's state as a user sees it: ``paused`` (`studio pause`) before ``waiting``, which
    is a running batch with open gates."""
    if batch.paused_at is not None and batch.state in (BatchState.QUEUED, BatchState.RUNNING):
        return BatchState.PAUSED
    if batch.state == BatchState.RUNNING and any(shot_stages.get(stage) for stage in WAITING_STAGES):
        return BatchState.WAITING
    return batch.state


def provider_alerts(failures: list[tuple[str, str, str | None]]) -> list[ProviderAlert]:
    """Failures that mean our configuration is wrong (a refused key, a refused request), loudly.

    Args:
        failures: ``(provider, error class, error)`` of the batch's calls refused so, oldest first.
    """
    counts = Counter((provider, error_class) for provider, error_class, _ in failures)
    last = {(provider, error_class): error for provider, error_class, error in failures}
    return [
        ProviderAlert(
            provider=provider,
            error_class=error_class,
            calls=n,
            message=LOUD_HINTS[error_class].format(key=KEY_NAMES.get(provider, "its key")),
            last_error=last[(provider, error_class)],
        )
        for (provider, error_class), n in sorted(counts.items())
    ]


def provider_circuits(catalog: Catalog, providers: list[str], failures: int, cooldown: float) -> dict[str, Circuit]:
    """Each provider's circuit breaker as every worker sees it (from all batches' calls)."""
    now = utcnow()
    circuits: dict[str, Circuit] = {}
    with catalog.session() as s:
        for provider in providers:
            until = circuit_until(recent_calls(s, provider, failures), failures, cooldown)
            is_open = until is not None and now < until
            circuits[provider] = Circuit(is_open=is_open, until=_iso(until) if is_open else None)
    return circuits


def take_rows(takes: list[TakeLine]) -> list[TakeRow]:
    """One row per take: who made it, with what seed, its review and its cost."""
    return [
        TakeRow(
            take_id=t.id,
            round=t.round,
            status=t.status,
            provider=t.provider,
            model=t.model,
            seed=t.seed_used if t.seed_used is not None else t.seed,
            review_score=t.review_score,
            review_passed=t.review_passed,
            review_notes=t.review_notes,
            cost_usd=round(t.cost_usd, 6),
            error=t.error,
        )
        for t in takes
    ]


def waiting_for(catalog: Catalog, batch_id: str, stages: Counter[str]) -> list[WaitingFor]:
    """What the batch waits for that is not a human: providers all down, the asset store, the disk.

    ``shots`` of an entry is how many of this batch's shots wait (None for an outage every batch
    shares).
    """
    stalled = stages.get(ShotStage.WAITING_FOR_PROVIDER, 0)
    entries: list[WaitingFor] = []
    if stalled:
        error = catalog.first_shot_errors([batch_id], ShotStage.WAITING_FOR_PROVIDER)[batch_id]
        entries.append(WaitingFor(what="a provider", shots=stalled, since=None, last_error=error))
    return entries + [
        WaitingFor(what=o["for"], shots=None, since=o["since"], last_error=o["last_error"])
        for o in current_outages(catalog)
    ]


def calls_and_cost(catalog: Catalog, batch_id: str, counts: list[CallCount]) -> tuple[ProviderCalls, CostSummary]:
    """Provider calls per provider and status, and the batch's spend against its budget.

    Args:
        counts: The batch's calls per provider and status (:func:`~studio.catalog.summary_queries.call_counts`).
    """
    calls: dict[str, dict[str, int]] = {}
    for c in counts:
        calls.setdefault(c.provider, {})[c.status] = c.calls
    cost_by_provider = {c.provider: c.cost_usd for c in counts if c.status == CallStatus.SUCCEEDED}
    spend = batch_spend(catalog, batch_id)
    cost = CostSummary(
        spent_usd=spend.spent_usd,
        committed_usd=spend.committed_usd,
        budget_usd=spend.budget_usd,
        spending_stopped=spend.stopped,
        waiting_at_budget=tuple(spend.waiting),
        by_provider={name: round(usd, 6) for name, usd in sorted(cost_by_provider.items())},
    )
    by_provider = dict(sorted(calls.items()))
    return ProviderCalls(total=sum(c.calls for c in counts), by_provider=by_provider), cost


def _takes(catalog: Catalog, batch_id: str, *, details: bool) -> tuple[list[TakeLine], dict[str, int], list[TakeLine]]:
    """Every take's line (none unless ``details``), the takes per status, and the takes that reused a render."""
    if details:
        takes = take_lines(catalog, batch_id)
        return takes, dict(Counter(t.status for t in takes)), takes
    return [], take_status_counts(catalog, batch_id), take_lines(catalog, batch_id, cached_only=True)


def batch_summary(
    catalog: Catalog,
    batch_id: str,
    *,
    circuit_failures: int = 5,
    circuit_cooldown: float = 120.0,
    prices: Mapping[str, float] | None = None,
    take_details: bool = True,
) -> BatchSummary:
    """Everything `studio status BATCH` shows: per-stage counts, takes, provider calls, cost, output.

    Args:
        circuit_failures: The workers' circuit-breaker threshold (settings), to show each circuit.
        circuit_cooldown: The workers' circuit-breaker cooldown in seconds.
        prices: ``STUDIO_PRICES`` overrides, to price what the render cache saved.
        take_details: Read a row of every take (the CLI's table, ``--json``). A reader that shows
            counts only (the Batch page) passes False: ``take_details`` is then empty, and
            ``takes.by`` counts statuses in alphabetical order rather than in the order first met.

    Raises:
        NotFound: No batch ``batch_id``.
    """
    batch = catalog.batch(batch_id)
    stages = catalog.shot_stage_counts([batch_id])[batch_id]
    takes, by_status, reused = _takes(catalog, batch_id, details=take_details)
    counts = call_counts(catalog, batch_id)
    calls, cost = calls_and_cost(catalog, batch_id, counts)
    remote = sorted({c.provider for c in counts} - table.IN_PROCESS)
    ended = batch.state in TERMINAL_STATES
    board = counted_board(
        batch, stages, catalog.take_counts([batch_id])[batch_id], catalog.decision_counts([batch_id])[batch_id]
    )
    return BatchSummary(
        batch_id=batch.id,
        project=batch.project_name,
        state=batch_state(batch, stages),
        seed=batch.seed,
        created_at=_iso(batch.created_at),
        finished_at=_iso(batch.finished_at),
        output_dir=batch.output_dir,
        error=batch.error,
        shots=CountedBy(total=batch.total_shots, by={stage: stages.get(stage, 0) for stage in SHOT_STAGES}),
        stages=board,
        takes=CountedBy(total=sum(by_status.values()) or batch.total_takes, by=by_status),
        provider_calls=calls,
        cost=cost,
        providers=provider_circuits(catalog, remote, circuit_failures, circuit_cooldown),
        alerts=tuple(provider_alerts(failures_of(catalog, batch_id, LOUD))),
        waiting_for=() if ended else tuple(waiting_for(catalog, batch_id, stages)),
        take_details=tuple(take_rows(takes)),
        progress=() if ended else progress_of(running_calls(catalog, batch_id)),
        cache=cache_savings(reused, enabled=batch.use_cache, prices=prices),
    )


def batches_overview(catalog: Catalog, limit: int = 50) -> list[BatchOverview]:
    """One line per batch, newest first (for `studio status` with no batch)."""
    rows = []
    batches = catalog.batches(limit)
    counts = catalog.shot_stage_counts([batch.id for batch in batches])  # one query, not one per batch
    for batch in batches:
        stages = counts[batch.id]
        rows.append(
            BatchOverview(
                batch_id=batch.id,
                project=batch.project_name,
                state=batch_state(batch, stages),
                shots=batch.total_shots,
                published=stages.get(ShotStage.PUBLISHED, 0),
                waiting=sum(stages.get(stage, 0) for stage in WAITING_STAGES),
                waiting_for_provider=stages.get(ShotStage.WAITING_FOR_PROVIDER, 0),
                failed=stages.get(ShotStage.FAILED, 0),
                created_at=_iso(batch.created_at),
                output_dir=batch.output_dir,
            )
        )
    return rows


def shots_waiting(catalog: Catalog, batch_id: str) -> list[str]:
    """Shot ids waiting at an approval gate, in storyboard order."""
    return [s.shot_id for s in catalog.shots(batch_id) if s.stage == ShotStage.AWAITING_APPROVAL]

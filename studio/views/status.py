"""What `studio status` reports, computed from the catalog alone (no Temporal needed).

The dictionaries returned here are the `--json` output: their keys are a stable interface.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from studio.catalog.models import Batch, ProviderAttempt, Shot, Take, utcnow
from studio.catalog.store import Catalog
from studio.outages.notes import current_outages
from studio.rendering.failover import LOUD
from studio.spending.budget import batch_spend
from studio.spending.call_guard import circuit_until, recent_calls

TERMINAL_STATES = ("published", "failed", "cancelled")
SHOT_STAGES = (
    "pending",
    "rendering",
    "waiting_for_provider",
    "upscaling",
    "reviewing",
    "awaiting_budget",
    "awaiting_approval",
    "publishing",
    "published",
    "rejected",
    "failed",
    "cancelled",
)
WAITING_STAGES = ("awaiting_approval", "awaiting_budget")
# What to tell the creator when a provider keeps refusing our configuration.
LOUD_HINTS = {
    "AuthFailed": "the key was refused: check {key}",
    "InvalidRequest": "the vendor refused our request: check the model and parameters in settings",
}
KEY_NAMES = {
    "mistral": "MISTRAL_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
    "fal": "FAL_KEY",
}


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def batch_state(batch: Batch, shot_stages: Counter[str]) -> str:
    """The batch's state as a user sees it: ``waiting`` when a running batch has open gates."""
    if batch.state == "running" and any(shot_stages.get(stage) for stage in WAITING_STAGES):
        return "waiting"
    return batch.state


def provider_alerts(attempts: list[ProviderAttempt]) -> list[dict[str, Any]]:
    """Failures that mean our configuration is wrong (a refused key, a refused request), loudly."""
    counts = Counter((a.provider, a.error_class) for a in attempts if a.error_class in LOUD)
    last = {(a.provider, a.error_class): a.error for a in attempts if a.error_class in LOUD}
    return [
        {
            "provider": provider,
            "error_class": error_class,
            "calls": n,
            "message": LOUD_HINTS[error_class].format(key=KEY_NAMES.get(provider, "its key")),
            "last_error": last[(provider, error_class)],
        }
        for (provider, error_class), n in sorted(counts.items())
    ]


def provider_circuits(catalog: Catalog, providers: list[str], failures: int, cooldown: float) -> dict[str, Any]:
    """Each provider's circuit breaker as every worker sees it (from all batches' calls)."""
    now = utcnow()
    circuits: dict[str, Any] = {}
    with catalog.session() as s:
        for provider in providers:
            until = circuit_until(recent_calls(s, provider, failures), failures, cooldown)
            is_open = until is not None and now < until
            circuits[provider] = {"circuit": "open" if is_open else "closed", "until": _iso(until) if is_open else None}
    return circuits


def take_rows(takes: list[Take]) -> list[dict[str, Any]]:
    """One dictionary per take: who made it, with what seed, its review and its cost."""
    return [
        {
            "take": t.id,
            "round": t.round,
            "status": t.status,
            "provider": t.provider,
            "model": t.model,
            "seed": t.seed_used if t.seed_used is not None else t.seed,
            "review_score": t.review_score,
            "review_passed": t.review_passed,
            "review_notes": t.review_notes,
            "cost_usd": round(t.cost_usd, 6),
            "error": t.error,
        }
        for t in takes
    ]


def waiting_for(catalog: Catalog, shots: list[Shot]) -> list[dict[str, Any]]:
    """What the batch waits for that is not a human: providers all down, the asset store, the disk.

    Each entry is ``{"for", "shots", "since", "last_error"}``; ``shots`` is how many of this
    batch's shots wait (None for an outage every batch shares).
    """
    stalled = [s for s in shots if s.stage == "waiting_for_provider"]
    entries: list[dict[str, Any]] = []
    if stalled:
        entries.append(
            {
                "for": "a provider",
                "shots": len(stalled),
                "since": None,
                "last_error": next((s.error for s in stalled if s.error), None),
            }
        )
    return entries + [{**o, "shots": None} for o in current_outages(catalog)]


def batch_summary(
    catalog: Catalog, batch_id: str, *, circuit_failures: int = 5, circuit_cooldown: float = 120.0
) -> dict[str, Any]:
    """Everything `studio status BATCH` shows: per-stage counts, takes, provider calls, cost, output.

    Args:
        circuit_failures: The workers' circuit-breaker threshold (settings), to show each circuit.
        circuit_cooldown: The workers' circuit-breaker cooldown in seconds.
    """
    batch = catalog.batch(batch_id)
    shots = catalog.shots(batch_id)
    takes = catalog.batch_takes(batch_id)
    attempts = catalog.attempts(batch_id=batch_id)
    approvals = catalog.approvals(batch_id=batch_id)
    stages = Counter(s.stage for s in shots)
    total_takes = len(takes) or batch.total_takes
    upscaling = {s.key for s in shots if s.upscale > 1}
    calls: dict[str, dict[str, int]] = {}
    cost_by_provider: Counter[str] = Counter()
    for a in attempts:
        calls.setdefault(a.provider, Counter())[a.status] += 1  # type: ignore[index]
        if a.status == "succeeded":
            cost_by_provider[a.provider] += a.cost_usd
    decided = Counter(a.decision for a in approvals)
    spend = batch_spend(catalog, batch_id)
    remote = sorted({a.provider for a in attempts} - {"local"})
    return {
        "batch": batch.id,
        "project": batch.project_name,
        "state": batch_state(batch, stages),
        "seed": batch.seed,
        "created_at": _iso(batch.created_at),
        "finished_at": _iso(batch.finished_at),
        "output_dir": batch.output_dir,
        "error": batch.error,
        "shots": {"total": batch.total_shots, **{stage: stages.get(stage, 0) for stage in SHOT_STAGES}},
        "stages": {
            "storyboard": {"done": len(shots), "total": batch.total_shots},
            "render": {
                "done": sum(1 for t in takes if t.asset_key),
                "failed": sum(1 for t in takes if t.status == "failed"),
                "total": total_takes,
            },
            # Only shots with upscale > 1 upscale (the others' final image is the render itself);
            # before the storyboard stage has written the shots, every take is counted.
            "upscale": {
                "done": sum(1 for t in takes if t.shot_key in upscaling and t.final_key),
                "total": sum(1 for t in takes if t.shot_key in upscaling) if shots else total_takes,
            },
            "review": {
                "done": sum(1 for t in takes if t.review_score is not None),
                "passed": sum(1 for t in takes if t.review_passed),
                "total": total_takes,
            },
            "approval": {
                "required": batch.approval_required,
                "waiting": stages.get("awaiting_approval", 0),
                "approved": decided.get("approve", 0),
                "rejected": decided.get("reject", 0),
            },
            "publish": {"done": stages.get("published", 0), "total": batch.total_shots},
        },
        "takes": {"total": total_takes, **Counter(t.status for t in takes)},
        "provider_calls": {
            "total": len(attempts),
            "by_provider": {name: dict(counts) for name, counts in sorted(calls.items())},
        },
        "cost": {
            "spent_usd": spend.spent_usd,
            "committed_usd": spend.committed_usd,
            "budget_usd": spend.budget_usd,
            "spending_stopped": spend.stopped,
            "waiting_at_budget": spend.waiting,
            "by_provider": {name: round(usd, 6) for name, usd in sorted(cost_by_provider.items())},
        },
        "providers": provider_circuits(catalog, remote, circuit_failures, circuit_cooldown),
        "alerts": provider_alerts(attempts),
        "waiting_for": waiting_for(catalog, shots) if batch.state not in TERMINAL_STATES else [],
        "take_details": take_rows(takes),
    }


def batches_overview(catalog: Catalog, limit: int = 50) -> list[dict[str, Any]]:
    """One line per batch, newest first (for `studio status` with no batch)."""
    rows = []
    for batch in catalog.batches(limit):
        stages = Counter(s.stage for s in catalog.shots(batch.id))
        rows.append(
            {
                "batch": batch.id,
                "project": batch.project_name,
                "state": batch_state(batch, stages),
                "shots": batch.total_shots,
                "published": stages.get("published", 0),
                "waiting": sum(stages.get(stage, 0) for stage in WAITING_STAGES),
                "waiting_for_provider": stages.get("waiting_for_provider", 0),
                "failed": stages.get("failed", 0),
                "created_at": _iso(batch.created_at),
                "output_dir": batch.output_dir,
            }
        )
    return rows


def shots_waiting(catalog: Catalog, batch_id: str) -> list[str]:
    """Shot ids waiting at an approval gate, in storyboard order."""
    return [s.shot_id for s in catalog.shots(batch_id) if s.stage == "awaiting_approval"]

"""What `studio status` reports, computed from the catalog alone (no Temporal needed).

The dictionaries returned here are the `--json` output: their keys are a stable interface.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from studio.catalog import Catalog
from studio.models import Batch

TERMINAL_STATES = ("published", "failed", "cancelled")
SHOT_STAGES = (
    "pending", "rendering", "upscaling", "reviewing", "awaiting_approval",
    "publishing", "published", "rejected", "failed",
)


def _iso(value: Any) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def batch_state(batch: Batch, shot_stages: Counter[str]) -> str:
    """The batch's state as a user sees it: ``waiting`` when a running batch has open gates."""
    if batch.state == "running" and shot_stages.get("awaiting_approval"):
        return "waiting"
    return batch.state


def batch_summary(catalog: Catalog, batch_id: str) -> dict[str, Any]:
    """Everything `studio status BATCH` shows: per-stage counts, takes, provider calls, output."""
    batch = catalog.batch(batch_id)
    shots = catalog.shots(batch_id)
    takes = catalog.batch_takes(batch_id)
    attempts = catalog.attempts(batch_id=batch_id)
    approvals = catalog.approvals(batch_id=batch_id)
    stages = Counter(s.stage for s in shots)
    total_takes = len(takes) or batch.total_takes
    calls: dict[str, dict[str, int]] = {}
    for a in attempts:
        calls.setdefault(a.provider, Counter())[a.status] += 1  # type: ignore[index]
    decided = Counter(a.decision for a in approvals)
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
            "upscale": {"done": sum(1 for t in takes if t.final_key), "total": total_takes},
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
                "waiting": stages.get("awaiting_approval", 0),
                "failed": stages.get("failed", 0),
                "created_at": _iso(batch.created_at),
                "output_dir": batch.output_dir,
            }
        )
    return rows


def shots_waiting(catalog: Catalog, batch_id: str) -> list[str]:
    """Shot ids waiting at an approval gate, in storyboard order."""
    return [s.shot_id for s in catalog.shots(batch_id) if s.stage == "awaiting_approval"]

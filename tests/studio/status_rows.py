"""Catalog rows for `studio status` tests: batches in every situation status reports, written
straight into the catalog (no Temporal, no renders), with fixed ids, times and paths.

Plain strings for states on purpose: these are rows as a catalog holds them. The `--json` goldens
in tests/fixtures/status-*.json were printed for these rows by the studio before its status became
typed read models (see tests/studio/test_status_json.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from studio.catalog.models import Approval, Batch, ProviderAttempt, Shot, Take, utcnow
from studio.catalog.store import Catalog
from studio.outages.notes import note_outage

WAITING = "lighthouse-0001"
"""A running batch at its gates and its budget, with failures, refusals, an open circuit and an outage."""
PUBLISHED = "lighthouse-0002"
QUEUED = "lighthouse-0003"
"""Launched, no storyboard yet: its take count is the project's."""
LAUNCHED = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def _batch(batch_id: str, minutes: int, **fields: Any) -> Batch:
    return Batch(
        id=batch_id,
        project_name="The Lighthouse Keeper",
        project_slug="the-lighthouse-keeper",
        project_source="project.toml",
        project_key="k",
        seed=1234,
        output_dir=f"/studio/published/{batch_id}",
        created_at=LAUNCHED + timedelta(minutes=minutes),
        **fields,
    )


def _shot(batch_id: str, n: int, stage: str, upscale: int = 1, error: str | None = None) -> Shot:
    return Shot(
        key=f"{batch_id}/s{n:02}",
        batch_id=batch_id,
        shot_id=f"s{n:02}",
        position=n,
        prompt=f"shot {n}",
        width=64,
        height=64,
        variants=2,
        upscale=upscale,
        stage=stage,
        error=error,
    )


def _take(shot: Shot, number: int, status: str, **fields: Any) -> Take:
    return Take(
        id=f"{shot.key}/{number}",
        batch_id=shot.batch_id,
        shot_key=shot.key,
        number=number,
        seed=1000 * shot.position + number,
        prompt=shot.prompt,
        width=64,
        height=64,
        status=status,
        **fields,
    )


def _rendered(**fields: Any) -> dict[str, Any]:
    return {"provider": "local", "model": "local-procedural-v2", "asset_key": "a" * 64, **fields}


def _waiting_rows() -> tuple[list[Shot], list[Take]]:
    b = WAITING
    shots = [
        _shot(b, 1, "awaiting_approval", upscale=2),
        _shot(b, 2, "waiting_for_provider", error="gemini: 503 unavailable"),
        _shot(b, 3, "awaiting_budget"),
        _shot(b, 4, "published"),
        _shot(b, 5, "failed", error="no provider could render"),
        _shot(b, 6, "rejected"),
    ]
    s1, s2, s3, s4, s5, s6 = shots
    takes = [
        _take(s1, 1, "reviewed", **_rendered(final_key="f" * 64, review_score=0.9, review_passed=True)),
        _take(s1, 2, "reviewed", **_rendered(review_score=0.3, review_passed=False, review_notes="blurry")),
        _take(s2, 1, "rendering"),
        _take(s2, 2, "failed", error="all providers refused"),
        _take(s3, 1, "rendered", **_rendered(seed_used=77, cost_usd=0.0123456789)),
        _take(s4, 1, "approved", **_rendered(review_score=0.8, review_passed=True)),
        _take(s5, 1, "failed", error="invalid request"),
        _take(s6, 1, "reviewed", round=2, **_rendered(review_score=0.5, review_passed=True)),
    ]
    return shots, takes


def _attempts(now: datetime) -> list[ProviderAttempt]:
    b, take = WAITING, f"{WAITING}/s02/1"

    def call(provider: str, status: str, **fields: Any) -> ProviderAttempt:
        stage = fields.pop("stage", "render")
        return ProviderAttempt(take_id=take, batch_id=b, stage=stage, provider=provider, status=status, **fields)

    # Five failures in a row open mistral's circuit at the default threshold, for 120 s.
    down = [
        call("mistral", "failed", error_class="Unavailable", error="503", finished_at=now - timedelta(seconds=i))
        for i in range(5)
    ]
    return [
        *down,
        call("gemini", "failed", error_class="AuthFailed", error="401 bad key", finished_at=now),
        call("gemini", "failed", error_class="InvalidRequest", error="400 bad model", finished_at=now),
        call("local", "succeeded", cost_usd=0.02, finished_at=now),
        call("fal", "succeeded", stage="review", cost_usd=0.0031, finished_at=now),
        call("fal", "started", cost_usd=0.04),
    ]


def status_batches(catalog: Catalog) -> tuple[str, str, str]:
    """Write the :data:`WAITING`, :data:`PUBLISHED` and :data:`QUEUED` batches; returns their ids."""
    catalog.add_batch(_batch(WAITING, 0, approval_required=True, budget_usd=0.05))
    shots, takes = _waiting_rows()
    catalog.add_shots(WAITING, shots, takes)
    catalog.add_batch(_batch(PUBLISHED, 10, state="published", finished_at=LAUNCHED + timedelta(minutes=14)))
    shot = _shot(PUBLISHED, 1, "published")
    catalog.add_shots(PUBLISHED, [shot], [_take(shot, 1, "approved", **_rendered(seed_used=9))])
    catalog.add_batch(_batch(QUEUED, 20, total_shots=3, total_takes=6))
    with catalog.session() as s:
        s.add_all(_attempts(utcnow()))
        s.add(
            ProviderAttempt(
                take_id=f"{PUBLISHED}/s01/1", batch_id=PUBLISHED, stage="render", provider="local", status="succeeded"
            )
        )
        for shot_key, decision in ((f"{WAITING}/s04", "approve"), (f"{WAITING}/s06", "reject")):
            s.add(Approval(shot_key=shot_key, batch_id=WAITING, decision=decision, take_id=f"{shot_key}/1"))
        published = s.get(Batch, PUBLISHED)
        assert published is not None
        published.state = "published"  # add_shots moved it to running
    note_outage(catalog, "the asset store", "disk full", LAUNCHED + timedelta(minutes=3))
    return WAITING, PUBLISHED, QUEUED

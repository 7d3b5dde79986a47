"""Prices, the circuit breaker, calls in flight and budgets, checked where every worker checks
them: in the catalog, in the transaction that writes the call down."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from studio.catalog.call_guard import CallPolicy, RecentCall, circuit_until
from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.stages import begin_render
from studio.catalog.store import Catalog
from studio.spending.prices import price_of
from tests.studio.catalog_rows import add_batch


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")


def test_prices_prefer_overrides_then_the_most_specific_key() -> None:
    assert price_of("render", "local") == 0.0
    assert price_of("render", "replicate", "black-forest-labs/flux-dev") == 0.025
    assert price_of("render", "replicate", "black-forest-labs/flux-dev:abc123") == 0.025  # pinned version
    assert price_of("render", "replicate", "someone/else") == 0.003  # unknown model: the provider's price
    assert price_of("render", "replicate", "black-forest-labs/flux-dev", {"replicate": 0.5}) == 0.5
    assert price_of("upscale", "replicate", None, {"replicate": 0.5}) == 0.002  # a render price is not an upscale's
    assert price_of("review", "nobody") == 0.0


def test_circuit_opens_after_a_streak_of_provider_trouble_only() -> None:
    now = utcnow()
    fail = [RecentCall("failed", "Unavailable", now - timedelta(seconds=i)) for i in range(3)]
    assert circuit_until(fail, 3, 60) == fail[0].finished_at + timedelta(seconds=60)
    assert circuit_until(fail[:2], 3, 60) is None  # not enough failures yet
    mixed = [fail[0], RecentCall("succeeded", None, now), fail[2]]
    assert circuit_until(mixed, 3, 60) is None  # a success in between resets the streak
    refused = [RecentCall("failed", "Rejected", now)] * 3
    assert circuit_until(refused, 3, 60) is None  # content refusals are about the prompt, not the vendor


def test_open_circuit_blocks_calls_until_the_cooldown_then_lets_one_probe(catalog: Catalog) -> None:
    takes = add_batch(catalog, 4)
    policy = CallPolicy(circuit_failures=2, circuit_cooldown=0.5, breakers=frozenset({"gemini"}))
    for take_id in takes[:2]:
        start = begin_render(catalog, take_id, provider="gemini", attempt=1, policy=policy)
        assert start.blocked is None and start.attempt_id is not None
        catalog.finish_attempt(start.attempt_id, status="failed", error_class="Unavailable", error="503")

    blocked = begin_render(catalog, takes[2], provider="gemini", attempt=1, policy=policy).blocked
    assert blocked is not None and blocked.reason == "circuit_open"
    assert begin_render(catalog, takes[2], provider="mistral", attempt=1, policy=policy).blocked is None

    deadline = utcnow() + timedelta(seconds=5)
    while begin_render(catalog, takes[2], provider="gemini", attempt=1, policy=policy).blocked is not None:
        assert utcnow() < deadline, "the circuit never half-opened"
    # Half open: the probe is in flight, so a second call is still skipped.
    second = begin_render(catalog, takes[3], provider="gemini", attempt=1, policy=policy).blocked
    assert second is not None and "probe" in second.message


def test_calls_in_flight_are_limited_across_concurrent_callers(catalog: Catalog) -> None:
    takes = add_batch(catalog, 8)
    policy = CallPolicy(max_in_flight={"replicate": 3})

    def start(take_id: str) -> bool:
        return begin_render(catalog, take_id, provider="replicate", attempt=1, policy=policy).blocked is None

    with ThreadPoolExecutor(8) as pool:
        started = list(pool.map(start, takes))
    assert sum(started) == 3
    # Finishing one frees one slot.
    first = next(a for a in catalog.attempts(batch_id="b-1") if a.status == "started")
    assert first.id is not None
    catalog.finish_attempt(first.id, status="succeeded")
    assert sum(start(t) for t, ok in zip(takes, started, strict=True) if not ok) == 1


def test_budget_reserves_calls_in_flight_and_releases_failures(catalog: Catalog) -> None:
    takes = add_batch(catalog, 5, budget=1.0)
    policy = CallPolicy()

    def start(take_id: str):
        return begin_render(catalog, take_id, provider="gemini", attempt=1, price=0.3, policy=policy)

    with ThreadPoolExecutor(5) as pool:
        starts = list(pool.map(start, takes))
    ok = [s for s in starts if s.blocked is None]
    assert len(ok) == 3  # 3 × 0.30 fits in 1.00; a fourth would not, even with none finished yet
    assert {s.blocked.reason for s in starts if s.blocked} == {"over_budget"}

    assert ok[0].attempt_id is not None
    catalog.finish_attempt(ok[0].attempt_id, status="failed", error_class="Unavailable", cost_usd=0.0)
    assert start(takes[-1]).blocked is None  # a failed call costs nothing: its reservation is back


def test_a_dead_workers_call_keeps_its_job_when_the_budget_blocks_the_retry(catalog: Catalog) -> None:
    (take_id,) = add_batch(catalog, 1, budget=0.5)
    policy = CallPolicy()
    first = begin_render(catalog, take_id, provider="replicate", attempt=1, price=0.3, policy=policy)
    assert first.attempt_id is not None
    catalog.set_attempt_job(first.attempt_id, "pred-123")
    # Another batch-mate spent the rest meanwhile.
    with catalog.session() as s:
        s.add(
            ProviderAttempt(
                take_id=take_id, batch_id="b-1", stage="upscale", provider="replicate", status="succeeded", cost_usd=0.3
            )
        )

    retry = begin_render(catalog, take_id, provider="replicate", attempt=2, price=0.3, policy=policy)
    assert retry.blocked is not None and retry.blocked.reason == "over_budget"
    (render_call,) = [a for a in catalog.attempts(take_id=take_id) if a.stage == "render"]
    assert (render_call.status, render_call.job_id) == ("started", "pred-123")  # untouched: resumable later

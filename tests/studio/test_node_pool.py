"""The render-node pool of a self-hosted provider, counted where every worker counts it: in the
catalog, in the transaction that writes the call down."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from providers.spec import parse_nodes
from studio.catalog.call_guard import BUSY_WAIT, STALE_AFTER, CallPolicy
from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.node_pool import NodeState, pick_node
from studio.catalog.stages import RenderStart, begin_render
from studio.catalog.store import Catalog
from studio.errors import NotFound
from tests.studio.catalog_rows import add_batch

A, B = "http://gpu-a:8188", "http://gpu-b:8188"
COOLDOWN = 60.0


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return Catalog.open(f"sqlite:///{tmp_path / 'catalog.db'}")


def pool(nodes: str, **limits: float) -> CallPolicy:
    """A policy whose ``comfyui`` pool is ``nodes`` (``COMFYUI_URLS`` syntax)."""
    return CallPolicy(
        nodes={"comfyui": parse_nodes(nodes)},
        node_failures=int(limits.get("failures", 3)),
        node_cooldown=limits.get("cooldown", COOLDOWN),
    )


def start(catalog: Catalog, take_id: str, policy: CallPolicy, attempt: int = 1) -> RenderStart:
    return begin_render(catalog, take_id, provider="comfyui", attempt=attempt, policy=policy)


def node_of(catalog: Catalog, take_id: str, policy: CallPolicy) -> str | None:
    """The node a new call for ``take_id`` goes to (``None`` when it is blocked)."""
    return start(catalog, take_id, policy).node


def add_call(
    catalog: Catalog,
    node: str,
    status: str,
    error_class: str | None = None,
    *,
    ago: float = 0.0,
    take_id: str = "b-1/s/1",
) -> None:
    """A call another worker made on ``node``, started (or finished) ``ago`` seconds ago."""
    at = utcnow() - timedelta(seconds=ago)
    with catalog.session() as s:
        s.add(
            ProviderAttempt(
                take_id=take_id,
                batch_id="b-1",
                stage="render",
                provider="comfyui",
                status=status,
                error_class=error_class,
                node=node,
                started_at=at - timedelta(seconds=1),
                finished_at=None if status == "started" else at,
            )
        )


def finish(catalog: Catalog, begun: RenderStart, status: str, error_class: str | None = None) -> None:
    assert begun.attempt_id is not None
    catalog.finish_attempt(begun.attempt_id, status=status, error_class=error_class)


def test_calls_spread_over_the_nodes_and_a_node_takes_as_many_as_its_slots(catalog: Catalog) -> None:
    takes = add_batch(catalog, 5)
    policy = pool(f"{A}#slots=2,{B}")
    # Least loaded first (share of its slots in use), settings order on ties.
    assert [node_of(catalog, t, policy) for t in takes[:3]] == [A, B, A]
    busy = start(catalog, takes[3], policy).blocked
    assert busy is not None and (busy.reason, busy.retry_in) == ("busy", BUSY_WAIT)
    assert busy.message == "comfyui: all 2 nodes busy"
    # The node is written on the call, so every worker counts it.
    assert Counter(a.node for a in catalog.attempts(batch_id="b-1")) == Counter({A: 2, B: 1})
    # A finished call frees its slot.
    finish(catalog, start(catalog, takes[0], policy, attempt=2), "succeeded")
    assert node_of(catalog, takes[3], policy) == A


def test_providers_without_nodes_get_no_node(catalog: Catalog) -> None:
    (take_id,) = add_batch(catalog, 1)
    begun = begin_render(catalog, take_id, provider="local", attempt=1, policy=pool(A))
    assert begun.blocked is None and begun.node is None


def test_a_failing_node_is_set_aside_and_the_other_gets_the_calls(catalog: Catalog) -> None:
    takes = add_batch(catalog, 4)
    policy = pool(f"{A},{B}#slots=2")
    first = start(catalog, takes[0], policy)
    assert first.node == A
    finish(catalog, first, "failed", "Unavailable")
    add_call(catalog, A, "failed", "unavailable")  # the kind's spelling counts as the class name does
    add_call(catalog, A, "failed", "Unavailable")
    assert [node_of(catalog, t, policy) for t in takes[1:3]] == [B, B]
    busy = start(catalog, takes[3], policy).blocked
    assert busy is not None and busy.reason == "busy"  # B is full; A waits out its cooldown
    assert busy.message == "comfyui: 1 node busy (1 set aside)"


def test_after_the_cooldown_one_probe_goes_to_the_node_and_a_success_brings_it_back(catalog: Catalog) -> None:
    takes = add_batch(catalog, 4)
    policy = pool(f"{A}#slots=2,{B}")
    for _ in range(3):
        add_call(catalog, A, "failed", "Unavailable", ago=2 * COOLDOWN)
    probe = start(catalog, takes[0], policy)
    assert probe.node == A
    # A has a free slot, but one probe at a time: the next call goes elsewhere.
    assert node_of(catalog, takes[1], policy) == B
    busy = start(catalog, takes[2], policy).blocked
    assert busy is not None and busy.reason == "busy"
    finish(catalog, probe, "succeeded")
    assert [node_of(catalog, t, policy) for t in takes[2:4]] == [A, A]  # back, with both its slots


def test_a_failed_probe_sets_the_node_aside_again(catalog: Catalog) -> None:
    takes = add_batch(catalog, 2)
    policy = pool(f"{A},{B}")
    for _ in range(3):
        add_call(catalog, A, "failed", "Unavailable", ago=2 * COOLDOWN)
    probe = start(catalog, takes[0], policy)
    assert probe.node == A
    finish(catalog, probe, "failed", "Unavailable")
    finish(catalog, start(catalog, takes[1], policy), "succeeded")  # on B
    assert node_of(catalog, takes[1], policy) == B


def test_every_node_set_aside_opens_the_circuit_until_the_first_may_be_probed(catalog: Catalog) -> None:
    takes = add_batch(catalog, 1)
    policy = pool(f"{A},{B}", failures=2)
    for node, ago in ((A, 10.0), (A, 9.0), (B, 30.0), (B, 20.0)):
        add_call(catalog, node, "failed", "Unavailable", ago=ago)
    blocked = start(catalog, takes[0], policy).blocked
    assert blocked is not None and blocked.reason == "circuit_open"
    assert blocked.message.startswith("comfyui: every node set aside (http://gpu-a:8188 until ")
    # B failed longest ago: it is probed first, at most COOLDOWN - 20 s from now (A: COOLDOWN - 9 s).
    assert blocked.retry_in is not None and 0 < blocked.retry_in <= COOLDOWN - 20
    assert not [a for a in catalog.attempts(take_id=takes[0]) if a.status == "started"]  # nothing written


def test_a_resumed_job_goes_to_its_own_node_even_when_that_node_is_busy(catalog: Catalog) -> None:
    takes = add_batch(catalog, 3)
    policy = pool(f"{A},{B}")
    first = start(catalog, takes[0], policy)
    assert first.node == A and first.attempt_id is not None
    catalog.set_attempt_job(first.attempt_id, f"p-1@{A}")
    assert node_of(catalog, takes[1], policy) == B
    add_call(catalog, A, "started", take_id=takes[2])  # another worker's call holds A's slot meanwhile
    # The first take's worker died; its retry resumes the same job, on the same node.
    resumed = start(catalog, takes[0], policy, attempt=2)
    assert (resumed.node, resumed.job_id) == (A, f"p-1@{A}")
    lost, current = (a for a in catalog.attempts(take_id=takes[0]) if a.provider == "comfyui")
    assert (lost.status, current.node) == ("lost", A)


def test_invalid_requests_do_not_set_a_node_aside(catalog: Catalog) -> None:
    takes = add_batch(catalog, 1)
    policy = pool(A)
    for error_class in ("InvalidRequest", "invalid", "Rejected"):
        add_call(catalog, A, "failed", error_class)
    assert node_of(catalog, takes[0], policy) == A


def test_lost_calls_neither_break_nor_make_a_streak(catalog: Catalog) -> None:
    takes = add_batch(catalog, 1)
    policy = pool(A)
    add_call(catalog, A, "failed", "Unavailable", ago=3)
    add_call(catalog, A, "failed", "Unavailable", ago=2)
    add_call(catalog, A, "lost", ago=1.5)  # its worker died: says nothing of the node
    add_call(catalog, A, "failed", "Unavailable", ago=1)
    blocked = start(catalog, takes[0], policy).blocked
    assert blocked is not None and blocked.reason == "circuit_open"


def test_stale_started_calls_hold_no_slot(catalog: Catalog) -> None:
    takes = add_batch(catalog, 2)
    add_call(catalog, A, "started", ago=STALE_AFTER.total_seconds() + 60, take_id=takes[1])
    assert node_of(catalog, takes[0], pool(A)) == A


def test_callers_racing_for_the_last_slots_never_both_win(catalog: Catalog) -> None:
    takes = add_batch(catalog, 8)
    policy = pool(f"{A}#slots=2,{B}")
    with ThreadPoolExecutor(8) as threads:
        starts = list(threads.map(lambda t: start(catalog, t, policy), takes))
    assert Counter(s.node for s in starts if s.blocked is None) == Counter({A: 2, B: 1})
    assert {s.blocked.reason for s in starts if s.blocked is not None} == {"busy"}
    running = Counter(a.node for a in catalog.attempts(batch_id="b-1") if a.status == "started")
    assert running == Counter({A: 2, B: 1})


def test_pick_node_prefers_the_lowest_share_in_use() -> None:
    now = utcnow()
    a, b = parse_nodes(f"{A}#slots=4,{B}#slots=2")
    assert pick_node("comfyui", [NodeState(a, in_use=2), NodeState(b, in_use=0)], now) == B
    assert pick_node("comfyui", [NodeState(a, in_use=1), NodeState(b, in_use=1)], now) == A  # 1/4 < 1/2
    probing = NodeState(b, in_use=1, aside_until=now - timedelta(seconds=1), probing=True)
    blocked = pick_node("comfyui", [probing], now)
    assert not isinstance(blocked, str) and blocked.reason == "circuit_open" and blocked.retry_in is None
    assert blocked.message == f"comfyui: every node set aside ({B} probing)"


def test_progress_is_saved_on_the_call(catalog: Catalog) -> None:
    (take_id,) = add_batch(catalog, 1)
    begun = start(catalog, take_id, pool(A))
    assert begun.attempt_id is not None
    catalog.set_attempt_progress(begun.attempt_id, {"node": A, "state": "running", "step": 3, "steps": 20})
    (call,) = catalog.attempts(take_id=take_id)
    assert call.progress == {"node": A, "state": "running", "step": 3, "steps": 20}
    with pytest.raises(NotFound):
        catalog.set_attempt_progress(10_000, {"state": "queued"})

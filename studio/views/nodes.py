"""What `studio nodes` and the dashboard's "Render nodes" panel show: each render node of every
self-hosted provider (ComfyUI, AUTOMATIC1111), with what it says of itself and what the catalog
knows of it.

A node's own answer (reachable, version, its queue) comes from its provider's probe (the
``probe`` of its :class:`~providers.spec.ProviderSpec`), asked of every node at once; the rest
(calls in flight, jobs done, seconds per image, health) from the catalog, in two queries for
every node together. Health follows the pool's own rules (:mod:`studio.catalog.node_pool`), so
what is shown is what the workers do.
"""

from __future__ import annotations

import asyncio
import statistics
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import col

from providers import table
from providers.spec import AdapterConfig, Node, load_factory
from studio.catalog.call_guard import STALE_AFTER, CallPolicy, RecentCall
from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.node_pool import ANSWERED, node_state
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.states import CallStatus

# Succeeded calls the seconds-per-image median is taken over (the node's recent speed).
SPEED_WINDOW = 50
# A last error longer than this is cut with "…" (the attempts themselves keep it whole).
ERROR_EXCERPT = 80

Probe = Callable[[str], Awaitable[Mapping[str, Any]]]
"""A provider's node probe: a node URL → ``{reachable, version, queue, running, error}``."""


@dataclass(frozen=True)
class NodePool:
    """The render nodes of one self-hosted provider, as the settings name them.

    Attributes:
        provider: The provider (``comfyui``).
        nodes: Its nodes, in settings order.
        probe: ``"module:factory"`` building its probe, if it has one.
        auth: Its optional credential (a secret: handed to the probe and nowhere else).
    """

    provider: str
    nodes: tuple[Node, ...]
    probe: str | None = None
    auth: str = field(default="", repr=False)


@dataclass(frozen=True)
class NodeRow:
    """One render node in `studio nodes` and the dashboard.

    Attributes:
        provider: Its provider.
        url: Its URL.
        slots: Jobs it runs at once.
        reachable: It answered the probe; ``None`` when not probed.
        version: The version it reports, if it answered.
        queue: Jobs pending in its own queue (anyone's), if it answered.
        busy: Our calls in flight on it (every worker's, stale ones left out).
        jobs_done: Render calls it finished well, ever.
        seconds_per_image: Median seconds of its last :data:`SPEED_WINDOW` good render calls.
        health: ``ok``, ``set_aside`` (failed too often in a row: cooling down) or ``probing``
            (the cooldown is over: the next call to it decides).
        aside_until: When a node set aside may be probed again.
        last_error: The probe's error when it did not answer, else its last failed call's.
    """

    provider: str
    url: str
    slots: int
    reachable: bool | None
    version: str | None
    queue: int | None
    busy: int
    jobs_done: int
    seconds_per_image: float | None
    health: str
    aside_until: datetime | None
    last_error: str | None

    def health_text(self) -> str:
        """``ok``, ``probing``, or ``set aside until 14:03:07 UTC``."""
        if self.health == "set_aside" and self.aside_until is not None:
            return f"set aside until {self.aside_until:%H:%M:%S} UTC"
        return self.health

    def to_json(self) -> dict[str, Any]:
        """The `studio nodes --json` object (stable keys)."""
        return {
            "provider": self.provider,
            "url": self.url,
            "slots": self.slots,
            "reachable": self.reachable,
            "version": self.version,
            "queue": self.queue,
            "busy": self.busy,
            "jobs_done": self.jobs_done,
            "seconds_per_image": self.seconds_per_image,
            "health": self.health,
            "aside_until": self.aside_until.isoformat(timespec="seconds") if self.aside_until else None,
            "last_error": self.last_error,
        }


def node_pools(settings: Settings) -> list[NodePool]:
    """Every self-hosted provider with nodes set (``COMFYUI_URLS``, ``A1111_URLS``), in table order."""
    pools = []
    for spec in table.PROVIDERS:
        nodes = settings.provider_nodes(spec.name) if spec.nodes is not None else ()
        if nodes:
            auth = settings.provider_auth(spec.name)
            pools.append(NodePool(spec.name, nodes, spec.probe, auth.get_secret_value() if auth else ""))
    return pools


def node_variables() -> list[str]:
    """The variables that name render nodes (for the hint shown when none is set)."""
    return [spec.nodes.env for spec in table.PROVIDERS if spec.nodes is not None]


async def _ask(probe: Probe, url: str, timeout: float) -> dict[str, Any]:
    try:
        answer = await asyncio.wait_for(probe(url), timeout + 1.0)
    except TimeoutError:
        return {"reachable": False, "error": f"no answer in {timeout:g} s"}
    except Exception as err:  # a probe is meant never to raise; one that does still only marks its node
        return {"reachable": False, "error": f"{type(err).__name__}: {err}"}
    return dict(answer)


async def probe_pools(pools: Sequence[NodePool], *, timeout: float = 5.0) -> dict[tuple[str, str], dict[str, Any]]:
    """Ask every node of every pool at once; answers by ``(provider, url)``.

    A pool whose provider has no probe is left out (its nodes show as not probed).
    """
    asks: dict[tuple[str, str], Awaitable[dict[str, Any]]] = {}
    for pool in pools:
        if pool.probe is None:
            continue
        config = AdapterConfig(nodes=tuple(n.url for n in pool.nodes), auth=pool.auth, timeout=timeout)
        probe: Probe = load_factory(pool.probe)(config)
        for node in pool.nodes:
            asks[(pool.provider, node.url)] = _ask(probe, node.url, timeout)
    answers = await asyncio.gather(*asks.values())
    return dict(zip(asks, answers, strict=True))


@dataclass
class _Known:
    """What the catalog knows of one node (filled from the two queries)."""

    started: list[datetime] = field(default_factory=list)
    recent: list[tuple[datetime, str, str | None]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    jobs_done: int = 0
    last_error: str | None = None


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back naive; they were written as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)


def _catalog_facts(catalog: Catalog, pools: Sequence[NodePool], failures: int) -> dict[tuple[str, str], _Known]:
    """Calls in flight, latest answered render calls and jobs done of every node, in two queries."""
    providers = [p.provider for p in pools]
    urls = sorted({n.url for p in pools for n in p.nodes})
    facts: defaultdict[tuple[str, str], _Known] = defaultdict(_Known)
    a = ProviderAttempt
    mine = (col(a.provider).in_(providers), col(a.node).in_(urls))
    keep = max(SPEED_WINDOW, failures)
    # The newest `keep` answered render calls of each node and outcome, with the outcome's count.
    partition = (col(a.provider), col(a.node), col(a.status))
    ranked = (
        select(
            col(a.provider),
            col(a.node),
            col(a.status),
            col(a.error_class),
            col(a.error),
            col(a.latency_ms),
            col(a.finished_at),
            func.row_number().over(partition_by=partition, order_by=col(a.finished_at).desc()).label("rank"),
            func.count().over(partition_by=partition).label("total"),
        )
        .where(*mine, col(a.stage) == "render", col(a.status).in_(ANSWERED), col(a.finished_at).is_not(None))
        .subquery()
    )
    with catalog.session() as s:
        started = s.execute(
            select(col(a.provider), col(a.node), col(a.started_at)).where(
                *mine, col(a.status) == CallStatus.STARTED, col(a.started_at) >= utcnow() - STALE_AFTER
            )
        ).all()
        answered = s.execute(
            select(ranked).where(ranked.c.rank <= keep).order_by(ranked.c.finished_at.desc(), ranked.c.rank)
        ).all()
    for provider, node, at in started:
        facts[(provider, node)].started.append(_aware(at))
    for provider, node, status, error_class, error, latency_ms, finished_at, _, total in answered:
        known = facts[(provider, node)]
        known.recent.append((_aware(finished_at), status, error_class))
        if status == CallStatus.SUCCEEDED:
            known.jobs_done = total
            if latency_ms is not None and len(known.latencies) < SPEED_WINDOW:
                known.latencies.append(latency_ms / 1000)
        elif known.last_error is None:  # rows come newest first
            known.last_error = f"{error_class}: {error}" if error_class and error else (error or error_class)
    return facts


def _short(text: Any) -> str | None:
    if not text:
        return None
    flat = " ".join(str(text).split())
    return flat if len(flat) <= ERROR_EXCERPT else flat[: ERROR_EXCERPT - 1].rstrip() + "…"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _row(pool: NodePool, node: Node, known: _Known, answer: Mapping[str, Any] | None, policy: CallPolicy) -> NodeRow:
    recent = [RecentCall(status, error_class, at) for at, status, error_class in known.recent]
    state = node_state(node, known.started, recent[: policy.node_failures], policy)
    now = utcnow()
    health = "ok" if state.aside_until is None else ("set_aside" if now < state.aside_until else "probing")
    reachable = None if answer is None else bool(answer.get("reachable"))
    probe_error = answer.get("error") if answer is not None and not reachable else None
    version = answer.get("version") if answer is not None else None
    return NodeRow(
        provider=pool.provider,
        url=node.url,
        slots=node.slots,
        reachable=reachable,
        version=str(version) if version else None,
        queue=_int(answer.get("queue")) if answer is not None else None,
        busy=state.in_use,
        jobs_done=known.jobs_done,
        seconds_per_image=round(statistics.median(known.latencies), 2) if known.latencies else None,
        health=health,
        aside_until=state.aside_until if health == "set_aside" else None,
        last_error=_short(probe_error or known.last_error),
    )


def node_rows(
    catalog: Catalog,
    settings: Settings,
    *,
    probe: bool = True,
    timeout: float = 5.0,
    pools: Sequence[NodePool] | None = None,
    answers: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> list[NodeRow]:
    """One row per render node of every self-hosted provider, in settings order.

    Args:
        probe: Ask each node about itself (reachable, version, queue); ``False`` reads the
            catalog only.
        timeout: Seconds each probe may take.
        pools: The pools to show (default: those the settings name, :func:`node_pools`).
        answers: Probe answers already at hand by ``(provider, url)`` (the dashboard caches
            them); no node is asked again.
    """
    pools = node_pools(settings) if pools is None else pools
    if not pools:
        return []
    if answers is None and probe:
        answers = asyncio.run(probe_pools(pools, timeout=timeout))
    policy = CallPolicy(node_failures=settings.node_failures, node_cooldown=settings.node_cooldown)
    facts = _catalog_facts(catalog, pools, settings.node_failures)
    return [
        _row(
            pool,
            node,
            facts.get((pool.provider, node.url), _Known()),
            (answers or {}).get((pool.provider, node.url)),
            policy,
        )
        for pool in pools
        for node in pool.nodes
    ]

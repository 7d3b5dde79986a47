"""`studio nodes` and its read model: render nodes as the catalog and the nodes themselves say.

The catalog is filled with provider calls on nodes (no Temporal, no renders); probes are either a
FakeComfyUI asked through the provider's own probe, or a scripted probe named like any factory.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from rich.console import Console

from providers.spec import AdapterConfig, Node
from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.store import Catalog
from studio.cli import display, main
from studio.settings import Settings
from studio.views import nodes as nodes_view
from studio.views.nodes import NodePool, node_rows, probe_pools
from tests.providers.fake_comfyui import VERSION, FakeComfyUI
from tests.studio.catalog_rows import add_batch
from tests.support.environment import point_environment_at

GPU, LAPTOP = "http://gpu-box:8188", "http://laptop:8188"
PROBES: list[AdapterConfig] = []
"""Every config the scripted probe was built with (a test reads and clears it)."""


def scripted_probe(config: AdapterConfig) -> Callable[[str], Any]:
    """A probe factory like a provider's: the gpu box answers, the laptop is off."""
    PROBES.append(config)

    async def probe(url: str) -> Mapping[str, Any]:
        if url == GPU:
            return {"reachable": True, "version": "0.3.64", "queue": 2, "running": 1, "error": None}
        return {"reachable": False, "version": None, "queue": None, "running": None, "error": "connection refused"}

    return probe


SCRIPTED = f"{__name__}:scripted_probe"


def _call(
    take: str, node: str, status: str, *, ago: float, latency_ms: int | None = None, **fields: Any
) -> ProviderAttempt:
    """A render call on ``node`` that finished (or, while started, began) ``ago`` seconds ago."""
    at = utcnow() - timedelta(seconds=ago)
    finished = None if status == "started" else at
    return ProviderAttempt(
        take_id=take,
        batch_id="b-1",
        stage=fields.pop("stage", "render"),
        provider=fields.pop("provider", "comfyui"),
        node=node,
        status=status,
        latency_ms=latency_ms,
        started_at=at if finished is None else at - timedelta(seconds=1),
        finished_at=finished,
        **fields,
    )


def _write(catalog: Catalog, calls: list[ProviderAttempt]) -> None:
    with catalog.session() as s:
        s.add_all(calls)


@pytest.fixture
def takes(catalog: Catalog) -> list[str]:
    return add_batch(catalog, 3)


def _pools(probe: str | None = SCRIPTED) -> list[NodePool]:
    return [NodePool("comfyui", (Node(GPU, 2), Node(LAPTOP)), probe, auth="secret-token")]


def test_pools_come_from_the_settings_of_each_self_hosted_provider(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"comfyui_urls": f"{GPU}#slots=2,{LAPTOP}", "comfyui_token": SecretStr("t0k"), "a1111_urls": None}
    )
    (pool,) = nodes_view.node_pools(configured)
    assert (pool.provider, pool.nodes, pool.auth) == ("comfyui", (Node(GPU, 2), Node(LAPTOP)), "t0k")
    assert pool.probe == "providers.comfyui.factory:probe" and "t0k" not in repr(pool)
    assert nodes_view.node_variables() == ["COMFYUI_URLS", "A1111_URLS"]


def test_jobs_done_speed_busy_and_last_error_from_the_catalog(
    catalog: Catalog, settings: Settings, takes: list[str]
) -> None:
    t = takes[0]
    # 60 good calls on the gpu box: the median is over the newest 50 (1..50 s; the 10 oldest are 100 s).
    calls = [_call(t, GPU, "succeeded", ago=1000 - i, latency_ms=1000 * (i + 1)) for i in range(50)]
    calls += [_call(t, GPU, "succeeded", ago=2000 + i, latency_ms=100_000) for i in range(10)]
    calls += [_call(t, GPU, "failed", ago=500, error_class="execution_error", error="KSampler: CUDA out of memory")]
    calls += [_call(t, GPU, "succeeded", ago=400, stage="upscale", latency_ms=9)]  # upscales are not jobs
    calls += [_call(t, GPU, "started", ago=5), _call(t, GPU, "started", ago=3600)]  # the second: a dead worker's
    calls += [_call(t, GPU, "succeeded", ago=10, provider="a1111", latency_ms=1)]  # another provider's
    calls += [_call(t, LAPTOP, "lost", ago=50)]  # a lost call says nothing of the node
    _write(catalog, calls)

    gpu, laptop = node_rows(catalog, settings, probe=False, pools=_pools())
    assert (gpu.provider, gpu.url, gpu.slots, gpu.busy, gpu.jobs_done) == ("comfyui", GPU, 2, 1, 60)
    assert gpu.seconds_per_image == 25.5  # median of 1..50 s
    assert gpu.health == "ok" and gpu.health_text() == "ok" and gpu.aside_until is None
    assert gpu.last_error == "execution_error: KSampler: CUDA out of memory"
    assert (gpu.reachable, gpu.version, gpu.queue) == (None, None, None)  # not probed
    assert (laptop.busy, laptop.jobs_done, laptop.seconds_per_image, laptop.last_error) == (0, 0, None, None)


def test_a_node_failing_in_a_row_is_set_aside_then_probing(
    catalog: Catalog, settings: Settings, takes: list[str]
) -> None:
    assert (settings.node_failures, settings.node_cooldown) == (3, 60.0)
    t = takes[0]
    trouble: dict[str, Any] = {
        "error_class": "unavailable",
        "error": "comfyui at http://gpu-box:8188: connection refused",
    }
    _write(
        catalog,
        [_call(t, GPU, "succeeded", ago=100, latency_ms=2000)]
        + [_call(t, GPU, "failed", ago=ago, **trouble) for ago in (30, 20, 10)]
        # The laptop failed as often, but longer ago than the cooldown: its next call probes it.
        + [_call(t, LAPTOP, "failed", ago=ago, **trouble) for ago in (300, 200, 100)],
    )
    gpu, laptop = node_rows(catalog, settings, probe=False, pools=_pools())
    assert gpu.health == "set_aside" and gpu.aside_until is not None
    # Set aside until the cooldown after its latest failure, exactly: read that failure back.
    failures = catalog.attempts(batch_id="b-1")
    latest = max(a.finished_at for a in failures if a.node == GPU and a.status == "failed" and a.finished_at)
    latest = latest if latest.tzinfo else latest.replace(tzinfo=UTC)  # SQLite hands it back naive (UTC)
    assert gpu.aside_until == latest + timedelta(seconds=settings.node_cooldown)
    assert gpu.health_text() == f"set aside until {gpu.aside_until:%H:%M:%S} UTC"
    assert gpu.jobs_done == 1 and gpu.last_error == "unavailable: comfyui at http://gpu-box:8188: connection refused"
    assert laptop.health == "probing" and laptop.aside_until is None
    assert laptop.to_json()["health"] == "probing"


def test_failures_that_are_the_requests_fault_never_set_a_node_aside(
    catalog: Catalog, settings: Settings, takes: list[str]
) -> None:
    bad: dict[str, Any] = {"error_class": "invalid_request", "error": "node 6: value not in list"}
    _write(catalog, [_call(takes[0], GPU, "failed", ago=ago, **bad) for ago in (3, 2, 1)])
    assert node_rows(catalog, settings, probe=False, pools=_pools())[0].health == "ok"


def test_probe_answers_join_the_rows(catalog: Catalog, settings: Settings, takes: list[str]) -> None:
    PROBES.clear()
    gpu, laptop = node_rows(catalog, settings, pools=_pools(), timeout=2.0)
    (config,) = PROBES  # one probe per provider, told every node, the credential and the timeout
    assert (config.nodes, config.auth, config.timeout) == ((GPU, LAPTOP), "secret-token", 2.0)
    assert (gpu.reachable, gpu.version, gpu.queue, gpu.last_error) == (True, "0.3.64", 2, None)
    assert (laptop.reachable, laptop.version, laptop.queue, laptop.last_error) == (
        False,
        None,
        None,
        "connection refused",
    )
    assert list(laptop.to_json()) == [
        *("provider", "url", "slots", "reachable", "version", "queue", "busy", "jobs_done"),
        *("seconds_per_image", "health", "aside_until", "last_error"),
    ]


async def test_a_probe_that_hangs_or_raises_only_marks_its_node(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    async def hangs(url: str) -> Mapping[str, Any]:
        if url == GPU:
            await asyncio.sleep(60)
        raise OSError("no route to host")

    monkeypatch.setattr(nodes_view, "load_factory", lambda path: lambda config: hangs)
    answers = await probe_pools(_pools(), timeout=0.1)
    assert answers[("comfyui", GPU)] == {"reachable": False, "error": "no answer in 0.1 s"}
    assert answers[("comfyui", LAPTOP)] == {"reachable": False, "error": "OSError: no route to host"}


# -- the command ---------------------------------------------------------------------------------


@pytest.fixture
def comfy_nodes() -> Iterator[tuple[FakeComfyUI, FakeComfyUI]]:
    up, down = FakeComfyUI().start(), FakeComfyUI().start()
    down.down()  # its port refuses connections
    try:
        yield up, down
    finally:
        up.stop()
        down.stop()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point the CLI at the test's catalog; ``use(COMFYUI_URLS=…)`` names the render nodes."""
    point_environment_at(settings, monkeypatch)  # clears the developer's own node variables too
    monkeypatch.setattr(display, "console", Console(width=160))

    def use(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    return use


def _nodes(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    assert main(["nodes", *args]) == 0
    return capsys.readouterr().out


def test_no_nodes_is_a_one_line_hint(cli_env: Callable[..., None], capsys: pytest.CaptureFixture[str]) -> None:
    cli_env()
    assert (
        _nodes(capsys)
        == "no render nodes: set COMFYUI_URLS or A1111_URLS (e.g. http://gpu-box:8188,http://laptop:8188)\n"
    )
    assert json.loads(_nodes(capsys, "--json")) == []


def test_nodes_without_probing_reads_the_catalog(
    cli_env: Callable[..., None], catalog: Catalog, takes: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    cli_env(COMFYUI_URLS=f"{GPU}#slots=2, {LAPTOP}")
    _write(catalog, [_call(takes[0], GPU, "succeeded", ago=ago, latency_ms=4000) for ago in (30, 20)])
    PROBES.clear()
    lines = _nodes(capsys, "--no-probe").splitlines()
    assert not PROBES  # nothing was asked
    header = lines[0].split()
    assert header[:3] == ["node", "provider", "up"] and "s/image" in header and "health" in header
    gpu = next(line for line in lines if line.startswith(GPU)).split()
    assert gpu[:8] == [GPU, "comfyui", "?", "—", "—", "0/2", "2", "4.0"] and gpu[8] == "ok"
    data = json.loads(_nodes(capsys, "--no-probe", "--json"))
    assert [(n["url"], n["reachable"], n["jobs_done"]) for n in data] == [(GPU, None, 2), (LAPTOP, None, 0)]
    display.console = Console(width=70)  # too narrow for the columns: each node is its URL, then words
    narrow = [line.strip() for line in _nodes(capsys, "--no-probe").splitlines()]
    assert narrow[:2] == [GPU, "comfyui · not asked · busy 0/2 · 2 jobs · 4.0 s/image · ok"]


def test_nodes_asks_a_fake_comfyui_up_and_one_down(
    cli_env: Callable[..., None], comfy_nodes: tuple[FakeComfyUI, FakeComfyUI], capsys: pytest.CaptureFixture[str]
) -> None:
    up, down = comfy_nodes
    cli_env(COMFYUI_URLS=f"{up.base_url},{down.base_url}")  # probed through the provider's own probe
    lines = _nodes(capsys).splitlines()
    alive = next(line for line in lines if line.startswith(up.base_url)).split()
    dead = next(line for line in lines if line.startswith(down.base_url))
    assert alive[1:5] == ["comfyui", "yes", VERSION, "0"]
    assert dead.split()[1:5] == ["comfyui", "no", "—", "—"] and dead.split()[8] == "ok"
    data = {n["url"]: n for n in json.loads(_nodes(capsys, "--json"))}
    assert data[up.base_url]["reachable"] is True and data[up.base_url]["version"] == VERSION
    assert data[down.base_url]["reachable"] is False and data[down.base_url]["last_error"]

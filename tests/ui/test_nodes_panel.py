"""The Batches page's "Render nodes" panel and the Shot page's progress lines, through AppTest.

The nodes are named through the panel's pool lookup, with a scripted probe named like any probe
factory, so no node has to run (tests/studio/test_nodes_view.py asks a FakeComfyUI).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

import pytest
import streamlit as st

from providers.spec import AdapterConfig, Node
from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.views.nodes import NodePool
from tests.studio.catalog_rows import add_batch
from tests.ui.app_harness import new_app, run, texts
from ui import nodes_panel

GPU, LAPTOP = "http://gpu-box:8188", "http://laptop:8188"


def scripted_probe(config: AdapterConfig) -> Callable[[str], Any]:
    """The gpu box answers with two jobs queued; the laptop is off."""

    async def probe(url: str) -> Mapping[str, Any]:
        if url == GPU:
            return {"reachable": True, "version": "0.3.64", "queue": 2, "running": 1, "error": None}
        return {"reachable": False, "version": None, "queue": None, "running": None, "error": "connection refused"}

    return probe


@pytest.fixture
def nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two ComfyUI nodes for the dashboard, asked with the scripted probe (answers not cached)."""
    pool = NodePool("comfyui", (Node(GPU, slots=2), Node(LAPTOP)), f"{__name__}:scripted_probe")
    monkeypatch.setattr(nodes_panel, "node_pools", lambda _settings: [pool])
    st.cache_data.clear()


def _call(take: str, node: str, status: str, ago: float, **fields: Any) -> ProviderAttempt:
    at = utcnow() - timedelta(seconds=ago)
    return ProviderAttempt(
        take_id=take,
        batch_id="b-1",
        stage="render",
        provider="comfyui",
        node=node,
        status=status,
        started_at=at,
        finished_at=None if status == "started" else at,
        **fields,
    )


async def test_no_panel_without_render_nodes(app_env: Settings) -> None:
    at = await run(new_app())
    assert "Batches" in texts(at) and "Render nodes" not in texts(at)


async def test_panel_shows_each_node(app_env: Settings, nodes: None, catalog: Catalog) -> None:
    (take, *_) = add_batch(catalog, 2)
    trouble = {"error_class": "unavailable", "error": "connection refused"}
    with catalog.session() as s:
        s.add_all(
            [_call(take, GPU, "succeeded", ago, latency_ms=3000) for ago in (40, 30)]
            + [_call(take, GPU, "started", 1)]
            + [_call(take, LAPTOP, "failed", ago, **trouble) for ago in (12, 11, 10)]
        )
    at = await run(new_app())
    assert "Render nodes" in texts(at)
    assert "2 nodes · 1 renders on them now · 1 not answering · 1 set aside" in texts(at)
    (frame,) = at.dataframe  # the Batches page has no other table
    table = frame.value
    assert list(table["node"]) == [GPU, LAPTOP]
    gpu, laptop = table.to_dict("records")
    assert (gpu["up"], gpu["version"], gpu["queue"], gpu["busy"], gpu["jobs done"]) == ("yes", "0.3.64", 2, "1/2", 2)
    assert (gpu["s/image"], gpu["health"]) == (3.0, "ok")
    assert (laptop["up"], laptop["busy"], laptop["last error"]) == ("no", "0/1", "connection refused")
    assert laptop["health"].startswith("set aside until ")
    (warning,) = [w.value for w in at.warning if LAPTOP in w.value]
    assert warning.startswith(f"{LAPTOP} is set aside until ")


async def test_shot_page_shows_each_rendering_takes_progress(app_env: Settings, catalog: Catalog) -> None:
    first, second = add_batch(catalog, 2)
    catalog.set_batch_state("b-1", "running")
    with catalog.session() as s:
        s.add_all(
            [
                _call(first, GPU, "started", 5, progress={"node": GPU, "state": "running", "step": 12, "steps": 30}),
                _call(second, GPU, "started", 4, progress={"node": GPU, "state": "queued", "queue_position": 1}),
            ]
        )
    at = await run(new_app("app_pages/shot.py", shot="b-1/s"))
    lines = [i.value for i in at.info]
    assert "Take 1: comfyui @ gpu-box:8188  step 12/30" in lines
    assert "Take 2: comfyui @ gpu-box:8188  queued (1 ahead)" in lines

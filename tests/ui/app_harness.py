"""Harness for dashboard tests: the app as AppTest, helpers that keep the in-process worker
running while a page script runs, and a quick way to fill the catalog with a finished batch.

The ``app_env`` fixture that points the app at the test's settings is in tests/conftest.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.support.projects import ROOT

APP = ROOT / "ui" / "streamlit_app.py"


def new_app(page: str | None = None, **query: str) -> AppTest:
    """The dashboard as AppTest, on ``page`` (e.g. ``app_pages/batch.py``) with query parameters."""
    at = AppTest.from_file(APP, default_timeout=30)
    at.query_params.update(query)
    if page is not None:
        at.run()  # the first run registers st.navigation's pages, so switch_page can find them
        at.switch_page(page)
    return at


async def run(at: AppTest) -> AppTest:
    """Run the script in a thread: gate Updates need this loop's worker to keep running meanwhile."""
    await asyncio.to_thread(at.run)
    assert not at.exception, [e.value for e in at.exception]
    return at


async def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Poll ``predicate`` (a plain function) until it is true."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def gates_open(catalog: Catalog, batch_id: str, count: int) -> Callable[[], bool]:
    """A predicate: ``count`` shots of the batch wait at their gates."""
    return lambda: sum(1 for s in catalog.shots(batch_id) if s.stage == "awaiting_approval") == count


def texts(at: AppTest) -> str:
    """Every markdown, caption, title, info, warning, success and error text of a run, joined."""
    parts = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "success", "error", "code"):
        parts.extend(str(el.value) for el in getattr(at, kind))
    return "\n".join(parts)


def shot_stage(catalog: Catalog, key: str) -> str | None:
    """A shot's stage, or ``None`` before the storyboard stage has written it."""
    return next((s.stage for s in catalog.shots(key.split("/", 1)[0]) if s.key == key), None)


async def populate_batch(settings: Settings, catalog: Catalog, assets: AssetStore, project_dir: Path) -> str:
    """Write a finished batch of ``project_dir`` straight into the catalog, with real local renders.

    Faster than running the workflows when a test only needs a big batch to look at.
    """
    from providers.base import RenderRequest
    from providers.local.adapters import LocalRenderer
    from studio.batches.launch import prepare_batch
    from studio.project.storyboard import storyboard_rows

    batch, project = prepare_batch(settings, catalog, assets, project_dir)
    shots, takes = storyboard_rows(project, batch.id, batch.seed, lambda _requested: ["local"])
    catalog.add_shots(batch.id, shots, takes)
    renderer = LocalRenderer()
    for take in takes:
        result = await renderer.render(RenderRequest(take.prompt, take.width, take.height, take.negative, take.seed))
        key = await asyncio.to_thread(assets.put, result.image, result.mime_type)
        catalog.update_take(
            take.id,
            status="approved",
            provider="local",
            model=result.model,
            seed_used=result.seed,
            asset_key=key,
            final_key=key,
            review_score=0.8,
            review_passed=True,
        )
    for shot in shots:
        catalog.update_shot(shot.key, stage="published", final_take_id=f"{shot.key}/1")
    catalog.set_batch_state(batch.id, "published")
    return batch.id

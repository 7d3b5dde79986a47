"""The dashboard during an outage: it says what the studio waits for, and never shows a traceback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from studio.catalog.store import Catalog
from studio.outages.notes import clear_outage, note_outage
from studio.settings import Settings
from tests.support.projects import write_project
from tests.ui.app_harness import new_app, populate_batch, run, texts

PROJECT = (
    '[project]\nname = "Stalled"\nseed = 2\n[defaults]\nsize = "64x64"\nupscale = 1\n'
    '[[shots]]\nid = "a"\nprompt = "a gull"\n[[shots]]\nid = "b"\nprompt = "a buoy"\n'
)


async def test_batch_pages_say_what_the_batch_waits_for(
    app_env: Settings, catalog: Catalog, assets, tmp_path: Path
) -> None:
    batch_id = await populate_batch(app_env, catalog, assets, write_project(tmp_path / "p", PROJECT))
    catalog.set_batch_state(batch_id, "running")
    catalog.update_shot(f"{batch_id}/b", stage="waiting_for_provider", error="gemini: HTTP 503 from gemini")
    note_outage(catalog, "the asset store", "cannot reach S3: connection refused", datetime.now(UTC))

    for page in (None, "app_pages/batch.py"):
        at = await run(new_app(page, batch=batch_id) if page else new_app())
        shown = texts(at)
        assert "Waiting for a provider (1 shot): gemini: HTTP 503 from gemini" in shown, shown
        assert "Waiting for the asset store since" in shown and "connection refused" in shown

    clear_outage(catalog, "the asset store")
    catalog.update_shot(f"{batch_id}/b", stage="rendering", error="")
    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    assert "Waiting for" not in texts(at)


async def test_the_dashboard_waits_for_a_catalog_that_is_down(
    app_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing listens on port 1: the catalog's server is down.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://studio@127.0.0.1:1/studio")
    at = await run(new_app())
    shown = texts(at)
    assert "Waiting for the catalog: connection failed" in shown, shown
    assert "Traceback" not in shown

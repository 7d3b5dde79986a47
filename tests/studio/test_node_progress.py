"""Live progress of self-hosted renders in `studio status`, `studio run --wait` and the shot page,
read from the progress a node reported into its call's catalog row (no Temporal, no node)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from rich.console import Console
from rich.progress import Progress

from studio.catalog.models import ProviderAttempt, utcnow
from studio.catalog.store import Catalog
from studio.cli import display, main
from studio.settings import Settings
from studio.views.progress import (
    TakeProgress,
    progress_digest,
    progress_of,
    shot_progress,
    take_progress_line,
)
from studio.views.status import batch_summary
from tests.studio.catalog_rows import add_batch
from tests.support.environment import point_environment_at

GPU, LAPTOP = "http://gpu-box:8188", "http://laptop:8188"


def _call(
    take: str, status: str = "started", node: str | None = GPU, provider: str = "comfyui", **fields: Any
) -> ProviderAttempt:
    return ProviderAttempt(
        take_id=take, batch_id="b-1", stage="render", provider=provider, node=node, status=status, **fields
    )


@pytest.fixture
def rendering(catalog: Catalog) -> list[str]:
    """A running batch of four takes: one at step 12/30, one queued 2 ahead, one resubmitted, one
    on a cloud vendor (no node); the first also has an older call a dead worker left started."""
    takes = add_batch(catalog, 4)
    catalog.set_batch_state("b-1", "running")
    long_ago = utcnow() - timedelta(hours=1)
    calls = [
        _call(takes[0], started_at=long_ago, progress={"node": LAPTOP, "state": "running", "step": 1, "steps": 30}),
        _call(
            takes[0], progress={"node": GPU, "state": "running", "step": 12, "steps": 30, "at": "2026-12-01T14:00:00"}
        ),
        _call(takes[1], progress={"node": GPU, "state": "queued", "queue_position": 2}),
        _call(takes[2], node=LAPTOP, progress={"node": LAPTOP, "state": "resubmitted"}),
        _call(takes[3], node=None, provider="gemini"),
        _call(takes[3], status="failed", node=GPU, progress={"node": GPU, "state": "running", "step": 3, "steps": 30}),
    ]
    with catalog.session() as s:
        s.add_all(calls)
    return takes


def test_progress_lines_say_where_each_take_is(catalog: Catalog, rendering: list[str]) -> None:
    items = progress_of(catalog.attempts(batch_id="b-1"))
    assert [take_progress_line(p) for p in items] == [
        "s #1  comfyui @ gpu-box:8188  step 12/30",  # the newest call of the take, not a dead worker's
        "s #2  comfyui @ gpu-box:8188  queued (2 ahead)",
        "s #3  comfyui @ laptop:8188  resubmitted (node restarted)",
    ]
    assert items[0].at == "2026-12-01T14:00:00" and items[1].queue_position == 2
    assert progress_digest(items) == "3 on GPUs: step 12/30, resubmitted (node restarted), queued 2 ahead"
    assert set(shot_progress(catalog, "b-1/s")) == set(rendering[:3])
    assert shot_progress(catalog, "b-1/other") == {}


def test_progress_before_the_first_report_and_the_digest_of_many() -> None:
    fresh = TakeProgress("b/s/1", "render", "comfyui", "http://gpu-box:8188", "starting")
    assert take_progress_line(fresh) == "s #1  comfyui @ gpu-box:8188  sent to the node"
    upscale = TakeProgress("b/s/2", "upscale", "a1111", "http://box:7860", "running")
    assert take_progress_line(upscale) == "s #2  a1111 @ box:7860 (upscale)  running"
    queued = [TakeProgress(f"b/s/{n}", "render", "comfyui", GPU, "queued", queue_position=n) for n in range(5)]
    assert progress_digest(queued) == "5 on GPUs: queued next, queued 1 ahead, queued 2 ahead, 2 more"
    assert progress_digest(()) == ""


def test_status_shows_progress_lines_and_json_carries_them(
    settings: Settings,
    catalog: Catalog,
    rendering: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    point_environment_at(settings, monkeypatch)
    monkeypatch.setattr(display, "console", Console(width=160))
    capsys.readouterr()
    assert main(["status", "b-1"]) == 0
    out = capsys.readouterr().out
    assert "s #1  comfyui @ gpu-box:8188  step 12/30\n" in out
    assert "s #2  comfyui @ gpu-box:8188  queued (2 ahead)\n" in out
    assert main(["status", "b-1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    keys = list(data)
    assert keys.index("progress") == keys.index("take_details") + 1  # a new key, after every older one
    assert data["progress"][0] == {
        "take": "b-1/s/1",
        "stage": "render",
        "provider": "comfyui",
        "node": GPU,
        "state": "running",
        "queue_position": None,
        "step": 12,
        "steps": 30,
        "at": "2026-12-01T14:00:00",
    }
    catalog.set_batch_state("b-1", "published")  # an ended batch has nothing in progress
    assert batch_summary(catalog, "b-1").progress == ()


def test_run_wait_shows_the_digest_beside_the_render_bar(catalog: Catalog, rendering: list[str]) -> None:
    summary = batch_summary(catalog, "b-1")
    with Progress(console=Console(width=160)) as bars:
        tasks = {stage: bars.add_task(stage, total=None, extra="") for stage in display.STAGES}
        display._update_bars(bars, tasks, summary)
        render = next(t for t in bars.tasks if t.id == tasks["render"])
    assert render.fields["extra"] == "3 on GPUs: step 12/30, resubmitted (node restarted), queued 2 ahead"

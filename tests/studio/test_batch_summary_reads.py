"""One batch's summary and ETA read counts in SQL: the Batch page's lean summary says what
`studio status BATCH` says (bar the take rows it does not show), and the ETA's counts are the
work a creator would count by hand in the status rows."""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import pytest

from studio.catalog.models import Shot, Take, utcnow
from studio.catalog.store import Catalog
from studio.catalog.summary_queries import fresh_calls, live_chains, work_left
from studio.views.status import batch_summary
from tests.studio.status_rows import PUBLISHED, QUEUED, WAITING, status_batches


@pytest.fixture
def rows(catalog: Catalog) -> Catalog:
    status_batches(catalog)
    return catalog


@pytest.mark.parametrize("batch_id", [WAITING, PUBLISHED, QUEUED])
def test_the_batch_page_summary_is_status_without_the_take_rows(rows: Catalog, batch_id: str) -> None:
    full = batch_summary(rows, batch_id)
    lean = batch_summary(rows, batch_id, take_details=False)
    assert lean.take_details == () and (full.take_details != () or batch_id == QUEUED)
    assert dict(lean.takes.by) == dict(full.takes.by) and lean.takes.total == full.takes.total
    assert dataclasses.replace(full, take_details=(), takes=lean.takes) == lean


def test_the_lean_summary_still_counts_what_the_render_cache_saved(rows: Catalog) -> None:
    with rows.session() as s:
        take = s.get(Take, f"{WAITING}/s03/1")
        assert take is not None
        take.cached_from = f"{PUBLISHED}/s01/1"  # reused an identical earlier render, of a paid model
        take.provider, take.model = "gemini", None
        s.add(take)
    full, lean = batch_summary(rows, WAITING), batch_summary(rows, WAITING, take_details=False)
    assert full.cache.takes == 1 and full.cache.saved_usd > 0
    assert lean.cache == full.cache


def test_the_work_left_skips_ended_shots_and_takes_that_will_not_come(rows: Catalog) -> None:
    # s04-s06 have ended; s02/2 failed. Left: s02/1 to render, s01/2 to upscale (only s01 upscales),
    # s02/1 and s03/1 to review.
    assert work_left(rows, WAITING) == {"render": 1, "upscale": 1, "review": 2}
    assert work_left(rows, PUBLISHED) == {"render": 0, "upscale": 0, "review": 0}


def test_a_dead_workers_started_call_no_longer_says_where_renders_go(rows: Catalog) -> None:
    def fal_renders(stale_minutes: int) -> int:
        calls = fresh_calls(rows, WAITING, utcnow() - timedelta(minutes=stale_minutes))
        return sum(c.calls for c in calls if (c.provider, c.stage) == ("fal", "render"))

    assert fal_renders(10) == 1  # fal's render call started just now: running
    assert fal_renders(-10) == 0  # the same call, read as begun before the stale line: left out


def test_the_chains_count_only_shots_still_going(rows: Catalog) -> None:
    with rows.session() as s:
        for key, chain in ((f"{WAITING}/s02", ["gemini", "local"]), (f"{WAITING}/s04", ["fal"])):
            shot = s.get(Shot, key)
            assert shot is not None
            shot.chain = chain
            s.add(shot)
    # s04 is published: its chain no longer says where renders go.
    assert live_chains(rows, WAITING) == (6, Counter({"gemini": 1}))
    assert live_chains(rows, QUEUED) == (0, Counter())

"""Outage tests' common parts: a batch broken mid-way, and what every one asserts after it.

Also used by bench/outage.py, which measures the same batch.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.activities.provider_registry import ProviderSet, build_providers
from pipelines.client.batches import start_batch, wait_batch
from pipelines.runtime.connection import connect
from providers.base import JobCallback, ProgressCallback, Renderer, RenderRequest, RenderResult
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.storage import open_asset_store
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project
from tests.support.workers import running_workers


class CountingRenderer:
    """The real renderer, counting its renders: free local renders leave no call row to count."""

    def __init__(self, inner: Renderer) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = getattr(inner, "model", None)
        self.renders = 0

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        result = await self.inner.render(request, on_job=on_job)
        self.renders += 1
        return result


def counted_providers(settings: Settings) -> tuple[ProviderSet, CountingRenderer]:
    """The worker's providers, with the local renderer counted."""
    providers = build_providers(settings)
    counter = CountingRenderer(providers.renderers["local"])
    providers.renderers["local"] = counter
    return providers, counter


def assert_whole(
    catalog: Catalog,
    batch_id: str,
    outcomes: dict[str, int],
    *,
    shots: int,
    in_flight: int = 0,
    renders: int | None = None,
) -> None:
    """The batch finished every shot, told the truth about it, and paid for no take twice.

    Args:
        outcomes: What the batch workflow returned.
        shots: Shots in the batch (one take each).
        in_flight: Renders that may have run twice because they were under way when it broke.
        renders: Renders made (a CountingRenderer's count); by default the paid calls that succeeded.
    """
    stages = Counter(s.stage for s in catalog.shots(batch_id))
    assert stages == {"published": shots}, stages
    assert outcomes == {"published": shots}, outcomes  # the batch's word and the catalog's agree
    assert catalog.batch(batch_id).state == "published"
    takes = catalog.batch_takes(batch_id)
    assert len(takes) == shots and len({t.id for t in takes}) == shots  # no duplicate takes
    assert all(t.asset_key for t in takes)
    published = catalog.publications(batch_id)
    assert len(published) == shots and len({p.shot_key for p in published}) == shots
    if renders is None:
        renders = sum(1 for a in catalog.attempts(batch_id=batch_id) if a.stage == "render" and a.status == "succeeded")
    assert shots <= renders <= shots + in_flight, f"{renders} renders for {shots} takes"


def project(shots: int) -> str:
    body = '[project]\nname = "Outage"\nseed = 5\nchain = ["local"]\n[defaults]\nsize = "64x64"\nupscale = 2\n'
    return body + "".join(f'[[shots]]\nid = "s{i:03d}"\nprompt = "harbour lights {i}"\n' for i in range(shots))


def published(catalog: Catalog, batch_id: str) -> int:
    return sum(1 for s in catalog.shots(batch_id) if s.stage == "published")


async def outage_batch(
    settings: Settings,
    tmp_path: Path,
    shots: int,
    *,
    after: int,
    hold: float,
    down: Callable[[], None],
    up: Callable[[], None],
) -> Outcome:
    """Run a batch, ``down()`` once ``after`` shots are published, ``up()`` ``hold`` seconds later.

    The worker must have seen the outage: its log says so once (see saw_outage).

    Returns:
        The catalog, the batch id, its outcome, seconds from ``up()`` to the next published shot,
        and how many renders were made.
    """
    catalog, assets = Catalog.open(settings.catalog_url), open_asset_store(settings)
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", project(shots)))
    client = await connect(settings)
    providers, counter = counted_providers(settings)
    async with running_workers(client, settings, providers):
        await start_batch(client, settings, batch.id)
        await eventually(lambda: published(catalog, batch.id) >= after, timeout=120, what=f"{after} shots published")
        down()
        await asyncio.sleep(hold)
        up()
        back = datetime.now(UTC)
        outcomes = await wait_batch(client, batch.id)
    # Read once the outage is over (the catalog itself may have been what was down).
    after_outage = sorted(aware(p.published_at) for p in catalog.publications(batch.id) if aware(p.published_at) > back)
    assert after_outage, "every shot was published before the outage ended: it tested nothing"
    return Outcome(catalog, batch.id, outcomes, (after_outage[0] - back).total_seconds(), counter.renders)


@dataclass
class Outcome:
    """How an outage batch ended."""

    catalog: Catalog
    batch_id: str
    outcomes: dict[str, int]
    recovery: float
    renders: int

    def assert_whole(self, shots: int, in_flight: int) -> None:
        assert_whole(self.catalog, self.batch_id, self.outcomes, shots=shots, in_flight=in_flight, renders=self.renders)


def aware(value: datetime) -> datetime:
    """SQLite hands times back naive; they were written as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

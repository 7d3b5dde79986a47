"""Priority and fairness on the real dev server: renders queue on a provider's task queue in
priority order, and two clients' batches share it by their weights.

The provider is the local renderer slowed to a moment per image and taken off its in-process
path, so every render goes through the ``local`` provider task queue, which serves
``provider_concurrency`` (2) calls at a time: a batch bigger than that keeps a backlog there,
which is what Temporal's matching orders. Everything is asserted by order and by counts of
renders, never by time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.common import Priority

from pipelines.activities.provider_registry import build_providers
from pipelines.client.batches import change_priority, start_batch, wait_batch
from studio.batches.launch import prepare_batch
from studio.batches.reprioritize import PriorityRefused
from studio.catalog.models import ProviderAttempt
from studio.catalog.store import Catalog
from studio.ids import shot_key
from studio.settings import Settings
from studio.storage import AssetStore
from tests.pipelines.waiting import eventually
from tests.support.projects import write_project
from tests.support.workers import running_workers

LIMIT = 2
"""Calls the local provider's queue serves at once (``provider_concurrency``)."""


def project(name: str, shots: int, *, client: str | None = None) -> str:
    """A project of ``shots`` one-take shots, small and not upscaled, for ``client`` if given."""
    head = f'[project]\nname = "{name}"\nseed = 5\n' + (f'client = "{client}"\n' if client else "")
    # Prompts of its own: no render is another batch's (a render cache would answer it).
    body = "".join(f'[[shots]]\nid = "s{n:03d}"\nprompt = "{name}, take {n}"\n' for n in range(shots))
    return head + '[defaults]\nsize = "64x64"\nupscale = 1\n' + body


@pytest.fixture
def queue_settings(settings: Settings) -> Settings:
    """The test's settings with a provider limit of 2 and a moment per image."""
    return settings.model_copy(
        update={"provider_concurrency": LIMIT, "local_latency": 0.25, "client_weights": "acme=1,northwind=1"}
    )


@pytest.fixture
async def queue_worker(client: Client, queue_settings: Settings) -> AsyncIterator[None]:
    """A worker whose local renders go through the ``local`` provider task queue."""
    providers = build_providers(queue_settings)
    providers.in_process = set()  # every stage of the local provider through its task queue
    async with running_workers(client, queue_settings, providers):
        yield


@pytest.fixture
def start(
    queue_settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> Callable[..., Awaitable[str]]:
    """Write a project, launch it (optionally with a priority) and return its batch id."""

    async def _start(body: str, folder: str, *, priority: str | None = None) -> str:
        path = write_project(tmp_path / folder, body)
        batch, _ = prepare_batch(queue_settings, catalog, assets, path, priority=priority)
        await start_batch(client, queue_settings, batch.id)
        return batch.id

    return _start


def renders(catalog: Catalog, batch_id: str) -> list[ProviderAttempt]:
    """The batch's render calls, in the order they started."""
    return sorted(
        (a for a in catalog.attempts(batch_id=batch_id) if a.stage == "render"), key=lambda a: (a.started_at, a.id)
    )


def started_between(attempts: list[ProviderAttempt], first: datetime, last: datetime) -> int:
    return sum(first <= a.started_at <= last for a in attempts)


async def test_a_rush_batch_renders_before_a_normal_batchs_backlog(
    queue_worker: None, start: Callable[..., Awaitable[str]], catalog: Catalog, client: Client
) -> None:
    normal = await start(project("Big", 40), "big")
    await eventually(lambda: len(renders(catalog, normal)) >= 4, what="the normal batch renders")
    rush = await start(project("Thumbs", 4), "thumbs", priority="rush")
    assert catalog.batch(rush).priority == "rush"
    await wait_batch(client, rush)

    rush_renders, normal_renders = renders(catalog, rush), renders(catalog, normal)
    assert len(rush_renders) == 4
    last_rush = rush_renders[-1].started_at
    after = sum(a.started_at > last_rush for a in normal_renders) + (40 - len(normal_renders))
    # In arrival order the rush renders would wait for all 40; by priority they pass the backlog.
    assert after >= 20, f"only {after} of the normal batch's 40 renders started after the rush batch's"
    await wait_batch(client, normal)


async def test_two_clients_share_a_provider_by_their_weights(
    queue_worker: None, start: Callable[..., Awaitable[str]], catalog: Catalog, client: Client
) -> None:
    first = await start(project("Acme reel", 40, client="acme"), "acme")
    await eventually(lambda: len(renders(catalog, first)) >= 6, what="the first client's batch renders")
    second = await start(project("Northwind reel", 40, client="northwind"), "northwind")
    await wait_batch(client, first)
    await wait_batch(client, second)

    a, b = renders(catalog, first), renders(catalog, second)
    # The window both run: from the second batch's first render to the last render of the one
    # that finished rendering first.
    window = (b[0].started_at, min(a[-1].started_at, b[-1].started_at))
    in_a, in_b = started_between(a, *window), started_between(b, *window)
    # First come, first served would give the second batch nothing until the first one drained.
    assert min(in_a, in_b) >= 10, f"the two batches hardly overlapped: {in_a} and {in_b} renders"
    assert 0.75 <= in_a / in_b <= 1.25, f"equal weights shared {in_a}:{in_b}"


async def test_a_running_batch_changes_priority_for_shots_not_yet_started(
    client: Client, queue_settings: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    one_at_a_time = queue_settings.model_copy(update={"shots_in_flight": 1})
    providers = build_providers(one_at_a_time)
    providers.in_process = set()
    async with running_workers(client, one_at_a_time, providers):
        path = write_project(tmp_path / "slow", project("Slow", 4))
        batch, _ = prepare_batch(one_at_a_time, catalog, assets, path, priority="low")
        await start_batch(client, one_at_a_time, batch.id)
        await eventually(lambda: bool(renders(catalog, batch.id)), what="the first shot renders")
        said = await change_priority(client, catalog, batch.id, "rush")
        assert "low -> rush" in said
        assert catalog.batch(batch.id).priority == "rush"
        await wait_batch(client, batch.id)
        with pytest.raises(PriorityRefused, match="has ended"):
            await change_priority(client, catalog, batch.id, "normal")

    first = await shot_priority(client, shot_key(batch.id, "s000"))
    last = await shot_priority(client, shot_key(batch.id, "s003"))
    # The first shot inherited the batch's low priority; the last started after the change.
    assert (first.priority_key, last.priority_key) == (5, 1)
    # Both inherited the batch's fairness key: the project is its own client.
    assert first.fairness_key == last.fairness_key == catalog.batch(batch.id).client == "slow"


async def shot_priority(client: Client, shot_key: str) -> Priority:
    """The priority a shot's workflow runs with, as Temporal has it."""
    info = (await client.get_workflow_handle(shot_key).describe()).raw_description.workflow_execution_info
    return Priority._from_proto(info.priority)


async def test_a_batch_keeps_its_priority_and_client_across_continue_as_new(
    worker: None, settings: Settings, catalog: Catalog, assets: AssetStore, client: Client, tmp_path: Path
) -> None:
    path = write_project(tmp_path / "long", project("Long", 60, client="acme"))
    batch, _ = prepare_batch(settings, catalog, assets, path, priority="rush")
    await start_batch(client, settings, batch.id, history_limit=100)
    await wait_batch(client, batch.id)

    description = await client.get_workflow_handle(batch.id).describe()
    assert description.raw_description.workflow_execution_info.first_run_id != description.run_id, "it continued"
    last_run = Priority._from_proto(description.raw_description.workflow_execution_info.priority)
    last_shot = await shot_priority(client, shot_key(batch.id, "s059"))
    for priority in (last_run, last_shot):
        assert (priority.priority_key, priority.fairness_key) == (1, "acme")

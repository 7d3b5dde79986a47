"""The links sent in notices are recorded links: listed with a "notice" label, revocable one by one,
and one per notice however often its activity runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from temporalio.testing import ActivityEnvironment

from pipelines.activities.provider_registry import ProviderSet
from pipelines.activities.stages import StudioActivities
from pipelines.messages import ProviderWaitNotice
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.review.links import links_of, open_client_link, revoke_link
from studio.review.notify import GateNotice, GateNotifier, Notice, ProviderNotice
from studio.review.sharing import LinkInvalid
from studio.settings import Settings
from studio.storage.local import AssetStore
from tests.studio.test_share_links import token_of
from tests.support.projects import write_project

PROJECT = '[project]\nname = "Links"\nseed = 5\n[defaults]\nsize = "64x64"\n[[shots]]\nid = "hero"\nprompt = "a boat"\n'


class Outbox(GateNotifier):
    """A notifier that keeps what it would send, so the test can open the links."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.model_copy(update={"notify_webhook": "http://127.0.0.1:9/unused"}))
        self.sent: list[Notice] = []

    def notify(self, notice: Notice) -> list[str]:
        self.sent.append(notice)
        return ["webhook"]


async def test_notice_links_are_recorded_and_revocable(
    settings: Settings, catalog: Catalog, assets: AssetStore, providers: ProviderSet, tmp_path: Path
) -> None:
    batch, _ = prepare_batch(settings, catalog, assets, write_project(tmp_path / "p", PROJECT))
    outbox = Outbox(settings)
    acts = StudioActivities(catalog, assets, providers, notifier=outbox)
    env = ActivityEnvironment()
    await env.run(acts.storyboard, batch.id)
    assert await env.run(acts.notify_gate, f"{batch.id}/hero") == ["webhook"]
    # A retry of the same activity (delivery is at least once) hands out the same link again.
    assert await env.run(acts.notify_gate, f"{batch.id}/hero") == ["webhook"]
    env.info = dataclasses.replace(env.info, activity_id="another")
    assert await env.run(acts.notify_provider_wait, ProviderWaitNotice(batch.id, 1, 600)) == ["webhook"]

    gate, again, wait = outbox.sent
    assert isinstance(again, GateNotice) and again.link == gate.link
    assert isinstance(gate, GateNotice) and isinstance(wait, ProviderNotice)
    gate_link, wait_link = gate.link, wait.link
    listed = {v.label: v.link_id for v in links_of(catalog, batch.id)}
    assert set(listed) == {"notice: hero waits", "notice: providers wait"}
    assert open_client_link(settings, catalog, token_of(gate_link)).link_id == listed["notice: hero waits"]

    revoke_link(catalog, listed["notice: providers wait"])
    with pytest.raises(LinkInvalid):
        open_client_link(settings, catalog, token_of(wait_link))
    assert open_client_link(settings, catalog, token_of(gate_link)).batch_id == batch.id

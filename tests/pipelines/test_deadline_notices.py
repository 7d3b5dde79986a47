"""Deadlines that talk, on Temporal's time-skipping test server: days pass in no real time.

A gate with a long deadline records when it is due and reminds the client a day before; every
decision (a guest's, or the deadline's) reaches the creator at once with who made it; a batch
with gates open sends the creator a daily digest of the day's decisions. The timers are the
workflows' own durable timers: the test server jumps its clock to them.

With ``STUDIO_RECORD_HISTORIES=1`` the first and last tests save ``shot-deadline-reminder`` and
``batch-digest`` to tests/histories for the replay test. ``v3-shot-deadline-expires`` and
``v3-batch-deadline`` there were recorded the same way (a 3-day deadline left to expire) with the
code from before these patches (``git archive`` of the commit before them), so a gate that was
waiting on its deadline when the studio is upgraded still replays.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from temporalio.api.enums.v1 import EventType, IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from pipelines.client.batches import decide, start_batch, wait_batch
from pipelines.messages import Decision
from pipelines.runtime.payload_offload import data_converter
from pipelines.search_attributes import NAMES
from studio.batches.launch import prepare_batch
from studio.catalog.store import Catalog
from studio.review.sharing import open_share_link
from studio.settings import Settings
from studio.storage import open_asset_store
from studio.views.gates import pending_gates
from tests.pipelines.waiting import eventually
from tests.pipelines.webhooks import Receiver, webhook
from tests.support.projects import write_project
from tests.support.workers import running_workers

pytestmark = pytest.mark.temporal  # starts a server (the time-skipping one): not in `make test-fast`

TEST_SERVER = Path(sys.executable).parent / "temporal-test-server"
HISTORIES = Path(__file__).resolve().parent.parent / "histories"

DEADLINE_PROJECT = """
[project]
name = "Due soon"
seed = 5
[defaults]
size = "64x64"
variants = 2
upscale = 1
[approval]
required = true
deadline = "3d"
on_expiry = "reject"
[[shots]]
id = "hero"
prompt = "a kite over the dunes"
"""

TWO_SHOTS = """
[project]
name = "Digest"
seed = 6
[defaults]
size = "64x64"
variants = 2
upscale = 1
[approval]
required = true
[[shots]]
id = "a"
prompt = "a lantern"
[[shots]]
id = "b"
prompt = "a moth"
"""


@dataclass
class Studio:
    """A studio on the time-skipping server: its settings, catalog, client and both receivers."""

    env: WorkflowEnvironment
    client: Client
    settings: Settings
    catalog: Catalog
    clients_hook: Receiver  # STUDIO_NOTIFY_WEBHOOK: the client's channel
    creator_hook: Receiver  # STUDIO_CREATOR_WEBHOOK

    async def launch(self, folder: Path) -> str:
        batch, _ = prepare_batch(self.settings, self.catalog, open_asset_store(self.settings), folder)
        await start_batch(self.client, self.settings, batch.id)
        return batch.id

    def events(self, hook: Receiver, event: str) -> list[dict]:
        return [body for body in hook.bodies if body["event"] == event]


@pytest.fixture
def receivers() -> Iterator[tuple[Receiver, Receiver]]:
    with webhook() as clients, webhook() as creator:
        yield clients, creator


@pytest.fixture
async def studio(
    tmp_path: Path, backend: dict[str, str], receivers: tuple[Receiver, Receiver]
) -> AsyncIterator[Studio]:
    clients_hook, creator_hook = receivers
    settings = Settings(
        home=tmp_path / "home",
        task_queue=f"d-{uuid.uuid4().hex[:8]}",
        notify_webhook=clients_hook.url,
        creator_webhook=creator_hook.url,
        **backend,
        _env_file=None,  # type: ignore[call-arg]  # pydantic-settings' init-only option, not a field
    )
    # The server picks a free port; shutdown() kills the process it started.
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(settings), test_server_existing_path=str(TEST_SERVER)
    )
    try:
        # The batch's labels, as `studio up` registers them on the dev server (the test server
        # half-starts a workflow whose attributes it does not know).
        keyword = IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace="default", search_attributes=dict.fromkeys(NAMES, keyword))
        )
        async with running_workers(env.client, settings):
            yield Studio(env, env.client, settings, Catalog.open(settings.catalog_url), clients_hook, creator_hook)
    finally:
        await env.shutdown()


async def gate_open(studio: Studio, batch_id: str, *shots: str) -> None:
    def waiting() -> bool:
        return {g.shot_id for g in pending_gates(studio.catalog, batch_id=batch_id)} == set(shots)

    await eventually(waiting, what=f"the gates of {shots}")


async def timers_started(studio: Studio, workflow_id: str, count: int) -> None:
    """Wait until ``workflow_id`` has started ``count`` timers, so skipping time now reaches them.

    Time only moves when the test says so (``env.sleep``); a timer started after the jump would
    be a whole jump late.
    """
    for _ in range(300):
        history = await studio.client.get_workflow_handle(workflow_id).fetch_history()
        if sum(e.event_type == EventType.EVENT_TYPE_TIMER_STARTED for e in history.events) >= count:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"{workflow_id} never started timer {count}")


async def record_history(studio: Studio, workflow_id: str, name: str) -> None:
    """Save the workflow's history for the replay test, on request only (see tests/pipelines/test_replay.py)."""
    if os.environ.get("STUDIO_RECORD_HISTORIES") == "1":
        history = await studio.client.get_workflow_handle(workflow_id).fetch_history()
        (HISTORIES / f"{name}.json").write_text(json.dumps(json.loads(history.to_json()), indent=1))


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["share"][0]


async def test_a_long_deadline_is_recorded_reminds_the_client_then_tells_the_creator(studio: Studio) -> None:
    batch_id = await studio.launch(write_project(studio.settings.home.parent / "p", DEADLINE_PROJECT))
    await gate_open(studio, batch_id, "hero")
    (gate,) = pending_gates(studio.catalog, batch_id=batch_id)
    assert gate.due_at is not None and gate.due_at - utc(gate.waiting_since) > timedelta(days=2)
    assert studio.events(studio.clients_hook, "gate_reminder") == []

    await timers_started(studio, f"{batch_id}/hero", 1)
    await studio.env.sleep(timedelta(days=2, hours=1))  # past "a day before the deadline", no real time
    await eventually(lambda: bool(studio.events(studio.clients_hook, "gate_reminder")), what="the reminder")
    (reminder,) = studio.events(studio.clients_hook, "gate_reminder")
    assert {k: reminder[k] for k in ("batch", "shot", "project")} == {
        "batch": batch_id,
        "shot": "hero",
        "project": "Due soon",
    }
    assert open_share_link(studio.settings, token_of(reminder["link"])) == batch_id
    assert datetime.fromisoformat(reminder["due_at"]) == gate.due_at
    # Reminded, not expired: the gate still waits for the client.
    assert [g.shot_id for g in pending_gates(studio.catalog, batch_id=batch_id)] == ["hero"]
    assert studio.events(studio.creator_hook, "gate_decided") == []

    await timers_started(studio, f"{batch_id}/hero", 2)
    await studio.env.sleep(timedelta(days=1))  # now the deadline passes: on_expiry = "reject"
    assert await wait_batch(studio.client, batch_id) == {"rejected": 1}
    await eventually(lambda: bool(studio.events(studio.creator_hook, "gate_decided")), what="the decision notice")
    (told,) = studio.events(studio.creator_hook, "gate_decided")
    assert {k: told[k] for k in ("batch", "shot", "action", "take", "who", "round")} == {
        "batch": batch_id,
        "shot": "hero",
        "action": "reject",
        "take": None,
        "who": "deadline",
        "round": 1,
    }
    assert studio.catalog.shot(f"{batch_id}/hero").gate_due_at is None  # the gate closed
    assert len(studio.events(studio.clients_hook, "gate_reminder")) == 1
    await record_history(studio, f"{batch_id}/hero", "shot-deadline-reminder")


async def test_a_guests_decision_reaches_the_creator_with_their_name_and_email(studio: Studio) -> None:
    batch_id = await studio.launch(write_project(studio.settings.home.parent / "p", TWO_SHOTS))
    await gate_open(studio, batch_id, "a", "b")
    guest = Decision("approve", 2, who="Mia Okafor", note="this one", email="mia@agency.test")
    await decide(studio.client, batch_id, "a", guest)
    await decide(
        studio.client, batch_id, "b", Decision("changes", who="Mia Okafor", note="more wings", email="mia@agency.test")
    )
    await eventually(lambda: len(studio.events(studio.creator_hook, "gate_decided")) == 2, what="two notices")
    told = {body["shot"]: body for body in studio.events(studio.creator_hook, "gate_decided")}
    assert {k: told["a"][k] for k in ("batch", "project", "action", "take", "who", "email", "note", "round")} == {
        "batch": batch_id,
        "project": "Digest",
        "action": "approve",
        "take": 2,
        "who": "Mia Okafor",
        "email": "mia@agency.test",
        "note": "this one",
        "round": 1,
    }
    assert (told["b"]["action"], told["b"]["note"], told["b"]["take"]) == ("changes", "more wings", None)
    assert told["a"]["link"].endswith(f"/batch?batch={batch_id}")
    # The creator's channel, not the client's: the client hears of gates, not of decisions.
    assert studio.events(studio.clients_hook, "gate_decided") == []


async def test_a_daily_digest_lists_the_days_decisions_while_gates_are_open(studio: Studio) -> None:
    batch_id = await studio.launch(write_project(studio.settings.home.parent / "p", TWO_SHOTS))
    await gate_open(studio, batch_id, "a", "b")
    await decide(studio.client, batch_id, "a", Decision("approve", 1, who="Mia Okafor", email="mia@agency.test"))
    await eventually(lambda: bool(studio.events(studio.creator_hook, "gate_decided")), what="the decision notice")
    assert studio.events(studio.creator_hook, "digest") == []

    await timers_started(studio, batch_id, 1)
    await studio.env.sleep(timedelta(days=1, hours=1))  # "b" still waits: the batch's daily timer fires
    await eventually(lambda: bool(studio.events(studio.creator_hook, "digest")), what="the digest")
    (digest,) = studio.events(studio.creator_hook, "digest")
    assert (digest["batch"], digest["project"]) == (batch_id, "Digest")
    assert [(d["shot"], d["action"], d["take"], d["who"], d["email"]) for d in digest["decisions"]] == [
        ("a", "approve", 1, "Mia Okafor", "mia@agency.test")
    ]

    await decide(studio.client, batch_id, "b", Decision("reject", note="no moths"))
    assert await wait_batch(studio.client, batch_id) == {"published": 1, "rejected": 1}
    await record_history(studio, batch_id, "batch-digest")

"""When a gate opens, the webhook receives JSON and the mailbox an email, both with a client link
that opens exactly that batch; a dead receiver does not hold the gate."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from aiosmtpd.controller import Controller
from temporalio.client import Client

from pipelines.client.batches import decide, wait_batch
from pipelines.messages import Decision
from pipelines.runtime.devserver import free_port
from studio.catalog.store import Catalog
from studio.review.sharing import open_share_link
from studio.settings import Settings
from tests.pipelines.waiting import eventually
from tests.pipelines.webhooks import Receiver, webhook
from tests.support.projects import write_project

PROJECT = '[project]\nname = "Notify me"\n[defaults]\nsize = "64x64"\nvariants = 2\nupscale = 1\n[approval]\nrequired = true\n[[shots]]\nid = "hero"\nprompt = "a red kite"\n'


class Mailbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(envelope.content)  # type: ignore[attr-defined]  # aiosmtpd's envelope is untyped
        return "250 OK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook() as server:
        yield server


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def settings(
    tmp_path: Path, temporal_address: str, receiver: Receiver, mailbox: tuple[Mailbox, int], backend: dict[str, str]
) -> Settings:
    return Settings(
        home=tmp_path / "home",
        temporal_address=temporal_address,
        task_queue=f"n-{uuid.uuid4().hex[:8]}",
        notify_webhook=f"http://127.0.0.1:{receiver.server_address[1]}/hook",
        notify_email="client@example.test",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        **backend,
        _env_file=None,  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    )


def token_of(link: str) -> str:
    return parse_qs(urlparse(link).query)["share"][0]


async def test_gate_opening_notifies_by_webhook_and_email(
    worker: None,
    launch,
    client: Client,
    catalog: Catalog,
    settings: Settings,
    receiver: Receiver,
    mailbox: tuple[Mailbox, int],
    tmp_path: Path,
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await eventually(lambda: bool(receiver.bodies) and bool(mailbox[0].messages), what="both notifications")
    (body,) = receiver.bodies
    assert {k: body[k] for k in ("event", "batch", "shot", "project")} == {
        "event": "gate_opened",
        "batch": batch_id,
        "shot": "hero",
        "project": "Notify me",
    }
    assert open_share_link(settings, token_of(body["link"])) == batch_id
    (raw,) = mailbox[0].messages
    mail = message_from_bytes(raw)
    assert mail["To"] == "client@example.test" and "hero" in mail["Subject"]
    assert body["link"] in mail.get_payload(decode=True).decode()
    await decide(client, batch_id, "hero", Decision("approve", 1))
    assert await wait_batch(client, batch_id) == {"published": 1}


async def test_a_dead_receiver_does_not_hold_the_gate(
    worker: None, launch, client: Client, catalog: Catalog, settings: Settings, tmp_path: Path
) -> None:
    settings.notify_webhook = f"http://127.0.0.1:{free_port()}/nobody-listens"
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await eventually(lambda: [s.stage for s in catalog.shots(batch_id)] == ["awaiting_approval"], what="the gate")
    await decide(client, batch_id, "hero", Decision("approve", 2))
    assert await wait_batch(client, batch_id) == {"published": 1}

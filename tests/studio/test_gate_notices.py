"""Who hears what about gates: reminders go to the client's channels, decisions and digests to the
creator's; a digest lists only the decisions since the last one, and nothing is sent without any."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from temporalio.testing import ActivityEnvironment

from pipelines.activities.gate_notices import GateNoticeActivities
from pipelines.messages import DecisionRecord, DigestRequest, GateReminder
from studio.catalog.models import Approval
from studio.catalog.store import Catalog
from studio.review.notify import DecisionNotice, GateNotifier
from studio.settings import Settings
from tests.pipelines.webhooks import Receiver, webhook
from tests.studio.catalog_rows import add_batch


@pytest.fixture
def hooks() -> Iterator[tuple[Receiver, Receiver]]:
    with webhook() as clients, webhook() as creator:
        yield clients, creator


def notices(settings: Settings, catalog: Catalog, **channels: str) -> GateNoticeActivities:
    acts = GateNoticeActivities()
    acts.catalog = catalog
    acts.notifier = GateNotifier(settings.model_copy(update=channels))
    return acts


def decide(catalog: Catalog, round_: int, decision: str, *, take: int | None = None, who: str = "Mia") -> Approval:
    return catalog.add_approval(
        Approval(
            shot_key="b-1/s",
            batch_id="b-1",
            round=round_,
            decision=decision,
            take_id=f"b-1/s/{take}" if take else None,
            who=who,
            email=f"{who.lower()}@agency.test",
            note=f"note {round_}",
        )
    )


async def test_a_reminder_goes_to_the_client_and_a_decision_to_the_creator(
    settings: Settings, catalog: Catalog, hooks: tuple[Receiver, Receiver]
) -> None:
    clients, creator = hooks
    add_batch(catalog, takes=2)
    acts = notices(settings, catalog, notify_webhook=clients.url, creator_webhook=creator.url)
    due = datetime(2030, 5, 4, 9, 30, tzinfo=UTC)
    # In an activity's context, as the worker runs it: the reminder's link is named after it.
    assert await ActivityEnvironment().run(acts.notify_gate_reminder, GateReminder("b-1/s", due)) == ["webhook"]
    record = DecisionRecord("b-1/s", "approve", "b-1/s/2", "Mia Okafor", "the second", 1, "mia@agency.test")
    assert await acts.notify_gate_decided(record) == ["webhook"]
    (reminder,) = clients.bodies
    assert (reminder["event"], reminder["shot"], reminder["due_at"]) == ("gate_reminder", "s", due.isoformat())
    assert "?share=" in reminder["link"]
    (told,) = creator.bodies
    assert {k: told[k] for k in ("event", "shot", "action", "take", "who", "email", "note")} == {
        "event": "gate_decided",
        "shot": "s",
        "action": "approve",
        "take": 2,
        "who": "Mia Okafor",
        "email": "mia@agency.test",
        "note": "the second",
    }


async def test_without_the_creators_channels_nothing_is_sent(
    settings: Settings, catalog: Catalog, hooks: tuple[Receiver, Receiver]
) -> None:
    clients, _ = hooks
    add_batch(catalog, takes=1)
    decide(catalog, 1, "reject")
    acts = notices(settings, catalog, notify_webhook=clients.url)  # the client's channel only
    assert await acts.notify_gate_decided(DecisionRecord("b-1/s", "reject", None, "Mia", "")) == []
    assert (await acts.notify_digest(DigestRequest("b-1"))).sent == []
    assert clients.bodies == []


async def test_a_digest_lists_the_decisions_since_the_last_one_and_skips_a_day_without(
    settings: Settings, catalog: Catalog, hooks: tuple[Receiver, Receiver]
) -> None:
    _, creator = hooks
    add_batch(catalog, takes=2)
    acts = notices(settings, catalog, creator_webhook=creator.url)
    empty = await acts.notify_digest(DigestRequest("b-1"))
    assert (empty.after, empty.sent, creator.bodies) == (0, [], [])  # no decision yet: no digest
    first, second = decide(catalog, 1, "changes"), decide(catalog, 2, "approve", take=2, who="Bo")
    day_one = await acts.notify_digest(DigestRequest("b-1"))
    assert day_one.sent == ["webhook"] and day_one.after == second.id
    (digest,) = creator.bodies
    assert digest["event"] == "digest" and digest["project"] == "p"
    assert [(d["action"], d["round"], d["take"], d["who"]) for d in digest["decisions"]] == [
        ("changes", 1, None, "Mia"),
        ("approve", 2, 2, "Bo"),
    ]
    quiet = await acts.notify_digest(DigestRequest("b-1", after=day_one.after))  # nothing new since
    assert (quiet.after, quiet.sent, len(creator.bodies)) == (second.id, [], 1)
    assert first.id is not None and first.id < second.id


def test_a_decision_email_names_who_decided_and_their_address() -> None:
    notice = DecisionNotice("b-1", "s", "Kites", "approve", 3, "Mia Okafor", "mia@agency.test", "yes", 2, "http://x/b")
    assert notice.subject() == "Kites: Mia Okafor chose approve take #3 for shot s"
    assert "by Mia Okafor <mia@agency.test>" in notice.body() and "Note: yes" in notice.body()

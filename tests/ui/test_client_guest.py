"""Who decides on the client page, and the notes a guest pins on a take, through AppTest.

The pins test writes its gates straight into the catalog (no worker needed); the decisions test
runs the real gates, since what it checks is the Approval row a gate writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from studio.catalog.models import Guest
from studio.catalog.store import Catalog
from studio.review.links import issue_link
from studio.settings import Settings
from studio.storage.local import AssetStore
from studio.views.gates import pending_gates
from tests.support.projects import write_project
from tests.ui.app_harness import gates_open, new_app, run, texts, wait_for
from tests.ui.test_client_live import _gated_batch

PROJECT = """
[project]
name = "Ember Studio"
seed = 5
[defaults]
size = "256x256"
variants = 2
upscale = 1
[approval]
required = true
[[shots]]
id = "campfire"
prompt = "a skillet over a campfire at dusk"
[[shots]]
id = "host"
prompt = "a host laughing at the camera"
"""


def _token(settings: Settings, catalog: Catalog, batch_id: str) -> tuple[str, str]:
    link = issue_link(settings, catalog, batch_id)
    return link.url.split("share=", 1)[1], link.link_id


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


async def _say_who(at: AppTest, name: str, email: str) -> None:
    at.text_input(key="guest-name").set_value(name)
    at.text_input(key="guest-email").set_value(email)
    _button(at, "Continue").click()
    await run(at)


def _round(catalog: Catalog, batch_id: str) -> int:
    return max((c.round for gate in pending_gates(catalog, batch_id=batch_id) for c in gate.choices), default=0)


def _pins(catalog: Catalog, batch_id: str) -> list[tuple[str, int, float, float, str, str, str]]:
    return [(p.take_id, p.number, p.x, p.y, p.text, p.who, p.email) for p in catalog.pins(batch_id=batch_id)]


async def test_a_guest_says_who_they_are_once_and_pins_notes(
    app_env: Settings, catalog: Catalog, assets: AssetStore, tmp_path: Path
) -> None:
    """The name is asked on the first action, refused when blank or bad, then kept and put on every pin.

    Long because it follows one guest through the page's states, each checked against the catalog.
    """
    batch_id = await _gated_batch(app_env, catalog, assets, tmp_path)
    token, link_id = _token(app_env, catalog, batch_id)
    take = f"{batch_id}/campfire/1"
    due = datetime.now(UTC) + timedelta(days=2, hours=6)
    catalog.update_shot(f"{batch_id}/campfire", gate_due_at=due)
    at = await run(new_app(share=token))
    assert "Deciding as" not in texts(at)
    # The gate's deadline, on campfire only (host has none).
    assert [c.value for c in at.caption if "due in" in c.value] == [
        f":orange-badge[:material/schedule: due in 2 days] ({due:%Y-%m-%d %H:%M} UTC)"
    ]

    # "Add notes on the image" swaps the take's picture for the one to tap on, with a note box.
    at.toggle(key="pins-open-campfire-1").set_value(True)
    await run(at)
    assert [i.captions[0] for i in at.image] == ["Take 2", "Take 1", "Take 2"]
    at.button(key="pin-add-campfire-1").click()
    await run(at)
    assert [w.value for w in at.warning] == ["Tap the image where the note belongs first."]

    # A tap marks the spot (the component reports it; AppTest cannot tap), then the note is pinned:
    # the first action asks who is deciding, and nothing is written until they say.
    at.session_state["pin-at-campfire-1"] = (0.25, 0.5)
    at.text_input(key="pin-text-campfire-1-0").set_value("more sparks here")
    at.button(key="pin-add-campfire-1").click()
    await run(at)
    assert at.text_input(key="guest-name") and _pins(catalog, batch_id) == []
    await _say_who(at, "Ann Lee", "ann@example")
    assert "Please give an email address like name@example.com." in [w.value for w in at.warning]
    await _say_who(at, "  ", "ann@example.com")
    assert "Please give your name." in [w.value for w in at.warning]
    assert _pins(catalog, batch_id) == []
    await _say_who(at, "Ann Lee", "ann@example.com")
    assert _pins(catalog, batch_id) == [(take, 1, 0.25, 0.5, "more sparks here", "Ann Lee", "ann@example.com")]
    guest = catalog.guest(at.query_params["guest"])  # kept in the URL: a reload keeps it
    assert (guest.batch_id, guest.link_id, guest.name, guest.email) == (batch_id, link_id, "Ann Lee", "ann@example.com")
    assert "Deciding as **Ann Lee** (ann@example.com) ·" in texts(at)

    # The second pin goes straight in, as Ann, in a fresh note box.
    at.session_state["pin-at-campfire-1"] = (0.75, 0.2)
    at.text_input(key="pin-text-campfire-1-1").set_value("a darker sky")
    at.button(key="pin-add-campfire-1").click()
    await run(at)
    assert [p[1:5] for p in _pins(catalog, batch_id)] == [
        (1, 0.25, 0.5, "more sparks here"),
        (2, 0.75, 0.2, "a darker sky"),
    ]
    assert "guest-name" not in [t.key for t in at.text_input]  # asked once

    # Listed under the take with who placed each; only one's own pins can be removed.
    catalog.add_pin(take, x=0.5, y=0.5, text="brighter fire", who="Bob", email="bob@example.com")
    at = await run(new_app(share=token, guest=guest.id))
    assert "Deciding as **Ann Lee** (ann@example.com) ·" in texts(at)
    listed = [m.value for m in at.markdown if " · " in m.value and m.value.startswith("**")]
    assert listed == [
        "**1** · more sparks here — *Ann Lee*",
        "**2** · a darker sky — *Ann Lee*",
        "**3** · brighter fire — *Bob*",
    ]
    removable = sorted(b.key for b in at.button if (b.key or "").startswith("pin-remove-"))
    assert len(removable) == 2
    at.button(key=removable[0]).click()
    await run(at)
    assert [(p[1], p[4]) for p in _pins(catalog, batch_id)] == [(2, "a darker sky"), (3, "brighter fire")]

    # A guest id made on another batch's page is not trusted here: the next action asks again.
    stranger = catalog.add_guest(
        Guest(id="not-this-batch", batch_id="other-batch", name="Eve", email="eve@example.com")
    )
    at = await run(new_app(share=token, guest=stranger.id))
    assert "Deciding as" not in texts(at)

    # "change" forgets who was deciding in this browser.
    at = await run(new_app(share=token, guest=guest.id))
    at.button(key="guest-change").click()
    await run(at)
    assert "Deciding as" not in texts(at) and "guest" not in at.query_params


async def test_decisions_carry_the_guest_and_pins_stand_for_a_note(
    app_env: Settings, worker: None, launch, catalog: Catalog, tmp_path: Path
) -> None:
    batch_id = await launch(write_project(tmp_path / "p", PROJECT))
    await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")
    campfire, host = f"{batch_id}/campfire", f"{batch_id}/host"
    token, _link_id = _token(app_env, catalog, batch_id)
    at = await run(new_app(share=token))

    # Approve asks who first; the decision then carries the name and the email.
    at.button(key="approve-campfire-2").click()
    await run(at)
    assert at.text_input(key="guest-name") and catalog.approvals(shot_key=campfire) == []
    await _say_who(at, "Ann Lee", "ann@example.com")
    assert "Thank you — take 2 of campfire is approved." in texts(at)
    decided = [(a.decision, a.take_id, a.who, a.email) for a in catalog.approvals(shot_key=campfire)]
    assert decided == [("approve", f"{campfire}/2", "Ann Lee", "ann@example.com")]

    # With neither words nor pins, "Request changes" is refused in words; with a pin it goes out
    # with an empty note, and the client is told which take will be edited.
    at.button(key="changes-host").click()
    await run(at)
    assert "Write what should change, or pin a note on a take, first." in [w.value for w in at.warning]
    at.toggle(key="pins-open-host-2").set_value(True)
    await run(at)
    at.session_state["pin-at-host-2"] = (0.4, 0.6)
    at.text_input(key="pin-text-host-2-0").set_value("make him smile")
    at.button(key="pin-add-host-2").click()
    await run(at)
    assert "we will edit take 2 where you pinned notes" in texts(at)
    at.button(key="changes-host").click()
    await run(at)
    assert "Thank you — we will edit take 2 of host where you pinned notes, and show you the new takes here." in texts(
        at
    )
    asked = [(a.decision, a.who, a.email, a.note) for a in catalog.approvals(shot_key=host)]
    assert asked == [("changes", "Ann Lee", "ann@example.com", "")]
    assert [(p.who, p.email) for p in catalog.pins(shot_key=host)] == [("Ann Lee", "ann@example.com")]

    await wait_for(lambda: _round(catalog, batch_id) == 2, "host's second round")
    await run(at)
    assert "**Round 2 — edits of take 2 where you pinned notes**" in texts(at)

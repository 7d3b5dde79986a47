"""Approvals: every shot waiting at a gate, oldest first, answerable in place."""

from __future__ import annotations

import streamlit as st

from pipelines.client.ui_actions import (
    ActionFailed,
    ConnectionFailed,
    GateRefused,
    answer_gate,
)
from studio.catalog.models import Pin
from studio.states import GateAction
from studio.views.gates import GateChoice, PendingGate, gate_signature, pending_gates
from ui import routes
from ui.badges import ago, clock, time_left
from ui.live import rerun_on_change
from ui.notices import notify, show_notices
from ui.pin_notes import pin_signature, pinned_takes, pins_by_take
from ui.resources import current_settings, open_catalog
from ui.thumb_rows import thumbnail_rows

THUMB_SIZE = 256
PIN_SIZE = 512  # a pinned take is drawn larger than the row of thumbnails, so its pins can be read
SLOTS = "approvals-slots"  # session key: the slots of the last draw, top to bottom (see _slots)
ACTED = "approvals-acted"  # session key: set by the owner's own click, read by the draw that follows

settings = current_settings()
catalog = open_catalog(settings)

st.title("Approvals")
st.caption("Shots waiting for a human, oldest first. Nothing renders while a shot waits here.")
# Keyed and always there, even empty: a notice that goes away must not move the gates below it.
with st.container(key="approvals-notices"):
    show_notices()


def _answer(gate: PendingGate, action: GateAction) -> None:
    """Button callback: runs before the next draw, even if that draw no longer shows the gate."""
    st.session_state[ACTED] = True  # the click blurred any note box first, so its text is sent
    key = gate.shot_key
    take = st.session_state.get(f"take-{key}") if action == GateAction.APPROVE else None
    note = st.session_state.get(f"note-{key}", "").strip() if action != GateAction.APPROVE else ""
    if action == GateAction.CHANGES and not note:
        # The button stays enabled (a text box sends its text only on blur or Enter, so a button
        # that waited for it would need two clicks); an empty note is refused here instead.
        notify("warning", f"{key}: write what should change in the note first.")
        return
    try:
        message = answer_gate(
            settings, gate.batch_id, gate.shot_id, action=action, take=take, who=settings.owner_name, note=note
        )
    except GateRefused as err:
        notify("warning", f"{key}: {err}")
    except (ConnectionFailed, ActionFailed) as err:
        notify("error", str(err))
    else:
        notify("success", message[:1].upper() + message[1:] + ".")


def _gate(gate: PendingGate, pins: dict[str, list[Pin]]) -> None:
    key = gate.shot_key
    with st.container(border=True, key=f"gate-{key}"):
        st.markdown(f"**{gate.project}** · **{gate.shot_id}** · waiting {ago(gate.waiting_since)}")
        if gate.due_at is not None:
            st.caption(f":material/schedule: due in {time_left(gate.due_at)} ({clock(gate.due_at)} UTC)")
        st.caption(gate.prompt)
        for number, note in enumerate(gate.change_requests, start=2):
            st.caption(f":violet-badge[round {number}] asked for: {note}")
        thumbnail_rows(settings, [(c.image_key, _caption(c)) for c in gate.choices], size=THUMB_SIZE)
        # Always there, even empty: a pin that arrives later must not move (and reset) the note box below.
        with st.container(key=f"pins-{key}"):
            pinned = [(c.take_id, c.image_key, f"#{c.number} · pins") for c in gate.choices]
            pinned_takes(settings, pinned, pins, size=PIN_SIZE)
        numbers = [c.number for c in gate.choices]
        if not numbers:
            st.warning("No take of this shot has an image to approve; reject it or ask for changes.")
        pick, approve = st.columns([5, 1], vertical_alignment="bottom")
        with pick:
            take = st.pills(
                "Take to approve",
                numbers,
                default=gate.suggested if gate.suggested in numbers else None,
                format_func=lambda n: f"#{n}",
                key=f"take-{key}",
                help="Preselected: the take the automated review scored best.",
            )
        with approve:
            st.button(
                "Approve",
                type="primary",
                key=f"approve-{key}",
                disabled=take is None,
                width="stretch",
                on_click=_answer,
                args=(gate, GateAction.APPROVE),
            )
        st.text_input("Note (for reject or changes)", key=f"note-{key}", placeholder="e.g. warmer light, less smoke")
        reject, changes, link = st.columns([1, 1, 2], vertical_alignment="center")
        with reject:
            st.button("Reject", key=f"reject-{key}", width="stretch", on_click=_answer, args=(gate, GateAction.REJECT))
        with changes:
            st.button(
                "Request changes",
                key=f"changes-{key}",
                width="stretch",
                on_click=_answer,
                args=(gate, GateAction.CHANGES),
                help="The note is added to the prompt; the shot renders new takes and comes back here.",
            )
        with link:
            st.page_link(
                routes.SHOT,
                label="Recipes and history",
                icon=":material/arrow_forward:",
                query_params={routes.SHOT_PARAM: key},
            )


def _caption(choice: GateChoice) -> str:
    text = f"#{choice.number}" + (f" r{choice.round}" if choice.round > 1 else "")
    if choice.review_score is not None:
        text += f" · {choice.review_score:.2f}{'' if choice.review_passed else ' ✗'}"
    return text


def _slot(gate: PendingGate) -> str:
    """A gate's slot: one per round, so a gate that comes back with new takes opens a new slot at
    the foot of the page (oldest first) and leaves its old one empty instead of moving up or down."""
    round_ = len(gate.change_requests) + 1
    return gate.shot_key if round_ == 1 else f"{gate.shot_key}~{round_}"  # no shot id holds a "~"


def _slots(gates: list[PendingGate]) -> list[str]:
    """The slots to draw, top to bottom: the last draw's in their places, then new gates' (oldest first).

    A half-typed note lives only in the browser (a text box sends its text on blur or Enter), and
    the browser keeps it reliably only while its container stays at the same place. So a gate
    decided elsewhere (the client's link, the CLI) leaves an empty slot when the page redraws by
    itself, and the gates below it stay put. Empty slots go when nothing can be half-typed below
    them: at the foot of the page, after the owner's own click, and when the page was not on
    screen in the run before (its note boxes' states are gone then). A new slot starts with an
    empty note box: a new round can take the place of the one it follows in a single redraw, and
    must not offer the note that was just sent as if it were a new one.
    """
    before: dict[str, str] = st.session_state.get(SLOTS, {})  # slot -> shot key
    still_open = {_slot(gate): gate.shot_key for gate in gates}
    for slot, shot_key in still_open.items():
        if slot not in before:
            st.session_state[f"note-{shot_key}"] = ""  # set before the box is drawn, so the browser gets it
    on_screen = any(f"note-{shot_key}" in st.session_state for shot_key in before.values())
    if st.session_state.pop(ACTED, False) or not on_screen:
        before = {slot: key for slot, key in before.items() if slot in still_open}
    slots = {**before, **still_open}  # a dict keeps the order: kept slots first, new ones after
    order = list(slots)
    while order and order[-1] not in still_open:
        order.pop()
    st.session_state[SLOTS] = {slot: slots[slot] for slot in order}
    return order


# Read before drawing: a change between this read and the draw only costs one extra redraw.
drawn = gate_signature(catalog)
gates = pending_gates(catalog)
on_offer = [choice.take_id for gate in gates for choice in gate.choices]
pins = pins_by_take(catalog, on_offer)
with st.container(key="approvals-empty"):
    if not gates:
        st.info("Nothing is waiting for approval.", icon=":material/inbox:")
        st.page_link(routes.BATCHES, label="All batches", icon=":material/view_list:")
by_slot = {_slot(gate): gate for gate in gates}
for slot in _slots(gates):
    # One keyed slot per gate, empty once the gate closes: see _slots.
    with st.container(key=f"slot-{slot}"):
        if slot in by_slot:
            _gate(by_slot[slot], pins)
# A gate that opens, a new round, a decision made elsewhere (the client's link, the CLI) shows up by itself.
# So does a pin the client places or takes off.
rerun_on_change(
    lambda: (gate_signature(catalog), pin_signature(pins_by_take(catalog, on_offer))),
    (drawn, pin_signature(pins)),
    key="approvals-drawn",
)

"""Client review, reached by a signed link: one batch's waiting shots and nothing else.

Every refusal (forged, expired, revoked, tampered, a link for another batch, a batch that is
gone) shows the same sentence, so a guessed link learns nothing. The batch comes from the
verified token only, and is verified again when a button is clicked, since a page can outlive
its link. The first action asks who is deciding (:mod:`ui.guest`); every decision and pin
carries that name and email.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import NoReturn

import streamlit as st

from pipelines.client.ui_actions import (
    ActionFailed,
    ConnectionFailed,
    GateRefused,
    answer_gate,
)
from studio.catalog.models import Guest, Pin
from studio.errors import NotFound
from studio.review.links import OpenLink, open_client_link
from studio.review.sharing import LinkInvalid
from studio.states import GateAction
from studio.views.gates import GateChoice, GateRound, PendingGate, Rework, gate_signature, pending_gates, reworks
from ui import routes
from ui.badges import as_utc, clock, time_left
from ui.compare import compare_section
from ui.deliverables import deliverables_section
from ui.guest import GuestAction, as_guest, who_is_deciding
from ui.live import rerun_on_change
from ui.markdown_text import literal
from ui.notices import notify, show_notices
from ui.pin_editor import pin_editor, pin_ids, pin_list, pins_of, take_slug, with_pins
from ui.previews import client_thumb
from ui.resources import current_settings, open_catalog, warm

THUMB_SIZE = 640
PER_ROW = 3  # Streamlit stacks columns on a narrow screen: one take per row on a phone

settings = current_settings()
catalog = open_catalog(settings)


def _refuse() -> NoReturn:
    st.markdown(f"### {LinkInvalid.MESSAGE}")
    st.stop()


def _token() -> str:
    return st.query_params.get(routes.SHARE_PARAM, "")


def _open_link() -> OpenLink:
    try:
        link = open_client_link(settings, catalog, _token())
    except LinkInvalid:
        _refuse()
    # A link names its batch inside the signature; a batch named anywhere else must agree.
    named = st.query_params.get(routes.BATCH_PARAM)
    if named is not None and named != link.batch_id:
        _refuse()
    return link


def _still_valid(batch_id: str) -> bool:
    """Whether the link still opens ``batch_id`` (checked again in each button callback)."""
    try:
        return open_client_link(settings, catalog, _token()).batch_id == batch_id
    except LinkInvalid:
        return False


link = _open_link()
try:
    batch = catalog.batch(link.batch_id)
except NotFound:
    _refuse()

st.title(batch.project_name)
st.caption("Pick the take you like for each shot, or tell us what to change: in words, or by pinning notes on a take.")
st.caption(f"This link works until {clock(link.expires_at)} UTC ({time_left(link.expires_at)} left).")
guest = who_is_deciding(catalog, batch.id, link.link_id)
# Keyed containers keep the page's outline the same from one draw to the next, whatever notices
# or status they hold, so a live redraw does not shift (and reset) the note the client is typing.
with st.container(key="client-notices"):
    show_notices()


def _act(action: GuestAction) -> None:
    as_guest(catalog, batch.id, action)


def _numbers(numbers: Sequence[int]) -> str:
    """``take 2``, ``takes 2 and 3``, ``takes 1, 2 and 3``."""
    words = [str(n) for n in numbers]
    if len(words) == 1:
        return f"take {words[0]}"
    return f"takes {', '.join(words[:-1])} and {words[-1]}"


def _pinned(round_: GateRound) -> list[int]:
    """The numbers of the round's takes that carry pins now (read at click time, not draw time)."""
    with_pins_now = {pin.take_id for pin in catalog.pins(take_ids=[c.take_id for c in round_.choices])}
    return [c.number for c in round_.choices if c.take_id in with_pins_now]


def _answer(gate: PendingGate, action: GateAction, take: int | None, note: str, pinned: list[int], who: Guest) -> None:
    try:
        answer_gate(
            settings, gate.batch_id, gate.shot_id, action=action, take=take, who=who.name, note=note, email=who.email
        )
    except GateRefused:
        notify("warning", f"{gate.shot_id} was already answered or is no longer waiting.")
    except (ConnectionFailed, ActionFailed):
        notify("error", "The studio could not take your answer just now; please try again in a minute.")
    else:
        if action == GateAction.APPROVE:
            notify("success", f"Thank you — take {take} of {gate.shot_id} is approved.")
        elif pinned:
            notify(
                "success",
                f"Thank you — we will edit {_numbers(pinned)} of {gate.shot_id} where you pinned notes, "
                "and show you the new takes here.",
            )
        else:
            notify("success", f"Thank you — we will rework {gate.shot_id} and show you new takes here.")


def _decide(gate: PendingGate, action: GateAction, take: int | None) -> None:
    """Button callback: runs before the next draw, even if that draw no longer shows the button."""
    if not _still_valid(gate.batch_id):
        return  # the link expired or was revoked while the page was open: the draw that follows refuses it
    note = st.session_state.get(_note_key(gate), "").strip() if action == GateAction.CHANGES else ""
    pinned = _pinned(gate.rounds[0]) if action == GateAction.CHANGES and gate.rounds else []
    if action == GateAction.CHANGES and not note and not pinned:
        # The button stays enabled (a text area sends its text only on blur, so a button that
        # waited for it would need two clicks); a request with neither words nor pins is refused here.
        notify("warning", "Write what should change, or pin a note on a take, first.")
        return
    _act(partial(_answer, gate, action, take, note, pinned))


def _note_key(gate: PendingGate) -> str:
    """The note box's key: the same all through a round (live redraws keep what is typed), new
    with each round, so the next round starts with an empty box and not the note already sent."""
    newest = max((c.round for c in gate.choices), default=1)
    return f"note-{gate.shot_id}" if newest == 1 else f"note-{gate.shot_id}-round{newest}"


def _round_label(round_: GateRound, pinned_before: Sequence[int] = ()) -> str:
    """``Round 2 — you asked: …``; ``pinned_before`` are the takes of the round before that carry pins."""
    if round_.number == 1:
        return "First takes"
    label = f"Round {round_.number}"
    if round_.note:
        label += f" — you asked: {literal(round_.note)}"
    if pinned_before:
        label += f"{',' if round_.note else ' —'} edits of {_numbers(pinned_before)} where you pinned notes"
    return label


def _take(gate: PendingGate, choice: GateChoice, pins: list[Pin], editable: bool) -> None:
    """One take: its image (or, while notes are being added, the image to tap on), approve, its pins."""
    image = client_thumb(settings, catalog, batch, choice, THUMB_SIZE)
    if image is None:
        return
    slug = take_slug(choice.take_id)
    if editable and st.session_state.get(f"pins-open-{slug}"):
        pin_editor(catalog, choice, image, pins, _act)
    else:
        st.image(with_pins(image, pins), caption=f"Take {choice.number}", width="stretch")
    st.button(
        "Approve this one",
        key=f"approve-{gate.shot_id}-{choice.number}",
        type="primary",
        icon=":material/check:",
        width="stretch",
        on_click=_decide,
        args=(gate, GateAction.APPROVE, choice.number),
    )
    if editable:
        st.toggle("Add notes on the image", key=f"pins-open-{slug}")
    pin_list(catalog, pins, guest, _act)


def _takes(gate: PendingGate, choices: tuple[GateChoice, ...], pins: dict[str, list[Pin]], editable: bool) -> None:
    """One round's takes (keys stay the same from round to round); pins are placed on the newest only."""
    warm(settings, [c.image_key for c in choices], THUMB_SIZE)
    for start in range(0, len(choices), PER_ROW):
        for column, choice in zip(st.columns(PER_ROW), choices[start : start + PER_ROW], strict=False):
            with column:
                _take(gate, choice, pins.get(choice.take_id, []), editable)


def _due(gate: PendingGate) -> None:
    due = as_utc(gate.due_at)
    if due is None:
        return
    if due <= datetime.now(UTC):
        st.caption(f":red-badge[:material/schedule: was due {clock(due)} UTC]")
    else:
        st.caption(f":orange-badge[:material/schedule: due in {time_left(due)}] ({clock(due)} UTC)")


def _gate(gate: PendingGate, pins: dict[str, list[Pin]]) -> None:
    st.subheader(gate.shot_id)
    st.caption(gate.prompt)
    _due(gate)
    # Newest round first and open: after asking for changes, the client wants the answer;
    # older rounds fold away, each under the note that started it.
    if not gate.rounds:
        st.caption("No take of this shot is ready to show yet.")
        return
    newest, *older = gate.rounds

    def pinned_before(round_: GateRound) -> list[int]:
        before = next((r for r in gate.rounds if r.number == round_.number - 1), None)
        return [c.number for c in before.choices if pins.get(c.take_id)] if before else []

    st.markdown(f"**{_round_label(newest, pinned_before(newest))}**")
    _takes(gate, newest.choices, pins, editable=True)
    for round_ in older:
        with st.expander(_round_label(round_, pinned_before(round_))):
            _takes(gate, round_.choices, pins, editable=False)
    compare_section(settings, catalog, gate)
    st.text_area("What should change?", key=_note_key(gate), placeholder="e.g. more sparks, a darker sky")
    pinned = [c.number for c in newest.choices if pins.get(c.take_id)]
    if pinned:
        st.caption(f"Your pinned notes go with the request: we will edit {_numbers(pinned)} where you pinned notes.")
    st.button(
        "Request changes",
        key=f"changes-{gate.shot_id}",
        width="stretch",
        on_click=_decide,
        args=(gate, GateAction.CHANGES, None),
    )


def _rework(rework: Rework) -> None:
    st.subheader(rework.shot_id)
    st.info(f"We are working on your changes to {rework.shot_id}…", icon=":material/autorenew:")
    st.caption(f"You asked: {literal(rework.note)}" if rework.note else "You pinned notes on the image.")


# Read before drawing: a change between this read and the draw only costs one extra redraw.
drawn = gate_signature(catalog, batch_id=batch.id)
# The client reads the storyboard in its own order, not in the order the gates opened.
gates = pending_gates(catalog, batch_id=batch.id)
working = reworks(catalog, batch_id=batch.id)
take_ids = [c.take_id for gate in gates for c in gate.choices]
pinned_now = pin_ids(catalog, take_ids)  # pins placed from another tab or browser redraw too
pins = pins_of(catalog, take_ids)
with st.container(key="client-status"):
    if gates:
        st.caption(f"{len(gates)} shot{'s' * (len(gates) > 1)} waiting for you.")
    elif not working:
        st.info("Nothing is waiting for your review right now. Thank you!", icon=":material/done_all:")
# One slot per shot of the storyboard, empty or not, in storyboard order: the browser keeps a
# container's contents (a half-typed note) only while the container stays at the same place.
shown: dict[str, PendingGate | Rework] = {rework.shot_id: rework for rework in working}
shown.update((gate.shot_id, gate) for gate in gates)  # an open gate outranks an older rework
for shot in catalog.shots(batch.id):
    item = shown.get(shot.shot_id)
    with st.container(border=item is not None, key=f"client-{shot.shot_id}"):
        if isinstance(item, PendingGate):
            _gate(item, pins)
        elif item is not None:
            _rework(item)
with st.container(key="client-deliverables"):
    deliverables_section(settings, catalog, batch)
rerun_on_change(
    lambda: (gate_signature(catalog, batch_id=batch.id), pin_ids(catalog, take_ids)),
    (drawn, pinned_now),
    key="client-gates-drawn",
)

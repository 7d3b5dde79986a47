"""Client review, reached by a signed link: one batch's waiting shots and nothing else.

Every refusal (forged, expired, tampered, a link for another batch, a batch that is gone) shows
the same sentence, so a guessed link learns nothing. The batch comes from the verified token
only, and is verified again when a button is clicked, since a page can outlive its link.
"""

from __future__ import annotations

from typing import NoReturn

import streamlit as st

from pipelines.client.ui_actions import (
    ActionFailed,
    ConnectionFailed,
    GateRefused,
    answer_gate,
)
from studio.errors import NotFound
from studio.review.sharing import LinkInvalid, open_share_link, share_link_expiry
from studio.states import GateAction
from studio.views.gates import GateChoice, GateRound, PendingGate, Rework, gate_signature, pending_gates, reworks
from ui import routes
from ui.badges import clock, time_left
from ui.live import rerun_on_change
from ui.notices import notify, show_notices
from ui.resources import current_settings, open_catalog, thumb, warm

THUMB_SIZE = 640
PER_ROW = 3
WHO = "client"

settings = current_settings()
catalog = open_catalog(settings)


def _refuse() -> NoReturn:
    st.markdown(f"### {LinkInvalid.MESSAGE}")
    st.stop()


def _batch_from_link() -> str:
    token = st.query_params.get(routes.SHARE_PARAM, "")
    try:
        batch_id = open_share_link(settings, token)
    except LinkInvalid:
        _refuse()
    # A link names its batch inside the signature; a batch named anywhere else must agree.
    named = st.query_params.get(routes.BATCH_PARAM)
    if named is not None and named != batch_id:
        _refuse()
    return batch_id


batch_id = _batch_from_link()
try:
    batch = catalog.batch(batch_id)
except NotFound:
    _refuse()

st.title(batch.project_name)
st.caption("Pick the take you like for each shot, or tell us what to change.")
try:
    expires = share_link_expiry(settings, st.query_params.get(routes.SHARE_PARAM, ""))
except LinkInvalid:
    _refuse()
st.caption(f"This link works until {clock(expires)} UTC ({time_left(expires)} left).")
# Keyed containers keep the page's outline the same from one draw to the next, whatever notices
# or status they hold, so a live redraw does not shift (and reset) the note the client is typing.
with st.container(key="client-notices"):
    show_notices()


def _decide(gate: PendingGate, action: GateAction, take: int | None) -> None:
    """Button callback: runs before the next draw, even if that draw no longer shows the button."""
    try:
        still_valid = open_share_link(settings, st.query_params.get(routes.SHARE_PARAM, "")) == gate.batch_id
    except LinkInvalid:
        still_valid = False
    if not still_valid:
        return  # the link expired while the page was open: the draw that follows refuses it
    note = st.session_state.get(_note_key(gate), "").strip() if action == GateAction.CHANGES else ""
    if action == GateAction.CHANGES and not note:
        # The button stays enabled (a text area sends its text only on blur, so a button that
        # waited for it would need two clicks); an empty note is refused here instead.
        notify("warning", "Write what should change first.")
        return
    try:
        answer_gate(settings, gate.batch_id, gate.shot_id, action=action, take=take, who=WHO, note=note)
    except GateRefused:
        notify("warning", f"{gate.shot_id} was already answered or is no longer waiting.")
    except (ConnectionFailed, ActionFailed):
        notify("error", "The studio could not take your answer just now; please try again in a minute.")
    else:
        if action == GateAction.APPROVE:
            notify("success", f"Thank you — take {take} of {gate.shot_id} is approved.")
        else:
            notify("success", f"Thank you — we will rework {gate.shot_id} and show you new takes here.")


def _note_key(gate: PendingGate) -> str:
    """The note box's key: the same all through a round (live redraws keep what is typed), new
    with each round, so the next round starts with an empty box and not the note already sent."""
    newest = max((c.round for c in gate.choices), default=1)
    return f"note-{gate.shot_id}" if newest == 1 else f"note-{gate.shot_id}-round{newest}"


def _round_label(round_: GateRound) -> str:
    if round_.number == 1:
        return "First takes"
    return f"Round {round_.number} — you asked: {round_.note}" if round_.note else f"Round {round_.number}"


def _takes(gate: PendingGate, choices: tuple[GateChoice, ...]) -> None:
    """One round's thumbnails, each with its approve button (keys stay the same from round to round)."""
    warm(settings, [c.image_key for c in choices], THUMB_SIZE)
    ready = [(c, data) for c in choices if (data := thumb(settings, c.image_key, THUMB_SIZE)) is not None]
    for start in range(0, len(ready), PER_ROW):
        for column, (choice, data) in zip(st.columns(PER_ROW), ready[start : start + PER_ROW], strict=False):
            with column:
                st.image(data, caption=f"Take {choice.number}", width="stretch")
                st.button(
                    "Approve this one",
                    key=f"approve-{gate.shot_id}-{choice.number}",
                    type="primary",
                    icon=":material/check:",
                    width="stretch",
                    on_click=_decide,
                    args=(gate, GateAction.APPROVE, choice.number),
                )


def _gate(gate: PendingGate) -> None:
    st.subheader(gate.shot_id)
    st.caption(gate.prompt)
    # Newest round first and open: after asking for changes, the client wants the answer;
    # older rounds fold away, each under the note that started it.
    if not gate.rounds:
        st.caption("No take of this shot is ready to show yet.")
        return
    newest, *older = gate.rounds
    st.markdown(f"**{_round_label(newest)}**")
    _takes(gate, newest.choices)
    for round_ in older:
        with st.expander(_round_label(round_)):
            _takes(gate, round_.choices)
    st.text_area("What should change?", key=_note_key(gate), placeholder="e.g. more sparks, a darker sky")
    st.button(
        "Request changes",
        key=f"changes-{gate.shot_id}",
        on_click=_decide,
        args=(gate, GateAction.CHANGES, None),
    )


def _rework(rework: Rework) -> None:
    st.subheader(rework.shot_id)
    st.info(f"We are working on your changes to {rework.shot_id}…", icon=":material/autorenew:")
    st.caption(f"You asked: {rework.note}")


# Read before drawing: a change between this read and the draw only costs one extra redraw.
drawn = gate_signature(catalog, batch_id=batch.id)
# The client reads the storyboard in its own order, not in the order the gates opened.
gates = pending_gates(catalog, batch_id=batch.id)
working = reworks(catalog, batch_id=batch.id)
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
            _gate(item)
        elif item is not None:
            _rework(item)
rerun_on_change(lambda: gate_signature(catalog, batch_id=batch.id), drawn, key="client-gates-drawn")

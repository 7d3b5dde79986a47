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
from studio.review.sharing import LinkInvalid, open_share_link
from studio.states import GateAction
from studio.views.gates import PendingGate, pending_gates
from ui import routes
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
show_notices()


def _decide(gate: PendingGate, action: GateAction, take: int | None) -> None:
    """Button callback: runs before the next draw, even if that draw no longer shows the button."""
    try:
        still_valid = open_share_link(settings, st.query_params.get(routes.SHARE_PARAM, "")) == gate.batch_id
    except LinkInvalid:
        still_valid = False
    if not still_valid:
        return  # the link expired while the page was open: the draw that follows refuses it
    note = st.session_state.get(f"note-{gate.shot_id}", "").strip() if action == GateAction.CHANGES else ""
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


def _gate(gate: PendingGate) -> None:
    with st.container(border=True, key=f"client-{gate.shot_id}"):
        st.subheader(gate.shot_id)
        st.caption(gate.prompt)
        if gate.change_requests:
            st.markdown(f"You asked for: *{gate.change_requests[-1]}* — the new takes come first.")
        # Newest round first: after asking for changes, the client wants to see the answer.
        ordered = sorted(gate.choices, key=lambda c: (-c.round, c.number))
        warm(settings, [c.image_key for c in ordered], THUMB_SIZE)
        choices = [(c, thumb(settings, c.image_key, THUMB_SIZE)) for c in ordered]
        choices = [(c, data) for c, data in choices if data is not None]
        for start in range(0, len(choices), PER_ROW):
            for column, (choice, data) in zip(st.columns(PER_ROW), choices[start : start + PER_ROW], strict=False):
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
        with st.expander("Request changes"):
            note = st.text_area(
                "What should change?", key=f"note-{gate.shot_id}", placeholder="e.g. more sparks, a darker sky"
            )
            st.button(
                "Request changes",
                key=f"changes-{gate.shot_id}",
                disabled=not note.strip(),
                on_click=_decide,
                args=(gate, GateAction.CHANGES, None),
            )


# The client reads the storyboard in its own order, not in the order the gates opened.
gates = sorted(pending_gates(catalog, batch_id=batch.id), key=lambda gate: gate.position)
if not gates:
    st.info("Nothing is waiting for your review right now. Thank you!", icon=":material/done_all:")
else:
    st.caption(f"{len(gates)} shot{'s' * (len(gates) > 1)} waiting for you.")
for gate in gates:
    _gate(gate)

"""Client links on the Batch page: hand one out, see every link with its expiry and last use, revoke one.

Owner-only (the Batch page is an owner page): the client review page never imports this module.
Every link made here is recorded (see :mod:`studio.review.links`), so it shows in the list and in
``studio share --list``, and revoking it stops it at once, even on a client page already open.
"""

from __future__ import annotations

import streamlit as st

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.errors import NotFound
from studio.review.links import LinkState, LinkView, issue_link, links_of, revoke_link
from studio.review.sharing import DEFAULT_HOURS
from studio.settings import Settings
from ui.badges import ago, badge, clock, time_left

_STATE_COLOURS = {LinkState.ACTIVE: "green", LinkState.EXPIRED: "gray", LinkState.REVOKED: "red"}
_MADE_KEY = "share-link"
_NOTE_KEY = "links-note"


def _make_link(settings: Settings, catalog: Catalog, batch_id: str) -> None:
    """Button callback: record a new link and keep its URL to show on the next draw."""
    label = str(st.session_state.get("share-label", "")).strip()
    link = issue_link(settings, catalog, batch_id, hours=DEFAULT_HOURS, label=label)
    st.session_state[_MADE_KEY] = (batch_id, link.url)


def _revoke(catalog: Catalog, link_id: str) -> None:
    """Button callback: revoke, and say so on the next draw (in the list, where the click was)."""
    try:
        revoke_link(catalog, link_id)
    except NotFound:
        st.session_state[_NOTE_KEY] = ("warning", f"There is no link {link_id} any more.")
        return
    st.session_state[_NOTE_KEY] = ("success", f"Link {link_id} is revoked: it no longer opens this batch.")


def share_box(settings: Settings, catalog: Catalog, batch: Batch) -> None:
    """The owner's "Share with client" control: an optional label, the button, the new link."""
    if not batch.approval_required:
        st.caption("No approval gates in this project, so there is nothing to share for review.")
        return
    name, go = st.columns(2, vertical_alignment="bottom")
    name.text_input(
        "Who is it for?",
        key="share-label",
        placeholder="e.g. Ana at Acme",
        help="Optional: a note for your list of links; the client never sees it.",
    )
    go.button(
        "Share with client",
        icon=":material/share:",
        key="share-button",
        on_click=_make_link,
        args=(settings, catalog, batch.id),
        width="stretch",
    )
    made = st.session_state.get(_MADE_KEY)
    if made and made[0] == batch.id:
        st.code(made[1], language=None)
        st.caption(
            f"Anyone with this link can approve or ask for changes on this batch's waiting shots, "
            f"for {DEFAULT_HOURS} hours. It shows nothing else. Revoke it under Client links."
        )


def _link_row(catalog: Catalog, link: LinkView) -> None:
    what, when, used, action = st.columns([4, 4, 3, 2], vertical_alignment="center")
    colour = _STATE_COLOURS[link.state]
    what.markdown(f"{badge(link.state.value, colour)} `{link.link_id}` {link.label or '(no label)'}")
    if link.state == LinkState.REVOKED:
        when.caption(f"revoked {clock(link.revoked_at)} UTC")
    elif link.state == LinkState.EXPIRED:
        when.caption(f"expired {clock(link.expires_at)} UTC")
    else:
        when.caption(f"works until {clock(link.expires_at)} UTC ({time_left(link.expires_at)} left)")
    used.caption(f"last used {ago(link.last_used_at)}" if link.last_used_at else "never opened")
    if link.state == LinkState.ACTIVE:
        with action.popover("Revoke", icon=":material/link_off:", width="stretch"):
            st.markdown(f"**Revoke link `{link.link_id}`?** Whoever has it can no longer open this batch.")
            st.button(
                "Yes, revoke it",
                key=f"revoke-{link.link_id}",
                type="secondary",
                icon=":material/link_off:",
                on_click=_revoke,
                args=(catalog, link.link_id),
            )


def links_list(catalog: Catalog, batch: Batch) -> None:
    """A "Client links" section: every recorded link of the batch, newest first, each revocable."""
    if not batch.approval_required:
        return
    links = links_of(catalog, batch.id)
    active = sum(1 for link in links if link.state == LinkState.ACTIVE)
    # A label that never changes keeps the section open across the redraw a click causes.
    with st.expander("Client links", icon=":material/link:", key="client-links"):
        note = st.session_state.pop(_NOTE_KEY, None)
        if note:
            getattr(st, note[0])(note[1])
        st.caption(f"{active} active of {len(links)} handed out, newest first.")
        if not links:
            st.caption("No links handed out yet: “Share with client” makes one.")
        for link in links:
            _link_row(catalog, link)
        st.caption(
            "Links made before links were recorded cannot be listed or revoked one by one; they stop "
            "working when they expire. `studio share --list` shows these links too."
        )

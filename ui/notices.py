"""Messages that answer a visitor's action: drawn on the rerun the action triggers, and kept
through the redraws a live page makes by itself until the visitor's next action.

Without the keeping, a live page could wipe its own "Thank you" within a second: a client who asks
for changes sees the new round arrive, and the redraw it brings would drop the message.
"""

from __future__ import annotations

import streamlit as st

_QUEUED = "_studio_notices"
_SHOWN = "_studio_notices_shown"
_LIVE_REDRAW = "_studio_live_redraw"


def notify(kind: str, text: str) -> None:
    """Queue a message (``success``, ``warning``, ``error`` or ``info``) for the next draw."""
    st.session_state.setdefault(_QUEUED, []).append((kind, text))


def keep_notices_through_redraw() -> None:
    """Mark the coming rerun as the page's own (a live poll saw a change), not the visitor's."""
    st.session_state[_LIVE_REDRAW] = True


def show_notices() -> None:
    """Draw the messages queued since the last draw, and on a live redraw those shown before it."""
    kept = st.session_state.get(_SHOWN, []) if st.session_state.pop(_LIVE_REDRAW, False) else []
    shown = [*kept, *st.session_state.pop(_QUEUED, [])]
    st.session_state[_SHOWN] = shown
    for kind, text in shown:
        getattr(st, kind)(text)

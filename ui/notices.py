"""One-shot messages that survive the rerun an action triggers (a click, then a redraw)."""

from __future__ import annotations

import streamlit as st

_KEY = "_studio_notices"


def notify(kind: str, text: str) -> None:
    """Queue a message (``success``, ``warning``, ``error`` or ``info``) for the next draw."""
    st.session_state.setdefault(_KEY, []).append((kind, text))


def show_notices() -> None:
    """Draw and forget queued messages."""
    for kind, text in st.session_state.pop(_KEY, []):
        getattr(st, kind)(text)

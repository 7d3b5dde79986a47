"""Pages that follow the studio by themselves: a cheap poll that redraws the page on a change.

A page reads a small signature of what it shows *before* drawing it, draws, then calls
:func:`rerun_on_change`. A fragment polls the signature every second and reruns the whole
page only when it differs, so an idle page costs one small query per poll. Widgets keep their
keys across such a rerun, so what a visitor was typing stays in its box.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import streamlit as st

from ui.notices import keep_notices_through_redraw

# A new round must show within 2 s of its last review: at most one poll plus one redraw. An idle
# page costs one small query a second, which even a client pool of dozens of open pages affords.
EVERY_SECONDS = 1.0


def rerun_on_change(signature: Callable[[], Hashable], drawn: Hashable, *, key: str) -> None:
    """Rerun the page when ``signature()`` stops being ``drawn`` (the signature the page was drawn from).

    Args:
        signature: Reads the current signature (one cheap query).
        drawn: What ``signature()`` returned before the page drew its content.
        key: Session-state key that keeps ``drawn`` between polls; one per page.
    """
    st.session_state[key] = drawn
    _poll(signature, key)


@st.fragment(run_every=EVERY_SECONDS)
def _poll(signature: Callable[[], Hashable], key: str) -> None:
    if signature() != st.session_state.get(key):
        keep_notices_through_redraw()  # the visitor did nothing: what answered their last action stays
        st.rerun(scope="app")

"""A message that answers a visitor's action stays through the page's own live redraws, and goes
at the visitor's next action (a client's "Thank you" must not vanish when the new round arrives)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _app() -> None:
    import streamlit as st

    from ui.notices import keep_notices_through_redraw, notify, show_notices

    show_notices()
    st.button("Ask", key="ask", on_click=notify, args=("success", "Thank you — we will rework campfire."))
    # What ui.live's poll does when it sees a change; a button stands in for its timer here.
    st.button("Poll", key="poll", on_click=keep_notices_through_redraw)
    st.button("Elsewhere", key="elsewhere")


def _said(at: AppTest) -> list[str]:
    return [s.value for s in at.success]


def test_a_notice_survives_live_redraws_and_goes_at_the_next_action() -> None:
    at = AppTest.from_function(_app, default_timeout=30)
    at.run()
    assert _said(at) == []

    at.button(key="ask").click().run()
    assert _said(at) == ["Thank you — we will rework campfire."]
    for _ in range(2):  # the new round arrives, then the upscale: two redraws the visitor did not cause
        at.button(key="poll").click().run()
        assert _said(at) == ["Thank you — we will rework campfire."]

    at.button(key="elsewhere").click().run()
    assert _said(at) == []
    at.button(key="ask").click().run()
    assert _said(at) == ["Thank you — we will rework campfire."]  # once, not stacked on the old one

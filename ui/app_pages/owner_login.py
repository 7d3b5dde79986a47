"""Sign in: the owner token, asked only when the dashboard listens beyond localhost."""

from __future__ import annotations

import streamlit as st

from studio.review.access import owner_token_ok
from ui.resources import current_settings

settings = current_settings()
st.title("The studio")
st.caption("This dashboard is reachable from other machines, so the owner's pages need the dashboard token.")
with st.form("owner-login"):
    given = st.text_input("Dashboard token", type="password", key="owner-token")
    submitted = st.form_submit_button("Sign in", type="primary")
if submitted:
    if owner_token_ok(settings, given or ""):
        st.session_state["owner_signed_in"] = True
        st.rerun()
    st.error("That token is not right.")

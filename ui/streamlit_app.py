"""The studio's dashboard: routes between pages; the pages draw, studio/ computes.

Two audiences share one app. A link with ``?share=TOKEN`` gets the client review page and
nothing else (no navigation is even registered). Everyone else gets the owner's pages, behind
the owner token when the dashboard listens beyond localhost.
"""

from __future__ import annotations

import streamlit as st

from studio.outages.notes import catalog_outage
from studio.review.access import owner_login_required
from studio.views.gates import pending_gates
from ui import routes
from ui.outage_page import wait_for_catalog
from ui.resources import current_settings, open_catalog

st.set_page_config(page_title="the studio", page_icon=":material/movie:", layout="wide")
settings = current_settings()

if routes.SHARE_PARAM in st.query_params:
    client = st.Page(routes.CLIENT_REVIEW, title="Review", icon=":material/thumb_up:", url_path="review", default=True)
    st.navigation([client], position="hidden").run()
    st.stop()

if owner_login_required(settings) and not st.session_state.get("owner_signed_in"):
    login = st.Page(routes.OWNER_LOGIN, title="Sign in", icon=":material/lock:", url_path="sign-in", default=True)
    st.navigation([login], position="hidden").run()
    st.stop()

try:
    waiting = len(pending_gates(open_catalog(settings)))
except Exception as err:
    line = catalog_outage(err)
    if line is None:
        raise
    wait_for_catalog(line)  # stops this run; the page reloads by itself once the catalog is back
batches = st.Page(routes.BATCHES, title="Batches", icon=":material/view_list:", url_path="batches")


def _home() -> None:
    # Streamlit serves the default page at "/" and ignores its url_path, so a default Batches page
    # made /batches "Page not found". The root is this hidden page, which opens Batches at /batches.
    st.switch_page(batches, query_params=st.query_params.to_dict())  # a link's query survives the hop


pages = {
    "Studio": [
        st.Page(_home, title="Home", url_path="home", default=True, visibility="hidden"),
        batches,
        st.Page(routes.BATCH, title="Batch", icon=":material/grid_view:", url_path="batch"),
        st.Page(routes.SHOT, title="Shot", icon=":material/image:", url_path="shot"),
        st.Page(
            routes.APPROVALS,
            title=f"Approvals ({waiting})" if waiting else "Approvals",
            icon=":material/inbox:",
            url_path="approvals",
        ),
        st.Page(routes.QUEUE, title="Queue", icon=":material/queue:", url_path="queue"),
        st.Page(routes.LAUNCH, title="Launch", icon=":material/rocket_launch:", url_path="launch"),
    ]
}
page = st.navigation(pages)
with st.sidebar:
    st.caption(f"Signed in as **{settings.owner_name}** · Temporal `{settings.address}`")
    st.caption(f"[Temporal Web UI]({settings.temporal_ui_url})")
page.run()

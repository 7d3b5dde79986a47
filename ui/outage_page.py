"""What the dashboard shows while the catalog itself is down: a notice that waits, not a traceback."""

from __future__ import annotations

import streamlit as st

from studio.outages.notes import catalog_outage
from ui.resources import current_settings, open_catalog

PROBE_SECONDS = 5


def wait_for_catalog(line: str) -> None:
    """Say that the catalog is unreachable, look again every few seconds, reload once it answers.

    Never returns: the rest of the page needs the catalog.
    """
    st.title("the studio")
    st.warning(
        f"{line[0].upper()}{line[1:]}. Batches wait and carry on by themselves; this page comes "
        "back as soon as the catalog answers.",
        icon=":material/cloud_off:",
    )

    @st.fragment(run_every=PROBE_SECONDS)
    def _probe() -> None:
        try:
            open_catalog(current_settings()).batches(1)
        except Exception as err:
            if catalog_outage(err) is None:
                raise
            st.caption(f"Still waiting: {catalog_outage(err)}")
            return
        st.rerun()

    _probe()
    st.stop()

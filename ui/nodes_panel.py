"""The "Render nodes" panel: the creator's own GPUs (ComfyUI, AUTOMATIC1111), as `studio nodes` shows them.

Drawn on the Batches page only where render nodes are set (``COMFYUI_URLS``, ``A1111_URLS``).
Each node is asked about itself with a short timeout, and the answers are kept a few seconds,
so a panel refreshing by itself (or several browser tabs) does not keep knocking on the nodes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import streamlit as st

from studio.catalog.store import Catalog
from studio.settings import Settings
from studio.views.nodes import NodePool, NodeRow, node_pools, node_rows, probe_pools

PROBE_TIMEOUT = 2.0  # a node that takes longer is shown as not answering: the page must not wait
ANSWERS_KEPT = 5  # seconds the nodes' answers are reused (the panel refreshes as often)


@st.cache_data(ttl=ANSWERS_KEPT, show_spinner=False)
def _answers(where: tuple[tuple[str, tuple[str, ...], str | None], ...], _pools: Sequence[NodePool]) -> dict[Any, Any]:
    # Keyed by what is asked (providers, URLs, probes), never by the credential it is asked with.
    return asyncio.run(probe_pools(_pools, timeout=PROBE_TIMEOUT))


def _table(rows: Sequence[NodeRow]) -> None:
    st.dataframe(
        {
            "node": [r.url for r in rows],
            "provider": [r.provider for r in rows],
            "up": ["?" if r.reachable is None else ("yes" if r.reachable else "no") for r in rows],
            "version": [r.version or "—" for r in rows],
            "queue": [r.queue for r in rows],
            "busy": [f"{r.busy}/{r.slots}" for r in rows],
            "jobs done": [r.jobs_done for r in rows],
            "s/image": [r.seconds_per_image for r in rows],
            "health": [r.health_text() for r in rows],
            "last error": [r.last_error or "" for r in rows],
        },
        hide_index=True,
        width="stretch",
        key="nodes-table",
    )


def nodes_panel(settings: Settings, catalog: Catalog) -> None:
    """Draw the panel (nothing at all when no render node is set); it refreshes every few seconds."""
    if not node_pools(settings):
        return

    @st.fragment(run_every=ANSWERS_KEPT)
    def _panel() -> None:
        pools = node_pools(settings)
        where = tuple((p.provider, tuple(n.url for n in p.nodes), p.probe) for p in pools)
        rows = node_rows(catalog, settings, pools=pools, answers=_answers(where, pools))
        with st.container(border=True, key="nodes-panel"):
            st.subheader("Render nodes")
            down = [r for r in rows if r.reachable is False]
            aside = [r for r in rows if r.health == "set_aside"]
            st.caption(
                f"{len(rows)} nodes · {sum(r.busy for r in rows)} renders on them now · "
                f"{len(down)} not answering · {len(aside)} set aside"
            )
            _table(rows)
            for row in aside:
                st.warning(
                    f"{row.url} is {row.health_text()}: its last calls failed ({row.last_error or 'no detail'}).",
                    icon=":material/pause_circle:",
                )

    _panel()

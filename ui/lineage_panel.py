"""A take's recipe and lineage, and "Make another like this", as the Shot page draws them.

Owner-only: the client review page never imports this module, so a shared link cannot start
batches or read recipes.
"""

from __future__ import annotations

import streamlit as st

from pipelines.client.ui_actions import make_another
from studio.batches.replay import MODES
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.settings import Settings
from studio.views.lineage import (
    MAX_COUNT,
    MODE_LABELS,
    KinRow,
    LineageView,
    lineage_view,
    replay_request,
)
from ui import routes
from ui.markdown_table import field_lines

DEFAULT_MODE = "remix"  # "another like this" most often means new seeds, not the same image again


def _kin_link(row: KinRow, icon: str) -> None:
    # The take id already names its batch: the batch link only needs to say where it goes.
    take, batch = st.columns([5, 1], vertical_alignment="center")
    with take:
        st.page_link(
            routes.SHOT,
            label="· " * (row.depth - 1) + row.label,
            icon=icon,
            query_params={routes.SHOT_PARAM: row.shot_key},
        )
    with batch:
        st.page_link(
            routes.BATCH,
            label="batch",
            icon=":material/grid_view:",
            help=f"Batch {row.batch_id}",
            query_params={routes.BATCH_PARAM: row.batch_id},
        )


def _parents(view: LineageView) -> None:
    st.markdown("**Made from**")
    for row in view.parents:
        _kin_link(row, ":material/arrow_upward:")
    if view.chain_end == "not_in_catalog":
        st.caption(
            f"↑ `{view.chain_end_id}` is not in this catalog (a file made by another studio, or a "
            "deleted row): the chain stops there."
        )
    elif view.chain_end == "cycle":
        st.caption(f":red[↑ `{view.chain_end_id}` again: the parent links loop; stopped here.]")
    elif not view.parents:
        st.caption("Its prompt (no parent take).")


def _children(view: LineageView) -> None:
    st.markdown("**Made from it**")
    if not view.children:
        st.caption("Nothing yet: make another like it below.")
        return
    for row in view.children:
        _kin_link(row, ":material/subdirectory_arrow_right:")
    if view.more_children or view.truncated:
        more = f"{view.more_children} more" if view.more_children else "More"
        st.caption(f"{more} descendants are not listed: `studio show {view.take_id}` lists them all.")


def recipe_and_lineage(catalog: Catalog, take_id: str) -> LineageView:
    """Draw the "Recipe & lineage" expander of one take; returns what it showed."""
    view = lineage_view(catalog, take_id)
    with st.expander("Recipe & lineage", expanded=True, icon=":material/account_tree:"):
        # Lines of Markdown wrap long prompts (a scrolling dataframe cut them off), and need no table
        # script in a fresh browser (ui/markdown_table.py).
        st.markdown(field_lines(view.recipe))
        _parents(view)
        _children(view)
        for path in view.published:
            st.caption(f":material/folder: Published as `{path}`")
    return view


def make_another_panel(settings: Settings, number: int, view: LineageView) -> None:
    """Draw "Make another like this" for take ``number`` of the page's shot; starts a replay batch.

    Widget keys use the take number: the page shows one shot, so it is unique there.
    """
    with st.container(border=True, key=f"replay-box-{number}"):
        st.markdown(":material/auto_awesome: **Make another like this**")
        if not view.replayable:
            st.caption("This take has no image yet, so there is nothing to make another like.")
            return
        mode = st.selectbox(
            "Mode", MODES, index=MODES.index(DEFAULT_MODE), format_func=MODE_LABELS.get, key=f"replay-mode-{number}"
        )
        count_col, text_col = st.columns([1, 3])
        with count_col:
            if mode == "exact":  # one image: the same seed gives the same picture again
                count = st.number_input(
                    "Takes",
                    value=1,
                    disabled=True,
                    key=f"replay-count-exact-{number}",
                    help="An exact replay makes one image.",
                )
            else:
                count = st.number_input(
                    "Takes", min_value=1, max_value=MAX_COUNT, value=1, step=1, key=f"replay-count-{number}"
                )
        with text_col:
            append = st.text_input(
                "Add to the prompt (optional)", key=f"replay-append-{number}", placeholder="e.g. at dusk, in the rain"
            )
        if st.button("Make another like this", type="primary", icon=":material/auto_awesome:", key=f"replay-{number}"):
            try:
                with st.spinner("Starting a replay batch…"):
                    made = make_another(settings, replay_request(view.take_id, mode, int(count or 1), append))
            except StudioError as err:  # a refusal (ReplayError), or Temporal or the store unreachable
                st.error(str(err), icon=":material/error:")
            else:
                st.session_state[f"replayed-{view.take_id}"] = made
        made = st.session_state.get(f"replayed-{view.take_id}")
        if made:
            st.page_link(
                routes.BATCH,
                label=f"Open the new batch {made}",
                icon=":material/arrow_forward:",
                query_params={routes.BATCH_PARAM: made},
            )
        st.caption(
            "A replay is a small batch of its own, linked to this take; it renders, reviews and "
            "publishes like any batch."
        )

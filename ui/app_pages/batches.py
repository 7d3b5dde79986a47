"""Batches: every batch with live per-stage progress, cost, times and failures."""

from __future__ import annotations

import streamlit as st

from studio.states import BatchState
from studio.views.batches import BatchLine, batches_board, board_totals
from studio.views.eta import batch_eta, capacity_of, eta_short
from studio.views.status import TERMINAL_STATES
from ui import routes
from ui.badges import SKIPPED, ago, clock, money, state_badge
from ui.nodes_panel import nodes_panel
from ui.resources import current_settings, open_catalog

REFRESH_SECONDS, IDLE_REFRESH_SECONDS = 3, 15
SHOWN = 30

st.title("Batches")
st.caption("Every batch the studio has run, newest first. Progress refreshes by itself.")
settings = current_settings()
catalog = open_catalog(settings)


def _progress(label: str, done: int, total: int) -> None:
    if not total:  # no shot asks for this stage (upscale = 1): a bar would claim work done or pending
        st.caption(f"{label}: {SKIPPED}")
        return
    st.progress(min(1.0, done / total), text=f"{label} {done}/{total}")


def _eta(line: BatchLine) -> str:
    """When a batch that has not ended should finish (in the place "Finished …" takes once it has)."""
    capacity = capacity_of(settings.provider_concurrency, settings.provider_max_in_flight)
    return eta_short(batch_eta(catalog, line.batch_id, capacity=capacity), paused=line.state == BatchState.PAUSED)


def _stage_counts(line: BatchLine) -> str:
    """An ended batch's stages in one line: its bars would all stand still, most of them full."""
    return " · ".join(
        f"{stage} {done}/{total}" if total else f"{stage}: {SKIPPED}" for stage, (done, total) in line.progress.items()
    )


def _batch_row(line: BatchLine) -> None:
    """One batch. Kept to a few elements: a fresh browser receives and lays out 30 of these, and
    each element costs it time (bench/scale/dashboard_first_render.py)."""
    ended = line.state in TERMINAL_STATES
    with st.container(border=True, key=f"batch-{line.batch_id}"):
        head, times = st.columns([3, 2], vertical_alignment="center")
        with head:
            st.page_link(
                routes.BATCH,
                label=f"**{line.project}**",
                icon=":material/grid_view:",
                query_params={routes.BATCH_PARAM: line.batch_id},
            )
            problems = []
            if line.waiting:
                problems.append(f":orange[{line.waiting} waiting for approval]")
            if line.waiting_budget:
                problems.append(f":orange[{line.waiting_budget} waiting at the budget]")
            if line.failed_shots:
                problems.append(f":red[{line.failed_shots} shots failed]")
            if line.failed_takes:
                problems.append(f":red[{line.failed_takes} takes failed]")
            st.markdown(" ".join([state_badge(line.state), f"`{line.batch_id}`", *problems]))
        with times:
            finished = f"Finished {clock(line.finished_at)}" if line.finished_at else _eta(line)
            st.markdown(
                f"Cost **{money(line.cost_usd)}**  \n:gray[Started {clock(line.created_at)} ({ago(line.created_at)})"
                f"  \n{finished}]"
            )
        if ended:
            st.caption(_stage_counts(line))
        else:  # bars while it moves; one horizontal container, not a column each
            with st.container(horizontal=True, gap="medium"):
                for stage, (done, total) in line.progress.items():
                    _progress(stage, done, total)
        for text in line.waiting_for:
            st.warning(text, icon=":material/hourglass_top:")
        if line.error:
            st.error(line.error)


# Refresh often while something moves; slowly otherwise, just to notice a batch started elsewhere.
live = any(b.state not in TERMINAL_STATES for b in catalog.batches(SHOWN))


@st.fragment(run_every=REFRESH_SECONDS if live else IDLE_REFRESH_SECONDS)
def _board() -> None:
    lines = batches_board(catalog, limit=SHOWN)
    if not lines:
        st.info("No batches yet — launch one.", icon=":material/rocket_launch:")
        st.page_link(routes.LAUNCH, label="Launch a batch", icon=":material/rocket_launch:")
        return
    totals = board_totals(lines)
    a, b, c = st.columns(3)
    a.metric("Batches running", totals.running)
    b.metric("Shots waiting for approval", totals.waiting)
    c.metric("Shots published", totals.published)
    for line in lines:
        _batch_row(line)
    if len(lines) == SHOWN:
        st.caption(f"Showing the newest {SHOWN} batches; `studio status` lists them all.")


nodes_panel(settings, catalog)  # the creator's own GPUs, where render nodes are set
_board()

"""The operator's hands on the render queue: pause or resume a batch, change its priority, and
change a client's share of the providers (the Batch and Queue pages)."""

from __future__ import annotations

import streamlit as st

from pipelines.client.ui_actions import client_weights_now, hold_batch, reprioritize_batch, reweight_client
from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.errors import StudioError
from studio.priority import PRIORITIES, parse_weights
from studio.settings import Settings
from studio.states import FINISHED_BATCH_STATES
from studio.views.client_weights import SET_NOW, client_weights
from studio.views.queue import unfinished_batches
from ui.markdown_text import literal

ANSWER = "queue-answer"
PRIORITY_HELP = (
    "Where its shots not yet started queue on every provider: rush before normal before low. "
    "Shots already rendering keep theirs."
)


def _answered(kind: str, text: str) -> None:
    # Kept until the next answer: the pages refresh themselves and would lose a one-shot notice.
    st.session_state[ANSWER] = (kind, text)


def show_answer() -> None:
    """The last queue action's answer (success or why it was refused)."""
    answer = st.session_state.get(ANSWER)
    if answer:
        getattr(st, answer[0])(answer[1])


def _hold(settings: Settings, batch_id: str, paused: bool) -> None:
    try:
        _answered("success", hold_batch(settings, batch_id, paused=paused))
    except StudioError as err:  # ended, workflow gone, or Temporal unreachable
        _answered("error", str(err))


def _reprioritize(settings: Settings, batch_id: str, key: str) -> None:
    priority = st.session_state.get(key)
    if not priority:  # the selected priority was clicked again: nothing to change
        return
    try:
        _answered("success", reprioritize_batch(settings, batch_id, priority))
    except StudioError as err:
        _answered("error", str(err))


def batch_controls(settings: Settings, batch: Batch, *, where: str) -> None:
    """Pause / Resume and the priority of a batch that has not ended (nothing for one that has).

    Args:
        where: The page (keeps widget keys apart when two pages show the same batch).
    """
    if batch.state in FINISHED_BATCH_STATES:
        return
    paused = batch.paused_at is not None
    hold, priority = st.columns([1, 2], vertical_alignment="bottom")
    hold.button(
        "Resume" if paused else "Pause",
        icon=":material/play_arrow:" if paused else ":material/pause:",
        key=f"{where}-hold-{batch.id}",
        help="Let its renders start again."
        if paused
        else "No new render starts; calls already running finish and gates stay answerable.",
        on_click=_hold,
        args=(settings, batch.id, not paused),
        width="stretch",
    )
    key = f"{where}-priority-{batch.id}"
    with priority:
        st.segmented_control(
            "Priority",
            PRIORITIES,
            default=batch.priority,
            key=key,
            help=PRIORITY_HELP,
            on_change=_reprioritize,
            args=(settings, batch.id, key),
            label_visibility="collapsed",
        )


def _reweight(settings: Settings, client: str, key: str | None) -> None:
    weight = None if key is None else st.session_state.get(key)
    try:
        _answered("success", reweight_client(settings, client, None if weight is None else float(weight)))
    except StudioError as err:
        _answered("error", str(err))


def client_weight_panel(settings: Settings, catalog: Catalog) -> None:
    """Every client with a batch running (or a weight of its own), its weight, and a way to change it."""
    st.subheader("Clients")
    try:
        overrides = client_weights_now(settings)
    except StudioError as err:
        st.warning(f"Cannot read the weights from Temporal: {err}", icon=":material/cloud_off:")
        return
    rows = client_weights(unfinished_batches(catalog), parse_weights(settings.client_weights), overrides)
    if not rows:
        st.caption("No client has a batch running.")
        return
    st.caption(
        "Within one priority, clients share each provider in proportion to their weights. A weight set "
        "here takes hold at once, waiting renders included."
    )
    for row in rows:
        name, weight, set_, reset = st.columns([3, 2, 1, 1], vertical_alignment="bottom")
        name.markdown(f"**{literal(row.client)}** · {row.batches} batch{'es' * (row.batches != 1)} · from {row.source}")
        key = f"weight-{row.client}"
        weight.number_input(
            "Weight",
            min_value=0.001,
            max_value=1000.0,
            value=float(row.weight),
            step=0.5,
            key=key,
            label_visibility="collapsed",
        )
        set_.button("Set", key=f"{key}-set", on_click=_reweight, args=(settings, row.client, key), width="stretch")
        if row.source == SET_NOW:
            reset.button(
                "Reset", key=f"{key}-reset", on_click=_reweight, args=(settings, row.client, None), width="stretch"
            )

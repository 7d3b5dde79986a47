"""Batch: a grid of the batch's shots with every take's thumbnail, stage, provider and failovers,
its spending against its budget, and the budget gate's answer when shots wait there."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from pipelines.client.ui_actions import raise_batch_budget, stop_batch_spending
from studio.errors import NotFound, StudioError
from studio.states import BatchState
from studio.views.batches import (
    SHOT_FILTERS,
    BudgetPanel,
    ShotCard,
    TakeCard,
    budget_panel,
    shot_cards,
    shot_filter_counts,
    waiting_text,
    workflow_url,
)
from studio.views.eta import batch_eta, capacity_of, eta_text
from studio.views.status import TERMINAL_STATES, batch_summary
from ui import routes
from ui.badges import SKIPPED, clock, money, stage_badge, state_badge, take_badge
from ui.links_panel import links_list, share_box
from ui.queue_controls import batch_controls, show_answer
from ui.resources import current_settings, open_catalog, warm
from ui.thumb_rows import thumbnail_rows

SHOTS_PER_PAGE = 24
THUMB_SIZE = 256
REFRESH_SECONDS = 3
FILTER_LABELS = {"all": "All", "waiting": "Waiting", "rejected": "Rejected", "failed": "Failed"}

settings = current_settings()
catalog = open_catalog(settings)
batch_id = st.query_params.get(routes.BATCH_PARAM)

if not batch_id:
    st.title("Batch")
    st.caption("Pick a batch, or open one from the Batches page.")
    recent = catalog.batches(50)
    if not recent:
        st.info("No batches yet — launch one.", icon=":material/rocket_launch:")
        st.page_link(routes.LAUNCH, label="Launch a batch", icon=":material/rocket_launch:")
        st.stop()
    choice = st.selectbox(
        "Open a batch",
        [b.id for b in recent],
        index=None,
        placeholder="Choose a batch",
        format_func=lambda b: f"{b} — {next(r.project_name for r in recent if r.id == b)}",
        key="batch-pick",
    )
    if choice:
        st.query_params[routes.BATCH_PARAM] = choice
        st.rerun()
    st.stop()

try:
    batch = catalog.batch(batch_id)
except NotFound:
    st.title("Batch")
    st.warning(f"There is no batch `{batch_id}`.")
    st.page_link(routes.BATCHES, label="All batches", icon=":material/view_list:")
    st.stop()

st.title(batch.project_name)
st.page_link(routes.BATCHES, label="All batches", icon=":material/arrow_back:")
if batch.parent_batch_id:  # a replay or a rerun: where it came from
    st.page_link(
        routes.BATCH,
        label=f"Made from batch {batch.parent_batch_id}",
        icon=":material/account_tree:",
        query_params={routes.BATCH_PARAM: batch.parent_batch_id},
    )


def _take_caption(take: TakeCard) -> str:
    parts = [f"#{take.number}" + (f" r{take.round}" if take.round > 1 else "")]
    if take.failed_over:
        parts.append("→".join(take.providers_tried) + " ⇄")
    elif take.provider:
        parts.append(take.provider)
    if take.review_score is not None:
        parts.append(f"{take.review_score:.2f}{'' if take.review_passed else ' ✗'}")
    return " · ".join(parts) + (" ★" if take.chosen else "")


def _escape(text: str) -> str:
    """Prompt text shown inside Markdown: brackets and emphasis characters taken literally."""
    for char in "\\[]*_`$:":
        text = text.replace(char, "\\" + char)
    return text


def _take_images(card: ShotCard, full_width: bool) -> None:
    items = [(t.image_key, _take_caption(t)) for t in card.takes]
    missing = thumbnail_rows(settings, items, size=THUMB_SIZE, min_slots=6 if full_width else 1)
    if missing:
        st.markdown(" ".join(f"#{card.takes[i].number} {take_badge(card.takes[i].status)}" for i in missing))


def _shot_card(card: ShotCard, full_width: bool) -> None:
    with st.container(border=True, key=f"shot-{card.shot_id}"):
        notes = [f"**{card.shot_id}**", stage_badge(card.stage)]
        if card.failovers:
            notes.append(f":violet-badge[:material/swap_horiz: {card.failovers} failover{'s' * (card.failovers > 1)}]")
        if card.failed_takes:
            notes.append(f":red-badge[{card.failed_takes} take{'s' * (card.failed_takes > 1)} failed]")
        limit = 160 if full_width else 60
        prompt = card.prompt[:limit] + ("…" if len(card.prompt) > limit else "")
        # One markdown element for header and prompt: a 24-card page draws noticeably faster.
        st.markdown(" ".join(notes) + f"  \n:gray[{_escape(prompt)}]")
        _take_images(card, full_width)
        if card.error:
            st.caption(f":red[{card.error}]")
        st.page_link(
            routes.SHOT,
            label="Takes and history",
            icon=":material/arrow_forward:",
            query_params={routes.SHOT_PARAM: card.key},
        )


def _grid(batch_id: str) -> None:
    # Only the page shown is read (its shots, takes and calls) and COUNTs give the buttons' numbers:
    # a 10,000-shot batch refreshes as fast as a 24-shot one.
    counts = shot_filter_counts(catalog, batch_id)
    which = (
        st.segmented_control(
            "Show",
            SHOT_FILTERS,
            default="all",
            required=True,
            key="shot-filter",
            format_func=lambda name: f"{FILTER_LABELS[name]} ({counts[name]})",
        )
        or "all"
    )
    chosen = counts[which]
    if not chosen:
        st.info("No shots match this filter." if counts["all"] else "The storyboard is being prepared.")
        return
    pages = (chosen + SHOTS_PER_PAGE - 1) // SHOTS_PER_PAGE
    page = min(st.pagination(pages, key=f"shot-page-{which}"), pages) if pages > 1 else 1
    visible = shot_cards(catalog, batch_id, which, offset=(page - 1) * SHOTS_PER_PAGE, limit=SHOTS_PER_PAGE)
    widest = max((len(c.takes) for c in visible), default=1)
    # Shots with one or two takes fit several to a row; a shot with many takes gets the full width.
    per_row = 4 if widest <= 1 else 2 if widest <= 3 else 1
    # One pool for the whole screenful: cold thumbnails are made in parallel, not card by card.
    warm(settings, [t.image_key for c in visible for t in c.takes], THUMB_SIZE)
    for start in range(0, len(visible), per_row):
        for column, card in zip(st.columns(per_row), visible[start : start + per_row], strict=False):
            with column:
                _shot_card(card, full_width=per_row == 1)
    if pages > 1:
        st.caption(f"Shots {(page - 1) * SHOTS_PER_PAGE + 1}–{(page - 1) * SHOTS_PER_PAGE + len(visible)} of {chosen}")


def _usd(value: float) -> str:
    return money(value)  # the CLI's format: a budget banner and `studio budget` agree to the cent


def _spend_metric(panel: BudgetPanel) -> None:
    # The same money as the Batches page's "Cost": succeeded calls only (calls in flight are reserved).
    more = (
        f" {_usd(panel.committed_usd - panel.spent_usd)} more is reserved by calls in flight."
        if panel.committed_usd > panel.spent_usd
        else ""
    )
    if panel.budget_usd is None:
        st.metric("Cost", money(panel.spent_usd), help=f"Succeeded provider calls; the project sets no budget.{more}")
        return
    colour: Literal["red", "orange", "gray"] = "red" if panel.stopped else "orange" if panel.waiting else "gray"
    st.metric(
        "Cost",
        money(panel.spent_usd),
        delta=f"of {_usd(panel.budget_usd)} budget",
        delta_color=colour,
        delta_arrow="off",
        help=f"Succeeded provider calls, against the project's budget.{more}"
        + (" Spending was stopped." if panel.stopped else ""),
    )


def _answered(kind: str, text: str) -> None:
    # Kept per batch until the next answer: the page refreshes itself and would lose a one-shot notice.
    st.session_state["budget-answer"] = (batch.id, kind, text)


def _raise_budget() -> None:
    """Button callback: write the new budget, then wake the waiting shots."""
    usd = st.session_state.get("budget-new")
    if usd is None:
        _answered("error", "Enter the new budget first.")
        return
    try:
        answered = raise_batch_budget(settings, batch.id, usd, who=settings.owner_name)
    except StudioError as err:  # refused (not above what is committed), or Temporal unreachable
        _answered("error", str(err))
        return
    woken = len(answered.lines)
    shots = "1 shot renders" if woken == 1 else f"{woken} shots render"
    _answered("success", f"Budget raised to {_usd(usd)}: {shots} again.")


def _stop_spending() -> None:
    """Button callback: stop paid calls for good, then wake the waiting shots to fail what is left."""
    try:
        answered = stop_batch_spending(settings, batch.id, who=settings.owner_name)
    except StudioError as err:
        _answered("error", str(err))
        return
    woken = len(answered.lines)
    _answered(
        "warning",
        f"Spending stopped: {woken} waiting shot{'s' * (woken != 1)} keep what they rendered; "
        "their unrendered takes fail.",
    )


def _budget_gate(panel: BudgetPanel) -> None:
    waiting = len(panel.waiting)
    cap = _usd(panel.budget_usd) if panel.budget_usd is not None else "no"
    with st.container(border=True, key="budget-gate"):
        st.warning(
            f"**{waiting} shot{'s' * (waiting != 1)} waiting at the budget.** Spent {_usd(panel.spent_usd)} "
            f"(committed {_usd(panel.committed_usd)}) of the {cap} budget: the next render would go past it. "
            "Nothing renders, and nothing is spent, until you answer.",
            icon=":material/savings:",
        )
        st.caption(
            "Waiting: "
            + ", ".join(panel.waiting)
            + (" · spending was stopped; answering again wakes them" if panel.stopped else "")
        )
        amount, go, stop = st.columns([2, 2, 2], vertical_alignment="bottom")
        amount.number_input(
            "New budget (USD)",
            min_value=panel.floor_usd,
            value=panel.suggested_usd,
            step=0.01,
            format="%.2f",
            key="budget-new",
            help=f"Above the {_usd(panel.committed_usd)} already spent or committed.",
        )
        go.button(
            "Raise budget and continue",
            type="primary",
            icon=":material/play_arrow:",
            key="budget-raise",
            width="stretch",
            on_click=_raise_budget,
        )
        with stop.popover("Stop spending", icon=":material/block:", width="stretch"):
            st.markdown(
                "**Stop paid calls for this batch for good?** The waiting shots keep the takes they "
                "already rendered; their other takes fail, and the batch makes no further paid call."
            )
            st.button("Yes, stop spending", key="budget-stop", icon=":material/block:", on_click=_stop_spending)


def _spending(panel: BudgetPanel) -> None:
    note = st.session_state.get("budget-answer")
    if note and note[0] == batch.id:
        getattr(st, note[1])(note[2])
    if panel.waiting:
        _budget_gate(panel)


live = catalog.batch(batch.id).state not in TERMINAL_STATES


@st.fragment(run_every=REFRESH_SECONDS if live else None)
def _live() -> None:
    summary = batch_summary(catalog, batch.id, take_details=False)  # shows counts, not every take
    panel = budget_panel(summary.cost.spend())
    finished = f" · finished {clock(summary.finished_at)}" if summary.finished_at else ""
    status, cost = st.columns([4, 1], vertical_alignment="center")
    status.markdown(f"{state_badge(summary.state)} `{batch.id}` · started {clock(summary.created_at)}{finished}")
    with cost:
        _spend_metric(panel)
    show_answer()
    batch_controls(settings, catalog.batch(batch.id), where="batch")
    _spending(panel)
    bars = st.columns(4)
    for column, stage in zip(bars, ("render", "upscale", "review", "publish"), strict=True):
        progress = summary.stages.progress(stage)
        if progress.skipped:  # no shot asks for this stage (upscale = 1)
            column.caption(f"{stage}: {SKIPPED}")
            continue
        column.progress(min(1.0, progress.done / progress.total), text=f"{stage} {progress.done}/{progress.total}")
    if summary.state not in TERMINAL_STATES:
        eta = batch_eta(
            catalog, batch.id, capacity=capacity_of(settings.provider_concurrency, settings.provider_max_in_flight)
        )
        st.caption(
            eta_text(eta, paused=summary.state == BatchState.PAUSED),
            help="From recent calls' seconds per image, the takes left and the calls it runs at once.",
        )
    for wait in summary.waiting_for:
        st.warning(waiting_text(wait), icon=":material/hourglass_top:")
    if summary.error:
        st.error(summary.error)
    _grid(batch.id)


top_left, top_right = st.columns([3, 2])
with top_right:
    share_box(settings, catalog, batch)
with top_left:
    st.link_button("Batch workflow in Temporal", workflow_url(settings, batch.id), icon=":material/open_in_new:")
links_list(catalog, batch)
_live()

"""Shot: every take with its recipe, lineage and provider calls, the review, the approval history,
and "make another like this"."""

from __future__ import annotations

import streamlit as st

import studio.ids
from studio.catalog.store import Catalog
from studio.errors import NotFound
from studio.states import ShotStage, TakeStatus
from studio.views.batches import (
    ShotDetail,
    TakeCard,
    TakeDetail,
    shot_detail,
    workflow_url,
)
from studio.views.progress import progress_text, shot_progress
from ui import routes
from ui.badges import clock, money, stage_badge, take_badge
from ui.credentials_badge import credentials_badge
from ui.lineage_panel import make_another_panel, recipe_and_lineage
from ui.markdown_table import markdown_table
from ui.pin_notes import pinned_take, pins_by_take
from ui.resources import current_settings, full_size_url, open_catalog
from ui.thumb_rows import thumbnail_rows


def _take_caption(card: TakeCard) -> str:
    text = f"#{card.number}" + (f" r{card.round}" if card.round > 1 else "") + f" · {card.status}"
    return text + (" ★" if card.chosen else "")


def _tab_label(card: TakeCard, pins: int) -> str:
    # The pin count tells the owner which take the client wrote on, without opening each tab.
    marks = (" ★" if card.chosen else "") + (f" · {pins} pin{'s' * (pins > 1)}" if pins else "")
    return f"Take {card.number}{marks}"


def _attempts(take: TakeDetail) -> None:
    if not take.attempts:
        st.caption("No provider was called for this take yet.")
        return
    # Markdown, not st.table or st.dataframe: a few rows need no grid, and either one's script (Arrow's
    # decoder, its first use in a fresh browser) held the page's first render back (ui/markdown_table.py).
    st.markdown(
        markdown_table(
            {
                "stage": [a.stage for a in take.attempts],
                "provider": [a.provider for a in take.attempts],
                "try": [a.attempt for a in take.attempts],
                "status": [a.status for a in take.attempts],
                "error": [f"{a.error_class}: {a.error}" if a.error_class else (a.error or "") for a in take.attempts],
                "latency ms": [a.latency_ms for a in take.attempts],
                "cost": [money(a.cost_usd) for a in take.attempts],
                "started": [clock(a.started_at) for a in take.attempts],
            }
        )
    )


PROGRESS_REFRESH = 2  # seconds between two looks at the render nodes' progress


def _rendering_now(catalog: Catalog, shot_key: str) -> None:
    """A line per take a render node works on now (queue, sampler steps), refreshed while any is."""
    if not shot_progress(catalog, shot_key):
        return

    @st.fragment(run_every=PROGRESS_REFRESH)
    def _lines() -> None:
        live = shot_progress(catalog, shot_key)
        if not live:
            st.rerun()  # done: the whole page draws again, with the new images
        for take_id, item in live.items():
            st.info(f"Take {studio.ids.take_number(take_id)}: {progress_text(item)}", icon=":material/memory:")

    _lines()


def _opening_tab(takes: list[TakeDetail], labels: list[str]) -> str | None:
    """The tab to open on: the published take, else an approved one, else the first."""
    for wanted in (lambda t: t.card.chosen, lambda t: t.card.status == TakeStatus.APPROVED):
        for take, label in zip(takes, labels, strict=True):
            if wanted(take):
                return label
    return None


settings = current_settings()
catalog = open_catalog(settings)
shot_key = st.query_params.get(routes.SHOT_PARAM)

if not shot_key:
    st.title("Shot")
    st.caption("Pick a batch and a shot, or open one from a batch's grid.")
    batch_id = st.query_params.get(routes.BATCH_PARAM)
    recent = catalog.batches(50)
    if not recent:
        st.info("No batches yet — launch one.", icon=":material/rocket_launch:")
        st.page_link(routes.LAUNCH, label="Launch a batch", icon=":material/rocket_launch:")
        st.stop()
    ids = [b.id for b in recent]
    batch_id = st.selectbox("Batch", ids, index=ids.index(batch_id) if batch_id in ids else 0, key="shot-batch")
    shot_id = st.selectbox("Shot", catalog.shot_ids(batch_id), index=None, placeholder="Choose a shot", key="shot-pick")
    if shot_id:
        st.query_params[routes.SHOT_PARAM] = studio.ids.shot_key(batch_id, shot_id)
        st.rerun()
    st.stop()

try:
    detail: ShotDetail = shot_detail(catalog, shot_key)
except NotFound:
    st.title("Shot")
    st.warning(f"There is no shot `{shot_key}`.")
    st.stop()

shot = detail.shot
st.title(shot.shot_id)
st.page_link(
    routes.BATCH,
    label=f"Back to {detail.project}",
    icon=":material/arrow_back:",
    query_params={routes.BATCH_PARAM: shot.batch_id},
)
st.markdown(
    f"{stage_badge(shot.stage)} `{shot.key}` · {shot.width}×{shot.height} · upscale ×{shot.upscale} · "
    f"chain {' → '.join(shot.chain) or '—'}"
)
st.link_button("Shot workflow in Temporal", workflow_url(settings, shot.key), icon=":material/open_in_new:")
if shot.error:
    st.error(shot.error)

st.subheader("Prompt")
st.markdown(shot.prompt)
if shot.negative:
    st.caption(f"Negative: {shot.negative}")

st.subheader("Takes")
_rendering_now(catalog, shot.key)
cards = [t.card for t in detail.takes]
if any(c.image_key for c in cards):
    thumbnail_rows(settings, [(c.image_key, _take_caption(c)) for c in cards])
else:
    st.info("No take has an image yet.")


if detail.takes:
    pins = pins_by_take(catalog, [t.card.take_id for t in detail.takes])
    labels = [_tab_label(t.card, len(pins.get(t.card.take_id, []))) for t in detail.takes]
    tabs = st.tabs(labels, default=_opening_tab(list(detail.takes), labels))
    for tab, take in zip(tabs, detail.takes, strict=True):
        with tab:
            left, right = st.columns([2, 3])
            with left:
                # The client's pins, if any, drawn on the image and listed under it.
                drawn = pinned_take(
                    settings, take.card.take_id, take.card.image_key, pins.get(take.card.take_id, []), size=512
                )
                if drawn:
                    # On S3 the full-size image comes straight from the bucket, not through the dashboard.
                    full = full_size_url(settings, take.card.image_key)
                    if full is not None:
                        st.markdown(f"[Full size]({full})")
                st.markdown(take_badge(take.card.status) + (" :green-badge[published]" if take.card.chosen else ""))
                if take.card.review_score is not None:
                    verdict = "passed" if take.card.review_passed else "flagged"
                    st.metric(
                        "Review score",
                        f"{take.card.review_score:.2f}",
                        verdict,
                        delta_color="normal" if take.card.review_passed else "inverse",
                    )
                if take.review_notes:
                    st.caption(take.review_notes)
                if take.error:
                    st.error(take.error)
            with right:
                lineage = recipe_and_lineage(catalog, take.card.take_id)
                st.markdown("**Provider calls**")
                _attempts(take)
                make_another_panel(settings, take.card.number, lineage)

st.subheader("Approval history")
if detail.approvals:
    st.markdown(  # Markdown: see _attempts
        markdown_table(
            {
                "when": [clock(a.decided_at) for a in detail.approvals],
                "round": [a.round for a in detail.approvals],
                "decision": [a.decision for a in detail.approvals],
                "take": [str(studio.ids.take_number(a.take_id)) if a.take_id else "—" for a in detail.approvals],
                "who": [a.who for a in detail.approvals],
                "note": [a.note for a in detail.approvals],
            }
        )
    )
else:
    st.caption(
        "No decisions yet."
        if shot.stage != ShotStage.PUBLISHED
        else "Published without a gate (automated review chose)."
    )

for pub in detail.publications:
    st.success(f"Published take {studio.ids.take_number(pub.take_id)} to `{pub.path}` on {clock(pub.published_at)}.")
    credentials_badge(pub.path)

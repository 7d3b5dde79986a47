"""Looking closer at a shot's takes on the client page: two side by side, a rework against the take
it was made from, and any take at full size.

All of it sits in one folded expander per shot that runs only once opened, and each of its tabs
only while it is the one shown, so a closed section loads no image and a full-size image is read
only when asked for. With ``[approval] watermark = true`` every image here is marked, as the
thumbnails are: nothing before approval leaves the studio clean.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from studio.catalog.models import Take
from studio.catalog.store import Catalog
from studio.images.before_after import before_after
from studio.settings import Settings
from studio.storage.local import image_size
from studio.views.gates import GateChoice, PendingGate
from ui.previews import full_size, preview

COMPARE_SIZE = 1024
SPLIT_SIZE = 1280
COMPARE, BEFORE_AFTER, FULL_SIZE = "Compare", "Before / after", "Full size"


@dataclass(frozen=True)
class EditedTake:
    """A take on offer that was made as an edit of an earlier take of the same shot.

    Attributes:
        choice: The take on offer.
        parent: The take it was made from.
        parent_key: Asset key of the parent's image.
    """

    choice: GateChoice
    parent: Take
    parent_key: str


def compare_section(settings: Settings, catalog: Catalog, gate: PendingGate) -> None:
    """Compare, before / after and full size for one shot waiting at a gate, folded until opened.

    Args:
        settings: The studio's settings.
        catalog: The catalog.
        gate: The shot's gate; every widget key is made from its batch and shot, so several
            gates can share a page.
    """
    if not gate.choices:
        return
    base = f"compare-{gate.batch_id}-{gate.shot_id}"
    box = st.expander("Compare takes · before / after · full size", key=base, on_change="rerun")
    with box:
        if not box.open:
            return  # folded: nothing below runs, no image is read
        marked = catalog.batch(gate.batch_id).watermark
        # Newest round first, as the page shows them; keys carry the newest round, so a new
        # round starts from fresh pickers instead of a choice that may no longer be offered.
        choices = sorted(gate.choices, key=lambda c: (-c.round, c.number))
        base = f"{base}-r{choices[0].round}"
        found = edited_takes(catalog, gate)
        labels = [COMPARE, BEFORE_AFTER, FULL_SIZE] if found else [COMPARE, FULL_SIZE]
        for label, tab in zip(labels, st.tabs(labels, key=f"{base}-tabs", on_change="rerun"), strict=True):
            with tab:
                if not tab.open:
                    continue
                if label == COMPARE:
                    _side_by_side(settings, choices, base, marked)
                elif label == BEFORE_AFTER:
                    _before_after(settings, found, base, marked)
                else:
                    _full_size_picker(settings, choices, base, marked)


def edited_takes(catalog: Catalog, gate: PendingGate) -> list[EditedTake]:
    """The takes on offer made from a parent take of the same shot, newest round first.

    Only a real parent counts (``Take.parent_take_id``, set by a targeted rework): the previous
    round's take of the same number is a different picture, not a "before". A parent outside
    the shot (a replay of another batch's take) is not shown: the client sees this batch only.
    """
    takes = {take.id: take for take in catalog.takes(gate.shot_key)}
    found: list[EditedTake] = []
    for choice in sorted(gate.choices, key=lambda c: (-c.round, c.number)):
        take = takes.get(choice.take_id)
        parent = takes.get(take.parent_take_id or "") if take is not None else None
        parent_key = (parent.final_key or parent.asset_key) if parent is not None else None
        if parent is not None and parent_key:
            found.append(EditedTake(choice, parent, parent_key))
    return found


def _label(choice: GateChoice) -> str:
    return f"Take {choice.number}" if choice.round == 1 else f"Take {choice.number} (round {choice.round})"


def _side_by_side(settings: Settings, choices: list[GateChoice], base: str, marked: bool) -> None:
    by_number = {c.number: c for c in choices}
    numbers = list(by_number)
    for column, side, default in zip(st.columns(2), ("left", "right"), (0, min(1, len(numbers) - 1)), strict=True):
        with column:
            number = st.selectbox(
                f"Take on the {side}",
                numbers,
                index=default,
                format_func=lambda n: _label(by_number[n]),
                key=f"{base}-{side}",
            )
            choice = by_number[number]
            data = preview(settings, choice.image_key, COMPARE_SIZE, marked=marked)
            if data is None:
                st.caption("This image is not available right now.")
            else:
                st.image(data, caption=_label(choice), width="stretch")


@st.cache_data(max_entries=500, show_spinner=False)
def _split(before: bytes, after: bytes, percent: int) -> bytes:
    return before_after(before, after, percent / 100)


def _before_after(settings: Settings, found: list[EditedTake], base: str, marked: bool) -> None:
    by_number = {r.choice.number: r for r in found}
    number = st.selectbox(
        "Take",
        list(by_number),
        format_func=lambda n: f"{_label(by_number[n].choice)}, made from take {by_number[n].parent.number}",
        key=f"{base}-edited",
    )
    edited = by_number[number]
    percent = st.slider(
        "Before ◀ ▶ After",
        min_value=0,
        max_value=100,
        value=50,
        format="%d%%",
        key=f"{base}-split",
        help="Left of the line: the take it was made from. Right of it: the new take.",
    )
    before = preview(settings, edited.parent_key, SPLIT_SIZE, marked=marked)
    after = preview(settings, edited.choice.image_key, SPLIT_SIZE, marked=marked)
    if before is None or after is None:
        st.caption("These images are not available right now.")
        return
    st.image(
        _split(before, after, percent),
        caption=f"Left: take {edited.parent.number} (before) · right: take {edited.choice.number} (after)",
        width="stretch",
    )


def _full_size_picker(settings: Settings, choices: list[GateChoice], base: str, marked: bool) -> None:
    by_number = {c.number: c for c in choices}
    number = st.selectbox("Take", list(by_number), format_func=lambda n: _label(by_number[n]), key=f"{base}-full")
    choice = by_number[number]
    if st.button("Open at full size", key=f"{base}-open", icon=":material/open_in_full:"):
        _full_size_dialog(settings, choice, marked)


@st.dialog("Full size", width="large")
def _full_size_dialog(settings: Settings, choice: GateChoice, marked: bool) -> None:
    # The image is the final one, the upscale when there is one (GateChoice.image_key).
    data = full_size(settings, choice.image_key, marked=marked)
    if data is None:
        st.caption("This image is not available right now.")
        return
    width, height = image_size(data)
    st.image(data, caption=f"{_label(choice)} · {width} × {height} pixels", width="content")
    if marked:
        st.caption("A preview: the clean image can be downloaded once a take is approved.")

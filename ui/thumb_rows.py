"""Rows of take thumbnails that use the page's width: one column per take, wrapped into rows."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import streamlit as st

from studio.settings import Settings
from ui.resources import thumb, warm

MIN_SLOTS = 6
MAX_PER_ROW = 8


def thumbnail_rows(
    settings: Settings,
    items: Sequence[tuple[str | None, str]],
    *,
    size: int = 256,
    min_slots: int = MIN_SLOTS,
    max_per_row: int = MAX_PER_ROW,
) -> list[int]:
    """Draw ``(asset key, caption)`` items as thumbnails in rows; returns the indexes not drawn.

    At least ``min_slots`` columns are laid out, so two takes do not blow up to half the page
    each, and at most ``max_per_row``, so sixteen takes stay large enough to judge.
    """
    warm(settings, [key for key, _ in items], size)
    images = [(i, thumb(settings, key, size), caption) for i, (key, caption) in enumerate(items)]
    # Inline (a data: URL in the page's own message), not a file the browser fetches afterwards: a
    # screenful of thumbnails was two dozen requests queued on the server behind the page itself.
    ready = [(i, _inline(data), caption) for i, data, caption in images if data is not None]
    slots = max(1, min(max_per_row, max(len(ready), min_slots)))
    if slots == 1 and len(ready) == 1:
        st.image(ready[0][1], caption=ready[0][2], width="stretch")  # no column wrapper for a lone take
        return [i for i, data, _ in images if data is None]
    for start in range(0, len(ready), slots):
        for column, (_, data, caption) in zip(
            st.columns(slots, gap="small"), ready[start : start + slots], strict=False
        ):
            column.image(data, caption=caption, width="stretch")
    return [i for i, data, _ in images if data is None]


def _inline(jpeg: bytes) -> str:
    """A thumbnail (a small JPEG, studio.images.thumbnails) as a ``data:`` URL."""
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")

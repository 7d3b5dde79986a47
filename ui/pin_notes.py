"""A take's pins on the owner's pages: its image with the pins drawn, and the numbered notes under it.

The Shot and Approvals pages both call :func:`pinned_take`, so a client's pin reads the same
wherever the owner meets it. The drawing is made on the page's own cached thumbnail and cached
in turn, keyed by the take, the size and its pins: a new or removed pin draws afresh, a redraw
of the same pins costs nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import streamlit as st

from studio.catalog.models import Pin
from studio.catalog.store import Catalog
from studio.images.pin_marks import PinMark, draw_pins
from studio.settings import Settings
from ui.badges import clock
from ui.markdown_text import literal
from ui.resources import thumb

PER_ROW = 3  # pinned takes side by side on the Approvals page: large enough to read the notes

Marks = tuple[tuple[int, float, float, float], ...]


def pins_by_take(catalog: Catalog, take_ids: Iterable[str]) -> dict[str, list[Pin]]:
    """The pins in place on each of ``take_ids`` (one query), by take id and then number."""
    wanted = list(dict.fromkeys(take_ids))
    found: dict[str, list[Pin]] = defaultdict(list)
    if wanted:
        for pin in catalog.pins(take_ids=wanted):
            found[pin.take_id].append(pin)
    return dict(found)


def pin_signature(pins: dict[str, list[Pin]]) -> tuple[int, ...]:
    """Which pins a page shows (from :func:`pins_by_take`): changes when a pin is added or taken off."""
    return tuple(sorted(pin.id or 0 for found in pins.values() for pin in found))


@st.cache_data(max_entries=500, show_spinner=False)
def _drawn(take_id: str, image_key: str, size: int, marks: Marks, _thumbnail: bytes) -> bytes:
    # Keyed by what the drawing shows; the thumbnail bytes are a pure function of the key and size.
    return draw_pins(_thumbnail, [PinMark(*mark) for mark in marks])


def pinned_thumb(
    settings: Settings, take_id: str, image_key: str | None, pins: Sequence[Pin], size: int
) -> bytes | None:
    """The take's thumbnail at ``size`` with its pins drawn, or ``None`` when it has no image (yet)."""
    data = thumb(settings, image_key, size)
    if data is None or not pins or image_key is None:
        return data
    marks = tuple((p.number, p.x, p.y, p.radius) for p in pins)
    return _drawn(take_id, image_key, size, marks, data)


def who_line(pin: Pin) -> str:
    """``Ann Lee · ann@example.com · 2026-12-01 14:03``: who placed the pin, and when (UTC)."""
    return " · ".join(part for part in (pin.who, pin.email, clock(pin.created_at)) if part)


def pin_notes(pins: Sequence[Pin]) -> None:
    """The numbered notes, one under another, in the order of their numbers."""
    for pin in pins:
        st.markdown(f":red-badge[{pin.number}] {literal(pin.text, lines=True)}")
        st.caption(literal(who_line(pin)))


def pinned_take(
    settings: Settings,
    take_id: str,
    image_key: str | None,
    pins: Sequence[Pin],
    *,
    size: int,
    caption: str | None = None,
) -> bool:
    """Draw a take's image with its pins, and its numbered notes under it; returns whether an image was drawn."""
    data = pinned_thumb(settings, take_id, image_key, pins, size)
    if data is not None:
        st.image(data, caption=caption, width="stretch")
    pin_notes(pins)
    return data is not None


def pinned_takes(
    settings: Settings,
    takes: Sequence[tuple[str, str | None, str]],
    pins: dict[str, list[Pin]],
    *,
    size: int,
    per_row: int = PER_ROW,
) -> None:
    """The ``(take id, image key, caption)`` takes that carry pins, side by side, each with its notes."""
    pinned = [(take_id, key, caption) for take_id, key, caption in takes if pins.get(take_id)]
    for start in range(0, len(pinned), per_row):
        for column, (take_id, key, caption) in zip(
            st.columns(per_row, gap="medium"), pinned[start : start + per_row], strict=False
        ):
            with column:
                pinned_take(settings, take_id, key, pins[take_id], size=size, caption=caption)

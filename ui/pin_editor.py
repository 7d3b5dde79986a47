"""Pinned notes on a take: tap the image where something should change, write a line, pin it.

The clickable image is ``streamlit_image_coordinates`` (a small component served from the
installed package, no CDN): it reports where the image was clicked or tapped and the size it was
shown at, which this module turns into fractions of the image, the unit pins are stored in. A tap
only marks where the next pin goes (drawn at once, so the client sees it); "Pin this note" saves
it, as the guest, through :func:`ui.guest.as_guest`.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Sequence

import streamlit as st
from PIL import Image
from streamlit_image_coordinates import streamlit_image_coordinates

from studio import ids
from studio.catalog.models import Guest, Pin
from studio.catalog.store import Catalog
from studio.images.pin_marks import PinMark, draw_pins
from studio.views.gates import GateChoice
from ui.guest import GuestAction
from ui.markdown_text import literal

DEFAULT_RADIUS = 0.12  # of the image's width: about a hand's breadth on a storyboard frame
MAX_NOTE = 200
JPEG_QUALITY = 85

Act = Callable[[GuestAction], None]
"""Runs an action as the guest, asking who they are first if nobody has said yet."""


def pins_of(catalog: Catalog, take_ids: Sequence[str]) -> dict[str, list[Pin]]:
    """The pins in place on each of ``take_ids`` (one query), by take id and then number."""
    found: dict[str, list[Pin]] = defaultdict(list)
    for pin in catalog.pins(take_ids=take_ids) if take_ids else ():
        found[pin.take_id].append(pin)
    return dict(found)


def pin_ids(catalog: Catalog, take_ids: Sequence[str]) -> tuple[int | None, ...]:
    """Which pins are in place on ``take_ids``: changes when any is placed or removed (for live pages)."""
    return tuple(sorted(pin.id for pin in catalog.pins(take_ids=take_ids))) if take_ids else ()


def marks(pins: Sequence[Pin]) -> list[PinMark]:
    """The pins to draw, in the unit they are stored in."""
    return [PinMark(p.number, p.x, p.y, p.radius) for p in pins]


def with_pins(image: bytes, pins: Sequence[Pin]) -> bytes:
    """``image`` with ``pins`` drawn on it (the same bytes back when there are none)."""
    return draw_pins(image, marks(pins)) if pins else image


def take_slug(take_id: str) -> str:
    """``<shot>-<n>``: a take's part of a widget key (no ``/``, so CSS can select ``.st-key-…``)."""
    return ids.without_batch(take_id).replace(ids.SEPARATOR, "-")


def _keys(take_id: str) -> tuple[str, str, str, str]:
    """Session keys of a take's editor: the spot tapped, the component, the note box, a message."""
    slug = take_slug(take_id)
    seq = st.session_state.get(f"pin-seq-{slug}", 0)  # bumped per pin placed: a fresh note box
    return f"pin-at-{slug}", f"pin-click-{slug}", f"pin-text-{slug}-{seq}", f"pin-msg-{slug}"


def _tapped(take_id: str) -> None:
    """The image was tapped: remember where, as fractions of the image as it was shown."""
    at_key, click_key, _text_key, msg_key = _keys(take_id)
    value = st.session_state.get(click_key)
    if not isinstance(value, dict) or not value.get("width") or not value.get("height"):
        return
    x = min(max(float(value["x"]) / float(value["width"]), 0.0), 1.0)
    y = min(max(float(value["y"]) / float(value["height"]), 0.0), 1.0)
    st.session_state[at_key] = (x, y)
    st.session_state.pop(msg_key, None)


def _pin(catalog: Catalog, choice: GateChoice, act: Act) -> None:
    """ "Pin this note": check there is a spot and a note, then place the pin as the guest."""
    at_key, _click_key, text_key, msg_key = _keys(choice.take_id)
    spot = st.session_state.get(at_key)
    text = str(st.session_state.get(text_key, "")).strip()
    if spot is None:
        st.session_state[msg_key] = "Tap the image where the note belongs first."
        return
    if not text:
        st.session_state[msg_key] = "Write what should change there first."
        return

    def place(guest: Guest) -> None:
        catalog.add_pin(
            choice.take_id, x=spot[0], y=spot[1], text=text, radius=DEFAULT_RADIUS, who=guest.name, email=guest.email
        )
        st.session_state.pop(at_key, None)
        st.session_state.pop(msg_key, None)
        seq = f"pin-seq-{take_slug(choice.take_id)}"
        st.session_state[seq] = st.session_state.get(seq, 0) + 1

    act(place)


def _unpin(catalog: Catalog, pin: Pin, act: Act) -> None:
    def remove(guest: Guest) -> None:
        if pin.id is not None and (pin.who, pin.email) == (guest.name, guest.email):  # only one's own pins
            catalog.remove_pin(pin.id)

    act(remove)


def pin_list(catalog: Catalog, pins: Sequence[Pin], guest: Guest | None, act: Act) -> None:
    """The take's pins under its image: number, note and who placed it; one's own can be removed."""
    for pin in pins:
        with st.container(horizontal=True, vertical_alignment="center", gap="small", key=f"pin-row-{pin.id}"):
            st.markdown(f"**{pin.number}** · {literal(pin.text)} — *{literal(pin.who)}*", width="stretch")
            if guest is not None and (pin.who, pin.email) == (guest.name, guest.email):
                st.button(
                    "",
                    key=f"pin-remove-{pin.id}",
                    icon=":material/delete:",
                    help=f"Remove pin {pin.number}",
                    type="tertiary",
                    on_click=_unpin,
                    args=(catalog, pin, act),
                )


def pin_editor(catalog: Catalog, choice: GateChoice, image: bytes, pins: Sequence[Pin], act: Act) -> None:
    """The take's image to tap on, with its pins and the next one drawn, a note box and "Pin this note".

    Args:
        catalog: Where pins are kept.
        choice: The take.
        image: Its thumbnail (JPEG or PNG bytes), as the client may see it.
        pins: Its pins still in place.
        act: Runs an action as the guest (asking for a name first when needed).
    """
    at_key, click_key, text_key, msg_key = _keys(choice.take_id)
    spot = st.session_state.get(at_key)
    shown = marks(pins)
    if spot is not None:
        # Pins keep their numbers when one is removed, so this guess is right unless the last was.
        shown.append(PinMark(max((p.number for p in pins), default=0) + 1, spot[0], spot[1], DEFAULT_RADIUS))
    with Image.open(io.BytesIO(draw_pins(image, shown))) as drawn:
        drawn.load()
        streamlit_image_coordinates(
            drawn,
            width="stretch",
            key=click_key,
            on_click=lambda: _tapped(choice.take_id),
            image_format="JPEG",
            jpeg_quality=JPEG_QUALITY,
            cursor="crosshair",
        )
    # Under the image, where st.image puts its caption: the takes of a row stay level.
    if spot is None:
        st.caption(f"Take {choice.number} · tap the image where something should change.")
    else:
        st.caption(f"Take {choice.number} · the new marker shows where this note goes; tap elsewhere to move it.")
    st.text_input("Note for this spot", key=text_key, max_chars=MAX_NOTE, placeholder="e.g. more sparks here")
    st.button(
        "Pin this note",
        key=f"pin-add-{take_slug(choice.take_id)}",
        icon=":material/push_pin:",
        width="stretch",
        on_click=_pin,
        args=(catalog, choice, act),
    )
    if message := st.session_state.get(msg_key):
        st.warning(message)

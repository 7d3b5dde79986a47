"""The storyboard-card part of a preview frame: the prompt's words and the shot's labels.

Text is sized from the frame, not fixed in pixels, so it stays readable when a contact sheet
shrinks a frame to a 192px thumbnail: the caption is about a twentieth of the frame's long side.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from providers.local.shot import Angle, Shot

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
MIN_FONT = 7  # below this no one reads the words, even at full size; the card is left out
# Dark words on storyboard paper read best when shrunk; the header chips sit on the picture.
PAPER, INK, CHIP = (238, 234, 224), (24, 24, 28), (12, 12, 16, 175)


@functools.lru_cache(maxsize=32)
def font(size: int) -> Font:
    """Pillow's bundled font at ``size`` pixels (cached: loading costs more than drawing)."""
    return ImageFont.load_default(size=size)


def caption_size(w: int, h: int) -> int:
    """Caption font size in pixels for a ``w`` x ``h`` frame.

    A twentieth of the long side reads at thumbnail size; a narrow frame caps it so that about
    sixteen characters still fit on a line, a flat one so that a line leaves room for a picture.
    """
    return int(min(max(w, h) / 20, w / 9, h / 5))


def wrap(text: str, face: Font, width: float, max_lines: int) -> list[str]:
    """``text`` broken into at most ``max_lines`` lines of at most ``width`` pixels.

    What does not fit ends the last line with "...". A single word longer than a line is cut.
    """
    lines: list[str] = []
    current = ""
    for word in text.split():
        length = face.getlength(word)
        if length > width:  # a monster word (a URL, say): cut it to about a line, then trim
            word = word[: int(len(word) * width / length) + 1]
            while len(word) > 1 and face.getlength(word) > width:
                word = word[:-1]
        candidate = f"{current} {word}" if current else word
        if face.getlength(candidate) <= width:
            current = candidate
            continue
        lines.append(current)
        if len(lines) == max_lines:  # more words wait: say so on the last line
            return _ellipsize(lines, face, width)
        current = word
    return [*lines, current] if current else lines


def _ellipsize(lines: list[str], face: Font, width: float) -> list[str]:
    last = lines[-1].rstrip(",;:. ")
    while last and face.getlength(last + "...") > width:
        last = last[:-1].rstrip()
    return [*lines[:-1], last + "..."]


def label(shot: Shot, shot_id: str | None) -> str:
    """The header line: shot id (when known), framing and light, in capitals."""
    parts = [shot_id] if shot_id else []
    parts += [shot.framing.value.upper(), shot.light.value.upper()]
    if shot.angle is not Angle.EYE:
        parts.append(shot.angle.value.upper())
    if shot.interior:
        parts.append("INT.")
    return " \u00b7 ".join(parts)


@dataclass(frozen=True)
class Card:
    """Where the words go on a frame.

    Attributes:
        size: Caption font size in pixels; 0 when the frame is too small for words.
        lines: The prompt, wrapped.
        strip: Height of the caption strip at the foot of the frame (the picture sits above).
    """

    size: int
    lines: tuple[str, ...]
    strip: int


def plan_card(prompt: str, w: int, h: int) -> Card:
    """Wrap ``prompt`` for a ``w`` x ``h`` frame: up to four lines, in at most 30% of its height."""
    size = caption_size(w, h)
    if size < MIN_FONT:
        return Card(0, (), 0)
    pad, line = round(size * 0.4), round(size * 1.18)
    max_lines = max(1, min(4, int((0.3 * h - 2 * pad) / line)))
    lines = tuple(wrap(" ".join(prompt.split()), font(size), w - 2 * pad, max_lines))
    return Card(size, lines, len(lines) * line + 2 * pad if lines else 0)


def draw_card(im: Image.Image, card: Card, shot: Shot, seed: int, *, shot_id: str | None = None) -> None:
    """Draw the caption strip (the prompt) and the header (labels, seed) onto ``im`` in place.

    Args:
        im: The frame, RGB, with the picture already in its upper ``height - card.strip`` rows.
        card: The layout from :func:`plan_card`.
        shot: Supplies the framing and light labels.
        seed: Shown top right with the word "preview", so a screenshot carries its recipe and
            nobody mistakes the frame for a real render.
        shot_id: Leads the header when given.
    """
    if not card.size:
        return
    w, h = im.size
    draw = ImageDraw.Draw(im, "RGBA")
    face, small = font(card.size), font(max(MIN_FONT, round(card.size * 0.8)))
    tiny = font(max(MIN_FONT, round(card.size * 0.55)))  # the seed tag: for a close look only
    pad, line = round(card.size * 0.4), round(card.size * 1.18)
    top = h - card.strip
    draw.rectangle((0, top, w, h), fill=PAPER)
    draw.line([(0, top), (w, top)], fill=INK, width=max(1, card.size // 12))
    for k, text in enumerate(card.lines):
        draw.text((pad, top + pad + k * line), text, font=face, fill=INK, anchor="la")
    header, tag = label(shot, shot_id), f"preview \u00b7 seed {seed}"
    hl, tl = small.getlength(header), tiny.getlength(tag)
    band = round(card.size * 0.8 * 1.4)
    draw.rectangle((0, 0, min(w, hl + 2 * pad), band), fill=CHIP)
    draw.text((pad, band // 2), header, font=small, fill=PAPER, anchor="lm")
    if hl + tl + 4 * pad <= w:  # the seed tag only where it does not crowd the labels
        draw.rectangle((w - tl - 2 * pad, 0, w, band), fill=CHIP)
        draw.text((w - pad, band // 2), tag, font=tiny, fill=(*PAPER, 210), anchor="rm")


__all__ = ["MIN_FONT", "Card", "caption_size", "draw_card", "font", "label", "plan_card", "wrap"]

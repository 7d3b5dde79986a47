"""Flat silhouettes the procedural preview renderer can place in a frame.

Each function draws one thing at a given place and size (pixels) with plain Pillow shapes: a
storyboard artist's quick marks, not illustration. Colours come in; nothing here picks any.
"""

from __future__ import annotations

import math
import random

from PIL import ImageDraw

from providers.local.card import font
from providers.local.shot import RGB

Point = tuple[float, float]


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """The colour ``t`` of the way from ``a`` to ``b``."""
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def glow(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, colour: RGB) -> None:
    """A light source: a bright core inside three soft halos."""
    for k, alpha in ((3.0, 25), (2.0, 45), (1.4, 80)):
        draw.ellipse((cx - r * k, cy - r * k, cx + r * k, cy + r * k), fill=(*colour, alpha))
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)


def figure(
    draw: ImageDraw.ImageDraw,
    cx: float,
    top: float,
    height: float,
    colour: RGB,
    *,
    full_body: bool = False,
    rim: RGB | None = None,
) -> None:
    """A person: head and shoulders down to ``top + height`` (with legs when ``full_body``)."""
    head = height * (0.09 if full_body else 0.16)
    hy = top + head
    width = height * (0.26 if full_body else 0.62)
    torso_top = hy + head * 1.1
    torso_bottom = top + height * (0.55 if full_body else 1.0)
    if rim is not None:  # a thin edge of light, as from a lamp behind
        pad = max(1.0, height * 0.012)
        draw.ellipse((cx - head - pad, hy - head - pad, cx + head + pad, hy + head + pad), fill=rim)
        draw.rounded_rectangle(
            (cx - width / 2 - pad, torso_top - pad, cx + width / 2 + pad, torso_bottom), radius=width * 0.3, fill=rim
        )
    draw.ellipse((cx - head, hy - head, cx + head, hy + head), fill=colour)
    draw.rectangle((cx - head * 0.45, hy, cx + head * 0.45, torso_top + head * 0.3), fill=colour)
    draw.rounded_rectangle((cx - width / 2, torso_top, cx + width / 2, torso_bottom), radius=width * 0.3, fill=colour)
    if full_body:
        leg = width * 0.32
        draw.rectangle((cx - width * 0.38, torso_bottom - leg, cx - width * 0.38 + leg, top + height), fill=colour)
        draw.rectangle((cx + width * 0.38 - leg, torso_bottom - leg, cx + width * 0.38, top + height), fill=colour)


def tower(
    draw: ImageDraw.ImageDraw,
    cx: float,
    base: float,
    height: float,
    colour: RGB,
    light: RGB,
    *,
    lit: bool,
    beam_to: float | None = None,
) -> None:
    """A lighthouse: a tapered tower with a lamp room; a beam towards ``beam_to`` (x) when lit."""
    bw, tw = height * 0.22, height * 0.13
    lamp_top, lamp_bottom = base - height, base - height * 0.84
    draw.polygon(
        [(cx - bw / 2, base), (cx - tw / 2, lamp_bottom), (cx + tw / 2, lamp_bottom), (cx + bw / 2, base)], fill=colour
    )
    stripe = mix(colour, (235, 235, 235), 0.55)
    for k in (0.3, 0.6):  # two pale bands, so it reads as a lighthouse and not a chimney
        y0, y1 = base - height * k, base - height * (k + 0.1)
        w0, w1 = bw + (tw - bw) * k / 0.84, bw + (tw - bw) * (k + 0.1) / 0.84
        draw.polygon([(cx - w0 / 2, y0), (cx - w1 / 2, y1), (cx + w1 / 2, y1), (cx + w0 / 2, y0)], fill=stripe)
    draw.rectangle((cx - tw * 0.7, lamp_bottom - height * 0.02, cx + tw * 0.7, lamp_bottom), fill=colour)
    lamp = light if lit else mix(colour, light, 0.35)
    draw.rectangle((cx - tw * 0.38, lamp_top + height * 0.05, cx + tw * 0.38, lamp_bottom - height * 0.02), fill=lamp)
    draw.polygon(
        [
            (cx - tw * 0.5, lamp_top + height * 0.05),
            (cx, lamp_top - height * 0.02),
            (cx + tw * 0.5, lamp_top + height * 0.05),
        ],
        fill=colour,
    )
    ly = lamp_top + height * 0.1
    if lit and beam_to is not None:
        spread = height * 0.12
        draw.polygon([(cx, ly), (beam_to, ly - spread), (beam_to, ly + spread * 1.4)], fill=(*light, 70))
    if lit:
        glow(draw, cx, ly, tw * 0.3, light)


def boat(
    draw: ImageDraw.ImageDraw,
    cx: float,
    waterline: float,
    length: float,
    colour: RGB,
    light: RGB,
    *,
    lit: bool,
    tilt: float = 0.0,
) -> None:
    """A small fishing boat: hull, wheelhouse and mast, rolled by ``tilt`` radians."""

    def at(x: float, y: float) -> Point:  # boat-local (x along, y up) to frame pixels
        c, s = math.cos(tilt), math.sin(tilt)
        return (cx + x * c + y * s, waterline - (y * c - x * s))

    L = length
    draw.polygon(
        [at(-L / 2, L * 0.12), at(L / 2 + L * 0.06, L * 0.16), at(L * 0.38, -L * 0.06), at(-L * 0.42, -L * 0.06)],
        fill=colour,
    )
    draw.polygon(
        [at(-L * 0.25, L * 0.12), at(L * 0.05, L * 0.12), at(L * 0.05, L * 0.3), at(-L * 0.25, L * 0.3)], fill=colour
    )
    draw.line([at(L * 0.2, L * 0.12), at(L * 0.2, L * 0.62)], fill=colour, width=max(1, round(L * 0.025)))
    if lit:
        wx, wy = at(-L * 0.1, L * 0.22)
        glow(draw, wx, wy, max(1.0, L * 0.025), light)


def dial(
    draw: ImageDraw.ImageDraw,
    cx: float,
    cy: float,
    r: float,
    rim: RGB,
    face: RGB,
    ink: RGB,
    rng: random.Random,
    *,
    words: str = "",
) -> None:
    """A gauge, clock or lens face: rim, ticks, ``words`` on the face, a needle and a glint."""
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=rim)
    inner = r * 0.86
    draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=face)
    width = max(1, round(r * 0.02))
    for k in range(36):
        a = math.tau * k / 36
        r0 = inner * (0.78 if k % 3 == 0 else 0.86)
        draw.line(
            [
                (cx + r0 * math.cos(a), cy + r0 * math.sin(a)),
                (cx + inner * 0.95 * math.cos(a), cy + inner * 0.95 * math.sin(a)),
            ],
            fill=ink,
            width=width * (2 if k % 3 == 0 else 1),
        )
    if words:
        size = int(inner * 0.22)
        if size >= 4:
            draw.text((cx, cy - inner * 0.4), words, font=font(size), fill=ink, anchor="mm")
    a = rng.uniform(0.6, 2.5)  # the needle leans somewhere in the lower-left half: falling
    draw.line(
        [(cx, cy), (cx - inner * 0.8 * math.cos(a), cy + inner * 0.8 * math.sin(a))],
        fill=ink,
        width=max(1, round(r * 0.04)),
    )
    hub = r * 0.06
    draw.ellipse((cx - hub, cy - hub, cx + hub, cy + hub), fill=rim)
    draw.arc(
        (cx - inner * 0.8, cy - inner * 0.8, cx + inner * 0.8, cy + inner * 0.8),
        200,
        250,
        fill=(255, 255, 255, 150),
        width=max(1, round(r * 0.05)),
    )


def page(
    draw: ImageDraw.ImageDraw,
    box: tuple[float, float, float, float],
    paper: RGB,
    ink: RGB,
    rng: random.Random,
    *,
    lines: int = 9,
    words: str = "",
) -> None:
    """A sheet of paper with ruled lines, handwriting-like scribbles, and ``words`` on one line."""
    x0, y0, x1, y1 = box
    skew = (x1 - x0) * 0.05
    draw.polygon([(x0 + skew, y0), (x1, y0 + skew * 0.3), (x1 - skew, y1), (x0, y1 - skew * 0.3)], fill=paper)
    step = (y1 - y0) / (lines + 1)
    pen = max(1, round(step * 0.12))
    written = rng.randint(1, max(1, lines - 1)) if words else 0
    for k in range(1, lines + 1):
        y = y0 + k * step
        draw.line([(x0 + skew * 0.8, y), (x1 - skew * 0.8, y)], fill=mix(paper, ink, 0.25), width=max(1, pen // 2))
        if k == written and int(step * 0.7) >= 4:
            draw.text((x0 + skew * 1.5, y - step * 0.08), words, font=font(int(step * 0.7)), fill=ink, anchor="ls")
        elif rng.random() < 0.85:
            end = x0 + skew + (x1 - x0 - 2 * skew) * rng.uniform(0.45, 0.95)
            n = max(4, int((end - x0) / (step * 0.35)))
            pts = [(x0 + skew + (end - x0 - skew) * i / n, y - step * rng.uniform(0.12, 0.5)) for i in range(n + 1)]
            draw.line(pts, fill=ink, width=pen, joint="curve")


def tree(draw: ImageDraw.ImageDraw, cx: float, base: float, height: float, colour: RGB) -> None:
    """A conifer: three stacked triangles on a trunk."""
    draw.rectangle((cx - height * 0.03, base - height * 0.2, cx + height * 0.03, base), fill=colour)
    for k in range(3):
        y = base - height * (0.15 + 0.28 * k)
        half = height * (0.28 - 0.06 * k)
        draw.polygon([(cx - half, y), (cx, y - height * 0.42), (cx + half, y)], fill=colour)


def skyline(
    draw: ImageDraw.ImageDraw,
    rng: random.Random,
    x0: float,
    x1: float,
    base: float,
    height: float,
    colour: RGB,
    window: RGB,
    *,
    lit: bool,
) -> None:
    """A row of houses or towers between ``x0`` and ``x1`` standing on ``base``."""
    x = x0
    step = max(2.0, height * 0.08)
    while x < x1:
        bw, bh = height * rng.uniform(0.25, 0.6), height * rng.uniform(0.35, 1.0)
        draw.rectangle((x, base - bh, x + bw, base), fill=colour)
        if rng.random() < 0.5:  # a pitched roof now and then: houses, not only towers
            draw.polygon([(x, base - bh), (x + bw / 2, base - bh - bw * 0.4), (x + bw, base - bh)], fill=colour)
        if lit:
            for _ in range(min(6, int(bw * bh / step**2 / 6))):
                wx, wy = x + rng.uniform(0.1, 0.75) * bw, base - bh + rng.uniform(0.1, 0.85) * bh
                draw.rectangle((wx, wy, wx + step / 2, wy + step / 2), fill=(*window, 210))
        x += bw + height * rng.uniform(0.0, 0.15)


def rings(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, a: RGB, b: RGB, count: int) -> None:
    """Concentric bands: the texture of a thing seen far too close to name."""
    for k in range(count, 0, -1):
        rk = r * k / count
        draw.ellipse((cx - rk, cy - rk, cx + rk, cy + rk), fill=a if k % 2 else b)


__all__ = ["boat", "dial", "figure", "glow", "mix", "page", "rings", "skyline", "tower", "tree"]

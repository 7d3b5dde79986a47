"""The picture part of a preview frame: a backdrop and silhouettes composed for the framing.

Everything is laid out in fractions of the frame, so one seed gives the same composition at any
size (a small preview matches the full render). Soft things (out-of-focus backgrounds, vignettes)
are drawn small and stretched: blurring a 4096px frame would cost more than the rest together.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFilter

import providers.local.motifs as m
from providers.local.backdrop import (
    ANGLE_HORIZON,
    BLACK,
    HORIZON,
    WHITE,
    backdrop,
    silhouette,
    waves,
    weather,
)
from providers.local.shot import RGB, Framing, Light, Motif, Shot


def _place(shot: Shot) -> float:
    """The x (fraction) of the main subject: on a third, left or right as the seed likes."""
    return 1 / 3 + (shot.mood > 0.5) / 3


def _wide(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
    dark, accent = silhouette(shot), shot.palette[3]
    lit = shot.light in (Light.NIGHT, Light.DUSK) or Motif.LAMP in shot.motifs
    x = _place(shot) * w
    for motif in shot.motifs:
        if motif is Motif.TOWER and not shot.interior:  # on a cliff on its third of the frame
            edge = x + (0.12 if x < w / 2 else -0.12) * w
            cliff = hz - 0.1 * h
            far = 0.0 if x < w / 2 else float(w)
            draw.polygon([(far, h), (far, cliff), (x, cliff - 0.01 * h), (edge, hz), (edge, h)], fill=dark)
            m.tower(
                draw, x, cliff, 0.26 * h, m.mix(dark, WHITE, 0.15), accent, lit=lit, beam_to=w - far if lit else None
            )
        elif motif is Motif.BOAT and not shot.interior:
            bx = (1 - _place(shot)) * w
            m.boat(draw, bx, hz + 0.12 * (h - hz), 0.1 * w, dark, accent, lit=lit, tilt=rng.uniform(-0.2, 0.2))
        elif motif is Motif.BUILDING and motif is shot.motifs[0]:  # the city is the subject: all across
            m.skyline(draw, rng, 0.0, float(w), hz + 0.02 * h, 0.3 * h, dark, accent, lit=lit)
        elif motif is Motif.BUILDING:
            m.skyline(
                draw,
                rng,
                0.0 if x > w / 2 else 0.55 * w,
                0.45 * w if x > w / 2 else w,
                hz + 0.02 * h,
                0.12 * h,
                dark,
                accent,
                lit=lit,
            )
        elif motif is Motif.TREE:
            for _ in range(rng.randint(3, 6)):
                m.tree(draw, rng.uniform(0.05, 0.95) * w, hz + rng.uniform(0.0, 0.08) * h, 0.14 * h, dark)
        elif motif is Motif.LAMP and not shot.interior:
            for _ in range(rng.randint(3, 7)):  # torches, windows: points of light along the shore
                m.glow(draw, rng.uniform(0.1, 0.9) * w, hz + rng.uniform(0.01, 0.06) * h, 0.006 * h, accent)
    size = (0.42 if shot.interior else 0.14) * h
    fx = (1 - _place(shot)) * w
    if Motif.LAMP in shot.motifs and shot.interior:  # a lamp or lantern by the people, or alone
        m.glow(draw, fx + 0.1 * w, h * 0.9 - size * 0.6, 0.02 * h, accent)
    figures = min(shot.people, 5)
    for i in range(figures):
        x_i = fx + (i - (figures - 1) / 2) * size * 0.4
        m.figure(draw, x_i, h * (0.92 if shot.interior else 0.95) - size, size, dark, full_body=True)


def _medium(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
    dark, accent = silhouette(shot), shot.palette[3]
    lit = shot.light in (Light.NIGHT, Light.DUSK) or Motif.LAMP in shot.motifs
    side = _place(shot)
    rim = m.mix(accent, WHITE, 0.2) if Motif.LAMP in shot.motifs or shot.interior else None
    if Motif.DIAL in shot.motifs and shot.interior and shot.people:  # on the wall behind them
        m.dial(
            draw,
            (1 - side) * w,
            0.3 * h,
            0.1 * h,
            (180, 140, 70),
            m.mix(accent, WHITE, 0.5),
            (40, 30, 20),
            rng,
            words=next(iter(shot.quoted), ""),
        )
    if Motif.LAMP in shot.motifs and shot.people:
        m.glow(draw, (1 - side + 0.12) * w, 0.55 * h, 0.025 * h, accent)
    if not shot.people:
        _medium_object(draw, shot, rng, w, h, hz, side, dark, accent, lit)
        return
    if not shot.interior:  # what else the prompt names stands small behind them
        _behind(draw, shot, rng, w, h, hz, 1 - side, dark, accent, lit)
    figures = min(shot.people, 4)
    size = (0.7 if figures <= 2 else 0.55) * h
    spread = 0.22 if figures <= 2 else 0.15
    for i in range(figures):
        fx = (side + (i - (figures - 1) / 2) * spread) * w
        m.figure(draw, fx, h - size + (i % 2) * 0.04 * h, size, m.mix(dark, BLACK, 0.1 * i), rim=rim)
    if Motif.PAGE in shot.motifs or shot.interior:  # a table edge in front of them
        draw.rectangle((0, 0.86 * h, w, h), fill=m.mix(dark, shot.palette[2], 0.4))


def _behind(
    draw: ImageDraw.ImageDraw,
    shot: Shot,
    rng: random.Random,
    w: int,
    h: int,
    hz: float,
    side: float,
    dark: RGB,
    accent: RGB,
    lit: bool,
) -> None:
    far = m.mix(dark, shot.palette[1], 0.35)  # hazier with distance
    x = side * w
    for motif in shot.motifs:
        if motif is Motif.TOWER:
            m.tower(
                draw,
                x,
                hz + 0.02 * h,
                0.4 * h,
                m.mix(far, WHITE, 0.15),
                accent,
                lit=lit,
                beam_to=float(w) if x > w / 2 else 0.0,
            )
        elif motif is Motif.BOAT:
            m.boat(draw, x, hz + 0.08 * (h - hz), 0.16 * w, far, accent, lit=lit, tilt=rng.uniform(-0.2, 0.2))
        elif motif is Motif.BUILDING:
            m.skyline(draw, rng, 0.0, float(w), hz + 0.01 * h, 0.16 * h, far, accent, lit=lit)
        elif motif is Motif.TREE:
            for _ in range(rng.randint(2, 4)):
                m.tree(draw, rng.uniform(0.05, 0.95) * w, hz + 0.02 * h, 0.25 * h, far)


def _medium_object(
    draw: ImageDraw.ImageDraw,
    shot: Shot,
    rng: random.Random,
    w: int,
    h: int,
    hz: float,
    side: float,
    dark: RGB,
    accent: RGB,
    lit: bool,
) -> None:
    """One object at medium distance (tower, boat, tree, building, lamp, dial, page) on the subject's side.

    Long because each motif is a few drawing calls; split, the shared placement would be passed around.
    """
    first = next(iter(shot.motifs), None)
    x = side * w
    if first is Motif.DIAL:  # at arm's length: a third of the frame across
        m.dial(
            draw,
            x,
            0.5 * h,
            0.3 * h,
            (180, 140, 70),
            m.mix(accent, WHITE, 0.5),
            (40, 30, 20),
            rng,
            words=next(iter(shot.quoted), ""),
        )
    elif first is Motif.LAMP:
        m.glow(draw, x, 0.5 * h, 0.06 * min(w, h), accent)
    elif first is Motif.TOWER:
        m.tower(
            draw,
            x,
            h * 1.02,
            0.85 * h,
            m.mix(dark, WHITE, 0.15),
            accent,
            lit=lit,
            beam_to=float(w) if x < w / 2 else 0.0,
        )
    elif first is Motif.BOAT:
        m.boat(draw, x, hz + 0.35 * (h - hz), 0.42 * w, dark, accent, lit=lit, tilt=rng.uniform(-0.25, 0.25))
    elif first is Motif.BUILDING:
        m.skyline(draw, rng, 0.0, float(w), h * 0.95, 0.5 * h, dark, accent, lit=lit)
    elif first is Motif.TREE:
        m.tree(draw, x, h * 1.02, 0.85 * h, dark)
    elif first is Motif.PAGE:
        draw.rectangle((0, 0.7 * h, w, h), fill=m.mix(dark, shot.palette[2], 0.4))
        m.page(
            draw,
            (x - 0.15 * w, 0.73 * h, x + 0.15 * w, 0.97 * h),
            m.mix(accent, WHITE, 0.6),
            (40, 30, 30),
            rng,
            lines=5,
            words=next(iter(shot.quoted), ""),
        )
    elif not shot.motifs:  # nothing named: a rock or hill close enough to be the subject
        pts = [
            (x - 0.35 * w, h),
            (x - 0.2 * w, 0.55 * h),
            (x + 0.02 * w, 0.42 * h),
            (x + 0.25 * w, 0.6 * h),
            (x + 0.4 * w, h),
        ]
        draw.polygon(pts, fill=dark)


def _close(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, extreme: bool) -> None:
    """The first motif seen close or extreme close, filling the frame (a face or an eye, a dial, a page...).

    Long because each motif is a few drawing calls; split, the shared placement would be passed around.
    """
    dark, accent = silhouette(shot), shot.palette[3]
    first = next(iter(shot.motifs), None)
    x, unit = _place(shot) * w, min(w, h)
    scale = 2.4 if extreme else 1.0
    if Motif.LAMP in shot.motifs and first is not Motif.LAMP:  # the light it is lit by, to one side
        m.glow(draw, (1.08 - _place(shot)) * w, 0.25 * h, 0.05 * unit, accent)
    if first is Motif.PERSON and extreme:  # an eye, the size of the frame
        ry = 0.3 * h
        draw.ellipse((x - 0.45 * w, h / 2 - ry, x + 0.45 * w, h / 2 + ry), fill=m.mix(accent, WHITE, 0.6))
        m.rings(draw, x, h / 2, 0.26 * h, m.mix(shot.palette[0], dark, 0.3), dark, 5)
        draw.ellipse((x - 0.1 * h, h / 2 - 0.1 * h, x + 0.1 * h, h / 2 + 0.1 * h), fill=BLACK)
    elif first is Motif.PERSON:
        heads = min(shot.people, 2)
        size, top = rng.uniform(1.25, 1.6) * h, rng.uniform(0.06, 0.2) * h  # the seed's own framing
        x += rng.uniform(-0.08, 0.08) * w
        for i in range(heads):
            fx = x + (i - (heads - 1) / 2) * 0.38 * w
            m.figure(draw, fx, top, size, m.mix(dark, BLACK, 0.15 * i), rim=m.mix(accent, WHITE, 0.2))
    elif first is Motif.DIAL:
        r = 0.4 * h * scale
        m.dial(
            draw,
            x,
            h * (0.5 + 0.35 * extreme),
            r,
            (176, 136, 64),
            m.mix(accent, WHITE, 0.55),
            (35, 28, 20),
            rng,
            words=next(iter(shot.quoted), ""),
        )
    elif first is Motif.PAGE:
        pad = -0.2 if extreme else 0.1
        m.page(
            draw,
            (pad * w, pad * h, (1 - pad) * w, (1 - pad) * h),
            m.mix(accent, WHITE, 0.6),
            (35, 30, 40),
            rng,
            lines=4 if extreme else 8,
            words=next(iter(shot.quoted), ""),
        )
    elif first is Motif.LAMP:
        m.glow(draw, x, 0.5 * h, 0.1 * unit * scale, accent)
    elif first is Motif.TOWER:
        m.tower(
            draw,
            x,
            1.9 * h,
            2.2 * h * scale,
            m.mix(dark, WHITE, 0.15),
            accent,
            lit=shot.light is not Light.DAY,
            beam_to=float(w) if x < w / 2 else 0.0,
        )
    elif first is Motif.BOAT:
        m.boat(draw, x, 0.75 * h, 1.3 * w * scale, dark, accent, lit=shot.light is not Light.DAY, tilt=0.15)
    elif first is Motif.TREE:
        draw.rectangle((x - 0.12 * w * scale, 0, x + 0.12 * w * scale, h), fill=dark)  # a trunk
    else:  # nothing to name: concentric texture, as a macro lens sees most things
        m.rings(draw, x, 0.5 * h, 0.42 * h * scale, m.mix(accent, dark, 0.3), dark, 7)


def _vignette(im: Image.Image, strength: int) -> Image.Image:
    # A 256px radial gradient stretched to the frame: cheap at any size, and smooth.
    mask = Image.radial_gradient("L").resize(im.size, Image.Resampling.BILINEAR)
    mask = mask.point([min(255, max(0, (v - 90) * strength // 100)) for v in range(256)])
    return Image.composite(Image.new("RGB", im.size, BLACK), im, mask)


def draw_picture(shot: Shot, rng: random.Random, w: int, h: int) -> Image.Image:
    """The picture of ``shot`` at ``w`` x ``h``, composed for its framing (no caption yet)."""
    hz = rng.uniform(*ANGLE_HORIZON.get(shot.angle, HORIZON[shot.framing])) * h
    close = shot.framing in (Framing.CLOSE, Framing.EXTREME)
    if close:  # the world behind a close subject is out of focus
        sw, sh = max(8, w // 12), max(8, h // 12)
        small = backdrop(shot, rng, sw, sh, hz * sh / h)
        if shot.water:
            waves(ImageDraw.Draw(small, "RGBA"), shot, rng, sw, sh, hz * sh / h)
        small = small.filter(ImageFilter.GaussianBlur(1.2 if shot.framing is Framing.CLOSE else 2.0))
        im = small.resize((w, h), Image.Resampling.BILINEAR)
    else:
        im = backdrop(shot, rng, w, h, hz)
    draw = ImageDraw.Draw(im, "RGBA")
    if close:
        for _ in range(rng.randint(4, 9)):  # bokeh: out-of-focus lights
            r = rng.uniform(0.03, 0.09) * min(w, h)
            x, y = rng.uniform(0, 1) * w, rng.uniform(0, 1) * h
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*shot.palette[3], rng.randint(25, 70)))
        _close(draw, shot, rng, w, h, extreme=shot.framing is Framing.EXTREME)
    else:
        if shot.water and not shot.interior:
            waves(draw, shot, rng, w, h, hz)
        (_wide if shot.framing is Framing.WIDE else _medium)(draw, shot, rng, w, h, hz)
    weather(draw, shot, rng, w, h, hz)
    if close or shot.light is Light.NIGHT:
        im = _vignette(im, 200 if shot.framing is Framing.EXTREME else 110)
    return im


__all__ = ["draw_picture"]

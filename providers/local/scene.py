"""The picture part of a preview frame: a backdrop and silhouettes composed for the framing.

Everything is laid out in fractions of the frame, so one seed gives the same composition at any
size (a small preview matches the full render). Soft things (out-of-focus backgrounds, vignettes)
are drawn small and stretched: blurring a 4096px frame would cost more than the rest together.
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw, ImageFilter

import providers.local.motifs as m
from providers.local.shot import RGB, Angle, Framing, Light, Motif, Shot

BLACK, WHITE = (0, 0, 0), (255, 255, 255)
# Horizon height (fraction of the frame, from the top) per framing: a wide shot gives the sky room.
_HORIZON = {
    Framing.WIDE: (0.6, 0.72),
    Framing.MEDIUM: (0.5, 0.6),
    Framing.CLOSE: (0.5, 0.62),
    Framing.EXTREME: (0.5, 0.62),
}
# A low camera looks up (the horizon drops, the sky fills the frame); a high one looks down.
_ANGLE_HORIZON = {Angle.LOW: (0.8, 0.9), Angle.HIGH: (0.18, 0.28)}


def _gradient(w: int, h: int, stops: list[tuple[float, RGB]]) -> Image.Image:
    """A vertical gradient through ``stops`` (fraction, colour): one column stretched sideways."""
    column = Image.new("RGB", (1, h))
    values = []
    for y in range(h):
        f = y / max(h - 1, 1)
        i = max(k for k in range(len(stops)) if stops[k][0] <= f or k == 0)
        j = min(i + 1, len(stops) - 1)
        (f0, c0), (f1, c1) = stops[i], stops[j]
        values.append(m.mix(c0, c1, 0.0 if f1 == f0 else min(1.0, (f - f0) / (f1 - f0))))
    column.putdata(values)
    return column.resize((w, h), Image.Resampling.NEAREST)


def _silhouette(shot: Shot, depth: float = 1.0) -> RGB:
    """Colour of a near thing: the ground colour darkened, darker still at night."""
    _, _, ground, _ = shot.palette
    return m.mix(ground, BLACK, (0.6 if shot.light is Light.NIGHT else 0.45) * depth)


def _backdrop(shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> Image.Image:
    top, bottom, ground, accent = shot.palette
    if shot.interior:
        wall_top, wall_low = m.mix(ground, top, 0.35), m.mix(ground, bottom, 0.5)
        floor = 0.78 if shot.framing is Framing.WIDE else 0.86
        im = _gradient(
            w,
            h,
            [
                (0.0, wall_top),
                (floor, wall_low),
                (floor + 0.001, m.mix(ground, BLACK, 0.35)),
                (1.0, m.mix(ground, BLACK, 0.55)),
            ],
        )
        draw = ImageDraw.Draw(im, "RGBA")
        wx = rng.uniform(0.08, 0.62) * w  # a window onto the time of day
        ww, wy, wh = 0.26 * w, 0.14 * h, 0.36 * h
        draw.rectangle(
            (wx - 0.012 * w, wy - 0.012 * w, wx + ww + 0.012 * w, wy + wh + 0.012 * w), fill=m.mix(ground, BLACK, 0.5)
        )
        im.paste(_gradient(round(ww), round(wh), [(0.0, top), (1.0, bottom)]), (round(wx), round(wy)))
        draw.line(
            [(wx + ww / 2, wy), (wx + ww / 2, wy + wh)], fill=m.mix(ground, BLACK, 0.5), width=max(1, round(0.008 * w))
        )
        return im
    water_near = m.mix(ground, BLACK, 0.45)
    low = (hz / h, m.mix(bottom, ground, 0.45) if shot.water else ground)
    im = _gradient(
        w,
        h,
        [(0.0, top), (hz / h - 0.001, bottom), low, (1.0, water_near if shot.water else m.mix(ground, BLACK, 0.5))],
    )
    draw = ImageDraw.Draw(im, "RGBA")
    unit = min(w, h)
    if shot.light is Light.NIGHT:  # stars first, so everything else covers them
        size = max(1, unit // 400)
        for _ in range(rng.randint(40, 110)):
            x, y = rng.randrange(w), rng.randrange(max(round(hz), 1))
            draw.rectangle((x, y, x + size - 1, y + size - 1), fill=(*accent, rng.randint(110, 255)))
    else:  # soft clouds: low-res noise upsampled, thresholded into a paste mask
        gw, gh = rng.randint(6, 14), rng.randint(3, 6)
        noise = Image.frombytes("L", (gw, gh), rng.randbytes(gw * gh))
        mask = noise.resize((w, max(round(hz), 1)), Image.Resampling.BICUBIC)
        cut = 120 if shot.rain else 150  # rain brings more, greyer cloud
        mask = mask.point([max(0, min(255, (v - cut) * 2)) for v in range(256)])
        cloud = m.mix(bottom, (150, 150, 150) if shot.rain else WHITE, 0.55)
        im.paste(cloud, (0, 0, w, max(round(hz), 1)), mask)
    if not shot.rain and rng.random() < 0.8:
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.2, 0.75) * hz
        m.glow(draw, cx, cy, rng.uniform(0.03, 0.07) * unit, accent)
    if not shot.water:
        layers = rng.randint(2, 3)
        for i in range(layers):  # far (hazy) to near (ground-coloured) ridges
            t = (i + 1) / layers
            colour = m.mix(m.mix(bottom, top, 0.3), ground, 0.35 + 0.65 * t)
            base_y = hz - (layers - i) * rng.uniform(0.01, 0.03) * h
            height = rng.uniform(0.04, 0.14) * h * (1.2 - 0.5 * t)
            n = rng.randint(5, 10)
            pts = [(x * w / n, base_y - rng.random() * height) for x in range(n + 1)]
            draw.polygon([(0, h), *pts, (w, h)], fill=colour)
    return im


def _waves(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
    """Rows of wave crests, closer together towards the horizon; a storm makes them huge."""
    _, bottom, ground, _ = shot.palette
    rough = shot.rough
    rows = 9
    for k in range(1, rows + 1):
        f = (k / rows) ** 1.7
        y = hz + (h - hz) * f
        amp = (h - hz) * (0.05 + 0.12 * f) * (2.2 if rough else 1.0)
        n = max(4, round(6 + 10 * (1 - f)))
        pts = [
            (x * w / n + rng.uniform(-0.3, 0.3) * w / n, y - (amp if x % 2 else 0) * rng.uniform(0.5, 1.0))
            for x in range(n + 1)
        ]
        crest = m.mix(m.mix(bottom, ground, 0.3), WHITE, 0.35 if rough else 0.15)
        draw.polygon([(0, h), *pts, (w, h)], fill=m.mix(m.mix(bottom, ground, 0.55 + 0.3 * f), BLACK, 0.35 * f))
        draw.line(pts, fill=(*crest, 200), width=max(1, round(amp * 0.12)))


def _weather(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
    unit = min(w, h)
    if shot.birds and not shot.interior:
        colour = _silhouette(shot, 1.2)
        for _ in range(rng.randint(3, 6)):
            x, y, s = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.7) * hz, rng.uniform(0.012, 0.025) * unit
            draw.line(
                [(x - s, y - s * 0.5), (x, y), (x + s, y - s * 0.5)],
                fill=colour,
                width=max(1, round(s * 0.25)),
                joint="curve",
            )
    if shot.rain and not shot.interior:
        slant = rng.uniform(0.25, 0.6) * (1 if rng.random() < 0.5 else -1)
        streak = 0.08 * h
        rain = m.mix(shot.palette[1], WHITE, 0.6)
        for _ in range(160):  # thick enough to survive a thumbnail
            x, y = rng.uniform(-0.1, 1.1) * w, rng.uniform(-0.05, 1.0) * h
            draw.line([(x, y), (x + slant * streak, y + streak)], fill=(*rain, 110), width=max(1, unit // 180))


def _place(shot: Shot) -> float:
    """The x (fraction) of the main subject: on a third, left or right as the seed likes."""
    return 1 / 3 + (shot.mood > 0.5) / 3


def _wide(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
    dark, accent = _silhouette(shot), shot.palette[3]
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
    dark, accent = _silhouette(shot), shot.palette[3]
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
    dark, accent = _silhouette(shot), shot.palette[3]
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
    hz = rng.uniform(*_ANGLE_HORIZON.get(shot.angle, _HORIZON[shot.framing])) * h
    close = shot.framing in (Framing.CLOSE, Framing.EXTREME)
    if close:  # the world behind a close subject is out of focus
        sw, sh = max(8, w // 12), max(8, h // 12)
        small = _backdrop(shot, rng, sw, sh, hz * sh / h)
        if shot.water:
            _waves(ImageDraw.Draw(small, "RGBA"), shot, rng, sw, sh, hz * sh / h)
        small = small.filter(ImageFilter.GaussianBlur(1.2 if shot.framing is Framing.CLOSE else 2.0))
        im = small.resize((w, h), Image.Resampling.BILINEAR)
    else:
        im = _backdrop(shot, rng, w, h, hz)
    draw = ImageDraw.Draw(im, "RGBA")
    if close:
        for _ in range(rng.randint(4, 9)):  # bokeh: out-of-focus lights
            r = rng.uniform(0.03, 0.09) * min(w, h)
            x, y = rng.uniform(0, 1) * w, rng.uniform(0, 1) * h
            draw.ellipse((x - r, y - r, x + r, y + r), fill=(*shot.palette[3], rng.randint(25, 70)))
        _close(draw, shot, rng, w, h, extreme=shot.framing is Framing.EXTREME)
    else:
        if shot.water and not shot.interior:
            _waves(draw, shot, rng, w, h, hz)
        (_wide if shot.framing is Framing.WIDE else _medium)(draw, shot, rng, w, h, hz)
    _weather(draw, shot, rng, w, h, hz)
    if close or shot.light is Light.NIGHT:
        im = _vignette(im, 200 if shot.framing is Framing.EXTREME else 110)
    return im


__all__ = ["draw_picture"]

"""The backdrop of a preview frame: sky and ground by the light and setting, water, weather.

Laid out in fractions of the frame like the rest of the picture (see providers.local.scene).
"""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

import providers.local.motifs as m
from providers.local.shot import RGB, Angle, Framing, Light, Shot

BLACK, WHITE = (0, 0, 0), (255, 255, 255)
# Horizon height (fraction of the frame, from the top) per framing: a wide shot gives the sky room.
HORIZON = {
    Framing.WIDE: (0.6, 0.72),
    Framing.MEDIUM: (0.5, 0.6),
    Framing.CLOSE: (0.5, 0.62),
    Framing.EXTREME: (0.5, 0.62),
}
# A low camera looks up (the horizon drops, the sky fills the frame); a high one looks down.
ANGLE_HORIZON = {Angle.LOW: (0.8, 0.9), Angle.HIGH: (0.18, 0.28)}


def gradient(w: int, h: int, stops: list[tuple[float, RGB]]) -> Image.Image:
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


def silhouette(shot: Shot, depth: float = 1.0) -> RGB:
    """Colour of a near thing: the ground colour darkened, darker still at night."""
    _, _, ground, _ = shot.palette
    return m.mix(ground, BLACK, (0.6 if shot.light is Light.NIGHT else 0.45) * depth)


def backdrop(shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> Image.Image:
    """Sky and ground of ``shot`` by its light and setting (a room's walls and floor indoors).

    Long because it is one painting order, back to front, that reads best in one piece.
    """
    top, bottom, ground, accent = shot.palette
    if shot.interior:
        wall_top, wall_low = m.mix(ground, top, 0.35), m.mix(ground, bottom, 0.5)
        floor = 0.78 if shot.framing is Framing.WIDE else 0.86
        im = gradient(
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
        im.paste(gradient(round(ww), round(wh), [(0.0, top), (1.0, bottom)]), (round(wx), round(wy)))
        draw.line(
            [(wx + ww / 2, wy), (wx + ww / 2, wy + wh)], fill=m.mix(ground, BLACK, 0.5), width=max(1, round(0.008 * w))
        )
        return im
    water_near = m.mix(ground, BLACK, 0.45)
    low = (hz / h, m.mix(bottom, ground, 0.45) if shot.water else ground)
    im = gradient(
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


def waves(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
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


def weather(draw: ImageDraw.ImageDraw, shot: Shot, rng: random.Random, w: int, h: int, hz: float) -> None:
    unit = min(w, h)
    if shot.birds and not shot.interior:
        colour = silhouette(shot, 1.2)
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

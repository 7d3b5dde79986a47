"""A procedural preview renderer: deterministic abstract landscapes drawn with Pillow.

It stands in for a real vendor during development, in tests and in benchmarks: free, offline and
byte-for-byte reproducible. It does not interpret the prompt beyond a small keyword table that
tints the palette and picks a few motifs.
"""

from __future__ import annotations

import asyncio
import colorsys
import functools
import hashlib
import io
import random
import re

from PIL import Image, ImageDraw, ImageFont

from .base import (
    BadImage,
    InvalidRequest,
    JobCallback,
    RateLimited,
    Rejected,
    RenderRequest,
    RenderResult,
    Unavailable,
)

PROVIDER = "local"
MODEL = "local-procedural-v1"
MIN_SIDE, MAX_SIDE = 16, 4096
DEFAULT_STRENGTH = 0.6  # used when an init image comes without a strength

RGB = tuple[int, int, int]
# word -> (sky top, sky bottom, ground, accent). Cheap and cheerful, but it makes a "night"
# prompt look like night, which is what people check first when eyeballing a preview.
_PALETTES: dict[str, tuple[RGB, RGB, RGB, RGB]] = {
    "night": ((8, 12, 40), (35, 45, 95), (10, 15, 30), (235, 235, 215)),
    "sunset": ((70, 40, 110), (250, 140, 60), (60, 30, 40), (255, 205, 90)),
    "sunrise": ((120, 150, 210), (250, 190, 150), (80, 90, 70), (255, 230, 160)),
    "forest": ((110, 170, 150), (200, 225, 180), (30, 80, 40), (240, 240, 200)),
    "desert": ((120, 180, 230), (240, 215, 170), (200, 160, 100), (255, 240, 200)),
    "ocean": ((40, 110, 180), (150, 210, 230), (30, 70, 120), (255, 250, 220)),
    "snow": ((170, 200, 230), (235, 240, 250), (225, 230, 240), (255, 255, 255)),
    "city": ((30, 20, 60), (200, 60, 140), (30, 30, 40), (0, 230, 230)),
    "fire": ((40, 10, 10), (200, 60, 20), (30, 10, 10), (255, 180, 40)),
    "storm": ((70, 80, 90), (150, 160, 165), (50, 55, 60), (200, 205, 210)),
    "space": ((5, 0, 20), (50, 20, 80), (15, 10, 25), (250, 250, 255)),
    "autumn": ((150, 170, 200), (240, 200, 150), (150, 70, 30), (250, 220, 150)),
    "spring": ((150, 200, 240), (230, 240, 220), (90, 160, 70), (250, 150, 200)),
}
_SYNONYMS = {
    "midnight": "night", "moon": "night", "dark": "night", "dusk": "sunset", "evening": "sunset",
    "dawn": "sunrise", "morning": "sunrise", "woods": "forest", "jungle": "forest",
    "tree": "forest", "sand": "desert", "dune": "desert", "sea": "ocean", "beach": "ocean",
    "water": "ocean", "winter": "snow", "ice": "snow", "arctic": "snow", "urban": "city",
    "street": "city", "neon": "city", "volcano": "fire", "lava": "fire", "rain": "storm",
    "fog": "storm", "mist": "storm", "galaxy": "space", "star": "space", "cosmic": "space",
    "fall": "autumn", "garden": "spring", "flower": "spring",
}
_DARK = {"night", "space"}
_FAULTS = {"rejected", "unavailable", "rate_limited", "blank"}


def derive_seed(prompt: str) -> int:
    """Seed used when the request has none: stable per prompt, fits in 31 bits."""
    return int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") & 0x7FFFFFFF


def _themes(prompt: str, negative: str) -> list[str]:
    def words(text: str) -> set[str]:
        found = set()
        for w in re.findall(r"[a-z]+", text.lower()):
            for cand in (w, w.removesuffix("s")):
                theme = cand if cand in _PALETTES else _SYNONYMS.get(cand)
                if theme:
                    found.add(theme)
        return found

    # A negative "night" removes the night tint: the one bit of negative-prompt semantics we have.
    return sorted(words(prompt) - words(negative))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t),
            round(a[2] + (b[2] - a[2]) * t))


def _palette(rng: random.Random, themes: list[str]) -> tuple[RGB, RGB, RGB, RGB]:
    hue = rng.random()

    def hsv(h: float, s: float, v: float) -> RGB:
        r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
        return (round(r * 255), round(g * 255), round(b * 255))

    base = (hsv(hue, rng.uniform(0.4, 0.8), rng.uniform(0.35, 0.7)),
            hsv(hue + rng.uniform(0.05, 0.25), rng.uniform(0.2, 0.5), rng.uniform(0.8, 1.0)),
            hsv(hue + 0.5, rng.uniform(0.3, 0.6), rng.uniform(0.2, 0.45)),
            hsv(hue + rng.uniform(0.4, 0.6), 0.3, 1.0))
    if not themes:
        return base
    picks = [_PALETTES[t] for t in themes]
    theme = tuple(tuple(sum(p[i][c] for p in picks) // len(picks) for c in range(3)) for i in range(4))
    # Keep a quarter of the seed's own palette so seeds still differ under the same keywords.
    return tuple(_mix(theme[i], base[i], 0.25) for i in range(4))  # type: ignore[return-value]


def _draw_scene(prompt: str, negative: str, seed: int, w: int, h: int) -> Image.Image:
    # Everything is laid out in fractions of the frame, so one seed gives the same scene at any
    # size (a small preview matches the full render).
    rng = random.Random(int.from_bytes(
        hashlib.sha256(f"{prompt}\x1f{negative}\x1f{seed}".encode()).digest(), "big"))
    themes = _themes(prompt, negative)
    top, bottom, ground, accent = _palette(rng, themes)
    dark = bool(_DARK & set(themes)) or (not themes and rng.random() < 0.2)
    hz = round(h * rng.uniform(0.55, 0.75))

    # Sky and ground as one column of colours stretched sideways: far cheaper than per-row lines.
    column = Image.new("RGB", (1, h))
    column.putdata([_mix(top, bottom, y / max(hz - 1, 1)) if y < hz
                    else _mix(ground, _mix(ground, (0, 0, 0), 0.5), (y - hz) / max(h - hz, 1))
                    for y in range(h)])
    im = column.resize((w, h), Image.Resampling.NEAREST)
    draw = ImageDraw.Draw(im, "RGBA")
    unit = min(w, h)

    if dark:  # stars before everything else, so hills and the moon cover them
        size = max(1, unit // 400)
        for _ in range(rng.randint(40, 120)):
            x, y = rng.randrange(w), rng.randrange(max(hz, 1))
            draw.rectangle((x, y, x + size - 1, y + size - 1), fill=(*accent, rng.randint(120, 255)))
    else:  # soft clouds: low-res noise upsampled, thresholded into a paste mask
        gw, gh = rng.randint(6, 14), rng.randint(3, 6)
        noise = Image.frombytes("L", (gw, gh), rng.randbytes(gw * gh))
        mask = noise.resize((w, max(hz, 1)), Image.Resampling.BICUBIC)
        mask = mask.point([max(0, (v - 150) * 2) for v in range(256)])
        im.paste(_mix(bottom, (255, 255, 255), 0.6), (0, 0, w, max(hz, 1)), mask)

    if rng.random() < 0.85:  # sun or moon with a glow
        cx, cy = rng.uniform(0.15, 0.85) * w, rng.uniform(0.12, 0.8) * hz
        r = rng.uniform(0.04, 0.1) * unit
        for k, alpha in ((2.2, 30), (1.6, 50), (1.25, 80)):
            draw.ellipse((cx - r * k, cy - r * k, cx + r * k, cy + r * k), fill=(*accent, alpha))
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=accent)

    layers = rng.randint(2, 4)
    for i in range(layers):  # far (hazy) to near (ground-coloured) ridges
        t = (i + 1) / layers
        colour = _mix(_mix(bottom, top, 0.3), ground, 0.35 + 0.65 * t)
        base_y = hz - (layers - i) * rng.uniform(0.02, 0.06) * h
        height = rng.uniform(0.06, 0.25) * h * (1.2 - 0.5 * t)
        n = rng.randint(5, 12)
        pts = [(x * w / n, base_y - rng.random() * height) for x in range(n + 1)]
        draw.polygon([(0, h), *pts, (w, h)], fill=colour)

    if "city" in themes or (not themes and rng.random() < 0.35):
        x = rng.uniform(0, 0.2) * w
        while x < w:
            bw, bh = rng.uniform(0.03, 0.08) * w, rng.uniform(0.08, 0.35) * h
            draw.rectangle((x, hz - bh, x + bw, h), fill=_mix(ground, top, rng.uniform(0, 0.3)))
            step = max(4.0, unit / 60)
            for _ in range(min(12, int(bw * bh / step**2 / 4))):  # a few lit windows
                wx, wy = x + rng.uniform(0.1, 0.8) * bw, hz - bh + rng.uniform(0.05, 0.9) * bh
                draw.rectangle((wx, wy, wx + step / 2, wy + step / 2), fill=(*accent, 200))
            x += bw + rng.uniform(0, 0.04) * w

    if w >= 128 and h >= 128:  # the seed in a corner, so a screenshot carries its recipe
        font = _font(max(10, unit // 48))
        draw.text((unit // 64, h - unit // 64), f"seed {seed}", fill=(255, 255, 255, 140),
                  font=font, anchor="ld")
    return im


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)  # cached: loading the font costs more than drawing


def _encode(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=1)  # speed over size; a fresh Image carries no metadata
    return buf.getvalue()


def _decode_rgb(data: bytes, size: tuple[int, int]) -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as src:
            src.load()
            im = src.convert("RGB")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise BadImage(f"cannot decode init image: {e}", provider=PROVIDER) from e
    return im.resize(size, Image.Resampling.BILINEAR) if im.size != size else im


class LocalRenderer:
    """Procedural preview renderer: abstract landscapes from a seed, drawn with Pillow.

    Same prompt, negative, seed, size, init image and strength always give the same bytes.

    Args:
        latency: Seconds to wait before answering, to simulate a remote vendor in benchmarks.
        fail_prompts: Test knob for fault injection. Maps a (case-sensitive) prompt substring to
            ``"rejected"``, ``"unavailable"``, ``"rate_limited"`` (``retry_after=1.0``) or
            ``"blank"`` (a flat single-colour image that a reviewer should flag). Lets
            integration tests exercise failover without patching.
    """

    name = PROVIDER

    def __init__(self, *, latency: float = 0.0, fail_prompts: dict[str, str] | None = None) -> None:
        bad = {k for k in (fail_prompts or {}).values() if k not in _FAULTS}
        if bad:
            raise ValueError(f"unknown fail_prompts kinds {sorted(bad)}; use {sorted(_FAULTS)}")
        self.latency = latency
        self.fail_prompts = dict(fail_prompts or {})

    async def render(self, request: RenderRequest, *, on_job: JobCallback | None = None) -> RenderResult:
        """Render one image (``on_job`` is never called: local renders have no jobs).

        Raises:
            InvalidRequest: Size outside 16..4096 or strength outside (0, 1].
            BadImage: ``init_image`` cannot be decoded.
            ProviderError: Whatever ``fail_prompts`` asked for.
        """
        w, h = request.width, request.height
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
            raise InvalidRequest(f"size {w}x{h} outside {MIN_SIDE}..{MAX_SIDE}", provider=PROVIDER)
        strength = None
        if request.init_image is not None:
            strength = DEFAULT_STRENGTH if request.strength is None else request.strength
            if not 0.0 < strength <= 1.0:
                raise InvalidRequest(f"strength {strength} outside (0, 1]", provider=PROVIDER)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        fault = next((k for s, k in self.fail_prompts.items() if s in request.prompt), None)
        self._raise_fault(fault)

        seed = derive_seed(request.prompt) if request.seed is None else request.seed
        params: dict[str, object] = {"renderer": "procedural"}
        if strength is not None:
            params["strength"] = strength

        def work() -> bytes:
            if fault == "blank":
                return _encode(Image.new("RGB", (w, h), (128, 128, 128)))
            im = _draw_scene(request.prompt, request.negative, seed, w, h)
            if request.init_image is not None:
                im = Image.blend(_decode_rgb(request.init_image, (w, h)), im, strength)
            return _encode(im)

        image = await asyncio.to_thread(work)
        return RenderResult(image=image, mime_type="image/png", model=MODEL, seed=seed,
                            params=params, reproducible=True)

    @staticmethod
    def _raise_fault(fault: str | None) -> None:
        detail = "fault injected by fail_prompts"
        if fault == "rejected":
            raise Rejected("prompt rejected (test knob)", provider=PROVIDER, status_code=400, detail=detail)
        if fault == "unavailable":
            raise Unavailable("renderer unavailable (test knob)", provider=PROVIDER, status_code=503,
                              detail=detail)
        if fault == "rate_limited":
            raise RateLimited("rate limited (test knob)", provider=PROVIDER, status_code=429,
                              retry_after=1.0, detail=detail)


__all__ = ["LocalRenderer", "derive_seed"]

"""Helpers for the local providers' tests: decoding, comparing and rendering small images."""

from __future__ import annotations

import io

from PIL import Image, ImageChops, ImageStat

from providers.base import RenderRequest
from providers.local.adapters import LocalRenderer


def decode(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    im.load()
    return im


def distance(a: bytes | Image.Image, b: bytes | Image.Image) -> float:
    """Mean absolute per-channel pixel difference, 0..255."""
    ia = decode(a) if isinstance(a, bytes) else a
    ib = decode(b) if isinstance(b, bytes) else b
    return sum(ImageStat.Stat(ImageChops.difference(ia.convert("RGB"), ib.convert("RGB"))).mean) / 3


def png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


async def render(prompt: str = "mountains at sunset", *, renderer: LocalRenderer | None = None, **kw: object) -> bytes:
    kw.setdefault("width", 256)
    kw.setdefault("height", 192)
    kw.setdefault("seed", 7)
    request = RenderRequest(prompt=prompt, **kw)  # type: ignore[arg-type]  # test keyword arguments of RenderRequest's field types
    return (await (renderer or LocalRenderer()).render(request)).image

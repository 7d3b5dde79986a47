"""A procedural preview renderer: deterministic storyboard cards drawn with Pillow.

It stands in for a real vendor during development, in tests and in benchmarks: free, offline and
byte-for-byte reproducible. Each frame is a storyboard card: a flat picture framed as the prompt
asks (wide, medium, close-up, extreme close-up; day, dawn, dusk, night) with the prompt's words
across its foot. Keyword tables (:mod:`providers.local.shot`) are all the "understanding" there
is; the seed picks colours and composition within what the words allow.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random

from PIL import Image

from providers.base import (
    BadImage,
    InvalidRequest,
    JobCallback,
    ProgressCallback,
    RateLimited,
    Rejected,
    RenderRequest,
    RenderResult,
    Unavailable,
)
from providers.local.card import draw_card, plan_card
from providers.local.scene import draw_picture
from providers.local.shot import read_shot

PROVIDER = "local"
MODEL = "local-procedural-v2"  # v2: storyboard cards; a v1 recipe gives other bytes
MIN_SIDE, MAX_SIDE = 16, 4096
DEFAULT_STRENGTH = 0.6  # used when an init image comes without a strength

_FAULTS = {"rejected", "unavailable", "rate_limited", "blank"}


def derive_seed(prompt: str) -> int:
    """Seed used when the request has none: stable per prompt, fits in 31 bits."""
    return int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:4], "big") & 0x7FFFFFFF


def _draw_frame(prompt: str, negative: str, seed: int, w: int, h: int) -> Image.Image:
    # One generator for the whole frame, seeded by everything that may change it: the same
    # request draws the same numbers in the same order, hence the same bytes.
    rng = random.Random(int.from_bytes(hashlib.sha256(f"{prompt}\x1f{negative}\x1f{seed}".encode()).digest(), "big"))
    shot = read_shot(prompt, negative, rng)
    card = plan_card(prompt, w, h)
    picture = draw_picture(shot, rng, w, h - card.strip)
    if not card.strip:
        return picture
    im = Image.new("RGB", (w, h))
    im.paste(picture, (0, 0))
    # The shot id would lead the card's header, but a RenderRequest does not carry it (see
    # draw_card's shot_id); the contact sheet and the dashboard label frames with it instead.
    draw_card(im, card, shot, seed)
    return im


def _encode(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=1)  # speed over size; a fresh Image carries no metadata
    return buf.getvalue()


def _decode(data: bytes, size: tuple[int, int], *, mode: str = "RGB", what: str = "init image") -> Image.Image:
    try:
        with Image.open(io.BytesIO(data)) as src:
            src.load()
            im = src.convert(mode)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
        raise BadImage(f"cannot decode {what}: {e}", provider=PROVIDER) from e
    return im.resize(size, Image.Resampling.BILINEAR) if im.size != size else im


def _strength(request: RenderRequest) -> float | None:
    """How far to move from the init image (``None``: no init image, or a mask edit without one).

    Raises:
        InvalidRequest: Strength outside (0, 1], or a mask without an init image.
    """
    if request.mask is not None and request.init_image is None:
        raise InvalidRequest("a mask edit needs the init image it edits", provider=PROVIDER)
    if request.init_image is None:
        return None
    # A mask edit without a strength shows the new frame in full inside the mask.
    default = None if request.mask is not None else DEFAULT_STRENGTH
    strength = default if request.strength is None else request.strength
    if strength is not None and not 0.0 < strength <= 1.0:
        raise InvalidRequest(f"strength {strength} outside (0, 1]", provider=PROVIDER)
    return strength


def _edit(new: Image.Image, init: Image.Image, mask: Image.Image, strength: float | None) -> Image.Image:
    """``new`` over ``init`` through ``mask`` (white = change): where the mask is 0 every pixel is
    exactly ``init``'s, so an edit never touches what the client did not point at."""
    inside = new if strength is None else Image.blend(init, new, strength)
    return Image.composite(inside, init, mask)


class LocalRenderer:
    """Procedural preview renderer: a storyboard card per prompt and seed, drawn with Pillow.

    Same prompt, negative, seed, size, init image, strength and mask always give the same bytes.

    With a ``mask`` (white = change, soft edges blend) and an ``init_image`` the render is a
    targeted edit: the frame is drawn as usual, then laid over the init image through the mask
    (both resized to the requested size), so pixels where the mask is black stay exactly the
    init image's. ``strength``, when given, blends the new frame with the init image inside the
    mask only; without it the new frame shows in full there. ``params["edit"]`` says ``"mask"``.

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

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image (``on_job`` is never called: local renders have no jobs).

        Raises:
            InvalidRequest: Size outside 16..4096, strength outside (0, 1], or a mask without
                an init image.
            BadImage: ``init_image`` or ``mask`` cannot be decoded.
            ProviderError: Whatever ``fail_prompts`` asked for.
        """
        w, h = request.width, request.height
        if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
            raise InvalidRequest(f"size {w}x{h} outside {MIN_SIDE}..{MAX_SIDE}", provider=PROVIDER)
        strength = _strength(request)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        fault = next((k for s, k in self.fail_prompts.items() if s in request.prompt), None)
        self._raise_fault(fault)

        seed = derive_seed(request.prompt) if request.seed is None else request.seed
        params: dict[str, object] = {"renderer": "procedural"}
        if strength is not None:
            params["strength"] = strength
        if request.mask is not None:
            params["edit"] = "mask"

        def work() -> bytes:
            if fault == "blank":
                return _encode(Image.new("RGB", (w, h), (128, 128, 128)))
            im = _draw_frame(request.prompt, request.negative, seed, w, h)
            if request.init_image is not None and request.mask is not None:
                init = _decode(request.init_image, (w, h))
                im = _edit(im, init, _decode(request.mask, (w, h), mode="L", what="mask"), strength)
            elif request.init_image is not None and strength is not None:  # both set, or neither
                im = Image.blend(_decode(request.init_image, (w, h)), im, strength)
            return _encode(im)

        image = await asyncio.to_thread(work)
        return RenderResult(
            image=image, mime_type="image/png", model=MODEL, seed=seed, params=params, reproducible=True
        )

    @staticmethod
    def _raise_fault(fault: str | None) -> None:
        detail = "fault injected by fail_prompts"
        if fault == "rejected":
            raise Rejected("prompt rejected (test knob)", provider=PROVIDER, status_code=400, detail=detail)
        if fault == "unavailable":
            raise Unavailable("renderer unavailable (test knob)", provider=PROVIDER, status_code=503, detail=detail)
        if fault == "rate_limited":
            raise RateLimited(
                "rate limited (test knob)", provider=PROVIDER, status_code=429, retry_after=1.0, detail=detail
            )


__all__ = ["LocalRenderer", "derive_seed"]

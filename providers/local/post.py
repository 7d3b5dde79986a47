"""Local post-processing: a Lanczos upscaler and a heuristic reviewer, both Pillow only."""

from __future__ import annotations

import asyncio
import io

from PIL import Image, ImageChops, ImageFilter, ImageStat

from providers.base import BadImage, InvalidRequest, JobCallback, Review, UpscaleResult
from providers.local.card import PAPER

PROVIDER = "local"
UPSCALE_MODEL = "local-lanczos-unsharp"
REVIEW_MODEL = "local-heuristics-v1"
MAX_FACTOR = 8
# Guard against a request that would allocate gigabytes (a 4096px image at factor 8).
MAX_OUTPUT_PIXELS = 8192 * 8192
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)
# A row belongs to a preview's caption strip when at least this share of it is bare paper:
# lines of text leave a third to a half of their rows bare; a picture leaves none.
_PAPER_ROW = 0.25
_PAPER_TOLERANCE = 10  # per channel: survives resampling and the upscaler's unsharp mask


def _caption_rows(small: Image.Image) -> int:
    """Rows at the foot of ``small`` (RGB) that are a local preview's caption strip, else 0.

    The strip is the same for every variant of a shot and is all contrast and edges (ink on
    paper), so scoring it would rank every preview alike, near the top.
    """
    diff = ImageChops.difference(small, Image.new("RGB", small.size, PAPER)).convert("L")
    bare = diff.point([255 if v <= _PAPER_TOLERANCE else 0 for v in range(256)])
    shares = [v / 255 for v in bare.resize((1, small.height), Image.Resampling.BOX).tobytes()]
    rows = 0
    while rows < small.height and shares[-1 - rows] >= _PAPER_ROW:
        rows += 1
    # A strip starts and ends with a margin of bare paper and is a few lines tall; a pale
    # photograph's foot is neither.
    if shares[-1] < 0.9 or rows < small.height * 0.04 or rows > small.height * 0.4:
        return 0
    return rows + 1  # and the rule above it


def _decode(data: bytes) -> Image.Image:
    """Fully decode ``data``; raises the decoder's own error on garbage."""
    if not data:
        raise ValueError("empty image bytes")
    with Image.open(io.BytesIO(data)) as src:
        src.load()  # Image.open only reads the header; truncated files fail here
        return src


class LocalUpscaler:
    """Upscales with Lanczos resampling followed by a mild unsharp mask."""

    name = PROVIDER

    async def upscale(
        self, image: bytes, *, factor: int, on_job: JobCallback | None = None, job_id: str | None = None
    ) -> UpscaleResult:
        """Upscale ``image`` by ``factor`` (1..8) in each dimension; factor 1 just re-encodes.

        ``on_job`` and ``job_id`` are accepted for the interface's sake: there are no jobs here.

        Raises:
            InvalidRequest: ``factor`` outside 1..8, or the result would be too large.
            BadImage: ``image`` is empty or cannot be decoded.
        """
        if not isinstance(factor, int) or not 1 <= factor <= MAX_FACTOR:
            raise InvalidRequest(f"factor {factor!r} outside 1..{MAX_FACTOR}", provider=PROVIDER)
        data = await asyncio.to_thread(self._upscale, image, factor)
        return UpscaleResult(image=data, mime_type="image/png", model=UPSCALE_MODEL, params={"factor": factor})

    @staticmethod
    def _upscale(image: bytes, factor: int) -> bytes:
        try:
            im = _decode(image)
        except _DECODE_ERRORS as e:
            raise BadImage(f"cannot decode image: {e}", provider=PROVIDER) from e
        w, h = im.size
        if w * h * factor * factor > MAX_OUTPUT_PIXELS:
            raise InvalidRequest(f"{w}x{h} at factor {factor} is too large", provider=PROVIDER)
        if im.mode not in ("L", "RGB", "RGBA"):
            # Palette and 16-bit modes cannot be filtered; keep alpha when there is any.
            has_alpha = im.mode in ("LA", "PA", "RGBa") or "transparency" in im.info
            im = im.convert("RGBA" if has_alpha else "RGB")
        if factor > 1:
            im = im.resize((w * factor, h * factor), Image.Resampling.LANCZOS)
        im = im.filter(ImageFilter.UnsharpMask(radius=2, percent=60, threshold=2))
        buf = io.BytesIO()
        # The ICC profile (if any) rides along in im.info and is kept: dropping it shifts colours.
        im.save(buf, "PNG", compress_level=1)
        return buf.getvalue()


class LocalReviewer:
    """Cheap heuristic reviewer: catches broken, wrong-size and blank images.

    It cannot judge whether the image matches the prompt; passing only means "not obviously
    broken". The score (0.5..1.0 when passed) grows with contrast and edge detail of the
    picture; the caption strip of a local preview (ink on paper at its foot) is left out.
    """

    name = PROVIDER

    async def review(self, image: bytes, *, prompt: str, expected_size: tuple[int, int]) -> Review:
        """Review ``image`` against ``expected_size`` (width, height); ``prompt`` is unused."""
        return await asyncio.to_thread(self._review, image, tuple(expected_size))

    @staticmethod
    def _review(image: bytes, expected: tuple[int, ...]) -> Review:
        def verdict(score: float, passed: bool, notes: str) -> Review:
            return Review(score=round(score, 3), passed=passed, notes=notes, model=REVIEW_MODEL)

        try:
            im = _decode(image)
        except _DECODE_ERRORS:
            return verdict(0.0, False, "undecodable image")
        if im.size != expected:
            ew, eh = expected
            return verdict(0.1, False, f"size {im.width}x{im.height}, expected {ew}x{eh}")

        # Statistics on a small copy: fast at 4096px and blind to single-pixel noise.
        small = im.convert("RGB")
        small.thumbnail((256, 256), Image.Resampling.BOX)
        caption = _caption_rows(small)
        if caption:  # score the picture, not the card around it
            small = small.crop((0, 0, small.width, small.height - caption))
        spread = max(ImageStat.Stat(small).stddev)
        colours = small.getcolors(small.width * small.height) or [(0, None)]
        top_share = max(n for n, _ in colours) / (small.width * small.height)
        if spread < 4 or top_share > 0.97:
            return verdict(0.05, False, "flat or blank image")

        grey = small.convert("L")
        contrast = ImageStat.Stat(grey).stddev[0]  # 0..~128
        detail = ImageStat.Stat(grey.filter(ImageFilter.FIND_EDGES)).mean[0]  # mean edge strength
        quality = 0.6 * min(contrast / 64, 1.0) + 0.4 * min(detail / 16, 1.0)
        score = 0.5 + 0.5 * quality
        notes = f"ok: contrast {contrast:.1f}, detail {detail:.1f}"
        if quality < 0.2:
            notes += " (low contrast)"
        return verdict(score, True, notes)


__all__ = ["LocalReviewer", "LocalUpscaler"]

"""The dummy provider's adapters: flat Pillow images, an ordinary resize, a review that passes."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from providers.base import RenderRequest, RenderResult, Review, UpscaleResult
from providers.spec import AdapterConfig


def _png(im: Image.Image) -> bytes:
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


class DummyRenderer:
    """Renders one flat colour picked by the seed."""

    name = "dummy"

    def __init__(self, key: str, model: str) -> None:
        self._key = key
        self.model = model

    async def render(self, request: RenderRequest, *, on_job: Any = None) -> RenderResult:
        seed = request.seed if request.seed is not None else 0
        colour = (seed % 251, (seed // 7) % 251, 90)
        image = _png(Image.new("RGB", (request.width, request.height), colour))
        return RenderResult(
            image=image, mime_type="image/png", model=self.model, seed=seed, params={}, reproducible=True
        )


class DummyUpscaler:
    """Nearest-neighbour resize."""

    name = "dummy"

    model = "dummy-up"

    async def upscale(
        self, image: bytes, *, factor: int, job_id: str | None = None, on_job: Any = None
    ) -> UpscaleResult:
        im = Image.open(io.BytesIO(image))
        big = im.resize((im.width * factor, im.height * factor), Image.Resampling.NEAREST)
        return UpscaleResult(image=_png(big), mime_type="image/png", model=self.model, params={"factor": factor})


class DummyReviewer:
    """Passes every image."""

    name = "dummy"

    model = "dummy-eye"

    async def review(self, image: bytes, *, prompt: str, expected_size: tuple[int, int]) -> Review:
        return Review(score=0.9, passed=True, notes="dummy says fine", model=self.model)


def renderer(config: AdapterConfig) -> DummyRenderer:
    """The renderer, with the model from settings (``STUDIO_DUMMY_MODEL``)."""
    return DummyRenderer(config.key, config.model or "dummy-v1")


def upscaler(config: AdapterConfig) -> DummyUpscaler:
    """The upscaler."""
    return DummyUpscaler()


def reviewer(config: AdapterConfig) -> DummyReviewer:
    """The reviewer."""
    return DummyReviewer()

"""Files, certificates and catalog rows for the content credentials tests."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.credentials.certificates import Signing, signing_from_settings
from studio.credentials.signing import sign_published
from studio.images.containers import blocks, splice
from studio.settings import Settings
from studio.storage.local import AssetStore

BATCH = "credits-a1b2c3"
PROMPT = 'the keeper lights the lamp, "storm" outside'
W, H = 96, 64
MIMES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}


def encode(colour: tuple[int, int, int], fmt: str, size: tuple[int, int] = (W, H)) -> bytes:
    """A plain image of one colour with a gradient row, so one changed pixel is a real change."""
    image = Image.new("RGB", size, colour)
    for x in range(size[0]):
        image.putpixel((x, 0), (x % 256, 0, 0))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def signing_in(home: Path) -> Signing:
    """The self-made signing of an install whose home is ``home`` (a second home: a second signer)."""
    return signing_from_settings(Settings(home=home, _env_file=None))  # type: ignore[call-arg]  # init-only option


def provider_signed(image: bytes, provider: Signing) -> bytes:
    """``image`` as a vendor that signs its output delivers it: with the vendor's own manifest."""
    recipe = {"take_id": "vendor-job-1", "provider": "gemini", "prompt": PROMPT}
    return sign_published(image, recipe, provider, title="vendor.png")


def add_batch(catalog: Catalog, assets: AssetStore, out: Path, *, project: str | None = None) -> None:
    """The batch row; ``project`` is the project file text as launched (stored like a launch does)."""
    key = assets.put(project.encode(), "text/plain") if project is not None else "0" * 64 + ".txt"
    catalog.add_batch(
        Batch(
            id=BATCH,
            project_name="Credits",
            project_slug="credits",
            project_source="project.toml",
            project_key=key,
            seed=5,
            output_dir=str(out),
        )
    )


def add_shot(
    catalog: Catalog,
    assets: AssetStore,
    shot_id: str,
    render: bytes,
    *,
    provider: str = "local",
    upscaled: bytes | None = None,
    position: int = 0,
) -> str:
    """One shot with one reviewed take of ``render`` (upscaled to ``upscaled``); returns the shot key."""
    shot_key = f"{BATCH}/{shot_id}"
    fmt = Image.open(io.BytesIO(render)).format or "PNG"
    asset = assets.put(render, MIMES[fmt])
    shot = Shot(
        key=shot_key,
        batch_id=BATCH,
        shot_id=shot_id,
        position=position,
        prompt=PROMPT,
        width=W,
        height=H,
        variants=1,
        upscale=2 if upscaled else 1,
        final_take_id=f"{shot_key}/1",
    )
    take = Take(
        id=f"{shot_key}/1",
        batch_id=BATCH,
        shot_key=shot_key,
        number=1,
        status="reviewed",
        seed=11,
        seed_used=11,
        provider=provider,
        model="gemini-2.5-flash-image" if provider == "gemini" else "local-procedural-v1",
        prompt=PROMPT,
        width=W,
        height=H,
        params={},
        asset_key=asset,
        final_key=assets.put(upscaled, "image/png") if upscaled else asset,
    )
    catalog.add_shots(BATCH, [shot], [take])
    return shot_key


def with_one_pixel_changed(png: bytes) -> bytes:
    """``png`` with pixel (0, 0) changed and every other chunk (the manifest included) kept."""
    with Image.open(io.BytesIO(png)) as image:
        changed = image.convert("RGB")
    red, green, blue = changed.getpixel((0, 0))  # type: ignore[misc]  # an RGB image's pixel is a 3-tuple
    changed.putpixel((0, 0), ((red + 1) % 256, green, blue))
    out = io.BytesIO()
    changed.save(out, "PNG")
    idat = [(b.kind, b.payload) for b in blocks(out.getvalue(), "png") if b.kind == b"IDAT"]
    return splice(png, "png", drop=lambda b: b.kind == b"IDAT", add=idat)

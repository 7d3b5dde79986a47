"""What a client takes away: approved finals (one by one or as one zip with their recipes), and
the marked previews they see before approving.

Pure functions of the catalog and the asset store: the dashboard offers their bytes as
downloads, and nothing here knows about a page.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFont

from studio.catalog.models import Batch, Shot, Take
from studio.catalog.store import Catalog
from studio.images.recipes import provider_credentials, take_recipe, upscaler_of
from studio.states import ShotStage
from studio.storage.local import AssetStore

# A shot in one of these stages has an approved take: publishing copies it, and a shot stays
# "published" with its take even after `studio unpublish` took the files down.
APPROVED_STAGES = (ShotStage.PUBLISHING, ShotStage.PUBLISHED)
PREVIEW_MARK = "PREVIEW"
# The mark must survive a screenshot yet leave the picture readable: light text with a dark
# edge reads on bright and dark images alike.
MARK_OPACITY = 0.32
MARK_ANGLE = 30
JPEG_QUALITY = 90
_FORMATS = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP"}


@dataclass(frozen=True)
class Final:
    """An approved shot's final image.

    Attributes:
        shot_id: The shot's id within its batch (what the file is named after).
        take_id: The approved take.
        key: Asset key of its final image (the upscale when there is one, else the render).
        file_name: ``<shot>.<ext>``, the name the image is handed over under.
    """

    shot_id: str
    take_id: str
    key: str
    file_name: str


def approved_finals(catalog: Catalog, batch_id: str) -> list[Final]:
    """The final image of every shot of ``batch_id`` whose take was approved, in storyboard order."""
    return [
        Final(shot.shot_id, take.id, key, _file_name(shot, key)) for shot, take, key in _approved(catalog, batch_id)
    ]


def _approved(catalog: Catalog, batch_id: str) -> list[tuple[Shot, Take, str]]:
    """Each approved shot with its take and the asset key of its final image, in storyboard order."""
    shots = [s for s in catalog.shots(batch_id) if s.stage in APPROVED_STAGES and s.final_take_id]
    takes = catalog.takes_by_id([s.final_take_id for s in shots if s.final_take_id])
    found = []
    for shot in sorted(shots, key=lambda s: s.position):
        take = takes.get(shot.final_take_id or "")
        key = (take.final_key or take.asset_key) if take is not None else None
        if take is not None and key:
            found.append((shot, take, key))
    return found


def _file_name(shot: Shot, key: str) -> str:
    return f"{shot.shot_id}.{key.rsplit('.', 1)[-1]}"


def all_approved(catalog: Catalog, batch_id: str) -> bool:
    """Whether every shot of the batch has an approved take (and there is at least one shot)."""
    shots = catalog.shots(batch_id)
    return bool(shots) and all(s.stage in APPROVED_STAGES and s.final_take_id for s in shots)


def finals_zip(catalog: Catalog, assets: AssetStore, batch_id: str) -> bytes:
    """A zip of every approved shot's final image and its recipe, named by shot.

    Each shot gives ``<shot>.<ext>`` (the final as the studio stored it) and ``<shot>.json`` (the
    recipe a published file carries: :func:`studio.images.recipes.take_recipe`).

    Raises:
        NotFound: No such batch.
        AssetMissing: A final image is not in the store (yet).
    """
    batch = catalog.batch(batch_id)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for shot, take, key in _approved(catalog, batch_id):
            image = assets.get(key)
            recipe = _recipe(catalog, assets, take, shot, batch, image)
            # Images are compressed already: stored as they are, the zip is made at copy speed.
            archive.writestr(_file_name(shot, key), image, compress_type=zipfile.ZIP_STORED)
            text = json.dumps(recipe, indent=2, ensure_ascii=False).encode()
            archive.writestr(f"{shot.shot_id}.json", text, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def _recipe(
    catalog: Catalog, assets: AssetStore, take: Take, shot: Shot, batch: Batch, final: bytes
) -> dict[str, object]:
    # The same recipe publishing writes into the file; its credentials are read from the render.
    render = final if take.asset_key in (None, take.final_key) else assets.get(take.asset_key or "")
    return take_recipe(
        take,
        shot,
        batch,
        upscaler=upscaler_of(take, catalog.attempts(take_id=take.id)),
        provider_credentials=provider_credentials(take, render),
    )


def watermark(image: bytes, text: str = PREVIEW_MARK) -> bytes:
    """``image`` with ``text`` repeated across it on a diagonal, semi-transparent.

    Args:
        image: PNG, JPEG or WebP bytes.
        text: The mark (one line).

    Returns:
        An image of the same size, in the same format (JPEG in, JPEG out; anything else but
        WebP comes back as PNG), without the original's metadata: a preview carries no recipe.
    """
    with Image.open(io.BytesIO(image)) as source:
        fmt = _FORMATS.get(source.format or "", "PNG")
        keep_alpha = source.mode in ("RGBA", "LA", "PA") or "transparency" in source.info
        base = source.convert("RGBA")
    marked = Image.alpha_composite(base, _mark_layer(base.size, text))
    out = io.BytesIO()
    if fmt == "JPEG":
        marked.convert("RGB").save(out, "JPEG", quality=JPEG_QUALITY)
    else:
        marked.convert("RGBA" if keep_alpha else "RGB").save(out, fmt)
    return out.getvalue()


def _mark_layer(size: tuple[int, int], text: str) -> Image.Image:
    """A transparent layer of ``size`` holding ``text`` in rows, turned ``MARK_ANGLE`` degrees."""
    width, height = size
    font = ImageFont.load_default(size=max(10, min(width, height) // 9))
    # Drawn on a square that still covers the image once turned, then cut back to the image.
    side = math.ceil(math.hypot(width, height))
    layer = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = (round(edge) for edge in draw.textbbox((0, 0), text, font=font))
    step_x, step_y = (right - left) * 3 // 2 + 1, (bottom - top) * 3 + 1
    alpha = round(255 * MARK_OPACITY)
    stroke = max(1, (bottom - top) // 12)
    for row, y in enumerate(range(-step_y, side + step_y, step_y)):
        # Every other row shifted by half a word, so the marks make a brick pattern.
        for x in range(-step_x + (row % 2) * step_x // 2, side + step_x, step_x):
            draw.text(
                (x, y), text, font=font, fill=(255, 255, 255, alpha), stroke_width=stroke, stroke_fill=(0, 0, 0, alpha)
            )
    turned = layer.rotate(MARK_ANGLE, resample=Image.Resampling.BICUBIC)
    offset_x, offset_y = (side - width) // 2, (side - height) // 2
    return turned.crop((offset_x, offset_y, offset_x + width, offset_y + height))

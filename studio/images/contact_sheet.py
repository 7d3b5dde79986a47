"""Contact sheet: one PNG showing every published final of a batch, labelled with shot and seed.

Memory stays bounded whatever the batch size: each image is opened, shrunk to a thumbnail and
let go before the next few are opened, and the sheet itself never exceeds :data:`MAX_PIXELS`
(cells shrink as the batch grows, down to :data:`MIN_CELL`; past that the sheet shows the first
shots and says how many more there are).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

DEFAULT_CELL = 192
MIN_CELL = 64
LABEL_CELL = 104  # the narrowest cell whose label lines show in full
MAX_PIXELS = 12_000_000  # ~36 MB of RGB: a 200-shot batch fits at full cell size
GAP = 8
LINE = 14  # label line height in pixels
LABEL = 2 * LINE + 4
TITLE = 2 * LINE
BACKGROUND, CELL_BACKGROUND, INK, FAINT = (24, 24, 24), (44, 44, 44), (235, 235, 235), (150, 150, 150)
_WORKERS = 4


@dataclass(frozen=True)
class SheetTile:
    """One published final on the sheet.

    Attributes:
        image: The image file (or its bytes).
        shot_id: Shown on the first label line.
        seed: Shown on the second line; ``None`` for a provider that takes no seed.
    """

    image: Path | bytes
    shot_id: str
    seed: int | None


@dataclass(frozen=True)
class SheetLayout:
    """Where tiles go.

    Attributes:
        cell: Side of a thumbnail's square box, in pixels.
        columns: Tiles per row.
        shown: How many tiles fit (the rest are counted in the title).
        width: Sheet width in pixels.
        height: Sheet height in pixels.
    """

    cell: int
    columns: int
    shown: int
    width: int
    height: int


def layout(count: int, *, cell: int = DEFAULT_CELL) -> SheetLayout:
    """The layout of ``count`` tiles: about 3:2, cells shrunk to keep under :data:`MAX_PIXELS`."""
    count = max(count, 1)

    def area(side: int, tiles: int) -> int:
        return tiles * (side + GAP) * (side + GAP + LABEL)

    while cell > MIN_CELL and area(cell, count) > MAX_PIXELS:
        cell -= 8
    cell = max(cell, MIN_CELL)
    shown = min(count, MAX_PIXELS // area(cell, 1))
    columns = min(shown, max(1, round(math.sqrt(shown * 1.5))))
    rows = math.ceil(shown / columns)
    width = GAP + columns * (cell + GAP)
    height = TITLE + GAP + rows * (cell + GAP + LABEL)
    return SheetLayout(cell, columns, shown, width, height)


def contact_sheet(tiles: Sequence[SheetTile], *, title: str = "", cell: int = DEFAULT_CELL) -> bytes:
    """A PNG grid of ``tiles`` in the given order.

    A tile whose image cannot be opened (deleted, damaged) is drawn as an empty cell saying so,
    rather than failing the whole sheet.

    Args:
        tiles: The images and their labels.
        title: First line of the sheet (the count of shots is added after it).
        cell: Largest thumbnail side in pixels; smaller for very large batches, and when every
            image is smaller than that.

    Returns:
        PNG bytes.
    """
    plan = layout(len(tiles), cell=_fitting_cell(tiles, cell))
    sheet = Image.new("RGB", (plan.width, plan.height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    hidden = len(tiles) - plan.shown
    heading = f"{title}  -  {len(tiles)} shots" if title else f"{len(tiles)} shots"
    if hidden > 0:
        heading += f" ({hidden} more not shown)"
    draw.text((GAP, GAP // 2), _fit(draw, font, heading, plan.width - 2 * GAP), fill=INK, font=font)

    shown = tiles[: plan.shown]
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        # A few at a time: Pillow decodes outside the GIL, and only this many full-size images
        # are ever open at once.
        for start in range(0, len(shown), 2 * _WORKERS):
            chunk = shown[start : start + 2 * _WORKERS]
            for offset, thumb in enumerate(pool.map(lambda t: _thumbnail(t.image, plan.cell), chunk)):
                _draw_tile(sheet, draw, font, plan, start + offset, chunk[offset], thumb)
    out = io.BytesIO()
    # Level 1: several times faster than the default 6 (3.6x on a 2600x3000 test sheet), and the
    # sheet is written at the end of every batch, on its critical path.
    sheet.save(out, "PNG", compress_level=1)
    return out.getvalue()


def _fitting_cell(tiles: Sequence[SheetTile], cell: int) -> int:
    """``cell``, or less when every image is smaller: small renders are not set in wide empty
    boxes, and the sheet (and its encoding time) shrinks with them. Only headers are read."""
    largest = 0
    for tile in tiles:
        try:
            with Image.open(io.BytesIO(tile.image) if isinstance(tile.image, bytes) else tile.image) as image:
                largest = max(largest, *image.size)
        except (OSError, ValueError, Image.DecompressionBombError):
            return cell  # drawn as "unreadable" later; keep the full cell for its label
        if largest >= cell:
            return cell
    # Never narrower than a label ("seed 4294967295") needs; a multiple of 8 like the others.
    return max(LABEL_CELL, -(-largest // 8) * 8)


def _thumbnail(source: Path | bytes, cell: int) -> Image.Image | None:
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as opened:
            opened.draft("RGB", (cell, cell))  # JPEGs decode straight at a reduced scale
            image = opened if opened.mode in ("RGB", "RGBA") else opened.convert("RGBA")
            image.thumbnail((cell, cell), Image.Resampling.LANCZOS, reducing_gap=3.0)
            return image.copy()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # drawn as an "unreadable" cell; the sheet is a preview, not the record


def _draw_tile(
    sheet: Image.Image,
    draw: ImageDraw.ImageDraw,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    plan: SheetLayout,
    index: int,
    tile: SheetTile,
    thumb: Image.Image | None,
) -> None:
    row, column = divmod(index, plan.columns)
    x = GAP + column * (plan.cell + GAP)
    y = TITLE + GAP + row * (plan.cell + GAP + LABEL)
    draw.rectangle((x, y, x + plan.cell - 1, y + plan.cell - 1), fill=CELL_BACKGROUND)
    if thumb is None:
        draw.text((x + 4, y + plan.cell // 2 - LINE // 2), "unreadable", fill=FAINT, font=font)
    else:
        left, top = x + (plan.cell - thumb.width) // 2, y + (plan.cell - thumb.height) // 2
        sheet.paste(thumb, (left, top), thumb if thumb.mode == "RGBA" else None)
    seed = "no seed" if tile.seed is None else f"seed {tile.seed}"
    draw.text((x, y + plan.cell + 2), _fit(draw, font, tile.shot_id, plan.cell), fill=INK, font=font)
    draw.text((x, y + plan.cell + 2 + LINE), _fit(draw, font, seed, plan.cell), fill=FAINT, font=font)


def _fit(draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont | ImageFont.FreeTypeFont, text: str, width: int) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."


__all__ = ["SheetLayout", "SheetTile", "contact_sheet", "layout"]

"""Contact sheets: PNGs showing every published final of a batch, labelled with shot and seed.

A batch of up to :data:`PAGE_TILES` shots gets one sheet; a larger one gets a sheet per
:data:`PAGE_TILES` shots (:func:`contact_sheets`), so a 10,000-shot batch is 50 readable sheets
rather than one of postage stamps.

Memory stays bounded whatever the batch size: sheets are made one at a time, each image is
opened, shrunk to a thumbnail and let go before the next few are opened, and a sheet never
exceeds :data:`MAX_PIXELS` (cells shrink as a sheet's tiles grow, down to :data:`MIN_CELL`; past
that the sheet shows the first tiles and says how many more there are).
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Sequence
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
# Tiles per sheet: a page this full still fits at full cell size (see ``layout``), so every
# page of a large batch reads like the sheet of a 200-shot one.
PAGE_TILES = 200


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


def page_spans(count: int, *, page_size: int = PAGE_TILES) -> list[range]:
    """The tiles (as index ranges) on each sheet of a ``count``-tile batch; none for no tiles."""
    if page_size < 1:
        raise ValueError(f"a sheet holds at least one tile (got {page_size})")
    return [range(start, min(start + page_size, count)) for start in range(0, count, page_size)]


def contact_sheets(
    tiles: Sequence[SheetTile], *, title: str = "", page_size: int = PAGE_TILES, cell: int = DEFAULT_CELL
) -> Iterator[bytes]:
    """One PNG per :func:`page_spans` page of ``tiles``, made one at a time as they are asked for.

    A single page is exactly :func:`contact_sheet`'s sheet; on several, each page's heading says
    which shots it holds ("shots 201-400 of 1000, sheet 2 of 5").

    Args:
        tiles: Every tile of the batch, in order.
        title: First line of every sheet.
        page_size: Tiles per sheet.
        cell: As for :func:`contact_sheet`.

    Yields:
        PNG bytes, first page first.
    """
    spans = page_spans(len(tiles), page_size=page_size)
    for number, span in enumerate(spans, 1):
        count = None
        if len(spans) > 1:
            count = f"shots {span.start + 1}-{span.stop} of {len(tiles)}, sheet {number} of {len(spans)}"
        yield contact_sheet(tiles[span.start : span.stop], title=title, cell=cell, count=count)


def contact_sheet(
    tiles: Sequence[SheetTile], *, title: str = "", cell: int = DEFAULT_CELL, count: str | None = None
) -> bytes:
    """A PNG grid of ``tiles`` in the given order.

    A tile whose image cannot be opened (deleted, damaged) is drawn as an empty cell saying so,
    rather than failing the whole sheet.

    Args:
        tiles: The images and their labels.
        title: First line of the sheet (the count of shots is added after it).
        cell: Largest thumbnail side in pixels; smaller for very large batches, and when every
            image is smaller than that.
        count: What the heading says after the title; ``"<n> shots"`` when not given.

    Returns:
        PNG bytes.
    """
    plan = layout(len(tiles), cell=_fitting_cell(tiles, cell))
    sheet = Image.new("RGB", (plan.width, plan.height), BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    font = ImageFont.load_default(size=12)
    hidden = len(tiles) - plan.shown
    count = count or f"{len(tiles)} shots"
    heading = f"{title}  -  {count}" if title else count
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


__all__ = ["PAGE_TILES", "SheetLayout", "SheetTile", "contact_sheet", "contact_sheets", "layout", "page_spans"]

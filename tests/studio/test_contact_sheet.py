"""Contact sheet: a labelled grid of a batch's finals, bounded in size whatever the batch."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from studio.images.contact_sheet import (
    GAP,
    LABEL,
    LABEL_CELL,
    MAX_PIXELS,
    MIN_CELL,
    TITLE,
    SheetTile,
    contact_sheet,
    contact_sheets,
    layout,
    page_spans,
)


def _write(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (300, 200), fmt: str = "PNG") -> Path:
    Image.new("RGB", size, colour).save(path, fmt)
    return path


def test_two_hundred_shots_on_one_sheet(tmp_path: Path) -> None:
    tiles = [
        SheetTile(_write(tmp_path / f"s{i:03d}.png", (i, 255 - i, 90)), f"s{i:03d}", None if i % 7 == 0 else i * 11)
        for i in range(200)
    ]
    plan = layout(200)
    assert plan.shown == 200 and plan.cell >= 128

    data = contact_sheet(tiles, title="Postcards")

    with Image.open(io.BytesIO(data)) as sheet:
        assert sheet.format == "PNG" and sheet.size == (plan.width, plan.height)
        assert sheet.width * sheet.height <= MAX_PIXELS
        # The last tile is where the layout says, in its own colour (thumbnails keep 3:2 and
        # are centred in their square cell).
        row, column = divmod(199, plan.columns)
        x = GAP + column * (plan.cell + GAP) + plan.cell // 2
        y = TITLE + GAP + row * (plan.cell + GAP + LABEL) + plan.cell // 2
        r, g, b = sheet.convert("RGB").getpixel((x, y))
        assert abs(r - 199) <= 2 and abs(g - 56) <= 2 and abs(b - 90) <= 2


def test_mixed_sources_and_an_unreadable_file(tmp_path: Path) -> None:
    jpeg = _write(tmp_path / "a.jpg", (200, 30, 30), (1600, 900), "JPEG")
    png = io.BytesIO()
    Image.new("RGBA", (100, 400), (0, 0, 255, 128)).save(png, "PNG")
    tiles = [
        SheetTile(jpeg, "a-very-long-shot-id-that-does-not-fit-in-one-cell", 4_294_967_295),
        SheetTile(png.getvalue(), "tall", 1),
        SheetTile(tmp_path / "deleted.png", "gone", 2),
        SheetTile(b"not an image", "junk", None),
    ]
    with Image.open(io.BytesIO(contact_sheet(tiles))) as sheet:
        assert sheet.size == (layout(4).width, layout(4).height)


def test_very_large_batches_shrink_cells_then_cap_the_tiles() -> None:
    assert layout(12).cell == layout(1).cell
    big = layout(1500)
    assert MIN_CELL <= big.cell < layout(12).cell and big.shown == 1500
    huge = layout(20_000)
    assert huge.cell == MIN_CELL and huge.shown < 20_000
    assert huge.width * huge.height <= MAX_PIXELS * 1.1


def test_small_renders_get_cells_their_size_not_wide_empty_boxes(tmp_path: Path) -> None:
    small = [SheetTile(_write(tmp_path / f"s{i}.png", (0, 200, 0), (64, 48)), f"s{i}", i) for i in range(6)]
    with Image.open(io.BytesIO(contact_sheet(small))) as sheet:
        fitted = layout(6, cell=LABEL_CELL)
        assert sheet.size == (fitted.width, fitted.height), "cells shrink to what the label needs"
        assert sheet.width < layout(6).width
    # One image as large as a full cell keeps full cells for every tile.
    mixed = [*small, SheetTile(_write(tmp_path / "big.png", (0, 0, 200), (800, 600)), "big", 9)]
    with Image.open(io.BytesIO(contact_sheet(mixed))) as sheet:
        assert sheet.size == (layout(7).width, layout(7).height)


def test_a_large_batch_gets_one_sheet_per_page_in_order(tmp_path: Path) -> None:
    tiles = [SheetTile(_write(tmp_path / f"s{i}.png", (i, 0, 250 - i), (64, 48)), f"s{i:03d}", i) for i in range(250)]

    sheets = list(contact_sheets(tiles, title="Catalogue", page_size=100))

    assert len(sheets) == 3
    sizes = []
    for sheet_bytes in sheets:
        with Image.open(io.BytesIO(sheet_bytes)) as sheet:
            sizes.append(sheet.size)
    full, last = layout(100, cell=LABEL_CELL), layout(50, cell=LABEL_CELL)
    assert sizes == [(full.width, full.height)] * 2 + [(last.width, last.height)], "every tile shown at full size"
    # The third sheet starts with tile 200, not tile 0: pages follow the batch's order.
    with Image.open(io.BytesIO(sheets[2])) as sheet:
        x = y = GAP + LABEL_CELL // 2
        r, _, b = sheet.convert("RGB").getpixel((x, TITLE + y))
        assert abs(r - 200) <= 2 and abs(b - 50) <= 2


def test_a_batch_that_fits_one_page_gets_exactly_the_single_sheet(tmp_path: Path) -> None:
    tiles = [SheetTile(_write(tmp_path / f"s{i}.png", (9, 9, i)), f"s{i}", i) for i in range(5)]
    assert list(contact_sheets(tiles, title="T", page_size=5)) == [contact_sheet(tiles, title="T")]
    assert list(contact_sheets([], page_size=5)) == []
    assert page_spans(10_000) == [range(n, n + 200) for n in range(0, 10_000, 200)]

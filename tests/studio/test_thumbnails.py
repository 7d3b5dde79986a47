"""Thumbnails: small JPEGs of stored images, cached by content key and size."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from studio.images.thumbnails import (
    THUMBS_DIR,
    thumbnail,
    thumbnail_cache_key,
    warm_thumbnails,
)
from studio.storage.local import AssetMissing, LocalAssetStore


def _png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def test_thumbnail_fits_the_size_and_is_cached(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path / "assets")
    key = store.put(_png(1344, 768, (200, 80, 20)), "image/png")
    data = thumbnail(store, key, 256)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "JPEG" and im.size == (256, 146)
    cached = store.root / THUMBS_DIR / "256" / key[:2] / thumbnail_cache_key(key, 256)
    assert cached.read_bytes() == data
    cached.write_bytes(b"the cache is read, not recomputed")
    assert thumbnail(store, key, 256) == b"the cache is read, not recomputed"
    assert thumbnail(store, key, 64) != data  # another size, another file


def test_missing_asset_and_bad_size_are_refused(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path / "assets")
    with pytest.raises(AssetMissing):
        thumbnail(store, "0" * 64 + ".png")
    with pytest.raises(ValueError):
        thumbnail(store, store.put(_png(8, 8, (0, 0, 0)), "image/png"), 4)


def test_warm_makes_only_the_missing_ones(tmp_path: Path) -> None:
    store = LocalAssetStore(tmp_path / "assets")
    keys = [store.put(_png(300, 200, (i * 40, 0, 0)), "image/png") for i in range(5)]
    thumbnail(store, keys[0], 128)
    assert warm_thumbnails(store, [*keys, keys[1], "f" * 64 + ".png"], 128) == 4
    assert warm_thumbnails(store, keys, 128) == 0

"""Thumbnails: small JPEGs derived from stored images, cached next to the asset store.

A thumbnail is a pure function of (asset key, size), and asset keys are content hashes, so the
cache never goes stale: the cached file is named after the key and the size and never rewritten.
Writes go to a temporary file renamed into place, so two dashboards (or two threads) making the
same thumbnail at once both end with the same complete file.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from studio.storage.local import AssetMissing, AssetStore, LocalAssetStore, write_atomic

THUMBS_DIR = "thumbs"
JPEG_QUALITY = 82
MIN_SIZE, MAX_SIZE = 16, 2048
_KEY_RE = re.compile(r"[0-9a-f]{64}\.[a-z0-9]{1,8}")


def thumbnail_cache_key(key: str, size: int) -> str:
    """The cache file name of ``key``'s thumbnail at ``size``: ``<sha256>-<size>.jpg``."""
    return f"{key.split('.', 1)[0]}-{size}.jpg"


def _cache_path(assets: AssetStore, key: str, size: int) -> Path | None:
    # Only the local store has a directory to cache into; other stores recompute (the UI
    # caches in memory as well), which is cheap next to fetching the original anyway.
    if not isinstance(assets, LocalAssetStore) or _KEY_RE.fullmatch(key) is None:
        return None
    return assets.root / THUMBS_DIR / str(size) / key[:2] / thumbnail_cache_key(key, size)


def make_thumbnail(image: bytes, size: int) -> bytes:
    """A JPEG of ``image`` that fits in ``size`` × ``size`` pixels, aspect ratio kept."""
    with Image.open(io.BytesIO(image)) as im:
        im.draft("RGB", (size, size))  # lets JPEG sources decode at a reduced scale
        rgb = im.convert("RGB")
    rgb.thumbnail((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def thumbnail(assets: AssetStore, key: str, size: int = 256) -> bytes:
    """The thumbnail of the stored image ``key``, at most ``size`` pixels on its long side.

    Args:
        assets: The store holding the image.
        key: The image's asset key.
        size: Longest side of the thumbnail in pixels (16..2048).

    Returns:
        JPEG bytes.

    Raises:
        AssetMissing: The store does not hold ``key``.
        ValueError: ``size`` is out of range.
    """
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"thumbnail size must be {MIN_SIZE}..{MAX_SIZE} pixels (got {size})")
    cached = _cache_path(assets, key, size)
    if cached is not None:
        try:
            return cached.read_bytes()
        except FileNotFoundError:
            pass
    data = make_thumbnail(assets.get(key), size)
    if cached is not None:
        write_atomic(cached, data)
    return data


def warm_thumbnails(assets: AssetStore, keys: Iterable[str], size: int = 256, *, workers: int = 4) -> int:
    """Make the missing cached thumbnails of ``keys`` in parallel; returns how many were made.

    Pillow releases the GIL while decoding and resizing, so a page about to show a screenful of
    new takes gets them in a fraction of the time one-by-one would take. Keys the store does
    not hold are skipped (the page shows those takes without an image).
    """
    missing = []
    for key in dict.fromkeys(keys):
        cached = _cache_path(assets, key, size)
        if cached is not None and not cached.exists():
            missing.append(key)
    if len(missing) < 2:
        return sum(1 for key in missing if _made(assets, key, size))
    with ThreadPoolExecutor(max_workers=min(workers, len(missing))) as pool:
        return sum(pool.map(lambda key: _made(assets, key, size), missing))


def _made(assets: AssetStore, key: str, size: int) -> bool:
    try:
        thumbnail(assets, key, size)
    except AssetMissing:
        return False
    return True


__all__ = ["make_thumbnail", "thumbnail", "thumbnail_cache_key", "warm_thumbnails"]

"""What a client is shown of a take before approving it: the thumbnail, or, when the batch asks
for it (``[approval] watermark = true``), the thumbnail marked "PREVIEW".

Marked images are cached like thumbnails (in memory, keyed by store, asset key, size and mark);
an asset key is a content hash, so a cached preview never goes stale.
"""

from __future__ import annotations

import streamlit as st

from studio.catalog.models import Batch
from studio.catalog.store import Catalog
from studio.images.thumbnails import thumbnail
from studio.review.deliverables import PREVIEW_MARK, watermark
from studio.settings import Settings
from studio.storage import AssetMissing, AssetStore
from studio.views.gates import GateChoice
from ui.resources import asset_store, thumb

# A full-size image marked once is kept for a few takes: a client opens one, then the next.
FULL_SIZE_ENTRIES = 16


def _location(settings: Settings) -> str:
    # The cache key of the store the settings name, as ui.resources keys its thumbnails: two
    # stores never share a cached preview.
    return f"{settings.assets or settings.assets_dir}|{settings.s3_endpoint_url}|{settings.s3_region}"


@st.cache_data(max_entries=5000, show_spinner=False)
def _marked_thumb(location: str, key: str, size: int, mark: str, _assets: AssetStore) -> bytes:
    return watermark(thumbnail(_assets, key, size), mark)


@st.cache_data(max_entries=FULL_SIZE_ENTRIES, show_spinner=False)
def _marked_full(location: str, key: str, mark: str, _assets: AssetStore) -> bytes:
    return watermark(_assets.get(key), mark)


def preview(settings: Settings, key: str | None, size: int, *, marked: bool) -> bytes | None:
    """A thumbnail of asset ``key`` (JPEG), marked "PREVIEW" when ``marked``; ``None`` without an image."""
    if not marked:
        return thumb(settings, key, size)
    if not key:
        return None
    try:
        return _marked_thumb(_location(settings), key, size, PREVIEW_MARK, asset_store(settings))
    except AssetMissing:
        return None  # not synced to this machine yet: drawn without an image, like thumb() does


def full_size(settings: Settings, key: str | None, *, marked: bool) -> bytes | None:
    """The full-size image of asset ``key``, marked "PREVIEW" when ``marked``; ``None`` without one.

    Not cached unmarked: the store holds the bytes already (and the browser caches the page's media).
    """
    if not key:
        return None
    try:
        if marked:
            return _marked_full(_location(settings), key, PREVIEW_MARK, asset_store(settings))
        return asset_store(settings).get(key)
    except AssetMissing:
        return None


def client_thumb(settings: Settings, catalog: Catalog, batch: Batch, choice: GateChoice, size: int) -> bytes | None:
    """The thumbnail of a take at a gate as the client sees it: marked when the batch asks for it.

    A take at a gate is not approved yet, so with ``batch.watermark`` it is always marked; what
    the client downloads after approval (:mod:`ui.deliverables`) is the clean final.

    Args:
        settings: The studio's settings.
        catalog: The catalog (kept for callers' symmetry with the other client helpers).
        batch: The take's batch.
        choice: The take on offer.
        size: Longest side of the thumbnail in pixels.
    """
    return preview(settings, choice.image_key, size, marked=batch.watermark)

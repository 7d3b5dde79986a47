"""What every page reads: settings, the catalog, the asset store, and cached thumbnails.

Nothing here is held across reruns except thumbnails: settings are re-read each run (cheap, and
a test can point the app at another STUDIO_HOME), and the catalog's engine is already cached per
URL by :func:`studio.catalog.engine_for`.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from studio.assets import AssetMissing, LocalAssetStore
from studio.catalog import Catalog
from studio.settings import Settings, load_settings
from studio.thumbnails import thumbnail, warm_thumbnails


def current_settings() -> Settings:
    """The studio's settings, from the environment the dashboard was started with."""
    return load_settings()


def open_catalog(settings: Settings) -> Catalog:
    """The catalog the settings name."""
    return Catalog.open(settings.catalog_url)


@st.cache_data(max_entries=5000, show_spinner=False)
def _thumb(assets_dir: str, key: str, size: int) -> bytes:
    return thumbnail(LocalAssetStore(Path(assets_dir)), key, size)


def thumb(settings: Settings, key: str | None, size: int = 256) -> bytes | None:
    """JPEG thumbnail bytes of an asset, or ``None`` when there is no image (yet)."""
    if not key:
        return None
    try:
        return _thumb(str(settings.assets_dir), key, size)
    except AssetMissing:
        # The catalog can name an asset a worker on another machine has not synced yet.
        return None


def warm(settings: Settings, keys: list[str | None], size: int = 256) -> None:
    """Make a screenful of thumbnails in parallel before drawing them one by one."""
    warm_thumbnails(LocalAssetStore(settings.assets_dir), [k for k in keys if k], size)

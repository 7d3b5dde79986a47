"""What every page reads: settings, the catalog, the asset store, and cached thumbnails.

Nothing here is held across reruns except asset stores and thumbnails, both keyed by where the
store is: settings are re-read each run (cheap, and a test can point the app at another
STUDIO_HOME), and the catalog's engine is already cached per URL by
:func:`studio.catalog.engine.engine_for`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from studio.catalog.store import Catalog
from studio.images.thumbnails import thumbnail, warm_thumbnails
from studio.settings import Settings, load_settings
from studio.storage import AssetMissing, AssetStore, LocalAssetStore, open_asset_store


def current_settings() -> Settings:
    """The studio's settings, from the environment the dashboard was started with."""
    return load_settings()


def open_catalog(settings: Settings) -> Catalog:
    """The catalog the settings name."""
    return Catalog.open(settings.catalog_url)


def _location(settings: Settings) -> str:
    """Which store ``settings`` name, as a cache key."""
    return f"{settings.assets or settings.assets_dir}|{settings.s3_endpoint_url}|{settings.s3_region}"


@st.cache_resource(show_spinner=False)
def _store(location: str, _settings: Settings) -> AssetStore:
    # One store per location for the server's life: on S3 that is one client, one connection
    # pool and one bucket check, instead of one of each per rerun.
    return open_asset_store(_settings)


def asset_store(settings: Settings) -> AssetStore:
    """The asset store the settings name (opened once per location).

    Raises:
        AssetStoreError: The store cannot be used (a bad S3 URL, a missing bucket, no network).
    """
    return _store(_location(settings), settings)


@st.cache_data(max_entries=5000, show_spinner=False)
def _thumb(location: str, key: str, size: int, _assets: AssetStore) -> bytes:
    return thumbnail(_assets, key, size)


def thumb(settings: Settings, key: str | None, size: int = 256) -> bytes | None:
    """JPEG thumbnail bytes of an asset, or ``None`` when there is no image (yet)."""
    if not key:
        return None
    try:
        return _thumb(_location(settings), key, size, asset_store(settings))
    except AssetMissing:
        # The catalog can name an asset a worker on another machine has not synced yet.
        return None


def warm(settings: Settings, keys: list[str | None], size: int = 256) -> None:
    """Make a screenful of thumbnails in parallel before drawing them one by one."""
    store, wanted = asset_store(settings), [k for k in dict.fromkeys(keys) if k]
    if isinstance(store, LocalAssetStore) or len(wanted) < 2:
        warm_thumbnails(store, wanted, size)  # cached on disk beside the store
        return
    # A remote store has no disk cache: fetch in parallel into the memory cache thumb() reads,
    # or a screenful of S3 round trips would add up one after another.
    location, ctx = _location(settings), get_script_run_ctx()

    def _one(key: str) -> None:
        add_script_run_ctx(threading.current_thread(), ctx)  # the cache lives in the script's runtime
        try:
            _thumb(location, key, size, store)
        except AssetMissing:
            pass  # drawn without an image, like thumb() does

    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        list(pool.map(_one, wanted))


def full_size_url(settings: Settings, key: str | None, *, expires: int = 3600) -> str | None:
    """A link the browser loads the full-size image from, straight from the store (a presigned S3
    URL), or ``None`` where the store has no such thing (local files): pages then show bytes."""
    if not key:
        return None
    return asset_store(settings).presigned_url(key, expires=expires)

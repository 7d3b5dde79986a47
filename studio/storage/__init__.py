"""The content-addressed asset store: local files (local) or S3 (s3, the only module that imports
boto3)."""

from __future__ import annotations

from studio.settings import Settings
from studio.storage.local import (
    AssetMissing,
    AssetStore,
    AssetStoreError,
    AssetStoreUnavailable,
    LocalAssetStore,
    asset_key,
)

__all__ = [
    "AssetMissing",
    "AssetStore",
    "AssetStoreError",
    "AssetStoreUnavailable",
    "LocalAssetStore",
    "asset_key",
    "open_asset_store",
]


def open_asset_store(settings: Settings) -> AssetStore:
    """The asset store ``settings`` name: ``s3://bucket/prefix`` in ``STUDIO_ASSETS``, else a directory.

    Every process (worker, CLI, dashboard) opens its store here, so switching to S3 is a matter
    of configuration alone.

    Raises:
        AssetStoreError: The S3 URL is malformed, or its bucket is missing or unreachable.
    """
    if settings.assets and "://" in settings.assets:
        # Imported here: boto3 costs a noticeable import time that a local studio never needs.
        from studio.storage.s3 import S3AssetStore

        store = S3AssetStore.from_url(settings.assets, endpoint_url=settings.s3_endpoint_url, region=settings.s3_region)
        store.check()
        return store
    return LocalAssetStore(settings.assets_dir)

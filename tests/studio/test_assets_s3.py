"""The S3 asset store against moto's S3 server over HTTP (a real wire protocol, not an in-process mock)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.runtime.devserver import free_port
from studio.settings import Settings
from studio.storage import (
    AssetMissing,
    AssetStoreError,
    LocalAssetStore,
    asset_key,
    open_asset_store,
)
from studio.storage.s3 import S3AssetStore
from tests.backends import new_bucket

PNG = b"\x89PNG\r\n\x1a\n" + b"not really an image, but bytes all the same" * 50


def s3_settings(tmp_path: Path, assets: str, endpoint: str | None) -> Settings:
    return Settings(home=tmp_path / "home", assets=assets, s3_endpoint_url=endpoint, _env_file=None)  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field


@pytest.fixture
def store(s3_endpoint: str, tmp_path: Path) -> S3AssetStore:
    opened = open_asset_store(s3_settings(tmp_path, f"s3://{new_bucket(s3_endpoint)}/studio/assets", s3_endpoint))
    assert isinstance(opened, S3AssetStore)
    return opened


def count_calls(store: S3AssetStore, operation: str) -> list[str]:
    """Record every ``operation`` call the store's client makes from now on."""
    calls: list[str] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params["Key"])

    store.client.meta.events.register(f"provide-client-params.s3.{operation}", record)
    return calls


def test_put_get_exists_round_trip(store: S3AssetStore) -> None:
    key = store.put(PNG, "image/png")
    assert key == asset_key(PNG, "image/png") and key.endswith(".png")
    assert store.exists(key) and store.get(key) == PNG
    head = store.client.head_object(Bucket=store.bucket, Key=f"studio/assets/{key[:2]}/{key}")
    assert head["ContentType"] == "image/png", "laid out like the local store, typed for browsers"


def test_put_is_idempotent(store: S3AssetStore) -> None:
    puts = count_calls(store, "PutObject")
    first = store.put(PNG, "image/png")
    again = store.put(PNG, "image/png")
    assert first == again and len(puts) == 1, "the second put of the same bytes must not upload again"
    other = store.put(PNG + b"!", "image/png")
    assert other != first and len(puts) == 2


def test_missing_key(store: S3AssetStore) -> None:
    absent = asset_key(b"never stored", "image/png")
    assert not store.exists(absent)
    with pytest.raises(AssetMissing) as caught:
        store.get(absent)
    assert caught.value.key == absent
    for bad in ("", "../etc/passwd", ".hidden"):
        with pytest.raises(AssetMissing):
            store.get(bad)


def test_presigned_url_serves_the_bytes_without_credentials(store: S3AssetStore) -> None:
    key = store.put(PNG, "image/png")
    url = store.presigned_url(key, expires=120)
    assert url is not None and "X-Amz-Signature=" in url and "X-Amz-Expires=120" in url
    response = httpx.get(url)  # no AWS headers: the signature in the query is all it carries
    assert response.status_code == 200 and response.content == PNG
    assert response.headers["content-type"] == "image/png"
    with pytest.raises(ValueError, match="expires"):
        store.presigned_url(key, expires=0)


def test_local_store_has_no_url_so_the_ui_serves_bytes(tmp_path: Path) -> None:
    store = open_asset_store(Settings(home=tmp_path / "home", _env_file=None))  # type: ignore[call-arg]  # _env_file: a pydantic-settings init option, not a field
    assert isinstance(store, LocalAssetStore) and store.root == tmp_path / "home" / "assets"
    assert store.presigned_url(store.put(PNG, "image/png")) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("s3://", "names no bucket"),
        ("s3:///prefix", "names no bucket"),
        ("s3://Upper_Case/x", "not a valid bucket name"),
        ("s3://ab/x", "not a valid bucket name"),
        ("s3://bucket/x?versionId=1", "no query"),
        ("gs://bucket/x", "only s3://"),
    ],
)
def test_bad_url_is_one_clear_error(tmp_path: Path, url: str, reason: str) -> None:
    with pytest.raises(AssetStoreError, match=reason) as caught:
        open_asset_store(s3_settings(tmp_path, url, None))
    assert caught.value.location == url and str(caught.value).startswith(f"asset store {url}: ")


def test_missing_bucket_is_one_clear_error(s3_endpoint: str, tmp_path: Path) -> None:
    url = "s3://no-such-bucket-here/assets"
    with pytest.raises(AssetStoreError, match="bucket 'no-such-bucket-here' does not exist") as caught:
        open_asset_store(s3_settings(tmp_path, url, s3_endpoint))
    assert caught.value.location == url


def test_unreachable_endpoint_is_one_clear_error(s3_endpoint: str, tmp_path: Path) -> None:
    nothing_there = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(AssetStoreError, match="cannot reach S3"):
        open_asset_store(s3_settings(tmp_path, "s3://some-bucket/assets", nothing_there))


def test_an_empty_prefix_puts_objects_at_the_bucket_root(s3_endpoint: str, tmp_path: Path) -> None:
    bucket = new_bucket(s3_endpoint)
    store = open_asset_store(s3_settings(tmp_path, f"s3://{bucket}", s3_endpoint))
    key = store.put(PNG, "image/png")
    assert isinstance(store, S3AssetStore) and store.object_key(key) == f"{key[:2]}/{key}"
    assert store.get(key) == PNG

"""Content-addressed asset store: bytes in, a sha256 key out.

Workflow payloads carry these keys, never image bytes. Writing the same bytes twice yields the
same key and one file, which is what makes a re-run activity idempotent on the storage side.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol

from PIL import Image

from studio.errors import StudioError

if TYPE_CHECKING:
    pass

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "text/plain": "txt",
    "application/json": "json",
}


class AssetMissing(StudioError):
    """An asset key was looked up that the store does not hold.

    Attributes:
        key: The missing key.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"asset {key} is not in the store")
        self.key = key


class AssetStoreError(StudioError):
    """The asset store cannot be used: a malformed location, a missing bucket, no access, no network.

    Attributes:
        location: The store as configured (``STUDIO_ASSETS``), e.g. ``s3://bucket/prefix``.
        reason: What is wrong, in a few words a user can act on.
    """

    def __init__(self, location: str, reason: str) -> None:
        super().__init__(f"asset store {location}: {reason}")
        self.location = location
        self.reason = reason


class AssetStoreUnavailable(AssetStoreError):
    """The asset store is there but does not answer right now (5xx, timeouts, connection refused).

    Unlike its parent (a store that is misconfigured), this passes: work waits and tries again.
    """


def image_size(data: bytes) -> tuple[int, int]:
    """Width and height of an encoded image, from its header (the pixels are not decoded)."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file and a rename, so a crash never leaves a
    half-written file under the final name.

    The file gets the permissions of any file the user writes: ``0666`` less the umask
    (``0644`` with the usual ``022``), so published images open in any viewer or web server.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_temp(path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextmanager
def open_atomic(path: Path) -> Iterator[BinaryIO]:
    """A file to write ``path`` piece by piece, renamed into place only once the block ends without
    error (as :func:`write_atomic`, for content too large to hold in memory at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _open_temp(path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _open_temp(folder: Path) -> tuple[int, Path]:
    # Not tempfile.mkstemp: it makes the file 0600 whatever the umask, and the rename keeps that
    # mode. Opening with 0o666 lets the kernel apply the umask, as for any file a program writes
    # (reading the umask instead would mean setting it, which races with other threads).
    while True:
        tmp = folder / f".tmp-{secrets.token_hex(8)}"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue  # 64 random bits: a clash is all but impossible, but never overwrite one


def asset_key(data: bytes, mime_type: str) -> str:
    """The key of ``data``: its sha256 in hex and an extension from its MIME type."""
    ext = _EXTENSIONS.get(mime_type, "bin")
    return f"{hashlib.sha256(data).hexdigest()}.{ext}"


class AssetStore(Protocol):
    """Where images and other blobs live. A store is hashable (by identity), so reads may be cached per store."""

    def __hash__(self) -> int: ...

    def put(self, data: bytes, mime_type: str) -> str:
        """Store ``data`` (idempotently) and return its key."""
        ...

    def get(self, key: str) -> bytes:
        """Return the bytes of ``key``; raise :class:`AssetMissing` if absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        ...

    def presigned_url(self, key: str, *, expires: int = 3600) -> str | None:
        """A URL a browser can fetch ``key`` from for ``expires`` seconds without credentials, or
        ``None`` when the store has none (the caller then serves the bytes itself)."""
        ...


class LocalAssetStore:
    """A directory of files named by their sha256, fanned out by the first two hex digits."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        """Where ``key`` lives on disk (whether or not it exists yet)."""
        if not key or "/" in key or key.startswith("."):
            raise AssetMissing(key)
        return self.root / key[:2] / key

    def put(self, data: bytes, mime_type: str) -> str:
        """Store ``data``; a second put of the same bytes writes nothing."""
        key = asset_key(data, mime_type)
        target = self.path(key)
        if not target.exists():
            write_atomic(target, data)
        return key

    def get(self, key: str) -> bytes:
        """Read ``key``."""
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise AssetMissing(key) from None

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        return self.path(key).exists()

    def presigned_url(self, key: str, *, expires: int = 3600) -> str | None:
        """Always ``None``: files on this machine have no URL a remote browser could open."""
        return None

"""The asset store on S3, or anything that speaks its protocol (MinIO, Cloudflare R2, moto).

Objects are laid out like the local store's files, ``<prefix>/<first two hex digits>/<key>``, so
a local store copied with ``aws s3 sync`` is a valid S3 store as it is. Credentials come from
boto3's usual chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``, a profile, an instance
role); they are never part of the studio's settings.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from studio.storage.local import AssetMissing, AssetStoreError, AssetStoreUnavailable, asset_key

# SigV4 presigned URLs live at most a week.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
# The worker runs up to 64 activities at once, each in a thread; botocore's default pool of 10
# connections would make most of them wait for a socket.
MAX_POOL_CONNECTIONS = 64
_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_MISSING_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
# Answers that mean "not now" (botocore has already retried them a few times): the work waits.
_UNAVAILABLE_CODES = frozenset(
    {"500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout"}
)
_DENIED_CODES = frozenset({"403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled"})
# One boto3 session per process: it caches the parsed service models, which makes every client
# after the first ~15x cheaper to create. Sessions are not thread-safe, hence the lock.
_SESSION: boto3.session.Session | None = None
_SESSION_LOCK = threading.Lock()


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into the bucket and the prefix (no leading or trailing slash).

    Raises:
        AssetStoreError: Not an ``s3://`` URL, or the bucket name is not a valid S3 bucket name.
    """
    parts = urlsplit(url)
    if parts.scheme != "s3":
        raise AssetStoreError(url, "only s3://bucket/prefix URLs or local directories are supported")
    if parts.query or parts.fragment or parts.username or parts.password or parts.port:
        raise AssetStoreError(url, "an S3 URL is s3://bucket/prefix, with no query, user or port")
    bucket = parts.netloc
    if not bucket:
        raise AssetStoreError(url, "the URL names no bucket (s3://bucket/prefix)")
    if not _BUCKET_RE.fullmatch(bucket) or ".." in bucket:
        raise AssetStoreError(
            url, f"{bucket!r} is not a valid bucket name (3-63 lowercase letters, digits, dots and hyphens)"
        )
    return bucket, parts.path.strip("/")


def s3_client(*, endpoint_url: str | None = None, region: str | None = None) -> Any:
    """A boto3 S3 client for the studio's use (safe to share between threads).

    Args:
        endpoint_url: An S3-compatible endpoint (MinIO, R2); ``None`` for AWS (or boto3's own
            ``AWS_ENDPOINT_URL_S3``).
        region: The region to sign for; ``None`` for boto3's default.
    """
    config = Config(
        signature_version="s3v4",
        # Self-hosted endpoints seldom have wildcard DNS for bucket subdomains; all of them
        # (MinIO, R2, moto) accept path-style requests, AWS itself prefers virtual hosts.
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"max_attempts": 4, "mode": "standard"},
        connect_timeout=5,
        read_timeout=60,
        max_pool_connections=MAX_POOL_CONNECTIONS,
    )
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = boto3.session.Session()
        return _SESSION.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


class S3AssetStore:
    """Content-addressed blobs in one S3 bucket under a prefix.

    Args:
        bucket: The bucket (it must exist; the studio never creates buckets).
        prefix: Key prefix inside the bucket, without slashes at either end; ``""`` for none.
        client: A boto3 S3 client (see :func:`s3_client`); tests pass one pointed at moto.
        location: How the store was configured, for error messages; default ``s3://bucket/prefix``.
    """

    def __init__(self, bucket: str, prefix: str = "", *, client: Any, location: str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.location = location or f"s3://{bucket}/{self.prefix}".rstrip("/")

    @classmethod
    def from_url(cls, url: str, *, endpoint_url: str | None = None, region: str | None = None) -> S3AssetStore:
        """The store at ``s3://bucket/prefix`` (no request is made; see :meth:`check`).

        Raises:
            AssetStoreError: The URL is malformed, or boto3 cannot be configured (an unknown
                ``AWS_PROFILE``, for one).
        """
        bucket, prefix = parse_s3_url(url)
        try:
            client = s3_client(endpoint_url=endpoint_url, region=region)
        except BotoCoreError as err:
            raise AssetStoreError(url, str(err)) from err
        return cls(bucket, prefix, client=client, location=url)

    def object_key(self, key: str) -> str:
        """The S3 object key of asset ``key``."""
        if not key or "/" in key or key.startswith("."):
            raise AssetMissing(key)
        name = f"{key[:2]}/{key}"
        return f"{self.prefix}/{name}" if self.prefix else name

    def check(self) -> None:
        """Make sure the bucket exists and these credentials can reach it.

        Raises:
            AssetStoreError: It does not, or they cannot, or the endpoint does not answer.
        """
        with self._translated():
            self.client.head_bucket(Bucket=self.bucket)

    def put(self, data: bytes, mime_type: str) -> str:
        """Store ``data`` unless an object with its key is there already; return the key."""
        key = asset_key(data, mime_type)
        if not self.exists(key):
            # Two workers racing here both write the same bytes under the same key: harmless.
            with self._translated():
                self.client.put_object(Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=mime_type)
        return key

    def get(self, key: str) -> bytes:
        """Read ``key``; raise :class:`AssetMissing` if absent."""
        with self._translated(key):
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
            body = response["Body"]
            try:
                return bytes(body.read())
            finally:
                body.close()

    def exists(self, key: str) -> bool:
        """Whether ``key`` is stored.

        S3 answers a HEAD on a missing object with 403 instead of 404 when the credentials lack
        ``s3:ListBucket``; that is reported as an :class:`AssetStoreError`, not as absent.
        """
        try:
            with self._translated(key):
                self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except AssetMissing:
            return False
        return True

    def presigned_url(self, key: str, *, expires: int = 3600) -> str | None:
        """A URL that fetches ``key`` without credentials for ``expires`` seconds.

        The URL is signed locally (no request is made) and points at the configured endpoint,
        which must therefore be reachable from the browser that opens it.

        Raises:
            ValueError: ``expires`` is not within 1 second to 7 days.
        """
        if not 1 <= expires <= MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires must be 1..{MAX_PRESIGN_SECONDS} seconds (got {expires})")
        with self._translated(key):
            return str(
                self.client.generate_presigned_url(
                    "get_object", Params={"Bucket": self.bucket, "Key": self.object_key(key)}, ExpiresIn=expires
                )
            )

    @contextmanager
    def _translated(self, key: str | None = None) -> Iterator[None]:
        """Turn botocore's errors into the studio's: a missing ``key``, or a store that cannot be used."""
        try:
            yield
        except ClientError as err:
            error = err.response.get("Error", {})
            code = str(error.get("Code") or err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            if key is not None and code in _MISSING_CODES:
                raise AssetMissing(key) from None
            if code in _UNAVAILABLE_CODES:
                raise AssetStoreUnavailable(self.location, f"S3 is not answering ({code})") from err
            raise AssetStoreError(self.location, self._reason(code, str(error.get("Message") or ""))) from err
        except NoCredentialsError as err:
            raise AssetStoreError(
                self.location, "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or a profile)"
            ) from err
        except BotoCoreError as err:  # connection refused, DNS, timeouts, a broken response stream
            raise AssetStoreUnavailable(self.location, f"cannot reach S3: {err}") from err

    def _reason(self, code: str, message: str) -> str:
        if code in ("NoSuchBucket", "404", "NotFound"):
            return f"bucket {self.bucket!r} does not exist (create it, or fix STUDIO_ASSETS / STUDIO_S3_ENDPOINT_URL)"
        if code in _DENIED_CODES:
            return f"access to bucket {self.bucket!r} denied ({code}): check the AWS credentials and the bucket policy"
        return f"S3 refused the request ({code}{': ' + message if message else ''})"

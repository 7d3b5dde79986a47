"""Shared helpers for the remote adapters: HTTP errors, image fetching and image checks.

Every remote adapter turns vendor trouble into one :class:`~providers.base.ProviderError`
subclass through the plain functions below, so the mapping (which status means "wait", which
means "give up on this vendor") lives in one place:

====================  =====================================================
vendor answer          error
====================  =====================================================
401, 403, 402         :class:`AuthFailed` (402: the account cannot pay; retrying will not help)
429                   :class:`RateLimited` with ``retry_after`` from ``Retry-After`` (seconds
                      or HTTP-date) or Gemini's ``RetryInfo.retryDelay`` ("22s")
408, 5xx              :class:`Unavailable`
other 4xx             :class:`InvalidRequest` (400, 404, 409, 413, 422, ...)
timeout / transport   :class:`Unavailable`
====================  =====================================================

Messages carry the provider name, the status and a short vendor detail. They never carry request
headers, and :func:`redact` strips the caller's secrets (and anything shaped like an auth header)
from vendor text, because vendors sometimes echo the key they were sent.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import re
import ssl
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from typing import Any

import httpx
from PIL import Image

from providers.base import (
    AuthFailed,
    BadImage,
    InvalidRequest,
    ProviderError,
    RateLimited,
    Unavailable,
)

MAX_DETAIL = 300
"""Longest vendor detail kept in an error (bodies can be whole HTML pages)."""

# Anything that looks like a credential in free text: "Bearer abc", "Key abc", "key=abc".
_AUTHISH = re.compile(r"(?i)\b(bearer|key|token|api[-_]?key)([\s:=]+)[A-Za-z0-9._\-]{8,}")


@lru_cache(maxsize=1)
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()


def new_client(**kwargs: Any) -> httpx.AsyncClient:
    """A fresh :class:`httpx.AsyncClient` sharing one SSL context.

    Adapters without an injected client make one per call (so no connection outlives its event
    loop); loading CA certificates for each would cost ~40 ms, so the context is built once.
    """
    return httpx.AsyncClient(verify=_ssl_context(), **kwargs)


def redact(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets and auth-header-shaped substrings from ``text``.

    Args:
        text: Vendor-supplied text (an error body, an exception string).
        secrets: Exact strings to blank out (the adapter's own key).

    Returns:
        ``text`` with every secret replaced by ``***`` and trimmed to :data:`MAX_DETAIL`.
    """
    for secret in secrets:
        # Short "secrets" would blank out ordinary words; real keys are long.
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _AUTHISH.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = " ".join(text.split())
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 1] + "…"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Parse a ``Retry-After`` header value.

    Args:
        value: Header value: delay in seconds ("7", "1.5") or an HTTP-date.
        now: Current time, for tests; defaults to the real clock.

    Returns:
        Seconds to wait (never negative), or ``None`` when absent or unparseable.
    """
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def parse_retry_delay(body: Any) -> float | None:
    """Find Google's ``RetryInfo.retryDelay`` ("22s", "0.5s") in an error body.

    Args:
        body: Decoded JSON error body (``{"error": {"details": [...]}}``).

    Returns:
        The delay in seconds, or ``None`` when the body carries no RetryInfo.
    """
    error = body.get("error") if isinstance(body, Mapping) else None
    details = error.get("details") if isinstance(error, Mapping) else None
    for item in details if isinstance(details, list) else ():
        if not isinstance(item, Mapping):
            continue
        if str(item.get("@type", "")).endswith("google.rpc.RetryInfo"):
            match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)s\s*", str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def error_for_status(
    status: int,
    *,
    provider: str,
    detail: str | None = None,
    retry_after: float | None = None,
) -> ProviderError:
    """Build the error for an HTTP status (used directly by SDK-based adapters).

    Args:
        status: HTTP status code the vendor answered with (0 when unknown).
        provider: Provider name for the error.
        detail: Already redacted vendor detail.
        retry_after: Seconds to wait, for 429.

    Returns:
        The matching :class:`ProviderError` subclass (not raised).
    """
    cls: type[ProviderError]
    if status in (401, 402, 403):
        cls, kind = AuthFailed, "authentication failed"
    elif status == 429:
        cls, kind = RateLimited, "rate limited"
    elif status == 408 or status >= 500 or status < 400:
        cls, kind = Unavailable, "unavailable"
    else:
        cls, kind = InvalidRequest, "rejected the request"
    message = f"{provider} {kind} (HTTP {status})" + (f": {detail}" if detail else "")
    if cls is RateLimited and retry_after is not None:
        message += f"; retry after {retry_after:g}s"
    return cls(
        message,
        provider=provider,
        status_code=status or None,
        retry_after=retry_after if cls is RateLimited else None,
        detail=detail,
    )


def response_detail(response: httpx.Response, secrets: Iterable[str | None] = ()) -> str | None:
    """Extract a short, redacted detail from a vendor error body.

    Knows the common shapes: ``{"error": {"message"}}`` (Google), ``{"message"}`` (Mistral),
    ``{"detail"}`` / ``{"title"}`` (Replicate, fal).
    """
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text if response.content else ""
        return redact(text, secrets) or None
    found: Any = None
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):
            found = error.get("message") or error.get("status")
        elif isinstance(error, str):
            found = error
        found = found or body.get("message") or body.get("detail") or body.get("title")
    if found is None:
        found = body
    if not isinstance(found, str):
        found = json.dumps(found, ensure_ascii=False)
    return redact(found, secrets) or None


def error_from_response(
    response: httpx.Response, provider: str, *, secrets: Iterable[str | None] = ()
) -> ProviderError:
    """Map a non-2xx :class:`httpx.Response` to a :class:`ProviderError` (not raised)."""
    retry_after = None
    if response.status_code == 429:
        retry_after = parse_retry_after(response.headers.get("retry-after"))
        if retry_after is None:
            try:
                retry_after = parse_retry_delay(response.json())
            except (ValueError, UnicodeDecodeError):
                retry_after = None
    return error_for_status(
        response.status_code,
        provider=provider,
        detail=response_detail(response, secrets),
        retry_after=retry_after,
    )


def raise_for_status(response: httpx.Response, provider: str, *, secrets: Iterable[str | None] = ()) -> None:
    """Raise the mapped :class:`ProviderError` unless ``response`` is 2xx."""
    if not response.is_success:
        raise error_from_response(response, provider, secrets=secrets)


def error_from_transport(exc: Exception, provider: str) -> Unavailable:
    """Map a timeout or connection failure (httpx or otherwise) to :class:`Unavailable`.

    Only the exception class name is kept: transport messages can include URLs, and a URL is
    where a careless caller might have put a key.
    """
    kind = "timed out" if isinstance(exc, (httpx.TimeoutException, TimeoutError)) else "unreachable"
    return Unavailable(f"{provider} {kind} ({type(exc).__name__})", provider=provider, detail=type(exc).__name__)


def json_body(response: httpx.Response, provider: str) -> Any:
    """Decode a 2xx JSON body; a garbled answer is a vendor fault, so :class:`Unavailable`."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        raise Unavailable(
            f"{provider} sent an unparseable answer",
            provider=provider,
            status_code=response.status_code,
            detail="unparseable answer",
        ) from None


def check_image(data: bytes | None, provider: str) -> tuple[str, int, int]:
    """Decode ``data`` fully with Pillow to prove it is a usable image.

    ``verify()`` catches structural damage, ``load()`` catches truncated pixel data; both are
    needed because each misses what the other finds.

    Args:
        data: Encoded image bytes from a vendor.
        provider: Provider name for the error.

    Returns:
        ``(mime_type, width, height)``.

    Raises:
        BadImage: Empty, undecodable or truncated bytes.
    """
    if not data:
        raise BadImage(f"{provider} returned an empty image", provider=provider, detail="empty")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.verify()
            fmt = im.format
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            width, height = im.size
    except Exception as exc:
        raise BadImage(
            f"{provider} returned undecodable image bytes ({type(exc).__name__})",
            provider=provider,
            detail=f"{len(data)} bytes, {type(exc).__name__}",
        ) from None
    mime = Image.MIME.get(fmt or "", "application/octet-stream")
    return mime, width, height


def to_data_uri(data: bytes, mime: str) -> str:
    """Encode bytes as a ``data:`` URI (how image inputs travel inline)."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def check_input_image(data: bytes | None, provider: str, *, what: str = "input image") -> str:
    """Prove an image *we* are about to send decodes, before paying for a vendor call.

    Bad input is our fault, not the vendor's, so it is :class:`InvalidRequest` (no vendor will
    take it) rather than :class:`BadImage` (which says the vendor answered garbage).

    Returns:
        The image's MIME type.

    Raises:
        InvalidRequest: ``data`` is empty or does not decode; ``what`` names it in the error.
    """
    try:
        mime, _, _ = check_image(data, provider)
    except BadImage:
        raise InvalidRequest(f"{what} is not a decodable image", provider=provider, detail=f"bad {what}") from None
    return mime


def summarize_inline_images(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` as sent, with each inline ``data:`` payload replaced by a short marker.

    What a take records must stay small: a data URI is the whole image again.
    """
    return {
        key: f"<data URI, {len(value)} chars>" if isinstance(value, str) and value.startswith("data:") else value
        for key, value in (params or {}).items()
    }


def decode_data_uri(uri: str, provider: str) -> bytes:
    """Decode a ``data:[mime][;base64],payload`` URI; garbage is :class:`BadImage`."""
    header, sep, payload = uri.partition(",")
    if not sep:
        raise BadImage(f"{provider} returned a malformed data URI", provider=provider, detail="malformed data URI")
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        from urllib.parse import unquote_to_bytes

        return unquote_to_bytes(payload)
    except (binascii.Error, ValueError):
        raise BadImage(
            f"{provider} returned a malformed data URI", provider=provider, detail="malformed data URI"
        ) from None


async def fetch_image(
    url: str,
    *,
    provider: str,
    http: httpx.AsyncClient | None = None,
    timeout: float = 60.0,
) -> bytes:
    """Get output bytes from a ``data:`` URI or an http(s) URL.

    Output URLs live on vendor CDNs, so no auth header is sent: the adapter's key must never
    travel to a host other than the API's.

    Args:
        url: ``data:`` URI or http(s) URL.
        provider: Provider name for errors.
        http: Client to reuse; a short-lived one is made when ``None``. Must carry no auth
            headers of its own.
        timeout: Seconds for the download.

    Raises:
        BadImage: Malformed data URI.
        ProviderError: HTTP or transport failure of the download.
    """
    if url.startswith("data:"):
        return decode_data_uri(url, provider)
    if not url.startswith(("http://", "https://")):
        raise BadImage(f"{provider} returned an unusable output reference", provider=provider, detail="not a URL")
    try:
        if http is None:
            async with new_client(follow_redirects=True) as own:
                response = await own.get(url, timeout=timeout)
        else:
            response = await http.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise error_from_transport(exc, provider) from exc
    raise_for_status(response, provider)
    return response.content

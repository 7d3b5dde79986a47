"""The HTTP plumbing the REST adapters (Mistral, Gemini) share: a key kept out of reprs, a
shared or per-call httpx client, and transport failures mapped to ProviderError."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from providers._http.errors import error_from_transport, new_client


class VendorHTTP:
    """One vendor's REST endpoint.

    Args:
        provider: Provider name used in errors.
        api_key: The vendor key; subclasses put it in a per-request header, never in a client.
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        timeout: Seconds per request.
    """

    def __init__(
        self, provider: str, api_key: str, base_url: str, http: httpx.AsyncClient | None, timeout: float
    ) -> None:
        self.provider = provider
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self._http = http
        self.timeout = timeout

    def __repr__(self) -> str:  # keep the key out of reprs and tracebacks
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[httpx.AsyncClient]:
        # A shared client pools connections; otherwise one lives per call, so no connection
        # outlives the event loop that made it.
        if self._http is not None:
            yield self._http
        else:
            async with new_client() as client:
                yield client

    async def send(self, method: str, url: str, *, headers: dict[str, str], json_payload: Any = None) -> httpx.Response:
        """Send one request; transport failures (timeout, refused, reset) raise Unavailable."""
        try:
            async with self._client() as client:
                return await client.request(method, url, json=json_payload, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise error_from_transport(exc, self.provider) from exc

"""The HTTP side of the ``/sdapi/v1`` web API shared by the renderer, the upscaler and the probe.

A pool is a list of node URLs (``A1111_URLS``); the studio picks the node of each call and the
adapters check it is one of theirs. The optional credential (``A1111_AUTH``) is ``user:password``
for ``--api-auth`` (HTTP basic) or, without a colon, a bearer token for a node behind a proxy. It
travels only in the ``Authorization`` header, and error texts are redacted of it.

Errors, as :mod:`providers._http.errors` maps them: 401/403 → :class:`AuthFailed`; 404 (unknown
sampler or checkpoint) and 422 (a field the API refused) → :class:`InvalidRequest` naming what
the server said; 5xx, refused or dropped connections and timeouts → :class:`Unavailable`. The one
exception: a 500 saying the upscaler does not exist is the creator's setting, so
:class:`InvalidRequest`, not an outage to wait out.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Generator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import httpx

from providers._http.errors import error_for_status, error_from_transport, json_body, new_client, redact
from providers.base import BadImage, InvalidRequest, ProviderError, Unavailable

PROVIDER = "a1111"
CONNECT_TIMEOUT = 10.0
"""Seconds to open a connection: a node that is off should fail over fast, whatever the render timeout."""


class _Bearer(httpx.Auth):
    """``Authorization: Bearer <token>`` on every request (a node behind an authenticating proxy)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def node_label(url: str) -> str:
    """``scheme://host:port`` of a node URL: what errors and logs may show (never a userinfo part)."""
    parsed = httpx.URL(url)
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.scheme}://{parsed.host}{port}"


def _pydantic_error(entry: Any) -> str:
    """``field: message`` from one FastAPI validation error (``{"loc": ["body", name], "msg"}``)."""
    if not isinstance(entry, dict):
        return str(entry)
    loc = [str(part) for part in entry.get("loc") or [] if part != "body"]
    return f"{'.'.join(loc)}: {entry.get('msg')}" if loc else str(entry.get("msg"))


def response_detail(response: httpx.Response, secrets: Sequence[str]) -> str | None:
    """What an A1111 error body says: its ``detail`` (or each refused field), else its ``errors``."""
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        return redact(response.text if response.content else "", secrets) or None
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, list):
            text = "; ".join(_pydantic_error(entry) for entry in detail)
        else:
            text = str(detail or body.get("errors") or body.get("error") or "")
    else:
        text = json.dumps(body)
    return redact(text, secrets) or None


def decode_image(encoded: Any) -> bytes:
    """The bytes of an image A1111 sent as base64 (plain, or a ``data:`` URL as some forks send).

    Raises:
        BadImage: No image, or text that is not base64 (the bytes themselves are checked later).
    """
    if not isinstance(encoded, str) or not encoded:
        raise BadImage(f"{PROVIDER} answered without an image", provider=PROVIDER, detail="no image")
    try:
        return base64.b64decode(encoded.rpartition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        raise BadImage(f"{PROVIDER} sent an image that is not base64", provider=PROVIDER, detail="not base64") from None


class A1111API:
    """The nodes of one pool, their credential, and calls mapped to provider errors.

    Args:
        nodes: The node URLs (``http://gpu-box:7860``), in settings order. The worker builds
            no adapter without one; an adapter built without one refuses every call.
        auth: ``user:password`` (HTTP basic), a bearer token, or empty for open nodes.
        timeout: Seconds one call may take, waiting for the node's global lock included.
        transport: httpx transport for tests; the network when ``None``.
    """

    def __init__(
        self,
        nodes: Sequence[str],
        *,
        auth: str = "",
        timeout: float = 600,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.nodes = tuple(url.rstrip("/") for url in nodes)
        self.timeout = timeout
        self._auth = auth
        self._transport = transport

    def __repr__(self) -> str:  # the credential stays out of reprs and tracebacks
        return f"A1111API(nodes={[node_label(n) for n in self.nodes]!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every form of the credential an error text might echo, for :func:`redact`."""
        if not self._auth:
            return ()
        _, sep, password = self._auth.partition(":")
        encoded = base64.b64encode(self._auth.encode()).decode()
        return (self._auth, encoded, password) if sep else (self._auth,)

    def node_for(self, wanted: str | None) -> str:
        """The node a call goes to: the one the studio chose, or the first of the pool.

        Raises:
            InvalidRequest: ``wanted`` is not one of this pool's nodes, or the pool is empty.
        """
        if not self.nodes:
            raise InvalidRequest(f"{PROVIDER} has no render node: set A1111_URLS", provider=PROVIDER, detail="no node")
        if wanted is None:
            return self.nodes[0]
        url = wanted.rstrip("/")
        if url not in self.nodes:
            raise InvalidRequest(
                f"{PROVIDER} has no node {node_label(url)}", provider=PROVIDER, detail="node not in the pool"
            )
        return url

    def _httpx_auth(self) -> httpx.Auth | None:
        if not self._auth:
            return None
        user, sep, password = self._auth.partition(":")
        return httpx.BasicAuth(user, password) if sep else _Bearer(self._auth)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """A client for one render or probe (no connection outlives the event loop that made it)."""
        timeout = httpx.Timeout(self.timeout, connect=min(self.timeout, CONNECT_TIMEOUT))
        async with new_client(transport=self._transport, auth=self._httpx_auth(), timeout=timeout) as client:
            yield client

    async def call(
        self,
        client: httpx.AsyncClient,
        method: str,
        node: str,
        path: str,
        body: Any = None,
        *,
        timeout: float | None = None,
    ) -> Any:
        """One request to ``node``; the decoded JSON answer.

        Raises:
            ProviderError: The mapped error (see the module docstring).
        """
        try:
            response = await client.request(
                method, node + path, json=body, timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout
            )
        except httpx.HTTPError as exc:
            error = error_from_transport(exc, PROVIDER)
            raise Unavailable(f"{error} at {node_label(node)}", provider=PROVIDER, detail=error.detail) from exc
        if not response.is_success:
            raise self.error(response)
        return json_body(response, PROVIDER)

    def error(self, response: httpx.Response) -> ProviderError:
        """The provider error an A1111 error answer means (not raised)."""
        detail = response_detail(response, self.secrets)
        status = response.status_code
        if status == 500 and detail and "could not find upscaler" in detail:
            return InvalidRequest(
                f"{PROVIDER} rejected the request (HTTP 500): {detail}",
                provider=PROVIDER,
                status_code=500,
                detail=detail,
            )
        return error_for_status(status, provider=PROVIDER, detail=detail)


__all__ = ["A1111API", "CONNECT_TIMEOUT", "PROVIDER", "decode_image", "node_label", "response_detail"]

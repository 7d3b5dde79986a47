"""Builds the ``a1111`` adapters and node probe from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from providers.a1111.adapter import A1111Renderer
from providers.a1111.api import A1111API
from providers.a1111.progress import PROGRESS_PATH, read_progress
from providers.a1111.upscale import A1111Upscaler
from providers.base import ProviderError
from providers.spec import AdapterConfig

PROBE_TIMEOUT = 5.0
"""Seconds a probe waits for a node: ``studio nodes`` should answer promptly for a node that is off."""

Probe = Callable[[str], Awaitable[dict[str, Any]]]


def renderer(config: AdapterConfig) -> A1111Renderer:
    """txt2img / img2img on the nodes of ``A1111_URLS``."""
    return A1111Renderer(config.nodes, auth=config.auth, timeout=config.timeout)


def upscaler(config: AdapterConfig) -> A1111Upscaler:
    """``extra-single-image`` with R-ESRGAN 4x+ on the first node of ``A1111_URLS``."""
    return A1111Upscaler(config.nodes, auth=config.auth, timeout=config.timeout)


def probe(config: AdapterConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> Probe:
    """A health check of one node for ``studio nodes``: it never raises for a node that is down.

    ``GET /sdapi/v1/progress`` answers even while a render holds the node's lock. A1111 has no
    queue API (callers wait on its lock unseen) and reports no version there, so ``queue`` and
    ``version`` are ``None``; ``running`` is 1 while it renders, else 0.

    Args:
        config: The provider's settings (its node URLs and credential).
        transport: httpx transport for tests.
    """

    async def check(url: str) -> dict[str, Any]:
        found: dict[str, Any] = {"reachable": False, "version": None, "queue": None, "running": None, "error": None}
        node = url.rstrip("/")
        api = A1111API((node,), auth=config.auth, timeout=PROBE_TIMEOUT, transport=transport)
        try:
            async with api.client() as client:
                data = await api.call(client, "GET", node, PROGRESS_PATH)
        except ProviderError as err:
            # an answer that is an error (401, 500) still says the node is there
            found["reachable"] = err.status_code is not None
            found["error"] = str(err)
            return found
        found["reachable"] = True
        found["running"] = 0 if read_progress(node, data) is None else 1
        return found

    return check


__all__ = ["PROBE_TIMEOUT", "Probe", "probe", "renderer", "upscaler"]

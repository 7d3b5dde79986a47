"""Builds the ComfyUI renderer and node probe from an :class:`~providers.spec.AdapterConfig` (named in the table)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from providers._http.errors import new_client
from providers.base import ProviderError
from providers.comfyui.adapter import ComfyUIRenderer
from providers.comfyui.node import NodeClient
from providers.spec import AdapterConfig

PROBE_TIMEOUT = 10.0
"""Longest a probe waits for one node (``studio nodes`` must answer even with a node hung)."""

Probe = Callable[[str], Awaitable[dict[str, Any]]]


def renderer(config: AdapterConfig) -> ComfyUIRenderer:
    """The renderer over every node of ``COMFYUI_URLS``, with the optional ``COMFYUI_TOKEN``."""
    return ComfyUIRenderer(config.nodes, token=config.auth, timeout=config.timeout)


def probe(config: AdapterConfig) -> Probe:
    """A health probe of one node: ``reachable``, ``version``, ``queue`` (pending), ``running``, ``error``.

    The probe never raises for a node that is down, hung or refusing: it says so in ``error``.
    """
    timeout = min(config.timeout, PROBE_TIMEOUT)

    async def check(url: str) -> dict[str, Any]:
        answer: dict[str, Any] = {"reachable": False, "version": None, "queue": None, "running": None, "error": None}
        async with new_client() as http:
            node = NodeClient(url, http=http, token=config.auth, timeout=timeout)
            try:
                stats = await node.get_json("/system_stats")
                queue = await node.get_json("/queue")
            except ProviderError as error:
                answer["error"] = str(error)
                return answer
        answer["reachable"] = True
        system = stats.get("system") if isinstance(stats, dict) else None
        version = system.get("comfyui_version") if isinstance(system, dict) else None
        answer["version"] = version if isinstance(version, str) else None
        if isinstance(queue, dict):
            answer["queue"] = _count(queue.get("queue_pending"))
            answer["running"] = _count(queue.get("queue_running"))
        return answer

    return check


def _count(items: Any) -> int | None:
    return len(items) if isinstance(items, list) else None

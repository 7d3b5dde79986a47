"""Builds the providers a worker can call, from settings and the provider table (providers.table).
The only place vendor keys are read and vendor adapters imported.

Providers that compute in this process (``local``) are "in process": the workflow calls them as
local activities, which skips a server round trip per call; their concurrency limit is a
semaphore in this process. Every remote vendor gets one task queue (see
:func:`pipelines.messages.provider_queue`) serving its render, upscale and review activities,
so its concurrency limit holds per worker process and its rate limit across all workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from providers.base import Renderer, Reviewer, Upscaler
from providers.spec import CAPABILITIES, AdapterConfig, Capability, Node, ProviderSpec, load_factory
from providers.table import DEFAULT_UPSCALE_CHAIN, FALLBACK, IN_PROCESS, PROVIDERS, REVIEW_ORDER
from studio.settings import Settings


@dataclass
class ProviderSet:
    """The renderers, upscalers and reviewers available to this worker, by name."""

    renderers: dict[str, Renderer] = field(default_factory=dict)
    upscalers: dict[str, Upscaler] = field(default_factory=dict)
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    in_process: set[str] = field(default_factory=lambda: set(IN_PROCESS))
    concurrency: int = 16
    upscale_order: tuple[str, ...] = DEFAULT_UPSCALE_CHAIN
    nodes: dict[str, tuple[Node, ...]] = field(default_factory=dict)

    def available(self) -> list[str]:
        """Names of the renderers that can be called."""
        return list(self.renderers)

    def remote(self) -> list[str]:
        """Every provider name that needs its own task queue."""
        names = {*self.renderers, *self.upscalers, *self.reviewers}
        return sorted(names - self.in_process)

    def review_chain(self) -> list[str]:
        """Reviewers to try for a take, best first."""
        return [name for name in REVIEW_ORDER if name in self.reviewers]

    def upscale_chain(self) -> list[str]:
        """Upscalers to try for a take, best first; the local one always closes the list."""
        return [name for name in self.upscale_order if name in self.upscalers and name != FALLBACK] + [FALLBACK]

    def add(self, capability: Capability, name: str, adapter: Any) -> None:
        """Register ``adapter`` (built by a table factory) as ``name``'s renderer, upscaler or reviewer."""
        if capability == "render":
            self.renderers[name] = adapter
        elif capability == "upscale":
            self.upscalers[name] = adapter
        else:
            self.reviewers[name] = adapter


def adapter_config(spec: ProviderSpec, settings: Settings) -> AdapterConfig | None:
    """What ``spec``'s factories need from settings, or ``None`` when its key (or, for a
    self-hosted provider, its node list) is not set."""
    key = settings.provider_key(spec.name)
    if spec.key is not None and not key:
        return None
    nodes = settings.provider_nodes(spec.name)
    if spec.nodes is not None and not nodes:
        return None
    auth = settings.provider_auth(spec.name)
    return AdapterConfig(
        key=key.get_secret_value() if key else "",
        base_url=settings.provider_base_url(spec.name) or "",
        model=settings.provider_model(spec.name),
        timeout=settings.vendor_timeout,
        latency=settings.local_latency,
        nodes=tuple(node.url for node in nodes),
        auth=auth.get_secret_value() if auth else "",
    )


def build_providers(settings: Settings) -> ProviderSet:
    """Every provider of the table that needs no key, and every one whose key is set.

    Adapters are imported here, by the ``"module:factory"`` their table entry names, so only the
    worker loads vendor SDKs.
    """
    found = ProviderSet(concurrency=settings.provider_concurrency, upscale_order=tuple(settings.upscale_chain))
    for spec in PROVIDERS:
        config = adapter_config(spec, settings)
        if config is None:
            continue
        if spec.nodes is not None:
            found.nodes[spec.name] = settings.provider_nodes(spec.name)
        for capability in CAPABILITIES:
            path = spec.factory(capability)
            if path is not None:
                found.add(capability, spec.name, load_factory(path)(config))
    return found

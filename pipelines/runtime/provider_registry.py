"""Builds the providers a worker can call, from settings. The only place vendor keys are read.

Providers that compute in this process (``local``) are "in process": the workflow calls them as
local activities, which skips a server round trip per call; their concurrency limit is a
semaphore in this process. Every remote vendor gets one task queue (see
:func:`pipelines.messages.provider_queue`) serving its render, upscale and review activities,
so its concurrency limit holds per worker process and its rate limit across all workers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.base import Renderer, Reviewer, Upscaler
from providers.fal.flux import FalRenderer
from providers.fal.upscale import FalUpscaler
from providers.gemini.adapter import GeminiRenderer, GeminiReviewer
from providers.local.adapters import LocalRenderer, LocalReviewer, LocalUpscaler
from providers.mistral.adapter import MistralRenderer, MistralReviewer
from providers.replicate.flux import ReplicateRenderer
from providers.replicate.upscale import ReplicateUpscaler
from studio.settings import Settings

# Reviewers are tried in this order; the local heuristics always close the list.
REVIEW_ORDER = ("mistral", "gemini", "local")


@dataclass
class ProviderSet:
    """The renderers, upscalers and reviewers available to this worker, by name."""

    renderers: dict[str, Renderer] = field(default_factory=dict)
    upscalers: dict[str, Upscaler] = field(default_factory=dict)
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    in_process: set[str] = field(default_factory=lambda: {"local"})
    concurrency: int = 16
    upscale_order: tuple[str, ...] = ("replicate", "fal", "local")

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
        return [name for name in self.upscale_order if name in self.upscalers and name != "local"] + ["local"]


def build_providers(settings: Settings) -> ProviderSet:
    """The local provider always; a vendor adapter for every key that is set."""
    timeout = settings.vendor_timeout
    found = ProviderSet(
        renderers={"local": LocalRenderer(latency=settings.local_latency)},
        upscalers={"local": LocalUpscaler()},
        reviewers={"local": LocalReviewer()},
        concurrency=settings.provider_concurrency,
        upscale_order=tuple(settings.upscale_chain),
    )
    if settings.mistral_api_key:
        key = settings.mistral_api_key.get_secret_value()
        found.renderers["mistral"] = MistralRenderer(key, base_url=settings.mistral_base_url, timeout=timeout)
        found.reviewers["mistral"] = MistralReviewer(key, base_url=settings.mistral_base_url)
    if settings.gemini_api_key:
        key = settings.gemini_api_key.get_secret_value()
        found.renderers["gemini"] = GeminiRenderer(key, base_url=settings.gemini_base_url, timeout=timeout)
        found.reviewers["gemini"] = GeminiReviewer(key, base_url=settings.gemini_base_url)
    if settings.replicate_api_token:
        token = settings.replicate_api_token.get_secret_value()
        found.renderers["replicate"] = ReplicateRenderer(
            token,
            base_url=settings.replicate_base_url,
            model=settings.replicate_model,
        )
        found.upscalers["replicate"] = ReplicateUpscaler(token, base_url=settings.replicate_base_url)
    if settings.fal_key:
        key = settings.fal_key.get_secret_value()
        found.renderers["fal"] = FalRenderer(key, base_url=settings.fal_base_url, model=settings.fal_model)
        found.upscalers["fal"] = FalUpscaler(key, base_url=settings.fal_base_url)
    return found

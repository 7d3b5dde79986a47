"""The provider interface: render, upscale and review, and the one error root.

Every adapter in this package implements one of the three protocols below and raises only
:class:`ProviderError` subclasses for vendor-side trouble. Adapters take their HTTP or SDK client
in the constructor so tests can point them at a local server. Nothing here imports the rest of
the studio.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar, Literal, Protocol, runtime_checkable


class ErrorKind(StrEnum):
    """What kind of trouble a provider error is: the stable name failover decides on.

    The value is the ``type`` of the activity failure a provider error becomes, so renaming an
    error class never changes failover.
    """

    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"
    INVALID = "invalid"
    AUTH = "auth"
    BAD_IMAGE = "bad_image"


# The failure types provider errors carried before kinds: their class names, frozen as they were.
# Saved histories and activities an older worker scheduled carry them, and the catalog's
# provider_attempt.error_class keeps them. Frozen on purpose: renaming a class must not change
# what an old name means (tests check every class maps to its own kind here).
LEGACY_FAILURE_TYPES: Mapping[str, ErrorKind] = MappingProxyType(
    {
        "RateLimited": ErrorKind.RATE_LIMITED,
        "Unavailable": ErrorKind.UNAVAILABLE,
        "Rejected": ErrorKind.REJECTED,
        "InvalidRequest": ErrorKind.INVALID,
        "AuthFailed": ErrorKind.AUTH,
        "BadImage": ErrorKind.BAD_IMAGE,
    }
)


def error_kind(failure_type: str | None) -> ErrorKind | None:
    """The kind of provider trouble a failure ``type`` names, or ``None`` when it names none.

    The one reading every decision goes through (failover, retries through outages): it accepts
    the kinds failures carry now and the class names they carried before, so a workflow replaying
    an old history decides as it did.
    """
    if failure_type is None:
        return None
    try:
        return ErrorKind(failure_type)
    except ValueError:
        return LEGACY_FAILURE_TYPES.get(failure_type)


class ProviderError(Exception):
    """Root of every error a provider raises.

    Attributes:
        provider: Name of the provider that failed (e.g. ``"gemini"``).
        status_code: HTTP status the vendor answered with, when there was one.
        retry_after: Seconds the vendor asked us to wait before trying again, when it said.
        detail: Short vendor-supplied detail (never contains credentials).
        kind: What kind of trouble it is (each subclass says; ``None`` on the root, which
            adapters never raise as such).
    """

    kind: ClassVar[ErrorKind | None] = None

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        retry_after: float | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after
        self.detail = detail


class RateLimited(ProviderError):
    """The vendor throttled us (HTTP 429 or a quota error); ``retry_after`` may say how long."""

    kind = ErrorKind.RATE_LIMITED


class Unavailable(ProviderError):
    """The vendor could not answer: 5xx, timeout, connection refused or reset."""

    kind = ErrorKind.UNAVAILABLE


class Rejected(ProviderError):
    """The vendor refused the content (safety or content policy). Never retry the same vendor."""

    kind = ErrorKind.REJECTED


class InvalidRequest(ProviderError):
    """The vendor says our request is malformed (4xx other than auth and rate limits)."""

    kind = ErrorKind.INVALID


class AuthFailed(ProviderError):
    """The key is missing, wrong, or lacks permission (401/403)."""

    kind = ErrorKind.AUTH


class BadImage(ProviderError):
    """The vendor answered, but the image bytes are empty or cannot be decoded."""

    kind = ErrorKind.BAD_IMAGE


@dataclass(frozen=True)
class RenderRequest:
    """What to render.

    Attributes:
        prompt: The full positive prompt (style already merged in).
        width: Requested width in pixels.
        height: Requested height in pixels.
        negative: Negative prompt; empty when none.
        seed: Seed to use; ``None`` lets the vendor choose.
        init_image: Encoded image to start from (image-to-image / reference sketch).
        strength: How far to move away from ``init_image`` (0..1); ``None`` for text-to-image.
        params: Extra vendor parameters chosen by the caller (model, steps, ...).
        job_id: A vendor job id saved by an earlier, interrupted attempt: resume it.
        mask: Encoded mask image (white = change) for renderers that edit inside a mask.
        workflow: A self-hosted renderer's graph template (ComfyUI's API format), placeholders
            unfilled; ``None`` for vendors that have none.
        node: The render node (one URL of a self-hosted pool) the studio chose for this call;
            ``None`` lets the adapter use its first node.
        call_id: A stable name of this call (take and attempt) that self-hosted renderers derive
            their job ids from, so a crashed call finds its job again.
    """

    prompt: str
    width: int
    height: int
    negative: str = ""
    seed: int | None = None
    init_image: bytes | None = None
    strength: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    mask: bytes | None = None
    workflow: Mapping[str, Any] | None = None
    node: str | None = None
    call_id: str | None = None


@dataclass(frozen=True)
class RenderResult:
    """An image and the recipe that made it.

    Attributes:
        image: Encoded image bytes (PNG, JPEG or WebP).
        mime_type: MIME type of ``image``.
        model: Model (and version, when known) that produced it.
        seed: Seed actually used, or ``None`` where the vendor has no seed.
        params: The vendor parameters actually sent.
        reproducible: Whether the same recipe gives the same image again.
        revised_prompt: The prompt as the vendor rewrote it, when it did.
        job_id: The vendor's job id, when the vendor has jobs.
    """

    image: bytes
    mime_type: str
    model: str
    seed: int | None
    params: dict[str, Any] = field(default_factory=dict)
    reproducible: bool = True
    revised_prompt: str | None = None
    job_id: str | None = None


JobCallback = Callable[[str], Awaitable[None]]
"""Called with a vendor job id as soon as it exists, before waiting for the job to finish."""


@dataclass(frozen=True)
class Progress:
    """How far a render on a self-hosted node has got (heartbeats, status, the dashboard).

    Attributes:
        node: The node (URL) the job runs on.
        state: ``queued``, ``running`` or ``resubmitted`` (the node had lost the job).
        queue_position: Jobs ahead of it in the node's queue, while queued.
        step: Sampler steps done, while running.
        steps: Sampler steps in all, while running.
    """

    node: str
    state: Literal["queued", "running", "resubmitted"]
    queue_position: int | None = None
    step: int | None = None
    steps: int | None = None


ProgressCallback = Callable[[Progress], Awaitable[None]]
"""Called as a self-hosted render moves through a node's queue and its sampler steps."""


@runtime_checkable
class Renderer(Protocol):
    """Turns a prompt (and optionally an image) into an image."""

    name: str

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image.

        Args:
            request: What to render.
            on_job: Awaited with the vendor job id before the adapter waits for the job, so a
                crashed attempt can resume polling instead of paying twice.
            on_progress: Awaited as the job moves (self-hosted nodes report queue position and
                sampler steps; cloud adapters never call it).

        Raises:
            ProviderError: A subclass saying what went wrong.
        """
        ...


@dataclass(frozen=True)
class UpscaleResult:
    """An upscaled image.

    Attributes:
        image: Encoded image bytes.
        mime_type: MIME type of ``image``.
        model: What upscaled it.
        params: Parameters used.
    """

    image: bytes
    mime_type: str
    model: str
    params: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Upscaler(Protocol):
    """Makes an image larger."""

    name: str

    async def upscale(
        self, image: bytes, *, factor: int, on_job: JobCallback | None = None, job_id: str | None = None
    ) -> UpscaleResult:
        """Upscale ``image`` by ``factor`` in each dimension.

        Args:
            on_job: Awaited with the vendor job id before waiting on it (vendors with jobs).
            job_id: A job an interrupted earlier call left running: finish it instead.
        """
        ...


@dataclass(frozen=True)
class Review:
    """An automated judgement of one image.

    Attributes:
        score: 0.0 (unusable) .. 1.0 (excellent).
        passed: Whether the image is fit to publish without a human.
        notes: Short human-readable reasons.
        model: What reviewed it.
    """

    score: float
    passed: bool
    notes: str
    model: str


@runtime_checkable
class Reviewer(Protocol):
    """Scores an image against the shot it was meant to be."""

    name: str

    async def review(self, image: bytes, *, prompt: str, expected_size: tuple[int, int]) -> Review:
        """Review ``image`` rendered for ``prompt`` at ``expected_size`` (width, height)."""
        ...


# -- text chat answering in JSON (drafting a storyboard from a brief) --------------------------------
@dataclass(frozen=True)
class ChatTurn:
    """One message of the conversation.

    Attributes:
        role: ``"user"`` for what we say, ``"assistant"`` for what the model said before.
        text: The message text.
    """

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True)
class ChatAnswer:
    """What the model said.

    Attributes:
        text: The answer text (meant to be JSON; not checked here).
        provider: Provider name (``"mistral"`` or ``"gemini"``).
        model: The model that answered, as the vendor reports it when it does.
        truncated: The vendor says the answer stopped at the output limit.
    """

    text: str
    provider: str
    model: str
    truncated: bool = False


@runtime_checkable
class JSONChat(Protocol):
    """A chat model asked for one JSON answer per call."""

    name: str
    model: str

    async def ask(self, system: str, turns: Sequence[ChatTurn]) -> ChatAnswer:
        """Send ``system`` and ``turns``; return the model's answer.

        Raises:
            ProviderError: A subclass saying what went wrong with the vendor.
        """
        ...

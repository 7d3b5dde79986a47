"""What every remote adapter promises, checked once per vendor against its fake server.

Renderers (Mistral, Gemini, Replicate, fal) and reviewers (Mistral, Gemini) map the same vendor
failures to the same :mod:`providers.base` errors, because failover decides on those errors:
a rate limit carries its Retry-After, a 5xx or a timeout is ``Unavailable``, a refusal is
``Rejected``, garbage bytes are ``BadImage``, a refused key is ``AuthFailed``, and the key is
never in an error. Each vendor's own wire format and quirks are tested in its own file
(test_mistral.py, test_gemini.py, test_replicate.py, test_fal.py); the upscalers' shared
behaviour is in test_upscalers.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import fal_client.client
import pytest

from providers.base import (
    AuthFailed,
    BadImage,
    ProviderError,
    RateLimited,
    Rejected,
    Renderer,
    RenderRequest,
    Reviewer,
    Unavailable,
)
from providers.fal.flux import FalRenderer
from providers.gemini.adapter import GeminiRenderer, GeminiReviewer
from providers.mistral.adapter import MistralRenderer, MistralReviewer
from providers.replicate.flux import ReplicateRenderer
from tests.providers.fakes import FakeFal, FakeGemini, FakeMistral, FakeReplicate, FakeServer, image_size, make_png

KEY = "test-key-123"
REQ = RenderRequest(prompt="a lighthouse at dusk", width=96, height=64, seed=42)


@dataclass(frozen=True)
class Vendor:
    """One vendor's renderer and reviewer, and how its fake tells the contract's cases apart.

    Attributes:
        name: The provider name (also the fake's ``provider``).
        fake: The fake server class.
        renderer: The renderer class, built as ``renderer(KEY, base_url=..., **options)``.
        paid_route: The fake's route of the call the vendor bills (one per render).
        auth: The request header that carries the key, and its value for :data:`KEY`.
        refusal: A step the vendor answers with a content refusal, and a text of the error's
            detail; ``None`` for a vendor that never refuses (Mistral answers with text instead).
        errors: Steps each of which ends a render in a :class:`ProviderError`.
        reviewer: The reviewer class, for vendors that review.
        options: Extra constructor keywords (pollers poll fast in tests).
    """

    name: str
    fake: type[FakeServer]
    renderer: Callable[..., Renderer]
    paid_route: str
    auth: tuple[str, str]
    refusal: tuple[str, str] | None
    errors: tuple[str, ...]
    reviewer: Callable[..., Reviewer] | None = None
    options: dict[str, Any] = field(default_factory=dict)


VENDORS = (
    Vendor(
        "mistral",
        FakeMistral,
        MistralRenderer,
        "conversations",
        ("authorization", f"Bearer {KEY}"),
        None,
        ("429:1", "500", "401", "404", "badimage", "notool"),
        reviewer=MistralReviewer,
    ),
    Vendor(
        "gemini",
        FakeGemini,
        GeminiRenderer,
        "generate",
        ("x-goog-api-key", KEY),
        ("block", "SAFETY"),
        ("429:1", "500", "403", "block", "finish:SAFETY", "noimage", "badimage", "badkey"),
        reviewer=GeminiReviewer,
    ),
    Vendor(
        "replicate",
        FakeReplicate,
        ReplicateRenderer,
        "create",
        ("authorization", f"Bearer {KEY}"),
        ("nsfw", "NSFW"),
        ("429:1", "500", "401", "422", "nsfw", "failed", "aborted", "canceled", "badimage"),
        options={"poll_interval": 0.01},
    ),
    Vendor(
        "fal",
        FakeFal,
        FalRenderer,
        "submit",
        ("authorization", f"Key {KEY}"),
        ("nsfw", "has_nsfw_concepts"),
        ("429:1", "500", "401", "422", "nsfw", "badimage", "fail:500"),
        options={"poll_interval": 0.01},
    ),
)


@dataclass
class Running:
    """A vendor with its fake serving on a free port."""

    spec: Vendor
    fake: Any  # the spec's fake class, started: scripting and inspection vary by vendor

    def renderer(self, **kwargs: Any) -> Renderer:
        """The vendor's renderer pointed at the fake, with :data:`KEY`."""
        return self.spec.renderer(KEY, base_url=self.fake.base_url, **{**self.spec.options, **kwargs})

    def reviewer(self) -> Reviewer:
        """The vendor's reviewer pointed at the fake, with :data:`KEY`."""
        assert self.spec.reviewer is not None, f"{self.spec.name} has no reviewer"
        return self.spec.reviewer(KEY, base_url=self.fake.base_url)


def _running(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    # fal_client retries 408/409/429 and timeouts itself, up to MAX_ATTEMPTS (10) with backoff;
    # one attempt makes the error surface at once, as the other vendors' clients do.
    monkeypatch.setattr(fal_client.client, "MAX_ATTEMPTS", 1)
    spec: Vendor = request.param
    with spec.fake() as fake:
        yield Running(spec, fake)


@pytest.fixture(params=VENDORS, ids=lambda v: v.name)
def vendor(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """Each vendor that renders, with its fake running."""
    yield from _running(request, monkeypatch)


@pytest.fixture(params=[v for v in VENDORS if v.refusal], ids=lambda v: v.name)
def refusing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """Each vendor that refuses content it will not render."""
    yield from _running(request, monkeypatch)


@pytest.fixture(params=[v for v in VENDORS if v.reviewer], ids=lambda v: v.name)
def reviewing(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """Each vendor that reviews takes."""
    yield from _running(request, monkeypatch)


# -- rendering ----------------------------------------------------------------------------------
async def test_a_render_is_a_decodable_image_paid_for_once_with_the_key(vendor: Running) -> None:
    renderer = vendor.renderer()
    assert isinstance(renderer, Renderer) and renderer.name == vendor.fake.provider
    result = await renderer.render(REQ)
    assert result.mime_type == "image/png" and result.image.startswith(b"\x89PNG")
    assert image_size(result.image)  # decodes
    assert vendor.fake.count(vendor.spec.paid_route) == 1
    header, value = vendor.spec.auth
    assert vendor.fake.last(vendor.spec.paid_route).headers[header] == value


async def test_a_rate_limit_carries_its_retry_after(vendor: Running) -> None:
    vendor.fake.script(["429:7"])  # Gemini says it as RetryInfo in the body, the others as a header
    with pytest.raises(RateLimited) as info:
        await vendor.renderer().render(REQ)
    assert info.value.retry_after == 7.0 and info.value.status_code == 429
    assert info.value.provider == vendor.fake.provider and KEY not in str(info.value)
    assert vendor.fake.count(vendor.spec.paid_route) == 1  # the client never retries a paid call


@pytest.mark.parametrize("status", [500, 503])
async def test_a_server_error_is_unavailable_and_nothing_follows(vendor: Running, status: int) -> None:
    vendor.fake.script([str(status)])
    with pytest.raises(Unavailable) as info:
        await vendor.renderer().render(REQ)
    assert info.value.status_code == status
    assert vendor.fake.count() == 1  # no poll, file download or result fetch after the failed call


async def test_a_timeout_is_unavailable(vendor: Running) -> None:
    vendor.fake.script(["slow:3"])
    with pytest.raises(Unavailable) as info:
        await vendor.renderer(timeout=0.3).render(REQ)
    assert "timed out" in str(info.value)


async def test_undecodable_image_bytes_are_a_bad_image(vendor: Running) -> None:
    vendor.fake.script(["badimage"])
    with pytest.raises(BadImage) as info:
        await vendor.renderer().render(REQ)
    assert info.value.provider == vendor.fake.provider


async def test_a_refusal_is_rejected_with_the_vendor_reason(refusing: Running) -> None:
    assert refusing.spec.refusal is not None
    step, reason = refusing.spec.refusal
    refusing.fake.script([step])
    with pytest.raises(Rejected) as info:
        await refusing.renderer().render(REQ)
    assert reason in (info.value.detail or "")


async def test_a_refused_key_is_auth_failed_and_never_echoed(vendor: Running) -> None:
    vendor.fake.key = "the-right-key-456"  # the fake's 401 body echoes the key it was sent
    with pytest.raises(AuthFailed) as info:
        await vendor.renderer().render(REQ)
    assert KEY not in str(info.value) and KEY not in (info.value.detail or "")


async def test_the_key_is_in_no_error_and_no_repr(vendor: Running) -> None:
    steps = vendor.spec.errors
    vendor.fake.script(steps)
    renderer = vendor.renderer()
    for step in steps:
        with pytest.raises(ProviderError) as info:
            await renderer.render(REQ)
        assert KEY not in str(info.value) and KEY not in repr(info.value), step
    assert KEY not in repr(renderer)


# -- reviewing ----------------------------------------------------------------------------------
async def test_a_review_of_the_wrong_size_fails_whatever_the_vendor_says(reviewing: Running) -> None:
    review = await reviewing.reviewer().review(make_png(64, 48), prompt="x", expected_size=(128, 96))
    assert review.passed is False and "wrong size: 64x48, expected 128x96" in review.notes
    assert review.score == pytest.approx(reviewing.fake.review_answer["score"])  # the vendor's score is kept


async def test_a_malformed_review_is_unavailable(reviewing: Running) -> None:
    reviewing.fake.script(["badjson"], op="review")
    with pytest.raises(Unavailable) as info:
        await reviewing.reviewer().review(make_png(), prompt="x", expected_size=(64, 48))
    assert info.value.detail == "unparseable review"


async def test_a_review_of_undecodable_bytes_sends_nothing(reviewing: Running) -> None:
    with pytest.raises(BadImage):
        await reviewing.reviewer().review(b"junk", prompt="x", expected_size=(1, 1))
    assert reviewing.fake.count() == 0

"""Gemini: image generation (2.5 Flash Image) and vision review via ``generateContent``.

``POST {base}/v1beta/models/{model}:generateContent`` with the key in ``x-goog-api-key`` (never
in the URL, where it would end up in logs). Images come back as base64 ``inlineData`` parts.

Gemini reports safety blocks as HTTP 200: ``promptFeedback.blockReason`` with no candidates, or
a candidate whose ``finishReason`` is in :data:`SAFETY_FINISH`; both raise :class:`Rejected`
(never retry this vendor for the take). A candidate that finishes without an image part for any
other reason (``STOP``, ``NO_IMAGE`` "expected an image but none was generated", ``IMAGE_OTHER``
"stopped for another reason", ``MAX_TOKENS``...) raises :class:`BadImage`: the vendor answered
but gave no usable image, and a retry can succeed, which is not true of :class:`InvalidRequest`. A bad key is HTTP 400 with reason ``API_KEY_INVALID`` on Gemini, so
that case is mapped to :class:`AuthFailed` rather than :class:`InvalidRequest`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

import httpx

from providers._http.client import VendorHTTP
from providers._http.errors import (
    check_image,
    error_from_response,
    json_body,
)
from providers.base import (
    AuthFailed,
    BadImage,
    InvalidRequest,
    JobCallback,
    ProgressCallback,
    Rejected,
    RenderRequest,
    RenderResult,
    Review,
)
from providers.model_inputs import nearest_aspect as closest_ratio
from providers.review_common import (
    apply_size_check,
    parse_review,
    prepare_image,
    review_instructions,
)

PROVIDER = "gemini"

ASPECT_RATIOS: tuple[str, ...] = ("1:1", "2:3", "3:2", "3:4", "4:3", "9:16", "16:9", "21:9")
"""Aspect ratios ``imageConfig.aspectRatio`` accepts."""

SAFETY_FINISH = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_RECITATION",
    }
)
"""``finishReason`` values that mean the content was refused (google-genai ``FinishReason``).
``NO_IMAGE`` and ``IMAGE_OTHER`` are not among them: they are failed attempts (BadImage)."""


def nearest_aspect(width: int, height: int, choices: Sequence[str] = ASPECT_RATIOS) -> str:
    """Pick the supported aspect ratio closest to ``width:height`` (log-ratio distance).

    Raises:
        ValueError: ``width`` or ``height`` is not positive.
    """
    return closest_ratio(width, height, choices)


class _GeminiHTTP(VendorHTTP):
    """Gemini's generateContent endpoint, shared by renderer and reviewer."""

    def __init__(self, api_key: str, base_url: str, http: httpx.AsyncClient | None, timeout: float) -> None:
        super().__init__(PROVIDER, api_key, base_url, http, timeout)

    async def generate(self, model: str, body: dict[str, Any]) -> dict[str, Any]:
        """Call generateContent; raise a ProviderError for transport or HTTP failure."""
        url = f"{self.base_url}/v1beta/models/{model}:generateContent"
        headers = {"x-goog-api-key": self._api_key, "Content-Type": "application/json"}
        response = await self.send("POST", url, headers=headers, json_payload=body)
        if not response.is_success:
            error = error_from_response(response, PROVIDER, secrets=(self._api_key,))
            if isinstance(error, InvalidRequest) and "API_KEY_INVALID" in response.text:
                raise AuthFailed(str(error), provider=PROVIDER, status_code=error.status_code, detail=error.detail)
            raise error
        data = json_body(response, PROVIDER)
        if not isinstance(data, dict):
            raise BadImage(f"{PROVIDER} answered with an unexpected shape", provider=PROVIDER, detail="not an object")
        return data


def _first_candidate(data: dict[str, Any]) -> dict[str, Any] | None:
    """Return candidate 0 (``None`` when absent), raising Rejected for safety blocks."""
    feedback = data.get("promptFeedback") or {}
    block = feedback.get("blockReason") if isinstance(feedback, dict) else None
    candidates = data.get("candidates") or []
    if block:
        raise Rejected(f"{PROVIDER} blocked the prompt ({block})", provider=PROVIDER, detail=str(block))
    if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
        return None
    candidate = candidates[0]
    finish = candidate.get("finishReason")
    if finish in SAFETY_FINISH:
        raise Rejected(f"{PROVIDER} refused the content ({finish})", provider=PROVIDER, detail=str(finish))
    return candidate


def _parts(candidate: dict[str, Any] | None) -> list[dict[str, Any]]:
    if candidate is None:
        return []
    content = candidate.get("content") or {}
    parts = content.get("parts") if isinstance(content, dict) else None
    return [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []


class GeminiRenderer:
    """Renders with Gemini 2.5 Flash Image.

    The seed goes in ``generationConfig.seed`` and is recorded, but Gemini only honours it on a
    best-effort basis, so results are marked ``reproducible=False``. Width/height become the
    nearest supported ``aspectRatio``; the vendor picks the pixel size. ``init_image`` is sent
    as an ``inlineData`` part after the text (``strength`` has no Gemini equivalent and is
    ignored); the negative prompt is appended to the text as an "Avoid:" line, since Gemini has
    no negative-prompt field. ``request.params`` other than ``model`` are merged into
    ``generationConfig``.

    Args:
        api_key: Gemini API key (``x-goog-api-key`` header).
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        model: Image model.
        timeout: Seconds for the (synchronous) generation request.
    """

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://generativelanguage.googleapis.com",
        http: httpx.AsyncClient | None = None,
        model: str = "gemini-2.5-flash-image",
        timeout: float = 120,
    ) -> None:
        self._api = _GeminiHTTP(api_key, base_url, http, timeout)
        self.model = model

    def __repr__(self) -> str:
        return f"GeminiRenderer(model={self.model!r}, base_url={self._api.base_url!r})"

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image (``on_job`` is never called: the call is synchronous).

        Raises:
            Rejected: Safety block (prompt or output); ``detail`` is the vendor's reason.
            BadImage: No image part, or image bytes that do not decode.
            InvalidRequest: ``init_image`` is not a decodable image, or the vendor said 4xx.
            ProviderError: Other failures, mapped by :mod:`providers._http.errors`.

        Long because the reply is read in the order its failure modes appear (block, no candidate, no image, bad bytes).
        """
        extra = dict(request.params)
        model = str(extra.pop("model", self.model))
        text = request.prompt + (f"\nAvoid: {request.negative}" if request.negative else "")
        parts: list[dict[str, Any]] = [{"text": text}]
        if request.init_image is not None:
            try:
                init_mime, _, _ = check_image(request.init_image, PROVIDER)
            except BadImage:
                raise InvalidRequest(
                    "init_image is not a decodable image", provider=PROVIDER, detail="bad init_image"
                ) from None
            parts.append(
                {"inlineData": {"mimeType": init_mime, "data": base64.b64encode(request.init_image).decode("ascii")}}
            )
        config: dict[str, Any] = {
            "responseModalities": ["TEXT", "IMAGE"],
            "imageConfig": {"aspectRatio": nearest_aspect(request.width, request.height)},
        }
        if request.seed is not None:
            config["seed"] = request.seed
        config.update(extra)
        body = {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}

        data = await self._api.generate(model, body)
        candidate = _first_candidate(data)
        image: bytes | None = None
        for part in _parts(candidate):
            inline = part.get("inlineData") or part.get("inline_data")
            if isinstance(inline, dict) and inline.get("data"):
                try:
                    image = base64.b64decode(inline["data"])
                except (binascii.Error, ValueError, TypeError):
                    image = b""  # check_image below reports it as BadImage
                break
        if image is None:
            finish = candidate.get("finishReason") if candidate else "no candidates"
            raise BadImage(
                f"{PROVIDER} finished without an image",
                provider=PROVIDER,
                detail=f"finishReason={finish}, no image part",
            )
        mime, _, _ = check_image(image, PROVIDER)
        return RenderResult(
            image=image,
            mime_type=mime,
            model=str(data.get("modelVersion") or model),
            seed=request.seed,
            params={"model": model, "generationConfig": config, "init_image": request.init_image is not None},
            reproducible=False,
            revised_prompt=None,
            job_id=None,
        )


class GeminiReviewer:
    """Reviews a take with Gemini vision, answering JSON (``responseMimeType``); the fallback
    reviewer after Pixtral.

    Args:
        api_key: Gemini API key.
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        model: Vision model.
        timeout: Seconds per request.
    """

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://generativelanguage.googleapis.com",
        http: httpx.AsyncClient | None = None,
        model: str = "gemini-2.5-flash",
        timeout: float = 60,
    ) -> None:
        self._api = _GeminiHTTP(api_key, base_url, http, timeout)
        self.model = model

    def __repr__(self) -> str:
        return f"GeminiReviewer(model={self.model!r}, base_url={self._api.base_url!r})"

    async def review(self, image: bytes, *, prompt: str, expected_size: tuple[int, int]) -> Review:
        """Score ``image`` against ``prompt``; a wrong decoded size always fails.

        Raises:
            BadImage: ``image`` cannot be decoded (checked before paying for a review).
            Rejected: Gemini refused to look at the image.
            Unavailable: Vendor down, or an answer that is not the JSON asked for
                (detail ``"unparseable review"``).
        """
        payload, mime, width, height = prepare_image(image, PROVIDER)
        body = {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": review_instructions(prompt)},
                        {"inlineData": {"mimeType": mime, "data": base64.b64encode(payload).decode("ascii")}},
                    ],
                }
            ],
            "generationConfig": {"responseMimeType": "application/json", "temperature": 0},
        }
        data = await self._api.generate(self.model, body)
        candidate = _first_candidate(data)
        text = "".join(p.get("text", "") for p in _parts(candidate) if isinstance(p.get("text"), str))
        review = parse_review(text, provider=PROVIDER, model=str(data.get("modelVersion") or self.model))
        return apply_size_check(review, (width, height), expected_size)

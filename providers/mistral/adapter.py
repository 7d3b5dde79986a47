"""Mistral: image generation through the Conversations API, and Pixtral review.

Pixtral models read images but do not draw them. Mistral draws through its Conversations API
with the built-in ``image_generation`` tool, then serves the file from its Files API:

1. ``POST {base}/v1/conversations`` with ``tools: [{"type": "image_generation"}]``;
   ``outputs[]`` holds a ``tool.execution`` entry (``arguments``: the prompt as the model
   rewrote it) and a ``message.output`` whose ``content[]`` holds a ``tool_file`` chunk.
2. ``GET {base}/v1/files/{file_id}/content`` returns the raw image bytes.

Mistral has no image seed, so every take is recorded with ``seed=None`` and
``reproducible=False``; the bytes are the only record. The REST API is called with httpx
directly (the official SDK uses another HTTP stack).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from providers._http.client import VendorHTTP
from providers._http.errors import (
    check_image,
    json_body,
    raise_for_status,
    to_data_uri,
)
from providers.base import (
    BadImage,
    JobCallback,
    ProgressCallback,
    RenderRequest,
    RenderResult,
    Review,
)
from providers.review_common import (
    apply_size_check,
    parse_review,
    prepare_image,
    review_instructions,
)

PROVIDER = "mistral"


class _MistralHTTP(VendorHTTP):
    """Mistral's REST API (bearer key), shared by the renderer and the reviewer."""

    def __init__(self, api_key: str, base_url: str, http: httpx.AsyncClient | None, timeout: float) -> None:
        super().__init__(PROVIDER, api_key, base_url, http, timeout)

    async def request(
        self, method: str, path: str, *, json_payload: Any = None, accept: str = "application/json"
    ) -> httpx.Response:
        """Send one authenticated request; raise a ProviderError for any failure.

        Args:
            accept: The ``Accept`` header; file downloads ask for ``application/octet-stream``
                as Mistral's own SDK does (the endpoint serves raw bytes, not JSON).
        """
        # The key goes in a per-request header, never into the (possibly shared) client.
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": accept}
        response = await self.send(method, f"{self.base_url}{path}", headers=headers, json_payload=json_payload)
        raise_for_status(response, PROVIDER, secrets=(self._api_key,))
        return response


def _revised_prompt(arguments: Any) -> str | None:
    """The tool call's arguments: JSON with a ``prompt`` field, else the raw string."""
    if arguments is None:
        return None
    if isinstance(arguments, dict):
        prompt = arguments.get("prompt")
        return prompt if isinstance(prompt, str) else json.dumps(arguments, ensure_ascii=False)
    text = str(arguments)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    prompt = parsed.get("prompt") if isinstance(parsed, dict) else None
    return prompt if isinstance(prompt, str) else text


def _find_image(body: Any) -> tuple[str | None, str | None, str]:
    """Walk ``outputs[]``: return (file_id, tool arguments, any text the model said)."""
    file_id: str | None = None
    arguments: Any = None
    texts: list[str] = []
    outputs = body.get("outputs") if isinstance(body, dict) else None
    for entry in outputs if isinstance(outputs, list) else ():
        if not isinstance(entry, dict):
            continue
        if entry.get("type") == "tool.execution" and entry.get("name") == "image_generation":
            arguments = entry.get("arguments")
        content = entry.get("content")
        if isinstance(content, str):
            texts.append(content)
        for chunk in content if isinstance(content, list) else ():
            if not isinstance(chunk, dict):
                continue
            if chunk.get("type") == "tool_file" and chunk.get("file_id") and file_id is None:
                file_id = str(chunk["file_id"])
            elif chunk.get("type") == "text" and isinstance(chunk.get("text"), str):
                texts.append(chunk["text"])
    return file_id, arguments, " ".join(texts).strip()


class MistralRenderer:
    """Renders with Mistral's ``image_generation`` conversation tool.

    Not supported, on purpose:
        * ``init_image`` / ``strength`` are ignored. Mistral's SDK types suggest conversation
          inputs can carry image chunks, but nothing found confirms that the image tool uses
          one as a reference, so sending it could pay for a take that silently ignores it.
        * ``seed`` is ignored: ``completion_args.random_seed`` only steers the text model.
        * Size: no size control is documented; width/height go into the instruction as a
          best-effort aspect hint and the caller must check the decoded size.

    Args:
        api_key: Mistral API key (sent as ``Authorization: Bearer``).
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        model: Conversation model that calls the tool.
        timeout: Seconds per HTTP request (generation is synchronous, so this covers it).
    """

    name = "mistral"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.mistral.ai",
        http: httpx.AsyncClient | None = None,
        model: str = "mistral-medium-latest",
        timeout: float = 120,
    ) -> None:
        self._api = _MistralHTTP(api_key, base_url, http, timeout)
        self.model = model

    def __repr__(self) -> str:
        return f"MistralRenderer(model={self.model!r}, base_url={self._api.base_url!r})"

    def _body(self, request: RenderRequest) -> dict[str, Any]:
        extra = dict(request.params)
        model = str(extra.pop("model", self.model))
        text = f"Use the image_generation tool to create this image: {request.prompt}"
        if request.negative:
            text += f"\nAvoid: {request.negative}"
        text += f"\nTarget size: {request.width}x{request.height} pixels (keep that aspect ratio)."
        completion_args = {"temperature": 0.3, **extra.pop("completion_args", {})}
        return {
            "model": model,
            "inputs": text,
            "tools": [{"type": "image_generation"}],
            "completion_args": completion_args,
            "store": False,  # nothing to resume: the call is synchronous
            "stream": False,
            **extra,
        }

    async def render(
        self, request: RenderRequest, *, on_job: JobCallback | None = None, on_progress: ProgressCallback | None = None
    ) -> RenderResult:
        """Render one image (``on_job`` is never called: Mistral has no job to resume).

        Raises:
            BadImage: The model answered without calling the tool, or the file is not an image.
            ProviderError: Any other vendor failure, mapped by :mod:`providers._http.errors`.
        """
        body = self._body(request)
        response = await self._api.request("POST", "/v1/conversations", json_payload=body)
        data = json_body(response, PROVIDER)
        file_id, arguments, said = _find_image(data)
        if file_id is None:
            # The model chose to talk instead of draw; a retry may well draw, so this is a
            # bad take, not a bad request.
            raise BadImage(
                f"{PROVIDER} answered without an image",
                provider=PROVIDER,
                detail=("model said: " + said[:200]) if said else "no tool_file",
            )
        file_response = await self._api.request(
            "GET", f"/v1/files/{file_id}/content", accept="application/octet-stream"
        )
        image = file_response.content
        mime, _, _ = check_image(image, PROVIDER)
        params = {k: v for k, v in body.items() if k != "inputs"}
        if request.init_image is not None:
            params["init_image_ignored"] = True  # the recipe must not claim the sketch shaped this image
        return RenderResult(
            image=image,
            mime_type=mime,
            model=body["model"],
            seed=None,
            params=params,
            reproducible=False,
            revised_prompt=_revised_prompt(arguments),
            job_id=None,
        )


class MistralReviewer:
    """Reviews a take with a Pixtral vision chat answering in JSON.

    Args:
        api_key: Mistral API key.
        base_url: API root; tests point it at a fake.
        http: Shared client for connection reuse; a short-lived one per call when ``None``.
        model: Vision model.
        timeout: Seconds per HTTP request.
    """

    name = "pixtral"

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = "https://api.mistral.ai",
        http: httpx.AsyncClient | None = None,
        model: str = "pixtral-large-latest",
        timeout: float = 60,
    ) -> None:
        self._api = _MistralHTTP(api_key, base_url, http, timeout)
        self.model = model

    def __repr__(self) -> str:
        return f"MistralReviewer(model={self.model!r}, base_url={self._api.base_url!r})"

    async def review(self, image: bytes, *, prompt: str, expected_size: tuple[int, int]) -> Review:
        """Score ``image`` against ``prompt``; a wrong decoded size always fails.

        Raises:
            BadImage: ``image`` cannot be decoded (checked before paying for a review).
            Unavailable: Vendor down, or an answer that is not the JSON asked for
                (detail ``"unparseable review"``): fall back to the next reviewer.
            ProviderError: Other vendor failures.
        """
        payload, mime, width, height = prepare_image(image, PROVIDER)
        data_uri = to_data_uri(payload, mime)
        body = {
            "model": self.model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": review_instructions(prompt)},
                        {"type": "image_url", "image_url": data_uri},
                    ],
                }
            ],
            "response_format": {"type": "json_object"},
            "temperature": 0,
        }
        response = await self._api.request("POST", "/v1/chat/completions", json_payload=body)
        data = json_body(response, PROVIDER)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            content = None
        if isinstance(content, list):  # content may come back as chunks
            content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
        if not isinstance(content, str):
            content = ""  # parse_review reports it as an unparseable review
        review = parse_review(content, provider=PROVIDER, model=str(data.get("model") or self.model))
        return apply_size_check(review, (width, height), expected_size)
